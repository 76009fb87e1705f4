//! `wamp router` as a user runs it: settings from a file, the environment
//! and options, and a graceful stop on SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use tokio::process::Command;
use wamp::protocol::{Dict, Serializer, Value, WampMessage};
use wamp_tests::{Process, RawClient};

/// Starts `wamp router` and returns it with the URL it logged.
async fn start(args: &[&str], env: &[(&str, &str)]) -> (Process, String) {
    let mut router = Process::start(
        Command::new(env!("CARGO_BIN_EXE_wamp")).arg("router").args(args).envs(env.iter().copied()),
    );
    router.wait_for(&["url="]).await;
    let url = router.url();
    (router, url)
}

#[tokio::test]
async fn sigterm_says_goodbye_to_every_session_and_exits_cleanly() {
    let (mut router, url) = start(&["--listen", "127.0.0.1:0"], &[]).await;
    let (mut a, _) = RawClient::join(&url, Serializer::Json, "realm1").await;
    let (mut b, _) = RawClient::join(&url, Serializer::MsgPack, "realm1").await;
    let pid = router.child().id().expect("pid").to_string();
    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    for c in [&mut a, &mut b] {
        c.answer_shutdown().await;
    }
    let status = tokio::time::timeout(Duration::from_secs(10), router.child().wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn settings_come_from_file_then_environment_then_options() {
    let dir = std::env::temp_dir().join(format!("wamp-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("router.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:1\"\npath = \"/file\"\n[[realms]]\nname = \"com.file\"\n")
        .unwrap();
    // The environment overrides the file's path; the option its listen.
    let (_child, url) =
        start(&["--config", file.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[("WAMP_PATH", "/env")])
            .await;
    assert!(url.ends_with("/env"), "{url}");
    let (_c, _) = RawClient::join(&url, Serializer::Json, "com.file").await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_bad_settings_file_is_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("wamp-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("router.toml");
    std::fs::write(&file, "listn = \"127.0.0.1:0\"\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--config", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown key 'listn'"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn tls_options_serve_wss() {
    let ca = wamp_tests::certs::TestCa::new();
    let cert = ca.server("cli", false);
    let (_child, url) = start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
            cert.cert_file.to_str().unwrap(),
            "--tls-key",
            cert.key_file.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(url.starts_with("wss://"), "{url}");
    // A plain WebSocket client cannot talk to it; one that trusts the CA
    // can.
    let tls = wamp::transport::tls::client_config(std::slice::from_ref(&ca.ca_file), &[]).unwrap();
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", "wamp.2.json".parse().unwrap());
    let connected = tokio_tungstenite::connect_async_tls_with_config(
        request,
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(tls)),
    )
    .await;
    let (_, response) = connected.expect("a TLS WebSocket upgrade");
    assert_eq!(response.status().as_u16(), 101);
}

#[tokio::test]
async fn the_example_authentication_settings_serve_both_realms() {
    let example = wamp_tests::workspace_root().join("docs/examples/auth.toml");
    let (_child, url) = start(&["--config", example.to_str().unwrap(), "--listen", "127.0.0.1:0"], &[]).await;
    let (_anonymous, _) = RawClient::join(&url, Serializer::Json, "realm1").await;
    let mut client = RawClient::connect(&url, Serializer::Json).await;
    let WampMessage::Hello { realm, mut details } = wamp_tests::hello("authrealm") else { unreachable!() };
    details.insert("authmethods".into(), Value::List(vec!["ticket".into()]));
    details.insert("authid".into(), "ticket-user".into());
    client.send(&WampMessage::Hello { realm, details }).await;
    assert!(matches!(client.recv().await, WampMessage::Challenge { ref method, .. } if method == "ticket"));
    client.send(&WampMessage::Authenticate { signature: "ticket-secret".into(), extra: Dict::new() }).await;
    match client.recv().await {
        WampMessage::Welcome { details, .. } => {
            assert_eq!(details.get("authrole").and_then(Value::as_str), Some("full"));
            assert_eq!(details.get("authmethod").and_then(Value::as_str), Some("ticket"));
        }
        other => panic!("expected WELCOME, got {other:?}"),
    }
}

#[tokio::test]
async fn unusable_authentication_settings_stop_the_router_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("router.toml");
    std::fs::write(
        &file,
        "[[realms]]\nname = \"r\"\nauthmethods = [\"cryptosign\"]\n[[realms.principals]]\n\
         authid = \"k\"\nmethod = \"cryptosign\"\nrole = \"x\"\nauthorized_keys = [\"not-a-key\"]\n",
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wamp"))
        .args(["router", "--config", file.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'not-a-key' is not an Ed25519 public key"), "{stderr}");
}

#[tokio::test]
async fn it_prints_where_it_listens_and_which_realms_it_serves() {
    let mut router = Process::start(
        Command::new(env!("CARGO_BIN_EXE_wamp"))
            .args(["router", "--listen", "127.0.0.1:0", "--realm", "com.a", "--realm", "com.b"])
            .arg("--auto-create-realms")
            .env("RUST_LOG", "off"),
    );
    router.wait_for(&["WAMP router listening on ", "realms: "]).await;
    let log = router.log();
    let printed: Vec<&str> = log.lines().collect();
    let url = printed[0].strip_prefix("WAMP router listening on ").unwrap_or_else(|| panic!("{printed:?}"));
    assert_eq!(printed[1], "realms: com.a, com.b (and any other, created when a client asks for it)");
    // The printed URL is the one to connect to.
    let (_c, _) = RawClient::join(url, Serializer::Json, "com.b").await;
}
