//! A realm's task runs on a thread of its own, and every session routes
//! what it sends on its own thread: a sync handler that holds its
//! component's thread holds up nobody on another thread. Sessions
//! elsewhere keep calling each other through the realm, in process and
//! over WebSocket, and a new session can join meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wamp::client::{Arguments, CallDetails, Client, ConnectOptions, ReconnectPolicy, RegisterOptions};
use wamp::Session;
use wamp_tests::{Mode, TestHost};

/// Set while [`Holder::hold`] holds the host's thread.
static HOLDING: AtomicBool = AtomicBool::new(false);

/// Beside the embedded router, on the host's thread: a sync handler that
/// cannot move to the blocking pool (it takes the `Session`).
#[derive(Default)]
struct Holder;

#[wamp::component(prefix = "com.test.holder", inventory = false)]
impl Holder {
    /// Holds the host's thread for `ms`.
    #[wamp::procedure("hold")]
    fn hold(&self, ms: u64, _session: &Session) -> u64 {
        HOLDING.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(ms));
        HOLDING.store(false, Ordering::SeqCst);
        ms
    }
}

async fn add(args: Arguments, _details: CallDetails) -> Result<Arguments, wamp::Error> {
    let (x, y): (i64, i64) = (args.get(0)?, args.get(1)?);
    Arguments::new().arg(x + y)
}

/// What the sessions on the other thread saw while the host's thread was
/// held.
#[derive(Debug)]
struct Seen {
    /// Calls answered, in process and over WebSocket.
    answered: usize,
    /// Whether the host's thread was still held once they all were.
    still_held: bool,
}

#[actix_web::test]
async fn a_sync_handler_holding_its_thread_holds_up_no_session_on_another_thread() {
    let host = TestHost::start(Mode::Embedded, |config| wamp::Host::new(config).add_component(Holder)).await;
    let router = host.running.router().unwrap().clone();
    let url = host.url.clone();
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "realm1") };

    // Another thread, with a callee and a caller in process (they route
    // on this thread) and a caller over WebSocket (its connection routes
    // on the HTTP server's worker).
    let elsewhere = actix::Arbiter::new();
    let (ready_tx, ready) = tokio::sync::oneshot::channel();
    let (seen_tx, seen) = tokio::sync::oneshot::channel();
    let connect = options.clone();
    assert!(elsewhere.spawn(async move {
        let in_process = |name: &str| wamp_tests::in_process(&router, "realm1", name);
        let callee = in_process("callee");
        callee.joined().await.unwrap();
        callee.register("com.test.elsewhere.add", RegisterOptions::default(), add).await.unwrap();
        let caller = in_process("caller");
        caller.joined().await.unwrap();
        let remote = Client::connect(connect.clone()).await.unwrap();
        ready_tx.send(()).unwrap();

        while !HOLDING.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut answered = 0;
        for i in 0..20 {
            let sum: i64 = caller.call("com.test.elsewhere.add", (i, 1)).await.unwrap();
            assert_eq!(sum, i + 1);
            let sum: i64 = remote.call("com.test.elsewhere.add", (i, 2)).await.unwrap();
            assert_eq!(sum, i + 2);
            answered += 2;
        }
        // A session that joins now is welcomed: joins go to the realm's
        // own thread.
        let late = Client::connect(connect).await.unwrap();
        let sum: i64 = late.call("com.test.elsewhere.add", (40, 2)).await.unwrap();
        assert_eq!(sum, 42);
        answered += 1;
        let still_held = HOLDING.load(Ordering::SeqCst);
        seen_tx.send(Seen { answered, still_held }).unwrap();
        for client in [late, remote, caller, callee] {
            client.leave().await;
        }
    }));
    ready.await.unwrap();

    // Holds this thread, the host's, for three seconds: the embedded
    // components' thread, which the realm ran on before it had its own.
    let client = Client::connect(options).await.unwrap();
    let held: u64 = wamp_tests::call_when_registered(&client, "com.test.holder.hold", (3000,)).await;
    assert_eq!(held, 3000);
    let seen = seen.await.unwrap();
    assert_eq!(seen.answered, 41);
    assert!(seen.still_held, "every call was answered while the host's thread was held: {seen:?}");

    client.leave().await;
    elsewhere.stop();
    host.shutdown().await;
}

#[actix_web::test]
async fn a_router_dropped_ends_its_realms_and_tells_their_sessions() {
    let router = wamp::Router::new(wamp::RouterConfig::default());
    let client = wamp_tests::in_process(&router, "realm1", "lingering");
    client.joined().await.unwrap();
    assert_eq!(client.call::<Vec<u64>>("wamp.session.list", ()).await.unwrap().len(), 1);
    // The session keeps the realm's handle; the router's last clone goes.
    drop(router);
    let ended = wamp_tests::poll_until(|| std::future::ready(client.has_ended()), |ended| *ended).await;
    assert!(ended, "the session was not told its realm ended");
}
