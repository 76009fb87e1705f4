//! One component type, unmodified, runs embedded beside our router, as a
//! remote client of our router, and as a remote client of Crossbar.io:
//! procedures with args and kwargs, subscriptions, error propagation, and
//! (remote) reconnect after the router restarts. Several components in one
//! process call each other and exchange events.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::cell::RefCell;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wamp::client::{CallOptions, Client, ConnectOptions, PublishOptions, ReconnectPolicy};
use wamp::component::{HostConfig, RunningHost};
use wamp::prelude::*;
use wamp::protocol::{errors, Dict, Payload, Serializer, Value};
use wamp_tests::crossbar::CrossbarRouter;
use wamp_tests::TestRouter;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

/// The component under test.
#[derive(Default)]
struct Geometry {
    greetings: RefCell<Vec<String>>,
    moves: u64,
}

#[wamp::component(prefix = "com.test.geo")]
impl Geometry {
    #[wamp::procedure("add2")]
    fn add2(&self, x: i64, y: i64) -> i64 {
        x + y
    }

    /// Keyword arguments and an optional parameter.
    #[wamp::procedure("scale")]
    fn scale(&self, point: Point, factor: Option<f64>) -> Point {
        let f = factor.unwrap_or(1.0);
        Point { x: point.x * f, y: point.y * f }
    }

    #[wamp::procedure("move")]
    async fn move_by(&mut self, dx: f64) -> Result<f64, Error> {
        if dx < 0.0 {
            return Err(Error::with_payload(
                "com.test.geo.error.backwards",
                vec![Value::from("dx must not be negative"), Value::from(dx)],
                Dict::from([("dx".to_owned(), Value::from(dx))]),
            ));
        }
        self.moves += 1;
        Ok(dx)
    }

    #[wamp::procedure("greetings")]
    fn greetings(&self) -> Vec<String> {
        self.greetings.borrow().clone()
    }

    #[wamp::subscribe("greet")]
    fn on_greet(&self, name: String) {
        self.greetings.borrow_mut().push(name);
    }
}

fn config() -> HostConfig {
    let mut config = wamp_tests::embedded();
    config.reconnect =
        ReconnectPolicy { initial_delay_ms: 50, max_delay_ms: 500, ..ReconnectPolicy::default() };
    config
}

/// A remote peer exercises the component at `url`.
async fn exercise(url: &str, realm: &str, serializer: Serializer) {
    let options =
        ConnectOptions { serializer, reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, realm) };
    let peer = Client::connect(options).await.unwrap();
    // The component may still be registering: wait for its procedures.
    let sum: i64 = wamp_tests::call_when_registered(&peer, "com.test.geo.add2", (2, 3)).await;
    assert_eq!(sum, 5);

    let kwargs = Dict::from([
        ("point".to_owned(), wamp::protocol::to_value(&Point { x: 1.0, y: 2.0 }).unwrap()),
        ("factor".to_owned(), Value::from(3.0)),
    ]);
    let scaled =
        peer.call_with("com.test.geo.scale", Payload::new(vec![], kwargs), CallOptions::default()).await;
    assert_eq!(scaled.unwrap().get::<Point>(0).unwrap(), Point { x: 3.0, y: 6.0 });
    let scaled: Point = peer.call("com.test.geo.scale", (Point { x: 1.0, y: 1.0 },)).await.unwrap();
    assert_eq!(scaled, Point { x: 1.0, y: 1.0 }, "the optional factor may be absent");

    let err = peer.call::<f64>("com.test.geo.move", (-1.5,)).await.unwrap_err();
    assert_eq!(err.uri, "com.test.geo.error.backwards");
    assert_eq!(err.args, vec![Value::from("dx must not be negative"), Value::from(-1.5)]);
    assert_eq!(err.kwargs.get("dx"), Some(&Value::from(-1.5)));
    let err = peer.call::<i64>("com.test.geo.add2", ("two", 3)).await.unwrap_err();
    assert_eq!(err.uri, errors::INVALID_ARGUMENT);
    assert!(err.to_string().contains("argument 'x'"), "{err}");

    let ack = PublishOptions { acknowledge: true, ..PublishOptions::default() };
    peer.publish_with("com.test.geo.greet", Payload::args(vec![Value::from("Ada")]), ack).await.unwrap();
    let seen = wamp_tests::poll_until(
        || async { peer.call::<Vec<String>>("com.test.geo.greetings", ()).await.unwrap() },
        |seen| seen.contains(&"Ada".to_owned()),
    )
    .await;
    assert!(seen.contains(&"Ada".to_owned()), "the event arrived: {seen:?}");
    peer.leave().await;
}

#[actix_web::test]
async fn embedded_beside_our_router() {
    let running = wamp::Host::new(config()).add_component(Geometry::default()).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    for serializer in Serializer::ALL {
        exercise(&url, "realm1", serializer).await;
    }
    running.shutdown().await;
}

async fn start_remote(url: &str, realm: &str) -> RunningHost {
    let mut config = config();
    config.url = Some(url.to_owned());
    config.realm = realm.to_owned();
    let running = wamp::Host::new(config).add_component(Geometry::default()).start().unwrap();
    running.joined().await.unwrap();
    running
}

#[actix_web::test]
async fn remote_against_our_router_with_reconnect() {
    let mut router = TestRouter::start();
    let running = start_remote(&router.url, "realm1").await;
    exercise(&router.url, "realm1", Serializer::Json).await;
    router.restart();
    exercise(&router.url, "realm1", Serializer::MsgPack).await;
    running.shutdown().await;
}

#[test]
fn remote_against_crossbar_with_reconnect() {
    let mut crossbar = CrossbarRouter::start();
    let (url, realm) = (crossbar.url.clone(), crossbar.realm.clone());
    let system = actix_web::rt::System::new();
    let running = system.block_on(async {
        let running = start_remote(&url, &realm).await;
        exercise(&url, &realm, Serializer::Json).await;
        running
    });
    std::thread::scope(|s| s.spawn(|| crossbar.restart()).join().unwrap());
    system.block_on(async {
        exercise(&url, &realm, Serializer::MsgPack).await;
        running.shutdown().await;
    });
}

/// Two more components in one process: the ledger records amounts, the
/// teller calls it and announces each deposit with an event.
#[derive(Default)]
struct Ledger {
    total: RefCell<i64>,
    announcements: RefCell<Vec<i64>>,
}

#[wamp::component(prefix = "com.test.bank")]
impl Ledger {
    #[wamp::procedure("record")]
    fn record(&self, amount: i64) -> i64 {
        *self.total.borrow_mut() += amount;
        *self.total.borrow()
    }

    #[wamp::subscribe("deposited")]
    fn on_deposit(&self, amount: i64) {
        self.announcements.borrow_mut().push(amount);
    }

    #[wamp::procedure("announcements")]
    fn announcements(&self) -> Vec<i64> {
        self.announcements.borrow().clone()
    }
}

#[derive(Default)]
struct Teller;

#[wamp::component(prefix = "com.test.bank")]
impl Teller {
    #[wamp::procedure("deposit")]
    async fn deposit(&self, amount: i64, ctx: &Session) -> Result<i64, Error> {
        let total: i64 = ctx.call("com.test.bank.record", (amount,)).await?;
        ctx.publish("com.test.bank.deposited", (amount,)).await?;
        Ok(total)
    }
}

#[actix_web::test]
async fn several_components_in_one_process_call_each_other_and_exchange_events() {
    let running = wamp::Host::new(config())
        .add_component(Ledger::default())
        .add_component(Teller)
        .add_component(Geometry::default())
        .start()
        .unwrap();
    running.joined().await.unwrap();
    let teller = &running.clients()[1];
    let mut total = 0;
    for amount in [10, 20, 12] {
        total = teller.call::<i64>("com.test.bank.deposit", (amount,)).await.unwrap();
    }
    assert_eq!(total, 42);
    let heard = wamp_tests::poll_until(
        || async { teller.call::<Vec<i64>>("com.test.bank.announcements", ()).await.unwrap() },
        |heard| heard.len() == 3,
    )
    .await;
    assert_eq!(heard, vec![10, 20, 12]);
    // And across component types: the geometry component is there too.
    assert_eq!(teller.call::<i64>("com.test.geo.add2", (40, 2)).await.unwrap(), 42);
    running.shutdown().await;
}

#[actix_web::test]
async fn autobahn_python_calls_and_publishes_to_an_embedded_component() {
    let running = wamp::Host::new(config()).add_component(Geometry::default()).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    wamp_tests::python_checks("component_peer.py", &url, &[], 5).await;
    running.shutdown().await;
}

/// A component whose hooks record what happened, and whose `on_join`
/// registers and subscribes dynamically.
struct Watcher {
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[wamp::component(prefix = "com.test.watch", inventory = false)]
impl Watcher {
    async fn on_join(&self, ctx: &Session) -> Result<(), Error> {
        self.log.lock().unwrap().push("join".into());
        let log = self.log.clone();
        ctx.register("com.test.watch.dynamic", Default::default(), |args, _| async move {
            wamp::client::Arguments::new().arg(args.get::<i64>(0)? * 10)
        })
        .await?;
        ctx.subscribe("com.test.watch.topic", Default::default(), move |args, _| {
            log.lock().unwrap().push(format!("event {}", args.get::<String>(0).unwrap_or_default()));
            async {}
        })
        .await?;
        ctx.publish("com.test.watch.joined", ()).await
    }

    fn on_disconnect(&self) {
        self.log.lock().unwrap().push("disconnect".into());
    }

    fn on_leave(&self) {
        self.log.lock().unwrap().push("leave".into());
    }
}

#[actix_web::test]
async fn hooks_run_on_join_disconnect_and_leave_and_dynamic_endpoints_survive_a_reconnect() {
    let mut router = TestRouter::start();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut config = config();
    config.url = Some(router.url.clone());
    let running = wamp::Host::new(config).add_component(Watcher { log: log.clone() }).start().unwrap();
    running.joined().await.unwrap();
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&router.url, "realm1") };
    let peer = Client::connect(options).await.unwrap();
    assert_eq!(wamp_tests::call_when_registered::<i64>(&peer, "com.test.watch.dynamic", (4,)).await, 40);

    router.restart();
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&router.url, "realm1") };
    let peer = Client::connect(options).await.unwrap();
    assert_eq!(wamp_tests::call_when_registered::<i64>(&peer, "com.test.watch.dynamic", (5,)).await, 50);
    let ack = PublishOptions { acknowledge: true, ..PublishOptions::default() };
    peer.publish_with("com.test.watch.topic", Payload::args(vec![Value::from("after")]), ack).await.unwrap();
    let after_reconnect = || std::future::ready(log.lock().unwrap().iter().any(|l| l == "event after"));
    wamp_tests::poll_until(after_reconnect, |seen| *seen).await;
    running.shutdown().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = log.lock().unwrap().clone();
    assert_eq!(log.iter().filter(|l| *l == "join").count(), 2, "{log:?}");
    assert!(log.contains(&"disconnect".to_owned()), "{log:?}");
    assert!(
        log.contains(&"event after".to_owned()),
        "the subscription made in on_join works after the reconnect: {log:?}"
    );
    assert_eq!(log.last().map(String::as_str), Some("leave"), "{log:?}");
}

/// Calls back into itself, from methods that hold its state one way or
/// the other.
#[derive(Default)]
struct Recursive {
    count: u64,
    join_error: Option<String>,
}

#[wamp::component(prefix = "com.test.self")]
impl Recursive {
    #[wamp::procedure("bump")]
    fn bump(&mut self) -> u64 {
        self.count += 1;
        self.count
    }

    #[wamp::procedure("peek")]
    fn peek(&self) -> u64 {
        self.count
    }

    /// Holds the state exclusively while it calls `target`.
    #[wamp::procedure("exclusive_calls")]
    async fn exclusive_calls(&mut self, target: String, ctx: &Session) -> Result<u64, Error> {
        ctx.call(target, ()).await
    }

    /// Shares the state while it calls `target`.
    #[wamp::procedure("shared_calls")]
    async fn shared_calls(&self, target: String, ctx: &Session) -> Result<u64, Error> {
        ctx.call(target, ()).await
    }

    /// What the join hook's call into its own component gave.
    #[wamp::procedure("join_error")]
    fn join_error(&self) -> Option<String> {
        self.join_error.clone()
    }

    /// The shape of the design sketch: a `&mut self` hook calling its own
    /// `&mut self` procedure.
    async fn on_join(&mut self, ctx: &Session) -> Result<(), Error> {
        if let Err(e) = ctx.call::<u64>("com.test.self.bump", ()).await {
            self.join_error = Some(e.to_string());
        }
        Ok(())
    }
}

/// The calls a component makes into itself: fine when both sides share the
/// state, refused at once (not after the call timeout) when either side
/// needs it alone.
async fn self_calls(caller: &Client) {
    let call = |procedure: &'static str, target: &'static str| {
        let caller = caller.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(5), caller.call::<u64>(procedure, (target,)))
                .await
                .expect("answered at once, not after the call timeout")
        }
    };
    let join_error: Option<String> = caller.call("com.test.self.join_error", ()).await.unwrap();
    assert!(join_error.is_some_and(|e| e.contains("could never be answered")));
    assert_eq!(caller.call::<u64>("com.test.self.bump", ()).await.unwrap(), 1);
    assert_eq!(call("com.test.self.shared_calls", "com.test.self.peek").await.unwrap(), 1);
    for (procedure, target, needs, holds) in [
        ("com.test.self.exclusive_calls", "com.test.self.peek", "&self", "&mut self"),
        ("com.test.self.exclusive_calls", "com.test.self.bump", "&mut self", "&mut self"),
        ("com.test.self.shared_calls", "com.test.self.bump", "&mut self", "&self"),
    ] {
        let err = call(procedure, target).await.unwrap_err();
        assert_eq!(err.uri, errors::CANCELED, "{procedure} → {target}: {err}");
        let text = err.to_string();
        assert!(text.contains("could never be answered"), "{text}");
        assert!(
            text.contains(&format!("`{needs}` method")) && text.contains(&format!("`{holds}` method")),
            "{text}"
        );
    }
    // Nothing was left locked: the component still answers.
    assert_eq!(caller.call::<u64>("com.test.self.bump", ()).await.unwrap(), 2);
}

#[actix_web::test]
async fn a_component_calling_itself_in_a_way_that_could_never_be_answered_fails_at_once() {
    // Embedded.
    let running = wamp::Host::new(config()).add_component(Recursive::default()).start().unwrap();
    running.joined().await.unwrap();
    let caller = wamp_tests::in_process(running.router().unwrap(), "realm1", "caller");
    caller.joined().await.unwrap();
    self_calls(&caller).await;
    caller.leave().await;
    running.shutdown().await;

    // Remote, over WebSocket: the check is the component's own.
    let router = TestRouter::start();
    let mut remote = config();
    remote.url = Some(router.url.clone());
    let running = wamp::Host::new(remote).add_component(Recursive::default()).start().unwrap();
    running.joined().await.unwrap();
    let caller = Client::connect(ConnectOptions::new(router.url.clone(), "realm1")).await.unwrap();
    self_calls(&caller).await;
    caller.leave().await;
    running.shutdown().await;
}

#[actix_web::test]
async fn joined_means_registered_and_a_registration_that_fails_is_reported() {
    // Once `joined` returns, the procedures are there: no retry needed.
    let running = wamp::Host::new(config()).add_component(Geometry::default()).start().unwrap();
    running.joined().await.unwrap();
    let sum: i64 = running.clients()[0].call("com.test.geo.add2", (40, 2)).await.unwrap();
    assert_eq!(sum, 42);
    running.shutdown().await;

    // Two components offering the same procedure: the second cannot be
    // set up, and `joined` says which and why.
    let running = wamp::Host::new(config())
        .add_component(Geometry::default())
        .add_component(Geometry::default())
        .start()
        .unwrap();
    let err = running.joined().await.unwrap_err();
    assert_eq!(err.uri, errors::PROCEDURE_ALREADY_EXISTS, "{err}");
    let text = err.to_string();
    assert!(text.contains("component Geometry cannot register 'com.test.geo."), "{text}");
    running.shutdown().await;
}

#[actix_web::test]
async fn a_component_handle_reaches_the_state_from_any_thread_in_either_mode() {
    let router = TestRouter::start();
    for remote in [false, true] {
        let mut config = config();
        if remote {
            config.url = Some(router.url.clone());
        }
        let running = wamp::Host::new(config).add_component(Recursive::default()).start().unwrap();
        running.joined().await.unwrap();
        assert!(running.component::<Geometry>().is_none(), "no Geometry runs here");
        let handle = running.component::<Recursive>().unwrap();
        handle.write(|r| r.count = 41).await.unwrap();
        // The procedures see what the handle wrote, and the other way round.
        let bumped: u64 = handle.client().call("com.test.self.bump", ()).await.unwrap();
        assert_eq!(bumped, 42, "remote: {remote}");
        // The handle is Send: read from a thread of its own (while this
        // one keeps running the component).
        let elsewhere = handle.clone();
        let count = tokio::task::spawn_blocking(move || {
            actix::System::new().block_on(async move { elsewhere.read(|r| r.count).await })
        })
        .await
        .unwrap()
        .unwrap();
        assert_eq!(count, 42);
        // A closure that panics is contained like a handler.
        let err = handle.write(|_| -> u64 { panic!("in the closure") }).await.unwrap_err();
        assert_eq!(err.uri, errors::RUNTIME_ERROR, "{err}");
        assert_eq!(handle.read(|r| r.count).await.unwrap(), 42);
        // Once shut down, the component is gone.
        running.shutdown().await;
        let err = handle.read(|r| r.count).await.unwrap_err();
        assert_eq!(err.uri, errors::CANCELED, "after shutdown: {err}");
    }
}

/// Panics in its handlers.
#[derive(Default)]
struct Fragile {
    events: u64,
}

#[wamp::component(prefix = "com.test.fragile")]
impl Fragile {
    #[wamp::procedure("boom")]
    fn boom(&self) -> i64 {
        panic!("boom at once")
    }

    #[wamp::procedure("boom_later")]
    async fn boom_later(&mut self) -> i64 {
        tokio::task::yield_now().await;
        panic!("boom after waiting")
    }

    #[wamp::subscribe("events")]
    fn on_event(&mut self, n: u64) {
        self.events += 1;
        assert!(n != 13, "unlucky event");
    }

    #[wamp::procedure("events")]
    fn events(&self) -> u64 {
        self.events
    }
}

#[actix_web::test]
async fn a_panicking_handler_fails_its_call_and_everything_else_keeps_working() {
    let router = TestRouter::start();
    for remote in [false, true] {
        let mut config = config();
        if remote {
            config.url = Some(router.url.clone());
        }
        let running = wamp::Host::new(config).add_component(Fragile::default()).start().unwrap();
        running.joined().await.unwrap();
        let client = &running.clients()[0];
        for (procedure, text) in
            [("com.test.fragile.boom", "boom at once"), ("com.test.fragile.boom_later", "boom after waiting")]
        {
            let err = client.call::<i64>(procedure, ()).await.unwrap_err();
            assert_eq!(err.uri, errors::RUNTIME_ERROR, "remote: {remote}: {err}");
            assert!(err.to_string().contains(text), "{err}");
        }
        // An event handler that panics loses that event only.
        let ack = PublishOptions { acknowledge: true, exclude_me: Some(false), ..PublishOptions::default() };
        for n in [1_u64, 13, 2] {
            client
                .publish_with("com.test.fragile.events", Payload::args(vec![Value::from(n)]), ack.clone())
                .await
                .unwrap();
        }
        let seen = wamp_tests::poll_until(
            || async { client.call::<u64>("com.test.fragile.events", ()).await.unwrap() },
            |seen| *seen == 3,
        )
        .await;
        assert_eq!(seen, 3, "all three events reached the handler, and it survived the second");
        // The state's lock was released by the panics: `&mut self` runs.
        let err = client.call::<i64>("com.test.fragile.boom_later", ()).await.unwrap_err();
        assert_eq!(err.uri, errors::RUNTIME_ERROR);
        running.shutdown().await;
    }
}

/// Event handlers that wait until the test lets them finish.
struct Gated {
    gate: std::sync::Arc<tokio::sync::Semaphore>,
    running: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    most_running: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    started: std::sync::Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Default for Gated {
    fn default() -> Self {
        Gated {
            gate: std::sync::Arc::new(tokio::sync::Semaphore::new(0)),
            running: Default::default(),
            most_running: Default::default(),
            started: Default::default(),
        }
    }
}

#[wamp::component(prefix = "com.test.gated", inventory = false)]
impl Gated {
    #[wamp::subscribe("tick")]
    async fn on_tick(&self, seq: u64) {
        use std::sync::atomic::Ordering::SeqCst;
        self.started.lock().unwrap().push(seq);
        let now = self.running.fetch_add(1, SeqCst) + 1;
        self.most_running.fetch_max(now, SeqCst);
        let _permit = self.gate.acquire().await;
        self.running.fetch_sub(1, SeqCst);
    }
}

#[actix_web::test]
async fn a_burst_to_slow_async_handlers_waits_in_the_bounded_queue_and_nothing_is_lost() {
    use std::sync::atomic::Ordering::SeqCst;
    let component = Gated::default();
    let (gate, most_running, started) =
        (component.gate.clone(), component.most_running.clone(), component.started.clone());
    let running = wamp::Host::new(config()).add_component(component).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    let limit = wamp::client::MAX_HANDLERS_IN_FLIGHT as u64;
    let burst = limit * 2 + 500;
    let (mut publisher, _) = wamp_tests::RawClient::join(&url, Serializer::MsgPack, "realm1").await;
    for seq in 0..burst {
        let publish = wamp::protocol::WampMessage::Publish {
            request: seq + 1,
            options: Dict::new(),
            topic: "com.test.gated.tick".into(),
            payload: Payload::args(vec![Value::from(seq)]),
        };
        publisher.send(&publish).await;
    }
    // The handlers fill up to the limit and no further.
    let count = || std::future::ready(started.lock().unwrap().len() as u64);
    wamp_tests::poll_until(count, |n| *n >= limit).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(started.lock().unwrap().len() as u64, limit, "no handler beyond the limit started");
    // Let them all finish: every event is handled, in order.
    gate.add_permits(burst as usize);
    wamp_tests::poll_until(count, |n| *n == burst).await;
    assert_eq!(*started.lock().unwrap(), (0..burst).collect::<Vec<_>>());
    assert_eq!(most_running.load(SeqCst) as u64, limit);
    running.shutdown().await;
}
