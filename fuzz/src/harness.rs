//! Drives one realm and its clients through a [`Script`] the way the
//! WebSocket transport drives them, and checks the realm's output after
//! every step.
//!
//! What must hold, whatever the clients do:
//! * every effect targets a session the realm had during the step, and
//!   nothing is sent to a session after the realm closed it;
//! * the realm never forgets a session silently: a joined client is a
//!   member until it leaves or the realm closes it, and every member is a
//!   joined client;
//! * every message fits its receiver's history (see [`Client::received`]),
//!   and every request but CALL is answered by the step that routes it;
//! * a publisher gets its own event only if it asked with `exclude_me:
//!   false`;
//! * once every client is gone the realm holds no session and no call, and
//!   a newcomer can register every procedure and publish to every topic
//!   without reaching anybody.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bytes::Bytes;
use wamp::internals::{
    Authenticator, Effect, IdAllocator, Member, Next, Outbox, RealmCore, RealmSettings, RetentionLimits,
    SeededRandom, SessionLimits, Step, RESERVED_PREFIX,
};
use wamp::protocol::id;
use wamp::protocol::roles::ClientRoles;
use wamp::protocol::{errors, Dict, Id, WampMessage, Serializer, UriPolicy, UriRules, Value};

use crate::client::Client;
use crate::script::{Act, Action, Auth, Data, Flag, Invoke, Matching, Op, RealmName, Script, Uri, CLIENTS};
use crate::script::{REALM, URIS};

/// How many router-given ids [`Harness::seen`] keeps.
const SEEN: usize = 32;

/// The realm's settings: limits small enough for a short script to reach,
/// and a call timeout that [`Act::Wait`] can pass.
pub fn settings() -> RealmSettings {
    RealmSettings {
        uris: UriRules { policy: UriPolicy::Loose, max_length: 16 },
        limits: SessionLimits { subscriptions: 2, registrations: 2, calls: 2, invocations: 2 },
        call_timeout: Some(Duration::from_secs(1)),
        session_kill: false,
        retention: RetentionLimits { events: 2, bytes: 4096 },
        testament_bytes: 1024,
    }
}

/// One realm, its clients, and what the router has handed out so far.
pub struct Harness {
    realm: RealmCore,
    outbox: Outbox,
    clients: [Option<Client>; CLIENTS],
    /// Subscription, registration, publication and invocation ids the router
    /// sent to anybody, newest last, so clients can name each other's.
    seen: Vec<Id>,
    /// The realm's clock.
    now: Duration,
    tally: Tally,
}

/// What a run delivered, so tests can tell that a script reached the
/// states it was written for.
#[derive(Debug, Default)]
pub struct Tally {
    /// Messages the realm sent, by type name.
    pub sent: BTreeMap<&'static str, usize>,
    /// Sessions the realm closed.
    pub closed: usize,
}

/// What a step's effects are checked against.
struct Context {
    /// The members of the realm when the step began, and those that joined
    /// during it.
    members: BTreeSet<Id>,
    /// A publisher that did not ask for its own event.
    excluded: Option<Id>,
}

impl Harness {
    /// Runs a script to its end, then lets every client go and checks that
    /// nothing of them remains. Panics on the first broken rule; returns
    /// what the script (not the final check) made the realm do.
    pub fn run(script: &Script) -> Tally {
        let ids = IdAllocator::new(Box::new(SeededRandom::new(script.seed)));
        let mut harness = Harness {
            realm: RealmCore::with_ids(REALM, settings(), ids),
            outbox: Outbox::new(),
            clients: Default::default(),
            seen: Vec::new(),
            now: Duration::ZERO,
            tally: Tally::default(),
        };
        for action in &script.actions {
            harness.act(action);
        }
        harness.everybody_leaves();
        let tally = std::mem::take(&mut harness.tally);
        harness.newcomer_finds_nothing_left();
        tally
    }

    fn context(&self) -> Context {
        Context { members: self.realm.session_ids().collect(), excluded: None }
    }

    fn act(&mut self, action: &Action) {
        let mut context = self.context();
        let slot = action.slot();
        match &action.act {
            Act::Send(op) => {
                if self.clients[slot].is_none() && !matches!(op, Op::Hello { .. }) {
                    self.send(
                        slot,
                        &Op::Hello { realm: RealmName::SERVED, auth: Auth::ABSENT },
                        &mut context,
                    );
                }
                self.send(slot, op, &mut context);
            }
            Act::Connect => {
                self.disconnect(slot);
                self.clients[slot] = Some(Client::new());
            }
            Act::Frame { msgpack, data } => {
                let serializer = if *msgpack { Serializer::MsgPack } else { Serializer::Json };
                let client = self.clients[slot].get_or_insert_with(Client::new);
                let step = match serializer.decode_shared(&Bytes::copy_from_slice(data)) {
                    Ok(message) => client.machine.receive(message),
                    Err(e) => client.machine.violation(&e.to_string()),
                };
                self.perform(slot, step, &mut context);
            }
            Act::BadFrame => {
                if let Some(client) = &mut self.clients[slot] {
                    let step = client.machine.violation("a binary frame on a wamp.2.json session");
                    self.perform(slot, step, &mut context);
                }
            }
            Act::Disconnect => self.disconnect(slot),
            Act::Wait(tenths) => {
                self.now += Duration::from_millis(100) * u32::from(*tenths);
                self.realm.set_clock(self.now);
                self.realm.expire(&mut self.outbox);
            }
        }
        self.check(&context);
    }

    fn send(&mut self, slot: usize, op: &Op, context: &mut Context) {
        let client = self.clients[slot].get_or_insert_with(Client::new);
        let message = op.message(client.next_request(), &client.held(), &self.seen);
        let step = client.machine.receive(message);
        self.perform(slot, step, context);
    }

    /// Does what the session machine asked, as the transport does.
    fn perform(&mut self, slot: usize, step: Step, context: &mut Context) {
        match step {
            Step::Route(message) => {
                let Some(client) = &mut self.clients[slot] else { return };
                // The transport routes only while it is a member.
                let Some(session) = client.session else { return };
                client.sent(&message);
                if let WampMessage::Publish { options, .. } = &message {
                    if options.get("exclude_me") != Some(&Value::Bool(false)) {
                        context.excluded = Some(session);
                    }
                }
                self.realm.handle(session, message, &mut self.outbox);
            }
            Step::Join { realm, details, roles } => self.join(slot, &realm, &details, roles, context),
            Step::Leave { .. } | Step::Fail { .. } | Step::Close => self.disconnect(slot),
            // The realm here is anonymous: no CHALLENGE is ever sent, so the
            // machine never lets an AUTHENTICATE through.
            Step::Authenticate { .. } => panic!("AUTHENTICATE passed without a CHALLENGE"),
            Step::Ignore => {}
        }
    }

    fn join(&mut self, slot: usize, realm: &str, details: &Dict, roles: ClientRoles, context: &mut Context) {
        let Some(client) = &mut self.clients[slot] else { return };
        let identity = match Authenticator::anonymous().hello(details) {
            Ok(Next::Welcome(identity)) if realm == REALM => identity,
            _ => {
                // No such realm, or no way to authenticate: ABORT and close.
                client.machine.rejected();
                self.clients[slot] = None;
                return;
            }
        };
        let members = self.realm.session_count();
        let session = self.realm.join(Member { identity, roles, in_process: false }, &mut self.outbox);
        assert!(id::is_valid(session), "session id {session} is outside [1, 2^53]");
        assert_eq!(self.realm.session_count(), members + 1, "join gave out the id of a member");
        client.machine.joined();
        client.session = Some(session);
        context.members.insert(session);
    }

    /// The connection ends; the realm is told unless it ended the session
    /// itself.
    fn disconnect(&mut self, slot: usize) {
        if let Some(session) = self.clients[slot].take().and_then(|c| c.session) {
            self.realm.leave(session, &mut self.outbox);
        }
    }

    fn slot_of(&self, session: Id) -> Option<usize> {
        self.clients.iter().position(|c| c.as_ref().is_some_and(|c| c.session == Some(session)))
    }

    fn check(&mut self, context: &Context) {
        let effects: Vec<Effect> = self.outbox.drain().collect();
        let mut closed = BTreeSet::new();
        for effect in effects {
            match effect {
                Effect::Send { to, message } => {
                    let name = message.name();
                    *self.tally.sent.entry(name).or_default() += 1;
                    assert!(context.members.contains(&to), "{name} for {to}, not a member during the step");
                    assert!(!closed.contains(&to), "{name} for {to} after the realm closed it");
                    if context.excluded == Some(to) {
                        assert!(!matches!(message, WampMessage::Event { .. }), "{to} got its own event");
                    }
                    self.remember_ids(&message);
                    if let Some(slot) = self.slot_of(to) {
                        if let Some(client) = &mut self.clients[slot] {
                            if let Err(problem) = client.received(&message) {
                                panic!("session {to}: {problem}\n{message:?}");
                            }
                        }
                    }
                }
                Effect::Close { to, reason, message } => {
                    assert!(context.members.contains(&to), "close of {to}, not a member during the step");
                    assert!(!self.realm.contains(to), "the realm closed {to} but still counts it a member");
                    assert!(closed.insert(to), "{to} closed twice");
                    self.tally.closed += 1;
                    if let Some(slot) = self.slot_of(to) {
                        self.closed_by_realm(slot, &reason, &message);
                    }
                }
            }
        }
        let mut joined = 0;
        for client in self.clients.iter().flatten() {
            let Some(session) = client.session else { continue };
            joined += 1;
            assert!(self.realm.contains(session), "the realm forgot {session} without closing it");
            if let Some((request, kind)) = client.unanswered() {
                panic!("session {session}: request {request} ({kind:?}) was routed but not answered");
            }
        }
        assert_eq!(self.realm.session_count(), joined, "the realm has members no client knows of");
    }

    /// The transport's answer to a close from the realm, which has already
    /// forgotten the session.
    fn closed_by_realm(&mut self, slot: usize, reason: &str, message: &str) {
        let Some(client) = &mut self.clients[slot] else { return };
        client.session = None;
        if reason == errors::PROTOCOL_VIOLATION {
            // GOODBYE with the violation, then the connection closes.
            client.machine.violation(message);
            self.clients[slot] = None;
        } else {
            client.machine.closing();
        }
    }

    fn remember_ids(&mut self, message: &WampMessage) {
        let id = match message {
            WampMessage::Subscribed { subscription, .. } => *subscription,
            WampMessage::Registered { registration, .. } => *registration,
            WampMessage::Published { publication, .. } => *publication,
            WampMessage::Invocation { request, .. } => *request,
            _ => return,
        };
        if self.seen.len() == SEEN {
            self.seen.remove(0);
        }
        self.seen.push(id);
    }

    fn everybody_leaves(&mut self) {
        for slot in 0..CLIENTS {
            let context = self.context();
            self.disconnect(slot);
            self.check(&context);
        }
        assert_eq!(self.realm.session_count(), 0, "members remain after every client left");
        assert_eq!(self.realm.pending_calls(), 0, "calls remain after every client left");
    }

    /// Registrations and subscriptions of clients that left must be gone:
    /// a newcomer for each URI registers it, and its publication (which it
    /// asks to receive itself) reaches nobody else; `check` catches an
    /// event for a departed session as a send to a non-member.
    fn newcomer_finds_nothing_left(&mut self) {
        let uris = settings().uris;
        for (i, uri) in URIS.iter().enumerate() {
            let uri_choice = Uri(i as u8);
            let registered = self.tally.sent.get("REGISTERED").copied().unwrap_or(0);
            let acts = [
                Act::Send(Op::Register {
                    procedure: uri_choice,
                    matching: Matching::ABSENT,
                    invoke: Invoke::ABSENT,
                }),
                Act::Send(Op::Publish {
                    topic: uri_choice,
                    acknowledge: Flag::YES,
                    exclude_me: Flag::NO,
                    payload: Data::Empty,
                }),
                Act::Disconnect,
            ];
            for act in acts {
                self.act(&Action { client: 0, act });
            }
            let now = self.tally.sent.get("REGISTERED").copied().unwrap_or(0);
            if uris.check(uri).is_ok() && !uri.starts_with(RESERVED_PREFIX) {
                assert_eq!(now, registered + 1, "'{uri}' is still registered by a departed callee");
            }
        }
        self.everybody_leaves();
    }
}
