//! A session's requests waiting for the router, by the request ids the
//! session numbers them with.
//!
//! The ids are sequential, and most requests are answered within a few
//! of the ones made after them. So the last [`RECENT`] requests sit in an
//! array indexed by the id's low bits: adding and taking one costs an
//! index and a comparison, where a hash map costs a hash, a probe and
//! moving the entry (about 2% of an in-process call). A request still
//! waiting when its place is wanted for a newer one (a subscription the
//! router is slow to confirm, a long call among many short ones) moves to
//! a map, where it waits as before.

use crate::protocol::id_source::SequentialIds;
use crate::protocol::Id;
use crate::router::IdMap;

/// How many of the latest requests have a place of their own.
const RECENT: usize = 16;

/// Waiting requests (`P`, what each one was for) by request id.
#[derive(Debug)]
pub(super) struct Requests<P> {
    ids: SequentialIds,
    recent: [Option<(Id, P)>; RECENT],
    older: IdMap<P>,
}

impl<P> Default for Requests<P> {
    fn default() -> Self {
        Requests { ids: SequentialIds::default(), recent: Default::default(), older: IdMap::default() }
    }
}

#[inline]
fn place(id: Id) -> usize {
    (id % RECENT as u64) as usize
}

impl<P> Requests<P> {
    /// How many requests wait.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.recent.iter().flatten().count() + self.older.len()
    }

    /// Whether request `id` waits.
    pub(super) fn contains(&self, id: Id) -> bool {
        self.get(id).is_some()
    }

    /// The next request id no waiting request has, for a request that
    /// waits for nothing (a publication without acknowledgement).
    #[inline]
    pub(super) fn unused(&mut self) -> Id {
        loop {
            // Ids wrap after 2^53 requests: one still waiting keeps its id.
            let id = self.ids.next_id();
            if !self.contains(id) {
                return id;
            }
        }
    }

    /// A new request id, for a request that waits as `pending`.
    #[inline]
    pub(super) fn add(&mut self, pending: P) -> Id {
        let id = self.unused();
        self.put(id, pending);
        id
    }

    /// Request `id` (not waiting now) waits again as `pending`, or for
    /// the first time.
    #[inline]
    pub(super) fn put(&mut self, id: Id, pending: P) {
        match self.recent[place(id)].replace((id, pending)) {
            Some((held, was)) if held != id => {
                // An older request waited here still: it moves to the map.
                self.older.insert(held, was);
            }
            _ => {}
        }
    }

    /// What request `id` waits as.
    pub(super) fn get(&self, id: Id) -> Option<&P> {
        match &self.recent[place(id)] {
            Some((held, pending)) if *held == id => Some(pending),
            _ if self.older.is_empty() => None,
            _ => self.older.get(&id),
        }
    }

    /// Takes request `id` out.
    #[inline]
    pub(super) fn take(&mut self, id: Id) -> Option<P> {
        let slot = &mut self.recent[place(id)];
        match slot {
            Some((held, _)) if *held == id => slot.take().map(|(_, pending)| pending),
            _ if self.older.is_empty() => None,
            _ => self.older.remove(&id),
        }
    }

    /// Every waiting request, to change in place.
    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut P> {
        self.recent.iter_mut().filter_map(|slot| slot.as_mut().map(|(_, p)| p)).chain(self.older.values_mut())
    }

    /// Takes every waiting request out, in request id order.
    pub(super) fn drain(&mut self) -> Vec<(Id, P)> {
        let mut all: Vec<(Id, P)> = self.recent.iter_mut().filter_map(Option::take).collect();
        all.extend(self.older.drain());
        all.sort_unstable_by_key(|(id, _)| *id);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_numbered_in_order_and_found_until_taken() {
        let mut requests = Requests::default();
        let (a, b) = (requests.add('a'), requests.add('b'));
        assert_eq!((a, b), (1, 2));
        assert_eq!((requests.get(a), requests.get(b), requests.len()), (Some(&'a'), Some(&'b'), 2));
        assert_eq!(requests.take(a), Some('a'));
        assert_eq!((requests.take(a), requests.get(a), requests.len()), (None, None, 1));
        // Put back under its own id (a progressive result).
        requests.put(b, 'B');
        assert_eq!((requests.get(b), requests.len()), (Some(&'B'), 1));
    }

    #[test]
    fn a_request_waiting_past_the_recent_ones_moves_to_the_map_and_is_still_found() {
        let mut requests = Requests::default();
        let slow = requests.add(0);
        let mut answered = Vec::new();
        for n in 1..=3 * RECENT as u32 {
            let id = requests.add(n);
            // Every other one is answered at once; the rest wait.
            if n % 2 == 0 {
                assert_eq!(requests.take(id), Some(n));
                answered.push(id);
            }
        }
        assert!(!requests.older.is_empty(), "the slow one and others moved");
        assert_eq!(requests.len(), 1 + 3 * RECENT / 2);
        assert_eq!(requests.get(slow), Some(&0));
        for id in answered {
            assert_eq!(requests.get(id), None);
        }
        let mut left: Vec<u32> = requests.values_mut().map(|n| *n).collect();
        left.sort_unstable();
        assert_eq!(left.len(), requests.len());
        let drained = requests.drain();
        assert!(drained.windows(2).all(|w| w[0].0 < w[1].0), "in id order");
        assert_eq!(drained[0], (slow, 0));
        assert_eq!((requests.len(), requests.get(slow)), (0, None));
    }

    #[test]
    fn an_id_still_waiting_is_skipped_when_the_ids_wrap() {
        let mut requests = Requests::default();
        let first = requests.add("first");
        requests.ids = SequentialIds::default();
        let next = requests.add("next");
        assert_eq!((first, next), (1, 2), "1 waits still: skipped");
        assert_eq!(requests.get(1), Some(&"first"));
    }
}
