//! The broker: subscriptions and the routing of publications to
//! subscribers.
//!
//! One subscription id per topic and match policy, shared by all its
//! subscribers. Exact topics are found by one lookup; prefix and wildcard
//! patterns are kept in [`Patterns`] trees, and a publication reaches the
//! subscribers of every subscription its topic matches (an event per
//! subscription, `EVENT.Details.topic` naming the topic for a pattern).
//!
//! A publisher chooses who of the subscribers receives an event
//! (`exclude_me`, and the black- and whitelists of `PUBLISH.Options`), whether
//! they learn who published it (`disclose_me`), and may send an opaque
//! payload with its encryption keys (payload passthru mode), which the
//! broker forwards untouched.

mod audience;
pub mod retained;

use super::FastMap as HashMap;

use std::time::Duration;

use super::outbox::Outbox;
use super::patterns::{MatchPolicy, Patterns};
use super::realm::meta::Change;
use super::realm::{Member, RequestError, SessionLimits, Violation};
use super::{IdMap, IdSet};
use crate::protocol::id_source::IdAllocator;
use crate::protocol::options::Schema;
use crate::protocol::{code, errors, Dict, Id, Payload, UriRules, Value, WampMessage};
use audience::Audience;
use retained::{Retained, RetainedEvent, RetentionLimits};

/// Topics and procedures under this prefix belong to the router (its meta
/// API): peers may subscribe to them, not publish or register.
pub const RESERVED_PREFIX: &str = "wamp.";

/// The first option of `options` the router does not implement, and why.
#[inline]
pub(super) fn unsupported<'a>(options: &Dict, refused: &[(&'a str, &'a str)]) -> Option<RequestError> {
    if options.is_empty() {
        return None;
    }
    refused.iter().find(|(key, _)| options.get(*key).is_some_and(|v| *v != Value::Bool(false))).map(
        |(key, why)| {
            RequestError::new(errors::OPTION_NOT_ALLOWED, format!("the option '{key}' is not offered: {why}"))
        },
    )
}

/// What the broker refuses in SUBSCRIBE.Options (`match` is handled apart).
const SUBSCRIBE_REFUSED: &[(&str, &str)] =
    &[("forward_for", "it is for links between routers, which this router does not make")];

/// What the broker refuses in PUBLISH.Options.
const PUBLISH_REFUSED: &[(&str, &str)] = &[
    ("transaction_hash", "this router does not deduplicate publications"),
    ("forward_for", "it is for links between routers, which this router does not make"),
];

/// A set of sessions that is cheap to iterate (a list) and cheap to remove
/// from (an index into it), so thousands of subscribers leaving a topic at
/// once cost time in proportion to their number, not its square.
#[derive(Debug, Default)]
struct Subscribers {
    list: Vec<Id>,
    index: IdMap<usize>,
}

impl Subscribers {
    fn insert(&mut self, session: Id) {
        if !self.index.contains_key(&session) {
            self.index.insert(session, self.list.len());
            self.list.push(session);
        }
    }

    fn remove(&mut self, session: Id) -> bool {
        let Some(pos) = self.index.remove(&session) else { return false };
        self.list.swap_remove(pos);
        if let Some(moved) = self.list.get(pos) {
            self.index.insert(*moved, pos);
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The subscribers of one topic or pattern.
#[derive(Debug)]
pub struct Subscription {
    /// The topic, or the pattern.
    pub topic: String,
    /// How it matches topics.
    pub policy: MatchPolicy,
    /// When it was created, on the realm's clock.
    pub created: Duration,
    subscribers: Subscribers,
}

impl Subscription {
    /// Its subscribers, in no particular order.
    pub fn subscribers(&self) -> &[Id] {
        &self.subscribers.list
    }
}

/// Subscriptions of one realm.
#[derive(Debug, Default)]
pub struct Broker {
    /// Exact subscriptions by topic.
    by_topic: HashMap<String, Id>,
    prefixes: Patterns,
    wildcards: Patterns,
    subscriptions: IdMap<Subscription>,
    /// The subscriptions each session holds, so a session leaving costs
    /// time in proportion to what it held.
    by_session: IdMap<IdSet>,
    limits: SessionLimits,
    /// The time, as the realm last told it.
    now: Duration,
    retained: Retained,
    /// Subscribers added and removed since the realm last took them, for
    /// the subscription meta events.
    pub(super) changes: Vec<Change>,
}

impl Broker {
    /// An empty broker enforcing `limits`.
    pub fn new(limits: SessionLimits, retention: RetentionLimits) -> Self {
        Broker { limits, retained: Retained::new(retention), ..Default::default() }
    }

    /// Handles SUBSCRIBE: answers SUBSCRIBED with the topic's subscription id
    /// (the same id again if the session is already subscribed).
    #[allow(clippy::too_many_arguments)]
    pub fn subscribe(
        &mut self,
        ids: &mut IdAllocator,
        sessions: &IdMap<Member>,
        session: Id,
        request: Id,
        options: &Dict,
        topic: String,
        uris: UriRules,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let policy = MatchPolicy::from_option(Schema::text(options, "match"));
        if let Some(refused) = unsupported(options, SUBSCRIBE_REFUSED) {
            return refused.reply(session, code::SUBSCRIBE, request, out);
        }
        let checked = match policy {
            MatchPolicy::Exact => uris.check(&topic),
            MatchPolicy::Prefix | MatchPolicy::Wildcard => uris.check_pattern(&topic),
        };
        if let Err(problem) = checked {
            return RequestError::invalid_uri("topic", &topic, problem).reply(
                session,
                code::SUBSCRIBE,
                request,
                out,
            );
        }
        let existing = match policy {
            MatchPolicy::Exact => self.by_topic.get(&topic).copied(),
            MatchPolicy::Prefix => self.prefixes.get_prefix(&topic),
            MatchPolicy::Wildcard => self.wildcards.get_wildcard(&topic),
        };
        let already =
            existing.is_some_and(|id| self.by_session.get(&session).is_some_and(|held| held.contains(&id)));
        let held = self.subscriptions_of(session);
        if !already && held >= self.limits.subscriptions {
            let message = format!(
                "this session holds {held} subscriptions, the router's limit (max_subscriptions_per_session)"
            );
            return RequestError::new(errors::TOO_MANY_SUBSCRIPTIONS, message).reply(
                session,
                code::SUBSCRIBE,
                request,
                out,
            );
        }
        let id = match existing {
            Some(id) => id,
            None => {
                let id = self.fresh_id(ids);
                match policy {
                    MatchPolicy::Exact => {
                        self.by_topic.insert(topic.clone(), id);
                    }
                    MatchPolicy::Prefix => self.prefixes.insert_prefix(&topic, id),
                    MatchPolicy::Wildcard => self.wildcards.insert_wildcard(&topic, id),
                }
                if !topic.starts_with(RESERVED_PREFIX) {
                    self.changes.push(Change::Created { session, id });
                }
                let created = self.now;
                self.subscriptions
                    .insert(id, Subscription { topic, policy, created, subscribers: Subscribers::default() });
                id
            }
        };
        if let Some(sub) = self.subscriptions.get_mut(&id) {
            if !already && !sub.topic.starts_with(RESERVED_PREFIX) {
                self.changes.push(Change::Added { session, id });
            }
            sub.subscribers.insert(session);
            self.by_session.entry(session).or_default().insert(id);
        }
        out.send(session, WampMessage::Subscribed { request, subscription: id });
        if Schema::flag(options, "get_retained", false) {
            self.send_retained(session, id, sessions, out);
        }
        Ok(())
    }

    /// Sends `session` the retained events its subscription `id` covers
    /// and it would have received when they were published.
    fn send_retained(&self, session: Id, id: Id, sessions: &IdMap<Member>, out: &mut Outbox) {
        let (Some(sub), Some(info)) = (self.subscriptions.get(&id), sessions.get(&session)) else { return };
        let mut events: Vec<(&str, &RetainedEvent)> = match sub.policy {
            MatchPolicy::Exact => {
                self.retained.get(&sub.topic).map(|e| (sub.topic.as_str(), e)).into_iter().collect()
            }
            policy => self.retained.iter().filter(|(topic, _)| policy.matches(&sub.topic, topic)).collect(),
        };
        events.sort_unstable_by_key(|(topic, _)| *topic);
        for (topic, event) in events.into_iter().filter(|(_, e)| e.admits(session, info)) {
            let mut details = event.details.clone();
            details.insert("retained".into(), Value::Bool(true));
            if sub.policy != MatchPolicy::Exact {
                details.insert("topic".into(), Value::from(topic));
            }
            let message = WampMessage::Event {
                subscription: id,
                publication: event.publication,
                details,
                payload: event.payload.clone(),
            };
            out.send(session, message);
        }
    }

    fn fresh_id(&mut self, ids: &mut IdAllocator) -> Id {
        loop {
            let id = ids.scoped();
            if !self.subscriptions.contains_key(&id) {
                return id;
            }
        }
    }

    /// Handles UNSUBSCRIBE.
    pub fn unsubscribe(&mut self, session: Id, request: Id, subscription: Id, out: &mut Outbox) {
        if self.remove_subscriber(session, subscription) {
            if let Some(held) = self.by_session.get_mut(&session) {
                held.remove(&subscription);
                if held.is_empty() {
                    self.by_session.remove(&session);
                }
            }
            out.send(session, WampMessage::Unsubscribed { request });
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
        if !sub.subscribers.remove(session) {
            return false;
        }
        let announced = !sub.topic.starts_with(RESERVED_PREFIX);
        if announced {
            self.changes.push(Change::Removed { session, id: subscription });
        }
        if sub.subscribers.is_empty() {
            if announced {
                self.changes.push(Change::Deleted { session, id: subscription });
            }
            if let Some(sub) = self.subscriptions.remove(&subscription) {
                match sub.policy {
                    MatchPolicy::Exact => {
                        self.by_topic.remove(&sub.topic);
                    }
                    MatchPolicy::Prefix => {
                        self.prefixes.remove_prefix(&sub.topic);
                    }
                    MatchPolicy::Wildcard => {
                        self.wildcards.remove_wildcard(&sub.topic);
                    }
                }
            }
        }
        true
    }

    /// Handles PUBLISH (its options checked against `PUBLISH.Options`): an
    /// EVENT to every subscriber of the topic the options admit (the
    /// publisher only with `exclude_me: false`), then PUBLISHED if the
    /// publisher asked for `acknowledge`. A publication the broker refuses
    /// is answered with ERROR only with `acknowledge` (without it the
    /// publisher expects no answer, and some clients take one for a
    /// protocol error); it is logged either way.
    #[allow(clippy::too_many_arguments)]
    pub fn publish(
        &mut self,
        ids: &mut IdAllocator,
        sessions: &IdMap<Member>,
        session: Id,
        request: Id,
        options: &Dict,
        topic: &str,
        payload: Payload,
        uris: UriRules,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let acknowledge = Schema::flag(options, "acknowledge", false);
        let exclude_me = Schema::flag(options, "exclude_me", true);
        // A topic with exact subscribers passed the URI check when
        // subscribed to: only a miss needs checking.
        let exact = self.by_topic.get(topic).copied();
        let refused = match (exact, uris.check(topic)) {
            (None, Err(problem)) => Some(RequestError::invalid_uri("topic", topic, problem)),
            _ if topic.starts_with(RESERVED_PREFIX) => Some(RequestError::new(
                errors::INVALID_URI,
                format!("'{topic}': topics starting with '{RESERVED_PREFIX}' are the router's to publish"),
            )),
            _ => unsupported(options, PUBLISH_REFUSED),
        };
        if let Some(refused) = refused {
            tracing::debug!(session, topic, reason = %refused.message, "publication refused");
            if acknowledge {
                let _ = refused.reply(session, code::PUBLISH, request, out);
            }
            return Ok(());
        }
        let publication = ids.global();
        let matched = self.patterns_matching(topic);
        let retain = Schema::flag(options, "retain", false);
        if retain {
            let event = RetainedEvent {
                publication,
                publisher: session,
                exclude_me,
                filters: options
                    .iter()
                    .filter(|(k, _)| audience::KEYS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                details: event_details(options, session, sessions.get(&session)),
                payload: payload.detached(),
            };
            if !self.retained.keep(topic, event) {
                tracing::debug!(
                    session,
                    topic,
                    "event not retained: past max_retained_events or max_retained_bytes"
                );
            }
        }
        if exact.is_some() || !matched.is_empty() {
            let details = event_details(options, session, sessions.get(&session));
            let audience = Audience::from_options(options);
            let fan_out =
                Fanout { publisher: session, publication, exclude_me, audience: &audience, sessions };
            self.dispatch(&fan_out, topic, exact, matched, details, payload, out);
        }
        if acknowledge {
            out.send(session, WampMessage::Published { request, publication });
        }
        Ok(())
    }

    /// The pattern subscriptions `topic` matches (no allocation if none).
    fn patterns_matching(&self, topic: &str) -> Vec<Id> {
        let mut matched = Vec::new();
        if !self.prefixes.is_empty() {
            self.prefixes.prefixes_of(topic, |id, _| matched.push(id));
        }
        if !self.wildcards.is_empty() {
            self.wildcards.wildcards_of(topic, |id| {
                matched.push(id);
                true
            });
        }
        matched
    }

    /// Delivers a publication to the subscribers of the exact subscription
    /// and of the `matched` pattern subscriptions of `topic`.
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &self,
        fan_out: &Fanout<'_>,
        topic: &str,
        exact: Option<Id>,
        matched: Vec<Id>,
        details: Dict,
        payload: Payload,
        out: &mut Outbox,
    ) {
        let exact = exact.and_then(|id| self.subscriptions.get(&id).map(|s| (id, s)));
        if matched.is_empty() {
            if let Some(sub) = exact {
                fan_out.deliver(sub, &details, payload, out);
            }
            return;
        }
        if let Some(sub) = exact {
            fan_out.deliver(sub, &details, payload.clone(), out);
        }
        let mut with_topic = details;
        with_topic.insert("topic".into(), Value::from(topic));
        for id in matched {
            if let Some(sub) = self.subscriptions.get(&id) {
                fan_out.deliver((id, sub), &with_topic, payload.clone(), out);
            }
        }
    }

    /// Publishes an event of the router itself (a meta event) to the
    /// subscribers of `topic`; nothing if it has none.
    pub fn publish_from_router(
        &self,
        ids: &mut IdAllocator,
        sessions: &IdMap<Member>,
        topic: &str,
        payload: Payload,
        out: &mut Outbox,
    ) {
        let exact = self.by_topic.get(topic).copied();
        let matched = self.patterns_matching(topic);
        if exact.is_none() && matched.is_empty() {
            return;
        }
        let publication = ids.global();
        // No session has id 0: nobody is excluded as the publisher.
        let fan_out = Fanout { publisher: 0, publication, exclude_me: false, audience: &None, sessions };
        self.dispatch(&fan_out, topic, exact, matched, Dict::new(), payload, out);
    }

    /// Forgets every subscription of a session that left.
    pub fn remove_session(&mut self, session: Id) {
        for id in self.by_session.remove(&session).unwrap_or_default() {
            self.remove_subscriber(session, id);
        }
    }

    /// Tells the broker the time (for the creation time of subscriptions).
    pub fn set_clock(&mut self, now: Duration) {
        self.now = now;
    }

    /// A subscription by id.
    pub fn subscription(&self, id: Id) -> Option<&Subscription> {
        self.subscriptions.get(&id)
    }

    /// The subscription ids by match policy, each list ascending.
    pub fn list(&self) -> [(MatchPolicy, Vec<Id>); 3] {
        let of = |policy: MatchPolicy| {
            let mut ids: Vec<Id> =
                self.subscriptions.iter().filter(|(_, s)| s.policy == policy).map(|(id, _)| *id).collect();
            ids.sort_unstable();
            (policy, ids)
        };
        [of(MatchPolicy::Exact), of(MatchPolicy::Prefix), of(MatchPolicy::Wildcard)]
    }

    /// The subscription of a topic or pattern with `policy`.
    pub fn lookup(&self, topic: &str, policy: MatchPolicy) -> Option<Id> {
        match policy {
            MatchPolicy::Exact => self.by_topic.get(topic).copied(),
            MatchPolicy::Prefix => self.prefixes.get_prefix(topic),
            MatchPolicy::Wildcard => self.wildcards.get_wildcard(topic),
        }
    }

    /// Every subscription a publication to `topic` reaches, ascending.
    pub fn matching(&self, topic: &str) -> Vec<Id> {
        let mut ids = self.patterns_matching(topic);
        ids.extend(self.by_topic.get(topic));
        ids.sort_unstable();
        ids
    }

    /// How many topics and patterns have subscribers.
    pub fn topic_count(&self) -> usize {
        self.subscriptions.len()
    }

    /// How many subscriptions `session` holds.
    pub fn subscriptions_of(&self, session: Id) -> usize {
        self.by_session.get(&session).map_or(0, |held| held.len())
    }
}

/// One publication on its way to the subscribers it admits.
struct Fanout<'a> {
    publisher: Id,
    publication: Id,
    exclude_me: bool,
    audience: &'a Option<Audience<'a>>,
    sessions: &'a IdMap<Member>,
}

impl Fanout<'_> {
    /// An EVENT to each subscriber of `sub` the publication admits.
    fn deliver(
        &self,
        (subscription, sub): (Id, &Subscription),
        details: &Dict,
        payload: Payload,
        out: &mut Outbox,
    ) {
        let publication = self.publication;
        let event =
            |payload| WampMessage::Event { subscription, publication, details: details.clone(), payload };
        let admitted = |s: &Id| match self.audience {
            None => true,
            Some(audience) => self.sessions.get(s).is_some_and(|info| audience.admits(*s, &info.identity)),
        };
        let mut receivers = sub
            .subscribers
            .list
            .iter()
            .copied()
            .filter(|s| !(self.exclude_me && *s == self.publisher))
            .filter(admitted);
        // Clone the payload for all receivers but the last, which takes it.
        if let Some(mut current) = receivers.next() {
            for next in receivers {
                out.send(current, event(payload.clone()));
                current = next;
            }
            out.send(current, event(payload));
        }
    }
}

/// EVENT.Details of a publication: who published it if they asked to be
/// disclosed, and the payload passthru keys.
fn event_details(options: &Dict, session: Id, publisher: Option<&Member>) -> Dict {
    let mut details = Dict::new();
    if options.is_empty() {
        return details;
    }
    if let Some(info) = publisher.filter(|_| Schema::flag(options, "disclose_me", false)) {
        details.insert("publisher".into(), Value::from(session));
        details.insert("publisher_authid".into(), Value::from(info.identity.authid.as_str()));
        details.insert("publisher_authrole".into(), Value::from(info.identity.authrole.as_str()));
    }
    super::dealer::copy_passthru(options, &mut details);
    details
}
