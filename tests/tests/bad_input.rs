//! Bad input over a real WebSocket: each case gets the specification's
//! answer (ABORT or GOODBYE with the right reason, then a close), and a
//! well-behaved session can still join and call afterwards on the same
//! router.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use wamp::protocol::errors::{CANCELED, INVALID_URI, NO_SUCH_REALM, PROTOCOL_VIOLATION};
use wamp::protocol::{code, Dict, Payload, Serializer, Value, WampMessage};
use wamp::RouterConfig;
use wamp_tests::{hello, open_socket, RawClient, TestRouter};

const JSON: Serializer = Serializer::Json;
const MSGPACK: Serializer = Serializer::MsgPack;

/// Two fresh sessions register and call a procedure: the router still works.
async fn router_still_works(url: &str) {
    for serializer in Serializer::ALL {
        let (mut callee, _) = RawClient::join(url, serializer, "realm1").await;
        let (mut caller, _) = RawClient::join(url, serializer, "realm1").await;
        let procedure = format!("com.test.after.{}", serializer.name().to_lowercase());
        callee
            .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: procedure.clone() })
            .await;
        assert!(matches!(callee.recv().await, WampMessage::Registered { request: 1, .. }));
        caller
            .send(&WampMessage::Call {
                request: 1,
                options: Dict::new(),
                procedure: procedure.into(),
                payload: Payload::args(vec![Value::from(21)]),
            })
            .await;
        let WampMessage::Invocation { request, payload, .. } = callee.recv().await else {
            panic!("INVOCATION")
        };
        let doubled = payload.args_list()[0].as_i64().unwrap() * 2;
        callee
            .send(&WampMessage::Yield {
                request,
                options: Dict::new(),
                payload: Payload::args(vec![Value::from(doubled)]),
            })
            .await;
        match caller.recv().await {
            WampMessage::Result { request: 1, payload, .. } => {
                assert_eq!(payload.args_list(), [Value::from(42)])
            }
            other => panic!("expected RESULT, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn invalid_json_aborts() {
    let router = TestRouter::start();
    let mut c = RawClient::connect(&router.url, JSON).await;
    c.send_text("[1, \"realm1\", {").await;
    c.expect_ended_with(PROTOCOL_VIOLATION).await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn invalid_msgpack_aborts() {
    let router = TestRouter::start();
    let mut c = RawClient::connect(&router.url, MSGPACK).await;
    c.send_binary(vec![0x93, 0x01, 0xc1]).await; // 0xc1 is never valid
    c.expect_ended_with(PROTOCOL_VIOLATION).await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn a_message_that_is_not_a_list_aborts() {
    let router = TestRouter::start();
    let mut c = RawClient::connect(&router.url, JSON).await;
    c.send_text(r#"{"hello": "realm1"}"#).await;
    c.expect_ended_with(PROTOCOL_VIOLATION).await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn an_unknown_message_type_ends_the_session() {
    let router = TestRouter::start();
    let mut c = RawClient::connect(&router.url, JSON).await;
    c.send_text("[77, 1, {}]").await;
    c.expect_ended_with(PROTOCOL_VIOLATION).await;
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    c.send_text("[999, 1]").await;
    c.expect_ended_with(PROTOCOL_VIOLATION).await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn call_before_hello_aborts() {
    let router = TestRouter::start();
    let mut c = RawClient::connect(&router.url, MSGPACK).await;
    c.send(&WampMessage::Call {
        request: 1,
        options: Dict::new(),
        procedure: "a.b".into(),
        payload: Payload::default(),
    })
    .await;
    match c.recv().await {
        WampMessage::Abort { reason, details } => {
            assert_eq!(reason, PROTOCOL_VIOLATION);
            let text = details.get("message").and_then(Value::as_str).unwrap_or_default();
            assert!(text.contains("expected HELLO"), "{text}");
        }
        other => panic!("expected ABORT, got {other:?}"),
    }
    c.expect_closed().await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn a_second_hello_ends_the_session_with_goodbye() {
    let router = TestRouter::start();
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    c.send(&hello("realm1")).await;
    match c.recv().await {
        WampMessage::Goodbye { reason, .. } => assert_eq!(reason, PROTOCOL_VIOLATION),
        other => panic!("expected GOODBYE, got {other:?}"),
    }
    c.expect_closed().await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn request_ids_outside_the_id_range_end_the_session() {
    let router = TestRouter::start();
    for bad in ["0", "9007199254740993", "-1"] {
        let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
        c.send_text(format!("[48, {bad}, {{}}, \"com.test.x\"]")).await;
        c.expect_ended_with(PROTOCOL_VIOLATION).await;
    }
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn hello_with_an_invalid_realm_uri_aborts() {
    let router = TestRouter::start();
    let mut c = RawClient::connect(&router.url, JSON).await;
    c.send(&hello("not a realm")).await;
    c.expect_ended_with(INVALID_URI).await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn hello_for_an_unknown_realm_aborts() {
    let router = TestRouter::start();
    let mut c = RawClient::connect(&router.url, MSGPACK).await;
    c.send(&hello("com.nowhere")).await;
    c.expect_ended_with(NO_SUCH_REALM).await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn a_binary_frame_on_a_json_session_ends_it() {
    let router = TestRouter::start();
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    c.send_binary(b"[6,{},\"wamp.close.normal\"]".to_vec()).await;
    c.expect_ended_with(PROTOCOL_VIOLATION).await;
    let (mut c, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    c.send_text("[6,{},\"wamp.close.normal\"]").await;
    c.expect_ended_with(PROTOCOL_VIOLATION).await;
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_the_connection() {
    let router =
        TestRouter::with_config(RouterConfig { max_message_size: 64 * 1024, ..RouterConfig::default() });
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    let big = "x".repeat(65 * 1024);
    c.send_text(format!("[16, 1, {{}}, \"com.test.big\", [\"{big}\"]]")).await;
    match c.recv().await {
        WampMessage::Goodbye { reason, details } => {
            assert_eq!(reason, PROTOCOL_VIOLATION);
            let text = details.get("message").and_then(Value::as_str).unwrap_or_default();
            assert!(text.contains("limit of 65536 bytes"), "{text}");
        }
        other => panic!("expected GOODBYE, got {other:?}"),
    }
    assert_eq!(c.expect_closed().await, Some(1009), "close code 1009 (message too big)");
    // A message just under the limit passes.
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    let fits = "y".repeat(60 * 1024);
    c.send_text(format!("[16, 1, {{\"acknowledge\": true}}, \"com.test.big\", [\"{fits}\"]]")).await;
    assert!(matches!(c.recv().await, WampMessage::Published { request: 1, .. }));
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn a_fragmented_message_over_the_size_limit_closes_the_connection() {
    let router =
        TestRouter::with_config(RouterConfig { max_message_size: 64 * 1024, ..RouterConfig::default() });
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    // Every fragment is small; together they are over the limit.
    let big = "x".repeat(65 * 1024);
    c.send_fragmented(format!("[16, 1, {{}}, \"com.test.big\", [\"{big}\"]]").as_bytes(), 4096).await;
    assert!(matches!(c.recv().await, WampMessage::Goodbye { .. }), "GOODBYE");
    assert_eq!(c.expect_closed().await, Some(1009), "close code 1009 (message too big)");
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007() {
    let router = TestRouter::start();
    // The JSON decoder does the check: every way it reads a message must
    // catch it. A small CALL is decoded in full; a PUBLISH and a large
    // message keep their arguments as bytes; a byte outside any string
    // is a syntax error.
    let mut large_kwargs = b"[16, 3, {}, \"com.test.bad\", [], {\"k\xc3(\": \"".to_vec();
    large_kwargs.extend_from_slice(&[b'x'; 2048]);
    large_kwargs.extend_from_slice(b"\"}]");
    let messages: [&[u8]; 4] = [
        b"[16, 1, {}, \"com.test.bad\", [\"\xff\xfe\"]]",
        b"[48, 2, {}, \"com.test.bad\", [\"\xff\"]]",
        &large_kwargs,
        b"[16, 4, {}, \"com.test.bad\", []]\xff",
    ];
    // In one frame, and across fragments.
    for (message, chunk) in messages.iter().flat_map(|m| [(m, 4096), (m, 3)]) {
        let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
        c.send_fragmented(message, chunk).await;
        match c.recv().await {
            WampMessage::Goodbye { reason, details } => {
                assert_eq!(reason, PROTOCOL_VIOLATION);
                let text = details.get("message").and_then(Value::as_str).unwrap_or_default();
                assert!(text.contains("UTF-8"), "{text}");
            }
            other => panic!("expected GOODBYE, got {other:?}"),
        }
        assert_eq!(c.expect_closed().await, Some(1007), "close code 1007 (invalid payload data)");
    }
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn text_that_breaks_utf8_is_refused_at_that_fragment() {
    let router = TestRouter::start();
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    // A valid start, then a fragment with a byte no UTF-8 text holds; the
    // rest of the message never comes.
    c.send_fragment(b"[16, 1, {}, \"com.test.bad\", [\"caf\xc3", true, false).await;
    c.send_fragment(b"\xa9 \xff", false, false).await;
    match c.recv().await {
        WampMessage::Goodbye { reason, .. } => assert_eq!(reason, PROTOCOL_VIOLATION),
        other => panic!("expected GOODBYE, got {other:?}"),
    }
    assert_eq!(c.expect_closed().await, Some(1007), "close code 1007 (invalid payload data)");
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn fragments_are_joined_before_utf8_is_checked() {
    let router = TestRouter::start();
    let (mut c, _) = RawClient::join(&router.url, JSON, "realm1").await;
    // Chunks of 1 byte split every multi-byte character between frames.
    let text = "[16, 7, {\"acknowledge\": true}, \"com.test.fragments\", [\"h\u{e9}llo \u{1f600}\"]]";
    c.send_fragmented(text.as_bytes(), 1).await;
    assert!(matches!(c.recv().await, WampMessage::Published { request: 7, .. }), "PUBLISHED");
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn an_abrupt_disconnect_mid_call_fails_the_call() {
    let router = TestRouter::start();
    let (mut callee, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    let (mut caller, _) = RawClient::join(&router.url, JSON, "realm1").await;
    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: "com.test.slow".into() })
        .await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    caller
        .send(&WampMessage::Call {
            request: 7,
            options: Dict::new(),
            procedure: "com.test.slow".into(),
            payload: Payload::default(),
        })
        .await;
    assert!(matches!(callee.recv().await, WampMessage::Invocation { .. }));
    drop(callee); // the TCP connection goes away without GOODBYE or close frame
    match caller.recv().await {
        WampMessage::Error { request_type, request, error, .. } => {
            assert_eq!((request_type, request, error.as_str()), (code::CALL, 7, CANCELED));
        }
        other => panic!("expected ERROR, got {other:?}"),
    }
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn upgrades_without_a_wamp_subprotocol_are_refused_with_http_400() {
    let router = TestRouter::start();
    for offered in ["", "wamp.2.cbor", "chat, superchat"] {
        let err = open_socket(&router.url, offered).await.expect_err("the upgrade must be refused");
        match err {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status(), 400, "offered {offered:?}");
                let body =
                    String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned();
                assert!(body.contains("wamp.2.json or wamp.2.msgpack"), "{body}");
            }
            other => panic!("expected an HTTP error for {offered:?}, got {other}"),
        }
    }
    router_still_works(&router.url).await;
}

#[tokio::test]
async fn the_first_offered_serializer_we_speak_is_chosen() {
    let router = TestRouter::start();
    let (_, chosen) = open_socket(&router.url, "wamp.2.cbor, wamp.2.msgpack, wamp.2.json").await.unwrap();
    assert_eq!(chosen.as_deref(), Some("wamp.2.msgpack"));
    let (_, chosen) = open_socket(&router.url, "wamp.2.json, wamp.2.msgpack").await.unwrap();
    assert_eq!(chosen.as_deref(), Some("wamp.2.json"));
}
