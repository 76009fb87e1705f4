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
use crate::protocol::{Dict, Value, WampMessage};

/// Who vouches for identities found in the configuration.
pub const STATIC_PROVIDER: &str = "static";
/// Who vouches for identities a dynamic authenticator accepted.
pub const DYNAMIC_PROVIDER: &str = "dynamic";

/// The role (and authid, which defaults to `authid`) an authenticator's
/// answer gives: a role name, or a dictionary with `role` and optionally
/// `authid`.
fn vouched(answer: &Value, authid: &str) -> Result<(String, String), AuthError> {
    let refused = || {
        tracing::warn!(?answer, "the dynamic authenticator's answer names no role");
        AuthError::Failed
    };
    match answer {
        Value::String(role) => Ok((authid.to_owned(), role.clone())),
        Value::Dict(d) => {
            let role = d.get("role").and_then(Value::as_str).ok_or_else(refused)?;
            let authid = d.get("authid").and_then(Value::as_str).unwrap_or(authid);
            Ok((authid.to_owned(), role.to_owned()))
        }
        _ => Err(refused()),
    }
}

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
    /// The dynamic authenticator, asked about users not listed.
    dynamic: Option<Dynamic>,
    /// The realm being authenticated (the first argument to the dynamic
    /// authenticator).
    realm: String,
}

/// Where the dynamic authenticator is.
#[derive(Debug, Clone)]
struct Dynamic {
    procedure: String,
    realm: String,
}

/// A question for the dynamic authenticator: call `procedure` in `realm`
/// with `args`.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The authenticator's procedure.
    pub procedure: String,
    /// The realm it is registered in.
    pub realm: String,
    /// `[realm, authid, details]`: the realm joined, the authid given
    /// (or null) and a dictionary with `authmethod`, `authextra` and, for
    /// tickets, `ticket`.
    pub args: Vec<Value>,
}

/// A HELLO waiting for the dynamic authenticator's answer.
#[derive(Debug)]
pub struct Resume {
    method: AuthMethod,
    authid: String,
    key: Option<PublicKey>,
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
    /// Ask the dynamic authenticator, then hand its answer to
    /// [`Authenticator::resume`].
    Ask {
        /// The question.
        query: Query,
        /// What to resume with.
        resume: Resume,
    },
    /// Send `challenge` and verify the AUTHENTICATE that answers it with
    /// `pending`.
    Challenge {
        /// The CHALLENGE message.
        challenge: WampMessage,
        /// What the answer is checked against.
        pending: Box<Pending>,
    },
}

/// A challenge sent and not yet answered.
pub struct Pending {
    /// For a ticket of a user only the dynamic authenticator knows: the
    /// question to ask it, without the ticket yet.
    ask: Option<Query>,
    authid: String,
    /// The principal comes from the dynamic authenticator.
    dynamic: bool,
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

    /// The question for the dynamic authenticator that `signature` (a
    /// ticket) needs, if the authenticator decides.
    pub fn query(&self, signature: &str) -> Option<Query> {
        let mut query = self.ask.clone()?;
        if let Some(Value::Dict(details)) = query.args.get_mut(2) {
            details.insert("ticket".into(), Value::from(signature));
        }
        Some(query)
    }

    /// The identity the dynamic authenticator's answer to
    /// [`Pending::query`] gives.
    pub fn accept(self, answer: &Value) -> Result<Identity, AuthError> {
        let (authid, role) = vouched(answer, &self.authid)?;
        Ok(Identity {
            authid,
            authrole: role,
            authmethod: self.method.name().into(),
            authprovider: DYNAMIC_PROVIDER.into(),
        })
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
                authprovider: if self.dynamic { DYNAMIC_PROVIDER } else { STATIC_PROVIDER }.into(),
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
            dynamic: None,
            realm: String::new(),
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
        auth.realm = realm.name.clone();
        auth.dynamic = realm.authenticator.as_ref().map(|procedure| Dynamic {
            procedure: procedure.clone(),
            realm: realm.authenticator_realm.clone().unwrap_or_else(|| realm.name.clone()),
        });
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
                let mut next =
                    self.challenge(authid, known.map(|(role, _)| role.clone()), method, Dict::new(), proof);
                if known.is_none() {
                    if let Next::Challenge { pending, .. } = &mut next {
                        pending.ask = self.query(method, Some(authid), details);
                    }
                }
                Ok(next)
            }
            AuthMethod::Wampcra => {
                let authid = authid.ok_or(AuthError::MissingAuthid(method))?;
                let known = self.cra.get(authid);
                if known.is_none() {
                    if let Some(query) = self.query(method, Some(authid), details) {
                        return Ok(Next::Ask {
                            query,
                            resume: Resume { method, authid: authid.into(), key: None },
                        });
                    }
                }
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
        if role.is_none() {
            if let Some(query) = self.query(AuthMethod::Cryptosign, authid, details) {
                let resume = Resume { method: AuthMethod::Cryptosign, authid: owner, key: Some(key) };
                return Ok(Next::Ask { query, resume });
            }
        }
        Ok(self.cryptosign_with(&owner, role, key, false))
    }

    fn cryptosign_with(&self, owner: &str, role: Option<String>, key: PublicKey, dynamic: bool) -> Next {
        let challenge = random::<32>();
        let extra = Dict::from([
            ("challenge".to_owned(), Value::from(hex::encode(&challenge))),
            ("channel_binding".to_owned(), Value::Null),
        ]);
        let proof = Proof::Cryptosign { key, challenge };
        let mut next = self.challenge(owner, role, AuthMethod::Cryptosign, extra, proof);
        if let Next::Challenge { pending, .. } = &mut next {
            pending.dynamic = dynamic;
        }
        next
    }

    /// The question for the dynamic authenticator, if there is one.
    fn query(&self, method: AuthMethod, authid: Option<&str>, hello: &Dict) -> Option<Query> {
        let dynamic = self.dynamic.as_ref()?;
        let mut details = Dict::from([("authmethod".to_owned(), Value::from(method.name()))]);
        if let Some(extra) = hello.get("authextra") {
            details.insert("authextra".into(), extra.clone());
        }
        let authid = authid.map_or(Value::Null, Value::from);
        Some(Query {
            procedure: dynamic.procedure.clone(),
            realm: dynamic.realm.clone(),
            args: vec![Value::from(self.realm.as_str()), authid, Value::Dict(details)],
        })
    }

    /// Goes on with a HELLO once the dynamic authenticator answered: for
    /// WAMP-CRA a dictionary with `secret`, `role` and optionally `salt`,
    /// `iterations`, `keylen` and `authid`; for cryptosign a role, or a
    /// dictionary with `role` and optionally `authid` (the authenticator
    /// vouches that the key is that user's).
    pub fn resume(&self, resume: Resume, answer: &Value) -> Result<Next, AuthError> {
        match (resume.method, resume.key) {
            (AuthMethod::Cryptosign, Some(key)) => {
                let (authid, role) = vouched(answer, &resume.authid)?;
                Ok(self.cryptosign_with(&authid, Some(role), key, true))
            }
            (AuthMethod::Wampcra, _) => {
                let (authid, role) = vouched(answer, &resume.authid)?;
                let d = answer.as_dict().ok_or(AuthError::Failed)?;
                let principal = Principal {
                    authid: authid.clone(),
                    method: AuthMethod::Wampcra,
                    role,
                    secret: super::SecretSource::inline(
                        d.get("secret").and_then(Value::as_str).unwrap_or_default(),
                    ),
                    salt: d.get("salt").and_then(Value::as_str).map(str::to_owned),
                    iterations: d
                        .get("iterations")
                        .and_then(Value::as_u64)
                        .and_then(|n| u32::try_from(n).ok()),
                    keylen: d.get("keylen").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()),
                    authorized_keys: Vec::new(),
                };
                let mut one = Self::empty(vec![AuthMethod::Wampcra], String::new());
                one.add(&principal).map_err(|problem| {
                    tracing::warn!(%problem, "the dynamic authenticator's WAMP-CRA answer is unusable");
                    AuthError::Failed
                })?;
                let mut next = one.hello(&Dict::from([
                    ("authmethods".to_owned(), Value::List(vec!["wampcra".into()])),
                    ("authid".to_owned(), Value::from(authid.as_str())),
                ]))?;
                if let Next::Challenge { pending, .. } = &mut next {
                    pending.dynamic = true;
                }
                Ok(next)
            }
            _ => Err(AuthError::Failed),
        }
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
            challenge: WampMessage::Challenge { method: method.name().into(), extra },
            pending: Box::new(Pending {
                ask: None,
                dynamic: false,
                authid: authid.to_owned(),
                role,
                method,
                proof,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
