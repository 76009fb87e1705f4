//! The dealer: registrations and the routing of calls to callees.
//!
//! A call has two halves joined by the invocation id: the caller's
//! (`CALL` → `RESULT`/`ERROR`) and the callee's (`INVOCATION` →
//! `YIELD`/`ERROR`). Whenever the callee's half disappears (the callee
//! leaves, or later a router node is lost) the caller's half ends with an
//! ERROR, so no call waits forever for a peer that is gone.

use super::FastMap as HashMap;

use super::options::str_option;
use super::outbox::Outbox;
use super::realm::{RequestError, Violation};
use crate::protocol::id::SequentialIds;
use crate::protocol::{code, errors, Dict, Id, Message, Payload, UriPolicy, Value};

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
}

/// Registrations and calls in flight of one realm.
#[derive(Debug, Default)]
pub struct Dealer {
    by_procedure: HashMap<String, Id>,
    registrations: HashMap<Id, Registration>,
    registration_ids: SequentialIds,
    /// Keyed by the INVOCATION request id (unique in the realm).
    pending: HashMap<Id, PendingCall>,
    invocation_ids: SequentialIds,
}

impl Dealer {
    /// Handles REGISTER.
    pub fn register(
        &mut self,
        session: Id,
        request: Id,
        options: &Dict,
        procedure: String,
        uris: UriPolicy,
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
        if !uris.check(&procedure) {
            return reply(RequestError::invalid_uri("procedure", &procedure), out);
        }
        if self.by_procedure.contains_key(&procedure) {
            let message = format!("the procedure '{procedure}' is already registered");
            return reply(RequestError::new(errors::PROCEDURE_ALREADY_EXISTS, message), out);
        }
        let id = loop {
            let id = self.registration_ids.next_id();
            if !self.registrations.contains_key(&id) {
                break id;
            }
        };
        self.by_procedure.insert(procedure.clone(), id);
        self.registrations.insert(id, Registration { procedure, callee: session });
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
    pub fn call(
        &mut self,
        caller: Id,
        request: Id,
        procedure: &str,
        payload: Payload,
        uris: UriPolicy,
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
            if !uris.check(procedure) {
                return RequestError::invalid_uri("procedure", procedure).reply(
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
        let invocation = loop {
            let id = self.invocation_ids.next_id();
            if !self.pending.contains_key(&id) {
                break id;
            }
        };
        self.pending.insert(invocation, PendingCall { caller, caller_request: request, callee });
        out.send(
            callee,
            Message::Invocation { request: invocation, registration, details: Dict::new(), payload },
        );
        Ok(())
    }

    /// Handles YIELD: the RESULT goes to the caller. A YIELD for a call that
    /// no longer exists (its caller left) is dropped.
    pub fn yield_result(&mut self, callee: Id, invocation: Id, payload: Payload, out: &mut Outbox) {
        if let Some(call) = self.take_pending(callee, invocation) {
            out.send(
                call.caller,
                Message::Result { request: call.caller_request, details: Dict::new(), payload },
            );
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
        if let Some(call) = self.take_pending(callee, invocation) {
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
            Some(call) if call.callee == callee => self.pending.remove(&invocation),
            _ => None,
        }
    }

    /// Forgets a session that left: its registrations go, calls it was
    /// answering fail with `wamp.error.canceled`, calls it made are dropped.
    pub fn remove_session(&mut self, session: Id, out: &mut Outbox) {
        self.registrations
            .retain(|_, r| r.callee != session || self.by_procedure.remove(&r.procedure).is_none());
        let mut orphaned: Vec<(Id, PendingCall)> = Vec::new();
        self.pending.retain(|id, call| {
            if call.callee == session {
                orphaned.push((*id, *call));
                false
            } else {
                call.caller != session
            }
        });
        // Answer in invocation order, so each caller sees its calls fail in
        // the order it made them.
        orphaned.sort_unstable_by_key(|(id, _)| *id);
        for (_, call) in orphaned {
            out.send(
                call.caller,
                Message::Error {
                    request_type: code::CALL,
                    request: call.caller_request,
                    details: Dict::new(),
                    error: errors::CANCELED.into(),
                    payload: Payload::args(vec![Value::from("the callee left before answering the call")]),
                },
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
}
