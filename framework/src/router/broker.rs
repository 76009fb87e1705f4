//! The broker: subscriptions and the routing of publications to
//! subscribers.
//!
//! One subscription id per topic, shared by all its subscribers, as the
//! specification's basic profile asks. Only exact topic matching exists so
//! far; prefix and wildcard matching extend [`Broker::subscribe`] and the
//! lookup in [`Broker::publish`].

use super::FastMap as HashMap;

use super::options::{bool_option, str_option};
use super::outbox::Outbox;
use super::realm::{RequestError, Violation};
use crate::protocol::id::{random_id, SequentialIds};
use crate::protocol::{code, errors, Dict, Id, Message, Payload, UriPolicy};

/// The subscribers of one topic.
#[derive(Debug)]
struct Subscription {
    topic: String,
    /// In subscription order; a session appears at most once.
    subscribers: Vec<Id>,
}

/// Subscriptions of one realm.
#[derive(Debug, Default)]
pub struct Broker {
    by_topic: HashMap<String, Id>,
    subscriptions: HashMap<Id, Subscription>,
    ids: SequentialIds,
}

impl Broker {
    /// Handles SUBSCRIBE: answers SUBSCRIBED with the topic's subscription id
    /// (the same id again if the session is already subscribed).
    pub fn subscribe(
        &mut self,
        session: Id,
        request: Id,
        options: &Dict,
        topic: String,
        uris: UriPolicy,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let policy = str_option(options, "SUBSCRIBE.Options", "match")?.unwrap_or("exact");
        if policy != "exact" {
            return RequestError::new(
                errors::OPTION_NOT_ALLOWED,
                format!("'{policy}' topic matching is not supported by this router; use exact matching"),
            )
            .reply(session, code::SUBSCRIBE, request, out);
        }
        if !uris.check(&topic) {
            return RequestError::invalid_uri("topic", &topic).reply(session, code::SUBSCRIBE, request, out);
        }
        let id = match self.by_topic.get(&topic) {
            Some(id) => *id,
            None => {
                let id = self.fresh_id();
                self.by_topic.insert(topic.clone(), id);
                self.subscriptions.insert(id, Subscription { topic, subscribers: Vec::new() });
                id
            }
        };
        if let Some(sub) = self.subscriptions.get_mut(&id) {
            if !sub.subscribers.contains(&session) {
                sub.subscribers.push(session);
            }
        }
        out.send(session, Message::Subscribed { request, subscription: id });
        Ok(())
    }

    fn fresh_id(&mut self) -> Id {
        loop {
            let id = self.ids.next_id();
            if !self.subscriptions.contains_key(&id) {
                return id;
            }
        }
    }

    /// Handles UNSUBSCRIBE.
    pub fn unsubscribe(&mut self, session: Id, request: Id, subscription: Id, out: &mut Outbox) {
        if self.remove_subscriber(session, subscription) {
            out.send(session, Message::Unsubscribed { request });
        } else {
            let _ = RequestError::new(
                errors::NO_SUCH_SUBSCRIPTION,
                format!("this session holds no subscription {subscription}"),
            )
            .reply(session, code::UNSUBSCRIBE, request, out);
        }
    }

    /// Removes `session` from a subscription; drops the subscription when it
    /// has no subscribers left. Returns whether the session was subscribed.
    fn remove_subscriber(&mut self, session: Id, subscription: Id) -> bool {
        let Some(sub) = self.subscriptions.get_mut(&subscription) else {
            return false;
        };
        let Some(pos) = sub.subscribers.iter().position(|s| *s == session) else {
            return false;
        };
        sub.subscribers.remove(pos);
        if sub.subscribers.is_empty() {
            if let Some(sub) = self.subscriptions.remove(&subscription) {
                self.by_topic.remove(&sub.topic);
            }
        }
        true
    }

    /// Handles PUBLISH: an EVENT to every subscriber of the topic (the
    /// publisher only with `exclude_me: false`), then PUBLISHED if the
    /// publisher asked for `acknowledge`.
    #[allow(clippy::too_many_arguments)]
    pub fn publish(
        &mut self,
        session: Id,
        request: Id,
        options: &Dict,
        topic: &str,
        payload: Payload,
        uris: UriPolicy,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let acknowledge = bool_option(options, "PUBLISH.Options", "acknowledge", false)?;
        let exclude_me = bool_option(options, "PUBLISH.Options", "exclude_me", true)?;
        // A topic with subscribers passed the URI check when subscribed to:
        // only a miss needs checking.
        let subscribed = self.by_topic.get(topic).and_then(|id| self.subscriptions.get(id).map(|s| (*id, s)));
        if subscribed.is_none() && !uris.check(topic) {
            // Without acknowledge a publisher gets no answer at all.
            if acknowledge {
                let _ = RequestError::invalid_uri("topic", topic).reply(session, code::PUBLISH, request, out);
            }
            return Ok(());
        }
        let publication = random_id();
        if let Some((subscription, sub)) = subscribed {
            let event = |payload| Message::Event { subscription, publication, details: Dict::new(), payload };
            let mut receivers = sub.subscribers.iter().copied().filter(|s| !(exclude_me && *s == session));
            // Clone the payload for all receivers but the last, which takes it.
            if let Some(mut current) = receivers.next() {
                for next in receivers {
                    out.send(current, event(payload.clone()));
                    current = next;
                }
                out.send(current, event(payload));
            }
        }
        if acknowledge {
            out.send(session, Message::Published { request, publication });
        }
        Ok(())
    }

    /// Forgets every subscription of a session that left.
    pub fn remove_session(&mut self, session: Id) {
        let held: Vec<Id> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| s.subscribers.contains(&session))
            .map(|(id, _)| *id)
            .collect();
        for id in held {
            self.remove_subscriber(session, id);
        }
    }

    /// How many topics have subscribers.
    pub fn topic_count(&self) -> usize {
        self.by_topic.len()
    }
}
