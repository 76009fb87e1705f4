//! [`Value`] → Rust value: `Value` and `&Value` as serde deserializers,
//! behind [`from_value`](super::from_value).

use std::borrow::Cow;

use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, Unexpected, VariantAccess,
    Visitor,
};

use serde::Deserialize;

use super::{unexpected, ConvertError};
use crate::protocol::value::Value;

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
