//! What a procedure or event handler learns besides its arguments.

use crate::protocol::{Dict, Id, Value};

fn string(details: &Dict, key: &str) -> Option<String> {
    details.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Details of an invocation, injected into procedures that ask for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallDetails {
    /// The INVOCATION request id.
    pub request: Id,
    /// The procedure called, when the registration is a pattern.
    pub procedure: Option<String>,
    /// The caller's session id, if the router discloses it.
    pub caller: Option<Id>,
    /// The caller's authid, if disclosed.
    pub caller_authid: Option<String>,
    /// The caller's authrole, if disclosed.
    pub caller_authrole: Option<String>,
    /// INVOCATION.Details as received.
    pub details: Dict,
}

impl CallDetails {
    /// Reads the details of an INVOCATION.
    pub fn new(request: Id, details: Dict) -> Self {
        CallDetails {
            request,
            procedure: string(&details, "procedure"),
            caller: details.get("caller").and_then(Value::as_u64),
            caller_authid: string(&details, "caller_authid"),
            caller_authrole: string(&details, "caller_authrole"),
            details,
        }
    }
}

/// Details of an event, injected into handlers that ask for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventDetails {
    /// The publication id.
    pub publication: Id,
    /// The topic, when the subscription is a pattern.
    pub topic: Option<String>,
    /// The publisher's session id, if disclosed.
    pub publisher: Option<Id>,
    /// The publisher's authid, if disclosed.
    pub publisher_authid: Option<String>,
    /// The publisher's authrole, if disclosed.
    pub publisher_authrole: Option<String>,
    /// EVENT.Details as received.
    pub details: Dict,
}

impl EventDetails {
    /// Reads the details of an EVENT.
    pub fn new(publication: Id, details: Dict) -> Self {
        EventDetails {
            publication,
            topic: string(&details, "topic"),
            publisher: details.get("publisher").and_then(Value::as_u64),
            publisher_authid: string(&details, "publisher_authid"),
            publisher_authrole: string(&details, "publisher_authrole"),
            details,
        }
    }
}

/// Who the session is, as the router's WELCOME said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionInfo {
    /// The session id.
    pub id: Id,
    /// The realm joined.
    pub realm: String,
    /// The authentication id.
    pub authid: String,
    /// The role.
    pub authrole: String,
    /// WELCOME.Details as received.
    pub details: Dict,
}

impl SessionInfo {
    /// Reads a WELCOME.
    pub fn new(id: Id, realm: &str, details: Dict) -> Self {
        SessionInfo {
            id,
            realm: string(&details, "realm").unwrap_or_else(|| realm.to_owned()),
            authid: string(&details, "authid").unwrap_or_default(),
            authrole: string(&details, "authrole").unwrap_or_default(),
            details,
        }
    }
}
