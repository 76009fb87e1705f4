//! What this client tells a router it supports, per role: the same for a
//! session over WebSocket (in its HELLO) and for an in-process one (the
//! realm reads the same roles), so a router treats both alike.

use crate::protocol::roles::ClientRoles;
use crate::protocol::{Dict, Value};

/// The advanced features this client supports, per role: those whose
/// details it reads (`CallDetails`, `EventDetails`), whose options it sends
/// (`CallOptions`, `PublishOptions`, `SubscribeOptions`,
/// `RegisterOptions`) and whose messages it handles (progressive RESULT,
/// INTERRUPT, progressive INVOCATION).
pub(crate) const CLIENT_FEATURES: [(&str, &[&str]); 4] = [
    (
        "caller",
        &[
            "call_canceling",
            "call_timeout",
            "caller_identification",
            "progressive_call_results",
            "progressive_call_invocations",
        ],
    ),
    (
        "callee",
        &[
            "call_canceling",
            "call_timeout",
            "caller_identification",
            "pattern_based_registration",
            "shared_registration",
            "progressive_call_results",
            "progressive_call_invocations",
        ],
    ),
    ("publisher", &["publisher_exclusion", "publisher_identification", "subscriber_blackwhite_listing"]),
    ("subscriber", &["publisher_identification", "pattern_based_subscription", "event_retention"]),
];

/// `HELLO.Details.roles`: all four client roles, each with its features.
pub(crate) fn hello_roles() -> Dict {
    CLIENT_FEATURES
        .into_iter()
        .map(|(role, features)| {
            let features: Dict = features.iter().map(|f| ((*f).to_owned(), Value::Bool(true))).collect();
            (role.to_owned(), Value::Dict(Dict::from([("features".to_owned(), Value::Dict(features))])))
        })
        .collect()
}

/// The roles as a router reads them from [`hello_roles`].
pub(crate) fn client_roles() -> ClientRoles {
    let details = Dict::from([("roles".to_owned(), Value::Dict(hello_roles()))]);
    // The roles above always name a role; the fallback is unreachable.
    ClientRoles::from_hello(&details).unwrap_or(ClientRoles::BASIC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::roles::Role;

    #[test]
    fn every_role_is_played_with_the_features_the_client_handles() {
        let roles = client_roles();
        assert!(Role::ALL.iter().all(|role| roles.plays(*role)));
        for (role, feature) in [
            (Role::Callee, "caller_identification"),
            (Role::Callee, "call_canceling"),
            (Role::Callee, "progressive_call_invocations"),
            (Role::Caller, "progressive_call_results"),
            (Role::Subscriber, "pattern_based_subscription"),
        ] {
            assert!(roles.supports(role, feature), "{} {feature}", role.name());
        }
        assert_ne!(roles, ClientRoles::BASIC);
    }
}
