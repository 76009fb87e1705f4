//! Conversions between application types and [`Value`] through serde.
//!
//! WAMP payloads are dynamic [`Value`]s; applications use their own Rust
//! types. [`to_value`] runs a type's `Serialize` implementation against a
//! serializer that builds a `Value`, and [`from_value`] runs a type's
//! `Deserialize` implementation against a `Value`. `Value` (owned) and
//! `&Value` (borrowed, so `&str` fields can point into the value) are both
//! serde deserializers.
//!
//! The mapping follows `serde_json` where WAMP has no rule of its own: enums
//! are externally tagged, `None` and `()` are [`Value::Null`], and integer,
//! boolean and char map keys become strings. Unlike JSON, byte strings stay
//! [`Value::Bytes`], which is why both sides report that they are not human
//! readable.

use std::borrow::Cow;
use std::fmt::{self, Display};

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use serde::ser::{self, Impossible, Serialize};
use serde::Deserialize;

use super::value::{Dict, List, Value};

/// Why a Rust value and a [`Value`] could not be converted into each other.
///
/// The message describes the problem only (for example
/// `invalid type: string "abc", expected i64`), so that callers can prefix
/// it with the name of the argument it concerns. Messages are serde's usual
/// ones, except that values are named as WAMP names them: `null`, `list`
/// and `dictionary`.
///
/// ```
/// use wamp::protocol::{from_value, Value};
///
/// let err = from_value::<u8>(Value::Int(300)).unwrap_err();
/// assert_eq!(err.to_string(), "invalid value: integer `300`, expected u8");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConvertError {
    message: String,
}

impl ConvertError {
    fn new(message: impl Display) -> Self {
        ConvertError { message: message.to_string() }
    }
}

impl ser::Error for ConvertError {
    fn custom<T: Display>(msg: T) -> Self {
        ConvertError::new(msg)
    }
}

impl de::Error for ConvertError {
    fn custom<T: Display>(msg: T) -> Self {
        ConvertError::new(msg)
    }

    // The two below are serde's messages, with WAMP's words for null,
    // lists and dictionaries (serde says "unit value", "sequence", "map").

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        ConvertError::new(format_args!("invalid type: {}, expected {exp}", WampWords(unexp)))
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        ConvertError::new(format_args!("invalid value: {}, expected {exp}", WampWords(unexp)))
    }
}

/// Displays an [`Unexpected`] with WAMP's names for its value kinds.
struct WampWords<'a>(Unexpected<'a>);

impl Display for WampWords<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Unexpected::Unit => f.write_str("null"),
            Unexpected::Seq => f.write_str("list"),
            Unexpected::Map => f.write_str("dictionary"),
            other => Display::fmt(&other, f),
        }
    }
}

/// Converts any serializable Rust value into a WAMP [`Value`].
///
/// Structs and maps become [`Value::Dict`] (map keys must be strings, or
/// integers, booleans or chars, which are written as strings); sequences,
/// tuples and tuple structs become [`Value::List`]; `None`, `()` and unit
/// structs become [`Value::Null`]; byte strings (`serialize_bytes`) become
/// [`Value::Bytes`]. Enums are externally tagged: a unit variant is its name
/// as a string, any other variant a one-entry dictionary from its name to
/// its content.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use wamp::protocol::{from_value, to_value, Value};
///
/// #[derive(Serialize, Deserialize, Debug, PartialEq)]
/// struct Move {
///     x: i32,
///     y: i32,
/// }
///
/// let v = to_value(&Move { x: 1, y: -2 })?;
/// let dict = v.as_dict().unwrap();
/// assert_eq!(dict["x"], Value::Int(1));
/// assert_eq!(dict["y"], Value::Int(-2));
/// assert_eq!(from_value::<Move>(v)?, Move { x: 1, y: -2 });
/// # Ok::<(), wamp::protocol::ConvertError>(())
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, ConvertError> {
    value.serialize(ValueSerializer)
}

/// Converts a WAMP [`Value`] into any Rust type that can be deserialized
/// from owned data.
///
/// Integers convert wherever they fit the target type, and to floats;
/// [`Value::Null`] is `None` for an `Option` and `()` for the unit type;
/// enums are read from a variant name (unit variants) or a one-entry
/// dictionary. To borrow strings from the value instead, deserialize from a
/// `&Value`: `T::deserialize(&value)`.
///
/// ```
/// use std::collections::HashMap;
/// use wamp::protocol::{from_value, to_value, Value};
///
/// let v = Value::List(vec![Value::from("pi"), Value::Float(3.14)]);
/// let (name, number): (String, f64) = from_value(v)?;
/// assert_eq!((name.as_str(), number), ("pi", 3.14));
///
/// let counts = to_value(&HashMap::from([("a", 1u32)]))?;
/// let back: HashMap<String, u64> = from_value(counts)?;
/// assert_eq!(back["a"], 1);
///
/// let err = from_value::<i64>(Value::from("abc")).unwrap_err();
/// assert_eq!(err.to_string(), "invalid type: string \"abc\", expected i64");
/// # Ok::<(), wamp::protocol::ConvertError>(())
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ConvertError> {
    T::deserialize(value)
}

/// What a value is, for "invalid type" and "invalid value" errors.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Int(i) => Unexpected::Signed(*i),
        Value::UInt(u) => Unexpected::Unsigned(*u),
        Value::Float(f) => Unexpected::Float(*f),
        Value::String(s) => Unexpected::Str(s),
        Value::Bytes(b) => Unexpected::Bytes(b),
        Value::List(_) => Unexpected::Seq,
        Value::Dict(_) => Unexpected::Map,
    }
}

// ---------------------------------------------------------------------------
// Rust value -> Value
// ---------------------------------------------------------------------------

/// The serializer behind [`to_value`].
struct ValueSerializer;

/// A dictionary with the single entry `{variant: content}`.
fn tagged(variant: &str, content: Value) -> Value {
    Value::Dict(Dict::from([(variant.to_owned(), content)]))
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = ConvertError;
    type SerializeSeq = ListBuilder;
    type SerializeTuple = ListBuilder;
    type SerializeTupleStruct = ListBuilder;
    type SerializeTupleVariant = TupleVariantBuilder;
    type SerializeMap = DictBuilder;
    type SerializeStruct = DictBuilder;
    type SerializeStructVariant = StructVariantBuilder;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<Value, ConvertError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, ConvertError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, ConvertError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, ConvertError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, ConvertError> {
        Ok(Value::Int(v))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, ConvertError> {
        if let Ok(i) = i64::try_from(v) {
            Ok(Value::Int(i))
        } else if let Ok(u) = u64::try_from(v) {
            Ok(Value::UInt(u))
        } else {
            Err(ConvertError::new(format_args!("integer {v} is out of range: WAMP integers have 64 bits")))
        }
    }
    fn serialize_u8(self, v: u8) -> Result<Value, ConvertError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, ConvertError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, ConvertError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, ConvertError> {
        Ok(Value::from(v))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, ConvertError> {
        match u64::try_from(v) {
            Ok(u) => Ok(Value::from(u)),
            Err(_) => Err(ConvertError::new(format_args!(
                "integer {v} is out of range: WAMP integers have 64 bits"
            ))),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Value, ConvertError> {
        Ok(Value::Float(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, ConvertError> {
        Ok(Value::Float(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, ConvertError> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, ConvertError> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, ConvertError> {
        Ok(Value::Bytes(v.to_vec()))
    }
    fn serialize_none(self) -> Result<Value, ConvertError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, ConvertError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, ConvertError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, ConvertError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, ConvertError> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<Value, ConvertError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, ConvertError> {
        Ok(tagged(variant, value.serialize(self)?))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<ListBuilder, ConvertError> {
        Ok(ListBuilder::with_capacity(len.unwrap_or(0)))
    }
    fn serialize_tuple(self, len: usize) -> Result<ListBuilder, ConvertError> {
        Ok(ListBuilder::with_capacity(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<ListBuilder, ConvertError> {
        Ok(ListBuilder::with_capacity(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<TupleVariantBuilder, ConvertError> {
        Ok(TupleVariantBuilder { variant, items: ListBuilder::with_capacity(len) })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<DictBuilder, ConvertError> {
        Ok(DictBuilder::default())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<DictBuilder, ConvertError> {
        Ok(DictBuilder::default())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<StructVariantBuilder, ConvertError> {
        Ok(StructVariantBuilder { variant, fields: Dict::new() })
    }
}

/// Collects the elements of a sequence, tuple or tuple struct.
struct ListBuilder {
    items: List,
}

impl ListBuilder {
    fn with_capacity(len: usize) -> Self {
        // The hint comes from the application's own value, but stay modest.
        ListBuilder { items: List::with_capacity(len.min(1024)) }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }
}

impl ser::SerializeSeq for ListBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::List(self.items))
    }
}

impl ser::SerializeTuple for ListBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::List(self.items))
    }
}

impl ser::SerializeTupleStruct for ListBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::List(self.items))
    }
}

/// Collects the fields of a tuple variant into `{variant: [fields...]}`.
struct TupleVariantBuilder {
    variant: &'static str,
    items: ListBuilder,
}

impl ser::SerializeTupleVariant for TupleVariantBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        self.items.push(value)
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(tagged(self.variant, Value::List(self.items.items)))
    }
}

/// Collects the entries of a map or the fields of a struct.
#[derive(Default)]
struct DictBuilder {
    entries: Dict,
    /// A key given by `serialize_key`, waiting for its value.
    key: Option<String>,
}

impl ser::SerializeMap for DictBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), ConvertError> {
        self.key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), ConvertError> {
        let key = self.key.take().ok_or_else(|| {
            ConvertError::new("a map serializer wrote a value without writing its key first")
        })?;
        self.entries.insert(key, value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::Dict(self.entries))
    }
}

impl ser::SerializeStruct for DictBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ConvertError> {
        self.entries.insert(key.to_owned(), value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(Value::Dict(self.entries))
    }
}

/// Collects the fields of a struct variant into `{variant: {fields...}}`.
struct StructVariantBuilder {
    variant: &'static str,
    fields: Dict,
}

impl ser::SerializeStructVariant for StructVariantBuilder {
    type Ok = Value;
    type Error = ConvertError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), ConvertError> {
        self.fields.insert(key.to_owned(), value.serialize(ValueSerializer)?);
        Ok(())
    }
    fn end(self) -> Result<Value, ConvertError> {
        Ok(tagged(self.variant, Value::Dict(self.fields)))
    }
}

/// Serializes a map key to the string a WAMP dictionary needs.
///
/// Strings, chars, booleans, integers, unit variants (their name) and
/// newtype structs around any of those are accepted; everything else is an
/// error naming what was found.
struct KeySerializer;

impl KeySerializer {
    fn reject(found: &str) -> ConvertError {
        ConvertError::new(format_args!(
            "dictionary keys must be strings, integers, booleans or chars, found {found}"
        ))
    }
}

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = ConvertError;
    type SerializeSeq = Impossible<String, ConvertError>;
    type SerializeTuple = Impossible<String, ConvertError>;
    type SerializeTupleStruct = Impossible<String, ConvertError>;
    type SerializeTupleVariant = Impossible<String, ConvertError>;
    type SerializeMap = Impossible<String, ConvertError>;
    type SerializeStruct = Impossible<String, ConvertError>;
    type SerializeStructVariant = Impossible<String, ConvertError>;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i8(self, v: i8) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i16(self, v: i16) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i32(self, v: i32) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i64(self, v: i64) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_i128(self, v: i128) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u8(self, v: u8) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u16(self, v: u16) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u32(self, v: u32) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u64(self, v: u64) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_u128(self, v: u128) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_f32(self, _v: f32) -> Result<String, ConvertError> {
        Err(Self::reject("a float"))
    }
    fn serialize_f64(self, _v: f64) -> Result<String, ConvertError> {
        Err(Self::reject("a float"))
    }
    fn serialize_char(self, v: char) -> Result<String, ConvertError> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String, ConvertError> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<String, ConvertError> {
        Err(Self::reject("bytes"))
    }
    fn serialize_none(self) -> Result<String, ConvertError> {
        Err(Self::reject("null"))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<String, ConvertError> {
        Err(Self::reject("an option"))
    }
    fn serialize_unit(self) -> Result<String, ConvertError> {
        Err(Self::reject("null"))
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<String, ConvertError> {
        Err(Self::reject(&format!("unit struct {name}")))
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<String, ConvertError> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<String, ConvertError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _value: &T,
    ) -> Result<String, ConvertError> {
        Err(Self::reject(&format!("enum variant {name}::{variant}")))
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, ConvertError> {
        Err(Self::reject("a sequence"))
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, ConvertError> {
        Err(Self::reject("a tuple"))
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, ConvertError> {
        Err(Self::reject(&format!("tuple struct {name}")))
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, ConvertError> {
        Err(Self::reject(&format!("enum variant {name}::{variant}")))
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, ConvertError> {
        Err(Self::reject("a map"))
    }
    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, ConvertError> {
        Err(Self::reject(&format!("struct {name}")))
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, ConvertError> {
        Err(Self::reject(&format!("enum variant {name}::{variant}")))
    }
}

// ---------------------------------------------------------------------------
// Value -> Rust value
// ---------------------------------------------------------------------------

/// Feeds list elements (or the bytes of a [`Value::Bytes`]) to a visitor,
/// then checks that the visitor took them all.
fn visit_elements<'de, I, V>(iter: I, visitor: V) -> Result<V::Value, ConvertError>
where
    I: ExactSizeIterator,
    I::Item: IntoDeserializer<'de, ConvertError>,
    V: Visitor<'de>,
{
    let len = iter.len();
    let mut access = Elements { iter };
    let out = visitor.visit_seq(&mut access)?;
    match access.iter.len() {
        0 => Ok(out),
        left => Err(de::Error::invalid_length(len, &format!("a list of {} elements", len - left).as_str())),
    }
}

struct Elements<I> {
    iter: I,
}

impl<'de, I> SeqAccess<'de> for Elements<I>
where
    I: ExactSizeIterator,
    I::Item: IntoDeserializer<'de, ConvertError>,
{
    type Error = ConvertError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, ConvertError> {
        self.iter.next().map(|item| seed.deserialize(item.into_deserializer())).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Feeds dictionary entries to a visitor, then checks that the visitor took
/// them all.
fn visit_entries<'de, I, K, X, V>(iter: I, visitor: V) -> Result<V::Value, ConvertError>
where
    I: ExactSizeIterator<Item = (K, X)>,
    K: Into<Cow<'de, str>>,
    X: IntoDeserializer<'de, ConvertError>,
    V: Visitor<'de>,
{
    let len = iter.len();
    let mut access = Entries { iter, value: None };
    let out = visitor.visit_map(&mut access)?;
    match access.iter.len() {
        0 => Ok(out),
        left => {
            Err(de::Error::invalid_length(len, &format!("a dictionary of {} entries", len - left).as_str()))
        }
    }
}

struct Entries<I, X> {
    iter: I,
    /// The value of the entry whose key was just handed out.
    value: Option<X>,
}

impl<'de, I, K, X> MapAccess<'de> for Entries<I, X>
where
    I: ExactSizeIterator<Item = (K, X)>,
    K: Into<Cow<'de, str>>,
    X: IntoDeserializer<'de, ConvertError>,
{
    type Error = ConvertError;

    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, ConvertError> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(KeyDeserializer { key: key.into() }).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, ConvertError> {
        match self.value.take() {
            Some(value) => seed.deserialize(value.into_deserializer()),
            None => Err(ConvertError::new("a dictionary value was requested before its key")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// Deserializes a dictionary key or an enum variant name.
///
/// Keys are always strings in a [`Value::Dict`]; this deserializer also
/// parses them back into integers and booleans when the target type asks,
/// so maps with such keys survive a round trip through [`to_value`].
struct KeyDeserializer<'de> {
    key: Cow<'de, str>,
}

impl<'de> KeyDeserializer<'de> {
    fn integer<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        if let Ok(i) = self.key.parse::<i64>() {
            visitor.visit_i64(i)
        } else if let Ok(u) = self.key.parse::<u64>() {
            visitor.visit_u64(u)
        } else if let Ok(i) = self.key.parse::<i128>() {
            visitor.visit_i128(i)
        } else if let Ok(u) = self.key.parse::<u128>() {
            visitor.visit_u128(u)
        } else {
            de::Deserializer::deserialize_any(self, visitor)
        }
    }
}

macro_rules! parse_integer_key {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
            self.integer(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDeserializer<'de> {
    type Error = ConvertError;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.key {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    parse_integer_key! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match &*self.key {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self.key.parse::<f64>() {
            Ok(f) => visitor.visit_f64(f),
            Err(_) => self.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        visitor.visit_enum(Variant::<Value> { name: self.key, content: None })
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct
        map struct identifier ignored_any
    }
}

/// An enum read from a [`Value`]: the variant's name and, unless it came
/// from a bare string, its content.
struct Variant<'de, X> {
    name: Cow<'de, str>,
    content: Option<X>,
}

impl<'de, X> EnumAccess<'de> for Variant<'de, X>
where
    X: de::Deserializer<'de, Error = ConvertError>,
{
    type Error = ConvertError;
    type Variant = VariantContent<X>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, VariantContent<X>), ConvertError> {
        let variant = seed.deserialize(KeyDeserializer { key: self.name })?;
        Ok((variant, VariantContent(self.content)))
    }
}

/// The content of an enum variant, if there is one.
struct VariantContent<X>(Option<X>);

impl<'de, X> VariantAccess<'de> for VariantContent<X>
where
    X: de::Deserializer<'de, Error = ConvertError>,
{
    type Error = ConvertError;

    fn unit_variant(self) -> Result<(), ConvertError> {
        match self.0 {
            // `{"Variant": null}` is accepted as well as `"Variant"`.
            Some(content) => <()>::deserialize(content),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, ConvertError> {
        match self.0 {
            Some(content) => seed.deserialize(content),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &"newtype variant")),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, ConvertError> {
        match self.0 {
            Some(content) => content.deserialize_tuple(len, visitor),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &visitor)),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        match self.0 {
            Some(content) => content.deserialize_struct("", fields, visitor),
            None => Err(de::Error::invalid_type(Unexpected::UnitVariant, &visitor)),
        }
    }
}

/// The `Deserializer` methods that read `Value` and `&Value` alike.
macro_rules! shared_deserializer_methods {
    () => {
        fn is_human_readable(&self) -> bool {
            false
        }

        fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
            match self {
                Value::Null => visitor.visit_none(),
                _ => visitor.visit_some(self),
            }
        }

        fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
            match self {
                Value::Null => visitor.visit_unit(),
                _ => Err(de::Error::invalid_type(unexpected(&self), &visitor)),
            }
        }

        fn deserialize_unit_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, ConvertError> {
            self.deserialize_unit(visitor)
        }

        fn deserialize_newtype_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            visitor: V,
        ) -> Result<V::Value, ConvertError> {
            visitor.visit_newtype_struct(self)
        }

        fn deserialize_tuple<V: Visitor<'de>>(
            self,
            _len: usize,
            visitor: V,
        ) -> Result<V::Value, ConvertError> {
            self.deserialize_seq(visitor)
        }

        fn deserialize_tuple_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            _len: usize,
            visitor: V,
        ) -> Result<V::Value, ConvertError> {
            self.deserialize_seq(visitor)
        }

        fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
            visitor.visit_unit()
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf identifier
        }
    };
}

/// Reads an owned [`Value`]: strings, bytes, lists and dictionaries are
/// moved into the result.
impl<'de> de::Deserializer<'de> for Value {
    type Error = ConvertError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Int(i) => visitor.visit_i64(i),
            Value::UInt(u) => visitor.visit_u64(u),
            Value::Float(f) => visitor.visit_f64(f),
            Value::String(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::List(l) => visit_elements(l.into_iter(), visitor),
            Value::Dict(d) => visit_entries(d.into_iter(), visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self {
            Value::List(l) => visit_elements(l.into_iter(), visitor),
            // So that a plain `Vec<u8>` reads a byte string.
            Value::Bytes(b) => visit_elements(b.into_iter(), visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self {
            Value::Dict(d) => visit_entries(d.into_iter(), visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        match self {
            Value::Dict(d) => visit_entries(d.into_iter(), visitor),
            // Fields in declaration order, as serde_json also accepts.
            Value::List(l) => visit_elements(l.into_iter(), visitor),
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        match self {
            Value::String(name) => {
                visitor.visit_enum(Variant::<Value> { name: Cow::Owned(name), content: None })
            }
            Value::Dict(d) => {
                let mut entries = d.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((name, content)), None) => {
                        visitor.visit_enum(Variant { name: Cow::Owned(name), content: Some(content) })
                    }
                    _ => Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"a dictionary with exactly one entry, {variant: content}",
                    )),
                }
            }
            other => Err(de::Error::invalid_type(unexpected(&other), &visitor)),
        }
    }

    shared_deserializer_methods!();
}

/// Reads a borrowed [`Value`]: strings and bytes are lent to the visitor,
/// so types with `&str` or `&[u8]` fields can point into the value.
impl<'de> de::Deserializer<'de> for &'de Value {
    type Error = ConvertError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::UInt(u) => visitor.visit_u64(*u),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::List(l) => visit_elements(l.iter(), visitor),
            Value::Dict(d) => visit_entries(d.iter(), visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self {
            Value::List(l) => visit_elements(l.iter(), visitor),
            // So that a plain `Vec<u8>` reads a byte string.
            Value::Bytes(b) => visit_elements(b.iter().copied(), visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConvertError> {
        match self {
            Value::Dict(d) => visit_entries(d.iter(), visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        match self {
            Value::Dict(d) => visit_entries(d.iter(), visitor),
            // Fields in declaration order, as serde_json also accepts.
            Value::List(l) => visit_elements(l.iter(), visitor),
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConvertError> {
        match self {
            Value::String(name) => {
                visitor.visit_enum(Variant::<&'de Value> { name: Cow::Borrowed(name), content: None })
            }
            Value::Dict(d) => {
                let mut entries = d.iter();
                match (entries.next(), entries.next()) {
                    (Some((name, content)), None) => {
                        visitor.visit_enum(Variant { name: Cow::Borrowed(name), content: Some(content) })
                    }
                    _ => Err(de::Error::invalid_value(
                        Unexpected::Map,
                        &"a dictionary with exactly one entry, {variant: content}",
                    )),
                }
            }
            other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
        }
    }

    shared_deserializer_methods!();
}

impl<'de> IntoDeserializer<'de, ConvertError> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

impl<'de> IntoDeserializer<'de, ConvertError> for &'de Value {
    type Deserializer = &'de Value;

    fn into_deserializer(self) -> &'de Value {
        self
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::fmt;

    use proptest::prelude::*;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::*;

    fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
        Value::Dict(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// Converts `x` to a value, checks its shape, and reads it back both
    /// from the owned and from the borrowed value.
    fn round_trip<T>(x: &T, expected: Value)
    where
        T: Serialize + DeserializeOwned + PartialEq + fmt::Debug,
    {
        let v = to_value(x).unwrap();
        assert_eq!(v, expected);
        assert_eq!(&T::deserialize(&v).unwrap(), x, "borrowed");
        assert_eq!(&from_value::<T>(v).unwrap(), x, "owned");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Empty,
        Circle(f64),
        Rect(u32, u32),
        Poly { sides: u8, label: Option<String> },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Meters(u16);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Marker;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Drawing {
        title: String,
        note: Option<String>,
        missing: Option<i32>,
        shapes: Vec<Shape>,
        layers: HashMap<String, Vec<i64>>,
        origin: (i8, i8),
        width: Meters,
        marker: Marker,
        initial: char,
        scale: f64,
    }

    #[test]
    fn nested_struct_round_trips() {
        let drawing = Drawing {
            title: "plan".into(),
            note: Some("draft".into()),
            missing: None,
            shapes: vec![
                Shape::Empty,
                Shape::Circle(1.5),
                Shape::Rect(2, 3),
                Shape::Poly { sides: 6, label: None },
            ],
            layers: HashMap::from([("base".into(), vec![1, -1]), ("top".into(), vec![])]),
            origin: (-1, 127),
            width: Meters(40),
            marker: Marker,
            initial: 'é',
            scale: 0.25,
        };
        let expected = dict([
            ("title", Value::from("plan")),
            ("note", Value::from("draft")),
            ("missing", Value::Null),
            (
                "shapes",
                Value::List(vec![
                    Value::from("Empty"),
                    dict([("Circle", Value::Float(1.5))]),
                    dict([("Rect", Value::List(vec![Value::Int(2), Value::Int(3)]))]),
                    dict([("Poly", dict([("sides", Value::Int(6)), ("label", Value::Null)]))]),
                ]),
            ),
            (
                "layers",
                dict([
                    ("base", Value::List(vec![Value::Int(1), Value::Int(-1)])),
                    ("top", Value::List(vec![])),
                ]),
            ),
            ("origin", Value::List(vec![Value::Int(-1), Value::Int(127)])),
            ("width", Value::Int(40)),
            ("marker", Value::Null),
            ("initial", Value::from("é")),
            ("scale", Value::Float(0.25)),
        ]);
        round_trip(&drawing, expected);
    }

    #[test]
    fn missing_optional_fields_are_none() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Args {
            a: i32,
            b: Option<i32>,
        }
        let args: Args = from_value(dict([("a", Value::Int(1))])).unwrap();
        assert_eq!(args, Args { a: 1, b: None });
    }

    #[test]
    fn enum_variants_of_each_kind() {
        round_trip(&Shape::Empty, Value::from("Empty"));
        round_trip(&Shape::Circle(2.0), dict([("Circle", Value::Float(2.0))]));
        round_trip(&Shape::Rect(1, 2), dict([("Rect", Value::List(vec![Value::Int(1), Value::Int(2)]))]));
        round_trip(
            &Shape::Poly { sides: 3, label: Some("tri".into()) },
            dict([("Poly", dict([("sides", Value::Int(3)), ("label", Value::from("tri"))]))]),
        );
        // A unit variant may also be written with null content.
        let empty: Shape = from_value(dict([("Empty", Value::Null)])).unwrap();
        assert_eq!(empty, Shape::Empty);
    }

    #[test]
    fn scalars_and_unit() {
        round_trip(&(), Value::Null);
        round_trip(&Some(5u8), Value::Int(5));
        round_trip(&None::<u8>, Value::Null);
        round_trip(&'x', Value::from("x"));
        round_trip(&true, Value::Bool(true));
        round_trip(&-0.5f64, Value::Float(-0.5));
        round_trip(&1.5f32, Value::Float(1.5));
        round_trip(&String::from("hi"), Value::from("hi"));
        round_trip(
            &(1u8, "two".to_owned(), [3i16, 4]),
            Value::List(vec![
                Value::Int(1),
                Value::from("two"),
                Value::List(vec![Value::Int(3), Value::Int(4)]),
            ]),
        );
    }

    #[test]
    fn integer_edges() {
        round_trip(&i64::MIN, Value::Int(i64::MIN));
        round_trip(&i64::MAX, Value::Int(i64::MAX));
        round_trip(&u64::MAX, Value::UInt(u64::MAX));
        // Unsigned values that fit an i64 are `Int`, as `Value::from` does.
        assert!(matches!(to_value(&(i64::MAX as u64)), Ok(Value::Int(i64::MAX))));
        assert!(matches!(to_value(&u8::MAX), Ok(Value::Int(255))));
        assert_eq!(from_value::<u64>(Value::Int(7)), Ok(7));
        assert_eq!(from_value::<f64>(Value::Int(-3)), Ok(-3.0));
        assert_eq!(from_value::<f64>(Value::UInt(u64::MAX)), Ok(u64::MAX as f64));
        assert_eq!(to_value(&-1i128), Ok(Value::Int(-1)));
        assert_eq!(to_value(&u128::from(u64::MAX)), Ok(Value::UInt(u64::MAX)));
        assert_eq!(from_value::<i128>(Value::UInt(u64::MAX)), Ok(u64::MAX.into()));
        assert_eq!(
            to_value(&i128::MIN).unwrap_err().to_string(),
            format!("integer {} is out of range: WAMP integers have 64 bits", i128::MIN)
        );
    }

    #[test]
    fn wrong_types_give_serde_messages() {
        let err = |r: Result<_, ConvertError>| r.map(|_: ()| ()).unwrap_err().to_string();
        assert_eq!(
            from_value::<i64>(Value::from("abc")).unwrap_err().to_string(),
            "invalid type: string \"abc\", expected i64"
        );
        assert_eq!(
            from_value::<i8>(Value::Int(300)).unwrap_err().to_string(),
            "invalid value: integer `300`, expected i8"
        );
        assert_eq!(
            from_value::<u32>(Value::Int(-1)).unwrap_err().to_string(),
            "invalid value: integer `-1`, expected u32"
        );
        assert_eq!(
            from_value::<i64>(Value::Float(1.5)).unwrap_err().to_string(),
            "invalid type: floating point `1.5`, expected i64"
        );
        assert_eq!(
            from_value::<String>(Value::Null).unwrap_err().to_string(),
            "invalid type: null, expected a string"
        );
        assert_eq!(
            from_value::<String>(Value::List(vec![])).unwrap_err().to_string(),
            "invalid type: list, expected a string"
        );
        assert_eq!(
            from_value::<Vec<i32>>(dict([])).unwrap_err().to_string(),
            "invalid type: dictionary, expected a sequence"
        );
        assert_eq!(err(from_value(Value::Int(1))), "invalid type: integer `1`, expected unit");
        assert_eq!(
            from_value::<Shape>(Value::Int(1)).unwrap_err().to_string(),
            "invalid type: integer `1`, expected enum Shape"
        );
        assert_eq!(
            from_value::<Shape>(Value::from("Hexagon")).unwrap_err().to_string(),
            "unknown variant `Hexagon`, expected one of `Empty`, `Circle`, `Rect`, `Poly`"
        );
        assert_eq!(
            from_value::<Shape>(dict([("Empty", Value::Null), ("Rect", Value::Null)]))
                .unwrap_err()
                .to_string(),
            "invalid value: dictionary, expected a dictionary with exactly one entry, \
             {variant: content}"
        );
        assert_eq!(
            from_value::<Shape>(Value::from("Circle")).unwrap_err().to_string(),
            "invalid type: unit variant, expected newtype variant"
        );
        assert_eq!(from_value::<Drawing>(dict([])).unwrap_err().to_string(), "missing field `title`");
    }

    #[test]
    fn tuples_check_their_length() {
        let three = Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
        assert_eq!(
            from_value::<(i32, i32)>(three.clone()).unwrap_err().to_string(),
            "invalid length 3, expected a list of 2 elements"
        );
        assert_eq!(
            from_value::<(i32, i32, i32, i32)>(three).unwrap_err().to_string(),
            "invalid length 3, expected a tuple of size 4"
        );
    }

    #[test]
    fn map_keys_become_strings_and_back() {
        round_trip(
            &BTreeMap::from([(1u32, "one".to_owned()), (20, "twenty".to_owned())]),
            dict([("1", Value::from("one")), ("20", Value::from("twenty"))]),
        );
        round_trip(&BTreeMap::from([(-5i64, 0u8)]), dict([("-5", Value::Int(0))]));
        round_trip(
            &BTreeMap::from([(true, 1u8), (false, 0)]),
            dict([("false", Value::Int(0)), ("true", Value::Int(1))]),
        );
        round_trip(&BTreeMap::from([('k', 1u8)]), dict([("k", Value::Int(1))]));

        #[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
        enum Color {
            Red,
        }
        round_trip(&BTreeMap::from([(Color::Red, 1u8)]), dict([("Red", Value::Int(1))]));

        let err = to_value(&BTreeMap::from([((1, 2), 3)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "dictionary keys must be strings, integers, booleans or chars, found a tuple"
        );
        let err = from_value::<BTreeMap<u8, u8>>(dict([("x", Value::Int(1))])).unwrap_err();
        assert_eq!(err.to_string(), "invalid type: string \"x\", expected u8");
    }

    /// A byte string that serializes with `serialize_bytes`, as
    /// `serde_bytes::ByteBuf` does.
    #[derive(Debug, PartialEq)]
    struct Blob(Vec<u8>);

    impl Serialize for Blob {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for Blob {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct BlobVisitor;
            impl Visitor<'_> for BlobVisitor {
                type Value = Blob;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a byte string")
                }
                fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                    Ok(Blob(v.to_vec()))
                }
                fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                    Ok(Blob(v))
                }
            }
            d.deserialize_byte_buf(BlobVisitor)
        }
    }

    #[test]
    fn bytes_stay_bytes() {
        round_trip(&Blob(vec![0, 1, 255]), Value::Bytes(vec![0, 1, 255]));
        // A plain Vec<u8> is a list of integers, but reads a byte string too.
        let plain = vec![7u8, 8];
        assert_eq!(to_value(&plain), Ok(Value::List(vec![Value::Int(7), Value::Int(8)])));
        assert_eq!(from_value::<Vec<u8>>(Value::Bytes(plain.clone())), Ok(plain.clone()));
        assert_eq!(Vec::<u8>::deserialize(&Value::Bytes(plain.clone())), Ok(plain));
        assert_eq!(
            from_value::<Blob>(Value::from("ab")).unwrap_err().to_string(),
            "invalid type: string \"ab\", expected a byte string"
        );
    }

    #[test]
    fn values_pass_through_unchanged() {
        // Not human readable: bytes are not turned into base64 text, and a
        // string that looks like WAMP's JSON byte convention stays a string.
        let v = Value::List(vec![
            Value::Bytes(vec![1, 2]),
            Value::from("\u{0}AQI="),
            Value::UInt(u64::MAX),
            dict([("k", Value::Null)]),
        ]);
        assert_eq!(to_value(&v), Ok(v.clone()));
        assert_eq!(from_value::<Value>(v.clone()), Ok(v.clone()));
        assert_eq!(Value::deserialize(&v), Ok(v.clone()));
        assert!(!<Value as de::Deserializer<'_>>::is_human_readable(&v));
        assert!(!<&Value as de::Deserializer<'_>>::is_human_readable(&&v));
    }

    #[test]
    fn borrowed_values_lend_strings() {
        #[derive(Deserialize)]
        struct View<'a> {
            name: &'a str,
            #[serde(borrow)]
            tags: Vec<&'a str>,
        }
        let v = dict([("name", Value::from("alice")), ("tags", Value::List(vec![Value::from("x")]))]);
        let view = View::deserialize(&v).unwrap();
        assert_eq!((view.name, view.tags), ("alice", vec!["x"]));
        // An owned value cannot lend its strings.
        let err = <&str>::deserialize(Value::from("owned")).unwrap_err();
        assert_eq!(err.to_string(), "invalid type: string \"owned\", expected a borrowed string");
    }

    #[test]
    fn into_deserializer_works_for_both_forms() {
        let v = Value::Int(3);
        let n = u8::deserialize(IntoDeserializer::<ConvertError>::into_deserializer(&v));
        assert_eq!(n, Ok(3));
        let n = u8::deserialize(IntoDeserializer::<ConvertError>::into_deserializer(v));
        assert_eq!(n, Ok(3));
    }

    proptest! {
        #[test]
        fn round_trip_random_values(
            x in (
                any::<i64>(),
                any::<String>(),
                proptest::collection::vec(any::<u32>(), 0..8),
                any::<Option<bool>>(),
                proptest::collection::btree_map(
                    any::<String>(),
                    proptest::num::f64::POSITIVE
                        | proptest::num::f64::NEGATIVE
                        | proptest::num::f64::NORMAL
                        | proptest::num::f64::SUBNORMAL
                        | proptest::num::f64::ZERO,
                    0..6,
                ),
            )
        ) {
            let v = to_value(&x).unwrap();
            let borrowed: (i64, String, Vec<u32>, Option<bool>, BTreeMap<String, f64>) =
                Deserialize::deserialize(&v).unwrap();
            prop_assert_eq!(&borrowed, &x);
            prop_assert_eq!(from_value::<(i64, String, Vec<u32>, Option<bool>, BTreeMap<String, f64>)>(v).unwrap(), x);
        }
    }
}
