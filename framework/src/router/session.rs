//! The life of one client session, seen from the router, free of I/O.
//!
//! A transport feeds each decoded message to [`PeerSession::receive`] and
//! does what the returned [`Step`] says. The machine decides which messages
//! are allowed in which phase; the realm decides what they mean.
//!
//! ```text
//! Opening --HELLO--> Joining --joined()--> Open --GOODBYE--> Closed
//!    |                 |  ^                 |  \--router GOODBYE--> Closing --GOODBYE--> Closed
//!    |     challenged()|  |AUTHENTICATE     \--violation--> GOODBYE, close
//!    |                 v  |
//!    |              Challenging
//!    \--anything else--> ABORT (from Joining and Challenging too)
//! ```

use crate::protocol::roles::ClientRoles;
#[cfg(test)]
use crate::protocol::UriPolicy;
use crate::protocol::{errors, options, Dict, UriRules, WampMessage};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for HELLO.
    Opening,
    /// HELLO received; the realm is deciding.
    Joining,
    /// CHALLENGE sent; waiting for AUTHENTICATE.
    Challenging,
    /// WELCOME sent; messages are routed.
    Open,
    /// The router sent GOODBYE and waits for the answer.
    Closing,
    /// Over; the connection is to be closed.
    Closed,
}

/// What the transport must do with a received message.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Join `realm` (then call [`PeerSession::joined`] or
    /// [`PeerSession::rejected`]).
    Join {
        /// The realm asked for.
        realm: String,
        /// HELLO.Details (authentication wishes).
        details: Dict,
        /// The roles and features the client announced.
        roles: ClientRoles,
    },
    /// Check the answer to the CHALLENGE sent (then call
    /// [`PeerSession::joined`] or [`PeerSession::rejected`]).
    Authenticate {
        /// AUTHENTICATE.Signature.
        signature: String,
    },
    /// Hand the message to the realm.
    Route(WampMessage),
    /// The client said GOODBYE: leave the realm, send `reply`, close.
    Leave {
        /// The GOODBYE to answer with.
        reply: Option<WampMessage>,
    },
    /// Send `message` (ABORT or GOODBYE), leave the realm if joined, close.
    Fail {
        /// The ABORT (before WELCOME) or GOODBYE (after) to send.
        message: WampMessage,
    },
    /// The closing handshake is complete: close the connection.
    Close,
    /// Nothing to do.
    Ignore,
}

/// The router side of one session's state machine.
#[derive(Debug)]
pub struct PeerSession {
    phase: Phase,
    uris: UriRules,
}

fn details_with_message(message: &str) -> Dict {
    Dict::from([("message".to_owned(), message.into())])
}

/// An ABORT with a reason and explanation.
pub fn abort(reason: &str, message: &str) -> WampMessage {
    WampMessage::Abort { details: details_with_message(message), reason: reason.into() }
}

/// A GOODBYE with a reason and explanation.
pub fn goodbye(reason: &str, message: &str) -> WampMessage {
    WampMessage::Goodbye { details: details_with_message(message), reason: reason.into() }
}

impl PeerSession {
    /// A new session waiting for HELLO; realm names are checked with `uris`.
    pub fn new(uris: impl Into<UriRules>) -> Self {
        PeerSession { phase: Phase::Opening, uris: uris.into() }
    }

    #[cfg(test)]
    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The realm accepted the session (WELCOME is being sent).
    pub fn joined(&mut self) {
        self.phase = Phase::Open;
    }

    /// A CHALLENGE was sent: AUTHENTICATE is expected next.
    pub fn challenged(&mut self) {
        if self.phase == Phase::Joining {
            self.phase = Phase::Challenging;
        }
    }

    /// Whether the session is still joining (no WELCOME or ABORT yet):
    /// the HELLO timeout applies.
    pub fn is_joining(&self) -> bool {
        matches!(self.phase, Phase::Opening | Phase::Joining | Phase::Challenging)
    }

    /// The join failed; the transport sends ABORT and closes.
    pub fn rejected(&mut self) {
        self.phase = Phase::Closed;
    }

    /// The router sends GOODBYE (e.g. on shutdown) and waits for the reply.
    pub fn closing(&mut self) {
        if self.phase == Phase::Open {
            self.phase = Phase::Closing;
        } else {
            self.phase = Phase::Closed;
        }
    }

    /// The session broke the protocol (a malformed message, a wrong frame
    /// type): the answer depends on the phase.
    pub fn violation(&mut self, message: &str) -> Step {
        let was = std::mem::replace(&mut self.phase, Phase::Closed);
        match was {
            Phase::Opening | Phase::Joining | Phase::Challenging => {
                Step::Fail { message: abort(errors::PROTOCOL_VIOLATION, message) }
            }
            Phase::Open => Step::Fail { message: goodbye(errors::PROTOCOL_VIOLATION, message) },
            Phase::Closing | Phase::Closed => Step::Close,
        }
    }

    /// Decides what a received message means in the current phase.
    pub fn receive(&mut self, message: WampMessage) -> Step {
        match self.phase {
            Phase::Opening => match message {
                WampMessage::Hello { realm, details } => {
                    if let Err(problem) = self.uris.check(&realm) {
                        self.phase = Phase::Closed;
                        let text = UriRules::explain(problem, "realm", &realm);
                        return Step::Fail { message: abort(errors::INVALID_URI, &text) };
                    }
                    let roles = options::HELLO
                        .check(&details)
                        .map_err(|e| e.to_string())
                        .and_then(|()| ClientRoles::from_hello(&details).map_err(|e| e.to_string()));
                    match roles {
                        Ok(roles) => {
                            self.phase = Phase::Joining;
                            Step::Join { realm, details, roles }
                        }
                        Err(text) => self.violation(&text),
                    }
                }
                WampMessage::Abort { .. } => {
                    self.phase = Phase::Closed;
                    Step::Close
                }
                other => self.violation(&format!("expected HELLO, got {}", other.name())),
            },
            Phase::Joining => self.violation(&format!("{} received before WELCOME", message.name())),
            Phase::Challenging => match message {
                WampMessage::Authenticate { signature, .. } => {
                    self.phase = Phase::Joining;
                    Step::Authenticate { signature }
                }
                WampMessage::Abort { .. } => {
                    self.phase = Phase::Closed;
                    Step::Close
                }
                other => self.violation(&format!("expected AUTHENTICATE, got {}", other.name())),
            },
            Phase::Open => match message {
                WampMessage::Goodbye { .. } => {
                    self.phase = Phase::Closed;
                    Step::Leave { reply: Some(goodbye(errors::GOODBYE_AND_OUT, "goodbye")) }
                }
                WampMessage::Abort { .. } => {
                    self.phase = Phase::Closed;
                    Step::Leave { reply: None }
                }
                WampMessage::Hello { .. } => {
                    self.violation("HELLO received on a session that is already open")
                }
                m @ (WampMessage::Publish { .. }
                | WampMessage::Subscribe { .. }
                | WampMessage::Unsubscribe { .. }
                | WampMessage::Call { .. }
                | WampMessage::Cancel { .. }
                | WampMessage::Register { .. }
                | WampMessage::Unregister { .. }
                | WampMessage::Yield { .. }
                | WampMessage::Error { .. }) => Step::Route(m),
                other => self.violation(&format!("a router does not accept {} messages", other.name())),
            },
            Phase::Closing => match message {
                WampMessage::Goodbye { .. } | WampMessage::Abort { .. } => {
                    self.phase = Phase::Closed;
                    Step::Close
                }
                _ => Step::Ignore,
            },
            Phase::Closed => Step::Ignore,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Payload;

    fn hello(realm: &str) -> WampMessage {
        WampMessage::Hello { realm: realm.into(), details: caller_details() }
    }

    fn caller_details() -> Dict {
        let roles = Dict::from([("caller".to_owned(), Dict::new().into())]);
        Dict::from([("roles".to_owned(), roles.into())])
    }

    fn call() -> WampMessage {
        WampMessage::Call {
            request: 1,
            options: Dict::new(),
            procedure: "a.b".into(),
            payload: Payload::default(),
        }
    }

    fn reason(step: &Step) -> &str {
        match step {
            Step::Fail {
                message: WampMessage::Abort { reason, .. } | WampMessage::Goodbye { reason, .. },
            } => reason,
            other => panic!("not a failure: {other:?}"),
        }
    }

    #[test]
    fn hello_then_messages_are_routed() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        let roles = ClientRoles::from_hello(&caller_details()).unwrap();
        assert_eq!(
            s.receive(hello("realm1")),
            Step::Join { realm: "realm1".into(), details: caller_details(), roles }
        );
        s.joined();
        assert_eq!(s.receive(call()), Step::Route(call()));
    }

    #[test]
    fn call_before_hello_aborts() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        let step = s.receive(call());
        assert!(matches!(step, Step::Fail { message: WampMessage::Abort { .. } }));
        assert_eq!(reason(&step), errors::PROTOCOL_VIOLATION);
        assert_eq!(s.phase(), Phase::Closed);
    }

    #[test]
    fn hello_without_a_client_role_aborts() {
        for details in [
            Dict::new(),
            Dict::from([("roles".to_owned(), Dict::new().into())]),
            Dict::from([(
                "roles".to_owned(),
                Dict::from([("broker".to_owned(), Dict::new().into())]).into(),
            )]),
            Dict::from([("roles".to_owned(), "caller".into())]),
        ] {
            let mut s = PeerSession::new(UriPolicy::Loose);
            let step = s.receive(WampMessage::Hello { realm: "realm1".into(), details: details.clone() });
            assert!(
                matches!(step, Step::Fail { message: WampMessage::Abort { .. } }),
                "{details:?}: {step:?}"
            );
            assert_eq!(reason(&step), errors::PROTOCOL_VIOLATION);
            assert_eq!(s.phase(), Phase::Closed);
        }
        let mut s = PeerSession::new(UriPolicy::Loose);
        let mut details = caller_details();
        details.insert("authid".into(), 7.into());
        let step = s.receive(WampMessage::Hello { realm: "realm1".into(), details });
        assert_eq!(reason(&step), errors::PROTOCOL_VIOLATION, "a defined key of the wrong type");
    }

    #[test]
    fn invalid_realm_uri_aborts() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        assert_eq!(reason(&s.receive(hello("bad realm"))), errors::INVALID_URI);
    }

    #[test]
    fn second_hello_is_a_violation_with_goodbye() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        s.joined();
        let step = s.receive(hello("realm1"));
        assert!(matches!(step, Step::Fail { message: WampMessage::Goodbye { .. } }));
        assert_eq!(reason(&step), errors::PROTOCOL_VIOLATION);
    }

    #[test]
    fn router_only_messages_are_violations() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        s.joined();
        let step = s.receive(WampMessage::Welcome { session: 1, details: Dict::new() });
        assert_eq!(reason(&step), errors::PROTOCOL_VIOLATION);
    }

    #[test]
    fn goodbye_is_answered_with_goodbye_and_out() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        s.joined();
        match s.receive(WampMessage::Goodbye { details: Dict::new(), reason: errors::CLOSE_NORMAL.into() }) {
            Step::Leave { reply: Some(WampMessage::Goodbye { reason, .. }) } => {
                assert_eq!(reason, errors::GOODBYE_AND_OUT)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.phase(), Phase::Closed);
    }

    #[test]
    fn router_goodbye_waits_for_the_reply() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        s.joined();
        s.closing();
        assert_eq!(s.receive(call()), Step::Ignore);
        let reply = WampMessage::Goodbye { details: Dict::new(), reason: errors::GOODBYE_AND_OUT.into() };
        assert_eq!(s.receive(reply), Step::Close);
    }

    #[test]
    fn a_challenge_is_answered_by_authenticate_only() {
        let authenticate = WampMessage::Authenticate { signature: "sig".into(), extra: Dict::new() };
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        let unasked = s.receive(authenticate.clone());
        assert_eq!(reason(&unasked), errors::PROTOCOL_VIOLATION, "AUTHENTICATE without a CHALLENGE");
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        s.challenged();
        assert!(s.is_joining());
        assert_eq!(s.receive(authenticate.clone()), Step::Authenticate { signature: "sig".into() });
        s.joined();
        assert!(!s.is_joining());
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        s.challenged();
        let step = s.receive(call());
        assert!(matches!(step, Step::Fail { message: WampMessage::Abort { .. } }), "{step:?}");
        assert_eq!(reason(&step), errors::PROTOCOL_VIOLATION);
    }

    #[test]
    fn messages_while_joining_are_violations() {
        let mut s = PeerSession::new(UriPolicy::Loose);
        s.receive(hello("realm1"));
        assert!(matches!(s.receive(call()), Step::Fail { message: WampMessage::Abort { .. } }));
    }
}
