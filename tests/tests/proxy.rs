//! Our clients reach our router through a real HTTP proxy (tinyproxy,
//! installed by `tests/peers/install.sh`, started here on loopback):
//! `ws://` and `wss://` through a CONNECT tunnel, with and without basic
//! authentication; wrong credentials end the attempt with a clear error.
//! The WAMP client, and the plain WebSocket client on the same code.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::path::PathBuf;
use std::time::Duration;

use wamp::client::{Client, ConnectOptions, Proxy, ReconnectPolicy};
use wamp_tests::certs::TestCa;
use wamp_tests::{PlainHello, TestRouter};

/// A tinyproxy on a free loopback port, stopped when dropped.
struct Tinyproxy {
    child: std::process::Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tinyproxy {
    fn start(basic_auth: Option<(&str, &str)>) -> Self {
        let binary = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("tinyproxy is not installed: run tests/peers/install.sh (scripts/test does)");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("tinyproxy.log");
        let mut config = format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 60\nMaxClients 20\nAllow 127.0.0.1\nLogLevel Connect\nLogFile \"{}\"\n",
            log.display()
        );
        if let Some((user, password)) = basic_auth {
            config.push_str(&format!("BasicAuth {user} {password}\n"));
        }
        let file = dir.path().join("tinyproxy.conf");
        std::fs::write(&file, config).unwrap();
        let child = std::process::Command::new(binary).arg("-d").arg("-c").arg(&file).spawn().unwrap();
        // Stopped by `Drop` from here on, also if it never listens.
        let proxy = Tinyproxy { child, port, log, _dir: dir };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return proxy;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("tinyproxy did not listen on {port}");
    }

    fn url(&self, credentials: &str) -> String {
        format!("http://{credentials}127.0.0.1:{}", self.port)
    }

    /// Whether the proxy logged a tunnel to `port`.
    fn tunneled_to(&self, port: u16) -> bool {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().any(|l| l.contains("CONNECT") && l.contains(&format!(":{port}")))
    }
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn joins(options: ConnectOptions) {
    let url = options.url.clone();
    let client = Client::connect(options).await.unwrap_or_else(|e| panic!("{url} through the proxy: {e}"));
    assert_eq!(client.call::<u64>("wamp.session.count", ()).await.unwrap(), 1);
    client.leave().await;
}

#[actix_web::test]
async fn our_client_tunnels_ws_through_an_http_proxy() {
    let router = TestRouter::start();
    let proxy = Tinyproxy::start(None);
    let options =
        ConnectOptions { proxy: Proxy::Url(proxy.url("")), ..ConnectOptions::new(&router.url, "realm1") };
    joins(options).await;
    assert!(proxy.tunneled_to(router.addr.port()), "the proxy carried the connection");
}

#[actix_web::test]
async fn our_client_tunnels_wss_through_a_proxy_that_wants_credentials() {
    let ca = TestCa::new();
    let cert = ca.server("router", false);
    let router = TestRouter::with_tls(&cert);
    let proxy = Tinyproxy::start(Some(("wamp", "s3cret")));
    let options = |credentials: &str| ConnectOptions {
        proxy: Proxy::Url(proxy.url(credentials)),
        tls_ca: vec![ca.ca_file.clone()],
        reconnect: ReconnectPolicy::default(),
        ..ConnectOptions::new(&router.url, "realm1")
    };
    joins(options("wamp:s3cret@")).await;
    assert!(proxy.tunneled_to(router.addr.port()), "the proxy carried the connection");

    for wrong in ["", "wamp:guess@"] {
        let error = tokio::time::timeout(Duration::from_secs(10), Client::connect(options(wrong)))
            .await
            .expect("refused credentials end the attempt, they are not retried")
            .expect_err("the proxy refuses");
        assert!(error.to_string().contains("credentials"), "{error}");
    }
}

#[actix_web::test]
async fn the_plain_client_tunnels_through_a_proxy_and_reports_refused_credentials() {
    use wamp::websocket::{self, ClientOptions, ConnectError};
    let router = TestRouter::start();
    let proxy = Tinyproxy::start(Some(("wamp", "s3cret")));
    let options = |credentials: &str| {
        ClientOptions::new(&router.url).protocol("wamp.2.json").proxy(Proxy::Url(proxy.url(credentials)))
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let connection = websocket::connect(options("wamp:s3cret@"), PlainHello(tx)).await.unwrap();
    let welcome = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.unwrap().unwrap();
    assert!(welcome.starts_with("[2,"), "a WELCOME: {welcome}");
    connection.closed().await;
    assert!(proxy.tunneled_to(router.addr.port()), "the proxy carried the connection");

    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    match websocket::connect(options("wamp:guess@"), PlainHello(tx)).await {
        Err(error @ ConnectError::Proxy { retryable: false, .. }) => {
            assert!(error.to_string().contains("credentials"), "{error}")
        }
        other => panic!("expected the proxy's refusal, got {other:?}"),
    }
}
