//! A component that joins a router started separately, and rejoins it
//! after the connection is lost (the router restarts, the network drops).
//!
//! ```text
//! wamp router &                     # or Crossbar.io, or any WAMP v2 router
//! cargo run -p remote               # joins ws://127.0.0.1:8080/ws, realm realm1
//! wamp call com.example.remote.increment
//! # stop and restart the router: the component says it lost the
//! # connection, rejoins, and keeps its count
//! wamp call com.example.remote.status
//! ```
//!
//! `WAMP_URL` and `WAMP_REALM` (or `url` and `realm` in wamp.toml) choose
//! the router; `reconnect.*` settings the retry policy (on by default:
//! 250 ms doubling to 30 s, with jitter).

use std::cell::Cell;

use serde::Serialize;
use wamp::component::HostConfig;
use wamp::prelude::*;

/// The router this example joins when no `url` is set.
const DEFAULT_URL: &str = "ws://127.0.0.1:8080/ws";

/// What `status` answers.
#[derive(Debug, Serialize)]
struct Status {
    /// What `increment` has counted, across reconnects.
    count: u64,
    /// How many times the component joined the router.
    joins: u32,
}

/// Counts, and says when it joins and loses its router.
#[derive(Default)]
struct Counter {
    count: Cell<u64>,
    joins: Cell<u32>,
}

#[wamp::component(prefix = "com.example.remote")]
impl Counter {
    /// `increment()`: the count after adding one. The state lives in the
    /// component, not the session: it survives reconnects.
    #[wamp::procedure("increment")]
    fn increment(&self) -> u64 {
        self.count.set(self.count.get() + 1);
        self.count.get()
    }

    /// `status()`: `{"count": ..., "joins": ...}`.
    #[wamp::procedure("status")]
    fn status(&self) -> Status {
        Status { count: self.count.get(), joins: self.joins.get() }
    }

    /// After every join, the first and each one after a reconnect; the
    /// procedures are registered again by then.
    fn on_join(&self, session: &Session) {
        self.joins.set(self.joins.get() + 1);
        tracing::info!(joins = self.joins.get(), session = ?session.session_id(), "joined the router");
    }

    /// The connection is gone; the host reconnects with its policy.
    fn on_disconnect(&self) {
        tracing::warn!("lost the router; reconnecting");
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    let mut config = HostConfig::load(None)?;
    // This example is about remote mode: without `url`, join the default
    // router rather than embedding one.
    config.url.get_or_insert_with(|| DEFAULT_URL.to_owned());
    wamp::Host::new(config).add_registered().run().await
}
