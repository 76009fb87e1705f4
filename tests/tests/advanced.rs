//! Advanced profile features over a real WebSocket, where AutobahnPython
//! cannot ask for them (see `tests/peers/python/advanced.py` for the rest):
//! a call's own timeout with INTERRUPT to a callee that takes it, a caller
//! that asks to be disclosed, a wrongly typed option ending the session,
//! and a HELLO that announces no role.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::{Duration, Instant};

use wamp::protocol::errors::{PROTOCOL_VIOLATION, TIMEOUT};
use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};
use wamp_tests::{hello, RawClient, TestRouter};

/// A HELLO whose callee announces `call_canceling`.
fn hello_interruptible(realm: &str) -> WampMessage {
    let mut message = hello(realm);
    if let WampMessage::Hello { details, .. } = &mut message {
        let features = Dict::from([("call_canceling".to_owned(), Value::Bool(true))]);
        let callee = Dict::from([("features".to_owned(), Value::Dict(features))]);
        if let Some(Value::Dict(roles)) = details.get_mut("roles") {
            roles.insert("callee".into(), Value::Dict(callee));
        }
    }
    message
}

fn options(pairs: &[(&str, Value)]) -> Dict {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

#[tokio::test]
async fn a_calls_own_timeout_fails_it_and_interrupts_the_callee() {
    let router = TestRouter::start();
    for serializer in Serializer::ALL {
        let mut callee = RawClient::connect(&router.url, serializer).await;
        callee.send(&hello_interruptible("realm1")).await;
        assert!(matches!(callee.recv().await, WampMessage::Welcome { .. }));
        let (mut caller, _) = RawClient::join(&router.url, serializer, "realm1").await;
        callee
            .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: "com.slow".into() })
            .await;
        assert!(matches!(callee.recv().await, WampMessage::Registered { request: 1, .. }));
        let started = Instant::now();
        let call = WampMessage::Call {
            request: 7,
            options: options(&[("timeout", Value::from(300))]),
            procedure: "com.slow".into(),
            payload: Payload::default(),
        };
        caller.send(&call).await;
        let invocation = match callee.recv().await {
            WampMessage::Invocation { request, .. } => request,
            other => panic!("expected INVOCATION, got {other:?}"),
        };
        match caller.recv().await {
            WampMessage::Error { request: 7, error, .. } => assert_eq!(error, TIMEOUT),
            other => panic!("expected ERROR, got {other:?}"),
        }
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(300), "timed out early: {waited:?}");
        match callee.recv().await {
            WampMessage::Interrupt { request, options } => {
                assert_eq!(request, invocation);
                assert_eq!(options.get("mode").and_then(Value::as_str), Some("killnowait"));
            }
            other => panic!("expected INTERRUPT, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_caller_that_asks_is_disclosed_to_the_callee() {
    let router = TestRouter::start();
    let (mut callee, _) = RawClient::join(&router.url, Serializer::MsgPack, "realm1").await;
    let (mut caller, caller_id) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: "com.who".into() })
        .await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    let call = WampMessage::Call {
        request: 1,
        options: options(&[("disclose_me", Value::Bool(true))]),
        procedure: "com.who".into(),
        payload: Payload::default(),
    };
    caller.send(&call).await;
    match callee.recv().await {
        WampMessage::Invocation { details, .. } => {
            assert_eq!(details.get("caller").and_then(Value::as_u64), Some(caller_id));
            assert_eq!(details.get("caller_authrole").and_then(Value::as_str), Some("anonymous"));
            assert!(details.get("caller_authid").and_then(Value::as_str).is_some_and(|id| !id.is_empty()));
        }
        other => panic!("expected INVOCATION, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrongly_typed_option_ends_the_session_and_nothing_else() {
    let router = TestRouter::start();
    let (mut careless, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    let (mut other, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    let publish = WampMessage::Publish {
        request: 1,
        options: options(&[("eligible", Value::from("everybody"))]),
        topic: "com.t".into(),
        payload: Payload::default(),
    };
    careless.send(&publish).await;
    match careless.recv().await {
        WampMessage::Goodbye { reason, details } => {
            assert_eq!(reason, PROTOCOL_VIOLATION);
            let text = details.get("message").and_then(Value::as_str).unwrap_or_default();
            assert!(text.contains("PUBLISH.Options.eligible"), "{text}");
        }
        other => panic!("expected GOODBYE, got {other:?}"),
    }
    careless.expect_closed().await;
    other.send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: "com.t".into() }).await;
    assert!(matches!(other.recv().await, WampMessage::Subscribed { .. }));
}

#[tokio::test]
async fn a_hello_without_roles_is_aborted() {
    let router = TestRouter::start();
    let mut client = RawClient::connect(&router.url, Serializer::Json).await;
    client.send(&WampMessage::Hello { realm: "realm1".into(), details: Dict::new() }).await;
    match client.recv().await {
        WampMessage::Abort { reason, details } => {
            assert_eq!(reason, PROTOCOL_VIOLATION);
            let text = details.get("message").and_then(Value::as_str).unwrap_or_default();
            assert!(text.contains("HELLO.Details.roles"), "{text}");
        }
        other => panic!("expected ABORT, got {other:?}"),
    }
    client.expect_closed().await;
}

#[tokio::test]
async fn a_killed_session_gets_goodbye_with_the_reason_and_is_closed() {
    let router =
        TestRouter::with_config(wamp::RouterConfig { allow_session_kill: true, ..Default::default() });
    let (mut admin, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    let (mut victim, victim_id) = RawClient::join(&router.url, Serializer::MsgPack, "realm1").await;
    let kwargs =
        options(&[("reason", Value::from("com.example.kicked")), ("message", Value::from("enough"))]);
    let kill = WampMessage::Call {
        request: 1,
        options: Dict::new(),
        procedure: "wamp.session.kill".into(),
        payload: Payload::new(vec![Value::from(victim_id)], kwargs),
    };
    admin.send(&kill).await;
    match victim.recv().await {
        WampMessage::Goodbye { reason, details } => {
            assert_eq!(reason, "com.example.kicked");
            assert_eq!(details.get("message").and_then(Value::as_str), Some("enough"));
        }
        other => panic!("expected GOODBYE, got {other:?}"),
    }
    assert!(matches!(admin.recv().await, WampMessage::Result { request: 1, .. }));
    let count = WampMessage::Call {
        request: 2,
        options: Dict::new(),
        procedure: "wamp.session.count".into(),
        payload: Payload::default(),
    };
    admin.send(&count).await;
    match admin.recv().await {
        WampMessage::Result { payload, .. } => assert_eq!(payload.args_list(), [Value::from(1u64)]),
        other => panic!("expected RESULT, got {other:?}"),
    }
}

/// A HELLO announcing `features` for `role` (and every other role plain).
fn hello_with(role: &str, features: &[&str]) -> WampMessage {
    let mut message = hello("realm1");
    if let WampMessage::Hello { details, .. } = &mut message {
        let features: Dict = features.iter().map(|f| ((*f).to_owned(), Value::Bool(true))).collect();
        let entry = Dict::from([("features".to_owned(), Value::Dict(features))]);
        if let Some(Value::Dict(roles)) = details.get_mut("roles") {
            roles.insert(role.into(), Value::Dict(entry));
        }
    }
    message
}

#[tokio::test]
async fn a_progressive_call_invocation_streams_chunks_over_the_wire() {
    let router = TestRouter::start();
    let mut callee = RawClient::connect(&router.url, Serializer::MsgPack).await;
    callee.send(&hello_with("callee", &["progressive_call_invocations", "call_canceling"])).await;
    assert!(matches!(callee.recv().await, WampMessage::Welcome { .. }));
    let mut caller = RawClient::connect(&router.url, Serializer::Json).await;
    caller.send(&hello_with("caller", &["progressive_call_invocations"])).await;
    assert!(matches!(caller.recv().await, WampMessage::Welcome { .. }));
    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: "com.upload".into() })
        .await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    let mut invocation = None;
    for (n, progress) in [(1, true), (2, true), (3, false)] {
        let options = if progress { options(&[("progress", Value::Bool(true))]) } else { Dict::new() };
        let chunk = WampMessage::Call {
            request: 9,
            options,
            procedure: "com.upload".into(),
            payload: Payload::args(vec![Value::from(n)]),
        };
        caller.send(&chunk).await;
        match callee.recv().await {
            WampMessage::Invocation { request, details, payload, .. } => {
                assert_eq!(*invocation.get_or_insert(request), request, "one invocation for every chunk");
                assert_eq!(details.contains_key("progress"), progress);
                assert_eq!(payload.args_list(), [Value::from(n)]);
            }
            other => panic!("expected INVOCATION, got {other:?}"),
        }
    }
    let total = Payload::args(vec![Value::from(6)]);
    callee
        .send(&WampMessage::Yield { request: invocation.unwrap(), options: Dict::new(), payload: total })
        .await;
    match caller.recv().await {
        WampMessage::Result { request: 9, payload, .. } => assert_eq!(payload.args_list(), [Value::from(6)]),
        other => panic!("expected RESULT, got {other:?}"),
    }
}

/// A callee that announces `call_canceling`, registered for `procedure`.
async fn interruptible_callee(url: &str, procedure: &str) -> RawClient {
    let mut callee = RawClient::connect(url, Serializer::MsgPack).await;
    callee.send(&hello_interruptible("realm1")).await;
    assert!(matches!(callee.recv().await, WampMessage::Welcome { .. }));
    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: procedure.into() })
        .await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    callee
}

/// The callee gets the INVOCATION, then an INTERRUPT for it.
async fn expect_interrupted(callee: &mut RawClient) {
    let invocation = match callee.recv().await {
        WampMessage::Invocation { request, .. } => request,
        other => panic!("expected INVOCATION, got {other:?}"),
    };
    match callee.recv().await {
        WampMessage::Interrupt { request, options } => {
            assert_eq!(request, invocation);
            assert_eq!(options.get("mode").and_then(Value::as_str), Some("killnowait"));
        }
        other => panic!("expected INTERRUPT, got {other:?}"),
    }
}

#[actix_web::test]
async fn our_client_cancels_a_call_it_gives_up() {
    use wamp::client::{CallOptions, Client, ConnectOptions, ReconnectPolicy};
    let router = TestRouter::start();
    let mut callee = interruptible_callee(&router.url, "com.slow").await;
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&router.url, "realm1") };
    let client = Client::connect(options).await.unwrap();

    // Its own timeout.
    let timed = CallOptions { timeout: Some(Duration::from_millis(200)), ..CallOptions::default() };
    let err = client.call_with("com.slow", Payload::default(), timed).await.unwrap_err();
    assert_eq!(err.uri, TIMEOUT);
    expect_interrupted(&mut callee).await;

    // The call's future dropped inside the session.
    let dropped = client
        .with_session(|ctx| {
            Box::pin(async move {
                let call = ctx.call_with("com.slow", Payload::default(), CallOptions::default());
                tokio::time::timeout(Duration::from_millis(200), call).await.is_err()
            })
        })
        .await
        .unwrap();
    assert!(dropped, "the call was still waiting");
    expect_interrupted(&mut callee).await;

    // The session goes on.
    let count: u64 = client.call("wamp.session.count", ()).await.unwrap();
    assert_eq!(count, 2);
}
