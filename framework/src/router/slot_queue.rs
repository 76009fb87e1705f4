//! A first-in, first-out queue for the routing path, where a queue holds
//! one item at a time far more often than two.
//!
//! A realm's input queue and its outbox each see one item come and go per
//! message routed: a CALL goes in and out of the input queue, its
//! INVOCATION in and out of the outbox. A `VecDeque` pays for its ring
//! buffer's indices on each of those; a slot in front of it costs a move
//! in and a move out, and the ring buffer is used only while a second item
//! waits.

use std::collections::VecDeque;

/// A queue whose first item waits in a slot of its own.
#[derive(Debug)]
pub(crate) struct SlotQueue<T> {
    /// The next item, if any; filled only while `rest` is empty, so that
    /// order is kept.
    first: Option<T>,
    /// The items after `first`, in order.
    rest: VecDeque<T>,
}

impl<T> Default for SlotQueue<T> {
    fn default() -> Self {
        SlotQueue { first: None, rest: VecDeque::new() }
    }
}

impl<T> SlotQueue<T> {
    /// Adds `item` at the back.
    #[inline(always)]
    pub(crate) fn push_back(&mut self, item: T) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }

    /// Takes the item at the front.
    #[inline(always)]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        match self.first.take() {
            Some(item) => Some(item),
            None => self.rest.pop_front(),
        }
    }

    /// Takes every item, in order, leaving the queue empty (its capacity
    /// is kept).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.first.take().into_iter().chain(self.rest.drain(..))
    }

    /// Whether nothing is queued.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_none() && self.rest.is_empty()
    }

    /// How many items are queued.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_in_the_order_they_went_in() {
        let mut queue = SlotQueue::default();
        assert!(queue.is_empty());
        queue.push_back(1);
        queue.push_back(2);
        queue.push_back(3);
        assert_eq!(queue.len(), 3);
        assert_eq!(queue.pop_front(), Some(1));
        // Added while later ones wait: after them.
        queue.push_back(4);
        assert_eq!(queue.pop_front(), Some(2));
        queue.push_back(5);
        assert_eq!(queue.drain().collect::<Vec<_>>(), [3, 4, 5]);
        assert!(queue.is_empty());
        assert_eq!(queue.pop_front(), None);
        queue.push_back(6);
        assert_eq!(queue.len(), 1);
        queue.push_back(7);
        assert_eq!(queue.pop_front(), Some(6));
        assert_eq!(queue.pop_front(), Some(7));
        assert_eq!(queue.pop_front(), None);
        assert_eq!(queue.len(), 0);
    }
}
