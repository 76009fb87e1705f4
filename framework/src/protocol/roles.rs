//! The role and feature dictionaries peers announce in HELLO and WELCOME.
//!
//! A router announces what it implements ([`router_roles`]); a client
//! announces the roles it plays and, per role, the advanced features it
//! understands ([`ClientRoles`]). The router reads the latter to decide,
//! for example, whether a callee can be sent INTERRUPT.

use super::{Dict, Value};

/// Builds `{features: {name: true, ...}}`.
fn features(names: &[&str]) -> Value {
    let features: Dict = names.iter().map(|n| ((*n).to_owned(), Value::Bool(true))).collect();
    Value::Dict(Dict::from([("features".to_owned(), Value::Dict(features))]))
}

/// Broker features this router implements.
pub const BROKER_FEATURES: &[&str] = &[
    "publisher_exclusion",
    "publisher_identification",
    "subscriber_blackwhite_listing",
    "pattern_based_subscription",
    "session_meta_api",
    "subscription_meta_api",
    "event_retention",
    "payload_passthru_mode",
];

/// Dealer features this router implements.
pub const DEALER_FEATURES: &[&str] = &[
    "call_canceling",
    "call_timeout",
    "caller_identification",
    "progressive_call_results",
    "progressive_call_invocations",
    "pattern_based_registration",
    "shared_registration",
    "session_meta_api",
    "registration_meta_api",
    "testament_meta_api",
    "payload_passthru_mode",
];

/// The `roles` dictionary of a router's WELCOME: broker and dealer with the
/// features implemented.
///
/// ```
/// let roles = wamp::protocol::roles::router_roles();
/// assert!(roles.contains_key("broker") && roles.contains_key("dealer"));
/// ```
pub fn router_roles() -> Dict {
    Dict::from([
        ("broker".to_owned(), features(BROKER_FEATURES)),
        ("dealer".to_owned(), features(DEALER_FEATURES)),
    ])
}

/// A role a client can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Calls procedures.
    Caller,
    /// Registers procedures and answers their calls.
    Callee,
    /// Publishes events.
    Publisher,
    /// Subscribes to topics.
    Subscriber,
}

impl Role {
    /// Every role, in the order of their bits.
    pub const ALL: [Role; 4] = [Role::Caller, Role::Callee, Role::Publisher, Role::Subscriber];

    /// The role's name in HELLO.
    pub fn name(self) -> &'static str {
        match self {
            Role::Caller => "caller",
            Role::Callee => "callee",
            Role::Publisher => "publisher",
            Role::Subscriber => "subscriber",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The client features the router acts on; others a client announces are
/// accepted and not kept.
pub const CLIENT_FEATURES: &[&str] = &[
    "call_canceling",
    "progressive_call_results",
    "progressive_call_invocations",
    "caller_identification",
    "call_timeout",
    "publisher_identification",
    "pattern_based_subscription",
    "pattern_based_registration",
    "shared_registration",
    "payload_passthru_mode",
];

/// The roles and features a client announced in `HELLO.Details.roles`.
///
/// ```
/// use wamp::protocol::roles::{ClientRoles, Role};
/// use wamp::protocol::{Dict, Value};
///
/// let features = Dict::from([("call_canceling".to_owned(), Value::Bool(true))]);
/// let callee = Dict::from([("features".to_owned(), Value::Dict(features))]);
/// let roles = Dict::from([("callee".to_owned(), Value::Dict(callee))]);
/// let details = Dict::from([("roles".to_owned(), Value::Dict(roles))]);
/// let announced = ClientRoles::from_hello(&details).unwrap();
/// assert!(announced.plays(Role::Callee) && !announced.plays(Role::Caller));
/// assert!(announced.supports(Role::Callee, "call_canceling"));
/// assert!(ClientRoles::from_hello(&Dict::new()).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientRoles {
    /// Bit `r` set: the client plays `Role::ALL[r]`.
    roles: u8,
    /// Per role, bit `f` set: it supports `CLIENT_FEATURES[f]`.
    features: [u16; 4],
}

/// `HELLO.Details.roles` is absent, malformed or names no client role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HELLO.Details.roles {0}")]
pub struct RolesError(&'static str);

impl ClientRoles {
    /// Every role, no advanced feature: what the router assumes of its
    /// in-process components.
    pub const BASIC: ClientRoles = ClientRoles { roles: 0b1111, features: [0; 4] };

    /// Reads `HELLO.Details.roles`: a dictionary naming at least one of
    /// the client roles, each a dictionary whose optional `features` is a
    /// dictionary of booleans. Unknown roles and features are ignored.
    pub fn from_hello(details: &Dict) -> Result<ClientRoles, RolesError> {
        let roles = match details.get("roles") {
            None => return Err(RolesError("is missing; a client must announce the roles it plays")),
            Some(Value::Dict(roles)) => roles,
            Some(_) => return Err(RolesError("must be a dictionary")),
        };
        let mut announced = ClientRoles::default();
        for role in Role::ALL {
            let Some(entry) = roles.get(role.name()) else { continue };
            let entry = entry.as_dict().ok_or(RolesError("entries must be dictionaries"))?;
            announced.roles |= 1 << role.index();
            match entry.get("features") {
                None => {}
                Some(Value::Dict(features)) => {
                    for (bit, name) in CLIENT_FEATURES.iter().enumerate() {
                        if features.get(*name).and_then(Value::as_bool) == Some(true) {
                            announced.features[role.index()] |= 1 << bit;
                        }
                    }
                }
                Some(_) => return Err(RolesError("features must be dictionaries")),
            }
        }
        if announced.roles == 0 {
            return Err(RolesError("names none of the roles caller, callee, publisher, subscriber"));
        }
        Ok(announced)
    }

    /// Whether the client plays `role`.
    pub fn plays(&self, role: Role) -> bool {
        self.roles & (1 << role.index()) != 0
    }

    /// Whether the client announced `feature` (one of [`CLIENT_FEATURES`])
    /// for `role`.
    pub fn supports(&self, role: Role, feature: &str) -> bool {
        CLIENT_FEATURES
            .iter()
            .position(|f| *f == feature)
            .is_some_and(|bit| self.features[role.index()] & (1 << bit) != 0)
    }
}
