//! An embedded component running as many handlers as it may
//! (`MAX_HANDLERS_IN_FLIGHT`) takes no new invocations or events, but
//! still gets the answers its running handlers wait for: handlers that
//! each await a call of their own finish, instead of waiting for each
//! other until their calls time out.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Relay handlers running now, and the most at once.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST: AtomicUsize = AtomicUsize::new(0);

use futures_util::future::join_all;
use wamp::client::{Client, ConnectOptions, ReconnectPolicy, MAX_HANDLERS_IN_FLIGHT};
use wamp::prelude::*;

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
struct Relay;

#[wamp::component(prefix = "com.test.relay", inventory = false)]
impl Relay {
    /// Passes the call on to the backend and waits for its answer.
    #[wamp::procedure("relay")]
    async fn relay(&self, x: u64, session: &Session) -> Result<u64, Error> {
        let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        MOST.fetch_max(now, Ordering::SeqCst);
        let answer = session.call("com.test.backend.echo", (x,)).await;
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        answer
    }
}

#[actix_web::test]
async fn handlers_waiting_for_their_own_calls_get_the_answers_while_the_component_is_full() {
    let mut config = wamp_tests::embedded();
    // Enough calls in flight per session for every handler to make one.
    config.router.max_calls_per_session = 4 * MAX_HANDLERS_IN_FLIGHT;
    let running = wamp::Host::new(config).add_component(Backend).add_component(Relay).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "realm1") };
    let client = Client::connect(options).await.unwrap();

    let count = MAX_HANDLERS_IN_FLIGHT as u64 + 100;
    let calls = join_all((0..count).map(|x| {
        let client = client.clone();
        async move { client.call::<u64>("com.test.relay.relay", (x,)).await }
    }));
    let answers = tokio::time::timeout(Duration::from_secs(30), calls)
        .await
        .expect("every relayed call answered: the relay's handlers got their backend's answers");
    assert_eq!(MOST.load(Ordering::SeqCst), MAX_HANDLERS_IN_FLIGHT, "the relay was full");
    for (x, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.unwrap(), x as u64);
    }
    client.leave().await;
    running.shutdown().await;
}
