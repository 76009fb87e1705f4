//! A call answered by a handler on the blocking pool: its
//! [`CallDetails`] there, and the relay that stands in for it on the
//! session's thread.
//!
//! A call's control lives on the session's thread (the session's state
//! is not `Send`). A handler that is not `async` and runs on a worker
//! thread (`blocking = true`, or moved there after a slow run) gets a
//! copy of its details instead ([`PooledCallDetails`], which is `Send`)
//! whose control reaches its call through a [`Relay`]: a future on the
//! session's thread, polled beside the run, that passes the router's
//! interruption to the worker and the worker's partial results to the
//! router. A partial result waits in a bounded queue
//! ([`PROGRESS_QUEUED`]); a handler that sends them faster than the
//! session passes them on waits on its worker thread, never on the
//! session's. The relay passes on what is queued before the run's answer
//! goes, so the caller gets the partial results first, in order.
//!
//! Further input of a progressive call invocation is for `async`
//! handlers: a handler that is not `async` could not wait for it, on any
//! thread ([`CallDetails::next_input`] answers `None` on the pool).

use std::future::Future;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use futures_util::task::AtomicWaker;

use super::invocation::{CallControl, Interruption};
use super::CallDetails;
use crate::protocol::{Dict, Id, Payload};
use crate::Error;

/// How many partial results of one run on the pool may wait for the
/// session's thread before the handler sending more waits.
pub const PROGRESS_QUEUED: usize = 16;

/// The worker's side of a call: what the relay passed on, and the queue
/// of partial results to it.
pub(crate) struct PoolSide {
    request: Id,
    receive_progress: bool,
    takes_input: bool,
    /// The interruption, once the relay passed it on, and who waits for
    /// it.
    interrupted: Mutex<(Option<Interruption>, Vec<Waker>)>,
    progress: SyncSender<Payload>,
    /// The relay's task, woken for each partial result queued.
    relay: AtomicWaker,
}

impl PoolSide {
    pub(crate) fn receives_progress(&self) -> bool {
        self.receive_progress
    }

    pub(crate) fn takes_input(&self) -> bool {
        self.takes_input
    }

    pub(crate) fn interruption(&self) -> Option<Interruption> {
        self.interrupted.lock().unwrap_or_else(PoisonError::into_inner).0.clone()
    }

    fn interrupt(&self, interruption: Interruption) {
        let mut interrupted = self.interrupted.lock().unwrap_or_else(PoisonError::into_inner);
        if interrupted.0.is_none() {
            interrupted.0 = Some(interruption);
            for waker in interrupted.1.drain(..) {
                waker.wake();
            }
        }
    }

    pub(crate) fn poll_interrupted(&self, cx: &mut Context<'_>) -> Poll<Interruption> {
        let mut interrupted = self.interrupted.lock().unwrap_or_else(PoisonError::into_inner);
        match &interrupted.0 {
            Some(interruption) => Poll::Ready(interruption.clone()),
            None => {
                if !interrupted.1.iter().any(|w| w.will_wake(cx.waker())) {
                    interrupted.1.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }
    }

    /// Queues a partial result for the relay (waiting while
    /// [`PROGRESS_QUEUED`] wait already), as
    /// [`CallControl::send_progress`] sends one.
    pub(crate) fn send_progress(&self, payload: Payload) -> Result<bool, Error> {
        if !self.receive_progress {
            return Ok(false);
        }
        if let Some(interruption) = self.interruption() {
            return Err(interruption.to_error());
        }
        match self.progress.send(payload) {
            Ok(()) => {
                self.relay.wake();
                Ok(true)
            }
            // The relay went: the call was answered without this run.
            Err(_) => Err(self.interruption().unwrap_or_else(Interruption::session_ended).to_error()),
        }
    }
}

impl std::fmt::Debug for PoolSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolSide")
            .field("request", &self.request)
            .field("receive_progress", &self.receive_progress)
            .finish_non_exhaustive()
    }
}

/// A call's details on their way to a worker thread (see the module
/// docs); [`PooledCallDetails::into_details`] makes them details again
/// there.
#[derive(Debug)]
pub struct PooledCallDetails {
    request: Id,
    procedure: Option<String>,
    caller: Option<Id>,
    caller_authid: Option<String>,
    caller_authrole: Option<String>,
    details: Dict,
    side: Arc<PoolSide>,
}

impl PooledCallDetails {
    /// The details, on the worker thread, whose control reaches the call
    /// through the relay.
    pub fn into_details(self) -> CallDetails {
        let PooledCallDetails { request, procedure, caller, caller_authid, caller_authrole, details, side } =
            self;
        CallDetails {
            request,
            procedure,
            caller,
            caller_authid,
            caller_authrole,
            details,
            call: CallControl::pool(side),
        }
    }
}

/// The session's side of a run on the pool (see the module docs); run it
/// beside the run with [`relayed`].
pub struct Relay {
    call: CallControl,
    side: Arc<PoolSide>,
    progress: Receiver<Payload>,
    /// The run answered: nothing left to tell it.
    finished: bool,
}

impl Relay {
    /// Passes the interruption on, if it came, and what partial results
    /// are queued; wakes the task again for the next.
    fn poll_relay(&mut self, cx: &mut Context<'_>) {
        if self.side.interruption().is_none() {
            if let Poll::Ready(interruption) = self.call.poll_interruption(cx) {
                self.side.interrupt(interruption);
            }
        }
        self.side.relay.register(cx.waker());
        self.pass_progress();
    }

    fn pass_progress(&self) {
        loop {
            match self.progress.try_recv() {
                // A result that cannot go (the call ended meanwhile) is
                // dropped, as the handler's would be on its own thread.
                Ok(payload) => drop(self.call.send_progress(payload)),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
        }
    }
}

impl Drop for Relay {
    /// Dropped before the run answered (the call was interrupted, and the
    /// handler's answer is no longer awaited, or the session ended): the
    /// run learns it, and a partial result it sends fails.
    fn drop(&mut self) {
        if !self.finished {
            self.side.interrupt(self.call.interruption().unwrap_or_else(Interruption::session_ended));
        }
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("side", &self.side).finish_non_exhaustive()
    }
}

/// Splits `details` into the copy that goes to a worker thread and the
/// relay that stays.
pub fn to_pool(details: CallDetails) -> (PooledCallDetails, Relay) {
    let (progress, queued) = sync_channel(PROGRESS_QUEUED);
    let side = Arc::new(PoolSide {
        request: details.request,
        receive_progress: details.call.receives_progress(),
        takes_input: details.call.takes_input(),
        interrupted: Mutex::new((details.call.interruption(), Vec::new())),
        progress,
        relay: AtomicWaker::new(),
    });
    let CallDetails { request, procedure, caller, caller_authid, caller_authrole, details, call } = details;
    let pooled = PooledCallDetails {
        request,
        procedure,
        caller,
        caller_authid,
        caller_authrole,
        details,
        side: side.clone(),
    };
    (pooled, Relay { call, side, progress: queued, finished: false })
}

/// Runs `relay` beside `run` (a handler's run on the pool) until the run
/// answers; the partial results it queued go before its answer.
pub async fn relayed<R>(mut relay: Relay, run: impl Future<Output = Result<R, Error>>) -> Result<R, Error> {
    let mut run = std::pin::pin!(run);
    let answer = std::future::poll_fn(|cx| {
        relay.poll_relay(cx);
        run.as_mut().poll(cx)
    })
    .await;
    relay.pass_progress();
    relay.finished = true;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detached() -> CallDetails {
        CallDetails::new(7, Dict::new())
    }

    #[test]
    fn details_cross_threads_and_keep_their_fields() {
        let mut details = Dict::new();
        details.insert("caller".into(), 42u64.into());
        let (pooled, _relay) = to_pool(CallDetails::new(7, details));
        let back = std::thread::spawn(move || {
            let details = pooled.into_details();
            (details.request, details.caller, details.receives_progress(), details.takes_input())
        })
        .join()
        .unwrap();
        assert_eq!(back, (7, Some(42), false, false));
    }

    #[test]
    fn pooled_details_can_cross_threads() {
        fn crosses<T: Send + 'static>() {}
        crosses::<PooledCallDetails>();
    }

    #[test]
    fn a_dropped_relay_interrupts_the_run() {
        let (pooled, relay) = to_pool(detached());
        let details = pooled.into_details();
        assert!(details.interruption().is_none());
        drop(relay);
        let interruption = details.interruption().expect("the run learns it was left");
        assert_eq!(interruption, Interruption::session_ended());
    }

    #[actix_web::test]
    async fn a_relay_that_saw_the_run_answer_interrupts_nothing() {
        let (pooled, relay) = to_pool(detached());
        let details = pooled.into_details();
        let answer = relayed(relay, async { Ok::<_, Error>(5) }).await;
        assert_eq!(answer.unwrap(), 5);
        assert!(details.interruption().is_none());
    }
}
