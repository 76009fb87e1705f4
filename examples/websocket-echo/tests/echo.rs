//! The `websocket-echo` binary, run as a user runs it: the echo and the
//! WAMP router answer on the same port.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

mod common;

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message as Frame;
use wamp::protocol::Serializer;
use wamp_tests::RawClient;

#[tokio::test]
async fn echoes_beside_the_router() {
    let running = common::start().await;
    let (echo, url) = (running.echo.clone(), running.router.clone());

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
