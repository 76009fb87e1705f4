//! The routing core of one realm: sessions, broker and dealer, free of I/O.
//!
//! [`RealmCore`] takes a session's messages in and puts the messages to
//! deliver into an [`Outbox`]. It never blocks, never touches sockets or
//! clocks, and handles every input completely before the next, so the
//! order in which it sees messages is the order in which it routes them.

use super::IdMap;
use std::time::{Duration, SystemTime};

use super::broker::retained::RetentionLimits;
use super::broker::{Broker, RESERVED_PREFIX};
use super::dealer::Dealer;
use super::outbox::Outbox;
use crate::auth::{Action, Denied, Identity, Roles};
use crate::protocol::id_source::IdAllocator;
use crate::protocol::options::{self, OptionError};
use crate::protocol::roles::ClientRoles;
use crate::protocol::{code, errors, Dict, Id, Payload, UriProblem, UriRules, Value, WampMessage};

/// A session broke the protocol; it is closed with
/// `wamp.error.protocol_violation` and this explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Violation(pub String);

impl From<OptionError> for Violation {
    fn from(e: OptionError) -> Self {
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
    pub fn invalid_uri(what: &str, uri: &str, problem: UriProblem) -> Self {
        Self::new(errors::INVALID_URI, UriRules::explain(problem, what, uri))
    }

    /// Sends the ERROR for a request; the request is answered, nothing was
    /// violated, so this returns `Ok`.
    pub fn reply(self, to: Id, request_type: u64, request: Id, out: &mut Outbox) -> Result<(), Violation> {
        out.send(
            to,
            WampMessage::Error {
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
pub struct Member {
    /// Who the session is.
    pub identity: Identity,
    /// The roles and features it announced.
    pub roles: ClientRoles,
    /// The session runs in this process (a component, or a client of
    /// the embedded router): it takes arguments as Rust values
    /// ([`Payload::Native`](crate::protocol::Payload::Native)), which
    /// the dealer converts for every other session.
    pub in_process: bool,
}

/// What one session may make its realm hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// Subscriptions held at once.
    pub subscriptions: usize,
    /// Registrations held at once.
    pub registrations: usize,
    /// Calls in flight as a caller.
    pub calls: usize,
    /// Invocations in flight as a callee.
    pub invocations: usize,
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits { subscriptions: 10_000, registrations: 1_000, calls: 1_000, invocations: 10_000 }
    }
}

/// Settings the routing core needs.
#[derive(Debug, Clone, Copy)]
pub struct RealmSettings {
    /// How URIs in SUBSCRIBE, PUBLISH, REGISTER and CALL are checked.
    pub uris: UriRules,
    /// What one session may make the realm hold.
    pub limits: SessionLimits,
    /// How long a call may wait for its callee before the dealer fails it
    /// with `wamp.error.timeout`; `None`: forever.
    pub call_timeout: Option<Duration>,
    /// Sessions may close other sessions (`wamp.session.kill` and its
    /// kin).
    pub session_kill: bool,
    /// How many retained events the realm keeps.
    pub retention: RetentionLimits,
    /// Bytes of testaments one session may leave.
    pub testament_bytes: usize,
}

impl Default for RealmSettings {
    fn default() -> Self {
        RealmSettings {
            uris: UriRules::default(),
            limits: SessionLimits::default(),
            call_timeout: None,
            session_kill: false,
            retention: RetentionLimits::default(),
            testament_bytes: DEFAULT_TESTAMENT_BYTES,
        }
    }
}

/// The default of [`RealmSettings::testament_bytes`].
pub const DEFAULT_TESTAMENT_BYTES: usize = 64 * 1024;

/// The routing state of one realm.
#[derive(Debug)]
pub struct RealmCore {
    name: String,
    settings: RealmSettings,
    sessions: IdMap<Member>,
    broker: Broker,
    dealer: Dealer,
    ids: IdAllocator,
    /// The wall-clock time at the origin of [`RealmCore::set_clock`], for
    /// the creation times the meta API reports.
    wall_origin: SystemTime,
    /// The testaments of the sessions that left some.
    testaments: IdMap<testament::Testaments>,
    /// What each role may do; `None`: everybody may do everything.
    roles: Option<Roles>,
}

impl RealmCore {
    /// An empty realm drawing its random ids from the system's generator.
    pub fn new(name: impl Into<String>, settings: RealmSettings) -> Self {
        Self::with_ids(name, settings, IdAllocator::default())
    }

    /// An empty realm that takes its ids from `ids` (e.g. seeded, for
    /// tests that must repeat exactly).
    pub fn with_ids(name: impl Into<String>, settings: RealmSettings, ids: IdAllocator) -> Self {
        RealmCore {
            name: name.into(),
            settings,
            sessions: IdMap::default(),
            broker: Broker::new(settings.limits, settings.retention),
            dealer: Dealer::new(settings.limits, settings.call_timeout),
            ids,
            wall_origin: SystemTime::UNIX_EPOCH,
            testaments: IdMap::default(),
            roles: None,
        }
    }

    /// Checks every CALL, REGISTER, PUBLISH and SUBSCRIBE against `roles`
    /// (`None`: everything is allowed).
    pub fn with_roles(mut self, roles: Option<Roles>) -> Self {
        self.roles = roles;
        self
    }

    /// Whether `session` may perform `action` on `uri`, and ask for
    /// disclosure if `options` do.
    fn authorize(&self, session: Id, action: Action, uri: &str, options: &Dict) -> Result<(), RequestError> {
        let Some(roles) = &self.roles else { return Ok(()) };
        let Some(info) = self.sessions.get(&session) else { return Ok(()) };
        let role = info.identity.authrole.as_str();
        let denied = |d: Denied| RequestError::new(errors::NOT_AUTHORIZED, d.0);
        roles.check(role, action, uri).map_err(denied)?;
        if matches!(action, Action::Call | Action::Publish)
            && options.get("disclose_me").and_then(Value::as_bool) == Some(true)
        {
            roles
                .check_disclosure(role, action == Action::Call)
                .map_err(|d| RequestError::new(errors::OPTION_DISALLOWED_DISCLOSE_ME, d.0))?;
        }
        Ok(())
    }

    /// The realm's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds a session and publishes `wamp.session.on_join`; returns its
    /// new id (random, unique in the realm).
    pub fn join(&mut self, info: Member, out: &mut Outbox) -> Id {
        let id = loop {
            let id = self.ids.global();
            if !self.sessions.contains_key(&id) {
                break id;
            }
        };
        self.sessions.insert(id, info);
        self.announce_join(id, out);
        id
    }

    /// Removes a session and everything it owned: subscriptions,
    /// registrations, and calls in flight (their callers get an ERROR);
    /// publishes `wamp.session.on_leave`.
    pub fn leave(&mut self, session: Id, out: &mut Outbox) {
        self.remove(session, true, &[], out);
    }

    /// Removes `session`. `leaving` (sorted) are the sessions closed
    /// together with it: a call between two of them ends with their
    /// GOODBYEs, not with an ERROR that one of them left first.
    fn remove(&mut self, session: Id, announce: bool, leaving: &[Id], out: &mut Outbox) {
        if !self.sessions.contains_key(&session) {
            return;
        }
        // While it is still a member, so that its testaments can name it.
        if announce {
            self.publish_testaments(session, out);
        } else {
            self.testaments.remove(&session);
        }
        if let Some(info) = self.sessions.remove(&session) {
            self.broker.remove_session(session);
            let sessions = &self.sessions;
            let staying = |s: Id| sessions.contains_key(&s) && leaving.binary_search(&s).is_err();
            self.dealer.remove_session(session, staying, out);
            if announce {
                self.announce_changes(out);
                self.announce_leave(session, &info, out);
            } else {
                self.forget_changes();
            }
        }
    }

    /// Closes every session with GOODBYE `reason` (the router or realm is
    /// shutting down); nobody is left to hear meta events. Returns how
    /// many there were.
    ///
    /// They leave together: a call between two of them ends with their
    /// GOODBYEs, whichever goes first.
    pub fn close_all(&mut self, reason: &'static str, message: &str, out: &mut Outbox) -> usize {
        let mut sessions: Vec<Id> = self.sessions.keys().copied().collect();
        sessions.sort_unstable();
        for session in &sessions {
            self.remove(*session, false, &sessions, out);
            out.close(*session, reason, message);
        }
        sessions.len()
    }

    /// Tells the realm the time: a monotonic duration since an origin of
    /// the driver's choosing. The realm never reads a clock; its driver
    /// sets the time before each input [`RealmCore::reads_clock`] names
    /// and before [`RealmCore::expire`].
    pub fn set_clock(&mut self, now: Duration) {
        self.dealer.set_clock(now);
        self.broker.set_clock(now);
    }

    /// Tells the realm how far the time between two readings of its
    /// driver's clock may be from the time that passed (a coarse clock's
    /// update period; zero by default): call deadlines add it, so that no
    /// call times out before its timeout.
    pub fn set_clock_resolution(&mut self, resolution: Duration) {
        self.dealer.set_clock_resolution(resolution);
    }

    /// Tells the realm the wall-clock time at the origin of
    /// [`RealmCore::set_clock`] (without it, creation times count from
    /// 1970).
    pub fn set_wall_origin(&mut self, origin: SystemTime) {
        self.wall_origin = origin;
    }

    /// Entries in the dealer's deadline heap (tests: answered calls are
    /// swept).
    #[cfg(test)]
    pub(crate) fn deadline_entries(&self) -> usize {
        self.dealer.deadline_entries()
    }

    /// Whether handling `message` reads the time: a CALL does when calls
    /// can time out (the router's `call_timeout` or the call's own), to
    /// set its deadline; SUBSCRIBE and REGISTER do, for the creation time
    /// of what they create. Nothing else does.
    pub fn reads_clock(&self, message: &WampMessage) -> bool {
        match message {
            WampMessage::Call { options, .. } => self.dealer.times_calls() || options.contains_key("timeout"),
            WampMessage::Subscribe { .. } | WampMessage::Register { .. } => true,
            _ => false,
        }
    }

    /// When the realm next needs [`RealmCore::expire`] (on the clock of
    /// [`RealmCore::set_clock`]), if ever.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.dealer.next_deadline()
    }

    /// Ends what timed out by the time last set: calls waiting longer than
    /// their timeout fail with `wamp.error.timeout` (and their callees get
    /// INTERRUPT, if they take it).
    pub fn expire(&mut self, out: &mut Outbox) {
        self.dealer.expire(&self.sessions, out);
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

    /// How many topics have subscribers.
    pub fn topic_count(&self) -> usize {
        self.broker.topic_count()
    }

    /// How many procedures are registered.
    pub fn registration_count(&self) -> usize {
        self.dealer.registration_count()
    }

    /// How many calls wait for their callee.
    pub fn pending_calls(&self) -> usize {
        self.dealer.pending_calls()
    }

    /// Routes one message from a joined session. A message the session was
    /// not allowed to send removes the session and queues its closing.
    pub fn handle(&mut self, session: Id, message: WampMessage, out: &mut Outbox) {
        let Some(member) = self.sessions.get(&session) else {
            // The session left (or was closed) while this message was on its
            // way; it belongs to nobody now.
            return;
        };
        let in_process = member.in_process;
        match self.route(session, in_process, message, out) {
            Ok(()) => self.announce_changes(out),
            Err(Violation(reason)) => {
                tracing::debug!(realm = %self.name, session, %reason, "protocol violation");
                self.leave(session, out);
                out.close(session, errors::PROTOCOL_VIOLATION, reason);
            }
        }
    }

    /// Routes `message` from `session` (`in_process`: one that takes
    /// arguments as Rust values).
    fn route(
        &mut self,
        session: Id,
        in_process: bool,
        message: WampMessage,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let uris = self.settings.uris;
        match message {
            WampMessage::Publish { request, options, topic, payload } => {
                options::PUBLISH.check(&options)?;
                if let Err(e) = self.authorize(session, Action::Publish, &topic, &options) {
                    // Only an acknowledged publication hears of it.
                    if options.get("acknowledge").and_then(Value::as_bool) == Some(true) {
                        return e.reply(session, code::PUBLISH, request, out);
                    }
                    tracing::debug!(realm = %self.name, session, reason = %e.message, "publication refused");
                    return Ok(());
                }
                let sessions = &self.sessions;
                self.broker.publish(
                    &mut self.ids,
                    sessions,
                    session,
                    request,
                    &options,
                    &topic,
                    payload,
                    uris,
                    out,
                )
            }
            WampMessage::Subscribe { request, options, topic } => {
                options::SUBSCRIBE.check(&options)?;
                if let Err(e) = self.authorize(session, Action::Subscribe, &topic, &options) {
                    return e.reply(session, code::SUBSCRIBE, request, out);
                }
                self.broker.subscribe(
                    &mut self.ids,
                    &self.sessions,
                    session,
                    request,
                    &options,
                    topic,
                    uris,
                    out,
                )
            }
            WampMessage::Unsubscribe { request, subscription } => {
                self.broker.unsubscribe(session, request, subscription, out);
                Ok(())
            }
            WampMessage::Call { request, options, procedure, payload } => {
                options::CALL.check(&options)?;
                if let Err(e) = self.authorize(session, Action::Call, &procedure, &options) {
                    return e.reply(session, code::CALL, request, out);
                }
                if procedure.starts_with(RESERVED_PREFIX) {
                    self.meta_call(session, request, &procedure, &payload, out);
                    return Ok(());
                }
                let sessions = &self.sessions;
                self.dealer.call(
                    &mut self.ids,
                    sessions,
                    (session, in_process),
                    request,
                    options,
                    &procedure,
                    payload,
                    uris,
                    out,
                )
            }
            WampMessage::Register { request, options, procedure } => {
                options::REGISTER.check(&options)?;
                if let Err(e) = self.authorize(session, Action::Register, &procedure, &options) {
                    return e.reply(session, code::REGISTER, request, out);
                }
                self.dealer.register(
                    &mut self.ids,
                    (session, in_process),
                    request,
                    &options,
                    procedure,
                    uris,
                    out,
                )
            }
            WampMessage::Unregister { request, registration } => {
                self.dealer.unregister(session, request, registration, out);
                Ok(())
            }
            WampMessage::Yield { request, options, payload } => {
                options::YIELD.check(&options)?;
                self.dealer.yield_result(session, request, options, payload, out);
                Ok(())
            }
            WampMessage::Error { request_type: code::INVOCATION, request, details, error, payload } => {
                options::ERROR.check(&details)?;
                self.dealer.invocation_error(session, request, details, error, payload, out);
                Ok(())
            }
            WampMessage::Error { request_type, .. } => Err(Violation(format!(
                "a client may send ERROR only for an INVOCATION, not for message type {request_type}"
            ))),
            WampMessage::Cancel { request, options } => {
                options::CANCEL.check(&options)?;
                self.dealer.cancel(&self.sessions, session, request, &options, out);
                Ok(())
            }
            other => {
                Err(Violation(format!("a router does not accept {} messages from a client", other.name())))
            }
        }
    }
}

pub mod meta;
pub mod testament;

#[cfg(test)]
mod tests;
