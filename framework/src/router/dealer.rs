//! The dealer: registrations and the routing of calls to callees.
//!
//! A call has two halves joined by the invocation id: the caller's
//! (`CALL` → `RESULT`/`ERROR`) and the callee's (`INVOCATION` →
//! `YIELD`/`ERROR`). Whenever the callee's half disappears (the callee
//! leaves, or later a router node is lost) the caller's half ends with an
//! ERROR, so no call waits forever for a peer that is gone.

use super::{IdMap, IdSet};
use std::time::Duration;

use super::broker::{unsupported, RESERVED_PREFIX};
use super::outbox::Outbox;
use super::patterns::MatchPolicy;
use super::realm::{Member, RequestError, SessionLimits, Violation};
use crate::protocol::id_source::IdAllocator;
use crate::protocol::options::InvokePolicy;
use crate::protocol::options::{Schema, PASSTHRU_KEYS};
use crate::protocol::roles::Role;
use call_book::CallBook;
use deadlines::Deadlines;
use pending::{Invocations, Pending};
use registry::{Callee, Registry, Target};

mod call_book;
mod deadlines;
mod pending;
pub mod registry;
use crate::protocol::{code, errors, ConvertError, Dict, Id, Payload, UriRules, Value, WampMessage};

/// What the dealer refuses in REGISTER.Options (`match` and `invoke` are
/// handled apart).
const REGISTER_REFUSED: &[(&str, &str)] = &[
    ("concurrency", "this router does not limit concurrency per registration"),
    ("force_reregister", "this router does not take registrations over"),
    ("forward_for", "it is for links between routers, which this router does not make"),
];

/// What the dealer refuses in CALL.Options.
const CALL_REFUSED: &[(&str, &str)] = &[
    ("transaction_hash", "this router does not deduplicate calls"),
    ("forward_for", "it is for links between routers, which this router does not make"),
];

/// A call routed to a callee and not yet answered.
#[derive(Debug, Clone, Copy)]
struct PendingCall {
    caller: Id,
    /// The caller's CALL request id.
    caller_request: Id,
    callee: Id,
    /// The tick by whose end the call times out, if it can.
    deadline: Option<u64>,
    /// The deadline is the caller's `timeout` option, not the router's.
    caller_timeout: bool,
    /// The caller takes progressive results.
    receive_progress: bool,
    /// INTERRUPT (mode `kill`) was sent: the callee's answer ends the call.
    interrupted: bool,
    /// The caller runs in this process: it takes results as Rust values.
    caller_in_process: bool,
}

/// Call deadlines are kept to this granularity: a call times out within
/// one tick after its timeout.
const TICK: Duration = Duration::from_nanos(TICK_NANOS as u64);
const TICK_NANOS: u32 = 100_000_000;
const TICKS_PER_SECOND: u64 = 1_000_000_000 / TICK_NANOS as u64;

fn tick_at(time: Duration) -> u64 {
    // Rounded up: a call never times out early. In 64-bit arithmetic (a
    // 128-bit division costs more than the rest of routing a call).
    let part = time.subsec_nanos().div_ceil(TICK_NANOS);
    time.as_secs().saturating_mul(TICKS_PER_SECOND).saturating_add(u64::from(part))
}

/// What one session owns in the dealer, so that its leaving costs time in
/// proportion to it. Kept from the session's first REGISTER or CALL until
/// it leaves, even while it owns nothing: a session making one call at a
/// time would otherwise insert and remove it on every call.
#[derive(Debug, Default)]
struct Owned {
    registrations: IdSet,
    /// Invocations this session has to answer.
    invocations: Invocations,
    /// Calls this session made that wait for their answer: the CALL
    /// request id, and the invocation it became.
    calls: CallBook,
}

/// Registrations and calls in flight of one realm.
#[derive(Debug, Default)]
pub struct Dealer {
    registry: Registry,
    /// By the INVOCATION request id (unique in the realm, and made by
    /// this table). A call whose caller left stays until its callee
    /// answers or leaves (the answer is then dropped), so a caller leaving
    /// scans nothing.
    pending: Pending<PendingCall>,
    by_session: IdMap<Owned>,
    limits: SessionLimits,
    /// How long the dealer lets a call wait for its callee.
    call_timeout: Option<Duration>,
    /// The pending calls that can time out, earliest deadline first, as
    /// (tick, invocation). An answered call stays until it reaches the top
    /// or the answered ones are the larger part, and is told apart by a
    /// lookup in `pending`: answering costs no search, and no allocation.
    deadlines: Deadlines,
    /// The time, as its driver last told it.
    now: Duration,
    /// How far the driver's clock may be off between two readings: added
    /// to every deadline.
    clock_resolution: Duration,
    /// Progressive call invocations whose caller may send more: by
    /// invocation id, where the next chunks go.
    streams: IdMap<Stream>,
}

/// A progressive call invocation (`CALL.Options.progress`) still taking
/// input.
#[derive(Debug)]
struct Stream {
    registration: Id,
    /// The INVOCATION details of the first CALL, which hold for every
    /// chunk (`progress` aside).
    details: Dict,
}

impl Dealer {
    /// An empty dealer enforcing `limits`, failing calls that wait longer
    /// than `call_timeout` for their callee.
    pub fn new(limits: SessionLimits, call_timeout: Option<Duration>) -> Self {
        Dealer { limits, call_timeout, ..Default::default() }
    }

    /// Lets the dealer keep only `most` calls in flight (tests of the
    /// table's own limit, which is in the millions).
    #[cfg(test)]
    pub(crate) fn hold_at_most(&mut self, most: usize) {
        self.pending.hold_at_most(most);
    }

    /// Entries in the deadline heap, answered calls included.
    #[cfg(test)]
    pub(crate) fn deadline_entries(&self) -> usize {
        self.deadlines.len()
    }

    /// Whether calls can time out (then [`Dealer::set_clock`] matters).
    pub fn times_calls(&self) -> bool {
        self.call_timeout.is_some()
    }

    /// Tells the dealer the time (a monotonic duration since an origin of
    /// the driver's choosing).
    pub fn set_clock(&mut self, now: Duration) {
        self.now = now;
    }

    /// How far the driver's clock may be off between two readings (see
    /// [`RealmCore::set_clock_resolution`](super::realm::RealmCore::set_clock_resolution)).
    pub fn set_clock_resolution(&mut self, resolution: Duration) {
        self.clock_resolution = resolution;
    }

    /// When [`Dealer::expire`] should next run: when the earliest pending
    /// call times out, or earlier, at the deadline of an answered call that
    /// is still kept (see `sweep_deadlines`); `None` if no call can time
    /// out.
    pub fn next_deadline(&self) -> Option<Duration> {
        let (tick, _) = self.deadlines.peek()?;
        Some(TICK.saturating_mul(u32::try_from(tick).unwrap_or(u32::MAX)))
    }

    /// Whether the call `invocation` is pending with the deadline `tick`
    /// (an entry of `deadlines` that still counts).
    fn due(&self, tick: u64, invocation: Id) -> bool {
        self.pending.get(invocation).is_some_and(|call| call.deadline == Some(tick))
    }

    /// Forgets the deadline of the call `answered`. Calls are mostly
    /// answered oldest first, so its deadline is usually on top and goes
    /// at once. Others stay until they reach the top when [`Dealer::expire`]
    /// runs (which tells them apart from deadlines that count: the timer
    /// may fire early for them, never late), or until they outnumber the
    /// calls in flight and all go at once: answering never searches.
    fn sweep_deadlines(&mut self, answered: Id) {
        if matches!(self.deadlines.peek(), Some((_, top)) if top == answered) {
            self.deadlines.pop();
        }
        if self.deadlines.len() > 2 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.deadlines.retain(|tick, invocation| {
                pending.get(invocation).is_some_and(|call| call.deadline == Some(tick))
            });
        }
    }

    /// Fails every call whose deadline has passed with
    /// `wamp.error.timeout` (to callers still joined), earliest deadline
    /// first; their callees get INTERRUPT if they can take it.
    pub fn expire(&mut self, sessions: &IdMap<Member>, out: &mut Outbox) {
        // Whole ticks passed: a deadline is due once its tick has begun.
        let now = u64::try_from(self.now.as_nanos() / TICK.as_nanos()).unwrap_or(u64::MAX);
        let mut expired = Vec::new();
        while let Some((tick, invocation)) = self.deadlines.peek() {
            if tick > now {
                break;
            }
            self.deadlines.pop();
            if self.due(tick, invocation) {
                expired.push(invocation);
            }
        }
        for invocation in expired {
            let Some(call) = self.abandon(invocation) else { continue };
            if sessions.contains_key(&call.caller) {
                let text = if call.caller_timeout {
                    "the callee did not answer within the call's timeout".to_owned()
                } else {
                    let timeout = self.call_timeout.unwrap_or_default();
                    format!(
                        "the callee did not answer within {}s (the router's call_timeout)",
                        timeout.as_secs_f64()
                    )
                };
                let _ = RequestError::new(errors::TIMEOUT, text).reply(
                    call.caller,
                    code::CALL,
                    call.caller_request,
                    out,
                );
            }
            if interruptible(sessions, call.callee) {
                out.send(call.callee, interrupt(invocation, "killnowait", errors::TIMEOUT));
            }
        }
    }

    /// Handles CANCEL (its options checked against `CANCEL.Options`) for
    /// the caller's call `request`. Mode `skip` fails the call with
    /// `wamp.error.canceled` at once and drops the callee's answer when it
    /// comes; `killnowait` (the default) does the same and sends the
    /// callee INTERRUPT; `kill` sends INTERRUPT and lets the callee's
    /// answer end the call. A callee that did not announce
    /// `call_canceling` is never interrupted: every mode is `skip` for it.
    /// A CANCEL for a call already answered is ignored.
    pub fn cancel(
        &mut self,
        sessions: &IdMap<Member>,
        caller: Id,
        request: Id,
        options: &Dict,
        out: &mut Outbox,
    ) {
        let Some(invocation) = self.by_session.get(&caller).and_then(|owned| owned.calls.get(request)) else {
            tracing::debug!(caller, request, "CANCEL for a call no longer in flight");
            return;
        };
        let Some(call) = self.pending.get_mut(invocation) else { return };
        let mode = Schema::text(options, "mode").unwrap_or("killnowait");
        let mode = if interruptible(sessions, call.callee) { mode } else { "skip" };
        if mode == "kill" {
            if !call.interrupted {
                call.interrupted = true;
                out.send(call.callee, interrupt(invocation, "kill", errors::CANCELED));
            }
            return;
        }
        let Some(call) = self.abandon(invocation) else { return };
        let _ = RequestError::new(errors::CANCELED, "the caller canceled the call").reply(
            caller,
            code::CALL,
            request,
            out,
        );
        if mode == "killnowait" {
            out.send(call.callee, interrupt(invocation, "killnowait", errors::CANCELED));
        }
    }

    /// Handles REGISTER.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &mut self,
        ids: &mut IdAllocator,
        (session, in_process): (Id, bool),
        request: Id,
        options: &Dict,
        procedure: String,
        uris: UriRules,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let policy = MatchPolicy::from_option(Schema::text(options, "match"));
        let invoke = InvokePolicy::from_option(Schema::text(options, "invoke"));
        let reply = |e: RequestError, out: &mut Outbox| e.reply(session, code::REGISTER, request, out);
        if let Some(refused) = unsupported(options, REGISTER_REFUSED) {
            return reply(refused, out);
        }
        if procedure.starts_with(RESERVED_PREFIX) {
            let message =
                format!("'{procedure}': procedures starting with '{RESERVED_PREFIX}' are the router's");
            return reply(RequestError::new(errors::INVALID_URI, message), out);
        }
        let checked = match policy {
            MatchPolicy::Exact => uris.check(&procedure),
            MatchPolicy::Prefix | MatchPolicy::Wildcard => uris.check_pattern(&procedure),
        };
        if let Err(problem) = checked {
            return reply(RequestError::invalid_uri("procedure", &procedure, problem), out);
        }
        let held = self.registrations_of(session);
        if held >= self.limits.registrations {
            let message = format!(
                "this session holds {held} registrations, the router's limit (max_registrations_per_session)"
            );
            return reply(RequestError::new(errors::TOO_MANY_REGISTRATIONS, message), out);
        }
        let callee =
            Callee { session, disclose_caller: Schema::flag(options, "disclose_caller", false), in_process };
        match self.registry.add(ids, procedure, policy, invoke, callee, self.now) {
            Ok(id) => {
                self.by_session.entry(session).or_default().registrations.insert(id);
                out.send(session, WampMessage::Registered { request, registration: id });
                Ok(())
            }
            Err(refused) => reply(refused, out),
        }
    }

    /// Handles UNREGISTER.
    pub fn unregister(&mut self, session: Id, request: Id, registration: Id, out: &mut Outbox) {
        let held =
            self.by_session.get_mut(&session).is_some_and(|owned| owned.registrations.remove(&registration));
        if held && self.registry.remove_callee(registration, session) {
            out.send(session, WampMessage::Unregistered { request });
        } else {
            let _ = RequestError::new(
                errors::NO_SUCH_REGISTRATION,
                format!("this session holds no registration {registration}"),
            )
            .reply(session, code::UNREGISTER, request, out);
        }
    }

    /// Handles CALL (its options checked against `CALL.Options`): an
    /// INVOCATION to the callee, or an ERROR to the caller.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        ids: &mut IdAllocator,
        sessions: &IdMap<Member>,
        (caller, caller_in_process): (Id, bool),
        request: Id,
        options: Dict,
        procedure: &str,
        payload: Payload,
        uris: UriRules,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        // A registered procedure passed the URI check when it was
        // registered: only a miss needs checking (and tells the two errors
        // apart).
        let progress = Schema::flag(&options, "progress", false);
        // A request id in use continues that call (or breaks the
        // protocol, see `next_chunk`); otherwise the caller's calls in
        // flight count against its limit.
        let (in_flight, continued) = match self.by_session.get(&caller) {
            Some(owned) => (owned.calls.len(), owned.calls.get(request)),
            None => (0, None),
        };
        if let Some(invocation) = continued {
            return self.next_chunk(request, invocation, progress, payload, out);
        }
        if let Some(refused) = unsupported(&options, CALL_REFUSED) {
            return refused.reply(caller, code::CALL, request, out);
        }
        let announced = |session: Id, role: Role, feature: &str| {
            sessions.get(&session).is_some_and(|info| info.roles.supports(role, feature))
        };
        if progress && !announced(caller, Role::Caller, "progressive_call_invocations") {
            return Err(Violation(
                "CALL.Options.progress from a caller that did not announce progressive_call_invocations"
                    .into(),
            ));
        }
        let target = match self.registry.exact_target(procedure, ids) {
            Some(target) => target,
            None => {
                if let Err(problem) = uris.check(procedure) {
                    return RequestError::invalid_uri("procedure", procedure, problem).reply(
                        caller,
                        code::CALL,
                        request,
                        out,
                    );
                }
                let Some(target) = self.registry.pattern_target(procedure, ids) else {
                    let message = format!("no callee registered the procedure '{procedure}'");
                    return RequestError::new(errors::NO_SUCH_PROCEDURE, message).reply(
                        caller,
                        code::CALL,
                        request,
                        out,
                    );
                };
                target
            }
        };
        let Target { registration, callee: Callee { session: callee, disclose_caller, in_process }, pattern } =
            target;
        if in_flight >= self.limits.calls {
            let message = format!(
                "this session has {in_flight} calls in flight, the router's limit (max_calls_per_session)"
            );
            return RequestError::new(errors::TOO_MANY_CALLS, message).reply(
                caller,
                code::CALL,
                request,
                out,
            );
        }
        if progress
            && !(announced(callee, Role::Callee, "progressive_call_invocations")
                && announced(callee, Role::Callee, "call_canceling"))
        {
            let message = format!(
                "the callee of '{procedure}' does not take progressive call invocations (it must announce \
                 progressive_call_invocations and call_canceling)"
            );
            return RequestError::new(errors::FEATURE_NOT_SUPPORTED, message).reply(
                caller,
                code::CALL,
                request,
                out,
            );
        }
        // Arguments held as a Rust value stay one only for a callee in
        // this process.
        let payload = match payload_for(in_process, payload) {
            Ok(payload) => payload,
            Err(e) => {
                let message =
                    format!("the arguments of the call to '{procedure}' cannot be sent as WAMP values: {e}");
                return RequestError::new(errors::INVALID_ARGUMENT, message).reply(
                    caller,
                    code::CALL,
                    request,
                    out,
                );
            }
        };
        // The callee's entry is found once, to count its invocations and
        // to add this one.
        let callee_owned = self.by_session.entry(callee).or_default();
        let busy = callee_owned.invocations.len();
        if busy >= self.limits.invocations {
            let message = format!(
                "the callee of '{procedure}' has {busy} calls to answer, the router's limit \
                 (max_invocations_per_session)"
            );
            return RequestError::new(errors::CALLEE_OVERLOADED, message).reply(
                caller,
                code::CALL,
                request,
                out,
            );
        }
        // The caller's timeout (milliseconds; 0: none) counts if it is the
        // shorter one.
        let own = Schema::count(&options, "timeout").filter(|ms| *ms > 0).map(Duration::from_millis);
        let caller_timeout = own.is_some_and(|own| self.call_timeout.map_or(true, |router| own < router));
        let timeout = if caller_timeout { own } else { self.call_timeout };
        let deadline = timeout
            .map(|timeout| tick_at(self.now.saturating_add(timeout).saturating_add(self.clock_resolution)));
        let receive_progress = Schema::flag(&options, "receive_progress", false);
        let call = PendingCall {
            caller,
            caller_request: request,
            callee,
            deadline,
            caller_timeout,
            receive_progress,
            interrupted: false,
            caller_in_process,
        };
        let Some(invocation) = self.pending.insert(call, &mut callee_owned.invocations) else {
            let message = format!(
                "the router has {} calls in flight in this realm, as many as it can track",
                self.pending.len()
            );
            return RequestError::new(errors::CALLEE_OVERLOADED, message).reply(
                caller,
                code::CALL,
                request,
                out,
            );
        };
        self.by_session.entry(caller).or_default().calls.insert(request, invocation);
        if let Some(tick) = deadline {
            self.deadlines.push(tick, invocation);
        }
        let mut details = if options.is_empty() && !disclose_caller {
            // The empty options go on as the details: no map to make, and
            // none to drop.
            options
        } else {
            let disclose = disclose_caller || Schema::flag(&options, "disclose_me", false);
            invocation_details(&options, caller, sessions.get(&caller).filter(|_| disclose))
        };
        if pattern {
            details.insert("procedure".into(), Value::from(procedure));
        }
        if progress {
            self.streams.insert(invocation, Stream { registration, details: details.clone() });
            details.insert("progress".into(), Value::Bool(true));
        }
        out.send(callee, WampMessage::Invocation { request: invocation, registration, details, payload });
        Ok(())
    }

    /// A further CALL of a progressive call invocation in flight: the
    /// chunk goes to the same callee as the same invocation, with the
    /// first CALL's details; one without `progress` is the last.
    fn next_chunk(
        &mut self,
        request: Id,
        invocation: Id,
        progress: bool,
        payload: Payload,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let (Some(call), Some(stream)) = (self.pending.get(invocation), self.streams.get(&invocation)) else {
            return Err(Violation(format!(
                "CALL request id {request} is in use by a call in flight that takes no more input"
            )));
        };
        let mut details = stream.details.clone();
        let registration = stream.registration;
        let callee = call.callee;
        if progress {
            details.insert("progress".into(), Value::Bool(true));
        } else {
            self.streams.remove(&invocation);
        }
        out.send(callee, WampMessage::Invocation { request: invocation, registration, details, payload });
        Ok(())
    }

    /// Handles YIELD (its options checked against `YIELD.Options`): the
    /// RESULT goes to the caller, if it is still joined; a YIELD for a
    /// call that no longer exists is dropped. A progressive result
    /// (`progress: true`) goes on as one and leaves the call pending, if
    /// the caller asked for them; otherwise it is dropped.
    pub fn yield_result(
        &mut self,
        callee: Id,
        invocation: Id,
        options: Dict,
        payload: Payload,
        out: &mut Outbox,
    ) {
        // Empty options go on as the details: no map to make, and none to
        // drop.
        let mut details = options;
        if !details.is_empty() {
            let options = std::mem::take(&mut details);
            copy_passthru(&options, &mut details);
            if Schema::flag(&options, "progress", false) {
                let call = match self.pending.get(invocation) {
                    Some(call) if call.callee == callee => *call,
                    _ => return,
                };
                if call.receive_progress && self.by_session.contains_key(&call.caller) {
                    details.insert("progress".into(), Value::Bool(true));
                    // A partial result that cannot be sent is left out
                    // (the final one still ends the call).
                    match payload_for(call.caller_in_process, payload) {
                        Ok(payload) => out.send(
                            call.caller,
                            WampMessage::Result { request: call.caller_request, details, payload },
                        ),
                        Err(e) => tracing::warn!(
                            callee,
                            invocation,
                            error = %e,
                            "partial result dropped: it cannot be sent as WAMP values"
                        ),
                    }
                } else {
                    tracing::debug!(
                        callee,
                        invocation,
                        "progressive result dropped: the caller did not ask for one"
                    );
                }
                return;
            }
        }
        if let Some((call, true)) = self.take_pending(callee, invocation) {
            send_result(call, details, payload, out);
        }
    }

    /// Handles ERROR for an INVOCATION: the error goes to the caller with
    /// the callee's URI, args and kwargs.
    pub fn invocation_error(
        &mut self,
        callee: Id,
        invocation: Id,
        details: Dict,
        error: String,
        payload: Payload,
        out: &mut Outbox,
    ) {
        if let Some((call, true)) = self.take_pending(callee, invocation) {
            out.send(
                call.caller,
                WampMessage::Error {
                    request_type: code::CALL,
                    request: call.caller_request,
                    details,
                    error,
                    payload,
                },
            );
        }
    }

    /// Takes the call `invocation` of `callee` out of the pending ones,
    /// and says whether its caller is still joined.
    fn take_pending(&mut self, callee: Id, invocation: Id) -> Option<(PendingCall, bool)> {
        let list = self.by_session.get_mut(&callee).map(|owned| &mut owned.invocations);
        let call = self.pending.remove_if(invocation, |call| call.callee == callee, list)?;
        let joined = self.settle(invocation, &call);
        Some((call, joined))
    }

    /// Ends a pending call without its callee's answer: it is counted out
    /// of its caller's calls and its callee's invocations.
    fn abandon(&mut self, invocation: Id) -> Option<PendingCall> {
        let callee = self.pending.get(invocation)?.callee;
        let list = self.by_session.get_mut(&callee).map(|owned| &mut owned.invocations);
        let call = self.pending.remove(invocation, list)?;
        let _joined = self.settle(invocation, &call);
        Some(call)
    }

    /// Removes a pending call of a callee that left (its list of
    /// invocations goes with it) and counts it out of its caller's calls.
    fn forget_call(&mut self, invocation: Id) -> Option<PendingCall> {
        let call = self.pending.remove(invocation, None)?;
        let _joined = self.settle(invocation, &call);
        Some(call)
    }

    /// Counts a call that left `pending` out of its caller's calls and its
    /// deadline out of the heap; says whether the caller is still joined
    /// (the caller of a pending call has its entry in `by_session` until
    /// it leaves).
    fn settle(&mut self, invocation: Id, call: &PendingCall) -> bool {
        if call.deadline.is_some() {
            self.sweep_deadlines(invocation);
        }
        if !self.streams.is_empty() {
            self.streams.remove(&invocation);
        }
        match self.by_session.get_mut(&call.caller) {
            Some(owned) => {
                owned.calls.remove(call.caller_request);
                true
            }
            None => false,
        }
    }

    /// Forgets a session that left: its registrations go, calls it was
    /// answering fail with `wamp.error.canceled`. Calls it made stay until
    /// their callees answer (the answers are dropped: nobody is there to
    /// take them), except progressive call invocations, which end at once
    /// with INTERRUPT to their callees.
    pub fn remove_session(&mut self, session: Id, joined: impl Fn(Id) -> bool, out: &mut Outbox) {
        let Some(owned) = self.by_session.remove(&session) else { return };
        // The calls it has to answer, listed before any call ends, oldest
        // first: each caller sees its calls fail in the order it made them.
        let mut answering = self.pending.ids_of(&owned.invocations);
        answering.reverse();
        // A progressive call invocation whose caller left will get no more
        // input: its callee, if still there, is told to stop.
        let mut streams: Vec<Id> = owned.calls.invocations();
        streams.retain(|invocation| self.streams.contains_key(invocation));
        streams.sort_unstable();
        for invocation in streams {
            if let Some(call) = self.abandon(invocation).filter(|call| joined(call.callee)) {
                out.send(call.callee, interrupt(invocation, "killnowait", errors::CANCELED));
            }
        }
        for id in owned.registrations {
            self.registry.remove_callee(id, session);
        }
        // A call to itself may have ended with its streams above.
        let orphaned: Vec<PendingCall> =
            answering.into_iter().filter_map(|id| self.forget_call(id)).collect();
        // Callers that left have nobody to tell.
        for call in orphaned.into_iter().filter(|call| joined(call.caller)) {
            let text = "the callee left before answering the call";
            let _ = RequestError::new(errors::CANCELED, text).reply(
                call.caller,
                code::CALL,
                call.caller_request,
                out,
            );
        }
    }

    /// How many calls wait for an answer.
    pub fn pending_calls(&self) -> usize {
        self.pending.len()
    }

    /// The registrations.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registration changes not yet announced.
    pub(super) fn changes_mut(&mut self) -> &mut Vec<super::realm::meta::Change> {
        &mut self.registry.changes
    }

    /// How many procedures are registered.
    pub fn registration_count(&self) -> usize {
        self.registry.len()
    }

    /// How many registrations `session` holds.
    pub fn registrations_of(&self, session: Id) -> usize {
        self.by_session.get(&session).map_or(0, |owned| owned.registrations.len())
    }

    /// How many invocations `session` has to answer.
    #[cfg(test)]
    pub(crate) fn invocations_of(&self, session: Id) -> usize {
        self.by_session.get(&session).map_or(0, |owned| owned.invocations.len())
    }
}

/// `payload` as a session takes it: arguments held as a Rust value
/// ([`Payload::Native`]) stay one for a session in this process
/// (`in_process`) and are converted to values for any other.
fn payload_for(in_process: bool, payload: Payload) -> Result<Payload, ConvertError> {
    if payload.is_native() && !in_process {
        return payload.materialize();
    }
    Ok(payload)
}

/// Sends a callee's final result to the caller; one that cannot reach it
/// as WAMP values ends the call with an ERROR instead.
fn send_result(call: PendingCall, details: Dict, payload: Payload, out: &mut Outbox) {
    match payload_for(call.caller_in_process, payload) {
        Ok(payload) => {
            out.send(call.caller, WampMessage::Result { request: call.caller_request, details, payload })
        }
        Err(e) => {
            let message = format!("the callee's result cannot be sent as WAMP values: {e}");
            let _ = RequestError::new(errors::INVALID_ARGUMENT, message).reply(
                call.caller,
                code::CALL,
                call.caller_request,
                out,
            );
        }
    }
}

/// Whether `callee` announced that it takes INTERRUPT.
fn interruptible(sessions: &IdMap<Member>, callee: Id) -> bool {
    sessions.get(&callee).is_some_and(|info| info.roles.supports(Role::Callee, "call_canceling"))
}

/// An INTERRUPT for `invocation`.
fn interrupt(invocation: Id, mode: &str, reason: &str) -> WampMessage {
    let options =
        Dict::from([("mode".to_owned(), Value::from(mode)), ("reason".to_owned(), Value::from(reason))]);
    WampMessage::Interrupt { request: invocation, options }
}

/// Copies the payload passthru keys of `options` into `details`.
pub(super) fn copy_passthru(options: &Dict, details: &mut Dict) {
    for key in PASSTHRU_KEYS {
        if let Some(value) = options.get(*key) {
            details.insert((*key).to_owned(), value.clone());
        }
    }
}

/// INVOCATION.Details of a call: who calls if `disclosed`, whether the
/// caller takes progressive results, and the payload passthru keys.
fn invocation_details(options: &Dict, caller: Id, disclosed: Option<&Member>) -> Dict {
    let mut details = Dict::new();
    if let Some(info) = disclosed {
        details.insert("caller".into(), Value::from(caller));
        details.insert("caller_authid".into(), Value::from(info.identity.authid.as_str()));
        details.insert("caller_authrole".into(), Value::from(info.identity.authrole.as_str()));
    }
    if Schema::flag(options, "receive_progress", false) {
        details.insert("receive_progress".into(), Value::Bool(true));
    }
    copy_passthru(options, &mut details);
    details
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_whole_ticks() {
        let tick = |nanos: u64| tick_at(Duration::from_nanos(nanos));
        assert_eq!(tick(0), 0);
        assert_eq!(tick(1), 1);
        assert_eq!(tick(100_000_000), 1);
        assert_eq!(tick(100_000_001), 2);
        assert_eq!(tick(5_050_000_000), 51);
        assert_eq!(tick(7_000_000_000), 70);
        for nanos in [3, 999_999_999, 1_000_000_000, 86_400_123_456_789, u64::MAX / 3] {
            let exact = u128::from(nanos).div_ceil(u128::from(TICK_NANOS));
            assert_eq!(u128::from(tick(nanos)), exact, "{nanos} ns");
        }
        assert_eq!(tick_at(Duration::MAX), u64::MAX, "saturates");
    }
}
