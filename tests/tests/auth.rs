//! Authentication and authorization on our router, configured with the
//! example file the security guide explains (docs/examples/auth.toml):
//! AutobahnPython authenticates with every method and meets every
//! permission; a brute-force loop is refused; a peer that never answers
//! its CHALLENGE is closed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::protocol::{errors, Dict, Message, Serializer, Value};
use wamp::RouterConfig;
use wamp_tests::{python_checks, workspace_root, RawClient, TestRouter};

/// The example configuration, read as `wamp router --config` reads it.
fn example() -> RouterConfig {
    RouterConfig::load(Some(&workspace_root().join("docs/examples/auth.toml"))).expect("the example loads")
}

#[actix_web::test]
async fn autobahn_python_authenticates_with_every_method_and_meets_every_permission() {
    // The script's own wrong answers would otherwise use up the address's
    // failures (the brute-force test below checks that limit).
    let router = TestRouter::with_config(RouterConfig { max_auth_failures: 0, ..example() });
    python_checks("auth_peer.py", &router.url, &[], 9).await;
}

#[actix_web::test]
async fn a_brute_force_loop_is_refused_once_the_address_failed_too_often() {
    let router = TestRouter::with_config(RouterConfig { max_auth_failures: 5, ..example() });
    python_checks("auth_peer.py", &router.url, &[("BRUTE_FORCE", "5")], 1).await;
    // Anonymous realms are not affected: nothing there can fail.
    let (mut client, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    client.send(&Message::Goodbye { details: Dict::new(), reason: errors::CLOSE_NORMAL.into() }).await;
}

fn ticket_hello(authid: &str) -> Message {
    let Message::Hello { realm, mut details } = wamp_tests::hello("authrealm") else {
        unreachable!("hello() makes a HELLO")
    };
    details.insert("authmethods".into(), Value::List(vec!["ticket".into()]));
    details.insert("authid".into(), authid.into());
    Message::Hello { realm, details }
}

#[actix_web::test]
async fn a_peer_that_never_answers_its_challenge_is_closed_after_the_hello_timeout() {
    let router = TestRouter::with_config(RouterConfig { hello_timeout_secs: 1, ..example() });
    let mut client = RawClient::connect(&router.url, Serializer::Json).await;
    client.send(&ticket_hello("ticket-user")).await;
    assert!(matches!(client.recv().await, Message::Challenge { .. }));
    let started = std::time::Instant::now();
    client.expect_ended_with(errors::TIMEOUT).await;
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[actix_web::test]
async fn authenticate_out_of_turn_is_a_protocol_violation() {
    let router = TestRouter::with_config(example());
    let mut client = RawClient::connect(&router.url, Serializer::MsgPack).await;
    client.send(&Message::Authenticate { signature: "ticket-secret".into(), extra: Dict::new() }).await;
    client.expect_ended_with(errors::PROTOCOL_VIOLATION).await;
    // After a CHALLENGE, anything but AUTHENTICATE is one too.
    let mut client = RawClient::connect(&router.url, Serializer::MsgPack).await;
    client.send(&ticket_hello("ticket-user")).await;
    assert!(matches!(client.recv().await, Message::Challenge { .. }));
    client.send(&wamp_tests::hello("authrealm")).await;
    client.expect_ended_with(errors::PROTOCOL_VIOLATION).await;
}

#[test]
fn invalid_authentication_settings_are_refused_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("router.toml");
    std::fs::write(
        &file,
        "[[realms]]\nname = \"r\"\nauthmethods = [\"ticket\"]\n\
         [[realms.principals]]\nauthid = \"u\"\nmethod = \"ticket\"\nsecret_env = \"WAMP_TEST_NOT_SET_ANYWHERE\"\nrole = \"x\"\n",
    )
    .unwrap();
    let error = RouterConfig::load(Some(&file)).unwrap_err().to_string();
    assert!(error.contains("WAMP_TEST_NOT_SET_ANYWHERE") && error.contains("'u'"), "{error}");
}
