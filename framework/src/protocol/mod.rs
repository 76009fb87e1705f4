//! The WAMP v2 protocol, free of I/O.
//!
//! Messages ([`WampMessage`]), their payload values ([`Value`], [`Dict`]), identifiers
//! ([`id`]), URI rules ([`UriPolicy`]), the error URIs ([`errors`]) and the
//! two wire serializers ([`Serializer`]). A payload may also hold its
//! arguments as the bytes they arrived in ([`raw`]) or, between sessions
//! of one process, as a Rust value ([`native`]). Nothing here touches sockets,
//! actors or clocks: the router, the client and the tests all drive the same
//! code.

mod convert;
pub mod dict;
pub mod errors;
pub mod id;
pub(crate) mod id_source;
mod json;
mod message;
mod msgpack;
pub mod native;
pub mod options;
pub mod raw;
pub mod roles;
mod serializer;
mod uri;
mod value;
mod writer;

pub use convert::{from_value, to_value, ConvertError};
pub use dict::Dict;
pub use id::Id;
pub use message::{code, type_name, Payload, WampMessage};
pub use native::NativePayload;
pub use raw::RawPayload;
pub use serializer::Serializer;
pub(crate) use serializer::Spliced;
pub(crate) use serializer::SHARED_ENCODING;
pub use uri::{Uri, UriPolicy, UriProblem, UriRules, DEFAULT_MAX_URI_LENGTH};
pub use value::{List, Value};

/// Why bytes from a peer are not a valid WAMP message.
///
/// Every variant names what is wrong, so it can be logged and sent back in
/// an ABORT or GOODBYE message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not valid for the serializer.
    #[error("malformed {serializer} data: {reason}")]
    Malformed {
        /// The serializer that failed.
        serializer: &'static str,
        /// What the serializer reported.
        reason: String,
    },
    /// The data is valid but not a list.
    #[error("a WAMP message must be a list, got {0}")]
    NotAList(&'static str),
    /// An empty list.
    #[error("a WAMP message must not be an empty list")]
    Empty,
    /// The first element is not an integer.
    #[error("the message type must be an integer, got {0}")]
    TypeCode(&'static str),
    /// The type code is not a WAMP message type.
    #[error("unknown message type {0}")]
    UnknownType(u64),
    /// A required field is absent.
    #[error("{message} message is missing its {field} field")]
    Missing {
        /// The message type name.
        message: &'static str,
        /// The field name, as the specification writes it.
        field: &'static str,
    },
    /// A field has the wrong type or value.
    #[error("{message} message: {field} {problem}")]
    Field {
        /// The message type name.
        message: &'static str,
        /// The field name, as the specification writes it.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// More elements than the message type allows.
    #[error("{message} message has {extra} unexpected trailing element(s)")]
    TooLong {
        /// The message type name.
        message: &'static str,
        /// How many elements are too many.
        extra: usize,
    },
}

/// A message could not be encoded (in practice only for values a format
/// cannot represent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode a message as {serializer}: {reason}")]
pub struct EncodeError {
    /// The serializer that failed.
    pub serializer: &'static str,
    /// What it reported.
    pub reason: String,
}
