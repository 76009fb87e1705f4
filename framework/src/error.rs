//! [`Error`](struct@crate::Error): an error as WAMP carries it, a URI with arguments, and its
//! [`ErrorKind`].
//!
//! Procedures return it to fail a call; callers receive it when a call
//! fails, whether the callee, the router or the connection is at fault. One
//! type for both directions means `?` works across calls. On the wire only
//! the URI and arguments travel; the kind says on the caller's side where
//! the failure came from, which the URI alone cannot (the specification
//! has `wamp.error.canceled` both for a canceled call and for a session
//! that ended before the answer). Application errors with types of their
//! own derive [`Error`](macro@crate::Error) and are read back with
//! [`Error::decode`].

use crate::protocol::{errors, Dict, List, Payload, Value};

/// An error: an error URI with positional and keyword arguments, and
/// where it came from ([`kind`](Error::kind)).
///
/// ```
/// use wamp::ErrorKind;
///
/// let e = wamp::Error::new("com.example.error.too_big", "x must be below 10");
/// assert_eq!(e.uri, "com.example.error.too_big");
/// assert_eq!(e.kind(), ErrorKind::Application);
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
    kind: ErrorKind,
}

/// Where an [`Error`](struct@crate::Error) came from, as its receiver sees it. More kinds may
/// come, so a `match` needs a catch-all arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An ERROR answered the request: the callee's own URI, or a
    /// `wamp.error.*` the router or callee chose (`no_such_procedure`,
    /// `not_authorized`, `invalid_argument`, ...). Errors that code
    /// creates to return are of this kind.
    Application,
    /// No answer in time: the call's own timeout ran out, or the router
    /// timed the call (`wamp.error.timeout`).
    Timeout,
    /// The call was canceled: by its caller, or the router or callee
    /// answered `wamp.error.canceled`.
    Canceled,
    /// The router could not be reached, or the connection or session was
    /// lost before the answer came (the session may reconnect).
    Transport,
    /// The router refused the session (ABORT: unknown realm, failed
    /// authentication, ...) or ended it (GOODBYE or ABORT) before the
    /// answer came; the error's URI is then the router's reason
    /// (`wamp.close.killed`, `wamp.close.system_shutdown`, ...).
    Aborted,
    /// Nothing was sent, or the answer could not be read: arguments or a
    /// result that do not convert to or from the types asked for.
    Invalid,
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
        Self::with_payload(uri, vec![Value::String(message.into())], Dict::new())
    }

    /// An error with full control of its arguments.
    pub fn with_payload(uri: impl Into<String>, args: List, kwargs: Dict) -> Self {
        Error { uri: uri.into(), args, kwargs, kind: ErrorKind::Application }
    }

    /// Where the error came from.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The same error, of another kind.
    pub(crate) fn of_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// `wamp.error.invalid_argument`: arguments that do not fit a
    /// procedure's parameters (sent to the caller as an application
    /// error).
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(errors::INVALID_ARGUMENT, message)
    }

    /// `wamp.error.invalid_argument` of kind [`ErrorKind::Invalid`]:
    /// something on this side does not convert.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::invalid_argument(message).of_kind(ErrorKind::Invalid)
    }

    /// `wamp.error.canceled` of kind [`ErrorKind::Transport`]: the router
    /// cannot be reached, or the session is not connected.
    pub(crate) fn transport(message: impl Into<String>) -> Self {
        Self::new(errors::CANCELED, message).of_kind(ErrorKind::Transport)
    }

    /// The session ended before an answer came.
    pub fn lost() -> Self {
        Self::transport("the session to the router ended before an answer came")
    }

    /// The router ended the session (GOODBYE or ABORT) before an answer
    /// came: its reason is the URI, of kind [`ErrorKind::Aborted`].
    pub(crate) fn ended_by_router(closed: &crate::client::link::Closed) -> Self {
        let said = if closed.message.is_empty() { String::new() } else { format!(": {}", closed.message) };
        let message = format!("the router ended the session ({}{said}) before an answer came", closed.reason);
        Self::new(closed.reason.clone(), message).of_kind(ErrorKind::Aborted)
    }

    /// A call took longer than its timeout.
    pub fn timeout(after: std::time::Duration) -> Self {
        Self::new(errors::TIMEOUT, format!("no answer within {} ms", after.as_millis()))
            .of_kind(ErrorKind::Timeout)
    }

    /// This error as the application error type `E`, if its URI is one of
    /// `E`'s and its arguments fit (see [`derive(Error)`](macro@crate::Error)).
    pub fn decode<E: ApplicationError>(&self) -> Option<E> {
        E::from_error(self)
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

    /// Builds an error from the parts of an ERROR message (its kind
    /// follows from the URI: timeout, canceled, or application).
    pub fn from_parts(uri: String, payload: Payload) -> Self {
        let (args, kwargs) = payload.into_parts();
        let kind = match uri.as_str() {
            errors::TIMEOUT => ErrorKind::Timeout,
            errors::CANCELED => ErrorKind::Canceled,
            _ => ErrorKind::Application,
        };
        Error { uri, args, kwargs, kind }
    }
}

impl From<crate::protocol::ConvertError> for Error {
    fn from(e: crate::protocol::ConvertError) -> Self {
        Error::invalid(e.to_string())
    }
}

/// So that a `main` returning `std::io::Result` (as actix-web's does) can
/// use `?` on what the host and a session return: an error of kind
/// [`Other`](std::io::ErrorKind::Other) that carries this one.
impl From<Error> for std::io::Error {
    fn from(error: Error) -> Self {
        std::io::Error::other(error)
    }
}

/// An application's own error type, with a URI per variant, that converts
/// to an [`Error`](struct@crate::Error) for the wire and back. Implemented by
/// [`derive(Error)`](macro@crate::Error).
pub trait ApplicationError: Into<Error> + Sized {
    /// The error URIs of the type, one per variant.
    const URIS: &'static [&'static str];

    /// The variant whose URI `error` has, if its arguments fit.
    fn from_error(error: &Error) -> Option<Self>;
}
