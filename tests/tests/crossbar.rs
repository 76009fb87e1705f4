//! The Crossbar.io harness (`wamp_tests::crossbar`, the pinned router from
//! `tests/peers/install.sh`) works: raw sessions join it with each
//! serializer, one registers a procedure the other calls, and after a
//! restart on the same port sessions can join again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};
use wamp_tests::crossbar::CrossbarRouter;
use wamp_tests::RawClient;

const PROCEDURE: &str = "com.test.add";

/// Positional arguments of a payload; panics on anything else.
fn args(payload: &Payload) -> &[Value] {
    assert!(
        !matches!(payload, Payload::Transparent(_)),
        "expected positional arguments, got a transparent payload"
    );
    payload.args_list()
}

/// Callee and caller join over `serializer`; the caller's CALL of
/// `com.test.add` with [2, 3] reaches the callee as an INVOCATION, whose
/// YIELD of [5] comes back as the RESULT.
async fn call_through(router: &CrossbarRouter, serializer: Serializer) {
    let (mut callee, callee_session) = RawClient::join(&router.url, serializer, &router.realm).await;
    let (mut caller, caller_session) = RawClient::join(&router.url, serializer, &router.realm).await;
    assert_ne!(callee_session, caller_session, "each session has its own id");

    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: PROCEDURE.into() })
        .await;
    let registration = match callee.recv().await {
        WampMessage::Registered { request: 1, registration } => registration,
        other => panic!("{serializer:?}: expected REGISTERED, got {other:?}"),
    };

    let sum_of = Payload::args(vec![Value::from(2), Value::from(3)]);
    caller
        .send(&WampMessage::Call {
            request: 7,
            options: Dict::new(),
            procedure: PROCEDURE.into(),
            payload: sum_of,
        })
        .await;

    let invocation = match callee.recv().await {
        WampMessage::Invocation { request, registration: r, payload, .. } => {
            assert_eq!(r, registration, "{serializer:?}: invocation of our registration");
            assert_eq!(args(&payload), [Value::from(2), Value::from(3)], "{serializer:?}: call arguments");
            request
        }
        other => panic!("{serializer:?}: expected INVOCATION, got {other:?}"),
    };
    let five = Payload::args(vec![Value::from(5)]);
    callee.send(&WampMessage::Yield { request: invocation, options: Dict::new(), payload: five }).await;

    match caller.recv().await {
        WampMessage::Result { request: 7, payload, .. } => {
            assert_eq!(args(&payload), [Value::from(5)], "{serializer:?}: result")
        }
        other => panic!("{serializer:?}: expected RESULT, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_through_crossbar_then_restart() {
    // Starting and restarting block while Crossbar boots (a few seconds).
    let mut router = tokio::task::spawn_blocking(CrossbarRouter::start).await.expect("start Crossbar");
    assert_eq!(router.url, format!("ws://127.0.0.1:{}/ws", router.port));

    for serializer in [Serializer::Json, Serializer::MsgPack] {
        call_through(&router, serializer).await;
    }

    let (mut before, _) = RawClient::join(&router.url, Serializer::Json, &router.realm).await;
    let port = router.port;
    let mut router = tokio::task::spawn_blocking(move || {
        router.restart();
        router
    })
    .await
    .expect("restart Crossbar");
    assert_eq!(router.port, port, "a restart keeps the port");

    // The session from before the restart is gone with the old process.
    before.expect_closed().await;

    for serializer in [Serializer::Json, Serializer::MsgPack] {
        let (_client, session) = RawClient::join(&router.url, serializer, &router.realm).await;
        assert_ne!(session, 0, "{serializer:?}: a session id after the restart");
    }
    call_through(&router, Serializer::MsgPack).await;

    tokio::task::spawn_blocking(move || router.stop()).await.expect("stop Crossbar");
}
