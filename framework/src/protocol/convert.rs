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

mod deserialize;
mod serialize;
#[cfg(test)]
mod tests;

use std::fmt::{self, Display};

use serde::de::{self, DeserializeOwned, Unexpected};
use serde::ser::{self, Serialize};

use super::value::Value;
use serialize::ValueSerializer;

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
