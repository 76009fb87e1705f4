//! Every WAMP v2 message as a typed value.
//!
//! [`WampMessage`] has one variant per message type. Decoding goes from a
//! [`Value`] list (what a serializer produced) to a `WampMessage` and checks
//! every field, so the router only ever sees well-formed messages; encoding
//! writes the list form directly through serde, omitting empty trailing
//! `args`/`kwargs` as the specification asks.

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};

use super::id::{self, Id};
use super::native::NativePayload;
use super::raw::RawPayload;
use super::uri::Uri;
use super::{ConvertError, DecodeError};
use super::{Dict, List, Value};

/// The numeric message type codes.
#[allow(missing_docs)]
pub mod code {
    pub const HELLO: u64 = 1;
    pub const WELCOME: u64 = 2;
    pub const ABORT: u64 = 3;
    pub const CHALLENGE: u64 = 4;
    pub const AUTHENTICATE: u64 = 5;
    pub const GOODBYE: u64 = 6;
    pub const ERROR: u64 = 8;
    pub const PUBLISH: u64 = 16;
    pub const PUBLISHED: u64 = 17;
    pub const SUBSCRIBE: u64 = 32;
    pub const SUBSCRIBED: u64 = 33;
    pub const UNSUBSCRIBE: u64 = 34;
    pub const UNSUBSCRIBED: u64 = 35;
    pub const EVENT: u64 = 36;
    /// Acknowledged event delivery (advanced profile, implementation
    /// specific code until ratified).
    pub const EVENT_RECEIVED: u64 = 337;
    pub const CALL: u64 = 48;
    pub const CANCEL: u64 = 49;
    pub const RESULT: u64 = 50;
    pub const REGISTER: u64 = 64;
    pub const REGISTERED: u64 = 65;
    pub const UNREGISTER: u64 = 66;
    pub const UNREGISTERED: u64 = 67;
    pub const INVOCATION: u64 = 68;
    pub const INTERRUPT: u64 = 69;
    pub const YIELD: u64 = 70;
}

/// The application payload of a message that carries one.
///
/// ```
/// use wamp::protocol::{Payload, Value};
/// let p = Payload::args(vec![Value::from(2), Value::from(3)]);
/// assert_eq!(p.args_list().len(), 2);
/// assert!(Payload::default().is_empty());
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Payload {
    /// Positional and keyword arguments (either may be empty).
    Values {
        /// Positional arguments.
        args: List,
        /// Keyword arguments.
        kwargs: Dict,
    },
    /// An opaque payload (payload transparency, e.g. end-to-end encrypted
    /// application data); the router forwards it untouched.
    Transparent(Vec<u8>),
    /// Arguments as the serialized bytes they arrived in (see
    /// [`RawPayload`]); the router forwards them without decoding.
    Raw(RawPayload),
    /// Arguments as a Rust value, passed between sessions of this process
    /// without conversion (see [`NativePayload`]); converted to values
    /// where values are read.
    Native(NativePayload),
}

impl PartialEq for Payload {
    /// Equal when they carry the same arguments, whether as values or as
    /// bytes in either serializer.
    fn eq(&self, other: &Self) -> bool {
        fn parts(p: &Payload) -> Option<(&[Value], &Dict)> {
            match p {
                Payload::Values { args, kwargs } => Some((args, kwargs)),
                Payload::Raw(raw) => raw.values().ok().map(|(a, k)| (a.as_slice(), k)),
                Payload::Native(native) => native.values().ok().map(|(a, k)| (a.as_slice(), k)),
                Payload::Transparent(_) => None,
            }
        }
        match (self, other) {
            (Payload::Transparent(a), Payload::Transparent(b)) => a == b,
            (Payload::Transparent(_), _) | (_, Payload::Transparent(_)) => false,
            _ => matches!((parts(self), parts(other)), (Some(a), Some(b)) if a == b),
        }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Values { args: List::new(), kwargs: Dict::new() }
    }
}

impl Payload {
    /// A payload of positional arguments only.
    pub fn args(args: List) -> Self {
        Payload::Values { args, kwargs: Dict::new() }
    }

    /// A payload of positional and keyword arguments.
    pub fn new(args: List, kwargs: Dict) -> Self {
        Payload::Values { args, kwargs }
    }

    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        match self {
            Payload::Values { args, kwargs } => args.is_empty() && kwargs.is_empty(),
            Payload::Transparent(_) => false,
            Payload::Raw(raw) => {
                raw.values().is_ok_and(|(args, kwargs)| args.is_empty() && kwargs.is_empty())
            }
            Payload::Native(native) => {
                native.values().is_ok_and(|(args, kwargs)| args.is_empty() && kwargs.is_empty())
            }
        }
    }

    /// The positional arguments (empty for a transparent payload).
    pub fn args_list(&self) -> &[Value] {
        match self {
            Payload::Values { args, .. } => args,
            Payload::Transparent(_) => &[],
            Payload::Raw(raw) => raw.values().map(|(args, _)| args.as_slice()).unwrap_or_default(),
            Payload::Native(native) => native.values().map(|(args, _)| args.as_slice()).unwrap_or_default(),
        }
    }

    /// The keyword arguments, if any.
    pub fn kwargs_dict(&self) -> Option<&Dict> {
        match self {
            Payload::Values { kwargs, .. } => Some(kwargs),
            Payload::Transparent(_) => None,
            Payload::Raw(raw) => raw.values().ok().map(|(_, kwargs)| kwargs),
            Payload::Native(native) => native.values().ok().map(|(_, kwargs)| kwargs),
        }
    }

    /// A copy to keep for long: raw bytes come without what was derived
    /// from them ([`RawPayload`] caches its values and conversions).
    pub(crate) fn detached(&self) -> Payload {
        match self {
            Payload::Raw(raw) => Payload::Raw(raw.detached()),
            other => other.clone(),
        }
    }

    /// The positional and keyword arguments, taken out: a transparent
    /// payload is one bytes argument; raw bytes are decoded (they were
    /// checked with the same parser on arrival, so this cannot fail; if it
    /// did, the failure is logged and the arguments are empty).
    #[inline]
    pub fn into_parts(self) -> (List, Dict) {
        match self {
            Payload::Values { args, kwargs } => (args, kwargs),
            other => other.converted_parts(),
        }
    }

    /// [`Payload::into_parts`] of the payloads that are not values yet
    /// (out of line: the values' case is the hot one).
    #[inline(never)]
    fn converted_parts(self) -> (List, Dict) {
        match self {
            Payload::Values { args, kwargs } => (args, kwargs),
            Payload::Transparent(bytes) => (vec![Value::Bytes(bytes)], Dict::new()),
            Payload::Raw(raw) => match raw.values() {
                Ok((args, kwargs)) => (args.clone(), kwargs.clone()),
                Err(e) => {
                    tracing::error!(error = %e, "a payload checked on arrival could not be decoded");
                    (List::new(), Dict::new())
                }
            },
            Payload::Native(native) => native.into_values().unwrap_or_else(|e| {
                tracing::error!(error = %e, "a Rust value could not be converted to arguments");
                (List::new(), Dict::new())
            }),
        }
    }

    /// The payload as values or transparent bytes: raw bytes are decoded
    /// (they were checked on arrival, so this fails only on a number JSON
    /// can write and a Rust value cannot hold).
    pub fn resolve(self) -> Result<Payload, DecodeError> {
        match self {
            Payload::Raw(raw) => {
                let (args, kwargs) = raw.values()?;
                Ok(Payload::Values { args: args.clone(), kwargs: kwargs.clone() })
            }
            other => Ok(other),
        }
    }

    /// The payload with a Rust value ([`Payload::Native`]) converted to
    /// values, for a reader outside this process or one that expects
    /// other types; any other payload as it is.
    pub(crate) fn materialize(self) -> Result<Payload, ConvertError> {
        match self {
            Payload::Native(native) => {
                let (args, kwargs) = native.into_values()?;
                Ok(Payload::Values { args, kwargs })
            }
            other => Ok(other),
        }
    }

    /// Whether the arguments are a Rust value ([`Payload::Native`]).
    pub(crate) fn is_native(&self) -> bool {
        matches!(self, Payload::Native(_))
    }
}

/// A WAMP v2 message.
///
/// Named `WampMessage`, not plain `Message`, so that it never meets
/// `actix::Message` (a trait every actor message implements) in a module
/// that imports both. Field names follow the specification. `request` is the request id chosen
/// by the sender of the request the message belongs to.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WampMessage {
    Hello { realm: String, details: Dict },
    Welcome { session: Id, details: Dict },
    Abort { details: Dict, reason: String },
    Challenge { method: String, extra: Dict },
    Authenticate { signature: String, extra: Dict },
    Goodbye { details: Dict, reason: String },
    Error { request_type: u64, request: Id, details: Dict, error: String, payload: Payload },
    Publish { request: Id, options: Dict, topic: Uri, payload: Payload },
    Published { request: Id, publication: Id },
    Subscribe { request: Id, options: Dict, topic: String },
    Subscribed { request: Id, subscription: Id },
    Unsubscribe { request: Id, subscription: Id },
    Unsubscribed { request: Id },
    Event { subscription: Id, publication: Id, details: Dict, payload: Payload },
    EventReceived { publication: Id },
    Call { request: Id, options: Dict, procedure: Uri, payload: Payload },
    Cancel { request: Id, options: Dict },
    Result { request: Id, details: Dict, payload: Payload },
    Register { request: Id, options: Dict, procedure: String },
    Registered { request: Id, registration: Id },
    Unregister { request: Id, registration: Id },
    Unregistered { request: Id },
    Invocation { request: Id, registration: Id, details: Dict, payload: Payload },
    Interrupt { request: Id, options: Dict },
    Yield { request: Id, options: Dict, payload: Payload },
}

impl WampMessage {
    /// The message's type code.
    pub fn code(&self) -> u64 {
        use WampMessage::*;
        match self {
            Hello { .. } => code::HELLO,
            Welcome { .. } => code::WELCOME,
            Abort { .. } => code::ABORT,
            Challenge { .. } => code::CHALLENGE,
            Authenticate { .. } => code::AUTHENTICATE,
            Goodbye { .. } => code::GOODBYE,
            Error { .. } => code::ERROR,
            Publish { .. } => code::PUBLISH,
            Published { .. } => code::PUBLISHED,
            Subscribe { .. } => code::SUBSCRIBE,
            Subscribed { .. } => code::SUBSCRIBED,
            Unsubscribe { .. } => code::UNSUBSCRIBE,
            Unsubscribed { .. } => code::UNSUBSCRIBED,
            Event { .. } => code::EVENT,
            EventReceived { .. } => code::EVENT_RECEIVED,
            Call { .. } => code::CALL,
            Cancel { .. } => code::CANCEL,
            Result { .. } => code::RESULT,
            Register { .. } => code::REGISTER,
            Registered { .. } => code::REGISTERED,
            Unregister { .. } => code::UNREGISTER,
            Unregistered { .. } => code::UNREGISTERED,
            Invocation { .. } => code::INVOCATION,
            Interrupt { .. } => code::INTERRUPT,
            Yield { .. } => code::YIELD,
        }
    }

    /// The message's type name, as the specification writes it.
    pub fn name(&self) -> &'static str {
        type_name(self.code()).unwrap_or("UNKNOWN")
    }

    /// Decodes a message from the list a serializer produced.
    ///
    /// ```
    /// use wamp::protocol::{WampMessage, Value};
    /// let list = vec![Value::from(32), Value::from(1), Value::Dict(Default::default()), Value::from("a.b")];
    /// let msg = WampMessage::from_list(list).unwrap();
    /// assert!(matches!(msg, WampMessage::Subscribe { request: 1, .. }));
    /// ```
    pub fn from_list(list: List) -> Result<WampMessage, DecodeError> {
        Self::from_parts(list, None)
    }

    /// Decodes a message whose payload elements were kept as bytes: `list`
    /// holds the fields before the payload.
    pub(crate) fn from_parts(list: List, raw: Option<RawPayload>) -> Result<WampMessage, DecodeError> {
        let mut fields = list.into_iter();
        let code = match fields.next() {
            None => return Err(DecodeError::Empty),
            Some(v) => v.as_u64().ok_or(DecodeError::TypeCode(v.kind()))?,
        };
        let name = type_name(code).ok_or(DecodeError::UnknownType(code))?;
        let mut r = Fields { name, fields, index: 1, raw };
        use WampMessage::*;
        let msg = match code {
            code::HELLO => Hello { realm: r.string("Realm")?, details: r.dict("Details")? },
            code::WELCOME => Welcome { session: r.id("Session")?, details: r.dict("Details")? },
            code::ABORT => Abort { details: r.dict("Details")?, reason: r.string("Reason")? },
            code::CHALLENGE => Challenge { method: r.string("AuthMethod")?, extra: r.dict("Extra")? },
            code::AUTHENTICATE => Authenticate { signature: r.string("Signature")?, extra: r.dict("Extra")? },
            code::GOODBYE => Goodbye { details: r.dict("Details")?, reason: r.string("Reason")? },
            code::ERROR => Error {
                request_type: r.uint("Request.Type")?,
                request: r.id("Request")?,
                details: r.dict("Details")?,
                error: r.string("Error")?,
                payload: r.payload()?,
            },
            code::PUBLISH => Publish {
                request: r.id("Request")?,
                options: r.dict("Options")?,
                topic: r.string("Topic")?.into(),
                payload: r.payload()?,
            },
            code::PUBLISHED => Published { request: r.id("Request")?, publication: r.id("Publication")? },
            code::SUBSCRIBE => Subscribe {
                request: r.id("Request")?,
                options: r.dict("Options")?,
                topic: r.string("Topic")?,
            },
            code::SUBSCRIBED => Subscribed { request: r.id("Request")?, subscription: r.id("Subscription")? },
            code::UNSUBSCRIBE => {
                Unsubscribe { request: r.id("Request")?, subscription: r.id("Subscription")? }
            }
            code::UNSUBSCRIBED => {
                let request = r.id("Request")?;
                r.optional_dict("Details")?;
                Unsubscribed { request }
            }
            code::EVENT => Event {
                subscription: r.id("Subscription")?,
                publication: r.id("Publication")?,
                details: r.dict("Details")?,
                payload: r.payload()?,
            },
            code::EVENT_RECEIVED => EventReceived { publication: r.id("Publication")? },
            code::CALL => Call {
                request: r.id("Request")?,
                options: r.dict("Options")?,
                procedure: r.string("Procedure")?.into(),
                payload: r.payload()?,
            },
            code::CANCEL => Cancel { request: r.id("Request")?, options: r.dict("Options")? },
            code::RESULT => {
                Result { request: r.id("Request")?, details: r.dict("Details")?, payload: r.payload()? }
            }
            code::REGISTER => Register {
                request: r.id("Request")?,
                options: r.dict("Options")?,
                procedure: r.string("Procedure")?,
            },
            code::REGISTERED => Registered { request: r.id("Request")?, registration: r.id("Registration")? },
            code::UNREGISTER => Unregister { request: r.id("Request")?, registration: r.id("Registration")? },
            code::UNREGISTERED => {
                let request = r.id("Request")?;
                r.optional_dict("Details")?;
                Unregistered { request }
            }
            code::INVOCATION => Invocation {
                request: r.id("Request")?,
                registration: r.id("Registration")?,
                details: r.dict("Details")?,
                payload: r.payload()?,
            },
            code::INTERRUPT => Interrupt { request: r.id("Request")?, options: r.dict("Options")? },
            code::YIELD => {
                Yield { request: r.id("Request")?, options: r.dict("Options")?, payload: r.payload()? }
            }
            _ => return Err(DecodeError::UnknownType(code)),
        };
        r.finish()?;
        Ok(msg)
    }
}

/// The specification's name for a message type code.
pub fn type_name(code: u64) -> Option<&'static str> {
    Some(match code {
        code::HELLO => "HELLO",
        code::WELCOME => "WELCOME",
        code::ABORT => "ABORT",
        code::CHALLENGE => "CHALLENGE",
        code::AUTHENTICATE => "AUTHENTICATE",
        code::GOODBYE => "GOODBYE",
        code::ERROR => "ERROR",
        code::PUBLISH => "PUBLISH",
        code::PUBLISHED => "PUBLISHED",
        code::SUBSCRIBE => "SUBSCRIBE",
        code::SUBSCRIBED => "SUBSCRIBED",
        code::UNSUBSCRIBE => "UNSUBSCRIBE",
        code::UNSUBSCRIBED => "UNSUBSCRIBED",
        code::EVENT => "EVENT",
        code::EVENT_RECEIVED => "EVENT_RECEIVED",
        code::CALL => "CALL",
        code::CANCEL => "CANCEL",
        code::RESULT => "RESULT",
        code::REGISTER => "REGISTER",
        code::REGISTERED => "REGISTERED",
        code::UNREGISTER => "UNREGISTER",
        code::UNREGISTERED => "UNREGISTERED",
        code::INVOCATION => "INVOCATION",
        code::INTERRUPT => "INTERRUPT",
        code::YIELD => "YIELD",
        _ => return None,
    })
}

/// Reads the fields of one message in order, naming the message and field
/// in every error.
struct Fields {
    name: &'static str,
    fields: std::vec::IntoIter<Value>,
    index: usize,
    /// Payload elements kept as bytes, following the fields.
    raw: Option<RawPayload>,
}

impl Fields {
    fn take(&mut self, field: &'static str) -> Result<Value, DecodeError> {
        self.index += 1;
        self.fields.next().ok_or(DecodeError::Missing { message: self.name, field })
    }

    fn wrong(&self, field: &'static str, expected: &'static str, got: &Value) -> DecodeError {
        DecodeError::Field {
            message: self.name,
            field,
            problem: format!("must be {expected}, got {}", got.kind()),
        }
    }

    fn id(&mut self, field: &'static str) -> Result<Id, DecodeError> {
        let v = self.take(field)?;
        match v.as_u64() {
            Some(id) if id::is_valid(id) => Ok(id),
            Some(other) => Err(DecodeError::Field {
                message: self.name,
                field,
                problem: format!("{other} is outside the id range [1, 2^53]"),
            }),
            None => Err(self.wrong(field, "an integer id", &v)),
        }
    }

    fn uint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let v = self.take(field)?;
        v.as_u64().ok_or_else(|| self.wrong(field, "a non-negative integer", &v))
    }

    fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        match self.take(field)? {
            Value::String(s) => Ok(s),
            other => Err(self.wrong(field, "a string", &other)),
        }
    }

    fn dict(&mut self, field: &'static str) -> Result<Dict, DecodeError> {
        match self.take(field)? {
            Value::Dict(d) => Ok(d),
            other => Err(self.wrong(field, "a dictionary", &other)),
        }
    }

    fn optional_dict(&mut self, field: &'static str) -> Result<Option<Dict>, DecodeError> {
        if self.fields.len() == 0 {
            return Ok(None);
        }
        self.dict(field).map(Some)
    }

    /// `[Arguments|list, ArgumentsKw|dict]`, both optional, or a single
    /// opaque byte string (payload transparency).
    fn payload(&mut self) -> Result<Payload, DecodeError> {
        let args = match self.fields.next() {
            None => return Ok(self.raw.take().map(Payload::Raw).unwrap_or_default()),
            Some(Value::List(l)) => l,
            Some(Value::Bytes(b)) => {
                self.index += 1;
                return Ok(Payload::Transparent(b));
            }
            Some(other) => return Err(self.wrong("Arguments", "a list", &other)),
        };
        self.index += 1;
        let kwargs = match self.fields.next() {
            None => Dict::new(),
            Some(Value::Dict(d)) => d,
            Some(other) => return Err(self.wrong("ArgumentsKw", "a dictionary", &other)),
        };
        self.index += 1;
        Ok(Payload::Values { args, kwargs })
    }

    fn finish(self) -> Result<(), DecodeError> {
        let extra = self.fields.len() + usize::from(self.raw.as_ref().map_or(0, RawPayload::elements));
        if extra > 0 {
            return Err(DecodeError::TooLong { message: self.name, extra });
        }
        Ok(())
    }
}

/// Serializes fields in order; `payload` appends args/kwargs only when they
/// are not empty (kwargs alone still needs an empty args list before it).
fn serialize_payload<S: SerializeSeq>(seq: &mut S, payload: &Payload) -> Result<(), S::Error> {
    match payload {
        Payload::Values { args, kwargs } => {
            if !args.is_empty() || !kwargs.is_empty() {
                seq.serialize_element(args)?;
            }
            if !kwargs.is_empty() {
                seq.serialize_element(kwargs)?;
            }
        }
        Payload::Transparent(bytes) => seq.serialize_element(&OpaqueBytes(bytes))?,
        Payload::Raw(raw) => {
            let (args, kwargs) = raw.values().map_err(serde::ser::Error::custom)?;
            seq.serialize_element(args)?;
            if payload_len(payload) > 1 {
                seq.serialize_element(kwargs)?;
            }
        }
        Payload::Native(native) => {
            let (args, kwargs) = native.values().map_err(serde::ser::Error::custom)?;
            if !args.is_empty() || !kwargs.is_empty() {
                seq.serialize_element(args)?;
            }
            if !kwargs.is_empty() {
                seq.serialize_element(kwargs)?;
            }
        }
    }
    Ok(())
}

/// Borrowed bytes serialized as a WAMP byte string.
struct OpaqueBytes<'a>(&'a [u8]);

impl Serialize for OpaqueBytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        super::value::serialize_bytes(self.0, serializer)
    }
}

fn payload_len(payload: &Payload) -> usize {
    match payload {
        Payload::Values { args, kwargs } if kwargs.is_empty() && args.is_empty() => 0,
        Payload::Values { kwargs, .. } if kwargs.is_empty() => 1,
        Payload::Values { .. } => 2,
        Payload::Transparent(_) => 1,
        Payload::Raw(raw) => usize::from(raw.elements()),
        Payload::Native(native) => match native.values() {
            Ok((args, kwargs)) if args.is_empty() && kwargs.is_empty() => 0,
            Ok((_, kwargs)) if kwargs.is_empty() => 1,
            Ok(_) => 2,
            // Serializing fails with the conversion's error.
            Err(_) => 0,
        },
    }
}

/// A message without its payload elements: what a serializer writes before
/// splicing in a raw payload.
pub(crate) struct Envelope<'a>(pub(crate) &'a WampMessage);

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_with(serializer, false)
    }
}

impl Serialize for WampMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.serialize_with(serializer, true)
    }
}

impl WampMessage {
    /// The message's payload, if its type has one.
    pub fn payload(&self) -> Option<&Payload> {
        use WampMessage::*;
        match self {
            Error { payload, .. }
            | Publish { payload, .. }
            | Event { payload, .. }
            | Call { payload, .. }
            | Result { payload, .. }
            | Invocation { payload, .. }
            | Yield { payload, .. } => Some(payload),
            _ => None,
        }
    }

    fn serialize_with<S: Serializer>(
        &self,
        serializer: S,
        with_payload: bool,
    ) -> std::result::Result<S::Ok, S::Error> {
        use WampMessage::*;
        let payload_len = |p: &Payload| if with_payload { payload_len(p) } else { 0 };
        let serialize_payload = |seq: &mut S::SerializeSeq, p: &Payload| {
            if with_payload {
                serialize_payload(seq, p)
            } else {
                Ok(())
            }
        };
        let len = 1 + match self {
            Hello { .. } | Welcome { .. } | Abort { .. } | Challenge { .. } => 2,
            Authenticate { .. } | Goodbye { .. } => 2,
            Error { payload, .. } => 4 + payload_len(payload),
            Publish { payload, .. } | Call { payload, .. } => 3 + payload_len(payload),
            Event { payload, .. } | Invocation { payload, .. } => 3 + payload_len(payload),
            Result { payload, .. } | Yield { payload, .. } => 2 + payload_len(payload),
            Subscribe { .. } | Register { .. } => 3,
            Published { .. } | Subscribed { .. } | Unsubscribe { .. } => 2,
            Registered { .. } | Unregister { .. } | Cancel { .. } | Interrupt { .. } => 2,
            Unsubscribed { .. } | Unregistered { .. } | EventReceived { .. } => 1,
        };
        let mut seq = serializer.serialize_seq(Some(len))?;
        seq.serialize_element(&self.code())?;
        match self {
            Hello { realm, details } => {
                seq.serialize_element(realm)?;
                seq.serialize_element(details)?;
            }
            Welcome { session, details } => {
                seq.serialize_element(session)?;
                seq.serialize_element(details)?;
            }
            Abort { details, reason } | Goodbye { details, reason } => {
                seq.serialize_element(details)?;
                seq.serialize_element(reason)?;
            }
            Challenge { method, extra } => {
                seq.serialize_element(method)?;
                seq.serialize_element(extra)?;
            }
            Authenticate { signature, extra } => {
                seq.serialize_element(signature)?;
                seq.serialize_element(extra)?;
            }
            Error { request_type, request, details, error, payload } => {
                seq.serialize_element(request_type)?;
                seq.serialize_element(request)?;
                seq.serialize_element(details)?;
                seq.serialize_element(error)?;
                serialize_payload(&mut seq, payload)?;
            }
            Publish { request, options, topic: uri, payload }
            | Call { request, options, procedure: uri, payload } => {
                seq.serialize_element(request)?;
                seq.serialize_element(options)?;
                seq.serialize_element(uri)?;
                serialize_payload(&mut seq, payload)?;
            }
            Subscribe { request, options, topic: uri } | Register { request, options, procedure: uri } => {
                seq.serialize_element(request)?;
                seq.serialize_element(options)?;
                seq.serialize_element(uri)?;
            }
            Published { request, publication: id }
            | Subscribed { request, subscription: id }
            | Unsubscribe { request, subscription: id }
            | Registered { request, registration: id }
            | Unregister { request, registration: id } => {
                seq.serialize_element(request)?;
                seq.serialize_element(id)?;
            }
            Unsubscribed { request } | Unregistered { request } => {
                seq.serialize_element(request)?;
            }
            EventReceived { publication } => seq.serialize_element(publication)?,
            Event { subscription: a, publication: b, details, payload }
            | Invocation { request: a, registration: b, details, payload } => {
                seq.serialize_element(a)?;
                seq.serialize_element(b)?;
                seq.serialize_element(details)?;
                serialize_payload(&mut seq, payload)?;
            }
            Cancel { request, options } | Interrupt { request, options } => {
                seq.serialize_element(request)?;
                seq.serialize_element(options)?;
            }
            Result { request, details: dict, payload } | Yield { request, options: dict, payload } => {
                seq.serialize_element(request)?;
                seq.serialize_element(dict)?;
                serialize_payload(&mut seq, payload)?;
            }
        }
        seq.end()
    }
}
