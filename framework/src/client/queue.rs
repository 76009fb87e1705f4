//! A queue of messages for one call, between the session's driver (which
//! pushes what the router sends) and the code that reads them: the
//! partial results of a call, or the further input of a progressive
//! invocation.
//!
//! The queue never drops anything. Once it holds [`QUEUE_HOLD_AT`] items,
//! it holds the session's handler gate: an in-process session then takes
//! no more deliveries until the reader catches up, so the router slows
//! the producer, as for a peer that stops reading.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use super::session::SessionState;

/// How many unread items a call's queue holds before it stops the
/// session's deliveries.
pub const QUEUE_HOLD_AT: usize = 256;

/// One call's queue (see the module docs).
pub(crate) struct CallQueue<T> {
    items: RefCell<VecDeque<T>>,
    /// No more items will come.
    closed: Cell<bool>,
    waker: Cell<Option<Waker>>,
    /// Whether this queue holds the session's gate.
    holding: Cell<bool>,
    shared: Rc<SessionState>,
}

impl<T> CallQueue<T> {
    /// An empty, open queue of the session `shared`.
    pub(crate) fn new(shared: Rc<SessionState>) -> Self {
        CallQueue {
            items: RefCell::default(),
            closed: Cell::new(false),
            waker: Cell::new(None),
            holding: Cell::new(false),
            shared,
        }
    }

    /// Adds an item and wakes the reader.
    pub(crate) fn push(&self, item: T) {
        let len = {
            let mut items = self.items.borrow_mut();
            items.push_back(item);
            items.len()
        };
        if len >= QUEUE_HOLD_AT && !self.holding.replace(true) {
            self.shared.handlers.hold();
        }
        self.wake();
    }

    /// No more items will come; wakes the reader.
    pub(crate) fn close(&self) {
        self.closed.set(true);
        self.wake();
    }

    fn wake(&self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// The next item; `Ready(None)` once closed and drained.
    pub(crate) fn poll_next(&self, cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        match self.try_next() {
            Some(item) => Poll::Ready(Some(item)),
            None if self.closed.get() => Poll::Ready(None),
            None => {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        }
    }

    /// The next item, if one is queued.
    pub(crate) fn try_next(&self) -> Option<T> {
        let (item, len) = {
            let mut items = self.items.borrow_mut();
            let item = items.pop_front();
            (item, items.len())
        };
        if len < QUEUE_HOLD_AT / 2 {
            self.release();
        }
        item
    }

    fn release(&self) {
        if self.holding.replace(false) {
            self.shared.handlers.release();
        }
    }
}

impl<T> Drop for CallQueue<T> {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_stops_deliveries_until_its_reader_catches_up() {
        let shared = Rc::new(SessionState::new(None));
        let queue = CallQueue::new(shared.clone());
        for n in 0..QUEUE_HOLD_AT {
            assert!(shared.handlers.has_room(), "room before item {n}");
            queue.push(n);
        }
        assert!(!shared.handlers.has_room(), "a full queue holds the gate");
        let mut read = Vec::new();
        while !shared.handlers.has_room() {
            read.push(queue.try_next().expect("an item"));
        }
        assert_eq!(read.len(), QUEUE_HOLD_AT / 2 + 1, "room comes back at half");
        assert_eq!(read[..3], [0, 1, 2], "in order");
        queue.push(99);
        drop(queue);
        assert!(shared.handlers.has_room());
    }

    #[test]
    fn a_closed_queue_ends_once_drained() {
        let queue = CallQueue::new(Rc::new(SessionState::new(None)));
        queue.push(1);
        queue.close();
        let waker = futures_util::task::noop_waker();
        let mut cx = TaskContext::from_waker(&waker);
        assert_eq!(queue.poll_next(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(queue.poll_next(&mut cx), Poll::Ready(None));
    }
}
