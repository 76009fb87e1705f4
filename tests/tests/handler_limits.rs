//! Per-handler limits: `concurrency = N` keeps at most N runs of a handler
//! going (the others wait their turn, none is lost), `timeout_ms = N`
//! drops a run that takes longer and answers `wamp.error.timeout`,
//! releasing the component's lock; an event handler's timeout drops its
//! run the same way (nobody to answer); on a `blocking` handler the
//! timeout answers at once and the state comes back when the worker
//! finishes; embedded and remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::cell::Cell;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::prelude::*;
use wamp_tests::{Mode, TestHost};

#[derive(Default)]
struct Worker {
    running: Cell<usize>,
    most: Cell<usize>,
    events_running: Cell<usize>,
    events_most: Cell<usize>,
    events_seen: Cell<usize>,
    pokes: u64,
    /// Runs of `hang` started, and those that got past their sleep (none
    /// should).
    hangs: Cell<(usize, usize)>,
}

impl Worker {
    fn enter(running: &Cell<usize>, most: &Cell<usize>) {
        running.set(running.get() + 1);
        most.set(most.get().max(running.get()));
    }
}

#[wamp::component(prefix = "com.test.worker", inventory = false)]
impl Worker {
    /// Works for `ms` milliseconds; at most two at once.
    #[wamp::procedure("work", concurrency = 2)]
    async fn work(&self, ms: u64) -> usize {
        Self::enter(&self.running, &self.most);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.running.set(self.running.get() - 1);
        self.most.get()
    }

    /// Never finishes by itself; dropped after 50 ms.
    #[wamp::procedure("stuck", timeout_ms = 50)]
    async fn stuck(&mut self) -> u64 {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        0
    }

    #[wamp::procedure("poke")]
    fn poke(&mut self) -> u64 {
        self.pokes += 1;
        self.pokes
    }

    /// One event at a time.
    #[wamp::subscribe("job", concurrency = 1)]
    async fn job(&self, ms: u64) {
        Self::enter(&self.events_running, &self.events_most);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.events_running.set(self.events_running.get() - 1);
        self.events_seen.set(self.events_seen.get() + 1);
    }

    #[wamp::procedure("events")]
    fn events(&self) -> (usize, usize) {
        (self.events_seen.get(), self.events_most.get())
    }

    /// An event handler that never finishes by itself: dropped after
    /// 50 ms, its lock released.
    #[wamp::subscribe("hang", timeout_ms = 50)]
    async fn hang(&mut self) {
        let (started, finished) = self.hangs.get();
        self.hangs.set((started + 1, finished));
        tokio::time::sleep(Duration::from_secs(3600)).await;
        self.hangs.set((self.hangs.get().0, finished + 1));
    }

    #[wamp::procedure("hangs")]
    fn hangs(&self) -> (usize, usize) {
        self.hangs.get()
    }
}

/// Sync work on the blocking pool, with a timeout.
#[derive(Default)]
struct Grinder {
    ground: u64,
}

#[wamp::component(prefix = "com.test.grinder", inventory = false)]
impl Grinder {
    /// Sleeps `ms` on a worker thread; answers with the timeout after
    /// 100 ms.
    #[wamp::procedure("slow", blocking = true, timeout_ms = 100)]
    fn slow(&mut self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        self.ground += 1;
        self.ground
    }

    #[wamp::procedure("ground")]
    fn ground(&self) -> u64 {
        self.ground
    }
}

async fn check(url: &str) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") };
    let caller = Client::connect(options).await.unwrap();
    let _: u64 = wamp_tests::call_when_registered(&caller, "com.test.worker.poke", ()).await;

    let calls = (0..6).map(|_| caller.call::<usize>("com.test.worker.work", (40,)));
    let answers: Vec<usize> = join_all(calls).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(answers.len(), 6, "every call was answered");
    assert_eq!(answers.iter().max(), Some(&2), "never more than two at once, and two did run together");

    let started = std::time::Instant::now();
    let error = caller.call::<u64>("com.test.worker.stuck", ()).await.unwrap_err();
    assert_eq!(
        (error.uri.as_str(), error.kind()),
        (wamp::protocol::errors::TIMEOUT, ErrorKind::Timeout),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(5), "answered at its timeout");
    assert_eq!(caller.call::<u64>("com.test.worker.poke", ()).await.unwrap(), 2, "the lock was released");

    for _ in 0..4 {
        caller.publish("com.test.worker.job", (20,)).await.unwrap();
    }
    let events = || async { caller.call::<(usize, usize)>("com.test.worker.events", ()).await.unwrap() };
    let seen = wamp_tests::poll_until(events, |seen| seen.0 == 4).await;
    assert_eq!(seen, (4, 1), "every event handled, one at a time");

    // An event handler past its timeout is dropped: the lock it held is
    // free again, and its run never gets past its sleep.
    caller.publish("com.test.worker.hang", ()).await.unwrap();
    let hangs = || async { caller.call::<(usize, usize)>("com.test.worker.hangs", ()).await.unwrap() };
    let started = wamp_tests::poll_until(hangs, |hangs| hangs.0 == 1).await;
    assert_eq!(started, (1, 0), "the handler ran, and a `&self` call got the lock after it");
    assert_eq!(caller.call::<u64>("com.test.worker.poke", ()).await.unwrap(), 3, "so does a `&mut self` one");
    assert_eq!(hangs().await, (1, 0));

    let _: u64 = wamp_tests::call_when_registered(&caller, "com.test.grinder.ground", ()).await;
    // A blocking run past its timeout is answered with the timeout at
    // once; the state comes back when the worker is done with it, and
    // the run's change stays.
    let started = Instant::now();
    let error = caller.call::<u64>("com.test.grinder.slow", (1500,)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(started.elapsed() < Duration::from_millis(1400), "answered before the run ended");
    assert_eq!(caller.call::<u64>("com.test.grinder.ground", ()).await.unwrap(), 1, "the run finished");
    assert!(started.elapsed() >= Duration::from_millis(1500), "the state came back only then");
    // Within its timeout, a blocking run answers as usual.
    assert_eq!(caller.call::<u64>("com.test.grinder.slow", (1,)).await.unwrap(), 2);

    caller.leave().await;
}

wamp_tests::embedded_and_remote!(run);

async fn run(mode: Mode) {
    let host = TestHost::start(mode, |config| {
        wamp::Host::new(config).add_component(Worker::default()).add_component(Grinder::default())
    })
    .await;
    check(&host.url).await;
    host.shutdown().await;
}
