//! The caller's side of progressive calls: a call whose partial results
//! come as a stream ([`CallStream`]), and a call whose input goes out in
//! pieces ([`InputCall`]).

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};

use super::core::Outcome;
use super::payload::Arguments;
use super::queue::CallQueue;
use super::reply::ReplyReceiver;
use super::session::{failure, OwedRead, Session};
use super::IntoArguments;
use crate::protocol::{errors, Id, Payload, Uri};
use crate::{Error, ErrorKind};

/// One answer of a progressive call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallProgress {
    /// A partial result; more follow.
    Partial(Arguments),
    /// The call's result; nothing follows.
    Final(Arguments),
}

impl CallProgress {
    /// The result, partial or final.
    pub fn into_result(self) -> Arguments {
        match self {
            CallProgress::Partial(r) | CallProgress::Final(r) => r,
        }
    }

    /// Whether this is the final result.
    pub fn is_final(&self) -> bool {
        matches!(self, CallProgress::Final(_))
    }
}

/// The answers of a call made with
/// [`Session::call_progressive`](super::Session::call_progressive): each
/// partial result, then the final result or an error, then the end.
///
/// Dropping the stream before its end gives the call up, as dropping a
/// call's future does: the router is asked to cancel it.
pub struct CallStream {
    state: State,
}

enum State {
    /// The call could not start.
    Failed(Error),
    Running(Box<Running>),
    Done,
}

struct Running {
    ctx: Session,
    request: Id,
    session: Option<Id>,
    partials: Rc<CallQueue<Payload>>,
    reply: ReplyReceiver<Outcome>,
    deadline: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
    /// For a call between two `&self` methods of one component: counted
    /// while it runs (see `Session::call_with`).
    _owed: Option<OwedRead>,
}

impl CallStream {
    pub(crate) fn failed(error: Error) -> Self {
        CallStream { state: State::Failed(error) }
    }

    pub(crate) fn running(
        ctx: Session,
        request: Id,
        partials: Rc<CallQueue<Payload>>,
        reply: ReplyReceiver<Outcome>,
        timeout: Option<Duration>,
        owed: Option<OwedRead>,
    ) -> Self {
        let session = ctx.session_id();
        let deadline = timeout.map(|limit| (limit, Box::pin(tokio::time::sleep(limit))));
        let running = Running { ctx, request, session, partials, reply, deadline, _owed: owed };
        CallStream { state: State::Running(Box::new(running)) }
    }

    /// Waits for the final result, skipping partial ones.
    pub async fn finish(mut self) -> Result<Arguments, Error> {
        while let Some(item) = self.next().await {
            if let CallProgress::Final(result) = item? {
                return Ok(result);
            }
        }
        Err(Error::lost())
    }

    /// The CALL request id, while the call runs.
    pub fn request(&self) -> Option<Id> {
        match &self.state {
            State::Running(running) => Some(running.request),
            _ => None,
        }
    }

    /// Ends the call: the outcome is the stream's last item.
    fn end(
        &mut self,
        item: Result<CallProgress, Error>,
        answered: bool,
    ) -> Poll<Option<Result<CallProgress, Error>>> {
        if let State::Running(running) = std::mem::replace(&mut self.state, State::Done) {
            running.forget(!answered);
        }
        Poll::Ready(Some(item))
    }
}

impl Running {
    /// Stops routing partial results here; `give_up` also abandons the
    /// call (and asks the router to cancel it).
    fn forget(&self, give_up: bool) {
        if let Ok(mut partials) = self.ctx.shared.partials.try_borrow_mut() {
            partials.remove(&self.request);
        }
        if give_up {
            self.ctx.give_up(self.request, self.session);
        }
    }
}

impl Stream for CallStream {
    type Item = Result<CallProgress, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let running = match &mut self.state {
            State::Done => return Poll::Ready(None),
            State::Failed(_) => {
                let State::Failed(error) = std::mem::replace(&mut self.state, State::Done) else {
                    return Poll::Ready(None);
                };
                return Poll::Ready(Some(Err(error)));
            }
            State::Running(running) => running,
        };
        // Partial results first: the final one came after them.
        if let Some(payload) = running.partials.try_next() {
            return Poll::Ready(Some(Ok(CallProgress::Partial(Arguments::from_payload(payload)))));
        }
        if let Poll::Ready(outcome) = Pin::new(&mut running.reply).poll(cx) {
            let item = match outcome {
                Ok(Outcome::Result { payload, .. }) => {
                    Ok(CallProgress::Final(Arguments::from_payload(payload)))
                }
                other => Err(failure(other)),
            };
            return self.end(item, true);
        }
        let _ = running.partials.poll_next(cx);
        if let Some((limit, sleep)) = &mut running.deadline {
            if sleep.as_mut().poll(cx).is_ready() {
                let error = Error::timeout(*limit);
                return self.end(Err(error), false);
            }
        }
        Poll::Pending
    }
}

impl Drop for CallStream {
    fn drop(&mut self) {
        if let State::Running(running) = &self.state {
            running.forget(true);
        }
    }
}

impl std::fmt::Debug for CallStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallStream").field("request", &self.request()).finish()
    }
}

/// A call whose input goes out in pieces (progressive call invocations),
/// made with [`Session::call_with_input`](super::Session::call_with_input):
/// the first piece went with the CALL; [`InputCall::send`] sends more,
/// [`InputCall::finish`] the last one, and waits for the result.
///
/// The callee may answer before the input ends; later pieces then fail.
/// Dropping the call before its answer gives it up.
pub struct InputCall {
    procedure: Uri,
    answers: CallStream,
}

impl InputCall {
    pub(crate) fn new(procedure: Uri, answers: CallStream) -> Self {
        InputCall { procedure, answers }
    }

    /// Sends one more piece of input.
    pub fn send(&self, args: impl IntoArguments) -> Result<(), Error> {
        let payload = args.into_payload()?;
        self.chunk(true, payload)
    }

    /// Sends the last piece of input and waits for the result (partial
    /// results, if asked for, are skipped; use
    /// [`InputCall::finish_streaming`] to read them).
    pub async fn finish(self, args: impl IntoArguments) -> Result<Arguments, Error> {
        let payload = args.into_payload()?;
        self.finish_streaming(payload)?.finish().await
    }

    /// Sends the last piece of input; the answers follow in the stream.
    pub fn finish_streaming(self, args: impl IntoArguments) -> Result<CallStream, Error> {
        self.chunk(false, args.into_payload()?)?;
        Ok(self.answers)
    }

    fn chunk(&self, more: bool, payload: Payload) -> Result<(), Error> {
        let State::Running(running) = &self.answers.state else {
            return Err(
                Error::new(errors::CANCELED, "the call has already ended").of_kind(ErrorKind::Canceled)
            );
        };
        let message = running.ctx.shared.core.borrow().call_chunk(
            running.request,
            self.procedure.clone(),
            more,
            payload,
        );
        match message {
            Some(message) if running.session == running.ctx.session_id() => running.ctx.send(message),
            _ => Err(Error::new(errors::CANCELED, "the call has already been answered")
                .of_kind(ErrorKind::Canceled)),
        }
    }
}

impl std::fmt::Debug for InputCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputCall")
            .field("procedure", &self.procedure)
            .field("answers", &self.answers)
            .finish()
    }
}
