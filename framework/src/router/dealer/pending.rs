//! The calls in flight of one realm, found by their invocation id without
//! hashing, and each callee's share of them.
//!
//! Every call is looked up by its invocation id at least twice (routed,
//! answered) and counted in its callee's invocations (added, removed).
//! As hash map and hash set operations that was about a tenth of an
//! in-process call. The dealer picks invocation ids itself, so it picks
//! ids that say where the call is: a slot's index in the low bits and the
//! slot's generation above them. A lookup is an index and a comparison;
//! each callee's invocations are a list linked through the slots, so
//! adding and removing one touches a few words and a callee leaving walks
//! only its own calls.
//!
//! An id names one call for good: a slot's generation moves on each time
//! its call ends, and a slot whose generation would wrap is not used
//! again, so an answer to a call that ended long ago (timed out,
//! canceled) finds nothing rather than a later call in the same slot.

use crate::protocol::Id;

/// Bits of an id that hold the slot's index (plus one, so that no id is
/// 0): about 16 million calls in flight per realm at the most.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
/// The largest slot count.
const MAX_SLOTS: usize = (INDEX_MASK - 1) as usize;
/// Generations of a slot: ids stay within the 2^53 WAMP allows.
const MAX_GENERATION: u32 = (1 << (53 - INDEX_BITS)) - 1;
/// No slot (the end of a list).
const NONE: u32 = u32::MAX;

/// One callee's invocations: a list through the table's slots.
#[derive(Debug)]
pub(super) struct Invocations {
    head: u32,
    len: usize,
}

impl Default for Invocations {
    fn default() -> Self {
        Invocations { head: NONE, len: 0 }
    }
}

impl Invocations {
    /// How many calls the callee has to answer.
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    /// The neighbours in the callee's list while `entry` is set.
    prev: u32,
    next: u32,
    entry: Option<T>,
}

/// Calls in flight by invocation id (`T` is the dealer's record of a
/// call).
#[derive(Debug)]
pub(super) struct Pending<T> {
    slots: Vec<Slot<T>>,
    /// Empty slots that may be used again, the last emptied first (its
    /// memory is the likeliest to be in the cache).
    free: Vec<u32>,
    len: usize,
    /// The most slots ([`MAX_SLOTS`]; less in tests).
    most: usize,
}

impl<T> Default for Pending<T> {
    fn default() -> Self {
        Pending { slots: Vec::new(), free: Vec::new(), len: 0, most: MAX_SLOTS }
    }
}

/// The slot an id names and the generation it was made with, if the id
/// is one this table could have made.
#[inline]
fn split(id: Id) -> Option<(usize, u32)> {
    let index = (id & INDEX_MASK).checked_sub(1)?;
    let generation = u32::try_from(id >> INDEX_BITS).ok()?;
    Some((index as usize, generation))
}

#[inline]
fn make(index: usize, generation: u32) -> Id {
    (u64::from(generation) << INDEX_BITS) | (index as u64 + 1)
}

impl<T> Pending<T> {
    /// How many calls are in flight.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Lets the table hold only `most` calls (tests of a full table).
    #[cfg(test)]
    pub(super) fn hold_at_most(&mut self, most: usize) {
        self.most = most.min(MAX_SLOTS);
    }

    /// Adds a call to `callee`'s invocations and returns its id; `None`
    /// when the table is full.
    #[inline]
    pub(super) fn insert(&mut self, entry: T, callee: &mut Invocations) -> Option<Id> {
        let index = match self.free.pop() {
            Some(index) => index,
            None if self.slots.len() < self.most => {
                self.slots.push(Slot { generation: 0, prev: NONE, next: NONE, entry: None });
                (self.slots.len() - 1) as u32
            }
            None => return None,
        };
        let old_head = callee.head;
        let slot = &mut self.slots[index as usize];
        slot.entry = Some(entry);
        slot.prev = NONE;
        slot.next = old_head;
        let id = make(index as usize, slot.generation);
        if old_head != NONE {
            self.slots[old_head as usize].prev = index;
        }
        callee.head = index;
        callee.len += 1;
        self.len += 1;
        Some(id)
    }

    /// The slot of `id`, if the id is its current one.
    #[inline]
    fn current(&self, id: Id) -> Option<usize> {
        let (index, generation) = split(id)?;
        (self.slots.get(index)?.generation == generation).then_some(index)
    }

    /// The call `id`, if in flight.
    #[inline]
    pub(super) fn get(&self, id: Id) -> Option<&T> {
        self.slots.get(self.current(id)?)?.entry.as_ref()
    }

    /// The call `id`, if in flight, to change.
    #[inline]
    pub(super) fn get_mut(&mut self, id: Id) -> Option<&mut T> {
        let index = self.current(id)?;
        self.slots.get_mut(index)?.entry.as_mut()
    }

    /// Takes the call `id` out, if in flight and `accept` takes it, and
    /// out of its callee's list (`None` when the callee's list is being
    /// dropped whole, see [`Pending::ids_of`]).
    #[inline]
    pub(super) fn remove_if(
        &mut self,
        id: Id,
        accept: impl FnOnce(&T) -> bool,
        callee: Option<&mut Invocations>,
    ) -> Option<T> {
        let index = self.current(id)?;
        let slot = self.slots.get_mut(index)?;
        if !slot.entry.as_ref().is_some_and(accept) {
            return None;
        }
        let generation = slot.generation;
        let entry = slot.entry.take();
        let (prev, next) = (slot.prev, slot.next);
        if generation < MAX_GENERATION {
            slot.generation = generation + 1;
            self.free.push(index as u32);
        }
        // Otherwise the slot is not used again: its next id would repeat
        // one already given.
        self.len -= 1;
        if let Some(list) = callee {
            if prev == NONE {
                list.head = next;
            } else {
                self.slots[prev as usize].next = next;
            }
            if next != NONE {
                self.slots[next as usize].prev = prev;
            }
            list.len -= 1;
        }
        entry
    }

    /// Takes the call `id` out (see [`Pending::remove_if`]).
    pub(super) fn remove(&mut self, id: Id, callee: Option<&mut Invocations>) -> Option<T> {
        self.remove_if(id, |_| true, callee)
    }

    /// The ids of the calls in `callee`'s list, most recent first.
    pub(super) fn ids_of(&self, callee: &Invocations) -> Vec<Id> {
        let mut ids = Vec::with_capacity(callee.len);
        let mut at = callee.head;
        while at != NONE {
            let slot = &self.slots[at as usize];
            ids.push(make(at as usize, slot.generation));
            at = slot.next;
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_find_their_call_until_it_ends_and_never_a_later_one() {
        let mut pending = Pending::default();
        let mut callee = Invocations::default();
        let first = pending.insert("first", &mut callee).unwrap();
        assert_eq!(pending.get(first), Some(&"first"));
        assert_eq!(pending.remove(first, Some(&mut callee)), Some("first"));
        assert_eq!(pending.get(first), None);
        // The slot is used again, under another id.
        let second = pending.insert("second", &mut callee).unwrap();
        assert_ne!(first, second);
        assert_eq!(pending.get(first), None, "the ended call's id names nothing");
        assert_eq!(pending.remove(first, Some(&mut callee)), None);
        assert_eq!(pending.get(second), Some(&"second"));
        assert_eq!((pending.len(), callee.len()), (1, 1));
    }

    #[test]
    fn ids_are_valid_wamp_ids_and_foreign_ones_find_nothing() {
        let mut pending = Pending::default();
        let mut callee = Invocations::default();
        let id = pending.insert((), &mut callee).unwrap();
        assert!((1..=1 << 53).contains(&id));
        for foreign in [0, 1 << 24, u64::MAX, (1 << 53) + 1, id + 1] {
            assert_eq!(pending.get(foreign), None, "{foreign}");
        }
    }

    #[test]
    fn a_full_table_takes_no_call_until_one_ends() {
        let mut pending = Pending::default();
        pending.hold_at_most(2);
        let mut callee = Invocations::default();
        let first = pending.insert('a', &mut callee).unwrap();
        pending.insert('b', &mut callee).unwrap();
        assert_eq!(pending.insert('c', &mut callee), None);
        assert_eq!((pending.len(), callee.len()), (2, 2), "the refused call left no trace");
        pending.remove(first, Some(&mut callee));
        assert!(pending.insert('c', &mut callee).is_some());
    }

    #[test]
    fn a_slot_whose_generation_would_wrap_is_retired() {
        let mut pending = Pending::default();
        let mut callee = Invocations::default();
        let id = pending.insert(1, &mut callee).unwrap();
        pending.slots[0].generation = MAX_GENERATION;
        let last = make(0, MAX_GENERATION);
        assert_eq!(pending.remove(id, Some(&mut callee)), None, "the generation moved");
        assert_eq!(pending.remove(last, Some(&mut callee)), Some(1));
        let next = pending.insert(2, &mut callee).unwrap();
        assert_eq!(split(next), Some((1, 0)), "a new slot, not the retired one");
        assert!(last <= 1 << 53);
    }

    #[test]
    fn each_callee_lists_its_own_calls_through_removals_anywhere_in_the_list() {
        let mut pending = Pending::default();
        let (mut a, mut b) = (Invocations::default(), Invocations::default());
        let ids: Vec<Id> =
            (0..6).map(|n| pending.insert(n, if n % 2 == 0 { &mut a } else { &mut b }).unwrap()).collect();
        let listed = |pending: &Pending<i32>, list: &Invocations| -> Vec<i32> {
            pending.ids_of(list).into_iter().map(|id| *pending.get(id).unwrap()).collect()
        };
        assert_eq!(listed(&pending, &a), [4, 2, 0]);
        assert_eq!(listed(&pending, &b), [5, 3, 1]);
        // The middle, the head, the tail.
        assert_eq!(pending.remove(ids[2], Some(&mut a)), Some(2));
        assert_eq!(pending.remove(ids[5], Some(&mut b)), Some(5));
        assert_eq!(pending.remove(ids[1], Some(&mut b)), Some(1));
        assert_eq!(listed(&pending, &a), [4, 0]);
        assert_eq!(listed(&pending, &b), [3]);
        assert_eq!((a.len(), b.len(), pending.len()), (2, 1, 3));
        // Freed slots serve new calls, and the lists stay apart.
        let again = pending.insert(6, &mut b).unwrap();
        assert_eq!(listed(&pending, &b), [6, 3]);
        assert_eq!(pending.remove_if(again, |n| *n == 7, Some(&mut b)), None, "refused: stays");
        assert_eq!(pending.remove_if(again, |n| *n == 6, Some(&mut b)), Some(6));
        assert_eq!(listed(&pending, &a), [4, 0]);
        assert_eq!(listed(&pending, &b), [3]);
    }
}
