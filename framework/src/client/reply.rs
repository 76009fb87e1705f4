//! The answer to one request, handed from the session's driver to the
//! code that waits for it.
//!
//! Both ends live on the session's thread, so the slot between them is a
//! pair of cells, not a synchronised channel: a request costs one small
//! allocation and no atomic operations.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Cell<Option<T>>,
    waker: Cell<Option<Waker>>,
    sender_gone: Cell<bool>,
    receiver_gone: Cell<bool>,
}

/// A new slot: the end that answers and the end that waits.
pub(crate) fn slot<T>() -> (ReplySender<T>, ReplyReceiver<T>) {
    let slot = Rc::new(Slot {
        value: Cell::new(None),
        waker: Cell::new(None),
        sender_gone: Cell::new(false),
        receiver_gone: Cell::new(false),
    });
    (ReplySender { slot: slot.clone() }, ReplyReceiver { slot })
}

/// The end that answers.
pub(crate) struct ReplySender<T> {
    slot: Rc<Slot<T>>,
}

impl<T> ReplySender<T> {
    /// Answers; gives the value back if nobody waits any more.
    pub(crate) fn send(self, value: T) -> Result<(), T> {
        if self.slot.receiver_gone.get() {
            return Err(value);
        }
        self.slot.value.set(Some(value));
        Ok(())
        // Dropping `self` wakes the receiver.
    }
}

impl<T> Drop for ReplySender<T> {
    fn drop(&mut self) {
        self.slot.sender_gone.set(true);
        if let Some(waker) = self.slot.waker.take() {
            waker.wake();
        }
    }
}

impl<T> std::fmt::Debug for ReplySender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReplySender")
    }
}

/// The answer never came: its sender was dropped unanswered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unanswered;

/// The end that waits.
pub(crate) struct ReplyReceiver<T> {
    slot: Rc<Slot<T>>,
}

impl<T> Future for ReplyReceiver<T> {
    type Output = Result<T, Unanswered>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(value) = self.slot.value.take() {
            return Poll::Ready(Ok(value));
        }
        if self.slot.sender_gone.get() {
            return Poll::Ready(Err(Unanswered));
        }
        self.slot.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl<T> Drop for ReplyReceiver<T> {
    fn drop(&mut self) {
        self.slot.receiver_gone.set(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;

    #[test]
    fn an_answer_reaches_the_waiter() {
        let (tx, mut rx) = slot();
        assert!((&mut rx).now_or_never().is_none());
        assert_eq!(tx.send(5), Ok(()));
        assert_eq!(rx.now_or_never(), Some(Ok(5)));
    }

    #[test]
    fn a_sender_dropped_unanswered_ends_the_wait() {
        let (tx, rx) = slot::<u8>();
        drop(tx);
        assert_eq!(rx.now_or_never(), Some(Err(Unanswered)));
    }

    #[test]
    fn an_answer_nobody_waits_for_comes_back() {
        let (tx, rx) = slot();
        drop(rx);
        assert_eq!(tx.send(5), Err(5));
    }

    #[test]
    fn the_answer_wakes_the_waiter() {
        let (wakes, waker) = crate::test_support::WakeCounter::new();
        let (tx, mut rx) = slot();
        assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&waker)).is_pending());
        tx.send(1).unwrap();
        assert_eq!(wakes.count(), 1);
    }
}
