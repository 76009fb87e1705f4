//! One call a procedure of this session is answering, as its handler sees
//! it through [`CallDetails`](super::CallDetails): send partial results
//! (`progressive_call_results`), read further input (progressive call
//! invocations), learn that the router interrupted the call
//! (`call_canceling`, `call_timeout`).
//!
//! The session keeps the state of each call in progress in a map by
//! INVOCATION request id; a handler's [`CallControl`] reaches it there.
//! A call whose handler answers at once, without asking for its state,
//! never enters that map.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};

use super::core::yield_progress;
use super::pool_call::PoolSide;
use super::queue::CallQueue;
use super::session::SessionState;
use crate::protocol::{errors, Id, Payload};
use crate::Error;

/// Why the router interrupted a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// `kill`: the router waits for this procedure's answer and passes it
    /// on to the caller; `killnowait`: the caller was already answered.
    pub mode: String,
    /// The reason URI: `wamp.error.canceled` (the caller canceled, or
    /// left, or this session's connection ended) or `wamp.error.timeout`
    /// (the call's time ran out).
    pub reason: String,
}

impl Interruption {
    /// The error a handler that stops because of the interruption answers
    /// with.
    pub fn to_error(&self) -> Error {
        Error::from_parts(
            self.reason.clone(),
            crate::protocol::Payload::args(vec![format!("the call was interrupted ({})", self.mode).into()]),
        )
    }

    /// The interruption of every call of a session whose connection ended.
    pub(crate) fn session_ended() -> Self {
        Interruption { mode: "killnowait".into(), reason: errors::CANCELED.into() }
    }
}

/// The state of one invocation in progress, kept by the session.
#[derive(Default)]
pub(crate) struct InvocationState {
    /// The router session the call came in on.
    session: Id,
    interrupted: Option<Interruption>,
    /// The handler watches for the interruption (and answers it itself).
    watched: bool,
    wakers: Vec<Waker>,
    /// Further input, for a progressive call invocation.
    inputs: Option<Rc<CallQueue<Payload>>>,
}

impl InvocationState {
    /// A call of `session`; `takes_input` for a progressive call
    /// invocation.
    pub(crate) fn new(session: Id, takes_input: Option<Rc<CallQueue<Payload>>>) -> Self {
        InvocationState { session, inputs: takes_input, ..Default::default() }
    }

    /// The router session the call came in on.
    pub(crate) fn session(&self) -> Id {
        self.session
    }

    /// The router interrupted the call: wakes whoever waits for it.
    pub(crate) fn interrupt(&mut self, interruption: Interruption) {
        self.interrupted = Some(interruption);
        self.end();
    }

    /// The call is over for this session: the input ends, waiters wake.
    pub(crate) fn end(&mut self) {
        if let Some(inputs) = &self.inputs {
            inputs.close();
        }
        for waker in self.wakers.drain(..) {
            waker.wake();
        }
    }

    /// More input arrived (`more`: not the last).
    pub(crate) fn input(&self, payload: Payload, more: bool) {
        if let Some(inputs) = &self.inputs {
            inputs.push(payload);
            if !more {
                inputs.close();
            }
        }
    }

    fn wait(&mut self, waker: &Waker) {
        if !self.wakers.iter().any(|w| w.will_wake(waker)) {
            self.wakers.push(waker.clone());
        }
    }
}

/// What a [`CallDetails`](super::CallDetails) can do about its call. Empty
/// (every action a no-op) for details built by hand, as in unit tests.
#[derive(Clone, Default)]
pub struct CallControl(Reach);

/// Where the handler holding a [`CallControl`] runs, and so how it
/// reaches its call.
#[derive(Clone, Default)]
enum Reach {
    /// Details built by hand.
    #[default]
    Detached,
    /// On the session's thread, through the session's state.
    Local(Control),
    /// On a worker thread of the blocking pool, through the relay on the
    /// session's thread (see [`super::pool_call`]).
    Pool(Arc<PoolSide>),
}

#[derive(Clone)]
struct Control {
    request: Id,
    session: Id,
    receive_progress: bool,
    shared: Rc<SessionState>,
}

impl Control {
    /// Runs `f` on the call's state, if the call is still in progress in
    /// this session. While the handler runs for the first time (inside
    /// the delivery of its INVOCATION) the state is made on first use: a
    /// call answered at once without asking costs nothing here.
    fn with_state<T>(&self, f: impl FnOnce(&mut InvocationState) -> T) -> Option<T> {
        let mut invocations = self.shared.invocations.try_borrow_mut().ok()?;
        if self.shared.first_run.get() == Some((self.request, self.session)) {
            let state =
                invocations.entry(self.request).or_insert_with(|| InvocationState::new(self.session, None));
            return Some(f(state));
        }
        invocations.get_mut(&self.request).filter(|s| s.session == self.session).map(f)
    }

    /// The interruption: the router's, or the session's end if the call is
    /// no longer in progress here.
    fn poll_interrupted(&self, cx: &mut TaskContext<'_>, watch: bool) -> Poll<Interruption> {
        let state = self.with_state(|state| {
            state.watched |= watch;
            match &state.interrupted {
                Some(interruption) => Poll::Ready(interruption.clone()),
                None => {
                    state.wait(cx.waker());
                    Poll::Pending
                }
            }
        });
        state.unwrap_or_else(|| Poll::Ready(Interruption::session_ended()))
    }
}

impl CallControl {
    pub(crate) fn new(request: Id, session: Id, receive_progress: bool, shared: Rc<SessionState>) -> Self {
        CallControl(Reach::Local(Control { request, session, receive_progress, shared }))
    }

    /// The control of a handler running on the blocking pool.
    pub(crate) fn pool(side: Arc<PoolSide>) -> Self {
        CallControl(Reach::Pool(side))
    }

    fn local(&self) -> Option<&Control> {
        match &self.0 {
            Reach::Local(control) => Some(control),
            Reach::Detached | Reach::Pool(_) => None,
        }
    }

    /// Whether the caller takes partial results.
    pub fn receives_progress(&self) -> bool {
        match &self.0 {
            Reach::Detached => false,
            Reach::Local(control) => control.receive_progress,
            Reach::Pool(side) => side.receives_progress(),
        }
    }

    /// Sends a partial result, if the caller takes them (`Ok(false)` if it
    /// does not: the call's final result must then carry everything).
    /// Fails once the call was interrupted or its session ended.
    pub fn send_progress(&self, payload: Payload) -> Result<bool, Error> {
        if let Reach::Pool(side) = &self.0 {
            return side.send_progress(payload);
        }
        let Some(control) = self.local().filter(|c| c.receive_progress) else { return Ok(false) };
        let interrupted = control.with_state(|state| state.interrupted.clone());
        match interrupted {
            None => return Err(Interruption::session_ended().to_error()),
            Some(Some(interruption)) => return Err(interruption.to_error()),
            Some(None) => {}
        }
        let link = control.shared.link.borrow();
        match link.as_ref() {
            Some(link) if link.send(yield_progress(control.request, payload)) => Ok(true),
            _ => Err(Error::transport("the session is not connected to a router")),
        }
    }

    /// The interruption, if the router interrupted the call.
    pub fn interruption(&self) -> Option<Interruption> {
        match &self.0 {
            Reach::Detached => None,
            Reach::Local(control) => control.with_state(|state| state.interrupted.clone()).flatten(),
            Reach::Pool(side) => side.interruption(),
        }
    }

    /// The interruption, without marking the call as watched (a call
    /// nobody watches is still dropped at the interruption): for the relay
    /// of a run on the blocking pool. Never ready for details built by
    /// hand.
    pub(crate) fn poll_interruption(&self, cx: &mut TaskContext<'_>) -> Poll<Interruption> {
        match &self.0 {
            Reach::Local(control) => control.poll_interrupted(cx, false),
            Reach::Pool(side) => side.poll_interrupted(cx),
            Reach::Detached => Poll::Pending,
        }
    }

    /// Resolves when the router interrupts the call, or the session's
    /// connection ends (at once if the call has already been answered:
    /// nobody waits for it any more). A handler that waits for it keeps running when
    /// that happens, and answers as it sees fit; a handler that never asks
    /// is dropped at the interruption instead and the call answered with
    /// the interruption's error.
    pub fn interrupted(&self) -> Interrupted {
        if let Some(control) = self.local() {
            control.with_state(|state| state.watched = true);
        }
        Interrupted { reach: self.0.clone() }
    }

    /// The next input of a progressive call invocation; `None` after the
    /// last (or at once, for a call that is not one, and for a handler on
    /// the blocking pool: it is not `async`, and could not wait for it).
    pub async fn next_input(&self) -> Option<Payload> {
        let queue = self.local()?.with_state(|state| state.inputs.clone()).flatten()?;
        std::future::poll_fn(|cx| queue.poll_next(cx)).await
    }

    /// Whether this call is a progressive call invocation (more input may
    /// follow the first).
    pub fn takes_input(&self) -> bool {
        match &self.0 {
            Reach::Detached => false,
            Reach::Local(control) => control.with_state(|state| state.inputs.is_some()).unwrap_or(false),
            Reach::Pool(side) => side.takes_input(),
        }
    }

    /// Runs a handler's future unless the call is interrupted first while
    /// nobody watches for it: then the future is dropped and the
    /// interruption's error is the answer. A `timeout` (the caller's, from
    /// INVOCATION.Details, when the router left it to the callee) counts as
    /// an interruption with reason `wamp.error.timeout` when it runs out.
    pub(crate) async fn run<F: Future<Output = Result<Payload, Error>>>(
        &self,
        future: F,
        timeout: Option<std::time::Duration>,
    ) -> F::Output {
        let Some(control) = self.local().cloned() else { return future.await };
        let mut future = std::pin::pin!(future);
        let mut deadline = timeout.map(|limit| Box::pin(tokio::time::sleep(limit)));
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(out) = future.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            if deadline.as_mut().is_some_and(|sleep| sleep.as_mut().poll(cx).is_ready()) {
                deadline = None;
                control.with_state(|state| {
                    if state.interrupted.is_none() {
                        // The answer goes to the caller: mode `kill`.
                        state.interrupt(Interruption { mode: "kill".into(), reason: errors::TIMEOUT.into() });
                    }
                });
                // A watching handler was woken; poll it with the news.
                cx.waker().wake_by_ref();
            }
            let watched = control.with_state(|state| state.watched).unwrap_or(false);
            match control.poll_interrupted(cx, false) {
                Poll::Ready(interruption) if !watched => Poll::Ready(Err(interruption.to_error())),
                _ => Poll::Pending,
            }
        })
        .await
    }
}

impl PartialEq for CallControl {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Reach::Local(a), Reach::Local(b)) => {
                (a.request, a.session) == (b.request, b.session) && Rc::ptr_eq(&a.shared, &b.shared)
            }
            (Reach::Pool(a), Reach::Pool(b)) => Arc::ptr_eq(a, b),
            (Reach::Detached, Reach::Detached) => true,
            _ => false,
        }
    }
}

impl std::fmt::Debug for CallControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Reach::Detached => f.write_str("CallControl(detached)"),
            Reach::Local(c) => f
                .debug_struct("CallControl")
                .field("request", &c.request)
                .field("session", &c.session)
                .field("receive_progress", &c.receive_progress)
                .finish(),
            Reach::Pool(side) => f.debug_tuple("CallControl").field(side).finish(),
        }
    }
}

/// Resolves when the router interrupts the call (see
/// [`CallDetails::interrupted`](super::CallDetails::interrupted)); never,
/// for a detached call.
pub struct Interrupted {
    reach: Reach,
}

impl Future for Interrupted {
    type Output = Interruption;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Interruption> {
        match &self.reach {
            Reach::Local(control) => control.poll_interrupted(cx, true),
            Reach::Pool(side) => side.poll_interrupted(cx),
            Reach::Detached => Poll::Pending,
        }
    }
}
