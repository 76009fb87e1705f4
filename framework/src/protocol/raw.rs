//! Payloads kept as the bytes they arrived in, and the budget every
//! decoded message is held to.
//!
//! A router only forwards the arguments of CALL, YIELD, PUBLISH and ERROR.
//! Decoding them into a [`Value`] tree on arrival and encoding them again
//! for every receiver costs time and, for a payload of many tiny elements,
//! about thirty times its size in memory. So the router checks them
//! (nesting up to [`MAX_DEPTH`], at most [`MAX_ELEMENTS`] values) without
//! building anything and keeps the bytes
//! ([`RawPayload`]): a receiver that speaks the same serializer gets them
//! spliced into its message unchanged, one that speaks the other gets them
//! converted once per message (not once per receiver), and an in-process
//! component gets the values.

use std::cell::Cell;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use base64::Engine as _;
use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::value::JSON_BYTES_MARKER;
use super::{DecodeError, Dict, EncodeError, List, Serializer, Value};

/// The deepest nesting a message may have (lists and dictionaries inside
/// one another).
pub const MAX_DEPTH: usize = 64;

/// The most values one message may hold, all levels counted. Decoded into
/// a tree, each value takes about 32 bytes, so this bounds what the
/// largest message can cost (about 32 MiB).
pub const MAX_ELEMENTS: usize = 1 << 20;

/// What a message may hold, counted while it is checked. One budget is
/// shared by all the elements of a message.
#[derive(Debug)]
pub(crate) struct Budget {
    left: Cell<usize>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { left: Cell::new(MAX_ELEMENTS) }
    }
}

impl Budget {
    fn spend<E: de::Error>(&self, n: usize) -> Result<(), E> {
        if self.try_spend(n) {
            Ok(())
        } else {
            Err(E::custom(Self::exceeded()))
        }
    }

    /// Takes `n` values from the budget; `false` if fewer are left.
    pub(crate) fn try_spend(&self, n: usize) -> bool {
        match self.left.get().checked_sub(n) {
            Some(left) => {
                self.left.set(left);
                true
            }
            None => false,
        }
    }

    /// What a message that holds too many values is told.
    pub(crate) fn exceeded() -> String {
        format!("the message holds more than {MAX_ELEMENTS} values")
    }

    /// How many values are left.
    #[cfg(test)]
    pub(crate) fn left(&self) -> usize {
        self.left.get()
    }
}

/// What the top of a checked value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Anything.
    Any,
    /// A list (positional arguments).
    List,
    /// A dictionary (keyword arguments).
    Dict,
}

/// Checks one value against the budget without building it: nesting depth,
/// number of values, string keys, valid UTF-8, and valid base64 in JSON
/// byte strings.
pub(crate) struct Check<'b> {
    pub(crate) budget: &'b Budget,
    pub(crate) depth: usize,
    pub(crate) shape: Shape,
    pub(crate) text_bytes: bool,
}

impl Check<'_> {
    fn child(&self) -> Self {
        Check { budget: self.budget, depth: self.depth + 1, shape: Shape::Any, text_bytes: self.text_bytes }
    }

    fn scalar<E: de::Error>(&self, what: &str) -> Result<(), E> {
        match self.shape {
            Shape::Any => self.budget.spend(1),
            Shape::List => Err(E::custom(format_args!("Arguments must be a list, got {what}"))),
            Shape::Dict => Err(E::custom(format_args!("ArgumentsKw must be a dictionary, got {what}"))),
        }
    }

    fn container<E: de::Error>(&self, shape: Shape) -> Result<(), E> {
        if self.shape != Shape::Any && self.shape != shape {
            return self.scalar(if shape == Shape::List { "a list" } else { "a dictionary" });
        }
        if self.depth >= MAX_DEPTH {
            return Err(E::custom(format_args!("values are nested deeper than {MAX_DEPTH} levels")));
        }
        self.budget.spend(1)
    }
}

impl<'de> DeserializeSeed<'de> for Check<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key: only strings are allowed.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for Key {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    /// MessagePack may carry a key as `bin`; the full decoding takes it if
    /// it is UTF-8, and so does the check.
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<(), E> {
        std::str::from_utf8(v).map(|_| ()).map_err(|_| E::custom("a dictionary key is not UTF-8 text"))
    }
}

impl<'de> Visitor<'de> for Check<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a WAMP value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar("null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar("null")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar("a boolean")
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar("an integer")
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar("an integer")
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar("a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar("a string")?;
        if self.text_bytes {
            if let Some(encoded) = v.strip_prefix(JSON_BYTES_MARKER) {
                base64::engine::general_purpose::STANDARD
                    .decode(encoded)
                    .map_err(|e| E::custom(format_args!("invalid base64 in a binary string: {e}")))?;
            }
        }
        Ok(())
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<(), E> {
        self.scalar("binary data")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.container(Shape::List)?;
        while seq.next_element_seed(self.child())?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.container(Shape::Dict)?;
        while map.next_key_seed(Key)?.is_some() {
            map.next_value_seed(self.child())?;
        }
        Ok(())
    }
}

/// Arguments (and keyword arguments) as the bytes they arrived in. Cheap to
/// clone: a fan-out shares one copy, and what is derived from it (the
/// values, the other serializer's encoding) is made once and shared too.
#[derive(Clone)]
pub struct RawPayload {
    inner: Arc<Inner>,
}

struct Inner {
    serializer: Serializer,
    /// The elements as they appear in the message: for MessagePack the
    /// values back to back; for JSON the text from the first element's
    /// start to the last one's end (a comma between them).
    data: Bytes,
    /// 1 (arguments) or 2 (arguments and keyword arguments).
    elements: u8,
    values: OnceLock<Result<(List, Dict), DecodeError>>,
    converted: OnceLock<Result<Bytes, EncodeError>>,
    /// The last whole message encoded around this payload, per serializer
    /// (JSON, MessagePack): its envelope (the message without the
    /// payload) and its bytes.
    messages: Mutex<[Option<EncodedMessage>; 2]>,
}

/// A whole message encoded around a payload: its envelope, and its bytes.
type EncodedMessage = (Box<[u8]>, Bytes);

impl RawPayload {
    /// Payload elements already checked against a budget of nesting and values.
    pub(crate) fn new(serializer: Serializer, data: Bytes, elements: u8) -> Self {
        RawPayload {
            inner: Arc::new(Inner {
                serializer,
                data,
                elements,
                values: OnceLock::new(),
                converted: OnceLock::new(),
                messages: Mutex::new([None, None]),
            }),
        }
    }

    /// The same bytes without what was derived from them (values,
    /// conversions, encoded messages), for a payload kept long after its
    /// message went out: a retained event is counted at its bytes' size
    /// and must not hold more.
    pub(crate) fn detached(&self) -> Self {
        RawPayload::new(self.inner.serializer, self.inner.data.clone(), self.inner.elements)
    }

    /// Whether anything was derived from the bytes yet.
    #[cfg(test)]
    pub(crate) fn has_derived(&self) -> bool {
        self.inner.values.get().is_some() || self.inner.converted.get().is_some()
    }

    /// The serializer the bytes are in.
    pub fn serializer(&self) -> Serializer {
        self.inner.serializer
    }

    /// How many elements it holds: 1 (arguments) or 2 (arguments and
    /// keyword arguments).
    pub fn elements(&self) -> u8 {
        self.inner.elements
    }

    /// How many bytes the payload takes.
    pub fn len(&self) -> usize {
        self.inner.data.len()
    }

    /// Whether the payload takes no bytes (never: it has an element).
    pub fn is_empty(&self) -> bool {
        self.inner.data.is_empty()
    }

    /// The payload's elements in `target`'s encoding, and how many there
    /// are: the original bytes, or (for the other serializer) a conversion
    /// made once and shared.
    pub fn encoded_for(&self, target: Serializer) -> Result<(&Bytes, u8), EncodeError> {
        if target == self.inner.serializer {
            return Ok((&self.inner.data, self.inner.elements));
        }
        let converted = self.inner.converted.get_or_init(|| {
            let fail = |reason: String| EncodeError { serializer: target.name(), reason };
            let (args, kwargs) = self.values().map_err(|e| fail(e.to_string()))?;
            let mut out = Vec::with_capacity(self.len() + self.len() / 2);
            target.encode_value_into(&Value::List(args.clone()), &mut out)?;
            if self.inner.elements > 1 {
                if target == Serializer::Json {
                    out.push(b',');
                }
                target.encode_value_into(&Value::Dict(kwargs.clone()), &mut out)?;
            }
            Ok(Bytes::from(out))
        });
        match converted {
            Ok(bytes) => Ok((bytes, self.inner.elements)),
            Err(e) => Err(e.clone()),
        }
    }

    /// The whole message whose envelope (the message without this
    /// payload) encodes to `envelope` in `target`: made by `encode` the
    /// first time, then shared while the envelope stays the same. The
    /// EVENTs of one publication have one envelope per subscription, so
    /// its subscribers share one encoding per serializer.
    pub(crate) fn message_for(
        &self,
        target: Serializer,
        envelope: &[u8],
        encode: impl FnOnce() -> Result<Bytes, EncodeError>,
    ) -> Result<Bytes, EncodeError> {
        let slot = usize::from(target == Serializer::MsgPack);
        let mut messages = self.inner.messages.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((cached, bytes)) = &messages[slot] {
            if **cached == *envelope {
                return Ok(bytes.clone());
            }
        }
        let bytes = encode()?;
        messages[slot] = Some((envelope.into(), bytes.clone()));
        Ok(bytes)
    }

    /// The arguments and keyword arguments as values, decoded once.
    pub fn values(&self) -> Result<(&List, &Dict), DecodeError> {
        let decoded = self.inner.values.get_or_init(|| self.decode());
        match decoded {
            Ok((args, kwargs)) => Ok((args, kwargs)),
            Err(e) => Err(e.clone()),
        }
    }

    fn decode(&self) -> Result<(List, Dict), DecodeError> {
        let Inner { serializer, data, elements, .. } = &*self.inner;
        let list = match serializer {
            Serializer::Json => {
                let mut text = Vec::with_capacity(data.len() + 2);
                text.push(b'[');
                text.extend_from_slice(data);
                text.push(b']');
                serializer.decode_value(&text)?
            }
            Serializer::MsgPack => {
                let mut framed = Vec::with_capacity(data.len() + 1);
                framed.push(0x90 | elements);
                framed.extend_from_slice(data);
                serializer.decode_value(&framed)?
            }
        };
        let mut parts = match list {
            Value::List(parts) => parts.into_iter(),
            other => return Err(DecodeError::NotAList(other.kind())),
        };
        let args = match parts.next() {
            Some(Value::List(args)) => args,
            _ => List::new(),
        };
        let kwargs = match parts.next() {
            Some(Value::Dict(kwargs)) => kwargs,
            _ => Dict::new(),
        };
        Ok((args, kwargs))
    }
}

impl fmt::Debug for RawPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawPayload")
            .field("serializer", &self.inner.serializer)
            .field("elements", &self.inner.elements)
            .field("bytes", &self.inner.data.len())
            .finish()
    }
}

impl PartialEq for RawPayload {
    /// Equal when they hold the same values, whatever their encoding.
    fn eq(&self, other: &Self) -> bool {
        match (self.values(), other.values()) {
            (Ok(a), Ok(b)) => a == b,
            _ => self.inner.serializer == other.inner.serializer && self.inner.data == other.inner.data,
        }
    }
}
