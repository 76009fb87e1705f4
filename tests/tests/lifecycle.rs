//! Session life over real sockets: GOODBYE both ways, graceful shutdown,
//! keepalive, and messages crossing between serializers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::protocol::errors::{CLOSE_NORMAL, GOODBYE_AND_OUT};
use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};
use wamp::RouterConfig;
use wamp_tests::{RawClient, TestRouter};

#[tokio::test]
async fn client_goodbye_is_answered_and_the_connection_closes() {
    let router = TestRouter::start();
    let (mut c, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    c.send(&WampMessage::Goodbye { details: Dict::new(), reason: CLOSE_NORMAL.into() }).await;
    c.expect_ended_with(GOODBYE_AND_OUT).await;
}

#[tokio::test]
async fn shutdown_sends_goodbye_system_shutdown_to_every_session() {
    let router = TestRouter::start();
    let (mut a, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    let (mut b, _) = RawClient::join(&router.url, Serializer::MsgPack, "realm1").await;
    router.begin_shutdown(Duration::from_secs(5));
    for c in [&mut a, &mut b] {
        c.answer_shutdown().await;
    }
    // Both connections are gone once the peers answered.
    for _ in 0..100 {
        if router.router().connection_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{} connections still open", router.router().connection_count());
}

#[tokio::test]
async fn a_session_that_never_answers_pings_is_closed() {
    let config = RouterConfig { ping_interval_secs: 1, ping_timeout_secs: 1, ..RouterConfig::default() };
    let router = TestRouter::with_config(config);
    let (mut silent, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    // Not reading means not answering pings (the client answers them only
    // while it reads).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    // The router has closed it (its connection is no longer counted)...
    assert_eq!(router.router().connection_count(), 0, "the silent session's connection is closed");
    // ...with 1001, going away. Reading now, the client first answers the
    // pings queued before the close; the router's TCP stack answers those
    // late pongs with a reset, which may overtake the close frame still
    // unread here: then the client sees the connection reset instead.
    if let Some(code) = silent.expect_closed().await {
        assert_eq!(code, 1001, "closed as going away");
    }
    // A session that reads stays open across several ping intervals.
    let (mut alive, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(3500);
    alive
        .send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: "com.test.t".into() })
        .await;
    assert!(matches!(alive.recv().await, WampMessage::Subscribed { .. }));
    let mut request = 2;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let options = Dict::from([("acknowledge".to_owned(), Value::Bool(true))]);
        alive
            .send(&WampMessage::Publish {
                request,
                options,
                topic: "com.test.x".into(),
                payload: Payload::default(),
            })
            .await;
        assert!(matches!(alive.recv().await, WampMessage::Published { .. }));
        request += 1;
    }
}

#[tokio::test]
async fn payloads_cross_between_json_and_msgpack_sessions() {
    let router = TestRouter::start();
    let (mut callee, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    let (mut caller, _) = RawClient::join(&router.url, Serializer::MsgPack, "realm1").await;
    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: "com.test.echo".into() })
        .await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    let args = vec![
        Value::Bytes(vec![0, 1, 2, 254, 255]),
        Value::from("Grüße 🚀"),
        Value::UInt(u64::MAX),
        Value::Int(i64::MIN),
        Value::Float(0.1),
        Value::Null,
    ];
    let kwargs =
        Dict::from([("nested".to_owned(), Value::List(vec![Value::Bytes(vec![9]), Value::Bool(true)]))]);
    let sent = Payload::new(args, kwargs);
    caller
        .send(&WampMessage::Call {
            request: 3,
            options: Dict::new(),
            procedure: "com.test.echo".into(),
            payload: sent.clone(),
        })
        .await;
    let WampMessage::Invocation { request, payload, .. } = callee.recv().await else { panic!("INVOCATION") };
    assert_eq!(payload, sent, "msgpack → json");
    callee.send(&WampMessage::Yield { request, options: Dict::new(), payload }).await;
    match caller.recv().await {
        WampMessage::Result { request: 3, payload, .. } => assert_eq!(payload, sent, "json → msgpack"),
        other => panic!("expected RESULT, got {other:?}"),
    }
}

#[tokio::test]
async fn events_reach_every_subscriber_across_serializers_in_order() {
    let router = TestRouter::start();
    let mut subscribers = Vec::new();
    for serializer in [Serializer::Json, Serializer::MsgPack, Serializer::Json, Serializer::MsgPack] {
        let (mut s, _) = RawClient::join(&router.url, serializer, "realm1").await;
        s.send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: "com.test.feed".into() })
            .await;
        assert!(matches!(s.recv().await, WampMessage::Subscribed { .. }));
        subscribers.push(s);
    }
    let (mut publisher, _) = RawClient::join(&router.url, Serializer::MsgPack, "realm1").await;
    for i in 0..500i64 {
        publisher
            .send(&WampMessage::Publish {
                request: (i + 1) as u64,
                options: Dict::new(),
                topic: "com.test.feed".into(),
                payload: Payload::args(vec![Value::from(i)]),
            })
            .await;
    }
    for s in &mut subscribers {
        for i in 0..500i64 {
            match s.recv().await {
                WampMessage::Event { payload, .. } => assert_eq!(payload.args_list(), [Value::from(i)]),
                other => panic!("expected EVENT {i}, got {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn what_a_session_sent_before_its_connection_dropped_is_routed_before_it_leaves() {
    // With one worker every connection shares one thread and its input
    // to the realm; with more, some do not.
    for workers in [1, 3] {
        let router = TestRouter::with_config(RouterConfig { workers, ..RouterConfig::default() });
        let (mut subscriber, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
        let topic = "com.test.last.words";
        subscriber
            .send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: topic.into() })
            .await;
        assert!(matches!(subscriber.recv().await, WampMessage::Subscribed { .. }));
        let (mut callee, _) = RawClient::join(&router.url, Serializer::MsgPack, "realm1").await;
        let procedure = "com.test.answer.and.go";
        callee
            .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: procedure.into() })
            .await;
        assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
        let (mut caller, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
        caller
            .send(&WampMessage::Call {
                request: 9,
                options: Dict::new(),
                procedure: procedure.into(),
                payload: Payload::default(),
            })
            .await;
        let WampMessage::Invocation { request, .. } = callee.recv().await else { panic!("INVOCATION") };
        let (mut publisher, _) = RawClient::join(&router.url, Serializer::MsgPack, "realm1").await;
        for i in 0..200i64 {
            let payload = Payload::args(vec![Value::from(i)]);
            let publish = WampMessage::Publish {
                request: (i + 1) as u64,
                options: Dict::new(),
                topic: topic.into(),
                payload,
            };
            publisher.send(&publish).await;
        }
        let answer = Payload::args(vec![Value::from(42)]);
        callee.send(&WampMessage::Yield { request, options: Dict::new(), payload: answer }).await;
        // Both go without a word.
        drop(publisher);
        drop(callee);
        for i in 0..200i64 {
            match subscriber.recv().await {
                WampMessage::Event { payload, .. } => {
                    assert_eq!(payload.args_list(), [Value::from(i)], "{workers}")
                }
                other => panic!("expected EVENT {i}, got {other:?} ({workers} workers)"),
            }
        }
        match caller.recv().await {
            WampMessage::Result { request: 9, payload, .. } => {
                assert_eq!(payload.args_list(), [Value::from(42)])
            }
            other => panic!("expected the RESULT, got {other:?} ({workers} workers)"),
        }
    }
}

#[tokio::test]
async fn fragmented_messages_are_reassembled_and_count_toward_the_limit() {
    let router =
        TestRouter::with_config(RouterConfig { max_message_size: 64 * 1024, ..RouterConfig::default() });
    for serializer in Serializer::ALL {
        let (mut c, _) = RawClient::join(&router.url, serializer, "realm1").await;
        let text = "z".repeat(40 * 1024);
        let options = Dict::from([("acknowledge".to_owned(), Value::Bool(true))]);
        let publish = WampMessage::Publish {
            request: 5,
            options,
            topic: "com.test.parts".into(),
            payload: Payload::args(vec![Value::from(text.as_str())]),
        };
        // 40 KiB in 4 KiB frames: reassembled into one message.
        c.send_fragmented(&serializer.encode(&publish).unwrap(), 4096).await;
        assert!(matches!(c.recv().await, WampMessage::Published { request: 5, .. }), "{serializer}");
        // 80 KiB in 4 KiB frames, no frame above the limit: still too big.
        let big = WampMessage::Publish {
            request: 6,
            options: Dict::new(),
            topic: "com.test.parts".into(),
            payload: Payload::args(vec![Value::from("w".repeat(80 * 1024))]),
        };
        c.send_fragmented(&serializer.encode(&big).unwrap(), 4096).await;
        match c.recv().await {
            WampMessage::Goodbye { reason, .. } => {
                assert_eq!(reason, wamp::protocol::errors::PROTOCOL_VIOLATION)
            }
            other => panic!("expected GOODBYE, got {other:?}"),
        }
        c.expect_closed().await;
    }
}

#[tokio::test]
async fn realms_are_created_on_demand_only_when_configured() {
    let router =
        TestRouter::with_config(RouterConfig { auto_create_realms: true, ..RouterConfig::default() });
    let (mut a, _) = RawClient::join(&router.url, Serializer::Json, "com.any.realm").await;
    let (mut b, _) = RawClient::join(&router.url, Serializer::MsgPack, "com.any.realm").await;
    a.send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: "com.p".into() }).await;
    assert!(matches!(a.recv().await, WampMessage::Registered { .. }));
    b.send(&WampMessage::Call {
        request: 1,
        options: Dict::new(),
        procedure: "com.p".into(),
        payload: Payload::default(),
    })
    .await;
    assert!(
        matches!(a.recv().await, WampMessage::Invocation { .. }),
        "both sessions share the created realm"
    );
    assert!(router.router().realm_names().contains(&"com.any.realm".to_owned()));
}
