//! A `&self` method that calls a `&self` procedure of its own component
//! holds the state while it waits; the procedure shares it. A `&mut self`
//! call that arrives meanwhile waits for the state to itself, and the
//! lock is fair: a read asked after that write waits behind it. The
//! procedure's read must not, or it would wait for the write, which waits
//! for the caller, which waits for the procedure. The same for an `async`
//! procedure, a call taking progressive results, a `&self` message handler
//! reached through the component's handle, and the handle's `read`.
//! Embedded and remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::prelude::*;
use wamp_tests::{Mode, TestHost};

#[derive(Default)]
struct Ledger {
    entries: u64,
}

#[wamp::component(prefix = "com.test.ledger", inventory = false)]
impl Ledger {
    /// The number of entries.
    #[wamp::procedure("count")]
    fn count(&self) -> u64 {
        self.entries
    }

    /// Waits a while (a write arrives meanwhile), then asks `count`
    /// through the router, holding the state (`&self`) all along.
    #[wamp::procedure("audit")]
    async fn audit(&self, session: &Session) -> Result<u64, Error> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        session.call("com.test.ledger.count", ()).await
    }

    /// The number of entries, from an `async` method.
    #[wamp::procedure("count_async")]
    async fn count_async(&self) -> u64 {
        self.entries
    }

    /// As `audit`, through `count_async`.
    #[wamp::procedure("audit_async")]
    async fn audit_async(&self, session: &Session) -> Result<u64, Error> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        session.call("com.test.ledger.count_async", ()).await
    }

    /// As `audit`, as a call taking progressive results.
    #[wamp::procedure("audit_progressive")]
    async fn audit_progressive(&self, session: &Session) -> Result<u64, Error> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let answer =
            session.call_progressive("com.test.ledger.count", (), Default::default()).finish().await?;
        answer.get(0)
    }

    /// The number of entries, for the application's own message.
    #[wamp::message]
    fn counted(&self, _: Count) -> u64 {
        self.entries
    }

    /// As `audit`, through the component's handle: a message, then a
    /// `read` (both must agree).
    #[wamp::procedure("audit_by_handle")]
    async fn audit_by_handle(&self, session: &Session) -> Result<u64, Error> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let own = session.component::<Ledger>().ok_or_else(|| Error::new("com.test.no_handle", "none"))?;
        let counted = own.send(Count).await?;
        let read = own.read(|ledger| ledger.entries).await?;
        assert_eq!(counted, read);
        Ok(counted)
    }

    /// Adds an entry: needs the state to itself.
    #[wamp::procedure("add")]
    fn add(&mut self) -> u64 {
        self.entries += 1;
        self.entries
    }
}

/// A message for [`Ledger::counted`].
struct Count;

async fn check(url: &str) {
    let audits = [
        "com.test.ledger.audit",
        "com.test.ledger.audit_async",
        "com.test.ledger.audit_progressive",
        "com.test.ledger.audit_by_handle",
    ];
    for audit in audits {
        check_one(url, audit).await;
    }
}

/// Runs the audit `procedure` while a write arrives; the audit reads 0 and the write
/// comes after, the first time only (each round adds one).
async fn check_one(url: &str, procedure: &'static str) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") };
    let auditor = Client::connect(options.clone()).await.unwrap();
    let writer = Client::connect(options).await.unwrap();
    let before: u64 = wamp_tests::call_when_registered(&writer, "com.test.ledger.count", ()).await;

    let audit = auditor.call::<u64>(procedure, ());
    let add = async {
        // While `audit` holds the state and sleeps: this write waits.
        tokio::time::sleep(Duration::from_millis(100)).await;
        writer.call::<u64>("com.test.ledger.add", ()).await
    };
    let both = futures_util::future::join(audit, add);
    let (audited, added) = tokio::time::timeout(Duration::from_secs(5), both)
        .await
        .unwrap_or_else(|_| panic!("{procedure} stuck"));
    assert_eq!(audited.unwrap(), before, "{procedure} read the state before the write");
    assert_eq!(added.unwrap(), before + 1, "the write came after");

    auditor.leave().await;
    writer.leave().await;
}

wamp_tests::embedded_and_remote!(run);

async fn run(mode: Mode) {
    let host = TestHost::start(mode, |config| wamp::Host::new(config).add_component(Ledger::default())).await;
    check(&host.url).await;
    host.shutdown().await;
}
