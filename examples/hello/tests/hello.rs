//! The `hello` binary, run as a user runs it: embedded (its own router)
//! and remote (joining a router started separately), the same binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};
use wamp_tests::{app_command, Process, RawClient, TestRouter};

/// Starts `hello` (embedded on a free port unless `env` says otherwise).
fn start(env: &[(&str, &str)]) -> Process {
    Process::start(app_command(env!("CARGO_BIN_EXE_hello")).envs(env.iter().copied()))
}

async fn add2_answers(url: &str) {
    let (mut c, _) = RawClient::join(url, Serializer::Json, "realm1").await;
    let call = WampMessage::Call {
        request: 1,
        options: Dict::new(),
        procedure: "com.myapp.add2".into(),
        payload: Payload::args(vec![Value::from(20), Value::from(22)]),
    };
    c.send(&call).await;
    match c.recv().await {
        WampMessage::Result { payload, .. } => assert_eq!(payload.args_list(), [Value::from(42)]),
        other => panic!("expected RESULT, got {other:?}"),
    }
}

const SEEN: [&str; 2] = ["com.myapp.hello received greeting=Hello, world!", "sum=5"];

#[tokio::test]
async fn embedded_it_greets_itself_adds_and_serves_remote_peers() {
    let mut hello = start(&[]);
    let mut needles = SEEN.to_vec();
    needles.push("router listening");
    hello.wait_for(&needles).await;
    add2_answers(&hello.url()).await;
}

#[tokio::test]
async fn remote_the_same_binary_joins_a_router_given_by_wamp_url() {
    let router = TestRouter::start();
    let mut hello = start(&[("WAMP_URL", &router.url)]);
    hello.wait_for(&SEEN).await;
    add2_answers(&router.url).await;
}
