//! How a client proves who it is to the router: the HELLO details of each
//! authentication method and the answer to the router's CHALLENGE.
//!
//! ```
//! use wamp::client::{ConnectOptions, Credentials};
//!
//! let options = ConnectOptions {
//!     credentials: Credentials::wampcra("cra-user", "cra-secret"),
//!     ..ConnectOptions::new("wss://router.example.com/ws", "authrealm")
//! };
//! assert_eq!(options.credentials.method(), "wampcra");
//! ```

use std::fmt;
use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;

use ring::signature::{Ed25519KeyPair, KeyPair as _};

use crate::auth::wampcra::{self, Salting};
use crate::auth::{AuthMethod, Secret, SecretSource};
use crate::protocol::{Dict, Value};

/// A router may ask for at most this many PBKDF2 iterations: more would let
/// a hostile router make the client spin.
pub const MAX_PBKDF2_ITERATIONS: u64 = 10_000_000;

/// What a client authenticates with. The default is `Anonymous`. The
/// `Debug` form never shows a secret.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Credentials {
    /// No authentication (`authmethods` is left out of HELLO).
    #[default]
    Anonymous,
    /// A ticket: the secret itself is sent, so use it over `wss://` only.
    Ticket {
        /// The authentication id.
        authid: String,
        /// The ticket.
        ticket: Secret,
    },
    /// WAMP-CRA, plain or salted (the router's CHALLENGE says which).
    WampCra {
        /// The authentication id.
        authid: String,
        /// The secret (never sent).
        secret: Secret,
    },
    /// WAMP-cryptosign with an Ed25519 key.
    Cryptosign {
        /// The authentication id; without it the router finds the
        /// principal by the public key.
        authid: Option<String>,
        /// The key pair.
        key: Arc<Ed25519KeyPair>,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Ticket { authid, .. } => f.debug_struct("Ticket").field("authid", authid).finish(),
            Credentials::WampCra { authid, .. } => f.debug_struct("WampCra").field("authid", authid).finish(),
            Credentials::Cryptosign { authid, key } => f
                .debug_struct("Cryptosign")
                .field("authid", authid)
                .field("pubkey", &crate::auth::hex_encode(key.public_key().as_ref()))
                .finish(),
        }
    }
}

/// A key file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot use the private key file {file}: {reason}")]
pub struct KeyFileError {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

impl Credentials {
    /// Ticket authentication.
    pub fn ticket(authid: impl Into<String>, ticket: impl Into<String>) -> Self {
        Credentials::Ticket { authid: authid.into(), ticket: Secret::new(ticket) }
    }

    /// WAMP-CRA authentication.
    pub fn wampcra(authid: impl Into<String>, secret: impl Into<String>) -> Self {
        Credentials::WampCra { authid: authid.into(), secret: Secret::new(secret) }
    }

    /// Cryptosign with the Ed25519 private key whose 32-byte seed `file`
    /// holds as 64 hex digits (the form AutobahnPython reads and writes).
    pub fn cryptosign_key_file(authid: Option<String>, file: &Path) -> Result<Self, KeyFileError> {
        let error = |reason: String| KeyFileError { file: file.display().to_string(), reason };
        let text = std::fs::read_to_string(file).map_err(|e| error(e.to_string()))?;
        let seed = crate::auth::hex_decode(text.trim())
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| error("expected 64 hex digits (an Ed25519 private key seed)".into()))?;
        let key = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|e| error(e.to_string()))?;
        Ok(Credentials::Cryptosign { authid, key: Arc::new(key) })
    }

    /// The method's name on the wire.
    pub fn method(&self) -> &'static str {
        match self {
            Credentials::Anonymous => "anonymous",
            Credentials::Ticket { .. } => "ticket",
            Credentials::WampCra { .. } => "wampcra",
            Credentials::Cryptosign { .. } => "cryptosign",
        }
    }

    /// Adds `authmethods`, `authid` and `authextra` to HELLO.Details.
    pub(crate) fn write_hello(&self, details: &mut Dict) {
        let authid = match self {
            Credentials::Anonymous => return,
            Credentials::Ticket { authid, .. } | Credentials::WampCra { authid, .. } => Some(authid.as_str()),
            Credentials::Cryptosign { authid, key } => {
                let pubkey = crate::auth::hex_encode(key.public_key().as_ref());
                let extra = Dict::from([("pubkey".to_owned(), Value::from(pubkey))]);
                details.insert("authextra".into(), Value::Dict(extra));
                authid.as_deref()
            }
        };
        details.insert("authmethods".into(), Value::List(vec![Value::from(self.method())]));
        if let Some(authid) = authid {
            details.insert("authid".into(), Value::from(authid));
        }
    }

    /// The AUTHENTICATE signature that answers a CHALLENGE, or why there
    /// is none.
    pub(crate) fn answer(&self, method: &str, extra: &Dict) -> Result<String, String> {
        if method != self.method() {
            return Err(match self {
                Credentials::Anonymous => {
                    format!("the router asks for {method} authentication, and no credentials are configured")
                }
                _ => format!("the router asks for {method} authentication, not {}", self.method()),
            });
        }
        let text = |key: &str| extra.get(key).and_then(Value::as_str);
        match self {
            Credentials::Anonymous => Err("a challenge for anonymous authentication".into()),
            Credentials::Ticket { ticket, .. } => Ok(ticket.expose().to_owned()),
            Credentials::WampCra { secret, .. } => {
                let challenge = text("challenge").ok_or("the WAMP-CRA challenge has no challenge text")?;
                let salting = match text("salt") {
                    None => None,
                    Some(salt) => Some(salting(salt, extra)?),
                };
                let key = wampcra::signing_key(secret.expose(), salting.as_ref());
                Ok(wampcra::sign(&key, challenge))
            }
            Credentials::Cryptosign { key, .. } => {
                let challenge = text("challenge")
                    .and_then(crate::auth::hex_decode)
                    .filter(|bytes| bytes.len() == 32)
                    .ok_or("the cryptosign challenge is not 32 bytes in hex")?;
                if extra.get("channel_binding").is_some_and(|b| !matches!(b, Value::Null)) {
                    return Err("the router asks for channel binding, which this client does not do".into());
                }
                // The signature, then what was signed (as AutobahnPython
                // sends it; Crossbar requires both).
                let signature = key.sign(&challenge);
                Ok(format!(
                    "{}{}",
                    crate::auth::hex_encode(signature.as_ref()),
                    crate::auth::hex_encode(&challenge)
                ))
            }
        }
    }
}

/// Credentials as settings (the `[auth]` table of a host's `wamp.toml`,
/// or `WAMP_AUTH__*` variables), so that secrets come from the
/// environment or a file rather than the code.
///
/// ```toml
/// [auth]
/// method = "wampcra"
/// authid = "cra-user"
/// secret_env = "CRA_USER_SECRET"   # or secret = "...", or secret_file = "..."
/// ```
///
/// For cryptosign, `private_key_file` names a file with the key's 32-byte
/// seed in hex; `authid` may then be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CredentialSettings {
    /// `anonymous` (the default), `ticket`, `wampcra` or `cryptosign`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<AuthMethod>,
    /// The authentication id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authid: Option<String>,
    /// The ticket or WAMP-CRA secret.
    #[serde(flatten)]
    pub secret: SecretSource,
    /// Cryptosign: the private key file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key_file: Option<String>,
}

impl CredentialSettings {
    /// The credentials these settings describe, with the secret or key
    /// read from where the settings say.
    pub fn credentials(&self) -> Result<Credentials, String> {
        let method = self.method.unwrap_or(AuthMethod::Anonymous);
        let authid =
            || self.authid.clone().ok_or(format!("{} authentication needs an authid", method.name()));
        let secret = || self.secret.read().map_err(|e| format!("{} authentication: {e}", method.name()));
        match method {
            AuthMethod::Anonymous => Ok(Credentials::Anonymous),
            AuthMethod::Ticket => Ok(Credentials::Ticket { authid: authid()?, ticket: secret()? }),
            AuthMethod::Wampcra => Ok(Credentials::WampCra { authid: authid()?, secret: secret()? }),
            AuthMethod::Cryptosign => {
                let file = self
                    .private_key_file
                    .as_deref()
                    .ok_or("cryptosign authentication needs private_key_file")?;
                Credentials::cryptosign_key_file(self.authid.clone(), Path::new(file))
                    .map_err(|e| e.to_string())
            }
        }
    }
}

/// The PBKDF2 parameters of a salted WAMP-CRA challenge, within bounds.
fn salting(salt: &str, extra: &Dict) -> Result<Salting, String> {
    let number = |key: &str, default: u32| match extra.get(key) {
        None | Some(Value::Null) => Ok(u64::from(default)),
        Some(v) => v.as_u64().ok_or(format!("the WAMP-CRA challenge's {key} is not a number")),
    };
    let iterations = number("iterations", wampcra::DEFAULT_ITERATIONS)?;
    let keylen = number("keylen", wampcra::DEFAULT_KEYLEN)?;
    if !(1..=MAX_PBKDF2_ITERATIONS).contains(&iterations) || !(1..=1024).contains(&keylen) {
        return Err(format!(
            "the WAMP-CRA challenge asks for {iterations} PBKDF2 iterations and a {keylen}-byte key; \
             this client accepts up to {MAX_PBKDF2_ITERATIONS} and 1024"
        ));
    }
    let iterations =
        u32::try_from(iterations).ok().and_then(NonZeroU32::new).ok_or("iterations out of range")?;
    let keylen = u32::try_from(keylen).map_err(|e| e.to_string())?;
    Ok(Salting { salt: salt.to_owned(), iterations, keylen })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::cryptosign;

    fn extra(pairs: &[(&str, Value)]) -> Dict {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn wampcra_answers_match_autobahn_python() {
        // compute_wcs(derive_key("secret", "salt123", 100, 16), "hello")
        let salted = extra(&[
            ("challenge", "hello".into()),
            ("salt", "salt123".into()),
            ("iterations", 100.into()),
            ("keylen", 16.into()),
        ]);
        let credentials = Credentials::wampcra("u", "secret");
        assert_eq!(
            credentials.answer("wampcra", &salted).unwrap(),
            "eRyeAthM6/eSeuDBXdpRZfmJlsPr96WZzonFM72zSMY="
        );
        let plain = extra(&[("challenge", "hello".into())]);
        assert_eq!(
            credentials.answer("wampcra", &plain).unwrap(),
            "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs="
        );
    }

    #[test]
    fn hostile_or_mismatched_challenges_are_refused_with_a_reason() {
        let credentials = Credentials::wampcra("u", "secret");
        let greedy = extra(&[
            ("challenge", "x".into()),
            ("salt", "s".into()),
            ("iterations", 4_000_000_000u64.into()),
        ]);
        assert!(credentials.answer("wampcra", &greedy).unwrap_err().contains("PBKDF2 iterations"));
        assert!(credentials.answer("ticket", &Dict::new()).unwrap_err().contains("not wampcra"));
        let anonymous = Credentials::default().answer("ticket", &Dict::new()).unwrap_err();
        assert!(anonymous.contains("no credentials are configured"), "{anonymous}");
        assert!(credentials.answer("wampcra", &Dict::new()).is_err());
    }

    #[test]
    fn hello_details_name_the_method_and_the_secret_stays_out_of_debug_output() {
        let mut details = Dict::new();
        Credentials::ticket("alice", "t0p-secret").write_hello(&mut details);
        assert_eq!(details.get("authid").and_then(Value::as_str), Some("alice"));
        assert_eq!(details.get("authmethods"), Some(&Value::List(vec!["ticket".into()])));
        assert!(!format!("{:?}", Credentials::ticket("alice", "t0p-secret")).contains("t0p-secret"));
        let mut anonymous = Dict::new();
        Credentials::Anonymous.write_hello(&mut anonymous);
        assert!(anonymous.is_empty());
    }

    #[test]
    fn settings_read_the_secret_and_say_what_is_missing() {
        let settings = CredentialSettings {
            method: Some(AuthMethod::Ticket),
            authid: Some("alice".into()),
            secret: SecretSource::inline("t"),
            private_key_file: None,
        };
        assert!(matches!(settings.credentials(), Ok(Credentials::Ticket { .. })));
        let missing = CredentialSettings { authid: None, ..settings.clone() };
        assert!(missing.credentials().unwrap_err().contains("needs an authid"));
        let no_secret = CredentialSettings { secret: SecretSource::default(), ..settings };
        assert!(no_secret.credentials().unwrap_err().contains("exactly one"));
        let no_key = CredentialSettings { method: Some(AuthMethod::Cryptosign), ..Default::default() };
        assert!(no_key.credentials().unwrap_err().contains("private_key_file"));
        assert!(matches!(CredentialSettings::default().credentials(), Ok(Credentials::Anonymous)));
    }

    #[test]
    fn cryptosign_signs_the_challenge_with_the_key_from_the_file() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), format!("{}\n", "07".repeat(32))).unwrap();
        let credentials = Credentials::cryptosign_key_file(None, file.path()).unwrap();
        let mut details = Dict::new();
        credentials.write_hello(&mut details);
        let pubkey = details.get("authextra").and_then(Value::as_dict).and_then(|e| e.get("pubkey")).unwrap();
        let key = cryptosign::parse_public_key(pubkey.as_str().unwrap()).unwrap();
        let challenge = [9u8; 32];
        let answer = credentials
            .answer("cryptosign", &extra(&[("challenge", crate::auth::hex_encode(&challenge).into())]))
            .unwrap();
        assert!(cryptosign::verify(&key, &challenge, &answer));
        std::fs::write(file.path(), "not a key").unwrap();
        let error = Credentials::cryptosign_key_file(None, file.path()).unwrap_err();
        assert!(error.to_string().contains("64 hex digits"), "{error}");
    }
}
