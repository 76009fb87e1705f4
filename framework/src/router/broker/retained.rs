//! Retained events (`event_retention`): the last event a publisher asked
//! to retain on a topic, delivered to subscribers that ask for it with
//! `get_retained`.
//!
//! Retention is best effort, as the specification allows: a realm keeps
//! at most [`RetentionLimits::events`] topics' events and
//! [`RetentionLimits::bytes`] of them; an event past either limit is
//! delivered as usual and not kept.

use std::collections::hash_map::Entry;

use super::audience::Audience;
use crate::protocol::{Dict, Id, Payload};
use crate::router::flow::{dict_weight, payload_weight};
use crate::router::realm::Member;
use crate::router::FastMap as HashMap;

/// How much a realm retains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionLimits {
    /// Topics with a retained event.
    pub events: usize,
    /// Bytes of retained events (payloads and the options kept with them).
    pub bytes: usize,
}

impl Default for RetentionLimits {
    fn default() -> Self {
        RetentionLimits { events: 10_000, bytes: 64 * 1024 * 1024 }
    }
}

/// One retained event.
#[derive(Debug)]
pub struct RetainedEvent {
    /// Its publication id.
    pub publication: Id,
    /// Who published it.
    pub publisher: Id,
    /// The publisher excluded itself (`exclude_me`).
    pub exclude_me: bool,
    /// The publication's options that chose its receivers (black- and
    /// whitelists).
    pub filters: Dict,
    /// The EVENT details it was delivered with.
    pub details: Dict,
    /// Its arguments.
    pub payload: Payload,
}

impl RetainedEvent {
    fn weight(&self) -> usize {
        payload_weight(&self.payload) + dict_weight(&self.filters) + dict_weight(&self.details)
    }

    /// Whether `session` would have received it, had it been subscribed
    /// when it was published.
    pub fn admits(&self, session: Id, info: &Member) -> bool {
        if self.exclude_me && session == self.publisher {
            return false;
        }
        Audience::from_options(&self.filters)
            .map_or(true, |audience| audience.admits(session, &info.identity))
    }
}

/// The retained events of one realm, by topic.
#[derive(Debug, Default)]
pub struct Retained {
    by_topic: HashMap<String, (RetainedEvent, usize)>,
    bytes: usize,
    limits: RetentionLimits,
}

impl Retained {
    /// Nothing retained yet, within `limits`.
    pub fn new(limits: RetentionLimits) -> Self {
        Retained { limits, ..Default::default() }
    }

    /// Keeps `event` as `topic`'s retained event, in place of the one
    /// before; returns `false` (and keeps the one before) if that would
    /// pass a limit.
    pub fn keep(&mut self, topic: &str, event: RetainedEvent) -> bool {
        let weight = event.weight();
        let (replaced, topics) = match self.by_topic.get(topic) {
            Some((_, old)) => (*old, self.by_topic.len()),
            None => (0, self.by_topic.len() + 1),
        };
        if topics > self.limits.events || self.bytes - replaced + weight > self.limits.bytes {
            return false;
        }
        self.bytes = self.bytes - replaced + weight;
        match self.by_topic.entry(topic.to_owned()) {
            Entry::Occupied(mut slot) => {
                slot.insert((event, weight));
            }
            Entry::Vacant(slot) => {
                slot.insert((event, weight));
            }
        }
        true
    }

    /// The retained event of `topic`.
    pub fn get(&self, topic: &str) -> Option<&RetainedEvent> {
        self.by_topic.get(topic).map(|(event, _)| event)
    }

    /// Every retained event, with its topic.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RetainedEvent)> {
        self.by_topic.iter().map(|(topic, (event, _))| (topic.as_str(), event))
    }

    #[cfg(test)]
    /// How many topics have one.
    pub fn len(&self) -> usize {
        self.by_topic.len()
    }

    #[cfg(test)]
    /// The bytes kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Value;

    fn event(text: &str) -> RetainedEvent {
        RetainedEvent {
            publication: 1,
            publisher: 1,
            exclude_me: true,
            filters: Dict::new(),
            details: Dict::new(),
            payload: Payload::args(vec![Value::from(text)]),
        }
    }

    #[test]
    fn limits_keep_the_event_before() {
        let mut r = Retained::new(RetentionLimits { events: 2, bytes: 200 });
        assert!(r.keep("a", event("one")));
        assert!(r.keep("b", event("two")));
        assert!(!r.keep("c", event("three")), "a third topic");
        assert!(r.keep("a", event("uno")), "replacing is not a new topic");
        assert_eq!(r.get("a").map(|e| e.payload.args_list()[0].clone()), Some(Value::from("uno")));
        assert!(!r.keep("a", event(&"x".repeat(300))), "too many bytes");
        assert_eq!(r.get("a").map(|e| e.payload.args_list()[0].clone()), Some(Value::from("uno")));
        assert_eq!(r.len(), 2);
        assert!(r.bytes() <= 200);
    }
}
