//! The embeddable WAMP router: realms, broker and dealer.
//!
//! The routing logic (a realm's core with its broker and dealer, and each
//! peer's session state machine) is plain Rust that takes messages in and
//! puts effects out; it stays private to the crate (the architecture
//! guide, [`guide::architecture`](crate::guide::architecture), describes
//! it). Actors drive it: one realm actor owns each realm's state;
//! transports (the WebSocket endpoint, in-process components) decode
//! messages and talk to it.
//!
//! [`Router`] is the handle applications hold: it finds or creates realms,
//! mounts the WebSocket endpoint ([`Router::websocket`]) and shuts
//! everything down gracefully ([`Router::shutdown`]).

pub(crate) mod actor;
pub(crate) mod broker;
pub(crate) mod clock;
pub(crate) mod dealer;
pub(crate) mod direct;
pub(crate) mod flow;
mod id_map;
pub(crate) mod outbox;
pub(crate) mod patterns;
pub(crate) mod realm;
pub(crate) mod session;
mod slot_queue;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

pub(crate) use actor::RealmHandle;
use realm::RealmCore;

use crate::auth::{AuthError, Authenticator, FailureLimit};
use crate::config::RouterConfig;

/// A hash map with a fast, randomly seeded hasher, for keys a peer
/// chooses (URIs, its request ids): seeded, so they cannot be picked to
/// collide. Ids this side chose go in an [`IdMap`].
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// A hash set with the same hasher as [`FastMap`].
pub(crate) type FastSet<T> = std::collections::HashSet<T, ahash::RandomState>;

pub(crate) use id_map::{IdMap, IdSet};

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
    /// The authentication of each configured realm; `None` for a realm
    /// whose settings are invalid (it admits nobody).
    authenticators: HashMap<String, Option<Arc<Authenticator>>>,
    /// The authentication of realms created on demand.
    anonymous: Arc<Authenticator>,
    auth_failures: FailureLimit,
    authenticator_sessions: crate::auth::dynamic::AuthenticatorSessions,
    realms: Mutex<HashMap<String, RealmHandle>>,
    /// The thread the realms' tasks run on, started with the first realm
    /// (see [`RealmHandle::start`]).
    realm_thread: Mutex<Option<actix::Arbiter>>,
    connections: AtomicUsize,
    /// Open connections per peer address (addresses with none are removed).
    per_address: Mutex<HashMap<IpAddr, usize>>,
    connections_changed: Notify,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The realms end with their thread (their actors stop, and tell
        // their sessions).
        if let Some(thread) = self.realm_thread.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            thread.stop();
        }
    }
}

/// Why the router gave no realm to a session that asked for one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum NoRealm {
    /// The realm is not configured and realms are not created on demand.
    #[error("no realm '{0}' on this router")]
    Unknown(String),
    /// Creating it would pass the router's `max_realms`.
    #[error("no realm '{name}' on this router, and {limit} realms already run (max_realms)")]
    TooMany {
        /// The realm asked for.
        name: String,
        /// The limit.
        limit: usize,
    },
}

/// Why the router refused a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ConnectionRefused {
    /// The router serves `max_connections` already.
    #[error("the router serves {0} connections, its limit (max_connections); try again later")]
    Router(usize),
    /// The peer's address has `max_connections_per_address` open already.
    #[error("{address} has {limit} connections open, the router's limit per address (max_connections_per_address)")]
    Address {
        /// The peer's address.
        address: IpAddr,
        /// The limit.
        limit: usize,
    },
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
    /// a thread the router starts for them then (an actix arbiter of the
    /// running system) and stops when the last clone of it is dropped.
    ///
    /// A realm whose authentication settings are invalid (see
    /// [`RouterConfig::check_auth`], which [`RouterConfig::load`] runs)
    /// admits no session; the error is logged.
    pub fn new(config: RouterConfig) -> Self {
        let authenticators = config
            .realms
            .iter()
            .map(|realm| {
                let auth = Authenticator::from_config(realm)
                    .map_err(|e| tracing::error!(error = %e, "the realm will admit no session"))
                    .ok()
                    .map(Arc::new);
                (realm.name.clone(), auth)
            })
            .collect();
        let auth_failures =
            FailureLimit::new(config.max_auth_failures, Duration::from_secs(config.auth_failure_window_secs));
        Router {
            inner: Arc::new(Inner {
                authenticators,
                anonymous: Arc::new(Authenticator::anonymous()),
                auth_failures,
                authenticator_sessions: Default::default(),
                config,
                realms: Mutex::new(HashMap::default()),
                realm_thread: Mutex::new(None),
                connections: AtomicUsize::new(0),
                per_address: Mutex::new(HashMap::default()),
                connections_changed: Notify::new(),
            }),
        }
    }

    /// The router's settings.
    pub fn config(&self) -> &RouterConfig {
        &self.inner.config
    }

    /// How sessions authenticate to realm `name` (realms created on
    /// demand: anonymously).
    pub(crate) fn authenticator(&self, name: &str) -> Result<Arc<Authenticator>, AuthError> {
        match self.inner.authenticators.get(name) {
            Some(Some(auth)) => Ok(auth.clone()),
            Some(None) => Err(AuthError::RealmClosed),
            None => Ok(self.inner.anonymous.clone()),
        }
    }

    /// The router's own sessions that call dynamic authenticators.
    pub(crate) fn authenticator_sessions(&self) -> &crate::auth::dynamic::AuthenticatorSessions {
        &self.inner.authenticator_sessions
    }

    /// The failed authentications per peer address.
    pub(crate) fn auth_failures(&self) -> &FailureLimit {
        &self.inner.auth_failures
    }

    /// The realm called `name`, started if it is declared in the settings
    /// (or realms are created on demand, up to `max_realms`) and not
    /// running yet. Must be called from within an actix system.
    ///
    /// A realm created on demand stops once it has had no session for
    /// `realm_idle_timeout_secs`; it is created again when asked for.
    pub(crate) fn realm(&self, name: &str) -> Result<RealmHandle, NoRealm> {
        let mut realms = self.inner.realms.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(handle) = realms.get(name) {
            if handle.connected() {
                return Ok(handle.clone());
            }
        }
        let config = &self.inner.config;
        let configured = config.realms.iter().any(|r| r.name == name);
        if !configured {
            if !config.auto_create_realms {
                return Err(NoRealm::Unknown(name.to_owned()));
            }
            // Realms that stopped (idle) make room.
            realms.retain(|_, handle| handle.connected());
            let on_demand = realms.keys().filter(|n| !config.realms.iter().any(|r| &r.name == *n)).count();
            if on_demand >= config.max_realms {
                return Err(NoRealm::TooMany { name: name.to_owned(), limit: config.max_realms });
            }
        }
        let idle_timeout = (!configured).then(|| Duration::from_secs(config.realm_idle_timeout_secs));
        let mut thread = self.inner.realm_thread.lock().unwrap_or_else(PoisonError::into_inner);
        let thread = thread.get_or_insert_with(actix::Arbiter::new);
        let handle = RealmHandle::start(
            RealmCore::new(name, config.realm_settings()).with_roles(config.roles(name)),
            config.flow(name),
            idle_timeout,
            &thread.handle(),
        );
        realms.insert(name.to_owned(), handle.clone());
        Ok(handle)
    }

    /// The names of the running realms.
    pub fn realm_names(&self) -> Vec<String> {
        let realms = self.inner.realms.lock().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<String> =
            realms.iter().filter(|(_, handle)| handle.connected()).map(|(name, _)| name.clone()).collect();
        names.sort();
        names
    }

    /// How many transport connections are open.
    pub fn connection_count(&self) -> usize {
        self.inner.connections.load(Ordering::Acquire)
    }

    /// Admits a new connection from `address` if the router's connection
    /// limits allow it; it is counted until the returned guard drops.
    pub(crate) fn admit(&self, address: Option<IpAddr>) -> Result<ConnectionGuard, ConnectionRefused> {
        let config = &self.inner.config;
        let open = self.inner.connections.fetch_add(1, Ordering::AcqRel);
        // The guard undoes the counting if the connection is refused.
        let mut guard = ConnectionGuard { router: self.clone(), address: None };
        if open >= config.max_connections {
            return Err(ConnectionRefused::Router(config.max_connections));
        }
        if let Some(address) = address {
            let mut per_address = self.inner.per_address.lock().unwrap_or_else(PoisonError::into_inner);
            let count = per_address.entry(address).or_insert(0);
            if *count >= config.max_connections_per_address {
                if *count == 0 {
                    per_address.remove(&address);
                }
                return Err(ConnectionRefused::Address {
                    address,
                    limit: config.max_connections_per_address,
                });
            }
            *count += 1;
            guard.address = Some(address);
        }
        Ok(guard)
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
#[derive(Debug)]
pub(crate) struct ConnectionGuard {
    router: Router,
    address: Option<IpAddr>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Some(address) = self.address {
            let mut per_address =
                self.router.inner.per_address.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = per_address.get_mut(&address) {
                *count -= 1;
                if *count == 0 {
                    per_address.remove(&address);
                }
            }
        }
        self.router.inner.connections.fetch_sub(1, Ordering::AcqRel);
        self.router.inner.connections_changed.notify_waiters();
    }
}
