//! [`Error`]: an application error as WAMP carries it, a URI with
//! arguments.
//!
//! Procedures return it to fail a call; callers receive it when a call
//! fails, whether the callee, the router or the connection is at fault. One
//! type for both directions means `?` works across calls.

use crate::protocol::{errors, Dict, List, Payload, Value};

/// An application error: an error URI with positional and keyword
/// arguments.
///
/// ```
/// let e = wamp::Error::new("com.example.error.too_big", "x must be below 10");
/// assert_eq!(e.uri, "com.example.error.too_big");
/// assert_eq!(e.to_string(), "com.example.error.too_big: x must be below 10");
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{uri}{}", describe(args))]
pub struct Error {
    /// The error URI (`wamp.error.*` for errors from the router or the
    /// framework, the application's own otherwise).
    pub uri: String,
    /// Positional arguments; by convention the first is a message.
    pub args: List,
    /// Keyword arguments.
    pub kwargs: Dict,
}

fn describe(args: &List) -> String {
    match args.first() {
        Some(Value::String(message)) => format!(": {message}"),
        Some(other) => format!(": {}", serde_json::to_string(other).unwrap_or_default()),
        None => String::new(),
    }
}

impl Error {
    /// An error with a URI and a human-readable message (the first
    /// positional argument).
    pub fn new(uri: impl Into<String>, message: impl Into<String>) -> Self {
        Error { uri: uri.into(), args: vec![Value::String(message.into())], kwargs: Dict::new() }
    }

    /// An error with full control of its arguments.
    pub fn with_payload(uri: impl Into<String>, args: List, kwargs: Dict) -> Self {
        Error { uri: uri.into(), args, kwargs }
    }

    /// `wamp.error.invalid_argument`: the call's arguments do not fit.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(errors::INVALID_ARGUMENT, message)
    }

    /// The session ended before an answer came.
    pub fn lost() -> Self {
        Self::new(errors::CANCELED, "the session to the router ended before an answer came")
    }

    /// A call took longer than its timeout.
    pub fn timeout(after: std::time::Duration) -> Self {
        Self::new(errors::TIMEOUT, format!("no answer within {} ms", after.as_millis()))
    }

    /// The error's message: its first argument, if that is a string.
    pub fn message(&self) -> Option<&str> {
        self.args.first().and_then(Value::as_str)
    }

    /// The args and kwargs as a payload.
    pub fn payload(&self) -> Payload {
        Payload::new(self.args.clone(), self.kwargs.clone())
    }

    /// Splits into the parts of an ERROR message.
    pub fn into_parts(self) -> (String, Payload) {
        (self.uri, Payload::new(self.args, self.kwargs))
    }

    /// Builds an error from the parts of an ERROR message.
    pub fn from_parts(uri: String, payload: Payload) -> Self {
        let (args, kwargs) = payload.into_parts();
        Error { uri, args, kwargs }
    }
}

impl From<crate::protocol::ConvertError> for Error {
    fn from(e: crate::protocol::ConvertError) -> Self {
        Error::invalid_argument(e.to_string())
    }
}
