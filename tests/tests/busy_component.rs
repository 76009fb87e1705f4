//! A component running as many handlers as it may
//! (`MAX_HANDLERS_IN_FLIGHT`), embedded or remote, takes no new
//! invocations or events until one ends (nothing is lost: they wait, and
//! the router slows their producers), but still gets the answers its
//! running handlers wait for: handlers that each await a call of their
//! own finish, instead of waiting for each other until their calls time
//! out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::cell::Cell;
use std::time::Duration;

use futures_util::future::join_all;
use wamp::client::{Client, ConnectOptions, ReconnectPolicy, MAX_HANDLERS_IN_FLIGHT};
use wamp::prelude::*;
use wamp::RouterConfig;
use wamp_tests::{Mode, TestHost};

#[derive(Default)]
struct Backend;

#[wamp::component(prefix = "com.test.backend", inventory = false)]
impl Backend {
    /// Answers after a while: the relay's handlers pile up meanwhile.
    #[wamp::procedure("echo")]
    async fn echo(&self, x: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        x
    }
}

#[derive(Default)]
struct Relay {
    /// Handlers running now, and the most at once.
    running: Cell<usize>,
    most: Cell<usize>,
}

#[wamp::component(prefix = "com.test.relay", inventory = false)]
impl Relay {
    /// Passes the call on to the backend and waits for its answer.
    #[wamp::procedure("relay")]
    async fn relay(&self, x: u64, session: &Session) -> Result<u64, Error> {
        self.running.set(self.running.get() + 1);
        self.most.set(self.most.get().max(self.running.get()));
        let answer = session.call("com.test.backend.echo", (x,)).await;
        self.running.set(self.running.get() - 1);
        answer
    }

    /// The most handlers that ran at once.
    #[wamp::procedure("most")]
    fn most(&self) -> usize {
        self.most.get()
    }
}

/// 100 calls more than the relay may run at once, all at the same time:
/// every one is answered, and the relay was full.
async fn check(url: &str) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") };
    let client = Client::connect(options).await.unwrap();
    let _: usize = wamp_tests::call_when_registered(&client, "com.test.relay.most", ()).await;
    let count = MAX_HANDLERS_IN_FLIGHT as u64 + 100;
    let calls = join_all((0..count).map(|x| {
        let client = client.clone();
        async move { client.call::<u64>("com.test.relay.relay", (x,)).await }
    }));
    let answers = tokio::time::timeout(Duration::from_secs(30), calls)
        .await
        .expect("every relayed call answered: the relay's handlers got their backend's answers");
    for (x, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.unwrap(), x as u64);
    }
    let most: usize = client.call("com.test.relay.most", ()).await.unwrap();
    assert_eq!(most, MAX_HANDLERS_IN_FLIGHT, "the relay was full, and never ran more");
    client.leave().await;
}

/// Enough calls in flight per session for every handler to make one.
const CALLS_PER_SESSION: usize = 4 * MAX_HANDLERS_IN_FLIGHT;

wamp_tests::embedded_and_remote!(run);

async fn run(mode: Mode) {
    let router = RouterConfig { max_calls_per_session: CALLS_PER_SESSION, ..Default::default() };
    let host = TestHost::with_router(mode, router, |config| {
        wamp::Host::new(config).add_component(Backend).add_component(Relay::default())
    })
    .await;
    check(&host.url).await;
    host.shutdown().await;
}
