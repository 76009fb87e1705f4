//! Options of calls, publications, subscriptions and registrations.
//!
//! Each names the options of the specification's advanced profile that
//! this client supports as typed fields; `extra` carries anything else as
//! it is. A router that does not offer a feature may refuse its option
//! (ours answers `wamp.error.option_not_allowed`).

use std::time::Duration;

use crate::protocol::{Dict, Id, Value};

pub use crate::protocol::options::{InvokePolicy, MatchPolicy};

/// Options of a CALL.
///
/// ```
/// use std::time::Duration;
/// use wamp::client::CallOptions;
///
/// let options = CallOptions { timeout: Some(Duration::from_secs(2)), disclose_me: true, ..Default::default() };
/// assert_eq!(options.to_dict().get("disclose_me").and_then(|v| v.as_bool()), Some(true));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallOptions {
    /// Give up (with `wamp.error.timeout`) after this long; the session's
    /// default applies when `None`. When the router offers `call_timeout`
    /// the limit is also sent (`timeout`, in milliseconds), so the router
    /// ends the call and interrupts the callee at the same moment.
    pub timeout: Option<Duration>,
    /// Ask the router to tell the callee who calls
    /// (`caller_identification`).
    pub disclose_me: bool,
    /// Further options sent as they are.
    pub extra: Dict,
}

impl CallOptions {
    /// The options dictionary on the wire (without the timeout, which
    /// depends on the router's features).
    pub fn to_dict(&self) -> Dict {
        self.clone().into_dict()
    }

    /// [`CallOptions::to_dict`], taking the options: `extra` becomes the
    /// dictionary, with nothing to copy and nothing left to drop.
    pub(crate) fn into_dict(self) -> Dict {
        let mut d = self.extra;
        if self.disclose_me {
            d.insert("disclose_me".into(), Value::Bool(true));
        }
        d
    }
}

fn ids(list: &[Id]) -> Value {
    Value::List(list.iter().map(|id| Value::from(*id)).collect())
}

fn strings(list: &[String]) -> Value {
    Value::List(list.iter().map(|s| Value::from(s.as_str())).collect())
}

/// Options of a PUBLISH.
///
/// The black- and whitelists (`subscriber_blackwhite_listing`) combine:
/// a subscriber receives the event if no `exclude*` list names it and, for
/// each `eligible*` list given, that list names it.
///
/// ```
/// use wamp::client::PublishOptions;
///
/// // Only sessions with role "admin", except session 42; kept for late
/// // subscribers.
/// let options = PublishOptions {
///     eligible_authrole: Some(vec!["admin".into()]),
///     exclude: vec![42],
///     retain: true,
///     ..Default::default()
/// };
/// let dict = options.to_dict();
/// assert!(dict.contains_key("eligible_authrole") && dict.contains_key("exclude"));
/// assert!(!dict.contains_key("eligible"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishOptions {
    /// Ask the router for PUBLISHED (and wait for it).
    pub acknowledge: bool,
    /// `Some(false)` delivers the event to the publisher too, if
    /// subscribed.
    pub exclude_me: Option<bool>,
    /// Ask the router to tell subscribers who publishes
    /// (`publisher_identification`).
    pub disclose_me: bool,
    /// Ask the router to keep the event for subscribers that subscribe
    /// later with `get_retained` (`event_retention`).
    pub retain: bool,
    /// Sessions that must not receive the event.
    pub exclude: Vec<Id>,
    /// Authids that must not receive the event.
    pub exclude_authid: Vec<String>,
    /// Authroles that must not receive the event.
    pub exclude_authrole: Vec<String>,
    /// If given, only these sessions may receive the event.
    pub eligible: Option<Vec<Id>>,
    /// If given, only sessions with these authids may receive the event.
    pub eligible_authid: Option<Vec<String>>,
    /// If given, only sessions with these authroles may receive the event.
    pub eligible_authrole: Option<Vec<String>>,
    /// Further options sent as they are.
    pub extra: Dict,
}

impl PublishOptions {
    /// The options dictionary on the wire.
    pub fn to_dict(&self) -> Dict {
        let mut d = self.extra.clone();
        if self.acknowledge {
            d.insert("acknowledge".into(), Value::Bool(true));
        }
        if let Some(exclude_me) = self.exclude_me {
            d.insert("exclude_me".into(), Value::Bool(exclude_me));
        }
        for (key, on) in [("disclose_me", self.disclose_me), ("retain", self.retain)] {
            if on {
                d.insert(key.into(), Value::Bool(true));
            }
        }
        if !self.exclude.is_empty() {
            d.insert("exclude".into(), ids(&self.exclude));
        }
        for (key, list) in
            [("exclude_authid", &self.exclude_authid), ("exclude_authrole", &self.exclude_authrole)]
        {
            if !list.is_empty() {
                d.insert(key.into(), strings(list));
            }
        }
        if let Some(list) = &self.eligible {
            d.insert("eligible".into(), ids(list));
        }
        for (key, list) in
            [("eligible_authid", &self.eligible_authid), ("eligible_authrole", &self.eligible_authrole)]
        {
            if let Some(list) = list {
                d.insert(key.into(), strings(list));
            }
        }
        d
    }
}

/// Options of a SUBSCRIBE.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscribeOptions {
    /// The match policy; exact when `None`.
    pub match_policy: Option<MatchPolicy>,
    /// Ask the router for the event retained on the topic (`event_retention`),
    /// delivered right after SUBSCRIBED with `retained` in its details.
    pub get_retained: bool,
    /// Further options sent as they are.
    pub extra: Dict,
}

impl SubscribeOptions {
    /// The options dictionary on the wire.
    pub fn to_dict(&self) -> Dict {
        let mut d = self.extra.clone();
        if let Some(m) = self.match_policy.filter(|m| *m != MatchPolicy::Exact) {
            d.insert("match".into(), Value::from(m.as_str()));
        }
        if self.get_retained {
            d.insert("get_retained".into(), Value::Bool(true));
        }
        d
    }
}

/// Options of a REGISTER.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegisterOptions {
    /// The match policy; exact when `None`.
    pub match_policy: Option<MatchPolicy>,
    /// The shared-registration policy; single when `None`.
    pub invoke: Option<InvokePolicy>,
    /// Ask the router to disclose callers to this procedure.
    pub disclose_caller: bool,
    /// Further options sent as they are.
    pub extra: Dict,
}

impl RegisterOptions {
    /// The options dictionary on the wire.
    pub fn to_dict(&self) -> Dict {
        let mut d = self.extra.clone();
        if let Some(m) = self.match_policy.filter(|m| *m != MatchPolicy::Exact) {
            d.insert("match".into(), Value::from(m.as_str()));
        }
        if let Some(i) = self.invoke.filter(|i| *i != InvokePolicy::Single) {
            d.insert("invoke".into(), Value::from(i.as_str()));
        }
        if self.disclose_caller {
            d.insert("disclose_caller".into(), Value::Bool(true));
        }
        d
    }
}
