//! How one realm admits sessions: the methods it offers, the principals it
//! knows, and the HELLO -> CHALLENGE -> AUTHENTICATE exchange, free of I/O.
//!
//! An unknown authid or key is challenged like a known one and fails only
//! at AUTHENTICATE, with the same error as a wrong secret: a failure never
//! says which part was wrong.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;

use base64::Engine as _;
use rand::Rng as _;
use ring::hmac;

use super::cryptosign::{self, PublicKey};
use super::settings::{AuthMethod, Principal, DEFAULT_ANONYMOUS_ROLE};
use super::wampcra::{self, Salting};
use super::{hex, AuthError, Identity};
use crate::config::RealmConfig;
use crate::protocol::{Dict, Message, Value};

/// Who vouches for identities found in the configuration.
pub const STATIC_PROVIDER: &str = "static";

/// The methods, principals and roles of one realm's authentication.
pub struct Authenticator {
    methods: Vec<AuthMethod>,
    anonymous_role: String,
    tickets: HashMap<String, (String, hmac::Tag)>,
    cra: HashMap<String, CraEntry>,
    cryptosign: HashMap<String, (String, Vec<PublicKey>)>,
    /// The authid of each cryptosign key, for clients that send only
    /// their key.
    key_owners: HashMap<PublicKey, String>,
    /// A random key: tickets are compared as HMACs under it (in constant
    /// time whatever their length), and unknown users are checked against
    /// it.
    blind: hmac::Key,
}

struct CraEntry {
    role: String,
    key: hmac::Key,
    salting: Option<Salting>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("methods", &self.methods)
            .field("anonymous_role", &self.anonymous_role)
            .field("ticket_principals", &self.tickets.len())
            .field("wampcra_principals", &self.cra.len())
            .field("cryptosign_principals", &self.cryptosign.len())
            .finish()
    }
}

/// A realm's authentication settings are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("realm '{realm}': {problem}")]
pub struct AuthConfigError {
    /// The realm.
    pub realm: String,
    /// What is wrong.
    pub problem: String,
}

/// What to answer a HELLO with.
#[derive(Debug)]
pub enum Next {
    /// Welcome the session: it is authenticated.
    Welcome(Identity),
    /// Send `challenge` and verify the AUTHENTICATE that answers it with
    /// `pending`.
    Challenge {
        /// The CHALLENGE message.
        challenge: Message,
        /// What the answer is checked against.
        pending: Box<Pending>,
    },
}

/// A challenge sent and not yet answered.
pub struct Pending {
    authid: String,
    /// The principal's role; `None` when the authid or key is unknown.
    role: Option<String>,
    method: AuthMethod,
    proof: Proof,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").field("authid", &self.authid).field("method", &self.method).finish()
    }
}

enum Proof {
    Ticket { expected: Option<hmac::Tag>, blind: hmac::Key },
    Cra { key: hmac::Key, challenge: String },
    Cryptosign { key: PublicKey, challenge: [u8; 32] },
}

impl Pending {
    /// The method being used.
    pub fn method(&self) -> AuthMethod {
        self.method
    }

    /// Checks the client's AUTHENTICATE signature.
    pub fn verify(self, signature: &str) -> Result<Identity, AuthError> {
        let proven = match &self.proof {
            Proof::Ticket { expected, blind } => {
                // Against a random tag for an unknown user: same work,
                // same answer as a wrong ticket.
                let expected = expected.unwrap_or_else(|| hmac::sign(blind, &random::<32>()));
                hmac::verify(blind, signature.as_bytes(), expected.as_ref()).is_ok()
            }
            Proof::Cra { key, challenge } => wampcra::verify(key, challenge, signature),
            Proof::Cryptosign { key, challenge } => cryptosign::verify(key, challenge, signature),
        };
        match (proven, self.role) {
            (true, Some(role)) => Ok(Identity {
                authid: self.authid,
                authrole: role,
                authmethod: self.method.name().into(),
                authprovider: STATIC_PROVIDER.into(),
            }),
            _ => Err(AuthError::Failed),
        }
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill(&mut bytes[..]);
    bytes
}

impl Authenticator {
    /// Anonymous sessions only, with the default role: realms created on
    /// demand, and realms that configure nothing.
    pub fn anonymous() -> Self {
        Self::empty(vec![AuthMethod::Anonymous], DEFAULT_ANONYMOUS_ROLE.into())
    }

    fn empty(methods: Vec<AuthMethod>, anonymous_role: String) -> Self {
        Authenticator {
            methods,
            anonymous_role,
            tickets: HashMap::new(),
            cra: HashMap::new(),
            cryptosign: HashMap::new(),
            key_owners: HashMap::new(),
            blind: hmac::Key::new(hmac::HMAC_SHA256, &random::<32>()),
        }
    }

    /// The authentication of a configured realm. Reads the secrets (from
    /// variables and files too) and derives the salted keys once, here.
    pub fn from_config(realm: &RealmConfig) -> Result<Self, AuthConfigError> {
        let problem = |problem: String| AuthConfigError { realm: realm.name.clone(), problem };
        if realm.authmethods.is_empty() {
            return Err(problem("authmethods is empty: no session could join".into()));
        }
        let mut auth = Self::empty(realm.authmethods.clone(), realm.anonymous_role.clone());
        for principal in &realm.principals {
            let named = |text: String| {
                problem(format!("principal '{}' ({}): {text}", principal.authid, principal.method.name()))
            };
            if !auth.methods.contains(&principal.method) {
                return Err(named("its method is not in the realm's authmethods".into()));
            }
            auth.add(principal).map_err(named)?;
        }
        Ok(auth)
    }

    fn add(&mut self, p: &Principal) -> Result<(), String> {
        let duplicate = || format!("authid '{}' appears twice for this method", p.authid);
        let salted = p.salt.is_some() || p.iterations.is_some() || p.keylen.is_some();
        if p.method != AuthMethod::Wampcra && salted {
            return Err("salt, iterations and keylen are for wampcra".into());
        }
        if p.method != AuthMethod::Cryptosign && !p.authorized_keys.is_empty() {
            return Err("authorized_keys are for cryptosign".into());
        }
        match p.method {
            AuthMethod::Anonymous => return Err("anonymous sessions need no principal".into()),
            AuthMethod::Ticket => {
                let secret = p.secret.read().map_err(|e| e.to_string())?;
                let tag = hmac::sign(&self.blind, secret.expose().as_bytes());
                if self.tickets.insert(p.authid.clone(), (p.role.clone(), tag)).is_some() {
                    return Err(duplicate());
                }
            }
            AuthMethod::Wampcra => {
                let secret = p.secret.read().map_err(|e| e.to_string())?;
                let salting = match (&p.salt, p.iterations, p.keylen) {
                    (None, None, None) => None,
                    (Some(salt), iterations, keylen) => {
                        let iterations = NonZeroU32::new(iterations.unwrap_or(wampcra::DEFAULT_ITERATIONS))
                            .ok_or("iterations must be at least 1")?;
                        let keylen = keylen.unwrap_or(wampcra::DEFAULT_KEYLEN);
                        if !(1..=1024).contains(&keylen) {
                            return Err("keylen must be between 1 and 1024".into());
                        }
                        Some(Salting { salt: salt.clone(), iterations, keylen })
                    }
                    (None, _, _) => return Err("iterations and keylen need a salt".into()),
                };
                let key = wampcra::signing_key(secret.expose(), salting.as_ref());
                let entry = CraEntry { role: p.role.clone(), key, salting };
                if self.cra.insert(p.authid.clone(), entry).is_some() {
                    return Err(duplicate());
                }
            }
            AuthMethod::Cryptosign => {
                if p.secret != Default::default() {
                    return Err("cryptosign principals have authorized_keys, not a secret".into());
                }
                if p.authorized_keys.is_empty() {
                    return Err("authorized_keys is empty".into());
                }
                let mut keys = Vec::new();
                for text in &p.authorized_keys {
                    let key = cryptosign::parse_public_key(text)
                        .ok_or_else(|| format!("'{text}' is not an Ed25519 public key (64 hex digits)"))?;
                    if let Some(owner) = self.key_owners.insert(key, p.authid.clone()) {
                        return Err(format!("the key {text} also belongs to '{owner}'"));
                    }
                    keys.push(key);
                }
                if self.cryptosign.insert(p.authid.clone(), (p.role.clone(), keys)).is_some() {
                    return Err(duplicate());
                }
            }
        }
        Ok(())
    }

    /// The methods the realm offers, in its configuration's order.
    pub fn methods(&self) -> &[AuthMethod] {
        &self.methods
    }

    /// Answers a HELLO: the first method the client offers (all it lists
    /// in `authmethods`, else `anonymous`) that the realm has.
    pub fn hello(&self, details: &Dict) -> Result<Next, AuthError> {
        let offered: Vec<&str> = match details.get("authmethods") {
            None => vec!["anonymous"],
            Some(list) => {
                let list = list.as_list().ok_or(AuthError::MalformedMethods)?;
                list.iter()
                    .map(|m| m.as_str().ok_or(AuthError::MalformedMethods))
                    .collect::<Result<_, _>>()?
            }
        };
        let method = offered
            .iter()
            .filter_map(|name| AuthMethod::from_name(name))
            .find(|m| self.methods.contains(m))
            .ok_or_else(|| AuthError::NoMethod {
                offered: offered.join(", "),
                available: self.methods.iter().map(|m| m.name()).collect::<Vec<_>>().join(", "),
            })?;
        let authid = details.get("authid").and_then(Value::as_str);
        match method {
            AuthMethod::Anonymous => {
                Ok(Next::Welcome(Identity { authrole: self.anonymous_role.clone(), ..Identity::anonymous() }))
            }
            AuthMethod::Ticket => {
                let authid = authid.ok_or(AuthError::MissingAuthid(method))?;
                let known = self.tickets.get(authid);
                let proof = Proof::Ticket { expected: known.map(|(_, tag)| *tag), blind: self.blind.clone() };
                Ok(self.challenge(authid, known.map(|(role, _)| role.clone()), method, Dict::new(), proof))
            }
            AuthMethod::Wampcra => {
                let authid = authid.ok_or(AuthError::MissingAuthid(method))?;
                let known = self.cra.get(authid);
                let nonce = base64::engine::general_purpose::STANDARD.encode(random::<24>());
                // The text is opaque to the client, which only signs it.
                let text = serde_json::json!({
                    "authid": authid,
                    "authmethod": "wampcra",
                    "authprovider": STATIC_PROVIDER,
                    "nonce": nonce,
                })
                .to_string();
                let mut extra = Dict::from([("challenge".to_owned(), Value::from(text.as_str()))]);
                if let Some(salting) = known.and_then(|e| e.salting.as_ref()) {
                    extra.insert("salt".into(), Value::from(salting.salt.as_str()));
                    extra.insert("iterations".into(), Value::from(u64::from(salting.iterations.get())));
                    extra.insert("keylen".into(), Value::from(u64::from(salting.keylen)));
                }
                let key = known.map(|e| e.key.clone()).unwrap_or_else(|| self.blind.clone());
                let proof = Proof::Cra { key, challenge: text };
                Ok(self.challenge(authid, known.map(|e| e.role.clone()), method, extra, proof))
            }
            AuthMethod::Cryptosign => self.cryptosign_challenge(authid, details),
        }
    }

    fn cryptosign_challenge(&self, authid: Option<&str>, details: &Dict) -> Result<Next, AuthError> {
        let extra = details.get("authextra").and_then(Value::as_dict);
        if let Some(binding) = extra.and_then(|e| e.get("channel_binding")) {
            if !matches!(binding, Value::Null) {
                return Err(AuthError::Unsupported(
                    "cryptosign channel binding is not supported by this router; connect without it".into(),
                ));
            }
        }
        let key = extra
            .and_then(|e| e.get("pubkey"))
            .and_then(Value::as_str)
            .and_then(cryptosign::parse_public_key)
            .ok_or_else(|| {
                AuthError::Unsupported(
                    "cryptosign needs the client's public key (64 hex digits) in HELLO.Details.authextra.pubkey"
                        .into(),
                )
            })?;
        let owner = match authid {
            Some(authid) => authid.to_owned(),
            None => self.key_owners.get(&key).cloned().unwrap_or_default(),
        };
        let role =
            self.cryptosign.get(&owner).filter(|(_, keys)| keys.contains(&key)).map(|(role, _)| role.clone());
        let challenge = random::<32>();
        let extra = Dict::from([
            ("challenge".to_owned(), Value::from(hex::encode(&challenge))),
            ("channel_binding".to_owned(), Value::Null),
        ]);
        let proof = Proof::Cryptosign { key, challenge };
        Ok(self.challenge(&owner, role, AuthMethod::Cryptosign, extra, proof))
    }

    fn challenge(
        &self,
        authid: &str,
        role: Option<String>,
        method: AuthMethod,
        extra: Dict,
        proof: Proof,
    ) -> Next {
        Next::Challenge {
            challenge: Message::Challenge { method: method.name().into(), extra },
            pending: Box::new(Pending { authid: authid.to_owned(), role, method, proof }),
        }
    }
}

#[cfg(test)]
mod tests;
