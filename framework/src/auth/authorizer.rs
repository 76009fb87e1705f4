//! A dynamic authorizer: a WAMP procedure the router asks whether a
//! WebSocket session may call, register, publish or subscribe, with its
//! answers cached per session for a while.
//!
//! The question is asked by the session's connection before the message
//! reaches the realm, so the realm's routing never waits; while the
//! authorizer thinks, the connection reads nothing more from its peer.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{Action, Identity, Query};
use crate::protocol::{Dict, Id, Value, WampMessage};

/// Answers cached per session at most; past it, expired answers are
/// dropped, then all of them.
pub const MAX_CACHED_PER_SESSION: usize = 1024;

/// Where the authorizer is and how long its answers hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizerSettings {
    /// The procedure.
    pub procedure: String,
    /// The realm it is registered in.
    pub realm: String,
    /// How long an answer is reused for the same action and URI; zero:
    /// ask every time.
    pub cache_for: Duration,
}

/// The action and URI of a message that needs authorization.
pub fn action_of(message: &WampMessage) -> Option<(Action, &str, &Dict)> {
    match message {
        WampMessage::Call { procedure, options, .. } => Some((Action::Call, procedure, options)),
        WampMessage::Register { procedure, options, .. } => Some((Action::Register, procedure, options)),
        WampMessage::Publish { topic, options, .. } => Some((Action::Publish, topic, options)),
        WampMessage::Subscribe { topic, options, .. } => Some((Action::Subscribe, topic, options)),
        _ => None,
    }
}

/// The question for the authorizer: `[session, uri, action, options]`,
/// the session as a dictionary of its id, realm and identity.
pub fn query(
    settings: &AuthorizerSettings,
    realm: &str,
    session: Id,
    identity: &Identity,
    action: Action,
    uri: &str,
    options: &Dict,
) -> Query {
    let session = Dict::from([
        ("session".to_owned(), Value::from(session)),
        ("realm".to_owned(), Value::from(realm)),
        ("authid".to_owned(), Value::from(identity.authid.as_str())),
        ("authrole".to_owned(), Value::from(identity.authrole.as_str())),
        ("authmethod".to_owned(), Value::from(identity.authmethod.as_str())),
        ("authprovider".to_owned(), Value::from(identity.authprovider.as_str())),
    ]);
    Query {
        procedure: settings.procedure.clone(),
        realm: settings.realm.clone(),
        args: vec![
            Value::Dict(session),
            Value::from(uri),
            Value::from(action.name()),
            Value::Dict(options.clone()),
        ],
    }
}

/// Reads the authorizer's answer: `true`/`false`, or a dictionary with
/// `allow` and optionally `cache` (`false`: do not reuse this answer).
/// Anything else denies. Returns (allowed, may be cached).
pub fn decision(answer: &Value) -> (bool, bool) {
    match answer {
        Value::Bool(allow) => (*allow, true),
        Value::Dict(d) => {
            let allow = d.get("allow").and_then(Value::as_bool).unwrap_or(false);
            let cache = d.get("cache").and_then(Value::as_bool).unwrap_or(true);
            (allow, cache)
        }
        _ => {
            tracing::warn!(
                ?answer,
                "the dynamic authorizer's answer is neither a boolean nor {{allow}}: denied"
            );
            (false, false)
        }
    }
}

/// One session's cached answers.
#[derive(Debug, Default)]
pub struct AnswerCache {
    answers: HashMap<(Action, String), (bool, Instant)>,
}

impl AnswerCache {
    /// The cached answer for `action` on `uri`, if it still holds.
    pub fn get(&self, action: Action, uri: &str, now: Instant) -> Option<bool> {
        let (allowed, until) = self.answers.get(&(action, uri.to_owned()))?;
        (now < *until).then_some(*allowed)
    }

    /// Keeps an answer until `now + ttl`.
    pub fn put(&mut self, action: Action, uri: &str, allowed: bool, now: Instant, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        if self.answers.len() >= MAX_CACHED_PER_SESSION {
            self.answers.retain(|_, (_, until)| now < *until);
            if self.answers.len() >= MAX_CACHED_PER_SESSION {
                self.answers.clear();
            }
        }
        self.answers.insert((action, uri.to_owned()), (allowed, now + ttl));
    }

    #[cfg(test)]
    /// How many answers are kept.
    pub fn len(&self) -> usize {
        self.answers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_strictly_and_cached_for_their_time_within_a_bound() {
        assert_eq!(decision(&Value::Bool(true)), (true, true));
        let no_cache = Value::Dict(Dict::from([
            ("allow".to_owned(), Value::Bool(true)),
            ("cache".to_owned(), Value::Bool(false)),
        ]));
        assert_eq!(decision(&no_cache), (true, false));
        assert_eq!(decision(&Value::from("yes")), (false, false));
        assert_eq!(decision(&Value::Dict(Dict::new())), (false, true));

        let mut cache = AnswerCache::default();
        let t0 = Instant::now();
        cache.put(Action::Call, "a.b", true, t0, Duration::from_secs(10));
        assert_eq!(cache.get(Action::Call, "a.b", t0 + Duration::from_secs(9)), Some(true));
        assert_eq!(cache.get(Action::Call, "a.b", t0 + Duration::from_secs(10)), None);
        assert_eq!(cache.get(Action::Register, "a.b", t0), None);
        cache.put(Action::Call, "x", true, t0, Duration::ZERO);
        assert_eq!(cache.get(Action::Call, "x", t0), None, "a zero time caches nothing");
        for i in 0..MAX_CACHED_PER_SESSION * 2 {
            cache.put(Action::Publish, &format!("t.{i}"), false, t0, Duration::from_secs(10));
        }
        assert!(cache.len() <= MAX_CACHED_PER_SESSION);
    }
}
