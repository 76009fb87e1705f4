//! Carrying out what the session's core decided: messages out, waiters
//! answered, handlers run (a panicking handler contained).

use super::*;
use crate::client::watchdog::{watched, Watched};

/// Carries out the effects a session's core produced: sends messages,
/// answers waiters, runs handlers. If the router broke the protocol, the
/// session says GOODBYE and leaves, and this returns `true`.
pub(super) fn apply(handle: &Session, effects: &mut Vec<ClientEffect<Reply, Handler>>) -> bool {
    if effects.is_empty() {
        return false;
    }
    let _delivering = crate::router::direct::Delivering::enter();
    let link = handle.shared.link.borrow();
    let link = link.as_ref();
    let mut violation = None;
    for effect in effects.drain(..) {
        carry_out(handle, link, effect, &mut violation);
    }
    violation.is_some_and(|text| leave_for(link, &text))
}

/// [`apply`] for one effect, the only one of its message.
pub(super) fn apply_one(handle: &Session, effect: ClientEffect<Reply, Handler>) -> bool {
    let _delivering = crate::router::direct::Delivering::enter();
    let link = handle.shared.link.borrow();
    let link = link.as_ref();
    let mut violation = None;
    carry_out(handle, link, effect, &mut violation);
    violation.is_some_and(|text| leave_for(link, &text))
}

/// Carries out one effect; a protocol violation of the router's is left
/// in `violation`.
#[inline(always)]
fn carry_out(
    handle: &Session,
    link: Option<&LinkSender>,
    effect: ClientEffect<Reply, Handler>,
    violation: &mut Option<String>,
) {
    match effect {
        ClientEffect::Send(message) => {
            if let Some(link) = link {
                link.send(message);
            }
        }
        ClientEffect::Complete(reply, outcome) => {
            let _ = reply.send(outcome);
        }
        ClientEffect::Invoke { handler: Handler::Procedure(procedure, name), request, details, payload } => {
            let Some(link) = link else { return };
            // The call's state is made when first asked for (at once
            // for a call that takes input), and goes when the call has
            // been answered.
            let session = handle.session_id().unwrap_or_default();
            let receive_progress = Schema::flag(&details, "receive_progress", false);
            let takes_input = Schema::flag(&details, "progress", false);
            // A router that does not time calls may pass the caller's
            // timeout on: the callee keeps it.
            let timeout =
                Schema::count(&details, "timeout").filter(|ms| *ms > 0).map(std::time::Duration::from_millis);
            if takes_input {
                let inputs = Rc::new(CallQueue::new(handle.shared.clone()));
                handle
                    .shared
                    .invocations
                    .borrow_mut()
                    .insert(request, InvocationState::new(session, Some(inputs)));
            }
            // Most handlers finish at once; only the others get a task
            // (which answers on the link the call came from, unless
            // the call is interrupted first). A panic answers the call
            // and goes no further.
            let call = IncomingCall::new(request, details, session, receive_progress);
            handle.shared.first_run.set(Some((request, session)));
            let outcome = watched(&name, || contained(|| procedure(payload, call, handle.clone())));
            handle.shared.first_run.set(None);
            match outcome {
                Ok(Completion::Later(fut)) => {
                    handle
                        .shared
                        .invocations
                        .borrow_mut()
                        .entry(request)
                        .or_insert_with(|| InvocationState::new(session, None));
                    let link = link.clone();
                    let running = handle.shared.handler_started();
                    let shared = handle.shared.clone();
                    let control = CallControl::new(request, session, receive_progress, shared.clone());
                    actix::spawn(async move {
                        let handler = async move {
                            contained_future(Watched::new(name, fut)).await.unwrap_or_else(Err)
                        };
                        let result = control.run(handler, timeout).await;
                        answer(&link, request, result);
                        answered(&shared, request, session);
                        drop(running);
                    });
                }
                Ok(Completion::Now(result)) => {
                    answered(&handle.shared, request, session);
                    answer(link, request, result);
                }
                Err(panic) => {
                    answered(&handle.shared, request, session);
                    answer(link, request, Err(panic));
                }
            }
        }
        ClientEffect::Progress { request, payload, .. } => {
            match handle.shared.partials.borrow().get(&request) {
                Some(partials) => partials.push(payload),
                None => tracing::debug!(request, "a partial result for a call given up"),
            }
        }
        ClientEffect::Input { request, progress, payload } => {
            match handle.shared.invocations.borrow().get(&request) {
                Some(invocation) => invocation.input(payload, progress),
                None => tracing::debug!(request, "input for a call already answered"),
            }
        }
        ClientEffect::Interrupt { request, mode, reason } => {
            match handle.shared.invocations.borrow_mut().get_mut(&request) {
                Some(invocation) => invocation.interrupt(Interruption { mode, reason }),
                None => tracing::debug!(request, "INTERRUPT for a call already answered"),
            }
        }
        ClientEffect::Deliver { handler: Handler::Event(event, name), publication, details, payload } => {
            let details = EventDetails::new(publication, details);
            match watched(&name, || contained(|| event(payload, details, handle.clone()))) {
                Ok(Completion::Now(())) => {}
                Ok(Completion::Later(fut)) => {
                    let running = handle.shared.handler_started();
                    actix::spawn(async move {
                        if let Err(panic) = contained_future(Watched::new(name, fut)).await {
                            tracing::error!(error = %panic, "event handler panicked");
                        }
                        drop(running);
                    });
                }
                Err(panic) => tracing::error!(error = %panic, "event handler panicked"),
            }
        }
        ClientEffect::Invoke { request, .. } => {
            // A subscription id named in an INVOCATION: answer, do not hang.
            if let Some(link) = link {
                let error = Error::new(errors::NO_SUCH_REGISTRATION, "not a procedure");
                answer(link, request, Err(error));
            }
        }
        ClientEffect::Deliver { .. } => {}
        ClientEffect::Violation(text) => *violation = Some(text),
    }
}

/// The router broke the protocol: the session says GOODBYE and leaves.
#[cold]
fn leave_for(link: Option<&LinkSender>, text: &str) -> bool {
    tracing::warn!(%text, "the router broke the protocol; leaving");
    if let Some(link) = link {
        link.send(crate::router::session::goodbye(errors::PROTOCOL_VIOLATION, text));
        link.leave();
    }
    true
}

/// A result held as a Rust value, as WAMP values for a router in another
/// process.
#[cold]
fn as_values(payload: Payload) -> Result<Payload, Error> {
    payload.materialize().map_err(|e| {
        Error::new(errors::INVALID_ARGUMENT, format!("the result cannot be sent as WAMP values: {e}"))
    })
}

/// The invocation `request` of `session` has been answered: its state
/// goes (its input ends, anything waiting on it wakes).
pub(super) fn answered(shared: &SessionState, request: Id, session: Id) {
    let mut invocations = shared.invocations.borrow_mut();
    if invocations.is_empty() {
        return;
    }
    if invocations.get(&request).is_some_and(|state| state.session() == session) {
        if let Some(mut state) = invocations.remove(&request) {
            drop(invocations);
            state.end();
        }
    }
}

/// Runs a handler, turning a panic into a `wamp.error.runtime_error`: a
/// handler's failure must not take the session, or the realm that may be
/// delivering to it, down with it. The handler's state stays as the panic
/// left it (its lock is released).
pub(crate) fn contained<T>(run: impl FnOnce() -> T) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(panicked)
}

/// [`contained`] for a handler's future.
pub(crate) async fn contained_future<T>(future: impl std::future::Future<Output = T>) -> Result<T, Error> {
    std::panic::AssertUnwindSafe(future).catch_unwind().await.map_err(panicked)
}

pub(crate) fn panicked(panic: Box<dyn std::any::Any + Send>) -> Error {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    Error::new(errors::RUNTIME_ERROR, format!("the handler panicked: {text}"))
}

/// Sends the YIELD or ERROR for an invocation on the link it came from,
/// with empty options or details.
#[inline]
pub(super) fn answer(link: &LinkSender, request: Id, result: Result<Payload, Error>) {
    let options = Dict::new();
    // A result held as a Rust value goes as it is only to a router in
    // this process.
    let result = match result {
        Ok(payload) if payload.is_native() && !link.in_process() => as_values(payload),
        other => other,
    };
    let message = match result {
        Ok(payload) => crate::protocol::WampMessage::Yield { request, options, payload },
        Err(e) => {
            let (error, payload) = e.into_parts();
            crate::protocol::WampMessage::Error {
                request_type: crate::protocol::code::INVOCATION,
                request,
                details: options,
                error,
                payload,
            }
        }
    };
    link.send(message);
}
