//! One caller's calls in flight: its CALL request id, and the invocation
//! each became.
//!
//! The caller picks the request ids, so a hash map of them needs a seeded
//! hash (a peer could otherwise pick ids that all fall in one bucket),
//! which costs more than everything else a lookup does; and a call looks
//! its caller's request id up three times (is it in use, add it, remove
//! it). Most callers have a few calls in flight, so the book is a short
//! list, searched from its end, until it holds more than [`FEW`]; from
//! then on it is a seeded map, so that a caller with many calls in flight
//! (up to the router's `max_calls_per_session`) pays no more per call
//! than a map lookup.

use crate::protocol::Id;
use crate::router::FastMap;

/// The most calls kept as a list.
const FEW: usize = 16;

/// A caller's calls in flight, by request id.
#[derive(Debug)]
pub(super) enum CallBook {
    /// (request, invocation) pairs, in no particular order.
    Few(Vec<(Id, Id)>),
    Many(FastMap<Id, Id>),
}

impl Default for CallBook {
    fn default() -> Self {
        CallBook::Few(Vec::new())
    }
}

impl CallBook {
    /// How many calls are in flight.
    #[inline]
    pub(super) fn len(&self) -> usize {
        match self {
            CallBook::Few(few) => few.len(),
            CallBook::Many(many) => many.len(),
        }
    }

    /// The invocation the call `request` became, if it is in flight.
    #[inline]
    pub(super) fn get(&self, request: Id) -> Option<Id> {
        match self {
            CallBook::Few(few) => few.iter().rev().find(|(r, _)| *r == request).map(|(_, i)| *i),
            CallBook::Many(many) => many.get(&request).copied(),
        }
    }

    /// Adds a call (its request id is not in the book).
    #[inline]
    pub(super) fn insert(&mut self, request: Id, invocation: Id) {
        match self {
            CallBook::Few(few) if few.len() < FEW => few.push((request, invocation)),
            CallBook::Few(few) => {
                let mut many: FastMap<Id, Id> = few.drain(..).collect();
                many.insert(request, invocation);
                *self = CallBook::Many(many);
            }
            CallBook::Many(many) => {
                many.insert(request, invocation);
            }
        }
    }

    /// Removes the call `request`, if in flight.
    #[inline]
    pub(super) fn remove(&mut self, request: Id) -> Option<Id> {
        match self {
            CallBook::Few(few) => {
                let at = few.iter().rposition(|(r, _)| *r == request)?;
                Some(few.swap_remove(at).1)
            }
            CallBook::Many(many) => many.remove(&request),
        }
    }

    /// The invocations of the calls in flight.
    pub(super) fn invocations(&self) -> Vec<Id> {
        match self {
            CallBook::Few(few) => few.iter().map(|(_, i)| *i).collect(),
            CallBook::Many(many) => many.values().copied().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_finds_adds_and_removes_calls_as_a_list_and_as_a_map() {
        let mut book = CallBook::default();
        for request in 1..=FEW as Id {
            book.insert(request, 100 + request);
        }
        assert!(matches!(book, CallBook::Few(_)), "{FEW} calls stay a list");
        assert_eq!((book.get(3), book.get(99), book.len()), (Some(103), None, FEW));
        assert_eq!(book.remove(3), Some(103));
        assert_eq!((book.remove(3), book.get(3)), (None, None));
        book.insert(3, 203);
        book.insert(50, 150);
        assert!(matches!(book, CallBook::Many(_)), "one more makes it a map");
        assert_eq!(book.len(), FEW + 1);
        for request in 1..=FEW as Id {
            let expected = if request == 3 { 203 } else { 100 + request };
            assert_eq!(book.get(request), Some(expected), "{request} kept through the change");
        }
        assert_eq!((book.get(50), book.remove(50), book.get(50)), (Some(150), Some(150), None));
        let mut invocations = book.invocations();
        invocations.sort_unstable();
        assert_eq!(invocations.len(), FEW);
        assert_eq!(invocations[0], 101);
    }
}
