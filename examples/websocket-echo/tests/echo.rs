//! The `websocket-echo` binary, run as a user runs it: the echo and the
//! WAMP router answer on the same port.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::process::Stdio;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message as Frame;
use wamp::protocol::Serializer;
use wamp_tests::RawClient;

/// The value of `key=` in a log line.
fn field(line: &str, key: &str) -> Option<String> {
    line.split(&format!("{key}=")).nth(1)?.split_whitespace().next().map(str::to_owned)
}

#[tokio::test]
async fn echoes_beside_the_router() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_websocket-echo"))
        .env_remove("WAMP_URL")
        .env("WAMP_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start websocket-echo");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("websocket-echo exited early");
            if line.contains("listening") {
                return line;
            }
        }
    })
    .await
    .expect("websocket-echo logs where it listens");
    let echo = field(&line, "echo").expect("the echo URL in the log");
    let url = field(&line, "url").expect("the router URL in the log");

    let (mut ws, _) = tokio_tungstenite::connect_async(echo.as_str()).await.expect("connect to /echo");
    let large = vec![7u8; 100_000];
    for frame in [Frame::text("héllo"), Frame::binary(vec![1u8, 2, 3]), Frame::binary(large)] {
        ws.send(frame.clone()).await.unwrap();
        let back = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(back, frame, "echoed as sent");
    }
    ws.close(None).await.unwrap();

    // `join` fails the test unless the router answers with WELCOME.
    let (_client, session) = RawClient::join(&url, Serializer::Json, "realm1").await;
    assert!(wamp::protocol::id::is_valid(session), "a session id from the router at {url}");
}
