//! Per-handler limits: `concurrency = N` keeps at most N runs of a handler
//! going (the others wait their turn, none is lost), `timeout_ms = N`
//! drops a run that takes longer and answers `wamp.error.timeout`,
//! releasing the component's lock; embedded and remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::cell::Cell;
use std::time::Duration;

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
    let mut seen = (0, 0);
    for _ in 0..300 {
        seen = caller.call("com.test.worker.events", ()).await.unwrap();
        if seen.0 == 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(seen, (4, 1), "every event handled, one at a time");
    caller.leave().await;
}

wamp_tests::embedded_and_remote!(run);

async fn run(mode: Mode) {
    let host = TestHost::start(mode, |config| wamp::Host::new(config).add_component(Worker::default())).await;
    check(&host.url).await;
    host.shutdown().await;
}
