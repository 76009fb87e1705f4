//! The routing and client cores, for the project's own fuzzers,
//! benchmarks and conformance tests, which drive them without sockets or
//! actors. Compiled only with the `internals` feature; not part of the
//! API, and free to change in any release.

pub use crate::auth::authenticator::{Authenticator, Next};
pub use crate::client::core::{ClientCore, ClientEffect};
pub use crate::client::driver::{Hooks, SessionActor, Start};
pub use crate::client::Client;
pub use crate::router::actor::RealmHandle;
pub use crate::router::broker::retained::RetentionLimits;
pub use crate::router::broker::RESERVED_PREFIX;
pub use crate::router::outbox::{Effect, Outbox};
pub use crate::router::realm::{Member, RealmCore, RealmSettings, SessionLimits};
pub use crate::router::session::{PeerSession, Step};

/// A client for a session actor started by hand (e.g. in-process on
/// another arbiter).
pub fn client_of(actor: actix::Addr<SessionActor>) -> Client {
    Client::from_addr(actor, 0)
}

/// Starts a session actor on the current arbiter.
pub fn start_client(actor: SessionActor) -> Client {
    Client::start(actor)
}

/// A realm of `router`, created on demand if the configuration allows.
pub fn realm(router: &crate::Router, name: &str) -> Result<RealmHandle, crate::router::NoRealm> {
    router.realm(name)
}

/// How an in-process component identifies itself to its realm.
pub fn local_identity(name: &str) -> crate::auth::Identity {
    crate::component::local_identity(name)
}
