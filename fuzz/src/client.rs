//! A model of one client connection: its session state machine, its place
//! in the realm, and what it asked for and was given.
//!
//! The model is what lets the harness check more than "no panic": every
//! message the router sends a client must fit what that client did. An
//! answer must belong to a request still waiting for one, of the same kind;
//! an EVENT must name a subscription the client holds, an INVOCATION a
//! registration it holds.

use std::collections::{BTreeMap, BTreeSet};

use wamp::internals::PeerSession;
use wamp::protocol::{code, Id, WampMessage, UriPolicy, Value};

use crate::script::Held;

/// A request that waits for its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// SUBSCRIBE.
    Subscribe,
    /// UNSUBSCRIBE of this subscription.
    Unsubscribe(Id),
    /// PUBLISH with `acknowledge: true` (without it nothing answers).
    Publish,
    /// REGISTER.
    Register,
    /// UNREGISTER of this registration.
    Unregister(Id),
    /// CALL.
    Call,
}

impl Request {
    /// The message type code an ERROR for this request names.
    pub fn code(self) -> u64 {
        match self {
            Request::Subscribe => code::SUBSCRIBE,
            Request::Unsubscribe(_) => code::UNSUBSCRIBE,
            Request::Publish => code::PUBLISH,
            Request::Register => code::REGISTER,
            Request::Unregister(_) => code::UNREGISTER,
            Request::Call => code::CALL,
        }
    }
}

/// One client connection.
#[derive(Debug)]
pub struct Client {
    /// The router's state machine for this connection.
    pub machine: PeerSession,
    /// The session id while the realm has this client as a member.
    pub session: Option<Id>,
    last_request: Id,
    requests: BTreeMap<Id, Request>,
    subscriptions: BTreeSet<Id>,
    registrations: BTreeSet<Id>,
    invocations: BTreeSet<Id>,
    /// A raw frame reused the id of a request still waiting for its answer.
    /// From then on answers cannot be told apart, and only their kinds are
    /// checked.
    untracked: bool,
}

impl Client {
    /// A new connection, before HELLO.
    pub fn new() -> Self {
        Client {
            machine: PeerSession::new(UriPolicy::Loose),
            session: None,
            last_request: 0,
            requests: BTreeMap::new(),
            subscriptions: BTreeSet::new(),
            registrations: BTreeSet::new(),
            invocations: BTreeSet::new(),
            untracked: false,
        }
    }

    /// A request id not used before on this connection.
    pub fn next_request(&mut self) -> Id {
        self.last_request += 1;
        self.last_request
    }

    /// The ids this client can name in its messages.
    pub fn held(&self) -> Held {
        let calls = self.requests.iter().filter(|(_, r)| **r == Request::Call).map(|(id, _)| *id);
        Held {
            subscriptions: self.subscriptions.iter().copied().collect(),
            registrations: self.registrations.iter().copied().collect(),
            invocations: self.invocations.iter().copied().collect(),
            calls: calls.collect(),
        }
    }

    /// How many procedures the client has registered.
    pub fn registration_count(&self) -> usize {
        self.registrations.len()
    }

    /// Notes a message the realm is about to route for this client.
    pub fn sent(&mut self, message: &WampMessage) {
        let (request, kind) = match message {
            WampMessage::Subscribe { request, .. } => (*request, Request::Subscribe),
            WampMessage::Unsubscribe { request, subscription } => (*request, Request::Unsubscribe(*subscription)),
            WampMessage::Publish { request, options, .. }
                if options.get("acknowledge") == Some(&Value::Bool(true)) =>
            {
                (*request, Request::Publish)
            }
            WampMessage::Register { request, .. } => (*request, Request::Register),
            WampMessage::Unregister { request, registration } => (*request, Request::Unregister(*registration)),
            WampMessage::Call { request, .. } => (*request, Request::Call),
            WampMessage::Yield { request, .. }
            | WampMessage::Error { request_type: code::INVOCATION, request, .. } => {
                self.invocations.remove(request);
                return;
            }
            _ => return,
        };
        if self.requests.insert(request, kind).is_some() {
            self.untracked = true;
        }
    }

    /// A request other than CALL still waiting for its answer. The realm
    /// answers those while it routes them, so after that step there must be
    /// none.
    pub fn unanswered(&self) -> Option<(Id, Request)> {
        if self.untracked {
            return None;
        }
        self.requests.iter().map(|(id, r)| (*id, *r)).find(|(_, r)| *r != Request::Call)
    }

    /// Checks a message the router delivers to this client against what
    /// the client did, and learns the ids it carries.
    pub fn received(&mut self, message: &WampMessage) -> Result<(), String> {
        match message {
            WampMessage::Subscribed { request, subscription } => {
                self.answer(*request, code::SUBSCRIBE)?;
                self.subscriptions.insert(*subscription);
            }
            WampMessage::Unsubscribed { request } => {
                if let Some(Request::Unsubscribe(subscription)) = self.answer(*request, code::UNSUBSCRIBE)? {
                    if !self.subscriptions.remove(&subscription) {
                        return Err(format!(
                            "UNSUBSCRIBED for subscription {subscription}, never SUBSCRIBED"
                        ));
                    }
                }
            }
            WampMessage::Published { request, .. } => {
                self.answer(*request, code::PUBLISH)?;
            }
            WampMessage::Registered { request, registration } => {
                self.answer(*request, code::REGISTER)?;
                if !self.registrations.insert(*registration) && !self.untracked {
                    return Err(format!("registration {registration} handed out twice"));
                }
            }
            WampMessage::Unregistered { request } => {
                if let Some(Request::Unregister(registration)) = self.answer(*request, code::UNREGISTER)? {
                    if !self.registrations.remove(&registration) {
                        return Err(format!(
                            "UNREGISTERED for registration {registration}, never REGISTERED"
                        ));
                    }
                }
            }
            WampMessage::Error { request_type, request, .. } => {
                self.answer(*request, *request_type)?;
            }
            WampMessage::Result { request, .. } => {
                self.answer(*request, code::CALL)?;
            }
            WampMessage::Event { subscription, .. } => {
                if !self.untracked && !self.subscriptions.contains(subscription) {
                    return Err(format!(
                        "EVENT for subscription {subscription}, which this client does not hold"
                    ));
                }
            }
            WampMessage::Invocation { request, registration, .. } => {
                if !self.untracked && !self.registrations.contains(registration) {
                    return Err(format!(
                        "INVOCATION for registration {registration}, which this client does not hold"
                    ));
                }
                if !self.invocations.insert(*request) {
                    return Err(format!("INVOCATION {request} while an invocation with that id is pending"));
                }
            }
            other => return Err(format!("a router never sends {} to a client", other.name())),
        }
        Ok(())
    }

    /// Takes the request an answer belongs to; it must wait for an answer
    /// whose ERROR would name `code`.
    fn answer(&mut self, request: Id, code: u64) -> Result<Option<Request>, String> {
        if self.untracked {
            return Ok(self.requests.remove(&request));
        }
        match self.requests.get(&request).copied() {
            Some(kind) if kind.code() == code => Ok(self.requests.remove(&request)),
            Some(kind) => {
                Err(format!("answer for a {code} message to request {request}, which was {kind:?}"))
            }
            None => Err(format!("answer to request {request}, which waits for none (type {code})")),
        }
    }
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use wamp::protocol::{Dict, Payload};

    use super::*;

    fn subscribe(request: Id) -> WampMessage {
        WampMessage::Subscribe { request, options: Dict::new(), topic: "com.a".into() }
    }

    #[test]
    fn answers_must_match_a_waiting_request_of_their_kind() {
        let mut client = Client::new();
        client.sent(&subscribe(1));
        assert_eq!(client.unanswered(), Some((1, Request::Subscribe)));
        let result = WampMessage::Result { request: 1, details: Dict::new(), payload: Payload::default() };
        assert!(client.received(&result).is_err());
        assert!(client.received(&WampMessage::Subscribed { request: 2, subscription: 5 }).is_err());
        assert!(client.received(&WampMessage::Subscribed { request: 1, subscription: 5 }).is_ok());
        assert!(client.received(&WampMessage::Subscribed { request: 1, subscription: 5 }).is_err());
        assert_eq!(client.unanswered(), None);
    }

    #[test]
    fn events_and_invocations_must_name_what_the_client_holds() {
        let mut client = Client::new();
        let event = WampMessage::Event {
            subscription: 5,
            publication: 9,
            details: Dict::new(),
            payload: Payload::default(),
        };
        assert!(client.received(&event).is_err());
        client.sent(&subscribe(1));
        client.received(&WampMessage::Subscribed { request: 1, subscription: 5 }).unwrap();
        assert!(client.received(&event).is_ok());
        let invocation = WampMessage::Invocation {
            request: 3,
            registration: 7,
            details: Dict::new(),
            payload: Payload::default(),
        };
        assert!(client.received(&invocation).is_err());
    }

    #[test]
    fn a_reused_request_id_stops_the_matching_of_answers() {
        let mut client = Client::new();
        client.sent(&subscribe(1));
        client.sent(&subscribe(1));
        assert_eq!(client.unanswered(), None);
        assert!(client.received(&WampMessage::Published { request: 1, publication: 2 }).is_ok());
    }

    #[test]
    fn router_only_messages_to_a_router_are_errors() {
        let mut client = Client::new();
        assert!(client.received(&WampMessage::Hello { realm: "realm1".into(), details: Dict::new() }).is_err());
    }
}
