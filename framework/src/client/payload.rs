//! Typed values in and out of WAMP payloads.
//!
//! Arguments go out through serde: a tuple or list becomes positional
//! arguments, a struct or map keyword arguments, `()` nothing, and any
//! other value a single positional argument. Results come back the same
//! way round: one positional argument is the value itself, several are a
//! list, keyword arguments alone are a map. [`Arguments`] gives full
//! control of both.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::protocol::{from_value, to_value, Dict, List, Payload, Value};
use crate::Error;

/// Positional and keyword arguments, for full control of a payload.
///
/// ```
/// use wamp::client::Arguments;
/// let r = Arguments::new().arg(5).unwrap().kwarg("unit", "cm").unwrap();
/// assert_eq!(r.get::<i64>(0).unwrap(), 5);
/// assert_eq!(r.get_kw::<String>("unit").unwrap(), "cm");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Arguments {
    /// Positional arguments.
    pub args: List,
    /// Keyword arguments.
    pub kwargs: Dict,
}

impl Arguments {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a positional argument.
    pub fn arg(mut self, value: impl Serialize) -> Result<Self, Error> {
        self.args.push(to_value(&value)?);
        Ok(self)
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, name: impl Into<String>, value: impl Serialize) -> Result<Self, Error> {
        self.kwargs.insert(name.into(), to_value(&value)?);
        Ok(self)
    }

    /// Positional argument `index`, converted.
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<T, Error> {
        let value = self.args.get(index).cloned().unwrap_or(Value::Null);
        from_value(value).map_err(|e| Error::invalid(format!("positional result {index}: {e}")))
    }

    /// Keyword argument `name`, converted.
    pub fn get_kw<T: DeserializeOwned>(&self, name: &str) -> Result<T, Error> {
        let value = self.kwargs.get(name).cloned().unwrap_or(Value::Null);
        from_value(value).map_err(|e| Error::invalid(format!("keyword result '{name}': {e}")))
    }

    /// As a payload.
    pub fn into_payload(self) -> Payload {
        Payload::new(self.args, self.kwargs)
    }

    /// From a payload (a transparent payload becomes one bytes argument).
    pub fn from_payload(payload: Payload) -> Self {
        let (args, kwargs) = payload.into_parts();
        Arguments { args, kwargs }
    }
}

/// A value that travels as keyword arguments: its fields (a struct's, or
/// a map's entries) are the `kwargs`, with no positional arguments.
///
/// A procedure returning `Kwargs<T>` (or `Result<Kwargs<T>, E>`) answers
/// with keyword arguments, as peers that read results by name expect,
/// instead of one positional argument holding `T`. A caller reads such a
/// result back as `Kwargs<T>` (or as `T`): keyword arguments alone read
/// as a map. A result that also has positional arguments is read with
/// [`Session::call_with`](crate::Session::call_with) and
/// [`Arguments::get_kw`]. As a call's or a publication's arguments it is
/// the same as `T` itself, which a struct already is.
///
/// ```
/// use wamp::client::{from_payload, Arguments, Kwargs};
///
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// struct Stock { item: String, count: u32 }
///
/// let payload = Kwargs(Stock { item: "lamp".into(), count: 3 }).into_payload().unwrap();
/// let seen = Arguments::from_payload(payload.clone());
/// assert!(seen.args.is_empty());
/// assert_eq!(seen.get_kw::<u32>("count").unwrap(), 3);
/// let Kwargs(stock) = from_payload::<Kwargs<Stock>>(payload).unwrap();
/// assert_eq!(stock, Stock { item: "lamp".into(), count: 3 });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Kwargs<T>(pub T);

impl<T> Kwargs<T> {
    /// The value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: Serialize> Kwargs<T> {
    /// As a payload of keyword arguments only; fails if `T` does not
    /// serialize to a map (a struct or a map; `()` and `None` give none).
    pub fn into_payload(self) -> Result<Payload, Error> {
        kwargs_payload(&self.0)
    }
}

impl<T> std::ops::Deref for Kwargs<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Kwargs<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// `value` as keyword arguments only (see [`Kwargs`]).
pub(crate) fn kwargs_payload<T: Serialize + ?Sized>(value: &T) -> Result<Payload, Error> {
    match to_value(value)? {
        Value::Dict(kwargs) => Ok(Payload::new(List::new(), kwargs)),
        Value::Null => Ok(Payload::default()),
        other => Err(Error::invalid(format!(
            "keyword arguments must serialize to a map (a struct or a map), not {}",
            other.kind()
        ))),
    }
}

/// What goes out as the arguments of a call, a publication or a
/// progressive call's input: any `Serialize` value (a tuple or list as
/// positional arguments, a struct or map as keyword arguments, `()` as
/// none, anything else as one positional argument), or [`Arguments`] for
/// both at once.
///
/// ```
/// use wamp::client::{Arguments, IntoArguments};
///
/// fn args(value: impl IntoArguments) -> Arguments {
///     Arguments::from_payload(value.into_payload().unwrap())
/// }
/// assert_eq!(args((2, "three")).args.len(), 2);
/// #[derive(serde::Serialize)]
/// struct Point { x: i32, y: i32 }
/// assert_eq!(args(Point { x: 1, y: 2 }).kwargs.len(), 2);
/// let both = Arguments::new().arg(5).unwrap().kwarg("unit", "cm").unwrap();
/// assert_eq!(args(both.clone()), both);
/// ```
pub trait IntoArguments {
    /// The arguments as a payload.
    fn into_payload(self) -> Result<Payload, Error>;
}

impl<T: Serialize> IntoArguments for T {
    fn into_payload(self) -> Result<Payload, Error> {
        to_payload(&self)
    }
}

impl IntoArguments for Arguments {
    fn into_payload(self) -> Result<Payload, Error> {
        Ok(Arguments::into_payload(self))
    }
}

impl IntoArguments for Payload {
    fn into_payload(self) -> Result<Payload, Error> {
        Ok(self)
    }
}

/// Turns any serializable value into a payload (see the module docs).
///
/// ```
/// use wamp::client::to_payload;
/// assert_eq!(to_payload(&(2, 3)).unwrap().args_list().len(), 2);
/// assert!(to_payload(&()).unwrap().is_empty());
/// ```
pub fn to_payload<T: Serialize + ?Sized>(value: &T) -> Result<Payload, Error> {
    Ok(match to_value(value)? {
        Value::Null => Payload::default(),
        Value::List(args) => Payload::args(args),
        Value::Dict(kwargs) => Payload::new(List::new(), kwargs),
        other => Payload::args(vec![other]),
    })
}

/// Reads a typed value out of a payload (see the module docs).
///
/// ```
/// use wamp::client::from_payload;
/// use wamp::protocol::{Payload, Value};
/// let n: i64 = from_payload(Payload::args(vec![Value::from(5)])).unwrap();
/// assert_eq!(n, 5);
/// ```
pub fn from_payload<T: DeserializeOwned>(payload: Payload) -> Result<T, Error> {
    let (mut args, kwargs) = payload.into_parts();
    let value = match (args.len(), kwargs.is_empty()) {
        (0, true) => Value::Null,
        (0, false) => Value::Dict(kwargs),
        (1, _) => args.pop().unwrap_or_default(),
        _ => Value::List(args),
    };
    from_value(value).map_err(misfit)
}

/// A call's result as `T`: taken as it is when the procedure returned a
/// `T` within this process ([`Payload::Native`]), converted otherwise, as
/// [`from_payload`] does.
#[inline(always)]
pub(crate) fn result_as<T: DeserializeOwned + 'static>(payload: Payload) -> Result<T, Error> {
    match payload {
        Payload::Native(native) => match native.take_single::<T>() {
            Ok(value) => Ok(value),
            Err(native) => from_payload(Payload::Native(native).materialize()?),
        },
        other => from_payload(other),
    }
}

/// The error for a result that does not fit (out of line, apart from the
/// hot path).
#[cold]
#[inline(never)]
fn misfit(e: crate::protocol::ConvertError) -> Error {
    Error::invalid(format!("the result does not fit the expected type: {e}"))
}

/// Serializes a procedure's return value into a YIELD payload: `()` is
/// nothing, anything else one positional argument.
pub fn result_payload<T: Serialize + ?Sized>(value: &T) -> Result<Payload, Error> {
    Ok(Payload::args(crate::protocol::native::single_values(value)?))
}
