//! Who a session is once it joined: the identity its authentication
//! gave, announced in WELCOME and used for authorization. Reachable from
//! outside the crate only through `internals`, for the project's own
//! benchmarks and tests.

use super::{DEFAULT_ANONYMOUS_ROLE, STATIC_PROVIDER};
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
    /// Who vouched for the identity (`static` for the configuration).
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
            authrole: DEFAULT_ANONYMOUS_ROLE.into(),
            authmethod: "anonymous".into(),
            authprovider: STATIC_PROVIDER.into(),
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
