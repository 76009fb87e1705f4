//! `wamp call`, `publish`, `subscribe` and `register` against a router, as
//! a user runs them from a shell: results as JSON lines on standard
//! output, failures as one line naming the WAMP error and a non-zero exit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use wamp_tests::TestRouter;

fn wamp(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wamp"));
    command.args(args).env_remove("WAMP_URL").env_remove("WAMP_REALM").kill_on_drop(true);
    command
}

/// Runs a tool to its end.
async fn run(args: &[&str]) -> Output {
    let output = wamp(args).output();
    tokio::time::timeout(Duration::from_secs(30), output).await.expect("the tool ends").expect("run wamp")
}

fn stdout_lines(output: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect()
}

/// Starts a long-running tool and returns once its log says `ready`.
async fn start(args: &[&str], ready: &str) -> Child {
    let mut child = wamp(args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wamp");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("read stderr") {
            if line.contains(ready) {
                return;
            }
        }
        panic!("wamp {args:?} exited before saying {ready:?}");
    })
    .await
    .expect("the tool gets ready");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

async fn finished(child: Child) -> Output {
    tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the tool ends after its count")
        .expect("its output")
}

#[tokio::test]
async fn register_answers_what_call_sends_in_both_serializers() {
    let router = TestRouter::start();
    let url = router.url.as_str();
    let callee = start(&["register", "com.example.echo", "--count", "2", "--url", url], "registered").await;
    let called = run(&["call", "com.example.echo", "1", "\"x\"", "hello", "--kw", "a=2", "--url", url]).await;
    assert!(called.status.success(), "{}", String::from_utf8_lossy(&called.stderr));
    let expected = serde_json::json!({"args": [1, "x", "hello"], "kwargs": {"a": 2}});
    assert_eq!(stdout_lines(&called), std::slice::from_ref(&expected));
    let called = run(&["call", "com.example.echo", "[true]", "--serializer", "msgpack", "--url", url]).await;
    assert!(called.status.success(), "{}", String::from_utf8_lossy(&called.stderr));
    assert_eq!(stdout_lines(&called), [serde_json::json!({"args": [[true]], "kwargs": {}})]);

    let callee = finished(callee).await;
    assert!(callee.status.success());
    let calls = stdout_lines(&callee);
    assert_eq!(calls.len(), 2, "one line per call: {calls:?}");
    assert_eq!(calls[0], expected);

    // A fixed answer.
    let fixed = start(
        &["register", "com.example.fixed", "--answer", "{\"ok\":1}", "--count", "1", "--url", url],
        "registered",
    )
    .await;
    let called = run(&["call", "com.example.fixed", "ignored", "--url", url]).await;
    assert_eq!(stdout_lines(&called), [serde_json::json!({"args": [{"ok": 1}], "kwargs": {}})]);
    assert!(finished(fixed).await.status.success());
}

#[tokio::test]
async fn failures_are_one_line_with_the_error_uri_and_a_nonzero_exit() {
    let router = TestRouter::start();
    for (args, expected) in [
        (vec!["call", "com.example.nothing", "--url", router.url.as_str()], "wamp.error.no_such_procedure"),
        (vec!["call", "com.example.x", "--url", "ws://127.0.0.1:1/ws"], "wamp.error"),
        (vec!["publish", "wamp.reserved", "--url", router.url.as_str()], "wamp.error.invalid_uri"),
        (
            vec!["call", "com.example.x", "--realm", "nowhere", "--url", router.url.as_str()],
            "wamp.error.no_such_realm",
        ),
    ] {
        let output = run(&args).await;
        assert!(!output.status.success(), "{args:?} must fail");
        assert!(output.stdout.is_empty(), "{args:?}: nothing on stdout");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: names {expected}: {stderr}");
    }
}

#[tokio::test]
async fn subscribe_prints_each_event_publish_sends() {
    let router = TestRouter::start();
    let url = router.url.as_str();
    let subscriber = start(
        &["subscribe", "com.example.", "--match", "prefix", "--count", "2", "--url", url],
        "subscribed",
    )
    .await;
    let published = run(&["publish", "com.example.a", "1", "--kw", "unit=celsius", "--url", url]).await;
    assert!(published.status.success(), "{}", String::from_utf8_lossy(&published.stderr));
    let published =
        run(&["publish", "com.example.b", "two words", "--serializer", "msgpack", "--url", url]).await;
    assert!(published.status.success(), "{}", String::from_utf8_lossy(&published.stderr));
    let subscriber = finished(subscriber).await;
    assert!(subscriber.status.success());
    let events = stdout_lines(&subscriber);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["topic"], "com.example.a");
    assert_eq!(events[0]["args"], serde_json::json!([1]));
    assert_eq!(events[0]["kwargs"], serde_json::json!({"unit": "celsius"}));
    assert_eq!(events[1]["topic"], "com.example.b");
    assert_eq!(events[1]["args"], serde_json::json!(["two words"]));
}
