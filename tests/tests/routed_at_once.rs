//! An embedded component's calls are routed at once, on its thread, in
//! the caller's own task, when the realm is free: they are answered in
//! the call's first poll. A caller that never has to wait must still not
//! keep the thread to itself: every so many calls one waits for the
//! thread's other tasks, so other sessions are served meanwhile.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::cell::Cell;
use std::time::Duration;

use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::prelude::*;

/// In-process calls made by `spin`.
const SPINS: u64 = 20_000;

#[derive(Default)]
struct Looper {
    /// Inner calls answered so far.
    done: Cell<u64>,
}

#[wamp::component(prefix = "com.test.looper", inventory = false)]
impl Looper {
    /// One step: answered at once.
    #[wamp::procedure("one")]
    fn one(&self) -> u64 {
        1
    }

    /// Calls `one` `n` times, one after the other, in-process.
    #[wamp::procedure("spin")]
    async fn spin(&self, n: u64, session: &Session) -> Result<u64, Error> {
        let mut sum = 0;
        for _ in 0..n {
            sum += session.call::<u64>("com.test.looper.one", ()).await?;
            self.done.set(self.done.get() + 1);
        }
        Ok(sum)
    }

    /// How many inner calls `spin` has made so far.
    #[wamp::procedure("done")]
    fn done(&self) -> u64 {
        self.done.get()
    }
}

#[actix_web::test]
async fn a_call_to_a_component_on_the_same_thread_is_answered_before_the_caller_waits() {
    let running = wamp::Host::new(wamp_tests::embedded()).add_component(Looper::default()).start().unwrap();
    running.joined().await.unwrap();
    let session = running.clients()[0].clone();
    // `one` can move to another thread: its first 32 runs are on trial on
    // the blocking pool (docs/components.md); quick, it then runs here.
    for _ in 0..32 {
        let one: u64 = session.call("com.test.looper.one", ()).await.unwrap();
        assert_eq!(one, 1);
    }
    let first_poll = session
        .with_session(|ctx| {
            Box::pin(async move {
                // One poll: an answer that needed a task (the realm's, the
                // thread's pump, or this one) to be woken would not be there.
                let call = ctx.call::<u64>("com.test.looper.one", ());
                futures_util::FutureExt::now_or_never(call).map(|answer| answer.unwrap())
            })
        })
        .await
        .unwrap();
    assert_eq!(first_poll, Some(1), "answered in the call's first poll");
    running.shutdown().await;
}

#[actix_web::test]
async fn a_caller_that_never_waits_leaves_room_for_others() {
    let running = wamp::Host::new(wamp_tests::embedded()).add_component(Looper::default()).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "realm1") };
    let spinner = Client::connect(options.clone()).await.unwrap();
    let watcher = Client::connect(options).await.unwrap();
    let _: u64 = wamp_tests::call_when_registered(&watcher, "com.test.looper.done", ()).await;

    let spin = spinner.call::<u64>("com.test.looper.spin", (SPINS,));
    let watch = async {
        // Wait until the loop is under way, then ask how far it got.
        loop {
            let done: u64 = watcher.call("com.test.looper.done", ()).await.unwrap();
            if done > 0 {
                return done;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let (sum, seen) = futures_util::future::join(spin, watch).await;
    assert_eq!(sum.unwrap(), SPINS, "every inner call answered");
    assert!(seen < SPINS, "another session was answered while the loop ran: it saw {seen} of {SPINS}");

    spinner.leave().await;
    watcher.leave().await;
    running.shutdown().await;
}
