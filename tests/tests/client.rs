//! Our client against our router, over WebSocket (both serializers) and
//! in-process: calls, errors, publish and subscribe, calls failing when
//! the connection drops, and reconnect restoring registrations and
//! subscriptions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use actix::Actor as _;
use wamp::client::{
    Arguments, CallOptions, Client, ConnectOptions, PublishOptions, ReconnectPolicy, RegisterOptions,
    SubscribeOptions,
};
use wamp::internals::{
    client_of, local_identity, realm as realm_of, start_client, Hooks, SessionActor, Start,
};
use wamp::protocol::{errors, Payload, Serializer, Value};
use wamp::{Error, ErrorKind, Router, RouterConfig};
use wamp_tests::TestRouter;

fn options(url: &str, serializer: Serializer) -> ConnectOptions {
    ConnectOptions { serializer, reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") }
}

async fn add2(args: Arguments, _details: wamp::client::CallDetails) -> Result<Arguments, Error> {
    let x: i64 = args.get(0)?;
    let y: i64 = args.get(1)?;
    Arguments::new().arg(x + y)
}

#[actix_web::test]
async fn calls_errors_and_events_over_websocket() {
    let router = TestRouter::start();
    for serializer in Serializer::ALL {
        let callee = Client::connect(options(&router.url, serializer)).await.unwrap();
        let caller = Client::connect(options(&router.url, serializer)).await.unwrap();
        let info = caller.joined().await.unwrap();
        assert_eq!(info.realm, "realm1");
        assert_eq!(info.authrole, "anonymous");

        callee.register("com.test.add2", RegisterOptions::default(), add2).await.unwrap();
        callee
            .register("com.test.fail", RegisterOptions::default(), |_args, _details| async {
                Err(Error::with_payload("com.test.oops", vec![Value::from("bad")], Default::default()))
            })
            .await
            .unwrap();
        let sum: i64 = caller.call("com.test.add2", (2, 3)).await.unwrap();
        assert_eq!(sum, 5);

        let err = caller.call::<i64>("com.test.fail", ()).await.unwrap_err();
        assert_eq!((err.uri.as_str(), err.message()), ("com.test.oops", Some("bad")));
        let err = caller.call::<i64>("com.test.nothing", ()).await.unwrap_err();
        assert_eq!(err.uri, errors::NO_SUCH_PROCEDURE);
        let err = caller.call::<String>("com.test.add2", (2, 3)).await.unwrap_err();
        assert_eq!(err.uri, errors::INVALID_ARGUMENT, "a result that does not fit the type");

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        callee
            .subscribe("com.test.topic", SubscribeOptions::default(), move |args, _details| {
                let _ = tx.send(args.get::<String>(0).unwrap_or_default());
                async {}
            })
            .await
            .unwrap();
        let ack = PublishOptions { acknowledge: true, ..PublishOptions::default() };
        let publication =
            caller.publish_with("com.test.topic", Payload::args(vec![Value::from("hi")]), ack).await.unwrap();
        assert!(publication.is_some());
        assert_eq!(rx.recv().await.unwrap(), "hi");
        callee.leave().await;
        caller.leave().await;
    }
}

/// Registers `com.test.never`, which never answers.
async fn register_silent(callee: &Client) {
    callee
        .register("com.test.never", RegisterOptions::default(), |_args, _details| async {
            std::future::pending::<()>().await;
            Ok(Arguments::new())
        })
        .await
        .unwrap();
}

#[actix_web::test]
async fn a_call_times_out_instead_of_waiting_forever() {
    let router = TestRouter::start();
    let callee = Client::connect(options(&router.url, Serializer::Json)).await.unwrap();
    let caller = Client::connect(options(&router.url, Serializer::Json)).await.unwrap();
    register_silent(&callee).await;
    let quick = CallOptions { timeout: Some(Duration::from_millis(200)), ..CallOptions::default() };
    let err = caller.call_with("com.test.never", Payload::default(), quick).await.unwrap_err();
    assert_eq!(err.uri, errors::TIMEOUT);
}

/// A call in flight to a callee that never answers, from a caller that
/// reaches the router at `caller_url`; `end` then ends the caller's
/// session somehow, and the call's error is returned.
async fn call_cut_short(router: &TestRouter, caller_url: &str, end: impl FnOnce()) -> Error {
    let callee = Client::connect(options(&router.url, Serializer::MsgPack)).await.unwrap();
    let caller = Client::connect(options(caller_url, Serializer::MsgPack)).await.unwrap();
    register_silent(&callee).await;
    let call = {
        let caller = caller.clone();
        actix_web::rt::spawn(async move { caller.call::<()>("com.test.never", ()).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    end();
    tokio::time::timeout(Duration::from_secs(5), call).await.expect("the call ends").unwrap().unwrap_err()
}

#[actix_web::test]
async fn calls_in_flight_fail_when_the_connection_is_lost() {
    let router = TestRouter::start();
    let relay = wamp_tests::Relay::start(&router).await;
    let err = call_cut_short(&router, &relay.url, || relay.cut()).await;
    assert_eq!((err.uri.as_str(), err.kind()), (errors::CANCELED, ErrorKind::Transport), "{err}");
}

#[actix_web::test]
async fn calls_in_flight_fail_when_the_router_shuts_down() {
    let router = TestRouter::start();
    let err = call_cut_short(&router, &router.url, || router.begin_shutdown(Duration::from_secs(1))).await;
    assert_eq!((err.uri.as_str(), err.kind()), (errors::CLOSE_SYSTEM_SHUTDOWN, ErrorKind::Aborted), "{err}");
}

#[actix_web::test]
async fn reconnect_restores_registrations_and_subscriptions() {
    let mut router = TestRouter::start();
    let fast = ReconnectPolicy { initial_delay_ms: 50, max_delay_ms: 200, ..ReconnectPolicy::default() };
    let callee_options =
        ConnectOptions { reconnect: fast.clone(), ..ConnectOptions::new(&router.url, "realm1") };
    let callee = Client::connect(callee_options).await.unwrap();
    let first = callee.joined().await.unwrap().id;
    callee.register("com.test.add2", RegisterOptions::default(), add2).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    callee
        .subscribe("com.test.topic", SubscribeOptions::default(), move |args, _| {
            let _ = tx.send(args.get::<i64>(0).unwrap_or_default());
            async {}
        })
        .await
        .unwrap();

    router.restart();

    // The callee comes back as a new session with everything restored.
    let caller = Client::connect(options(&router.url, Serializer::Json)).await.unwrap();
    let sum: i64 = wamp_tests::call_when_registered(&caller, "com.test.add2", (20, 22)).await;
    assert_eq!(sum, 42, "the registration came back");
    let second = callee.joined().await.unwrap().id;
    assert_ne!(first, second, "a new session");
    let ack = PublishOptions { acknowledge: true, ..PublishOptions::default() };
    caller.publish_with("com.test.topic", Payload::args(vec![Value::from(7)]), ack).await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap(), Some(7));
}

#[actix_web::test]
async fn leave_ends_the_session_even_while_it_reconnects() {
    // Connected: `leave` returns once the router has answered GOODBYE and
    // the session is over.
    let router = TestRouter::start();
    let client = Client::connect(ConnectOptions::new(&router.url, "realm1")).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), client.leave()).await.expect("left in time");
    assert!(client.has_ended(), "the session is over");

    // Reconnecting to a router that is gone: `leave` stops the retries.
    let slow =
        ReconnectPolicy { initial_delay_ms: 60_000, max_delay_ms: 60_000, ..ReconnectPolicy::default() };
    let options = ConnectOptions { reconnect: slow, ..ConnectOptions::new(&router.url, "realm1") };
    let client = Client::connect(options).await.unwrap();
    drop(router);
    let canceled = || async {
        client.call::<i64>("com.test.nothing", ()).await.is_err_and(|e| e.uri == errors::CANCELED)
    };
    wamp_tests::poll_until(canceled, |canceled| *canceled).await;
    tokio::time::timeout(Duration::from_secs(5), client.leave())
        .await
        .expect("left without waiting a minute");
    assert!(client.has_ended(), "the session is over");
}

#[actix_web::test]
async fn an_unknown_realm_fails_the_connect_clearly() {
    let router = TestRouter::start();
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&router.url, "com.nope") };
    let err = Client::connect(options).await.unwrap_err();
    assert_eq!(err.uri, errors::NO_SUCH_REALM, "{err}");
}

#[actix_web::test]
async fn an_unreachable_router_fails_once_retries_are_exhausted() {
    let policy =
        ReconnectPolicy { initial_delay_ms: 10, max_attempts: Some(2), ..ReconnectPolicy::default() };
    let options =
        ConnectOptions { reconnect: policy, ..ConnectOptions::new("ws://127.0.0.1:9/ws", "realm1") };
    let err =
        tokio::time::timeout(Duration::from_secs(10), Client::connect(options)).await.unwrap().unwrap_err();
    assert_eq!(err.uri, errors::CANCELED);
    assert!(err.to_string().contains("cannot reach the router"), "{err}");
}

#[actix_web::test]
async fn in_process_sessions_call_each_other_without_encoding() {
    let router = Router::new(RouterConfig::default());
    let realm = realm_of(&router, "realm1").unwrap();
    let identity = local_identity("local-test");
    let local = start_client(SessionActor::new(
        Start::Local { realm, realm_name: "realm1".into(), identity },
        Hooks::default(),
        None,
    ));
    let info = local.joined().await.unwrap();
    assert_eq!((info.authid.as_str(), info.authrole.as_str()), ("local-test", "trusted"));
    local.register("com.local.add2", RegisterOptions::default(), add2).await.unwrap();

    // A second in-process session calls it, with no encoding on the way.
    let realm = realm_of(&router, "realm1").unwrap();
    let other = start_client(SessionActor::new(
        Start::Local { realm, realm_name: "realm1".into(), identity: local_identity("b") },
        Hooks::default(),
        None,
    ));
    other.joined().await.unwrap();
    let sum: i64 = other.call("com.local.add2", (1, 2)).await.unwrap();
    assert_eq!(sum, 3);
    local.leave().await;
    let err = other.call::<i64>("com.local.add2", (1, 2)).await.unwrap_err();
    assert_eq!(err.uri, errors::NO_SUCH_PROCEDURE, "the registration left with its session");
}

#[actix_web::test]
async fn an_in_process_session_on_another_thread_than_its_realm_works_through_queues() {
    // Sessions of one thread exchange messages by direct calls; sessions
    // on another thread through synchronised queues, with the same
    // results.
    let router = Router::new(RouterConfig::default());
    let elsewhere = actix::Arbiter::new();
    let start_elsewhere = |name: &'static str| {
        let realm = realm_of(&router, "realm1").unwrap();
        client_of(SessionActor::start_in_arbiter(&elsewhere.handle(), move |_| {
            let identity = local_identity(name);
            SessionActor::new(
                Start::Local { realm, realm_name: "realm1".into(), identity },
                Hooks::default(),
                None,
            )
        }))
    };
    let callee = start_elsewhere("callee");
    callee.joined().await.unwrap();
    callee.register("com.local.add2", RegisterOptions::default(), add2).await.unwrap();

    let realm = realm_of(&router, "realm1").unwrap();
    let here = start_client(SessionActor::new(
        Start::Local { realm, realm_name: "realm1".into(), identity: local_identity("here") },
        Hooks::default(),
        None,
    ));
    here.joined().await.unwrap();
    here.register("com.local.sub", RegisterOptions::default(), |args: Arguments, _| async move {
        let (a, b): (i64, i64) = (args.get(0)?, args.get(1)?);
        Arguments::new().arg(a - b)
    })
    .await
    .unwrap();
    // Each calls the other, across the two threads.
    for i in 0..50_i64 {
        let sum: i64 = here.call("com.local.add2", (i, 1)).await.unwrap();
        assert_eq!(sum, i + 1);
        let difference: i64 = callee.call("com.local.sub", (i, 1)).await.unwrap();
        assert_eq!(difference, i - 1);
    }
    // A session's leaving and a later call from its own thread reach the
    // realm in order.
    let caller = start_elsewhere("caller");
    caller.joined().await.unwrap();
    callee.leave().await;
    let err = caller.call::<i64>("com.local.add2", (1, 2)).await.unwrap_err();
    assert_eq!(err.uri, errors::NO_SUCH_PROCEDURE, "the registration left with its session");
    elsewhere.stop();
}

/// A component that offers nothing: its session serves a test as a plain
/// client, in-process beside an embedded router or over WebSocket.
#[derive(Default)]
struct Bare;

#[wamp::component(inventory = false)]
impl Bare {}

wamp_tests::embedded_and_remote!(plain_values => plain_values_embedded, plain_values_remote);

async fn plain_values(mode: wamp_tests::Mode) {
    // Options never force a hand-built payload: a tuple, a struct or an
    // `Arguments` goes as it is, with `call_with`, `publish_with` and the
    // plain forms alike.
    #[derive(serde::Serialize)]
    struct Scale {
        x: i64,
        factor: i64,
    }
    let host = wamp_tests::TestHost::start(mode, |config| {
        wamp::Host::new(config).add_instance("callee", None, Bare).add_instance("caller", None, Bare)
    })
    .await;
    let (callee, caller) = (host.running.clients()[0].clone(), host.running.clients()[1].clone());
    let echo = |args: Arguments, _details: wamp::client::CallDetails| async move { Ok(args) };
    callee.register("com.test.echo", RegisterOptions::default(), echo).await.unwrap();

    let timed = CallOptions { timeout: Some(Duration::from_secs(5)), ..CallOptions::default() };
    let positional = caller.call_with("com.test.echo", (1, "two"), timed.clone()).await.unwrap();
    assert_eq!((positional.get::<i64>(0).unwrap(), positional.get::<String>(1).unwrap()), (1, "two".into()));
    let keywords = caller.call_with("com.test.echo", Scale { x: 3, factor: 2 }, timed.clone()).await.unwrap();
    assert_eq!((keywords.get_kw::<i64>("x").unwrap(), keywords.get_kw::<i64>("factor").unwrap()), (3, 2));
    assert!(keywords.args.is_empty());
    let both = Arguments::new().arg(7).unwrap().kwarg("unit", "cm").unwrap();
    let echoed = caller.call_with("com.test.echo", both.clone(), timed).await.unwrap();
    assert_eq!(echoed, both);
    let plain: i64 = caller.call("com.test.echo", Arguments::new().arg(9).unwrap()).await.unwrap();
    assert_eq!(plain, 9);

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let on_event = move |args: Arguments, _details| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(args);
        }
    };
    callee.subscribe("com.test.news", SubscribeOptions::default(), on_event).await.unwrap();
    let acknowledged = PublishOptions { acknowledge: true, ..PublishOptions::default() };
    let id = caller.publish_with("com.test.news", ("hello",), acknowledged.clone()).await.unwrap();
    assert!(id.is_some(), "acknowledged with a publication id");
    caller.publish_with("com.test.news", both.clone(), acknowledged).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!(first.get::<String>(0).unwrap(), "hello");
    let second = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    assert_eq!(second, both);

    // `CallOptions::disclose_me`: the callee learns the caller only when
    // it asks.
    let who = |_: Arguments, details: wamp::client::CallDetails| async move {
        Ok(Arguments::new().arg(details.caller).unwrap())
    };
    callee.register("com.test.who", RegisterOptions::default(), who).await.unwrap();
    let me = caller.joined().await.unwrap().id;
    let hidden: Option<u64> = caller.call("com.test.who", ()).await.unwrap();
    assert_eq!(hidden, None, "not disclosed unless asked");
    let disclosed = CallOptions { disclose_me: true, ..CallOptions::default() };
    let shown = caller.call_with("com.test.who", (), disclosed).await.unwrap();
    assert_eq!(shown.get::<Option<u64>>(0).unwrap(), Some(me), "disclosed when asked");

    // `PublishOptions::exclude_me`: a publisher subscribed to its own
    // topic hears its event only with `exclude_me: Some(false)`. Events of
    // one publisher arrive in order, so the first one heard tells.
    let (tx, mut own) = tokio::sync::mpsc::unbounded_channel();
    let on_own = move |args: Arguments, _details| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(args);
        }
    };
    caller.subscribe("com.test.own", SubscribeOptions::default(), on_own).await.unwrap();
    let acknowledged = PublishOptions { acknowledge: true, ..PublishOptions::default() };
    caller.publish_with("com.test.own", ("excluded",), acknowledged.clone()).await.unwrap();
    let included = PublishOptions { exclude_me: Some(false), ..acknowledged };
    caller.publish_with("com.test.own", ("included",), included).await.unwrap();
    let heard = tokio::time::timeout(Duration::from_secs(5), own.recv()).await.unwrap().unwrap();
    assert_eq!(heard.get::<String>(0).unwrap(), "included", "the default excludes the publisher");
    host.shutdown().await;
}
