//! A component as an actor: the application's own messages sent from any
//! thread and answered, timers started in `on_start` and stopped with the
//! component and running across reconnects, a handler's handle on its
//! own component for spawned work (`Session::spawn`, canceled through its
//! `TaskHandle`); a component whose `on_start` fails; embedded and
//! remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::component::{ComponentHandle, HostConfig, RunningHost};
use wamp::prelude::*;
use wamp_tests::TestRouter;

/// Sets the ledger's total; answers the previous one.
struct Reset(u64);

/// Asks for the total as the ledger's `total` procedure gives it.
struct TotalOverWamp;

/// Sent by the ledger's own timer.
struct Tick;

/// Adds to the total later, from work a procedure spawned.
struct Deposit(u64);

/// Counts ticks outside the component, so they can be seen after it
/// stopped.
#[derive(Default)]
struct TickCount(AtomicU64);

#[derive(Default)]
struct Ledger {
    total: u64,
    ticks: u64,
}

#[wamp::component(prefix = "com.test.ledger", inventory = false)]
impl Ledger {
    #[wamp::procedure("add")]
    fn add(&mut self, amount: u64) -> u64 {
        self.total += amount;
        self.total
    }

    #[wamp::procedure("total")]
    fn total(&self) -> u64 {
        self.total
    }

    /// Deposits `amount` after `delay_ms`, through a message to itself.
    #[wamp::procedure("deposit_later")]
    fn deposit_later(&self, amount: u64, delay_ms: u64, session: &Session) {
        let me = session.component::<Self>().expect("the session runs a Ledger");
        session.run_later(Duration::from_millis(delay_ms), move |_| async move {
            me.send(Deposit(amount)).await.expect("the ledger runs");
        });
    }

    /// Spawns work that would deposit `amount` after `delay_ms`, and
    /// cancels it at once unless `keep`: canceled work never runs.
    #[wamp::procedure("deposit_spawned")]
    fn deposit_spawned(&self, amount: u64, delay_ms: u64, keep: bool, session: &Session) {
        let me = session.component::<Self>().expect("the session runs a Ledger");
        let task = session.spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            me.do_send(Deposit(amount));
        });
        if !keep {
            task.cancel();
        }
    }

    /// Waits for a message to itself while holding the state: refused.
    #[wamp::procedure("reset_from_inside")]
    async fn reset_from_inside(&mut self, session: &Session) -> Result<u64, Error> {
        session.component::<Self>().expect("the session runs a Ledger").send(Reset(0)).await
    }

    #[wamp::message]
    fn reset(&mut self, Reset(to): Reset) -> u64 {
        std::mem::replace(&mut self.total, to)
    }

    #[wamp::message]
    async fn total_over_wamp(&self, _: TotalOverWamp, session: &Session) -> Result<u64, Error> {
        session.call("com.test.ledger.total", ()).await
    }

    #[wamp::message]
    fn deposit(&mut self, Deposit(amount): Deposit) {
        self.total += amount;
    }

    #[wamp::message]
    fn tick(&mut self, _: Tick, count: Data<TickCount>) {
        self.ticks += 1;
        count.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Ticks every 10 ms for as long as the ledger runs.
    fn on_start(&self, session: &Session) {
        let me = session.component::<Self>().expect("the session runs a Ledger");
        session.run_interval(Duration::from_millis(10), move |_| {
            me.do_send(Tick);
            std::future::ready(())
        });
    }
}

/// Waits until `done` holds for the ledger's state.
async fn until(
    ledger: &ComponentHandle<Ledger>,
    what: &str,
    done: impl Fn(&Ledger) -> bool + Copy + Send + 'static,
) {
    let there = wamp_tests::poll_until(|| async { ledger.read(done).await.unwrap() }, |there| *there).await;
    assert!(there, "the ledger never got there: {what}");
}

async fn check(running: RunningHost, count: Data<TickCount>) {
    running.joined().await.unwrap();
    let ledger = running.component::<Ledger>().unwrap();
    let caller = ledger.client().clone();
    assert_eq!(caller.call::<u64>("com.test.ledger.add", (7,)).await.unwrap(), 7);

    // From a thread that is not the component's, with a runtime of its own.
    let from_elsewhere = ledger.clone();
    let previous = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(from_elsewhere.send(Reset(100)))
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(previous, 7, "the reply is the method's result");
    assert_eq!(
        caller.call::<u64>("com.test.ledger.total", ()).await.unwrap(),
        100,
        "in turn with procedures"
    );
    assert_eq!(ledger.send(TotalOverWamp).await.unwrap().unwrap(), 100, "an async handler using its session");

    // A reply is a future of its own: dropped before it is polled, it
    // sends nothing; it can be awaited by another task.
    drop(ledger.send(Reset(1)));
    assert_eq!(ledger.read(|l| l.total).await.unwrap(), 100, "a reply dropped unpolled sent nothing");
    let spawned = tokio::spawn(ledger.send(Reset(100)));
    assert_eq!(spawned.await.unwrap().unwrap(), 100, "awaited by a task of its own");

    let error = caller.call::<u64>("com.test.ledger.reset_from_inside", ()).await.unwrap_err();
    assert_eq!(error.uri, wamp::protocol::errors::CANCELED);
    assert!(error.to_string().contains("could never be answered"), "{error}");
    assert_eq!(ledger.read(|l| l.total).await.unwrap(), 100, "the refused message changed nothing");

    // Spawned work reaching its own component later.
    caller.call::<()>("com.test.ledger.deposit_later", (5, 30)).await.unwrap();
    assert_eq!(ledger.read(|l| l.total).await.unwrap(), 100, "not yet");
    until(&ledger, "the deposit made later", |l| l.total == 105).await;

    // Work spawned with `Session::spawn`, one canceled by its handle: the
    // kept one runs, the canceled one (due at the same time) never does.
    caller.call::<()>("com.test.ledger.deposit_spawned", (1000, 30, false)).await.unwrap();
    caller.call::<()>("com.test.ledger.deposit_spawned", (7, 30, true)).await.unwrap();
    until(&ledger, "the spawned deposit", |l| l.total >= 112).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(ledger.read(|l| l.total).await.unwrap(), 112, "the canceled deposit never ran");

    // The timer started in on_start runs, and the tick handler sees the
    // host's data.
    until(&ledger, "three ticks", |l| l.ticks >= 3).await;
    assert!(count.0.load(Ordering::SeqCst) >= 3);

    running.shutdown().await;
    let at_stop = count.0.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(count.0.load(Ordering::SeqCst) <= at_stop + 1, "the timer stopped with the component");
    let error = ledger.send(Reset(0)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
}

#[actix_web::test]
async fn embedded() {
    let count = Data::new(TickCount::default());
    let running = wamp::Host::new(HostConfig::default())
        .app_data(count.clone())
        .add_component(Ledger::default())
        .start();
    check(running.unwrap(), count).await;
}

#[actix_web::test]
async fn remote() {
    let router = TestRouter::start();
    let config = wamp_tests::remote(&router.url);
    let count = Data::new(TickCount::default());
    let running = wamp::Host::new(config).app_data(count.clone()).add_component(Ledger::default()).start();
    check(running.unwrap(), count).await;
}

#[derive(Default)]
struct Unready;

#[wamp::component(prefix = "com.test.unready", inventory = false)]
impl Unready {
    #[wamp::procedure("never")]
    fn never(&self) {}

    async fn on_start(&self) -> Result<(), Error> {
        Err(Error::new("com.test.no_database", "the database is unreachable"))
    }
}

async fn check_unready(config: HostConfig) {
    let running = wamp::Host::new(config).add_component(Unready).start().unwrap();
    let error = running.joined().await.unwrap_err();
    assert_eq!(error.uri, "com.test.no_database", "{error}");
    assert_eq!(error.message(), Some("the database is unreachable"));
    running.shutdown().await;
}

#[actix_web::test]
async fn a_component_whose_on_start_fails_does_not_join() {
    check_unready(HostConfig::default()).await;
}

#[actix_web::test]
async fn a_remote_component_whose_on_start_fails_does_not_join() {
    let router = TestRouter::start();
    check_unready(wamp_tests::remote(&router.url)).await;
    // Nothing of it reached the router.
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&router.url, "realm1") };
    let caller = Client::connect(options).await.unwrap();
    let error = caller.call::<()>("com.test.unready.never", ()).await.unwrap_err();
    assert_eq!(error.uri, wamp::protocol::errors::NO_SUCH_PROCEDURE, "{error}");
}

/// What the beacon did, seen from outside.
#[derive(Default)]
struct Beacons {
    starts: AtomicU64,
    ticks: AtomicU64,
    disconnects: AtomicU64,
    /// Runs of the delayed work, and the disconnects it had seen then.
    later: std::sync::Mutex<Vec<u64>>,
}

/// Starts an interval and delayed work once, in `on_start`.
struct Beacon(std::sync::Arc<Beacons>);

#[wamp::component(prefix = "com.test.beacon", inventory = false)]
impl Beacon {
    #[wamp::procedure("ping")]
    fn ping(&self) -> u64 {
        self.0.disconnects.load(Ordering::SeqCst)
    }

    fn on_start(&self, session: &Session) {
        self.0.starts.fetch_add(1, Ordering::SeqCst);
        let ticks = self.0.clone();
        session.run_interval(Duration::from_millis(10), move |_| {
            ticks.ticks.fetch_add(1, Ordering::SeqCst);
            std::future::ready(())
        });
        let later = self.0.clone();
        session.run_later(Duration::from_secs(3), move |_| async move {
            let seen = later.disconnects.load(Ordering::SeqCst);
            later.later.lock().unwrap().push(seen);
        });
    }

    fn on_disconnect(&self) {
        self.0.disconnects.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits until `done` holds (for up to ten seconds).
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let held = wamp_tests::poll_until(|| std::future::ready(done()), |held| *held).await;
    assert!(held, "never happened: {what}");
}

#[actix_web::test]
async fn timers_span_a_reconnect_and_on_start_runs_once() {
    let mut router = TestRouter::start();
    let beacons = std::sync::Arc::new(Beacons::default());
    let running = wamp::Host::new(wamp_tests::remote(&router.url))
        .add_component(Beacon(beacons.clone()))
        .start()
        .unwrap();
    running.joined().await.unwrap();
    eventually("three ticks", || beacons.ticks.load(Ordering::SeqCst) >= 3).await;

    router.restart();
    let options = wamp::client::ConnectOptions {
        reconnect: wamp::client::ReconnectPolicy::off(),
        ..wamp::client::ConnectOptions::new(&router.url, "realm1")
    };
    let peer = wamp::client::Client::connect(options).await.unwrap();
    let disconnects: u64 = wamp_tests::call_when_registered(&peer, "com.test.beacon.ping", ()).await;
    assert_eq!(disconnects, 1, "the component lost its router once and joined again");

    let after_rejoin = beacons.ticks.load(Ordering::SeqCst);
    eventually("ticks after the reconnect", || beacons.ticks.load(Ordering::SeqCst) >= after_rejoin + 3)
        .await;
    eventually("the delayed work", || !beacons.later.lock().unwrap().is_empty()).await;
    assert_eq!(*beacons.later.lock().unwrap(), [1], "ran once, after the disconnect");
    assert_eq!(beacons.starts.load(Ordering::SeqCst), 1, "on_start ran once, before the first join");
    peer.leave().await;
    running.shutdown().await;
}
