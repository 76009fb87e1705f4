//! One call a procedure of this session is answering, as its handler sees
//! it through [`CallDetails`](super::CallDetails): send partial results
//! (`progressive_call_results`), read further input (progressive call
//! invocations), learn that the router interrupted the call
//! (`call_canceling`, `call_timeout`).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use super::core::yield_progress;
use super::link::LinkSender;
use super::queue::CallQueue;
use crate::protocol::{errors, Id, Payload};
use crate::Error;

/// Why the router interrupted a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    /// `kill`: the router waits for this procedure's answer and passes it
    /// on to the caller; `killnowait`: the caller was already answered.
    pub mode: String,
    /// The reason URI: `wamp.error.canceled` (the caller canceled, or
    /// left) or `wamp.error.timeout` (the call's time ran out).
    pub reason: String,
}

impl Interruption {
    /// The error a handler that stops because of the interruption answers
    /// with.
    pub fn to_error(&self) -> Error {
        Error::new(self.reason.clone(), format!("the call was interrupted ({})", self.mode))
    }
}

/// The state of one invocation in progress.
pub(crate) struct Invocation {
    request: Id,
    link: LinkSender,
    /// The caller takes partial results.
    receive_progress: bool,
    interrupted: RefCell<Option<Interruption>>,
    /// The handler watches for the interruption (and answers it itself).
    watched: Cell<bool>,
    wakers: RefCell<Vec<Waker>>,
    /// Further input, for a progressive call invocation.
    inputs: Option<CallQueue<Payload>>,
}

impl Invocation {
    pub(crate) fn new(
        request: Id,
        link: LinkSender,
        receive_progress: bool,
        inputs: Option<CallQueue<Payload>>,
    ) -> Self {
        Invocation {
            request,
            link,
            receive_progress,
            interrupted: RefCell::new(None),
            watched: Cell::new(false),
            wakers: RefCell::default(),
            inputs,
        }
    }

    /// The router interrupted the call: wakes whoever waits for it.
    pub(crate) fn interrupt(&self, interruption: Interruption) {
        *self.interrupted.borrow_mut() = Some(interruption);
        if let Some(inputs) = &self.inputs {
            inputs.close();
        }
        for waker in self.wakers.borrow_mut().drain(..) {
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

    fn poll_interrupted(&self, cx: &mut TaskContext<'_>) -> Poll<Interruption> {
        if let Some(interruption) = self.interrupted.borrow().clone() {
            return Poll::Ready(interruption);
        }
        let mut wakers = self.wakers.borrow_mut();
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// What a [`CallDetails`](super::CallDetails) can do about its call. Empty
/// (every action a no-op) for details built by hand, as in unit tests.
#[derive(Clone, Default)]
pub struct CallControl(Option<Rc<Invocation>>);

impl CallControl {
    pub(crate) fn new(invocation: Rc<Invocation>) -> Self {
        CallControl(Some(invocation))
    }

    /// Whether the caller takes partial results.
    pub fn receives_progress(&self) -> bool {
        self.0.as_ref().is_some_and(|i| i.receive_progress)
    }

    /// Sends a partial result, if the caller takes them (`Ok(false)` if it
    /// does not: the call's final result must then carry everything).
    pub fn send_progress(&self, payload: Payload) -> Result<bool, Error> {
        let Some(invocation) = &self.0 else { return Ok(false) };
        if !invocation.receive_progress {
            return Ok(false);
        }
        if let Some(interruption) = invocation.interrupted.borrow().as_ref() {
            return Err(interruption.to_error());
        }
        if invocation.link.send(yield_progress(invocation.request, payload)) {
            Ok(true)
        } else {
            Err(Error::new(errors::CANCELED, "the session is not connected to a router"))
        }
    }

    /// The interruption, if the router interrupted the call.
    pub fn interruption(&self) -> Option<Interruption> {
        self.0.as_ref().and_then(|i| i.interrupted.borrow().clone())
    }

    /// Resolves when the router interrupts the call. A handler that waits
    /// for it keeps running when that happens, and answers as it sees fit;
    /// a handler that never asks is dropped at the interruption instead
    /// and the call answered with the interruption's error.
    pub fn interrupted(&self) -> Interrupted {
        if let Some(invocation) = &self.0 {
            invocation.watched.set(true);
        }
        Interrupted { invocation: self.0.clone() }
    }

    /// The next input of a progressive call invocation; `None` after the
    /// last (or at once, for a call that is not one).
    pub async fn next_input(&self) -> Option<Payload> {
        let inputs = self.0.as_ref().filter(|i| i.inputs.is_some())?.clone();
        std::future::poll_fn(|cx| match &inputs.inputs {
            Some(queue) => queue.poll_next(cx),
            None => Poll::Ready(None),
        })
        .await
    }

    /// Whether this call is a progressive call invocation (more input may
    /// follow the first).
    pub fn takes_input(&self) -> bool {
        self.0.as_ref().is_some_and(|i| i.inputs.is_some())
    }

    /// Runs a handler's future unless the call is interrupted first while
    /// nobody watches for it: then the future is dropped and the
    /// interruption's error is the answer.
    pub(crate) async fn run<F: Future<Output = Result<Payload, Error>>>(&self, future: F) -> F::Output {
        let Some(invocation) = self.0.clone() else { return future.await };
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(move |cx| {
            if let Poll::Ready(out) = future.as_mut().poll(cx) {
                return Poll::Ready(out);
            }
            match invocation.poll_interrupted(cx) {
                Poll::Ready(interruption) if !invocation.watched.get() => {
                    Poll::Ready(Err(interruption.to_error()))
                }
                _ => Poll::Pending,
            }
        })
        .await
    }
}

impl PartialEq for CallControl {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl std::fmt::Debug for CallControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("CallControl(detached)"),
            Some(i) => f
                .debug_struct("CallControl")
                .field("request", &i.request)
                .field("receive_progress", &i.receive_progress)
                .field("interrupted", &*i.interrupted.borrow())
                .finish(),
        }
    }
}

/// Resolves when the router interrupts the call (see
/// [`CallControl::interrupted`]); never, for a detached call.
pub struct Interrupted {
    invocation: Option<Rc<Invocation>>,
}

impl Future for Interrupted {
    type Output = Interruption;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Interruption> {
        match &self.invocation {
            Some(invocation) => invocation.poll_interrupted(cx),
            None => Poll::Pending,
        }
    }
}
