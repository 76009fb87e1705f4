//! Session testaments: events a session leaves with the router, published
//! when it goes away however it goes (`wamp.session.add_testament`,
//! `wamp.session.flush_testaments`).
//!
//! Without session resumption a session is detached and destroyed at the
//! same moment: its `detached` testaments are published first, then its
//! `destroyed` ones, each in the order they were added.

use super::{RealmCore, RequestError};
use crate::protocol::{errors, options, Dict, Id, Payload, Value};
use crate::router::broker::RESERVED_PREFIX;
use crate::router::flow::{dict_weight, payload_weight};
use crate::router::outbox::Outbox;

/// When a testament is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// When the session detaches from its transport.
    Detached,
    /// When the session ends (the default).
    Destroyed,
}

/// One testament.
#[derive(Debug)]
struct Testament {
    topic: String,
    options: Dict,
    payload: Payload,
    weight: usize,
}

/// The testaments of one session.
#[derive(Debug, Default)]
pub struct Testaments {
    detached: Vec<Testament>,
    destroyed: Vec<Testament>,
    bytes: usize,
}

impl Testaments {
    /// Forgets those of `scope`.
    pub fn flush(&mut self, scope: Scope) {
        let gone = match scope {
            Scope::Detached => std::mem::take(&mut self.detached),
            Scope::Destroyed => std::mem::take(&mut self.destroyed),
        };
        self.bytes -= gone.iter().map(|t| t.weight).sum::<usize>();
    }
}

/// The `scope` keyword argument (default `destroyed`).
pub(super) fn scope(kwargs: Option<&Dict>) -> Result<Scope, RequestError> {
    match kwargs.and_then(|k| k.get("scope")) {
        None | Some(Value::Null) => Ok(Scope::Destroyed),
        Some(Value::String(s)) if s == "destroyed" => Ok(Scope::Destroyed),
        Some(Value::String(s)) if s == "detached" => Ok(Scope::Detached),
        Some(other) => Err(RequestError::new(
            errors::INVALID_ARGUMENT,
            format!("scope must be 'detached' or 'destroyed', got {other:?}"),
        )),
    }
}

impl RealmCore {
    /// `wamp.session.add_testament(topic, args, kwargs, publish_options=,
    /// scope=)` for `session`.
    pub(super) fn add_testament(&mut self, session: Id, payload: &Payload) -> Result<(), RequestError> {
        let invalid = |text: String| RequestError::new(errors::INVALID_ARGUMENT, text);
        let args = payload.args_list();
        let kwargs = payload.kwargs_dict();
        let topic = args
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("the first argument must be the topic".into()))?;
        if let Err(problem) = self.settings.uris.check(topic) {
            return Err(RequestError::invalid_uri("topic", topic, problem));
        }
        if topic.starts_with(RESERVED_PREFIX) {
            return Err(RequestError::new(
                errors::INVALID_URI,
                format!("'{topic}': the wamp. topics are the router's"),
            ));
        }
        let event_args = match args.get(1) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::List(list)) => list.clone(),
            Some(other) => return Err(invalid(format!("args must be a list, got {}", other.kind()))),
        };
        let event_kwargs = match args.get(2) {
            None | Some(Value::Null) => Dict::new(),
            Some(Value::Dict(dict)) => dict.clone(),
            Some(other) => return Err(invalid(format!("kwargs must be a dictionary, got {}", other.kind()))),
        };
        let mut publish_options = match kwargs.and_then(|k| k.get("publish_options")) {
            None | Some(Value::Null) => Dict::new(),
            Some(Value::Dict(dict)) => dict.clone(),
            Some(other) => {
                return Err(invalid(format!("publish_options must be a dictionary, got {}", other.kind())))
            }
        };
        options::PUBLISH.check(&publish_options).map_err(|e| invalid(e.to_string()))?;
        // Nobody is left to acknowledge to; the leaving session receives
        // nothing.
        publish_options.remove("acknowledge");
        publish_options.insert("exclude_me".into(), Value::Bool(true));
        let scope = scope(kwargs)?;
        let payload = Payload::new(event_args, event_kwargs);
        let weight = 64 + topic.len() + payload_weight(&payload) + dict_weight(&publish_options);
        let limit = self.settings.testament_bytes;
        let testaments = self.testaments.entry(session).or_default();
        if testaments.bytes + weight > limit {
            return Err(RequestError::new(
                errors::TESTAMENT_LIMIT,
                format!(
                    "this session's testaments would take {} bytes, over the router's limit of {limit} \
                     (max_testament_bytes_per_session)",
                    testaments.bytes + weight
                ),
            ));
        }
        testaments.bytes += weight;
        let testament = Testament { topic: topic.to_owned(), options: publish_options, payload, weight };
        match scope {
            Scope::Detached => testaments.detached.push(testament),
            Scope::Destroyed => testaments.destroyed.push(testament),
        }
        Ok(())
    }

    /// Publishes the testaments of `session`, which is going away (still
    /// joined, so that `disclose_me` can name it).
    pub(super) fn publish_testaments(&mut self, session: Id, out: &mut Outbox) {
        let Some(testaments) = self.testaments.remove(&session) else { return };
        let uris = self.settings.uris;
        for t in testaments.detached.into_iter().chain(testaments.destroyed) {
            let sessions = &self.sessions;
            let _ = self.broker.publish(
                &mut self.ids,
                sessions,
                session,
                0,
                &t.options,
                &t.topic,
                t.payload,
                uris,
                out,
            );
        }
    }
}
