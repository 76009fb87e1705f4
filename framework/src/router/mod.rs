//! The embeddable WAMP router: realms, broker and dealer.
//!
//! The routing logic ([`RealmCore`], [`Broker`](broker::Broker),
//! [`Dealer`](dealer::Dealer), [`PeerSession`]) is plain Rust that takes
//! messages in and puts effects out. Actors drive it: one
//! [`RealmActor`] owns each realm's state; transports (the WebSocket
//! endpoint, in-process components) decode messages and talk to it.
//!
//! [`Router`] is the handle applications hold: it finds or creates realms,
//! mounts the WebSocket endpoint ([`Router::websocket`]) and shuts
//! everything down gracefully ([`Router::shutdown`]).

pub mod actor;
pub mod broker;
pub mod dealer;
pub mod direct;
pub mod flow;
mod options;
pub mod outbox;
pub mod realm;
pub mod session;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

pub use actor::{RealmActor, RealmHandle};
pub use realm::{RealmCore, RealmSettings};
pub use session::PeerSession;

use crate::config::RouterConfig;

/// A hash map with a fast, randomly seeded hasher, for the routing state
/// (ids and URIs chosen by peers: seeded, so they cannot be picked to
/// collide).
pub type FastMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// A handle to a router; cheap to clone, shared by every connection.
///
/// ```no_run
/// # async fn demo() {
/// let router = wamp::Router::new(wamp::RouterConfig::default());
/// // ... serve it with `router.websocket("/ws")` in an actix-web App ...
/// router.shutdown(std::time::Duration::from_secs(5)).await;
/// # }
/// ```
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

struct Inner {
    config: RouterConfig,
    realms: Mutex<HashMap<String, RealmHandle>>,
    connections: AtomicUsize,
    connections_changed: Notify,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("realms", &self.realm_names())
            .field("connections", &self.connection_count())
            .finish()
    }
}

impl Router {
    /// A router with the given settings. Realms start when first joined, on
    /// the actix arbiter of the connection that joins them.
    pub fn new(config: RouterConfig) -> Self {
        Router {
            inner: Arc::new(Inner {
                config,
                realms: Mutex::new(HashMap::default()),
                connections: AtomicUsize::new(0),
                connections_changed: Notify::new(),
            }),
        }
    }

    /// The router's settings.
    pub fn config(&self) -> &RouterConfig {
        &self.inner.config
    }

    /// The realm called `name`, started if it is declared in the settings
    /// (or realms are created on demand) and not running yet. `None` if no
    /// such realm may exist. Must be called from within an actix system.
    pub fn realm(&self, name: &str) -> Option<RealmHandle> {
        let mut realms = self.inner.realms.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = realms.get(name) {
            if handle.addr().connected() {
                return Some(handle.clone());
            }
        }
        let config = &self.inner.config;
        if !config.auto_create_realms && !config.realms.iter().any(|r| r.name == name) {
            return None;
        }
        let settings = RealmSettings { uri_policy: config.uri_check };
        let handle = RealmHandle::start(RealmCore::new(name, settings), config.flow(name));
        realms.insert(name.to_owned(), handle.clone());
        Some(handle)
    }

    /// The names of the running realms.
    pub fn realm_names(&self) -> Vec<String> {
        let realms = self.inner.realms.lock().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<String> = realms.keys().cloned().collect();
        names.sort();
        names
    }

    /// How many transport connections are open.
    pub fn connection_count(&self) -> usize {
        self.inner.connections.load(Ordering::Acquire)
    }

    /// Counts a connection until the returned guard drops.
    pub(crate) fn track_connection(&self) -> ConnectionGuard {
        self.inner.connections.fetch_add(1, Ordering::AcqRel);
        ConnectionGuard { router: self.clone() }
    }

    /// Sends GOODBYE `wamp.close.system_shutdown` to every session of every
    /// realm and waits, at most `grace`, for the connections to close.
    /// Returns how many connections were still open when it gave up.
    pub async fn shutdown(&self, grace: Duration) -> usize {
        let realms: Vec<RealmHandle> = {
            let realms = self.inner.realms.lock().unwrap_or_else(PoisonError::into_inner);
            realms.values().cloned().collect()
        };
        for realm in realms {
            match realm.addr().send(actor::Shutdown).await {
                Ok(n) => tracing::info!(sessions = n, "sent GOODBYE system_shutdown"),
                Err(e) => tracing::warn!(error = %e, "a realm did not take the shutdown"),
            }
        }
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            let changed = self.inner.connections_changed.notified();
            let open = self.connection_count();
            if open == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                tracing::warn!(open, "connections still open after the shutdown grace period");
                return self.connection_count();
            }
        }
    }
}

/// Keeps a connection counted while it lives.
pub(crate) struct ConnectionGuard {
    router: Router,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.router.inner.connections.fetch_sub(1, Ordering::AcqRel);
        self.router.inner.connections_changed.notify_waiters();
    }
}
