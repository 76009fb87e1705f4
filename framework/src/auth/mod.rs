//! Who a session is (authentication) and what it may do (authorization).
//!
//! * Authentication: the methods a realm offers ([`AuthMethod`]:
//!   `anonymous`, `ticket`, `wampcra`, `cryptosign`) and the principals it
//!   knows ([`Principal`]). The router answers HELLO with WELCOME or
//!   CHALLENGE and checks AUTHENTICATE before any realm is created or
//!   joined, and slows down peer addresses that fail too often.
//! * Authorization: the permissions of a realm's roles per URI pattern
//!   ([`RoleConfig`], [`Permission`]), which the realm checks on every
//!   CALL, REGISTER, PUBLISH and SUBSCRIBE.
//!
//! The settings are part of each realm's configuration
//! ([`RealmConfig`](crate::config::RealmConfig)); the guide
//! [`security`](crate::guide::security) explains them
//! around a complete example.

pub(crate) mod authenticator;
pub(crate) mod authorizer;
pub(crate) mod cryptosign;
pub(crate) mod dynamic;
mod hex;
pub(crate) mod identity;
mod permissions;
mod secret;
mod settings;
mod throttle;
pub(crate) mod wampcra;

pub use authenticator::{AuthConfigError, DYNAMIC_PROVIDER, STATIC_PROVIDER};
pub(crate) use authenticator::{Authenticator, Next, Pending, Query};
pub(crate) use identity::Identity;
pub(crate) use permissions::{Denied, Roles};
pub use secret::{Secret, SecretError, SecretSource};
pub use settings::{
    default_methods, Action, AuthMethod, Permission, Principal, RoleConfig, DEFAULT_ANONYMOUS_ROLE,
    TRUSTED_ROLE,
};
pub(crate) use throttle::FailureLimit;

use crate::protocol::errors;

/// Lower-case hex digits of `bytes` (cryptosign keys and signatures).
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The bytes of hex `text`, or `None` if it is not hex.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    hex::decode(text)
}

/// Why a session could not join: the ABORT's reason ([`AuthError::uri`])
/// and message (the error's text). Failures of proof all read the same.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `authmethods` is not a list of strings.
    #[error("HELLO.Details.authmethods must be a list of strings")]
    MalformedMethods,
    /// None of the offered methods is available.
    #[error(
        "none of the offered authentication methods ({offered}) is available; this realm offers: {available}"
    )]
    NoMethod {
        /// What the client offered.
        offered: String,
        /// What the realm has.
        available: String,
    },
    /// The method needs `HELLO.Details.authid`.
    #[error("{} authentication needs HELLO.Details.authid", .0.name())]
    MissingAuthid(AuthMethod),
    /// The client asked for something the method here does not do.
    #[error("{0}")]
    Unsupported(String),
    /// The proof was wrong, or the authid or key unknown.
    #[error("authentication failed")]
    Failed,
    /// The peer's address failed too often.
    #[error("too many failed authentications from this address; try again in {0} s")]
    Throttled(u64),
    /// The dynamic authenticator could not be asked or did not answer (not
    /// registered, failed, timed out, too busy). Not the peer's failure:
    /// it does not count against its address.
    #[error("the authenticator could not be asked; try again later")]
    Unavailable,
    /// The realm admits nobody (its settings are invalid; the router's log
    /// says why).
    #[error("this realm admits no sessions: its authentication settings are invalid")]
    RealmClosed,
}

impl AuthError {
    /// Whether the failure is the peer's, and counts against its address
    /// (`max_auth_failures`): every one but an authenticator that could
    /// not be asked.
    pub fn counts_against_peer(&self) -> bool {
        *self != AuthError::Unavailable
    }

    /// The ABORT reason URI.
    pub fn uri(&self) -> &'static str {
        match self {
            AuthError::MalformedMethods => errors::PROTOCOL_VIOLATION,
            AuthError::NoMethod { .. } => errors::NO_AUTH_METHOD,
            AuthError::MissingAuthid(_)
            | AuthError::Unsupported(_)
            | AuthError::Failed
            | AuthError::Throttled(_)
            | AuthError::Unavailable => errors::AUTHENTICATION_FAILED,
            AuthError::RealmClosed => errors::NOT_AUTHORIZED,
        }
    }
}
