//! The routing core of one realm: sessions, broker and dealer, free of I/O.
//!
//! [`RealmCore`] takes a session's messages in and puts the messages to
//! deliver into an [`Outbox`]. It never blocks, never touches sockets or
//! clocks, and handles every input completely before the next, so the
//! order in which it sees messages is the order in which it routes them.

use super::FastMap as HashMap;

use super::broker::Broker;
use super::dealer::Dealer;
use super::options::OptionTypeError;
use super::outbox::Outbox;
use crate::auth::Identity;
use crate::protocol::id::random_id;
use crate::protocol::{code, errors, Dict, Id, Message, Payload, UriPolicy, Value};

/// A session broke the protocol; it is closed with
/// `wamp.error.protocol_violation` and this explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Violation(pub String);

impl From<OptionTypeError> for Violation {
    fn from(e: OptionTypeError) -> Self {
        Violation(e.to_string())
    }
}

/// A request failed: the requester gets an ERROR with this URI and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    /// The error URI.
    pub uri: &'static str,
    /// A human-readable explanation, sent as the first positional argument.
    pub message: String,
}

impl RequestError {
    /// A new error.
    pub fn new(uri: &'static str, message: impl Into<String>) -> Self {
        RequestError { uri, message: message.into() }
    }

    /// `wamp.error.invalid_uri` for a named field.
    pub fn invalid_uri(what: &str, uri: &str) -> Self {
        Self::new(errors::INVALID_URI, format!("'{uri}' is not a valid {what} URI"))
    }

    /// Sends the ERROR for a request; the request is answered, nothing was
    /// violated, so this returns `Ok`.
    pub fn reply(self, to: Id, request_type: u64, request: Id, out: &mut Outbox) -> Result<(), Violation> {
        out.send(
            to,
            Message::Error {
                request_type,
                request,
                details: Dict::new(),
                error: self.uri.into(),
                payload: Payload::args(vec![Value::from(self.message)]),
            },
        );
        Ok(())
    }
}

/// What the realm knows of a joined session.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// Who the session is.
    pub identity: Identity,
}

/// Settings the routing core needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealmSettings {
    /// How URIs in SUBSCRIBE, PUBLISH, REGISTER and CALL are checked.
    pub uri_policy: UriPolicy,
}

/// The routing state of one realm.
#[derive(Debug)]
pub struct RealmCore {
    name: String,
    settings: RealmSettings,
    sessions: HashMap<Id, SessionInfo>,
    broker: Broker,
    dealer: Dealer,
}

impl RealmCore {
    /// An empty realm.
    pub fn new(name: impl Into<String>, settings: RealmSettings) -> Self {
        RealmCore {
            name: name.into(),
            settings,
            sessions: HashMap::default(),
            broker: Broker::default(),
            dealer: Dealer::default(),
        }
    }

    /// The realm's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a session; returns its new id (random, unique in the realm).
    pub fn join(&mut self, info: SessionInfo) -> Id {
        let id = loop {
            let id = random_id();
            if !self.sessions.contains_key(&id) {
                break id;
            }
        };
        self.sessions.insert(id, info);
        id
    }

    /// Removes a session and everything it owned: subscriptions,
    /// registrations, and calls in flight (their callers get an ERROR).
    pub fn leave(&mut self, session: Id, out: &mut Outbox) {
        if self.sessions.remove(&session).is_some() {
            self.broker.remove_session(session);
            self.dealer.remove_session(session, out);
        }
    }

    /// Whether a session is joined.
    pub fn contains(&self, session: Id) -> bool {
        self.sessions.contains_key(&session)
    }

    /// The session ids, in no particular order.
    pub fn session_ids(&self) -> impl Iterator<Item = Id> + '_ {
        self.sessions.keys().copied()
    }

    /// How many sessions are joined.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// How many calls wait for their callee.
    pub fn pending_calls(&self) -> usize {
        self.dealer.pending_calls()
    }

    /// Routes one message from a joined session. A message the session was
    /// not allowed to send removes the session and queues its closing.
    pub fn handle(&mut self, session: Id, message: Message, out: &mut Outbox) {
        if !self.sessions.contains_key(&session) {
            // The session left (or was closed) while this message was on its
            // way; it belongs to nobody now.
            return;
        }
        if let Err(Violation(reason)) = self.route(session, message, out) {
            tracing::debug!(realm = %self.name, session, %reason, "protocol violation");
            self.leave(session, out);
            out.close(session, errors::PROTOCOL_VIOLATION, reason);
        }
    }

    fn route(&mut self, session: Id, message: Message, out: &mut Outbox) -> Result<(), Violation> {
        let uris = self.settings.uri_policy;
        match message {
            Message::Publish { request, options, topic, payload } => {
                self.broker.publish(session, request, &options, &topic, payload, uris, out)
            }
            Message::Subscribe { request, options, topic } => {
                self.broker.subscribe(session, request, &options, topic, uris, out)
            }
            Message::Unsubscribe { request, subscription } => {
                self.broker.unsubscribe(session, request, subscription, out);
                Ok(())
            }
            Message::Call { request, options: _, procedure, payload } => {
                self.dealer.call(session, request, &procedure, payload, uris, out)
            }
            Message::Register { request, options, procedure } => {
                self.dealer.register(session, request, &options, procedure, uris, out)
            }
            Message::Unregister { request, registration } => {
                self.dealer.unregister(session, request, registration, out);
                Ok(())
            }
            Message::Yield { request, options: _, payload } => {
                self.dealer.yield_result(session, request, payload, out);
                Ok(())
            }
            Message::Error { request_type: code::INVOCATION, request, details, error, payload } => {
                self.dealer.invocation_error(session, request, details, error, payload, out);
                Ok(())
            }
            Message::Error { request_type, .. } => Err(Violation(format!(
                "a client may send ERROR only for an INVOCATION, not for message type {request_type}"
            ))),
            Message::Cancel { request, .. } => {
                // Call canceling is not offered (the dealer announces no
                // `call_canceling` feature); the call runs to its end.
                tracing::debug!(realm = %self.name, session, request, "CANCEL ignored: not supported");
                Ok(())
            }
            other => {
                Err(Violation(format!("a router does not accept {} messages from a client", other.name())))
            }
        }
    }
}

#[cfg(test)]
mod tests;
