//! Where the router and the client take their ids from (see
//! [`id`](super::id) for the scopes): sequential sources for the router
//! and session scopes, random ones for the global scope, and a realm's
//! allocator holding one of each. Crate-private; the project's fuzzers
//! and tests reach them through `internals` to make ids repeatable.

#[cfg(any(test, feature = "internals"))]
use rand::{Rng as _, SeedableRng as _};

use super::id::{random_id, Id, MAX_ID};

/// Hands out ids in the router or session scope: `1, 2, 3, ...`, wrapping
/// back to 1 after `2^53`.
#[derive(Debug, Default, Clone)]
pub struct SequentialIds {
    last: Id,
}

impl SequentialIds {
    /// The next id.
    pub fn next_id(&mut self) -> Id {
        self.last = if self.last >= MAX_ID { 1 } else { self.last + 1 };
        self.last
    }
}

/// Where the random ids of the global scope come from.
pub trait RandomIds: std::fmt::Debug + Send {
    /// The next random id, in `[1, 2^53]`.
    fn random_id(&mut self) -> Id;
}

/// Random ids from the operating system's generator
/// ([`random_id`](super::id::random_id)).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl RandomIds for SystemRandom {
    fn random_id(&mut self) -> Id {
        random_id()
    }
}

/// Random-looking ids from a seed: the same seed gives the same ids, for
/// tests and fuzzing that must repeat exactly.
#[cfg(any(test, feature = "internals"))]
#[derive(Debug, Clone)]
pub struct SeededRandom(rand::rngs::StdRng);

#[cfg(any(test, feature = "internals"))]
impl SeededRandom {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRandom(rand::rngs::StdRng::seed_from_u64(seed))
    }
}

#[cfg(any(test, feature = "internals"))]
impl RandomIds for SeededRandom {
    fn random_id(&mut self) -> Id {
        self.0.random_range(1..=MAX_ID)
    }
}

/// The ids a realm hands out: random ones for the global scope (sessions,
/// publications) and sequential ones for the router scope (subscriptions,
/// registrations, invocations). A realm is given its allocator, so tests
/// can make it deterministic and several router nodes can later share
/// one id space.
#[derive(Debug)]
pub struct IdAllocator {
    random: Box<dyn RandomIds>,
    sequential: SequentialIds,
}

impl Default for IdAllocator {
    fn default() -> Self {
        IdAllocator::new(Box::new(SystemRandom))
    }
}

impl IdAllocator {
    /// An allocator drawing its random ids from `random`.
    pub fn new(random: Box<dyn RandomIds>) -> Self {
        IdAllocator { random, sequential: SequentialIds::default() }
    }

    /// A random id from the global scope.
    pub fn global(&mut self) -> Id {
        self.random.random_id()
    }

    /// The next id of the router scope.
    pub fn scoped(&mut self) -> Id {
        self.sequential.next_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_ids_count_from_one_and_wrap_within_range() {
        let mut ids = SequentialIds::default();
        assert_eq!((ids.next_id(), ids.next_id()), (1, 2));
        let mut ids = SequentialIds { last: MAX_ID - 1 };
        assert_eq!(ids.next_id(), MAX_ID);
        assert_eq!(ids.next_id(), 1);
    }

    #[test]
    fn a_seed_repeats_its_ids() {
        let (mut a, mut b) = (SeededRandom::new(7), SeededRandom::new(7));
        let (first, second): (Vec<Id>, Vec<Id>) = (0..8).map(|_| (a.random_id(), b.random_id())).unzip();
        assert_eq!(first, second);
        assert!(first.iter().all(|id| super::super::id::is_valid(*id)));
        assert_ne!(first, (0..8).map(|_| SeededRandom::new(8).random_id()).collect::<Vec<_>>());
    }
}
