//! TLS: our router serves `wss://` with a certificate from its settings,
//! our client and AutobahnPython join it trusting the test's CA (or, for
//! our client, a pinned certificate), and our client refuses an untrusted,
//! expired or unpinned certificate at once with a clear error (no
//! reconnect loop). Certificates are made at test time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::{Duration, Instant};

use wamp::client::{Client, ConnectOptions};
use wamp::protocol::Serializer;
use wamp::RouterConfig;
use wamp_tests::certs::{ServerCert, TestCa};
use wamp_tests::TestRouter;

fn tls_router(cert: &ServerCert) -> TestRouter {
    TestRouter::with_config(RouterConfig {
        tls_cert: Some(cert.cert_file.display().to_string()),
        tls_key: Some(cert.key_file.display().to_string()),
        // interop.py's invalid-URI check needs the strict rule.
        uri_check: wamp::protocol::UriPolicy::Strict,
        ..RouterConfig::default()
    })
}

#[actix_web::test]
async fn our_client_joins_our_router_over_wss_trusting_the_configured_ca() {
    let ca = TestCa::new();
    let router = tls_router(&ca.server("router", false));
    assert!(router.url.starts_with("wss://"), "the server says it serves TLS: {}", router.url);
    for serializer in [Serializer::Json, Serializer::MsgPack] {
        // By name and by address: the certificate names both.
        for url in [router.url.clone(), router.url.replace("127.0.0.1", "localhost")] {
            let options = ConnectOptions {
                serializer,
                tls_ca: vec![ca.ca_file.clone()],
                ..ConnectOptions::new(&url, "realm1")
            };
            let client =
                Client::connect(options).await.unwrap_or_else(|e| panic!("{url} over {serializer}: {e}"));
            assert_eq!(client.call::<u64>("wamp.session.count", ()).await.unwrap(), 1);
            client.leave().await;
        }
    }
}

/// Connecting with `tls_ca` fails, at once although reconnecting is on,
/// with an error whose message contains `expected`.
async fn refused(url: &str, tls_ca: Vec<std::path::PathBuf>, expected: &str) {
    let started = Instant::now();
    let options = ConnectOptions { tls_ca, ..ConnectOptions::new(url, "realm1") };
    let error = tokio::time::timeout(Duration::from_secs(10), Client::connect(options))
        .await
        .expect("a refused certificate ends the attempt, it is not retried")
        .expect_err("the certificate must be refused");
    let text = error.to_string();
    assert!(text.contains(expected), "the error names the reason ({expected}): {text}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[actix_web::test]
async fn our_client_refuses_an_untrusted_or_expired_certificate_at_once() {
    let ca = TestCa::new();
    let router = tls_router(&ca.server("router", false));
    refused(&router.url, Vec::new(), "UnknownIssuer").await;

    let expired = tls_router(&ca.server("expired", true));
    refused(&expired.url, vec![ca.ca_file.clone()], "certificate expired").await;

    // A CA file that does not exist is a setup error, named.
    refused(&router.url, vec!["/nonexistent/ca.pem".into()], "/nonexistent/ca.pem").await;
}

#[test]
fn a_router_with_half_a_tls_setting_or_an_unreadable_file_does_not_start() {
    let system = actix_web::rt::System::new();
    system.block_on(async {
        let half = RouterConfig {
            tls_cert: Some("cert.pem".into()),
            listen: "127.0.0.1:0".into(),
            ..Default::default()
        };
        let error = wamp::transport::Server::bind(wamp::Router::new(half)).err().expect("refused");
        assert!(error.to_string().contains("tls_key"), "{error}");
        let missing = RouterConfig {
            tls_cert: Some("/nonexistent/cert.pem".into()),
            tls_key: Some("/nonexistent/key.pem".into()),
            listen: "127.0.0.1:0".into(),
            ..Default::default()
        };
        let error = wamp::transport::Server::bind(wamp::Router::new(missing)).err().expect("refused");
        assert!(error.to_string().contains("/nonexistent/cert.pem"), "{error}");
    });
}

#[actix_web::test]
async fn autobahn_python_joins_our_router_over_wss() {
    let ca = TestCa::new();
    let router = tls_router(&ca.server("router", false));
    let ca_file = ca.ca_file.display().to_string();
    wamp_tests::python_checks("interop.py", &router.url, &[("WAMP_TEST_CA", &ca_file)], 14).await;
}

#[actix_web::test]
async fn a_pinned_certificate_is_trusted_without_a_ca_and_nothing_else_is() {
    let ca = TestCa::new();
    let cert = ca.server("pinned", false);
    let router = tls_router(&cert);
    let pin = wamp::transport::tls::file_fingerprints(&cert.cert_file).unwrap().remove(0);
    // The pin alone: the test CA is not trusted, the certificate is.
    let options =
        ConnectOptions { tls_pins: vec![pin.to_lowercase()], ..ConnectOptions::new(&router.url, "realm1") };
    let client = Client::connect(options).await.expect("the pinned certificate is trusted");
    client.leave().await;
    // Another certificate, though its CA is trusted: the pin decides.
    let other =
        wamp::transport::tls::file_fingerprints(&ca.server("other", false).cert_file).unwrap().remove(0);
    let options = ConnectOptions {
        tls_pins: vec![other],
        tls_ca: vec![ca.ca_file.clone()],
        ..ConnectOptions::new(&router.url, "realm1")
    };
    let error = Client::connect(options).await.expect_err("not the pinned certificate");
    assert!(error.to_string().contains("not one of the pinned certificates"), "{error}");
    assert!(error.to_string().contains(&pin), "the error names the certificate it saw: {error}");
}

/// A connection that opens TCP and never starts its TLS handshake is
/// dropped after `tls_handshake_timeout_ms`, not held.
#[actix_web::test]
async fn a_connection_that_never_finishes_its_tls_handshake_is_dropped() {
    use tokio::io::AsyncReadExt as _;

    let ca = TestCa::new();
    let cert = ca.server("router", false);
    let router = TestRouter::with_config(RouterConfig {
        tls_cert: Some(cert.cert_file.display().to_string()),
        tls_key: Some(cert.key_file.display().to_string()),
        tls_handshake_timeout_ms: 300,
        ..RouterConfig::default()
    });
    let address = router.url.trim_start_matches("wss://").split('/').next().unwrap().to_owned();
    let mut silent = tokio::net::TcpStream::connect(&address).await.unwrap();
    let began = Instant::now();
    let mut buffer = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(10), silent.read(&mut buffer)).await;
    let waited = began.elapsed();
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "the server closed the connection: {read:?}");
    assert!(waited >= Duration::from_millis(250), "not before the timeout: {waited:?}");
    assert!(waited < Duration::from_secs(3), "soon after it: {waited:?}");
}

/// Our client gives up an attempt at a server that accepts TCP and then
/// says nothing (no TLS handshake, no upgrade answer) after
/// `connect_timeout`, instead of waiting forever.
#[actix_web::test]
async fn our_client_gives_up_on_a_server_that_never_answers() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = silent.local_addr().unwrap();
    let held = actix_web::rt::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    for url in [format!("wss://{address}/ws"), format!("ws://{address}/ws")] {
        let options = ConnectOptions {
            reconnect: wamp::client::ReconnectPolicy::off(),
            connect_timeout: Duration::from_millis(300),
            ..ConnectOptions::new(&url, "realm1")
        };
        let began = Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(10), Client::connect(options))
            .await
            .expect("the attempt ends by itself")
            .unwrap_err();
        assert_eq!(error.kind(), wamp::ErrorKind::Transport, "{error}");
        assert!(error.to_string().contains("connect_timeout"), "{url}: {error}");
        assert!(began.elapsed() >= Duration::from_millis(250), "{url}: not before the timeout");
    }
    held.abort();
}
