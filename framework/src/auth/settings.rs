//! The authentication and authorization settings of a realm, as they are
//! written in the router's configuration file.
//!
//! ```toml
//! [[realms]]
//! name = "authrealm"
//! authmethods = ["ticket", "wampcra", "cryptosign"]
//!
//! [[realms.principals]]
//! authid = "ticket-user"
//! method = "ticket"
//! secret_env = "TICKET_USER_SECRET"
//! role = "full"
//!
//! [[realms.roles]]
//! name = "full"
//! permissions = [{ uri = "", match = "prefix", allow = ["call", "register", "publish", "subscribe"] }]
//! ```

use serde::{Deserialize, Serialize};

use super::secret::SecretSource;
use crate::protocol::options::MatchPolicy;

/// A way for a client to prove who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// No proof: the session gets the realm's anonymous role.
    Anonymous,
    /// A shared secret sent as is (use it over TLS only).
    Ticket,
    /// WAMP Challenge-Response: an HMAC-SHA256 of a challenge with the
    /// secret, or with a key derived from it by PBKDF2 (salted).
    Wampcra,
    /// An Ed25519 signature of a random challenge.
    Cryptosign,
}

impl AuthMethod {
    /// The method's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::Anonymous => "anonymous",
            AuthMethod::Ticket => "ticket",
            AuthMethod::Wampcra => "wampcra",
            AuthMethod::Cryptosign => "cryptosign",
        }
    }

    /// The method called `name` on the wire.
    pub fn from_name(name: &str) -> Option<Self> {
        [AuthMethod::Anonymous, AuthMethod::Ticket, AuthMethod::Wampcra, AuthMethod::Cryptosign]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// The methods a realm offers when its configuration names none.
pub fn default_methods() -> Vec<AuthMethod> {
    vec![AuthMethod::Anonymous]
}

/// The role anonymous sessions get when the configuration names none.
pub const DEFAULT_ANONYMOUS_ROLE: &str = "anonymous";

/// The role in-process components join with unless they say otherwise;
/// it may do anything, unless the realm's roles define it.
pub const TRUSTED_ROLE: &str = "trusted";

/// A user a realm knows, for one authentication method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// The authentication id the client gives in `HELLO.Details.authid`.
    pub authid: String,
    /// The method this entry is for (`ticket`, `wampcra` or
    /// `cryptosign`). One authid may have an entry per method.
    pub method: AuthMethod,
    /// The role the session gets.
    pub role: String,
    /// The ticket or WAMP-CRA secret (inline, or from a variable or file).
    #[serde(flatten)]
    pub secret: SecretSource,
    /// WAMP-CRA salted: the PBKDF2 salt. With it the key is derived from
    /// the secret, as the client does with the salt, iterations and key
    /// length the challenge gives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// WAMP-CRA salted: PBKDF2 iterations (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u32>,
    /// WAMP-CRA salted: derived key length in bytes (default 32).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keylen: Option<u32>,
    /// Cryptosign: the Ed25519 public keys (64 hex digits each) that may
    /// authenticate as this principal.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorized_keys: Vec<String>,
}

/// What a role may do on the URIs a rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// CALL a procedure.
    Call,
    /// REGISTER a procedure.
    Register,
    /// PUBLISH to a topic.
    Publish,
    /// SUBSCRIBE to a topic.
    Subscribe,
}

impl Action {
    /// The action's name, as in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Action::Call => "call",
            Action::Register => "register",
            Action::Publish => "publish",
            Action::Subscribe => "subscribe",
        }
    }
}

/// One rule of a role: the actions allowed on the URIs `uri` matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Permission {
    /// The URI or pattern.
    pub uri: String,
    /// How `uri` matches: `exact` (default), `prefix` or `wildcard`.
    #[serde(default, rename = "match")]
    pub match_policy: MatchPolicy,
    /// The actions allowed; those not listed are denied.
    #[serde(default)]
    pub allow: Vec<Action>,
}

/// A role of a realm: what the sessions that have it may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// The role's name (`authrole`).
    pub name: String,
    /// The rules. For a URI the most specific matching rule decides (an
    /// exact rule, then the longest prefix, then a wildcard); no matching
    /// rule: denied.
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Whether the role's calls may ask to disclose the caller
    /// (`CALL.Options.disclose_me`).
    #[serde(default)]
    pub disclose_caller: bool,
    /// Whether the role's publications may ask to disclose the publisher
    /// (`PUBLISH.Options.disclose_me`).
    #[serde(default)]
    pub disclose_publisher: bool,
    /// Whether the role may use the meta API (call `wamp.*` procedures,
    /// subscribe to `wamp.*` topics).
    #[serde(default)]
    pub meta_api: bool,
}
