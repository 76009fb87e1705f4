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

#[tokio::test]
async fn serves_both_endpoints_over_tls_with_a_certificate() {
    let ca = wamp_tests::certs::TestCa::new();
    let cert = ca.server("echo", false);
    let running = common::start_with(&[
        ("WAMP_TLS_CERT", cert.cert_file.to_str().unwrap()),
        ("WAMP_TLS_KEY", cert.key_file.to_str().unwrap()),
    ])
    .await;
    assert!(running.echo.starts_with("wss://") && running.router.starts_with("wss://"), "{}", running.echo);
    let tls = wamp::transport::tls::client_config(std::slice::from_ref(&ca.ca_file), &[]).unwrap();
    let connector = tokio_tungstenite::Connector::Rustls(tls);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_tls_with_config(running.echo.as_str(), None, false, Some(connector))
            .await
            .expect("connect to /echo over TLS");
    ws.send(Frame::text("over TLS")).await.unwrap();
    let back = tokio::time::timeout(Duration::from_secs(10), ws.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(back, Frame::text("over TLS"));
    ws.close(None).await.unwrap();

    let options = wamp::client::ConnectOptions {
        tls_ca: vec![ca.ca_file.clone()],
        reconnect: wamp::client::ReconnectPolicy::off(),
        ..wamp::client::ConnectOptions::new(&running.router, "realm1")
    };
    let joined = join_in_an_actix_system(options).await;
    assert!(wamp::protocol::id::is_valid(joined), "a session over wss://");
}

/// Joins with our client inside an actix system of its own thread (the
/// client needs one; this test runs on plain tokio).
async fn join_in_an_actix_system(options: wamp::client::ConnectOptions) -> u64 {
    tokio::task::spawn_blocking(move || {
        actix_web::rt::System::new().block_on(async move {
            let client = wamp::client::Client::connect(options).await.expect("join over wss://");
            let id = client.joined().await.unwrap().id;
            client.leave().await;
            id
        })
    })
    .await
    .unwrap()
}
