//! WAMP identifiers and the three scopes they are drawn from.
//!
//! * **global** (session and publication ids): random, uniform over
//!   `[1, 2^53]`, so they never collide in practice and reveal nothing;
//! * **router** (subscription and registration ids): chosen by the router,
//!   here sequential per realm;
//! * **session** (request ids): sequential per session, chosen by the sender.

use rand::{Rng as _, SeedableRng as _};

/// A WAMP identifier: an integer in `[1, 2^53]` (exactly representable in an
/// IEEE 754 double, so JavaScript peers read it unchanged).
pub type Id = u64;

/// The largest valid identifier, `2^53`.
pub const MAX_ID: Id = 1 << 53;

/// Whether `id` lies in the valid range `[1, 2^53]`.
///
/// ```
/// use wamp::protocol::id::{is_valid, MAX_ID};
/// assert!(is_valid(1) && is_valid(MAX_ID));
/// assert!(!is_valid(0) && !is_valid(MAX_ID + 1));
/// ```
pub const fn is_valid(id: Id) -> bool {
    id >= 1 && id <= MAX_ID
}

/// A random id from the global scope, uniform over `[1, 2^53]`.
pub fn random_id() -> Id {
    rand::rng().random_range(1..=MAX_ID)
}

/// Hands out ids in the router or session scope: `1, 2, 3, ...`, wrapping
/// back to 1 after `2^53`.
///
/// ```
/// use wamp::protocol::id::SequentialIds;
/// let mut ids = SequentialIds::default();
/// assert_eq!((ids.next_id(), ids.next_id()), (1, 2));
/// ```
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

/// Random ids from the operating system's generator ([`random_id`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl RandomIds for SystemRandom {
    fn random_id(&mut self) -> Id {
        random_id()
    }
}

/// Random-looking ids from a seed: the same seed gives the same ids, for
/// tests and fuzzing that must repeat exactly.
///
/// ```
/// use wamp::protocol::id::{RandomIds as _, SeededRandom};
/// assert_eq!(SeededRandom::new(7).random_id(), SeededRandom::new(7).random_id());
/// ```
#[derive(Debug, Clone)]
pub struct SeededRandom(rand::rngs::StdRng);

impl SeededRandom {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SeededRandom(rand::rngs::StdRng::seed_from_u64(seed))
    }
}

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
    fn sequential_ids_wrap_within_range() {
        let mut ids = SequentialIds { last: MAX_ID - 1 };
        assert_eq!(ids.next_id(), MAX_ID);
        assert_eq!(ids.next_id(), 1);
    }

    #[test]
    fn random_ids_are_in_range() {
        for _ in 0..1000 {
            assert!(is_valid(random_id()));
        }
    }
}
