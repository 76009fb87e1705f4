//! Arguments that stay Rust values between two sessions of one process.
//!
//! A typed client calling a component in the same process, and a
//! component's procedure answering it, pass their arguments as the Rust
//! values they are ([`Payload::Native`](super::Payload::Native)): the
//! callee takes the caller's tuple, and the caller the callee's result,
//! without a conversion to [`Value`]s and back. The values are converted
//! only where WAMP values are needed: for a peer in another process, for
//! a reader that expects other types, for flow accounting of a queued
//! message, or for a comparison. The conversion is the one the value path
//! makes (each element of the tuple one positional argument; a result one
//! positional argument, none for `()`), so a reader sees the same
//! arguments either way, and it is made once per payload.
//!
//! Only the framework's generated code makes native payloads (a public
//! constructor would let a publication reach many subscribers as one
//! shared value); sessions outside the process never receive them.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

use super::convert::{to_value, ConvertError};
use super::{Dict, List, Value};

/// Arguments held as a Rust value (see the [module docs](self)). The
/// arguments are converted to [`Value`]s when first read as values, and
/// kept; a clone holds those values.
pub struct NativePayload {
    value: Box<dyn Native>,
    values: OnceLock<Box<Result<(List, Dict), ConvertError>>>,
}

/// A value of some type behind [`NativePayload`], with how it becomes
/// WAMP arguments.
trait Native: Send + Sync + 'static {
    fn convert(&self) -> Result<(List, Dict), ConvertError>;
    /// The Rust type held, for `Debug`.
    fn type_name(&self) -> &'static str;
    /// The value, if it is of the type `wanted`; otherwise itself back.
    /// One type check where `Any`'s `is` and `downcast` would make two.
    fn take_if(self: Box<Self>, wanted: TypeId) -> Result<Box<dyn Any>, Box<dyn Native>>;
}

/// A tuple whose elements are the positional arguments.
struct Spread<T>(T);

/// A value that is one positional argument (none if it converts to null,
/// as `()` does): a procedure's result.
struct Single<T>(T);

/// Arguments already converted (what a clone holds).
struct Converted(Result<(List, Dict), ConvertError>);

/// The positional arguments a tuple stands for: one per element (a value
/// that is not a tuple is one argument, `()` none).
pub(crate) fn spread_values<T: Serialize + ?Sized>(tuple: &T) -> Result<List, ConvertError> {
    Ok(match to_value(tuple)? {
        Value::List(args) => args,
        Value::Null => List::new(),
        other => vec![other],
    })
}

/// The positional arguments a procedure's result stands for: the value
/// as one argument, none for `()` (or anything else that is null).
pub(crate) fn single_values<T: Serialize + ?Sized>(value: &T) -> Result<List, ConvertError> {
    Ok(match to_value(value)? {
        Value::Null => List::new(),
        other => vec![other],
    })
}

macro_rules! native {
    ($shape:ident, $convert:expr, $name:expr) => {
        impl<T: Serialize + Send + Sync + 'static> Native for $shape<T> {
            fn convert(&self) -> Result<(List, Dict), ConvertError> {
                Ok(($convert(&self.0)?, Dict::new()))
            }

            fn type_name(&self) -> &'static str {
                $name
            }

            fn take_if(self: Box<Self>, wanted: TypeId) -> Result<Box<dyn Any>, Box<dyn Native>> {
                if TypeId::of::<Self>() == wanted {
                    Ok(self)
                } else {
                    Err(self)
                }
            }
        }
    };
}

native!(Spread, spread_values, std::any::type_name::<T>());
native!(Single, single_values, std::any::type_name::<T>());

impl Native for Converted {
    fn convert(&self) -> Result<(List, Dict), ConvertError> {
        self.0.clone()
    }

    fn type_name(&self) -> &'static str {
        "converted"
    }

    fn take_if(self: Box<Self>, _: TypeId) -> Result<Box<dyn Any>, Box<dyn Native>> {
        // Nothing takes the values a clone holds as a Rust value.
        Err(self)
    }
}

impl NativePayload {
    fn hold(value: Box<dyn Native>) -> Self {
        NativePayload { value, values: OnceLock::new() }
    }

    /// Positional arguments: the elements of `tuple`.
    pub(crate) fn spread<T: Serialize + Send + Sync + 'static>(tuple: T) -> Self {
        Self::hold(Box::new(Spread(tuple)))
    }

    /// One positional argument (none if `value` converts to null): a
    /// procedure's result.
    pub(crate) fn single<T: Serialize + Send + Sync + 'static>(value: T) -> Self {
        Self::hold(Box::new(Single(value)))
    }

    /// The tuple of positional arguments, if it is a `T` made by
    /// [`NativePayload::spread`]; otherwise the payload back. (A reader
    /// needs `T` only to be `'static`: it may deserialize what the sender
    /// serializes.)
    pub(crate) fn take_spread<T: 'static>(self) -> Result<T, Self> {
        self.take::<Spread<T>>().map(|Spread(tuple)| tuple)
    }

    /// The value, if it is a `T` made by [`NativePayload::single`];
    /// otherwise the payload back.
    pub(crate) fn take_single<T: 'static>(self) -> Result<T, Self> {
        self.take::<Single<T>>().map(|Single(value)| value)
    }

    #[inline(always)]
    fn take<S: 'static>(self) -> Result<S, Self> {
        let NativePayload { value, values } = self;
        match value.take_if(TypeId::of::<S>()) {
            Ok(value) => {
                // Nothing read the value as WAMP values yet, as a rule:
                // taking the cache out is one check, where dropping the
                // cell is a call.
                drop(values.into_inner());
                // `take_if` checked the type: `downcast` cannot fail (if
                // it did, the payload would read as no arguments).
                value.downcast::<S>().map(|value| *value).map_err(|_| NativePayload::spread(()))
            }
            Err(value) => Err(NativePayload { value, values }),
        }
    }

    fn converted(&self) -> &Result<(List, Dict), ConvertError> {
        self.values.get_or_init(|| Box::new(self.value.convert()))
    }

    /// The arguments as WAMP values (converted on first use, then kept).
    pub fn values(&self) -> Result<(&List, &Dict), ConvertError> {
        match self.converted() {
            Ok((args, kwargs)) => Ok((args, kwargs)),
            Err(e) => Err(e.clone()),
        }
    }

    /// The arguments as WAMP values, taken out.
    pub fn into_values(self) -> Result<(List, Dict), ConvertError> {
        match self.values.into_inner() {
            Some(values) => *values,
            None => self.value.convert(),
        }
    }
}

impl Clone for NativePayload {
    /// A clone holds the converted arguments: the value itself moves to
    /// one reader only.
    fn clone(&self) -> Self {
        NativePayload::hold(Box::new(Converted(self.converted().clone())))
    }
}

impl fmt::Debug for NativePayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NativePayload").field(&self.value.type_name()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::payload::result_payload;
    use crate::client::{Arguments, IntoArguments};

    #[derive(Serialize, Debug, PartialEq)]
    struct Point {
        x: i32,
        y: i32,
    }

    #[test]
    fn a_tuple_converts_as_the_typed_client_would_send_it() {
        let native = NativePayload::spread((2i64, "three".to_owned(), Point { x: 1, y: 2 }, None::<u8>));
        let sent = Arguments::new()
            .arg(2i64)
            .and_then(|a| a.arg("three"))
            .and_then(|a| a.arg(Point { x: 1, y: 2 }))
            .and_then(|a| a.arg(None::<u8>))
            .expect("arguments");
        let (args, kwargs) = native.values().expect("converts");
        assert_eq!(args, &sent.args);
        assert_eq!(kwargs, &sent.kwargs);
        assert_eq!((2i64, 3i64).into_payload().expect("payload").into_parts().0, {
            NativePayload::spread((2i64, 3i64)).into_values().expect("converts").0
        });
    }

    #[test]
    fn a_result_converts_as_a_procedure_result_does() {
        for (native, value) in [
            (NativePayload::single(5i64), result_payload(&5i64)),
            (NativePayload::single(()), result_payload(&())),
            (NativePayload::single(vec![1, 2]), result_payload(&vec![1, 2])),
        ] {
            let expected = value.expect("payload").into_parts();
            assert_eq!(native.into_values().expect("converts"), expected);
        }
    }

    #[test]
    fn the_value_is_taken_only_as_its_own_type_and_shape() {
        let native = NativePayload::spread((2i64, 3i64));
        let native = native.take_spread::<(i32, i32)>().expect_err("another type");
        let native = native.take_single::<(i64, i64)>().expect_err("another shape");
        assert_eq!(native.take_spread::<(i64, i64)>().expect("its own type"), (2, 3));
        assert_eq!(NativePayload::single(7u8).take_single::<u8>().expect("its own type"), 7);
    }

    #[test]
    fn a_clone_holds_the_values_and_the_original_keeps_its_value() {
        let native = NativePayload::single("kept".to_owned());
        let copy = native.clone();
        assert_eq!(copy.values().expect("converts").0, &vec![Value::from("kept")]);
        assert!(copy.take_single::<String>().is_err(), "a clone holds values only");
        assert_eq!(native.take_single::<String>().expect("the original"), "kept");
    }

    #[test]
    fn values_taken_out_are_the_ones_read() {
        let native = NativePayload::spread((1u8, "two"));
        let read = native.values().expect("converts").0.clone();
        assert_eq!(native.into_values().expect("converts").0, read);
        assert_eq!(NativePayload::spread((1u8, "two")).into_values().expect("converts").0, read);
    }

    #[test]
    fn a_value_that_cannot_convert_says_why() {
        let mut map = std::collections::BTreeMap::new();
        map.insert((1, 2), "a tuple key");
        let native = NativePayload::single(map);
        let error = native.values().expect_err("tuple keys are not WAMP keys");
        assert!(!error.to_string().is_empty());
        assert!(format!("{native:?}").contains("BTreeMap"), "{native:?}");
    }
}
