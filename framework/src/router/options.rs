//! Reading options and details dictionaries with type checks.

use crate::protocol::{Dict, Value};

/// An option is present but has the wrong type: the sender broke the
/// protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}.{key} must be {expected}, got {got}")]
pub struct OptionTypeError {
    /// `PUBLISH.Options`, `CALL.Options`, ...
    pub message: &'static str,
    /// The option name.
    pub key: &'static str,
    /// The expected type.
    pub expected: &'static str,
    /// The type received.
    pub got: &'static str,
}

/// A boolean option, `default` when absent.
pub fn bool_option(
    dict: &Dict,
    message: &'static str,
    key: &'static str,
    default: bool,
) -> Result<bool, OptionTypeError> {
    match dict.get(key) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(OptionTypeError { message, key, expected: "a boolean", got: other.kind() }),
    }
}

/// A string option, `None` when absent.
pub fn str_option<'a>(
    dict: &'a Dict,
    message: &'static str,
    key: &'static str,
) -> Result<Option<&'a str>, OptionTypeError> {
    match dict.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(OptionTypeError { message, key, expected: "a string", got: other.kind() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_lookups() {
        let d = Dict::from([("a".into(), Value::Bool(false)), ("s".into(), Value::from(1))]);
        assert_eq!(bool_option(&d, "X", "a", true), Ok(false));
        assert_eq!(bool_option(&d, "X", "missing", true), Ok(true));
        let err = str_option(&d, "X.Options", "s").unwrap_err();
        assert_eq!(err.to_string(), "X.Options.s must be a string, got an integer");
    }
}
