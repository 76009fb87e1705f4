//! WAMP identifiers and the three scopes they are drawn from.
//!
//! * **global** (session and publication ids): random, uniform over
//!   `[1, 2^53]`, so they never collide in practice and reveal nothing;
//! * **router** (subscription and registration ids): chosen by the router,
//!   here sequential per realm;
//! * **session** (request ids): sequential per session, chosen by the sender.
//!
//! The router and the client draw them from sources of their own, which
//! are not part of the API.

use rand::Rng as _;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_are_in_range() {
        for _ in 0..1000 {
            assert!(is_valid(random_id()));
        }
    }
}
