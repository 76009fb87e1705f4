//! [`Dict`], the dictionary of WAMP options, details and keyword arguments.
//!
//! Most dictionaries a message carries are empty (the options of a plain
//! CALL, the details of a RESULT, the keyword arguments of a call that has
//! none), and a `BTreeMap` sets up an iteration to drop even an empty map.
//! `Dict` keeps one invariant instead: an empty `Dict` owns no memory, so
//! dropping it is a length check. Its own type (rather than an alias of
//! `BTreeMap`) also keeps the representation ours to change.

use std::borrow::Borrow;
use std::collections::btree_map;
use std::collections::BTreeMap;
use std::fmt;
use std::iter::FusedIterator;
use std::mem::ManuallyDrop;
use std::ops::Index;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Value;

/// A dictionary of WAMP values with string keys, ordered by key: options,
/// details and keyword arguments.
///
/// It reads like a `BTreeMap<String, Value>` (and converts to and from
/// one); an empty `Dict` costs nothing to make or drop.
///
/// ```
/// use wamp::protocol::{Dict, Value};
/// let mut kwargs = Dict::new();
/// kwargs.insert("name".into(), Value::from("Ada"));
/// assert_eq!(kwargs.get("name").and_then(Value::as_str), Some("Ada"));
/// assert_eq!(kwargs.iter().count(), 1);
/// let same: Dict = [("name".to_owned(), Value::from("Ada"))].into_iter().collect();
/// assert_eq!(kwargs, same);
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Dict {
    // Invariant: when `map` is empty it holds no node (it was never filled,
    // or was replaced by a new map when its last entry left), so `Drop` may
    // skip it without leaking.
    map: ManuallyDrop<BTreeMap<String, Value>>,
}

impl Dict {
    /// An empty dictionary.
    pub const fn new() -> Self {
        Dict { map: ManuallyDrop::new(BTreeMap::new()) }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the dictionary has no entries.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The value under `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.get(key)
    }

    /// The value under `key`, to change in place.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.get_mut(key)
    }

    /// Whether there is a value under `key`.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.map.contains_key(key)
    }

    /// Sets `key` to `value`, returning the value it replaced.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        self.map.insert(key, value)
    }

    /// The value under `key`, `Null` put there first if there was none: the
    /// decoders read a value into its place.
    pub(crate) fn slot(&mut self, key: String) -> &mut Value {
        self.map.entry(key).or_default()
    }

    /// Takes the value under `key` out.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<Value>
    where
        String: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let removed = self.map.remove(key);
        self.release_if_empty();
        removed
    }

    /// Keeps only the entries for which `keep` returns `true`.
    pub fn retain(&mut self, keep: impl FnMut(&String, &mut Value) -> bool) {
        self.map.retain(keep);
        self.release_if_empty();
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.map.iter())
    }

    /// The entries in key order, values to change in place.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut(self.map.iter_mut())
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + '_ {
        self.map.keys()
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + '_ {
        self.map.values()
    }

    /// Drops the map's last node once its last entry is gone, which keeps
    /// the invariant `Drop` relies on.
    fn release_if_empty(&mut self) {
        if self.map.is_empty() {
            *self.map = BTreeMap::new();
        }
    }

    fn take_map(mut self) -> BTreeMap<String, Value> {
        std::mem::take(&mut *self.map)
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        // An empty map holds no node (the invariant above): nothing to free.
        if !self.map.is_empty() {
            drop(std::mem::take(&mut *self.map));
        }
    }
}

/// `dict["key"]`, which panics if there is no value under the key (as a
/// `BTreeMap`'s does); [`Dict::get`] does not.
impl<Q> Index<&Q> for Dict
where
    String: Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = Value;

    fn index(&self, key: &Q) -> &Value {
        &self.map[key]
    }
}

impl fmt::Debug for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl From<BTreeMap<String, Value>> for Dict {
    fn from(map: BTreeMap<String, Value>) -> Self {
        if map.is_empty() {
            // It may still hold the node its last entry left.
            return Dict::new();
        }
        Dict { map: ManuallyDrop::new(map) }
    }
}

impl From<Dict> for BTreeMap<String, Value> {
    fn from(dict: Dict) -> Self {
        dict.take_map()
    }
}

impl FromIterator<(String, Value)> for Dict {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(entries: I) -> Self {
        let mut dict = Dict::new();
        dict.extend(entries);
        dict
    }
}

impl Extend<(String, Value)> for Dict {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, entries: I) {
        self.map.extend(entries);
    }
}

impl<const N: usize> From<[(String, Value); N]> for Dict {
    fn from(entries: [(String, Value); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl IntoIterator for Dict {
    type Item = (String, Value);
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter(self.take_map().into_iter())
    }
}

impl<'a> IntoIterator for &'a Dict {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Dict {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl Serialize for Dict {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Dict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        BTreeMap::<String, Value>::deserialize(deserializer).map(Dict::from)
    }
}

/// Iterates over a [`Dict`]'s entries in key order ([`Dict::iter`]).
#[derive(Clone, Debug)]
pub struct Iter<'a>(btree_map::Iter<'a, String, Value>);

/// Iterates over a [`Dict`]'s entries in key order, values to change
/// ([`Dict::iter_mut`]).
#[derive(Debug)]
pub struct IterMut<'a>(btree_map::IterMut<'a, String, Value>);

/// Takes a [`Dict`]'s entries out in key order (`Dict::into_iter`).
#[derive(Debug)]
pub struct IntoIter(btree_map::IntoIter<String, Value>);

macro_rules! delegate_iterator {
    ($name:ty, $item:ty) => {
        impl<'a> Iterator for $name {
            type Item = $item;
            fn next(&mut self) -> Option<Self::Item> {
                self.0.next()
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.0.size_hint()
            }
        }
        impl<'a> DoubleEndedIterator for $name {
            fn next_back(&mut self) -> Option<Self::Item> {
                self.0.next_back()
            }
        }
        impl<'a> ExactSizeIterator for $name {}
        impl<'a> FusedIterator for $name {}
    };
}

delegate_iterator!(Iter<'a>, (&'a String, &'a Value));
delegate_iterator!(IterMut<'a>, (&'a String, &'a mut Value));
delegate_iterator!(IntoIter, (String, Value));

#[cfg(test)]
mod tests {
    use super::*;

    fn one() -> Dict {
        Dict::from([("a".to_owned(), Value::from(1))])
    }

    #[test]
    fn every_way_of_emptying_leaves_an_empty_usable_dictionary() {
        let mut d = one();
        assert_eq!(d.remove("a"), Some(Value::from(1)));
        assert!(d.is_empty());
        d.insert("b".into(), Value::Null);
        assert_eq!(d.len(), 1);
        let mut r = one();
        r.retain(|_, _| false);
        assert!(r.is_empty());
        let mut c = one();
        c.clear();
        assert!(c.is_empty());
        let mut emptied = BTreeMap::new();
        emptied.insert("a".to_owned(), Value::Null);
        emptied.remove("a");
        assert!(Dict::from(emptied).is_empty());
    }

    #[test]
    fn reads_and_converts_like_a_map() {
        let mut d = one();
        d.insert("b".into(), Value::from("x"));
        assert_eq!(d.len(), 2);
        assert!(d.contains_key("b"));
        *d.get_mut("a").unwrap() = Value::from(2);
        assert_eq!(d.get("a"), Some(&Value::from(2)));
        assert_eq!(d["b"], Value::from("x"));
        assert_eq!(d.keys().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(d.iter().next_back().map(|(k, _)| k.as_str()), Some("b"));
        let map: BTreeMap<String, Value> = d.clone().into();
        assert_eq!(Dict::from(map), d);
        assert_eq!(d.clone().into_iter().count(), 2);
        assert_eq!(format!("{d:?}"), r#"{"a": Int(2), "b": String("x")}"#);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, r#"{"a":2,"b":"x"}"#);
        let back: Dict = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }
}
