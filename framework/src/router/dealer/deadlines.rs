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

/// Deadlines as (tick, invocation), taken earliest tick first (within a
/// tick, in no particular order: they are all due together).
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    /// Deadlines that came in order.
    in_order: VecDeque<(u64, Id)>,
    /// The others.
    out_of_order: BinaryHeap<Reverse<(u64, Id)>>,
}

impl Deadlines {
    pub(super) fn push(&mut self, tick: u64, invocation: Id) {
        // By tick alone: invocation ids are not in order, and many calls
        // share a tick.
        if self.in_order.back().map_or(true, |(last, _)| *last <= tick) {
            self.in_order.push_back((tick, invocation));
        } else {
            self.out_of_order.push(Reverse((tick, invocation)));
        }
    }

    /// Whether the earliest deadline is the queue's (else the heap's).
    fn earliest_in_order(&self) -> Option<bool> {
        match (self.in_order.front(), self.out_of_order.peek()) {
            (Some((queued, _)), Some(Reverse((other, _)))) => Some(queued <= other),
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
        let mut reference: Vec<(u64, Id)> = Vec::new();
        let mut now = 0u64;
        // Takes the earliest deadline from both: any one of the earliest
        // tick's.
        let take = |deadlines: &mut Deadlines, reference: &mut Vec<(u64, Id)>| {
            let peeked = deadlines.peek();
            let taken = deadlines.pop();
            assert_eq!(peeked, taken);
            let Some((tick, invocation)) = taken else {
                assert!(reference.is_empty());
                return false;
            };
            let earliest = reference.iter().map(|(tick, _)| *tick).min();
            assert_eq!(Some(tick), earliest, "the earliest tick comes first");
            let at = reference.iter().position(|d| *d == (tick, invocation));
            reference.swap_remove(at.expect("a deadline that was pushed"));
            true
        };
        for _ in 0..2_000 {
            now += next() % 3;
            // Mostly the router's timeout (in order), sometimes shorter;
            // ids in no order, as the realm's are.
            let tick = if next() % 5 == 0 { now + next() % 40 } else { now + 50 };
            let invocation = next() >> 11;
            deadlines.push(tick, invocation);
            reference.push((tick, invocation));
            if next() % 4 == 0 {
                take(&mut deadlines, &mut reference);
            }
        }
        assert!(!deadlines.out_of_order.is_empty(), "both kinds were tested");
        assert!(deadlines.in_order.len() > deadlines.out_of_order.len(), "ties stay in the queue");
        deadlines.retain(|_, invocation| invocation % 3 != 0);
        reference.retain(|(_, invocation)| invocation % 3 != 0);
        assert_eq!(deadlines.len(), reference.len());
        while take(&mut deadlines, &mut reference) {}
        assert_eq!(deadlines.len(), 0);
    }
}
