//! Why a session could not join ([`AuthError`]): what the router puts in
//! its ABORT. Crate-private; the fuzzers reach it through `internals`.

use super::AuthMethod;
use crate::protocol::errors;

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
