//! One serde serializer for both wire formats, for our own types
//! ([`WampMessage`](super::WampMessage), [`Value`](super::Value)).
//!
//! `serde_json` escapes strings one byte at a time and `rmp-serde` goes
//! through a generic compound writer for every list: for a small call, a
//! tenth of the router's work. Our messages only hold integers, floats,
//! booleans, null, text, bytes, lists and dictionaries, so one serializer
//! writes them, and a [`Format`] says how each looks in JSON
//! ([`Json`](super::json::Json)) or MessagePack
//! ([`MsgPack`](super::msgpack::MsgPack)). The bytes are exactly those of
//! `serde_json` and `rmp-serde` (tests and the decoding fuzz targets
//! compare); anything that is not a WAMP value is refused.

use std::fmt;

use serde::ser::{self, Serialize};

/// How values look in one wire format.
pub(crate) trait Format {
    /// Whether byte strings are written as text ([`Value::Bytes`](super::Value::Bytes)
    /// asks the serializer).
    const HUMAN_READABLE: bool;

    fn null(out: &mut Vec<u8>) -> Result<(), Error>;
    fn bool(out: &mut Vec<u8>, v: bool) -> Result<(), Error>;
    fn int(out: &mut Vec<u8>, v: i64) -> Result<(), Error>;
    fn uint(out: &mut Vec<u8>, v: u64) -> Result<(), Error>;
    fn float(out: &mut Vec<u8>, v: f64) -> Result<(), Error>;
    fn string(out: &mut Vec<u8>, v: &str) -> Result<(), Error>;
    fn bytes(out: &mut Vec<u8>, v: &[u8]) -> Result<(), Error>;
    fn open_list(out: &mut Vec<u8>, len: Option<usize>) -> Result<(), Error>;
    fn open_dict(out: &mut Vec<u8>, len: Option<usize>) -> Result<(), Error>;
    /// Before each element of a list, and each key of a dictionary.
    fn separate(out: &mut Vec<u8>, first: bool);
    /// Whether a value that starts with `first_byte` is text (the only
    /// dictionary keys there are).
    fn is_text(first_byte: u8) -> bool;
    /// Between a key and its value.
    fn after_key(out: &mut Vec<u8>);
    fn close_list(out: &mut Vec<u8>);
    fn close_dict(out: &mut Vec<u8>);
}

/// Writes `value` in the format `F`, appending to `out`.
pub(crate) fn to_writer<F: Format, T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), Error> {
    value.serialize(Writer::<F> { out, format: std::marker::PhantomData })
}

/// A value that is not a WAMP value, or a list of unknown length where
/// the format needs it.
#[derive(Debug)]
pub(crate) struct Error(String);

impl Error {
    pub(crate) fn new(message: String) -> Self {
        Error(message)
    }

    pub(crate) fn not_a_wamp_value(what: &str) -> Self {
        Error(format!("{what} is not a WAMP value"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Error(message.to_string())
    }
}

struct Writer<'a, F> {
    out: &'a mut Vec<u8>,
    format: std::marker::PhantomData<F>,
}

impl<'a, F> Writer<'a, F> {
    fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out, format: std::marker::PhantomData }
    }
}

/// A list or dictionary being written: whether an element came yet.
struct Compound<'a, F> {
    out: &'a mut Vec<u8>,
    first: bool,
    format: std::marker::PhantomData<F>,
}

impl<F: Format> Compound<'_, F> {
    fn separate(&mut self) {
        F::separate(self.out, std::mem::take(&mut self.first));
    }
}

impl<'a, F: Format> ser::Serializer for Writer<'a, F> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a, F>;
    type SerializeTuple = Compound<'a, F>;
    type SerializeTupleStruct = ser::Impossible<(), Error>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Compound<'a, F>;
    type SerializeStruct = ser::Impossible<(), Error>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn is_human_readable(&self) -> bool {
        F::HUMAN_READABLE
    }
    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        F::bool(self.out, v)
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        F::int(self.out, v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        F::uint(self.out, v)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        Err(Error::not_a_wamp_value("a 32-bit float"))
    }
    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        F::float(self.out, v)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        F::string(self.out, v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        F::bytes(self.out, v)
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        F::null(self.out)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Error> {
        Err(Error::not_a_wamp_value("an enum variant"))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(Error::not_a_wamp_value("an enum variant"))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'a, F>, Error> {
        F::open_list(self.out, len)?;
        Ok(Compound { out: self.out, first: true, format: std::marker::PhantomData })
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'a, F>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::not_a_wamp_value("a tuple struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::not_a_wamp_value("an enum variant"))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'a, F>, Error> {
        F::open_dict(self.out, len)?;
        Ok(Compound { out: self.out, first: true, format: std::marker::PhantomData })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error::not_a_wamp_value("a struct"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::not_a_wamp_value("an enum variant"))
    }
}

impl<F: Format> ser::SerializeSeq for Compound<'_, F> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.separate();
        value.serialize(Writer::<F>::new(self.out))
    }
    fn end(self) -> Result<(), Error> {
        F::close_list(self.out);
        Ok(())
    }
}

impl<F: Format> ser::SerializeTuple for Compound<'_, F> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> Result<(), Error> {
        ser::SerializeSeq::end(self)
    }
}

impl<F: Format> ser::SerializeMap for Compound<'_, F> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.separate();
        // Keys are text: anything else written is taken back.
        let start = self.out.len();
        key.serialize(Writer::<F>::new(self.out))?;
        if !self.out.get(start).is_some_and(|first| F::is_text(*first)) {
            self.out.truncate(start);
            return Err(Error("a dictionary key must be text".into()));
        }
        F::after_key(self.out);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(Writer::<F>::new(self.out))
    }
    fn end(self) -> Result<(), Error> {
        F::close_dict(self.out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::Json;
    use crate::protocol::msgpack::MsgPack;
    use crate::protocol::{Dict, Value};

    /// Our writing of `value` is byte for byte that of `serde_json` and of
    /// `rmp-serde`.
    fn writes_as_the_reference<T: Serialize + ?Sized + fmt::Debug>(value: &T) {
        let mut json = Vec::new();
        to_writer::<Json, _>(&mut json, value).unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let reference = serde_json::to_vec(value).unwrap_or_else(|e| panic!("{value:?}: serde_json: {e}"));
        assert_eq!(String::from_utf8_lossy(&json), String::from_utf8_lossy(&reference), "{value:?}");
        let mut msgpack = Vec::new();
        to_writer::<MsgPack, _>(&mut msgpack, value).unwrap_or_else(|e| panic!("{value:?}: {e}"));
        let reference = rmp_serde::to_vec(value).unwrap_or_else(|e| panic!("{value:?}: rmp-serde: {e}"));
        assert_eq!(msgpack, reference, "{value:?}");
    }

    #[test]
    fn values_are_written_as_serde_json_and_rmp_serde_write_them() {
        let mut values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::UInt(u64::MAX),
            Value::Int(-1),
            Value::Int(-33),
            Value::Int(-129),
            Value::Int(128),
            Value::Int(65_536),
            Value::Int(i64::from(u32::MAX) + 1),
            Value::Bytes(vec![]),
            Value::Bytes(vec![0, 1, 2, 255]),
            Value::List(vec![]),
            Value::Dict(Dict::new()),
        ];
        for f in [
            0.0,
            -0.0,
            0.1,
            1.5,
            -2.25e-300,
            1e300,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
        ] {
            values.push(Value::Float(f));
        }
        // Every ASCII character alone, at the start, middle and end of
        // strings long enough to cross a sixteen-byte block; and text past
        // ASCII.
        for byte in 0u8..0x80 {
            let c = char::from(byte);
            for text in [
                c.to_string(),
                format!("{c}{}", "a".repeat(20)),
                format!("{}{c}{}", "b".repeat(15), "c".repeat(3)),
                format!("{}{c}", "d".repeat(31)),
            ] {
                values.push(Value::String(text));
            }
        }
        values.push(Value::String("caf\u{e9} \u{1f600} \u{2028}".into()));
        for len in [31, 32, 255, 256, 65_536] {
            values.push(Value::String("s".repeat(len)));
            values.push(Value::Bytes(vec![1; len]));
            values.push(Value::List(vec![Value::Null; len.min(20_000)]));
        }
        values.push(Value::String("\"\\\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}".repeat(5)));
        let mut dict = Dict::new();
        for (i, value) in values.iter().enumerate() {
            dict.insert(format!("key \"{i}\"\n"), value.clone());
        }
        let nested = Value::List(vec![Value::Dict(dict.clone()), Value::List(values.clone())]);
        for value in values.iter().chain([&Value::Dict(dict), &nested]) {
            writes_as_the_reference(value);
        }
    }

    #[test]
    fn messages_are_written_as_serde_json_and_rmp_serde_write_them() {
        use crate::protocol::{Payload, WampMessage};
        let mut details = Dict::new();
        details.insert("progress".into(), Value::Bool(true));
        details.insert("caller".into(), Value::Int(7));
        let messages = [
            WampMessage::Call {
                request: 1,
                options: Dict::new(),
                procedure: "com.example.add".into(),
                payload: Payload::args(vec![Value::from(1), Value::from("two \"quoted\"")]),
            },
            WampMessage::Result { request: u64::MAX >> 11, details, payload: Payload::default() },
            WampMessage::Hello { realm: "realm1".into(), details: Dict::new() },
            WampMessage::Abort { details: Dict::new(), reason: "wamp.error.no_such_realm".into() },
        ];
        for message in &messages {
            writes_as_the_reference(message);
        }
    }

    #[test]
    fn a_key_that_is_not_text_is_refused() {
        let mut map = std::collections::BTreeMap::new();
        map.insert(1u32, 2u32);
        let mut out = b"[".to_vec();
        assert!(to_writer::<Json, _>(&mut out, &map).is_err());
        assert!(to_writer::<MsgPack, _>(&mut out, &map).is_err());
    }
}
