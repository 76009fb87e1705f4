//! The options and details dictionaries of the specification, key by key.
//!
//! Every request carries an `Options` dictionary and every answer a
//! `Details` dictionary. The specification gives each key it defines a
//! type; a peer that sends a defined key with another type breaks the
//! protocol. [`Schema::check`] finds such a key, and names it, before
//! anything reads the dictionary; the typed getters after it
//! ([`Schema::flag`], [`Schema::text`], ...) then only choose defaults.
//!
//! Keys a schema does not define are left alone: the specification asks
//! peers to ignore what they do not know, so that new features and `x_`
//! custom keys pass through older peers.
//!
//! ```
//! use wamp::protocol::options::PUBLISH;
//! use wamp::protocol::{Dict, Value};
//!
//! let good = Dict::from([("exclude".to_owned(), Value::from(vec![Value::from(7)]))]);
//! assert!(PUBLISH.check(&good).is_ok());
//! let bad = Dict::from([("exclude".to_owned(), Value::from("7"))]);
//! let e = PUBLISH.check(&bad).unwrap_err();
//! assert_eq!(e.to_string(), "PUBLISH.Options.exclude must be a list of session ids, got a string");
//! ```

use super::id::is_valid;
#[cfg(test)]
use super::id::MAX_ID;
use super::{Dict, Value};

/// What a key's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A boolean.
    Bool,
    /// A string.
    Text,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// One of these strings, or an application's own value starting with
    /// `x_`.
    Extensible(&'static [&'static str]),
    /// A session id (an integer from 1 to 2^53).
    Session,
    /// A non-negative integer.
    Count,
    /// A list of session ids.
    Sessions,
    /// A list of strings.
    Texts,
    /// A list of dictionaries.
    Dicts,
    /// A dictionary.
    Map,
    /// A string or a byte string.
    TextOrBytes,
}

impl Kind {
    fn accepts(self, value: &Value) -> bool {
        let session = |v: &Value| v.as_u64().is_some_and(is_valid);
        match self {
            Kind::Bool => matches!(value, Value::Bool(_)),
            Kind::Text => matches!(value, Value::String(_)),
            Kind::OneOf(allowed) => value.as_str().is_some_and(|s| allowed.contains(&s)),
            Kind::Extensible(allowed) => {
                value.as_str().is_some_and(|s| allowed.contains(&s) || s.starts_with("x_"))
            }
            Kind::Session => session(value),
            Kind::Count => value.as_u64().is_some(),
            Kind::Sessions => value.as_list().is_some_and(|l| l.iter().all(session)),
            Kind::Texts => value.as_list().is_some_and(|l| l.iter().all(|v| v.as_str().is_some())),
            Kind::Dicts => value.as_list().is_some_and(|l| l.iter().all(|v| v.as_dict().is_some())),
            Kind::Map => matches!(value, Value::Dict(_)),
            Kind::TextOrBytes => matches!(value, Value::String(_) | Value::Bytes(_)),
        }
    }

    fn describe(self) -> String {
        match self {
            Kind::Bool => "a boolean".into(),
            Kind::Text => "a string".into(),
            Kind::OneOf(allowed) => format!("one of {}", allowed.join(", ")),
            Kind::Extensible(allowed) => format!("one of {} or an x_ value", allowed.join(", ")),
            Kind::Session => "a session id".into(),
            Kind::Count => "a non-negative integer".into(),
            Kind::Sessions => "a list of session ids".into(),
            Kind::Texts => "a list of strings".into(),
            Kind::Dicts => "a list of dictionaries".into(),
            Kind::Map => "a dictionary".into(),
            Kind::TextOrBytes => "a string or bytes".into(),
        }
    }
}

/// A defined key has a value of the wrong type or outside its values: the
/// sender broke the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{schema}.{key} must be {expected}, got {got}")]
pub struct OptionError {
    /// `PUBLISH.Options`, `EVENT.Details`, ...
    pub schema: &'static str,
    /// The key.
    pub key: &'static str,
    /// What the value must be.
    pub expected: String,
    /// What it is.
    pub got: String,
}

/// The keys the specification defines for one options or details
/// dictionary.
#[derive(Debug)]
pub struct Schema {
    /// `PUBLISH.Options`, `EVENT.Details`, ...
    pub name: &'static str,
    keys: &'static [(&'static str, Kind)],
}

impl Schema {
    /// Checks every defined key present in `dict`.
    #[inline]
    pub fn check(&self, dict: &Dict) -> Result<(), OptionError> {
        // Most are empty (every CALL and YIELD of a plain call), and
        // setting up an iteration over an empty map costs more than this.
        if dict.is_empty() {
            return Ok(());
        }
        self.check_keys(dict)
    }

    fn check_keys(&self, dict: &Dict) -> Result<(), OptionError> {
        // Dictionaries are mostly empty or hold a key or two: look their
        // keys up in the schema, not the schema's keys in them.
        for (given, value) in dict {
            if let Some(&(key, kind)) = self.keys.iter().find(|(key, _)| key == given) {
                if !kind.accepts(value) {
                    let got = match (kind, value) {
                        (Kind::OneOf(_) | Kind::Extensible(_), Value::String(s)) => format!("'{s}'"),
                        (Kind::Sessions | Kind::Texts | Kind::Dicts, Value::List(_)) => {
                            "a list with other elements".into()
                        }
                        (Kind::Session | Kind::Count, Value::Int(_) | Value::UInt(_)) => {
                            "an integer out of range".into()
                        }
                        _ => value.kind().into(),
                    };
                    return Err(OptionError { schema: self.name, key, expected: kind.describe(), got });
                }
            }
        }
        Ok(())
    }

    /// Whether this schema defines `key`.
    pub fn defines(&self, key: &str) -> bool {
        self.keys.iter().any(|(k, _)| *k == key)
    }

    /// A boolean key, `default` when absent (or, unchecked, of another
    /// type).
    ///
    /// This and the other readers are inlined as far as the emptiness
    /// check: most messages carry no options, and a lookup in an empty
    /// map still costs a call.
    #[inline]
    pub fn flag(dict: &Dict, key: &str, default: bool) -> bool {
        if dict.is_empty() {
            return default;
        }
        dict.get(key).and_then(Value::as_bool).unwrap_or(default)
    }

    /// A string key, if present.
    #[inline]
    pub fn text<'a>(dict: &'a Dict, key: &str) -> Option<&'a str> {
        if dict.is_empty() {
            return None;
        }
        dict.get(key).and_then(Value::as_str)
    }

    /// A non-negative integer key, if present.
    #[inline]
    pub fn count(dict: &Dict, key: &str) -> Option<u64> {
        if dict.is_empty() {
            return None;
        }
        dict.get(key).and_then(Value::as_u64)
    }
}

/// How a subscription or registration matches URIs (`match` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchPolicy {
    /// The URI itself.
    #[default]
    Exact,
    /// Every URI that starts with the pattern.
    Prefix,
    /// URIs whose components equal the pattern's non-empty ones.
    Wildcard,
}

impl MatchPolicy {
    /// The policy named by a `match` option (checked against the
    /// specification's values before).
    pub fn from_option(name: Option<&str>) -> MatchPolicy {
        match name {
            Some("prefix") => MatchPolicy::Prefix,
            Some("wildcard") => MatchPolicy::Wildcard,
            _ => MatchPolicy::Exact,
        }
    }

    /// Whether `pattern`, with this policy, matches `uri` (one pattern
    /// and one URI; the router's pattern trees find the matches among many).
    pub fn matches(self, pattern: &str, uri: &str) -> bool {
        match self {
            MatchPolicy::Exact => pattern == uri,
            MatchPolicy::Prefix => uri.starts_with(pattern),
            MatchPolicy::Wildcard => {
                let (mut wanted, mut given) = (pattern.split('.'), uri.split('.'));
                loop {
                    match (wanted.next(), given.next()) {
                        (None, None) => return true,
                        (Some(w), Some(g)) if w.is_empty() || w == g => {}
                        _ => return false,
                    }
                }
            }
        }
    }

    /// The option value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchPolicy::Exact => "exact",
            MatchPolicy::Prefix => "prefix",
            MatchPolicy::Wildcard => "wildcard",
        }
    }
}

/// How a registration with several callees chooses one for a call
/// (`REGISTER.Options.invoke`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokePolicy {
    /// One callee only.
    Single,
    /// Each callee in turn.
    RoundRobin,
    /// A callee at random.
    Random,
    /// The callee that registered first.
    First,
    /// The callee that registered last.
    Last,
}

impl InvokePolicy {
    /// The policy named by an `invoke` option (checked against the
    /// specification's values before).
    pub fn from_option(name: Option<&str>) -> InvokePolicy {
        match name {
            Some("roundrobin") => InvokePolicy::RoundRobin,
            Some("random") => InvokePolicy::Random,
            Some("first") => InvokePolicy::First,
            Some("last") => InvokePolicy::Last,
            _ => InvokePolicy::Single,
        }
    }

    /// The option value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            InvokePolicy::Single => "single",
            InvokePolicy::RoundRobin => "roundrobin",
            InvokePolicy::Random => "random",
            InvokePolicy::First => "first",
            InvokePolicy::Last => "last",
        }
    }
}

/// Values of `match` in SUBSCRIBE and REGISTER.
pub const MATCH_POLICIES: &[&str] = &["exact", "prefix", "wildcard"];
/// Values of `REGISTER.Options.invoke`.
pub const INVOKE_POLICIES: &[&str] = &["single", "roundrobin", "random", "first", "last"];
/// Values of `CANCEL.Options.mode`.
pub const CANCEL_MODES: &[&str] = &["skip", "kill", "killnowait"];
/// Defined values of `enc_algo` (payload passthru mode).
pub const ENC_ALGOS: &[&str] = &["cryptobox", "mqtt", "xbr"];
/// Defined values of `enc_serializer`.
pub const ENC_SERIALIZERS: &[&str] = &["json", "msgpack", "cbor", "ubjson", "opaque", "flatbuffers"];

/// The keys of payload passthru mode, carried from a request's options to
/// the details of what is delivered.
pub const PASSTHRU_KEYS: &[&str] = &["enc_algo", "enc_serializer", "enc_key"];

macro_rules! schema {
    ($(#[$doc:meta])* $const:ident = $name:literal { $($key:literal: $kind:expr),* $(,)? }) => {
        $(#[$doc])*
        pub const $const: Schema = Schema { name: $name, keys: &[$(($key, $kind)),*] };
    };
}

const ENC_ALGO: Kind = Kind::Extensible(ENC_ALGOS);
const ENC_SERIALIZER: Kind = Kind::Extensible(ENC_SERIALIZERS);

schema!(
    /// `HELLO.Details`.
    HELLO = "HELLO.Details" {
        "roles": Kind::Map, "authmethods": Kind::Texts, "authid": Kind::Text,
        "authrole": Kind::Text, "authextra": Kind::Map, "agent": Kind::Text,
    }
);
schema!(
    /// `PUBLISH.Options`.
    PUBLISH = "PUBLISH.Options" {
        "acknowledge": Kind::Bool, "exclude_me": Kind::Bool, "disclose_me": Kind::Bool,
        "exclude": Kind::Sessions, "exclude_authid": Kind::Texts, "exclude_authrole": Kind::Texts,
        "eligible": Kind::Sessions, "eligible_authid": Kind::Texts, "eligible_authrole": Kind::Texts,
        "retain": Kind::Bool, "transaction_hash": Kind::Text, "forward_for": Kind::Dicts,
        "enc_algo": ENC_ALGO, "enc_serializer": ENC_SERIALIZER, "enc_key": Kind::TextOrBytes,
    }
);
schema!(
    /// `SUBSCRIBE.Options`.
    SUBSCRIBE = "SUBSCRIBE.Options" {
        "match": Kind::OneOf(MATCH_POLICIES), "get_retained": Kind::Bool, "forward_for": Kind::Dicts,
    }
);
schema!(
    /// `EVENT.Details`.
    EVENT = "EVENT.Details" {
        "publisher": Kind::Session, "publisher_authid": Kind::Text, "publisher_authrole": Kind::Text,
        "topic": Kind::Text, "retained": Kind::Bool, "transaction_hash": Kind::Text,
        "x_acknowledged_delivery": Kind::Bool, "forward_for": Kind::Dicts,
        "enc_algo": ENC_ALGO, "enc_serializer": ENC_SERIALIZER, "enc_key": Kind::TextOrBytes,
    }
);
schema!(
    /// `CALL.Options`.
    CALL = "CALL.Options" {
        "timeout": Kind::Count, "receive_progress": Kind::Bool, "progress": Kind::Bool,
        "disclose_me": Kind::Bool, "transaction_hash": Kind::Text, "forward_for": Kind::Dicts,
        "enc_algo": ENC_ALGO, "enc_serializer": ENC_SERIALIZER, "enc_key": Kind::TextOrBytes,
    }
);
schema!(
    /// `REGISTER.Options`.
    REGISTER = "REGISTER.Options" {
        "match": Kind::OneOf(MATCH_POLICIES), "invoke": Kind::OneOf(INVOKE_POLICIES),
        "disclose_caller": Kind::Bool, "concurrency": Kind::Count, "force_reregister": Kind::Bool,
        "forward_for": Kind::Dicts,
    }
);
schema!(
    /// `INVOCATION.Details`.
    INVOCATION = "INVOCATION.Details" {
        "caller": Kind::Session, "caller_authid": Kind::Text, "caller_authrole": Kind::Text,
        "procedure": Kind::Text, "receive_progress": Kind::Bool, "progress": Kind::Bool,
        "timeout": Kind::Count, "forward_for": Kind::Dicts,
        "enc_algo": ENC_ALGO, "enc_serializer": ENC_SERIALIZER, "enc_key": Kind::TextOrBytes,
    }
);
schema!(
    /// `YIELD.Options`.
    YIELD = "YIELD.Options" {
        "progress": Kind::Bool, "forward_for": Kind::Dicts,
        "enc_algo": ENC_ALGO, "enc_serializer": ENC_SERIALIZER, "enc_key": Kind::TextOrBytes,
    }
);
schema!(
    /// `RESULT.Details`.
    RESULT = "RESULT.Details" {
        "progress": Kind::Bool, "forward_for": Kind::Dicts,
        "enc_algo": ENC_ALGO, "enc_serializer": ENC_SERIALIZER, "enc_key": Kind::TextOrBytes,
    }
);
schema!(
    /// `ERROR.Details`.
    ERROR = "ERROR.Details" {
        "forward_for": Kind::Dicts,
        "enc_algo": ENC_ALGO, "enc_serializer": ENC_SERIALIZER, "enc_key": Kind::TextOrBytes,
    }
);
schema!(
    /// `CANCEL.Options`.
    CANCEL = "CANCEL.Options" { "mode": Kind::OneOf(CANCEL_MODES), "forward_for": Kind::Dicts }
);
schema!(
    /// `INTERRUPT.Options`.
    INTERRUPT = "INTERRUPT.Options" {
        "mode": Kind::OneOf(&["kill", "killnowait"]), "reason": Kind::Text, "forward_for": Kind::Dicts,
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    fn dict(key: &str, value: Value) -> Dict {
        Dict::from([(key.to_owned(), value)])
    }

    #[test]
    fn each_kind_accepts_its_values_and_names_what_is_wrong() {
        let err = |schema: &Schema, key: &str, value: Value| {
            schema.check(&dict(key, value)).unwrap_err().to_string()
        };
        assert!(PUBLISH.check(&dict("acknowledge", true.into())).is_ok());
        assert_eq!(
            err(&PUBLISH, "acknowledge", 1.into()),
            "PUBLISH.Options.acknowledge must be a boolean, got an integer"
        );
        assert_eq!(
            err(&SUBSCRIBE, "match", "invalid".into()),
            "SUBSCRIBE.Options.match must be one of exact, prefix, wildcard, got 'invalid'"
        );
        assert!(PUBLISH.check(&dict("enc_algo", "x_mine".into())).is_ok());
        assert!(PUBLISH.check(&dict("enc_algo", "invalid".into())).is_err());
        let too_big = Value::UInt(MAX_ID + 1);
        assert_eq!(
            err(&EVENT, "publisher", too_big.clone()),
            "EVENT.Details.publisher must be a session id, got an integer out of range"
        );
        assert!(PUBLISH.check(&dict("eligible", Value::from(vec![too_big]))).is_err());
        assert_eq!(
            err(&PUBLISH, "exclude_authid", Value::from(vec![Value::from(1)])),
            "PUBLISH.Options.exclude_authid must be a list of strings, got a list with other elements"
        );
        assert!(CALL.check(&dict("timeout", Value::from(-1))).is_err());
        assert!(CALL.check(&dict("timeout", Value::from(0))).is_ok());
        assert!(PUBLISH.check(&dict("forward_for", Value::from(vec![Value::Dict(Dict::new())]))).is_ok());
    }

    #[test]
    fn unknown_keys_pass() {
        assert!(PUBLISH.check(&dict("x_custom", Value::from(vec![Value::Null]))).is_ok());
        assert!(!PUBLISH.defines("x_custom"));
        assert!(PUBLISH.defines("eligible_authrole"));
    }
}
