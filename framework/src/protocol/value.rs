//! The dynamic payload type every WAMP message carries.
//!
//! The router never needs an application's own types: it routes [`Value`]s.
//! Typed Rust values convert to and from `Value` through serde, and the wire
//! serializers encode `Value` directly.

use std::fmt;

use base64::Engine as _;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Dict;

/// A list of WAMP values: positional arguments.
pub type List = Vec<Value>;

/// Any value a WAMP payload, option or detail can hold.
///
/// Integers keep their full range: values that fit an `i64` are
/// [`Value::Int`], larger unsigned ones [`Value::UInt`]; the two compare equal
/// when they hold the same number.
///
/// ```
/// use wamp::protocol::Value;
/// let v = Value::from(vec![Value::from(1), Value::from("two")]);
/// assert_eq!(v.as_list().map(|l| l.len()), Some(2));
/// assert_eq!(Value::Int(7), Value::UInt(7));
/// ```
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// The absence of a value (JSON `null`, MessagePack `nil`).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer above `i64::MAX`.
    UInt(u64),
    /// A floating point number.
    Float(f64),
    /// A UTF-8 string.
    String(String),
    /// A byte string (JSON carries it as `"\u0000"` followed by base64).
    Bytes(Vec<u8>),
    /// A list.
    List(List),
    /// A dictionary with string keys.
    Dict(Dict),
}

impl Value {
    /// The value as an unsigned integer, if it is a non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Int(i) => u64::try_from(i).ok(),
            Value::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// The value as a signed integer, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    /// The value as a float; integers convert.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float(f) => Some(f),
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            _ => None,
        }
    }

    /// The value as a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a string slice.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as bytes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a list.
    pub fn as_list(&self) -> Option<&List> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The value as a dictionary.
    pub fn as_dict(&self) -> Option<&Dict> {
        match self {
            Value::Dict(d) => Some(d),
            _ => None,
        }
    }

    /// Whether this is [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a float",
            Value::String(_) => "a string",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "a list",
            Value::Dict(_) => "a dictionary",
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (UInt(a), UInt(b)) => a == b,
            (Int(a), UInt(b)) | (UInt(b), Int(a)) => u64::try_from(*a).is_ok_and(|a| a == *b),
            // NaN never equals anything, as in IEEE 754; compare bits so a
            // round trip of the same NaN still compares equal.
            (Float(a), Float(b)) => a == b || a.to_bits() == b.to_bits(),
            (String(a), String(b)) => a == b,
            (Bytes(a), Bytes(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Dict(a), Dict(b)) => a == b,
            _ => false,
        }
    }
}

macro_rules! from_signed {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::Int(i64::from(v)) }
        }
    )*};
}
from_signed!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        }
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

impl From<List> for Value {
    fn from(v: List) -> Self {
        Value::List(v)
    }
}

impl From<Dict> for Value {
    fn from(v: Dict) -> Self {
        Value::Dict(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// The marker that starts a byte string in JSON (WAMP's binary convention).
pub(crate) const JSON_BYTES_MARKER: char = '\u{0}';

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::UInt(u) => serializer.serialize_u64(*u),
            Value::Float(f) => serializer.serialize_f64(*f),
            Value::String(s) => serializer.serialize_str(s),
            Value::Bytes(b) => serialize_bytes(b, serializer),
            Value::List(l) => {
                let mut seq = serializer.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Dict(d) => {
                let mut map = serializer.serialize_map(Some(d.len()))?;
                for (k, v) in d {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Writes a byte string: `bin` in binary formats, the `"\u0000"` + base64
/// convention in text formats (JSON).
pub(crate) fn serialize_bytes<S: Serializer>(b: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    if serializer.is_human_readable() {
        let engine = &base64::engine::general_purpose::STANDARD;
        let mut text = String::with_capacity(1 + b.len().div_ceil(3) * 4);
        text.push(JSON_BYTES_MARKER);
        engine.encode_string(b, &mut text);
        serializer.serialize_str(&text)
    } else {
        serializer.serialize_bytes(b)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text_bytes = deserializer.is_human_readable();
        deserializer.deserialize_any(ValueVisitor { text_bytes, outermost: true })
    }
}

/// Builds a [`Value`] from any self-describing format. `text_bytes` turns
/// strings that start with the JSON byte marker into [`Value::Bytes`].
#[derive(Clone, Copy)]
struct ValueVisitor {
    text_bytes: bool,
    /// The value is not inside a list or dictionary (a WAMP message is).
    outermost: bool,
}

/// The room a list gets when its format does not say its length (JSON):
/// an outermost list is usually a message (at most seven fields); a
/// nested one starts where a growing vector would, without growing to it.
pub(crate) const UNSIZED_MESSAGE: usize = 7;
pub(crate) const UNSIZED_LIST: usize = 4;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a WAMP value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.string(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.string(v)
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Value, E> {
        Ok(Value::Bytes(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // Never trust a length hint from the wire for preallocation beyond a
        // small bound: the elements themselves prove the size.
        let unsized_room = if self.outermost { UNSIZED_MESSAGE } else { UNSIZED_LIST };
        let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(unsized_room).min(64));
        let inner = ValueVisitor { outermost: false, ..self };
        while let Some(v) = seq.next_element_seed(inner)? {
            list.push(v);
        }
        Ok(Value::List(list))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut dict = Dict::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(ValueVisitor { outermost: false, ..self })?;
            dict.insert(key, v);
        }
        Ok(Value::Dict(dict))
    }
}

impl ValueVisitor {
    fn string<E: de::Error>(self, s: String) -> Result<Value, E> {
        if self.text_bytes {
            if let Some(encoded) = s.strip_prefix(JSON_BYTES_MARKER) {
                return base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map(Value::Bytes)
                    .map_err(|e| E::custom(format_args!("invalid base64 in a binary string: {e}")));
            }
        }
        Ok(Value::String(s))
    }
}

impl<'de> de::DeserializeSeed<'de> for ValueVisitor {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bytes_use_the_nul_base64_convention() {
        let v = Value::Bytes(vec![0, 1, 2, 255]);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(text, "\"\\u0000AAEC/w==\"");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn msgpack_bytes_use_bin() {
        let v = Value::Bytes(vec![9, 8, 7]);
        let data = rmp_serde::to_vec(&v).unwrap();
        assert_eq!(data, [0xc4, 3, 9, 8, 7]);
        let back: Value = rmp_serde::from_slice(&data).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn integers_compare_across_representations() {
        assert_eq!(Value::from(5u64), Value::Int(5));
        assert_eq!(Value::from(u64::MAX), Value::UInt(u64::MAX));
        assert_ne!(Value::Int(-1), Value::UInt(u64::MAX));
    }

    #[test]
    fn invalid_base64_is_an_error() {
        let r: Result<Value, _> = serde_json::from_str("\"\\u0000%%%\"");
        assert!(r.is_err());
    }
}
