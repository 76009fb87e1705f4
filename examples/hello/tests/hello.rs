//! The `hello` binary, run as a user runs it: embedded (its own router)
//! and remote (joining a router started separately), the same binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use wamp::protocol::{Dict, Message, Payload, Serializer, Value};
use wamp_tests::{RawClient, TestRouter};

async fn start(env: &[(&str, &str)]) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hello"))
        .env_remove("WAMP_URL")
        .env_remove("WAMP_LISTEN")
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start hello");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Reads the log until every needle has appeared (in any order); returns
/// the router URL if one was logged.
async fn expect_log(lines: &mut Lines<BufReader<ChildStdout>>, needles: &[&str]) -> Option<String> {
    let mut missing: Vec<&str> = needles.to_vec();
    let mut url = None;
    tokio::time::timeout(Duration::from_secs(30), async {
        while !missing.is_empty() {
            let line = lines.next_line().await.unwrap().expect("hello exited early");
            if let Some(u) = line.split("url=").nth(1) {
                url = u.split_whitespace().next().map(str::to_owned);
            }
            missing.retain(|n| !line.contains(n));
        }
    })
    .await
    .unwrap_or_else(|_| panic!("not logged: {missing:?}"));
    url
}

async fn add2_answers(url: &str) {
    let (mut c, _) = RawClient::join(url, Serializer::Json, "realm1").await;
    let call = Message::Call {
        request: 1,
        options: Dict::new(),
        procedure: "com.myapp.add2".into(),
        payload: Payload::args(vec![Value::from(20), Value::from(22)]),
    };
    c.send(&call).await;
    match c.recv().await {
        Message::Result { payload, .. } => assert_eq!(payload.args_list(), [Value::from(42)]),
        other => panic!("expected RESULT, got {other:?}"),
    }
}

const SEEN: [&str; 2] = ["com.myapp.hello received greeting=Hello, world!", "sum=5"];

#[tokio::test]
async fn embedded_it_greets_itself_adds_and_serves_remote_peers() {
    let (_child, mut lines) = start(&[("WAMP_LISTEN", "127.0.0.1:0")]).await;
    let mut needles = SEEN.to_vec();
    needles.push("router listening");
    let url = expect_log(&mut lines, &needles).await.expect("the router URL is logged");
    add2_answers(&url).await;
}

#[tokio::test]
async fn remote_the_same_binary_joins_a_router_given_by_wamp_url() {
    let router = TestRouter::start();
    let (_child, mut lines) = start(&[("WAMP_URL", &router.url)]).await;
    expect_log(&mut lines, &SEEN).await;
    add2_answers(&router.url).await;
}
