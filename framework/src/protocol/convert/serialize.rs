//! Rust value → [`Value`]: the serializer behind
//! [`to_value`](super::to_value).

use serde::ser::{self, Impossible, Serialize};

use super::ConvertError;
use crate::protocol::{Dict, List, Value};

/// The serializer behind [`to_value`].
pub(super) struct ValueSerializer;

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
pub(super) struct ListBuilder {
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
pub(super) struct TupleVariantBuilder {
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
pub(super) struct DictBuilder {
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
pub(super) struct StructVariantBuilder {
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
pub(super) struct KeySerializer;

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
