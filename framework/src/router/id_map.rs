//! Maps keyed by ids this side chose, hashed with one multiplication.
//!
//! Most of the routing state is keyed by ids the router picked itself:
//! session ids (random), invocation, registration and subscription ids
//! (sequential); a client keys its calls by request ids it picked. Nobody
//! else can choose such keys to make them collide, so they need no seeded
//! hasher: multiplying by an odd constant spreads sequential and random
//! ids alike (the low bits, which pick the bucket, are a permutation of
//! the id's low bits; the high bits, which the table compares first, mix
//! all of them). It costs a fraction of [`FastMap`](super::FastMap)'s
//! seeded hash, and a call touches about fifteen such maps.
//!
//! Ids a peer picks (its request ids, the session lists in its options)
//! stay in seeded maps: a peer could otherwise send ids that all land in
//! one bucket.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::protocol::Id;

/// A map keyed by ids this side chose (see the module's docs).
pub(crate) type IdMap<V> = HashMap<Id, V, BuildHasherDefault<IdHasher>>;

/// A set of ids this side chose.
pub(crate) type IdSet = HashSet<Id, BuildHasherDefault<IdHasher>>;

/// 2^64 divided by the golden ratio, made odd: its multiples of
/// consecutive numbers are spread evenly over the high bits.
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

/// The hasher of [`IdMap`] and [`IdSet`]: one multiplication per id.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write_u64(&mut self, id: u64) {
        self.0 = (self.0 ^ id).wrapping_mul(SPREAD);
    }

    /// Not used by `u64` keys; any other bytes are folded in eight at a
    /// time, so the hasher stays correct for them.
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(id: Id) -> u64 {
        BuildHasherDefault::<IdHasher>::default().hash_one(id)
    }

    #[test]
    fn sequential_ids_fill_distinct_buckets() {
        // The low bits pick the bucket: 1..=1024 in a table of 1024
        // buckets lands once in each.
        let buckets: HashSet<u64> = (1..=1024).map(|id| hash(id) & 1023).collect();
        assert_eq!(buckets.len(), 1024);
    }

    #[test]
    fn sequential_ids_differ_in_the_high_bits() {
        // The table compares the top seven bits first: consecutive ids
        // spread over all 128 values.
        let tags: HashSet<u64> = (1..=1024).map(|id| hash(id) >> 57).collect();
        assert_eq!(tags.len(), 128);
    }

    #[test]
    fn bytes_hash_like_their_words() {
        let mut a = IdHasher::default();
        a.write(&7u64.to_le_bytes());
        let mut b = IdHasher::default();
        b.write_u64(7);
        assert_eq!(a.finish(), b.finish());
        let mut c = IdHasher::default();
        c.write(b"a longer key than eight bytes");
        assert_ne!(c.finish(), 0);
    }

    #[test]
    fn maps_work_as_maps() {
        let mut map: IdMap<&str> = IdMap::default();
        for id in 1..=10_000 {
            map.insert(id, "x");
        }
        assert_eq!(map.len(), 10_000);
        assert!((1..=10_000).all(|id| map.contains_key(&id)));
        assert!(!map.contains_key(&0));
    }
}
