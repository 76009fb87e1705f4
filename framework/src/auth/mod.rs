//! Who a session is: its authentication identity.
//!
//! Only anonymous authentication exists so far; ticket, WAMP-CRA and
//! cryptosign authenticators plug in here, between HELLO and WELCOME.

use crate::protocol::{Dict, Value};

/// The authenticated identity of a session, announced in WELCOME and used
/// for authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The authentication id (a user name; random for anonymous sessions).
    pub authid: String,
    /// The role the session acts in.
    pub authrole: String,
    /// The method that authenticated the session (`anonymous`, ...).
    pub authmethod: String,
    /// Who vouched for the identity (`static` for built-in rules).
    pub authprovider: String,
}

impl Identity {
    /// An anonymous identity with a random authid, as WAMP routers commonly
    /// give (`XXXX-XXXX-...`).
    pub fn anonymous() -> Self {
        use rand::Rng as _;
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::rng();
        let mut authid = String::with_capacity(29);
        for group in 0..6 {
            if group > 0 {
                authid.push('-');
            }
            for _ in 0..4 {
                authid.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
            }
        }
        Identity {
            authid,
            authrole: "anonymous".into(),
            authmethod: "anonymous".into(),
            authprovider: "static".into(),
        }
    }

    /// Writes the identity into WELCOME details.
    pub fn write_details(&self, details: &mut Dict) {
        details.insert("authid".into(), Value::from(self.authid.as_str()));
        details.insert("authrole".into(), Value::from(self.authrole.as_str()));
        details.insert("authmethod".into(), Value::from(self.authmethod.as_str()));
        details.insert("authprovider".into(), Value::from(self.authprovider.as_str()));
    }
}

/// Chooses how to authenticate a HELLO. A client that lists `authmethods`
/// without `anonymous` cannot be served until other methods exist.
pub fn authenticate(hello_details: &Dict) -> Result<Identity, AuthError> {
    if let Some(methods) = hello_details.get("authmethods") {
        let methods = methods.as_list().ok_or(AuthError::MalformedMethods)?;
        if !methods.iter().any(|m| m.as_str() == Some("anonymous")) {
            let offered: Vec<&str> = methods.iter().filter_map(Value::as_str).collect();
            return Err(AuthError::NoMethod(offered.join(", ")));
        }
    }
    Ok(Identity::anonymous())
}

/// Why a HELLO could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `authmethods` is not a list.
    #[error("HELLO.Details.authmethods must be a list of strings")]
    MalformedMethods,
    /// None of the offered methods is available.
    #[error("none of the offered authentication methods ({0}) is available; this router offers: anonymous")]
    NoMethod(String),
}

impl AuthError {
    /// The ABORT reason URI.
    pub fn uri(&self) -> &'static str {
        match self {
            AuthError::MalformedMethods => crate::protocol::errors::PROTOCOL_VIOLATION,
            AuthError::NoMethod(_) => crate::protocol::errors::NO_AUTH_METHOD,
        }
    }
}
