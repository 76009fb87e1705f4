//! The router's limits over real sockets: each is hit the way a careless or
//! hostile peer would, answered with an error that names the limit, and
//! leaves the router and every other session working.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::{Duration, Instant};

use wamp::protocol::errors::{
    CALLEE_OVERLOADED, INVALID_URI, NO_AUTH_METHOD, NO_SUCH_REALM, TIMEOUT, TOO_MANY_CALLS,
    TOO_MANY_REGISTRATIONS, TOO_MANY_SUBSCRIPTIONS,
};
use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};
use wamp::RouterConfig;
use wamp_tests::{hello, open_socket, RawClient, TestRouter};

const JSON: Serializer = Serializer::Json;

/// The URI and explanation of the ERROR answering a request.
async fn expect_error(client: &mut RawClient) -> (String, String) {
    match client.recv().await {
        WampMessage::Error { error, payload, .. } => {
            (error, payload.args_list().first().and_then(Value::as_str).unwrap_or_default().to_owned())
        }
        other => panic!("expected ERROR, got {other:?}"),
    }
}

/// The reason and explanation of the ABORT that ends a connection.
async fn expect_abort(client: &mut RawClient) -> (String, String) {
    let ended = match client.recv().await {
        WampMessage::Abort { reason, details } => {
            (reason, details.get("message").and_then(Value::as_str).unwrap_or_default().to_owned())
        }
        other => panic!("expected ABORT, got {other:?}"),
    };
    client.expect_closed().await;
    ended
}

fn subscribe(request: u64, topic: &str) -> WampMessage {
    WampMessage::Subscribe { request, options: Dict::new(), topic: topic.into() }
}

fn register(request: u64, procedure: &str) -> WampMessage {
    WampMessage::Register { request, options: Dict::new(), procedure: procedure.into() }
}

fn call(request: u64, procedure: &str) -> WampMessage {
    WampMessage::Call {
        request,
        options: Dict::new(),
        procedure: procedure.to_owned().into(),
        payload: Payload::default(),
    }
}

/// A fresh caller and callee complete a call on `realm`.
async fn router_still_works(url: &str, realm: &str) {
    let (mut callee, _) = RawClient::join(url, JSON, realm).await;
    let (mut caller, _) = RawClient::join(url, JSON, realm).await;
    callee.send(&register(1, "com.test.healthy")).await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    caller.send(&call(1, "com.test.healthy")).await;
    let WampMessage::Invocation { request, .. } = callee.recv().await else { panic!("INVOCATION") };
    callee.send(&WampMessage::Yield { request, options: Dict::new(), payload: Payload::default() }).await;
    assert!(matches!(caller.recv().await, WampMessage::Result { request: 1, .. }));
}

#[tokio::test]
async fn a_connection_that_sends_no_hello_is_aborted_after_the_hello_timeout() {
    let router = TestRouter::with_config(RouterConfig { hello_timeout_secs: 1, ..Default::default() });
    let mut silent = RawClient::connect(&router.url, JSON).await;
    let started = Instant::now();
    let (reason, text) = expect_abort(&mut silent).await;
    assert_eq!(reason, TIMEOUT);
    assert!(text.contains("hello_timeout_secs"), "{text}");
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the timeout");
    // A session that joins in time is not affected, and keeps its session
    // past the timeout.
    let (mut joined, _) = RawClient::join(&router.url, JSON, "realm1").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    joined.send(&subscribe(1, "com.test.topic")).await;
    assert!(matches!(joined.recv().await, WampMessage::Subscribed { .. }));
}

#[tokio::test]
async fn uris_longer_than_the_limit_are_refused() {
    let router = TestRouter::with_config(RouterConfig { max_uri_length: 64, ..Default::default() });
    let long = format!("com.test.{}", "x".repeat(100));
    let (mut client, _) = RawClient::join(&router.url, JSON, "realm1").await;
    for request in [subscribe(1, &long), register(2, &long), call(3, &long)] {
        client.send(&request).await;
        let (uri, text) = expect_error(&mut client).await;
        assert_eq!(uri, INVALID_URI);
        assert!(text.contains("max_uri_length") && !text.contains(&long), "{text}");
    }
    let mut newcomer = RawClient::connect(&router.url, JSON).await;
    newcomer.send(&hello(&long)).await;
    let (reason, text) = expect_abort(&mut newcomer).await;
    assert_eq!(reason, INVALID_URI);
    assert!(text.contains("max_uri_length"), "{text}");
    router_still_works(&router.url, "realm1").await;
}

#[tokio::test]
async fn subscriptions_and_registrations_per_session_are_limited() {
    let config = RouterConfig {
        max_subscriptions_per_session: 3,
        max_registrations_per_session: 2,
        ..Default::default()
    };
    let router = TestRouter::with_config(config);
    let (mut client, _) = RawClient::join(&router.url, JSON, "realm1").await;
    for i in 0..3 {
        client.send(&subscribe(i + 1, &format!("com.test.t{i}"))).await;
        assert!(matches!(client.recv().await, WampMessage::Subscribed { .. }));
    }
    client.send(&subscribe(10, "com.test.one_more")).await;
    let (uri, text) = expect_error(&mut client).await;
    assert_eq!(uri, TOO_MANY_SUBSCRIPTIONS);
    assert!(text.contains("max_subscriptions_per_session"), "{text}");
    for i in 0..2 {
        client.send(&register(20 + i, &format!("com.test.p{i}"))).await;
        assert!(matches!(client.recv().await, WampMessage::Registered { .. }));
    }
    client.send(&register(30, "com.test.one_more")).await;
    let (uri, text) = expect_error(&mut client).await;
    assert_eq!(uri, TOO_MANY_REGISTRATIONS);
    assert!(text.contains("max_registrations_per_session"), "{text}");
    // The session itself goes on, and so do others.
    client.send(&call(40, "com.test.p0")).await;
    assert!(matches!(client.recv().await, WampMessage::Invocation { .. }));
    router_still_works(&router.url, "realm1").await;
}

#[tokio::test]
async fn calls_in_flight_are_limited_per_caller_and_per_callee() {
    let config =
        RouterConfig { max_calls_per_session: 2, max_invocations_per_session: 3, ..Default::default() };
    let router = TestRouter::with_config(config);
    let (mut callee, _) = RawClient::join(&router.url, JSON, "realm1").await;
    callee.send(&register(1, "com.test.slow")).await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    let (mut greedy, _) = RawClient::join(&router.url, JSON, "realm1").await;
    greedy.send(&call(1, "com.test.slow")).await;
    greedy.send(&call(2, "com.test.slow")).await;
    greedy.send(&call(3, "com.test.slow")).await;
    let (uri, text) = expect_error(&mut greedy).await;
    assert_eq!(uri, TOO_MANY_CALLS);
    assert!(text.contains("max_calls_per_session"), "{text}");
    let (mut other, _) = RawClient::join(&router.url, JSON, "realm1").await;
    other.send(&call(1, "com.test.slow")).await;
    other.send(&call(2, "com.test.slow")).await;
    let (uri, text) = expect_error(&mut other).await;
    assert_eq!(uri, CALLEE_OVERLOADED);
    assert!(text.contains("max_invocations_per_session"), "{text}");
    // Answering makes room again, in the order the calls came.
    let mut invocations = Vec::new();
    for _ in 0..3 {
        let WampMessage::Invocation { request, .. } = callee.recv().await else { panic!("INVOCATION") };
        invocations.push(request);
    }
    callee
        .send(&WampMessage::Yield {
            request: invocations[0],
            options: Dict::new(),
            payload: Payload::default(),
        })
        .await;
    assert!(matches!(greedy.recv().await, WampMessage::Result { request: 1, .. }));
    greedy.send(&call(4, "com.test.slow")).await;
    assert!(matches!(callee.recv().await, WampMessage::Invocation { .. }));
}

#[tokio::test]
async fn a_call_the_callee_never_answers_fails_after_the_call_timeout() {
    let router = TestRouter::with_config(RouterConfig { call_timeout_ms: 300, ..Default::default() });
    let (mut callee, _) = RawClient::join(&router.url, JSON, "realm1").await;
    callee.send(&register(1, "com.test.silent")).await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    let (mut caller, _) = RawClient::join(&router.url, JSON, "realm1").await;
    let started = Instant::now();
    caller.send(&call(7, "com.test.silent")).await;
    let WampMessage::Invocation { request, .. } = callee.recv().await else { panic!("INVOCATION") };
    match caller.recv().await {
        WampMessage::Error { request: 7, error, payload, .. } => {
            assert_eq!(error, TIMEOUT);
            assert!(payload.args_list()[0].as_str().unwrap_or_default().contains("call_timeout"));
        }
        other => panic!("expected ERROR timeout, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(300), "not early: {:?}", started.elapsed());
    // The late answer goes nowhere; the next call works.
    callee.send(&WampMessage::Yield { request, options: Dict::new(), payload: Payload::default() }).await;
    caller.send(&call(8, "com.test.silent")).await;
    let WampMessage::Invocation { request, .. } = callee.recv().await else { panic!("INVOCATION") };
    callee.send(&WampMessage::Yield { request, options: Dict::new(), payload: Payload::default() }).await;
    assert!(matches!(caller.recv().await, WampMessage::Result { request: 8, .. }));
}

#[tokio::test]
async fn calls_with_ever_shorter_timeouts_each_fail_at_their_own_deadline() {
    // The realm keeps one timer for all its call deadlines, moved earlier
    // when a call brings an earlier one: each call must still fail on
    // time, the shortest first.
    let router = TestRouter::with_config(RouterConfig { call_timeout_ms: 60_000, ..Default::default() });
    let (mut callee, _) = RawClient::join(&router.url, JSON, "realm1").await;
    callee.send(&register(1, "com.test.silent")).await;
    assert!(matches!(callee.recv().await, WampMessage::Registered { .. }));
    let (mut caller, _) = RawClient::join(&router.url, JSON, "realm1").await;
    let started = Instant::now();
    // (request, timeout in ms): 1,600 ms, 1,400 ms, ... 200 ms.
    let calls: Vec<(u64, u64)> = (1..=8).map(|request| (request, (9 - request) * 200)).collect();
    for &(request, timeout) in &calls {
        let mut message = call(request, "com.test.silent");
        if let WampMessage::Call { options, .. } = &mut message {
            options.insert("timeout".into(), Value::from(timeout));
        }
        caller.send(&message).await;
        assert!(matches!(callee.recv().await, WampMessage::Invocation { .. }));
    }
    for &(request, timeout) in calls.iter().rev() {
        match caller.recv().await {
            WampMessage::Error { request: failed, error, .. } => {
                assert_eq!((failed, error.as_str()), (request, TIMEOUT), "the shortest timeout fails first");
            }
            other => panic!("expected ERROR timeout, got {other:?}"),
        }
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(timeout), "call {request} failed early: {elapsed:?}");
        assert!(elapsed < Duration::from_millis(timeout + 800), "call {request} failed late: {elapsed:?}");
    }
}

#[tokio::test]
async fn realms_created_on_demand_are_capped_and_removed_when_idle() {
    let config = RouterConfig {
        auto_create_realms: true,
        max_realms: 2,
        realm_idle_timeout_secs: 1,
        ..Default::default()
    };
    let router = TestRouter::with_config(config);
    let (a, _) = RawClient::join(&router.url, JSON, "com.demand.a").await;
    let (b, _) = RawClient::join(&router.url, JSON, "com.demand.b").await;
    let mut c = RawClient::connect(&router.url, JSON).await;
    c.send(&hello("com.demand.c")).await;
    let (reason, text) = expect_abort(&mut c).await;
    assert_eq!(reason, NO_SUCH_REALM);
    assert!(text.contains("max_realms"), "{text}");
    // The configured realm is not counted.
    router_still_works(&router.url, "realm1").await;
    // Authentication comes before a realm is created.
    let mut stranger = RawClient::connect(&router.url, JSON).await;
    let mut hello = hello("com.demand.d");
    if let WampMessage::Hello { details, .. } = &mut hello {
        details.insert("authmethods".into(), Value::List(vec![Value::from("ticket")]));
    }
    stranger.send(&hello).await;
    assert_eq!(expect_abort(&mut stranger).await.0, NO_AUTH_METHOD);
    assert!(!router.router().realm_names().contains(&"com.demand.d".to_owned()));

    drop((a, b));
    let deadline = Instant::now() + Duration::from_secs(10);
    while router.router().realm_names().iter().any(|n| n.starts_with("com.demand")) {
        assert!(Instant::now() < deadline, "idle realms still run: {:?}", router.router().realm_names());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_c, _) = RawClient::join(&router.url, JSON, "com.demand.c").await;
    router_still_works(&router.url, "com.demand.a").await;
}

#[tokio::test]
async fn connections_are_limited_per_router_and_per_address() {
    let config = RouterConfig { max_connections: 3, max_connections_per_address: 2, ..Default::default() };
    let router = TestRouter::with_config(config);
    let first = RawClient::connect(&router.url, JSON).await;
    let _second = RawClient::connect(&router.url, JSON).await;
    let refused = open_socket(&router.url, "wamp.2.json").await.expect_err("over the per-address limit");
    let text = refused.to_string();
    assert!(text.contains("503"), "{text}");
    drop(first);
    // Once one closes, another is admitted.
    let deadline = Instant::now() + Duration::from_secs(10);
    while router.router().connection_count() > 1 {
        assert!(Instant::now() < deadline, "the closed connection is still counted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_again, _) = RawClient::join(&router.url, JSON, "realm1").await;

    let config = RouterConfig { max_connections: 2, ..Default::default() };
    let router = TestRouter::with_config(config);
    let _one = RawClient::connect(&router.url, JSON).await;
    let _two = RawClient::connect(&router.url, JSON).await;
    let refused = open_socket(&router.url, "wamp.2.json").await.expect_err("over the router's limit");
    assert!(refused.to_string().contains("503"), "{refused}");
}
