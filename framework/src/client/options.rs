//! Options of calls, publications, subscriptions and registrations.

use std::time::Duration;

use crate::protocol::{Dict, Value};

pub use crate::protocol::options::{InvokePolicy, MatchPolicy};

/// Options of a CALL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallOptions {
    /// Give up (with `wamp.error.timeout`) after this long; the session's
    /// default applies when `None`.
    pub timeout: Option<Duration>,
    /// Further options sent as they are.
    pub extra: Dict,
}

impl CallOptions {
    /// The options dictionary on the wire.
    pub fn to_dict(&self) -> Dict {
        self.extra.clone()
    }
}

/// Options of a PUBLISH.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublishOptions {
    /// Ask the router for PUBLISHED (and wait for it).
    pub acknowledge: bool,
    /// `Some(false)` delivers the event to the publisher too, if
    /// subscribed.
    pub exclude_me: Option<bool>,
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
        d
    }
}

/// Options of a SUBSCRIBE.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubscribeOptions {
    /// The match policy; exact when `None`.
    pub match_policy: Option<MatchPolicy>,
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
