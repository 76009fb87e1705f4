//! The `remote` binary against routers started separately, ours and
//! Crossbar.io: it joins, serves calls, and after the router restarts
//! rejoins with its state intact.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp_tests::crossbar::CrossbarRouter;
use wamp_tests::TestRouter;

#[derive(Debug, Deserialize, PartialEq)]
struct Status {
    count: u64,
    joins: u32,
}

/// The running example and its log.
struct Remote {
    _child: Child,
    log: Lines<BufReader<ChildStdout>>,
}

impl Remote {
    fn start(url: &str, realm: &str) -> Remote {
        let mut child = Command::new(env!("CARGO_BIN_EXE_remote"))
            .env("WAMP_URL", url)
            .env("WAMP_REALM", realm)
            .env("RUST_LOG", "info")
            // Retry at least once a second, so a restarted router is found fast.
            .env("WAMP_RECONNECT__MAX_DELAY_MS", "1000")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the example");
        let log = BufReader::new(child.stdout.take().unwrap()).lines();
        Remote { _child: child, log }
    }

    /// Reads the log until a line has every one of `needles`.
    async fn wait_for(&mut self, needles: &[&str]) {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let line = self.log.next_line().await.unwrap().expect("the example exited");
                if needles.iter().all(|n| line.contains(n)) {
                    return;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("not logged: {needles:?}"));
    }
}

async fn client(url: &str, realm: &str) -> Client {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, realm) };
    Client::connect(options).await.unwrap()
}

#[actix_web::test]
async fn it_rejoins_our_router_after_a_restart_and_keeps_its_state() {
    let mut router = TestRouter::start();
    let mut remote = Remote::start(&router.url, "realm1");
    remote.wait_for(&["joined the router", "joins=1"]).await;
    let caller = client(&router.url, "realm1").await;
    assert_eq!(caller.call::<u64>("com.example.remote.increment", ()).await.unwrap(), 1);
    assert_eq!(caller.call::<u64>("com.example.remote.increment", ()).await.unwrap(), 2);

    router.restart();
    remote.wait_for(&["lost the router"]).await;
    remote.wait_for(&["joined the router", "joins=2"]).await;
    let caller = client(&router.url, "realm1").await;
    let status: Status = caller.call("com.example.remote.status", ()).await.unwrap();
    assert_eq!(status, Status { count: 2, joins: 2 });
}

// Crossbar starts and restarts blocking (it runs a runtime of its own to
// probe the router), so this test drives its async steps itself.
#[test]
fn it_joins_crossbar_and_rejoins_it_after_a_restart() {
    let mut router = CrossbarRouter::start();
    let (url, realm) = (router.url.clone(), router.realm.clone());
    let system = actix_web::rt::System::new();
    let mut remote = system.block_on(async {
        let mut remote = Remote::start(&url, &realm);
        remote.wait_for(&["joined the router", "joins=1"]).await;
        let caller = client(&url, &realm).await;
        assert_eq!(caller.call::<u64>("com.example.remote.increment", ()).await.unwrap(), 1);
        remote
    });

    router.restart();
    system.block_on(async {
        remote.wait_for(&["joined the router", "joins=2"]).await;
        let caller = client(&url, &realm).await;
        let status: Status = caller.call("com.example.remote.status", ()).await.unwrap();
        assert_eq!(status, Status { count: 1, joins: 2 });
    });
}
