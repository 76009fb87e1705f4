//! The role and feature dictionaries peers announce in HELLO and WELCOME.

use super::value::{Dict, Value};

/// Builds `{feature: true, ...}`.
fn features(names: &[&str]) -> Value {
    let features: Dict = names.iter().map(|n| ((*n).to_owned(), Value::Bool(true))).collect();
    Value::Dict(Dict::from([("features".to_owned(), Value::Dict(features))]))
}

/// Broker features this router implements.
pub const BROKER_FEATURES: &[&str] = &["publisher_exclusion"];

/// Dealer features this router implements.
pub const DEALER_FEATURES: &[&str] = &[];

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
