//! `blocking = true`: a sync handler that blocks runs on a worker thread,
//! so the realm keeps routing other sessions' calls meanwhile; the same
//! handler without the option holds everyone up (the control). Embedded
//! and remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use futures_util::future::{select, Either};
use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp_tests::TestRouter;

#[derive(Default)]
struct Cruncher {
    runs: u64,
}

#[wamp::component(prefix = "com.test.cruncher", inventory = false)]
impl Cruncher {
    /// Blocks its thread for `ms`, on a worker thread.
    #[wamp::procedure("crunch", blocking = true)]
    fn crunch(&mut self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        self.runs += 1;
        self.runs
    }

    /// The same, on the component's thread.
    #[wamp::procedure("crunch_inline")]
    fn crunch_inline(&mut self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        self.runs += 1;
        self.runs
    }

    /// Reads the state on a worker thread; panics when asked to.
    #[wamp::procedure("runs", blocking = true)]
    fn runs(&self, fail: bool) -> u64 {
        assert!(!fail, "asked to fail");
        self.runs
    }
}

#[derive(Default)]
struct Pinger;

#[wamp::component(prefix = "com.test.pinger", inventory = false)]
impl Pinger {
    #[wamp::procedure("ping")]
    fn ping(&self) -> &'static str {
        "pong"
    }
}

/// Which answer comes first: the long call's or a ping sent while it runs.
async fn first_answer(client: &Client, pinger: &Client, procedure: &str) -> &'static str {
    let long = std::pin::pin!(client.call::<u64>(procedure, (700,)));
    let ping = std::pin::pin!(async {
        // The long call is under way by now.
        tokio::time::sleep(Duration::from_millis(150)).await;
        pinger.call::<String>("com.test.pinger.ping", ()).await
    });
    match select(long, ping).await {
        Either::Left((runs, ping)) => {
            runs.unwrap();
            assert_eq!(ping.await.unwrap(), "pong");
            "long call"
        }
        Either::Right((pong, long)) => {
            assert_eq!(pong.unwrap(), "pong");
            long.await.unwrap();
            "ping"
        }
    }
}

async fn check(url: &str) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") };
    let client = Client::connect(options.clone()).await.unwrap();
    let pinger = Client::connect(options).await.unwrap();
    let _: String = wamp_tests::call_when_registered(&pinger, "com.test.pinger.ping", ()).await;
    let _: u64 = wamp_tests::call_when_registered(&client, "com.test.cruncher.runs", (false,)).await;

    assert_eq!(first_answer(&client, &pinger, "com.test.cruncher.crunch").await, "ping", "not held up");
    assert_eq!(
        client.call::<u64>("com.test.cruncher.runs", (false,)).await.unwrap(),
        1,
        "the state came back"
    );

    let error = client.call::<u64>("com.test.cruncher.runs", (true,)).await.unwrap_err();
    assert_eq!(error.uri, wamp::protocol::errors::RUNTIME_ERROR, "{error}");
    assert!(error.to_string().contains("asked to fail"), "{error}");
    assert_eq!(
        client.call::<u64>("com.test.cruncher.runs", (false,)).await.unwrap(),
        1,
        "kept after a panic"
    );

    pinger.leave().await;
    client.leave().await;
}

#[actix_web::test]
async fn embedded() {
    let config = wamp_tests::embedded();
    let running =
        wamp::Host::new(config).add_component(Cruncher::default()).add_component(Pinger).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    check(&url).await;

    // The control: the same work on the router's thread holds the ping up.
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "realm1") };
    let (client, pinger) =
        (Client::connect(options.clone()).await.unwrap(), Client::connect(options).await.unwrap());
    assert_eq!(first_answer(&client, &pinger, "com.test.cruncher.crunch_inline").await, "long call");
    running.shutdown().await;
}

#[actix_web::test]
async fn remote() {
    let router = TestRouter::start();
    let config = HostConfig { url: Some(router.url.clone()), ..HostConfig::default() };
    let running =
        wamp::Host::new(config).add_component(Cruncher::default()).add_component(Pinger).start().unwrap();
    running.joined().await.unwrap();
    check(&router.url).await;
    running.shutdown().await;
}
