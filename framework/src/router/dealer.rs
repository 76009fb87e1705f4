//! The dealer: registrations and the routing of calls to callees.
//!
//! A call has two halves joined by the invocation id: the caller's
//! (`CALL` → `RESULT`/`ERROR`) and the callee's (`INVOCATION` →
//! `YIELD`/`ERROR`). Whenever the callee's half disappears (the callee
//! leaves, or later a router node is lost) the caller's half ends with an
//! ERROR, so no call waits forever for a peer that is gone.

use super::FastMap as HashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use super::options::str_option;
use super::outbox::Outbox;
use super::realm::{RequestError, SessionLimits, Violation};
use super::FastSet;
use crate::protocol::id::IdAllocator;
use crate::protocol::{code, errors, Dict, Id, Message, Payload, UriRules};

#[derive(Debug)]
struct Registration {
    procedure: String,
    callee: Id,
}

/// A call routed to a callee and not yet answered.
#[derive(Debug, Clone, Copy)]
struct PendingCall {
    caller: Id,
    /// The caller's CALL request id.
    caller_request: Id,
    callee: Id,
    /// The tick by whose end the call times out, if it can.
    deadline: Option<u64>,
}

/// Call deadlines are kept to this granularity: a call times out within
/// one tick after its timeout.
const TICK: Duration = Duration::from_millis(100);

fn tick_at(time: Duration) -> u64 {
    // Rounded up: a call never times out early.
    let ticks = time.as_nanos().div_ceil(TICK.as_nanos());
    u64::try_from(ticks).unwrap_or(u64::MAX)
}

/// What one session owns in the dealer, so that its leaving costs time in
/// proportion to it.
#[derive(Debug, Default)]
struct Owned {
    registrations: FastSet<Id>,
    /// Invocations this session has to answer.
    invocations: FastSet<Id>,
}

impl Owned {
    fn is_empty(&self) -> bool {
        self.registrations.is_empty() && self.invocations.is_empty()
    }
}

/// Registrations and calls in flight of one realm.
#[derive(Debug, Default)]
pub struct Dealer {
    by_procedure: HashMap<String, Id>,
    registrations: HashMap<Id, Registration>,
    /// Keyed by the INVOCATION request id (unique in the realm). A call
    /// whose caller left stays until its callee answers or leaves (the
    /// answer is then dropped), so a caller leaving scans nothing.
    pending: HashMap<Id, PendingCall>,
    by_session: HashMap<Id, Owned>,
    /// Calls in flight per caller (joined callers that made a call).
    calls_of: HashMap<Id, usize>,
    limits: SessionLimits,
    /// How long the dealer lets a call wait for its callee.
    call_timeout: Option<Duration>,
    /// The pending calls that can time out, earliest deadline first, as
    /// (tick, invocation). An answered call stays until it reaches the top
    /// or the answered ones are the larger part, and is told apart by a
    /// lookup in `pending`: answering costs no search, and no allocation.
    deadlines: BinaryHeap<Reverse<(u64, Id)>>,
    /// The time, as its driver last told it.
    now: Duration,
}

impl Dealer {
    /// An empty dealer enforcing `limits`, failing calls that wait longer
    /// than `call_timeout` for their callee.
    pub fn new(limits: SessionLimits, call_timeout: Option<Duration>) -> Self {
        Dealer { limits, call_timeout, ..Default::default() }
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

    /// When the earliest pending call times out, if any can.
    pub fn next_deadline(&self) -> Option<Duration> {
        let Reverse((tick, _)) = self.deadlines.peek()?;
        Some(TICK.saturating_mul(u32::try_from(*tick).unwrap_or(u32::MAX)))
    }

    /// Whether the call `invocation` is pending with the deadline `tick`
    /// (an entry of `deadlines` that still counts).
    fn due(&self, tick: u64, invocation: Id) -> bool {
        self.pending.get(&invocation).is_some_and(|call| call.deadline == Some(tick))
    }

    /// Drops the deadlines of answered calls from the top of the heap, and
    /// all of them once they outnumber the calls in flight.
    fn sweep_deadlines(&mut self) {
        while let Some(Reverse((tick, invocation))) = self.deadlines.peek() {
            if self.due(*tick, *invocation) {
                break;
            }
            self.deadlines.pop();
        }
        if self.deadlines.len() > 2 * self.pending.len() + 64 {
            let pending = &self.pending;
            self.deadlines.retain(|Reverse((tick, invocation))| {
                pending.get(invocation).is_some_and(|call| call.deadline == Some(*tick))
            });
        }
    }

    /// Fails every call whose deadline has passed with
    /// `wamp.error.timeout` (to callers still `joined`), earliest deadline
    /// first.
    pub fn expire(&mut self, joined: impl Fn(Id) -> bool, out: &mut Outbox) {
        // Whole ticks passed: a deadline is due once its tick has begun.
        let now = u64::try_from(self.now.as_nanos() / TICK.as_nanos()).unwrap_or(u64::MAX);
        let mut expired = Vec::new();
        while let Some(Reverse((tick, invocation))) = self.deadlines.peek().copied() {
            if tick > now {
                break;
            }
            self.deadlines.pop();
            if self.due(tick, invocation) {
                expired.push(invocation);
            }
        }
        for invocation in expired {
            let Some(call) = self.forget_call(invocation) else { continue };
            self.owned(call.callee, |owned| owned.invocations.remove(&invocation));
            if joined(call.caller) {
                let timeout = self.call_timeout.unwrap_or_default();
                let text = format!(
                    "the callee did not answer within {}s (the router's call_timeout)",
                    timeout.as_secs_f64()
                );
                let _ = RequestError::new(errors::TIMEOUT, text).reply(
                    call.caller,
                    code::CALL,
                    call.caller_request,
                    out,
                );
            }
        }
    }

    /// Handles REGISTER.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &mut self,
        ids: &mut IdAllocator,
        session: Id,
        request: Id,
        options: &Dict,
        procedure: String,
        uris: UriRules,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        let policy = str_option(options, "REGISTER.Options", "match")?.unwrap_or("exact");
        let invoke = str_option(options, "REGISTER.Options", "invoke")?.unwrap_or("single");
        let reply = |e: RequestError, out: &mut Outbox| e.reply(session, code::REGISTER, request, out);
        if policy != "exact" || invoke != "single" {
            return reply(
                RequestError::new(
                    errors::OPTION_NOT_ALLOWED,
                    format!(
                        "match '{policy}' with invoke '{invoke}' is not supported by this router; \
                         use exact matching and single invocation"
                    ),
                ),
                out,
            );
        }
        if let Err(problem) = uris.check(&procedure) {
            return reply(RequestError::invalid_uri("procedure", &procedure, problem), out);
        }
        if self.by_procedure.contains_key(&procedure) {
            let message = format!("the procedure '{procedure}' is already registered");
            return reply(RequestError::new(errors::PROCEDURE_ALREADY_EXISTS, message), out);
        }
        let held = self.registrations_of(session);
        if held >= self.limits.registrations {
            let message = format!(
                "this session holds {held} registrations, the router's limit (max_registrations_per_session)"
            );
            return reply(RequestError::new(errors::TOO_MANY_REGISTRATIONS, message), out);
        }
        let id = loop {
            let id = ids.scoped();
            if !self.registrations.contains_key(&id) {
                break id;
            }
        };
        self.by_procedure.insert(procedure.clone(), id);
        self.registrations.insert(id, Registration { procedure, callee: session });
        self.by_session.entry(session).or_default().registrations.insert(id);
        out.send(session, Message::Registered { request, registration: id });
        Ok(())
    }

    /// Handles UNREGISTER.
    pub fn unregister(&mut self, session: Id, request: Id, registration: Id, out: &mut Outbox) {
        match self.registrations.get(&registration) {
            Some(r) if r.callee == session => {
                if let Some(r) = self.registrations.remove(&registration) {
                    self.by_procedure.remove(&r.procedure);
                }
                self.owned(session, |owned| owned.registrations.remove(&registration));
                out.send(session, Message::Unregistered { request });
            }
            _ => {
                let _ = RequestError::new(
                    errors::NO_SUCH_REGISTRATION,
                    format!("this session holds no registration {registration}"),
                )
                .reply(session, code::UNREGISTER, request, out);
            }
        }
    }

    /// Handles CALL: an INVOCATION to the callee, or an ERROR to the caller.
    #[allow(clippy::too_many_arguments)]
    pub fn call(
        &mut self,
        ids: &mut IdAllocator,
        caller: Id,
        request: Id,
        procedure: &str,
        payload: Payload,
        uris: UriRules,
        out: &mut Outbox,
    ) -> Result<(), Violation> {
        // A registered procedure passed the URI check when it was
        // registered: only a miss needs checking (and tells the two errors
        // apart).
        let Some((registration, callee)) = self
            .by_procedure
            .get(procedure)
            .and_then(|id| self.registrations.get(id).map(|r| (*id, r.callee)))
        else {
            if let Err(problem) = uris.check(procedure) {
                return RequestError::invalid_uri("procedure", procedure, problem).reply(
                    caller,
                    code::CALL,
                    request,
                    out,
                );
            }
            let message = format!("no callee registered the procedure '{procedure}'");
            return RequestError::new(errors::NO_SUCH_PROCEDURE, message).reply(
                caller,
                code::CALL,
                request,
                out,
            );
        };
        let calls = self.calls_of.get(&caller).copied().unwrap_or(0);
        if calls >= self.limits.calls {
            let message = format!(
                "this session has {calls} calls in flight, the router's limit (max_calls_per_session)"
            );
            return RequestError::new(errors::TOO_MANY_CALLS, message).reply(
                caller,
                code::CALL,
                request,
                out,
            );
        }
        let invocations = self.invocations_of(callee);
        if invocations >= self.limits.invocations {
            let message = format!(
                "the callee of '{procedure}' has {invocations} calls to answer, the router's limit \
                 (max_invocations_per_session)"
            );
            return RequestError::new(errors::CALLEE_OVERLOADED, message).reply(
                caller,
                code::CALL,
                request,
                out,
            );
        }
        let invocation = loop {
            let id = ids.scoped();
            if !self.pending.contains_key(&id) {
                break id;
            }
        };
        let deadline = self.call_timeout.map(|timeout| tick_at(self.now.saturating_add(timeout)));
        if let Some(tick) = deadline {
            self.deadlines.push(Reverse((tick, invocation)));
        }
        self.pending.insert(invocation, PendingCall { caller, caller_request: request, callee, deadline });
        self.by_session.entry(callee).or_default().invocations.insert(invocation);
        *self.calls_of.entry(caller).or_default() += 1;
        out.send(
            callee,
            Message::Invocation { request: invocation, registration, details: Dict::new(), payload },
        );
        Ok(())
    }

    /// Handles YIELD: the RESULT goes to the caller, if it is still
    /// `joined`; a YIELD for a call that no longer exists is dropped.
    pub fn yield_result(
        &mut self,
        callee: Id,
        invocation: Id,
        payload: Payload,
        joined: impl Fn(Id) -> bool,
        out: &mut Outbox,
    ) {
        if let Some(call) = self.take_pending(callee, invocation).filter(|call| joined(call.caller)) {
            out.send(
                call.caller,
                Message::Result { request: call.caller_request, details: Dict::new(), payload },
            );
        }
    }

    /// Handles ERROR for an INVOCATION: the error goes to the caller with
    /// the callee's URI, args and kwargs.
    #[allow(clippy::too_many_arguments)]
    pub fn invocation_error(
        &mut self,
        callee: Id,
        invocation: Id,
        details: Dict,
        error: String,
        payload: Payload,
        joined: impl Fn(Id) -> bool,
        out: &mut Outbox,
    ) {
        if let Some(call) = self.take_pending(callee, invocation).filter(|call| joined(call.caller)) {
            out.send(
                call.caller,
                Message::Error {
                    request_type: code::CALL,
                    request: call.caller_request,
                    details,
                    error,
                    payload,
                },
            );
        }
    }

    fn take_pending(&mut self, callee: Id, invocation: Id) -> Option<PendingCall> {
        match self.pending.get(&invocation) {
            Some(call) if call.callee == callee => {
                self.owned(callee, |owned| owned.invocations.remove(&invocation));
                self.forget_call(invocation)
            }
            _ => None,
        }
    }

    /// Removes a pending call and counts it out of its caller's calls.
    fn forget_call(&mut self, invocation: Id) -> Option<PendingCall> {
        let call = self.pending.remove(&invocation)?;
        if call.deadline.is_some() {
            self.sweep_deadlines();
        }
        // A caller's count stays (at zero) until it leaves: a caller making
        // one call at a time does not insert and remove it every call.
        if let Some(calls) = self.calls_of.get_mut(&call.caller) {
            *calls = calls.saturating_sub(1);
        }
        Some(call)
    }

    /// Changes what `session` owns, forgetting it once it owns nothing.
    fn owned<T>(&mut self, session: Id, change: impl FnOnce(&mut Owned) -> T) -> Option<T> {
        let owned = self.by_session.get_mut(&session)?;
        let result = change(owned);
        if owned.is_empty() {
            self.by_session.remove(&session);
        }
        Some(result)
    }

    /// Forgets a session that left: its registrations go, calls it was
    /// answering fail with `wamp.error.canceled`. Calls it made stay until
    /// their callees answer (the answers are dropped: nobody is there to
    /// take them).
    pub fn remove_session(&mut self, session: Id, joined: impl Fn(Id) -> bool, out: &mut Outbox) {
        self.calls_of.remove(&session);
        let Some(owned) = self.by_session.remove(&session) else { return };
        for id in owned.registrations {
            if let Some(r) = self.registrations.remove(&id) {
                self.by_procedure.remove(&r.procedure);
            }
        }
        let mut orphaned: Vec<(Id, PendingCall)> =
            owned.invocations.into_iter().filter_map(|id| Some((id, self.forget_call(id)?))).collect();
        // Answer in invocation order, so each caller sees its calls fail in
        // the order it made them.
        orphaned.sort_unstable_by_key(|(id, _)| *id);
        // Callers that left have nobody to tell.
        for (_, call) in orphaned.into_iter().filter(|(_, call)| joined(call.caller)) {
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

    /// How many procedures are registered.
    pub fn registration_count(&self) -> usize {
        self.registrations.len()
    }

    /// How many registrations `session` holds.
    pub fn registrations_of(&self, session: Id) -> usize {
        self.by_session.get(&session).map_or(0, |owned| owned.registrations.len())
    }

    /// How many invocations `session` has to answer.
    pub fn invocations_of(&self, session: Id) -> usize {
        self.by_session.get(&session).map_or(0, |owned| owned.invocations.len())
    }
}
