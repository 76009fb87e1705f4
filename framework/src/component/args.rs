//! Reading a call's arguments into a method's parameters: each parameter
//! from its position in `args`, or by name from `kwargs`; `Option`
//! parameters may be absent. Used by the code the component macros
//! generate; the errors name the parameter.

use serde::de::DeserializeOwned;

use crate::protocol::{from_value, Dict, Payload, Value};
use crate::Error;

/// The arguments of one call or event, taken parameter by parameter.
#[derive(Debug)]
pub struct ParameterReader {
    args: std::vec::IntoIter<Value>,
    positional: usize,
    kwargs: Dict,
}

impl ParameterReader {
    /// Reads from a payload (a transparent payload is one bytes
    /// argument).
    pub fn new(payload: Payload) -> Self {
        let (args, kwargs) = payload.into_parts();
        ParameterReader { positional: args.len(), args: args.into_iter(), kwargs }
    }

    /// The next parameter, called `name`: the next positional argument if
    /// any are left, else the keyword argument `name`, else (for types that
    /// accept null, such as `Option`) null.
    ///
    /// ```
    /// use wamp::__private::ParameterReader;
    /// use wamp::protocol::{Dict, Payload, Value};
    /// let kwargs = Dict::from([("y".to_owned(), Value::from(3))]);
    /// let mut a = ParameterReader::new(Payload::new(vec![Value::from(2)], kwargs));
    /// let x: i64 = a.next("x").unwrap();
    /// let y: i64 = a.next("y").unwrap();
    /// let z: Option<i64> = a.next("z").unwrap();
    /// assert_eq!((x, y, z), (2, 3, None));
    /// a.finish().unwrap();
    /// ```
    pub fn next<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, Error> {
        let (value, missing) = match self.args.next() {
            Some(v) => {
                if !self.kwargs.is_empty() && self.kwargs.contains_key(name) {
                    return Err(misfit(name, Misfit::Twice));
                }
                (v, false)
            }
            None => match self.kwargs.remove(name) {
                Some(v) => (v, false),
                None => (Value::Null, true),
            },
        };
        match from_value::<T>(value) {
            Ok(v) => Ok(v),
            Err(_) if missing => Err(misfit(name, Misfit::Missing)),
            Err(e) => Err(misfit(name, Misfit::Type(e))),
        }
    }

    /// Every keyword argument not taken yet, as one value (a
    /// `#[wamp(kwargs)]` parameter: a struct filled by field name, or a
    /// map).
    ///
    /// ```
    /// use wamp::__private::ParameterReader;
    /// use wamp::protocol::{Dict, Payload, Value};
    ///
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// struct Filter { min: i64, label: Option<String> }
    ///
    /// let kwargs = Dict::from([("limit".to_owned(), Value::from(5)), ("min".to_owned(), Value::from(2))]);
    /// let mut a = ParameterReader::new(Payload::new(vec![], kwargs));
    /// let limit: i64 = a.next("limit").unwrap();
    /// let filter: Filter = a.rest().unwrap();
    /// assert_eq!((limit, filter), (5, Filter { min: 2, label: None }));
    /// a.finish().unwrap();
    /// ```
    pub fn rest<T: DeserializeOwned>(&mut self) -> Result<T, Error> {
        let kwargs = std::mem::take(&mut self.kwargs);
        from_value::<T>(Value::Dict(kwargs))
            .map_err(|e| Error::invalid_argument(format!("keyword arguments: {e}")))
    }

    /// Checks nothing was left over: more positional arguments than
    /// parameters, or keyword arguments no parameter takes.
    pub fn finish(self) -> Result<(), Error> {
        let extra = self.args.len();
        if extra > 0 {
            let expected = self.positional - extra;
            return Err(Error::invalid_argument(format!(
                "{} positional arguments given, at most {expected} expected",
                self.positional
            )));
        }
        // An empty map is the usual case, told apart without setting up an
        // iteration.
        if !self.kwargs.is_empty() {
            if let Some(name) = self.kwargs.keys().next() {
                return Err(Error::invalid_argument(format!("unexpected keyword argument '{name}'")));
            }
        }
        Ok(())
    }
}

/// Why a parameter could not be read.
enum Misfit {
    Twice,
    Missing,
    Type(crate::protocol::ConvertError),
}

/// The error for parameter `name` (out of line: reading a parameter that
/// fits is the hot path, and the formatting made it pay for this).
#[cold]
#[inline(never)]
fn misfit(name: &str, why: Misfit) -> Error {
    Error::invalid_argument(match why {
        Misfit::Twice => format!("argument '{name}' is given both by position and by name"),
        Misfit::Missing => format!("missing argument '{name}'"),
        Misfit::Type(e) => format!("argument '{name}': {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(values: &[Value], kwargs: &[(&str, Value)]) -> ParameterReader {
        let kwargs = kwargs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        ParameterReader::new(Payload::new(values.to_vec(), kwargs))
    }

    #[test]
    fn wrong_types_name_the_parameter() {
        let mut a = args(&[Value::from("two")], &[]);
        let err = a.next::<i64>("x").unwrap_err();
        assert_eq!(err.uri, crate::protocol::errors::INVALID_ARGUMENT);
        assert_eq!(err.message(), Some("argument 'x': invalid type: string \"two\", expected i64"));
    }

    #[test]
    fn missing_and_extra_arguments() {
        let mut a = args(&[], &[]);
        assert_eq!(a.next::<i64>("x").unwrap_err().message(), Some("missing argument 'x'"));
        let mut a = args(&[1.into(), 2.into(), 3.into()], &[]);
        let _: i64 = a.next("x").unwrap();
        let _: i64 = a.next("y").unwrap();
        assert_eq!(
            a.finish().unwrap_err().message(),
            Some("3 positional arguments given, at most 2 expected")
        );
        let a = args(&[], &[("nope", 1.into())]);
        assert_eq!(a.finish().unwrap_err().message(), Some("unexpected keyword argument 'nope'"));
    }

    #[test]
    fn the_same_argument_twice_is_an_error() {
        let mut a = args(&[1.into()], &[("x", 2.into())]);
        assert!(a.next::<i64>("x").is_err());
    }
}
