//! The deadlines of pending calls, earliest first.
//!
//! Calls that wait under the router's own `call_timeout` get deadlines in
//! the order they arrive, and are mostly answered in that order too: for
//! them a queue does what a heap would, without reordering anything on the
//! way in or out. Only a deadline earlier than the last one queued (a
//! caller's own, shorter `timeout`) goes to a heap.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::protocol::Id;

/// Deadlines as (tick, invocation), taken earliest first (the smaller
/// invocation id first within a tick).
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    /// Deadlines that came in order.
    in_order: VecDeque<(u64, Id)>,
    /// The others.
    out_of_order: BinaryHeap<Reverse<(u64, Id)>>,
}

impl Deadlines {
    pub(super) fn push(&mut self, tick: u64, invocation: Id) {
        if self.in_order.back().map_or(true, |last| *last <= (tick, invocation)) {
            self.in_order.push_back((tick, invocation));
        } else {
            self.out_of_order.push(Reverse((tick, invocation)));
        }
    }

    /// Whether the earliest deadline is the queue's (else the heap's).
    fn earliest_in_order(&self) -> Option<bool> {
        match (self.in_order.front(), self.out_of_order.peek()) {
            (Some(queued), Some(Reverse(other))) => Some(queued <= other),
            (Some(_), None) => Some(true),
            (None, Some(_)) => Some(false),
            (None, None) => None,
        }
    }

    /// The earliest deadline.
    pub(super) fn peek(&self) -> Option<(u64, Id)> {
        match self.earliest_in_order()? {
            true => self.in_order.front().copied(),
            false => self.out_of_order.peek().map(|Reverse(deadline)| *deadline),
        }
    }

    /// Takes the earliest deadline.
    pub(super) fn pop(&mut self) -> Option<(u64, Id)> {
        match self.earliest_in_order()? {
            true => self.in_order.pop_front(),
            false => self.out_of_order.pop().map(|Reverse(deadline)| deadline),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.in_order.len() + self.out_of_order.len()
    }

    /// Keeps only the deadlines `keep` says to.
    pub(super) fn retain(&mut self, mut keep: impl FnMut(u64, Id) -> bool) {
        self.in_order.retain(|(tick, invocation)| keep(*tick, *invocation));
        self.out_of_order.retain(|Reverse((tick, invocation))| keep(*tick, *invocation));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_earliest_first_however_they_went_in() {
        // In order, out of order, ties, and taking some out on the way.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut deadlines = Deadlines::default();
        let mut reference = Vec::new();
        let mut now = 0u64;
        for invocation in 1..=2_000u64 {
            now += next() % 3;
            // Mostly the router's timeout (in order), sometimes shorter.
            let tick = if next() % 5 == 0 { now + next() % 40 } else { now + 50 };
            deadlines.push(tick, invocation);
            reference.push((tick, invocation));
            if next() % 4 == 0 {
                reference.sort_unstable();
                let earliest = reference.remove(0);
                assert_eq!(deadlines.peek(), Some(earliest));
                assert_eq!(deadlines.pop(), Some(earliest));
            }
        }
        assert!(!deadlines.out_of_order.is_empty(), "both kinds were tested");
        deadlines.retain(|_, invocation| invocation % 3 != 0);
        reference.retain(|(_, invocation)| invocation % 3 != 0);
        reference.sort_unstable();
        assert_eq!(deadlines.len(), reference.len());
        for earliest in reference {
            assert_eq!(deadlines.pop(), Some(earliest));
        }
        assert_eq!(deadlines.pop(), None);
        assert_eq!(deadlines.peek(), None);
    }
}
