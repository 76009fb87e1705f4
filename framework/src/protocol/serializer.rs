//! The wire serializers: JSON (`wamp.2.json`) and MessagePack
//! (`wamp.2.msgpack`).

use bytes::Bytes;
use serde::de::DeserializeSeed as _;

use super::message::{code, Envelope, WampMessage};
use super::msgpack;
use super::raw::{Budget, Check, RawPayload, Shape, MAX_DEPTH};
use super::value::{List, Value};
use super::{json, writer};
use super::{DecodeError, EncodeError};

/// A WAMP serializer, chosen per connection by WebSocket subprotocol.
///
/// ```
/// use wamp::protocol::{WampMessage, Serializer};
/// let msg = WampMessage::Goodbye { details: Default::default(), reason: "wamp.close.normal".into() };
/// for s in [Serializer::Json, Serializer::MsgPack] {
///     let bytes = s.encode(&msg).unwrap();
///     assert_eq!(s.decode(&bytes).unwrap(), msg);
/// }
/// assert_eq!(Serializer::Json.encode(&msg).unwrap(), br#"[6,{},"wamp.close.normal"]"#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Serializer {
    /// JSON in WebSocket text frames.
    Json,
    /// MessagePack in WebSocket binary frames.
    #[serde(alias = "msgpack")]
    MsgPack,
}

impl Serializer {
    /// Every serializer, in the order a router prefers them.
    pub const ALL: [Serializer; 2] = [Serializer::MsgPack, Serializer::Json];

    /// The WebSocket subprotocol name.
    pub const fn subprotocol(self) -> &'static str {
        match self {
            Serializer::Json => "wamp.2.json",
            Serializer::MsgPack => "wamp.2.msgpack",
        }
    }

    /// The serializer for a WebSocket subprotocol name.
    pub fn from_subprotocol(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.subprotocol() == name)
    }

    /// Whether messages travel in binary (rather than text) frames.
    pub const fn is_binary(self) -> bool {
        matches!(self, Serializer::MsgPack)
    }

    /// A short name for logs and errors.
    pub const fn name(self) -> &'static str {
        match self {
            Serializer::Json => "JSON",
            Serializer::MsgPack => "MessagePack",
        }
    }

    /// Encodes a message.
    pub fn encode(self, msg: &WampMessage) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(128);
        self.encode_into(msg, &mut out)?;
        Ok(out)
    }

    /// Encodes a message, appending to `out`. A payload kept as bytes is
    /// spliced in as it is (converted once if it is in the other
    /// serializer).
    pub fn encode_into(self, msg: &WampMessage, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if let Some(crate::protocol::Payload::Raw(raw)) = msg.payload() {
            return self.encode_spliced(msg, raw, out);
        }
        self.encode_serde(msg, out)
    }

    /// Encodes a message into shared bytes. A message whose payload is
    /// kept as bytes and is at least 16 KiB long is encoded
    /// once per serializer and envelope, then shared: every subscriber of
    /// a publication gets the same bytes.
    pub fn encode_shared(self, msg: &WampMessage) -> Result<Bytes, EncodeError> {
        if let Some(crate::protocol::Payload::Raw(raw)) = msg.payload() {
            if raw.len() >= SHARED_ENCODING {
                let mut envelope = Vec::with_capacity(64);
                self.encode_serde(&Envelope(msg), &mut envelope)?;
                return raw.message_for(self, &envelope, || {
                    let mut out = Vec::with_capacity(envelope.len() + raw.len() + 2);
                    self.encode_spliced(msg, raw, &mut out)?;
                    Ok(Bytes::from(out))
                });
            }
        }
        let mut out = Vec::with_capacity(128);
        self.encode_into(msg, &mut out)?;
        Ok(Bytes::from(out))
    }

    fn encode_serde<T: serde::Serialize + ?Sized>(
        self,
        msg: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        match self {
            Serializer::Json => writer::to_writer::<json::Json, _>(out, msg),
            Serializer::MsgPack => writer::to_writer::<msgpack::MsgPack, _>(out, msg),
        }
        .map_err(|e| EncodeError { serializer: self.name(), reason: e.to_string() })
    }

    /// Encodes one value, appending to `out`.
    pub fn encode_value_into(self, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_serde(value, out)
    }

    /// The envelope (every field before the payload), then the payload's
    /// bytes as they are.
    fn encode_spliced(
        self,
        msg: &WampMessage,
        raw: &RawPayload,
        out: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let Spliced { head, body, tail } = self.encode_parts(msg, raw)?;
        out.extend_from_slice(&head);
        out.extend_from_slice(&body);
        out.extend_from_slice(tail);
        Ok(())
    }

    /// A message whose payload `raw` is kept as bytes, in three pieces to
    /// write one after the other, so that the payload is not copied into
    /// a buffer of the whole message (the WebSocket layer hands it to the
    /// connection as it is).
    pub(crate) fn encode_parts(self, msg: &WampMessage, raw: &RawPayload) -> Result<Spliced, EncodeError> {
        let (data, elements) = raw.encoded_for(self)?;
        let mut head = Vec::with_capacity(64);
        self.encode_serde(&Envelope(msg), &mut head)?;
        let tail: &'static [u8] = match self {
            Serializer::Json => {
                // `[...]`: reopen the list, add the elements, close it.
                head.pop();
                head.push(b',');
                b"]"
            }
            Serializer::MsgPack => {
                // An envelope has at most 6 fields: its list header is a
                // single fixarray byte holding the count.
                match head.first_mut() {
                    Some(header) if (0x90..=0x9a).contains(header) => *header += elements,
                    _ => {
                        return Err(EncodeError {
                            serializer: self.name(),
                            reason: "unexpected list header for a message envelope".into(),
                        })
                    }
                }
                b""
            }
        };
        Ok(Spliced { head, body: data.clone(), tail })
    }

    /// Decodes one message held in shared bytes, as a router does: the
    /// message is first checked against a budget (nesting depth and
    /// number of values, so a message costs memory in proportion to its
    /// size), and the arguments of a message that carries them are kept as
    /// bytes ([`RawPayload`]) instead of being decoded.
    pub fn decode_shared(self, data: &Bytes) -> Result<WampMessage, DecodeError> {
        let malformed = |reason: String| DecodeError::Malformed { serializer: self.name(), reason };
        let budget = Budget::default();
        // A small message that goes to one receiver is cheaper to decode in
        // full (and to encode again) than to keep as bytes; a small
        // publication may reach many subscribers, so it is kept.
        if data.len() <= SMALL_MESSAGE && self.peek_code(data) != Some(code::PUBLISH) {
            // Its size bounds how many values it holds, not how deep they
            // nest: a peer's decoder may refuse what ours would accept.
            // Every list or dictionary takes a byte that opens it, so a
            // message with few such bytes needs no closer look.
            if self.openings(data) > MAX_DEPTH {
                match self {
                    Serializer::Json if !json_depth_within_budget(data) => {
                        return Err(malformed(format!("values are nested deeper than {MAX_DEPTH} levels")));
                    }
                    Serializer::Json => {}
                    Serializer::MsgPack => {
                        msgpack::check_value(data, 0, &budget, 0).map_err(malformed)?;
                    }
                }
            }
            return self.decode(data);
        }
        let elements = match self {
            Serializer::Json => split_json(data, &budget).map_err(malformed)?,
            Serializer::MsgPack => split_msgpack(data, &budget).map_err(malformed)?,
        };
        let Some(elements) = elements else {
            // Not a list: the full decoding names the problem.
            return self.decode(data);
        };
        let first = |i: usize| elements.get(i).and_then(|(start, _)| data.get(*start));
        let fields = elements
            .first()
            .and_then(|(start, end)| self.decode_value(&data[*start..*end]).ok())
            .and_then(|code| code.as_u64())
            .and_then(fields_before_payload);
        let raw_payload = match fields {
            Some(fields) if elements.len() > fields && elements.len() <= fields + 2 => {
                let args_is_list = first(fields).is_some_and(|b| self.opens_list(*b));
                let kwargs_ok =
                    elements.len() == fields + 1 || first(fields + 1).is_some_and(|b| self.opens_dict(*b));
                (args_is_list && kwargs_ok).then_some(fields)
            }
            _ => None,
        };
        let Some(fields) = raw_payload else {
            // Nothing to keep as bytes (or a payload of the wrong shape,
            // which the full decoding reports); the budget was kept.
            return self.decode(data);
        };
        let mut envelope = List::with_capacity(fields);
        for (start, end) in &elements[..fields] {
            envelope.push(self.decode_value(&data[*start..*end])?);
        }
        let (payload_start, payload_end) = (elements[fields].0, elements[elements.len() - 1].1);
        let count = u8::try_from(elements.len() - fields).unwrap_or(2);
        let payload = data.slice(payload_start..payload_end);
        // A slice keeps the whole message's buffer alive while queues and
        // retained events count only the payload: a payload that is less
        // than half of its message (small arguments in large options) gets
        // bytes of its own.
        let payload = if payload.len() < data.len() / 2 { Bytes::copy_from_slice(&payload) } else { payload };
        let raw = RawPayload::new(self, payload, count);
        WampMessage::from_parts(envelope, Some(raw))
    }

    /// How many bytes of `data` could open a list or a dictionary (more
    /// than do: strings and numbers may hold such bytes too).
    fn openings(self, data: &[u8]) -> usize {
        match self {
            Serializer::Json => count_bytes(data, |b| (b | 0x20) == b'{'),
            Serializer::MsgPack => count_bytes(data, |b| ((b & 0xe0) == 0x80) | ((b & 0xfc) == 0xdc)),
        }
    }

    /// The type code of a message, read from its first bytes without
    /// decoding it (`None` if it is not a plain list of a small integer).
    fn peek_code(self, data: &[u8]) -> Option<u64> {
        match self {
            Serializer::Json => {
                let text = data.strip_prefix(b"[")?;
                let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
                let digits = text[start..].iter().take_while(|b| b.is_ascii_digit()).count();
                std::str::from_utf8(&text[start..start + digits]).ok()?.parse().ok()
            }
            // A fixarray header, then a positive fixint.
            Serializer::MsgPack => match data {
                [0x90..=0x9f, code @ 0x00..=0x7f, ..] => Some(u64::from(*code)),
                _ => None,
            },
        }
    }

    fn opens_list(self, first_byte: u8) -> bool {
        match self {
            Serializer::Json => first_byte == b'[',
            Serializer::MsgPack => matches!(first_byte, 0x90..=0x9f | 0xdc | 0xdd),
        }
    }

    fn opens_dict(self, first_byte: u8) -> bool {
        match self {
            Serializer::Json => first_byte == b'{',
            Serializer::MsgPack => matches!(first_byte, 0x80..=0x8f | 0xde | 0xdf),
        }
    }

    /// Decodes one message. Never panics; every problem is a [`DecodeError`].
    pub fn decode(self, data: &[u8]) -> Result<WampMessage, DecodeError> {
        match self.decode_value(data)? {
            Value::List(list) => WampMessage::from_list(list),
            other => Err(DecodeError::NotAList(other.kind())),
        }
    }

    /// Decodes any value (not necessarily a message).
    pub fn decode_value(self, data: &[u8]) -> Result<Value, DecodeError> {
        let malformed = |reason: String| DecodeError::Malformed { serializer: self.name(), reason };
        match self {
            Serializer::Json => {
                if let Some(value) = json::decode_value(data) {
                    return Ok(value);
                }
                let mut de = serde_json::Deserializer::from_slice(data);
                let v = serde::Deserialize::deserialize(&mut de).map_err(|e| malformed(e.to_string()))?;
                de.end().map_err(|e| malformed(e.to_string()))?;
                Ok(v)
            }
            Serializer::MsgPack => msgpack::decode_value(data).map_err(malformed),
        }
    }
}

/// How many bytes of `data` are `counted`: byte-sized sums of 0 and 1
/// over runs of 255, which the compiler turns into vector instructions
/// (`counted` is inlined: a function pointer would cost a call per byte).
fn count_bytes(data: &[u8], counted: impl Fn(u8) -> bool) -> usize {
    data.chunks(255).map(|run| usize::from(run.iter().fold(0u8, |n, &b| n + u8::from(counted(b))))).sum()
}

/// An encoded message in three pieces ([`Serializer::encode_parts`]).
pub(crate) struct Spliced {
    /// Every field before the payload, the list's header counting the
    /// payload's elements too.
    pub head: Vec<u8>,
    /// The payload's elements, shared with the message they came in.
    pub body: Bytes,
    /// What closes the list (`]` in JSON).
    pub tail: &'static [u8],
}

impl Spliced {
    /// The whole message's length.
    pub(crate) fn len(&self) -> usize {
        self.head.len() + self.body.len() + self.tail.len()
    }
}

/// Payloads kept as bytes from this size on are encoded once per
/// serializer and shared by [`Serializer::encode_shared`]; below it, the
/// bookkeeping costs more than encoding again.
pub(crate) const SHARED_ENCODING: usize = 16 * 1024;

/// Messages up to this size that go to a single receiver (anything but
/// PUBLISH) are decoded in full by [`Serializer::decode_shared`]: for a
/// 64-byte CALL, decoding and encoding took 348 ns (JSON) and 312 ns
/// (MessagePack), keeping the arguments as bytes 514 and 364 ns. Their
/// size alone keeps them within the budget.
const SMALL_MESSAGE: usize = 1024;

/// How many fields (type code included) come before the payload in a
/// message type that carries one.
fn fields_before_payload(code: u64) -> Option<usize> {
    match code {
        code::ERROR => Some(5),
        code::PUBLISH | code::EVENT | code::CALL | code::INVOCATION => Some(4),
        code::RESULT | code::YIELD => Some(3),
        _ => None,
    }
}

/// The byte ranges of the elements of a JSON message, checked against the
/// budget; `None` if the data is not a list.
///
/// The text is checked for UTF-8 once, with `simdutf8`, and parsed as a
/// `str` (a slice would have every string checked again); the elements'
/// bounds then come from [`json_elements`], which only has to find the
/// ends of strings in text known to be well-formed.
fn split_json(data: &[u8], budget: &Budget) -> Result<Option<Vec<(usize, usize)>>, String> {
    let text = simdutf8::basic::from_utf8(data).map_err(|_| "the message is not UTF-8 text".to_string())?;
    let mut de = serde_json::Deserializer::from_str(text);
    Check { budget, depth: 0, shape: Shape::Any, text_bytes: true }
        .deserialize(&mut de)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(json_elements(data))
}

/// The byte ranges of the elements of `data`, well-formed JSON text, if it
/// is a list: each from its first byte to its last, without the
/// whitespace around it.
fn json_elements(data: &[u8]) -> Option<Vec<(usize, usize)>> {
    let skip_whitespace = |mut pos: usize| {
        while data.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
            pos += 1;
        }
        pos
    };
    let mut pos = skip_whitespace(0);
    if data.get(pos) != Some(&b'[') {
        return None;
    }
    pos = skip_whitespace(pos + 1);
    let mut elements = Vec::new();
    if data.get(pos) == Some(&b']') {
        return Some(elements);
    }
    loop {
        let start = pos;
        let mut depth = 0usize;
        // Up to the comma or bracket that ends the element.
        let stop = loop {
            match *data.get(pos)? {
                b'"' => {
                    pos = json_string_end(data, pos + 1)?;
                    continue;
                }
                b'[' | b'{' => depth += 1,
                stop @ (b']' | b'}') if depth == 0 => break stop,
                b']' | b'}' => depth -= 1,
                b',' if depth == 0 => break b',',
                _ => {}
            }
            pos += 1;
        };
        let mut end = pos;
        while end > start && data[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        elements.push((start, end));
        if stop != b',' {
            return Some(elements);
        }
        pos = skip_whitespace(pos + 1);
    }
}

/// Whether JSON text nests lists and dictionaries at most [`MAX_DEPTH`]
/// deep (the message's own list counted), read from the brackets outside
/// strings without parsing. Text that is not well-formed passes and is
/// left to the parser.
fn json_depth_within_budget(data: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut pos = 0;
    while let Some(&byte) = data.get(pos) {
        match byte {
            b'"' => match json_string_end(data, pos + 1) {
                Some(end) => {
                    pos = end;
                    continue;
                }
                None => return true,
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        pos += 1;
    }
    true
}

/// Where the JSON string whose text starts at `pos` ends (after its
/// closing quote).
fn json_string_end(data: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        pos += memchr::memchr2(b'"', b'\\', data.get(pos..)?)?;
        if data[pos] == b'"' {
            return Some(pos + 1);
        }
        // An escape: the next character is taken as it is.
        pos += 2;
    }
}

/// The byte ranges of the elements of a MessagePack message, checked
/// against the budget; `None` if the data is not a list. Each element is
/// read in place, without being decoded ([`msgpack::check_value`]).
fn split_msgpack(data: &[u8], budget: &Budget) -> Result<Option<Vec<(usize, usize)>>, String> {
    let mut cursor = std::io::Cursor::new(data);
    let Ok(len) = rmp::decode::read_array_len(&mut cursor) else {
        // Not a list: check what it is against the budget all the same.
        msgpack::check_value(data, 0, budget, 0)?;
        return Ok(None);
    };
    // Each element takes at least one byte: a length beyond the data is a lie.
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > data.len() {
        return Err(format!("a list of {len} elements in {} bytes", data.len()));
    }
    let mut start = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
    // No message has more than seven elements: the length is the peer's
    // word, so it sizes nothing.
    let mut elements = Vec::with_capacity(len.min(8));
    for _ in 0..len {
        let end = msgpack::check_value(data, start, budget, 1)?;
        elements.push((start, end));
        start = end;
    }
    if start != data.len() {
        return Err(format!("{} trailing bytes after the message", data.len().saturating_sub(start)));
    }
    Ok(Some(elements))
}

impl std::fmt::Display for Serializer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.subprotocol())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Dict, Payload};

    fn raw(message: &WampMessage) -> &RawPayload {
        match message.payload() {
            Some(Payload::Raw(raw)) => raw,
            other => panic!("expected a raw payload, got {other:?}"),
        }
    }

    #[test]
    fn a_json_payload_is_kept_and_written_back_byte_for_byte() {
        let text: &[u8] = br#"[16,7,{"acknowledge":true},"com.a.b",[1,"x",{"k":[true,null]}],{"z":1.5}]"#;
        let message = Serializer::Json.decode_shared(&Bytes::from_static(text)).unwrap();
        assert_eq!(raw(&message).elements(), 2);
        assert_eq!(Serializer::Json.encode(&message).unwrap(), text);
        // The same message, fully decoded, is equal to it.
        assert_eq!(message, Serializer::Json.decode(text).unwrap());
    }

    #[test]
    fn a_msgpack_payload_is_kept_and_written_back_byte_for_byte() {
        let full = WampMessage::Publish {
            request: 3,
            options: Dict::new(),
            topic: "com.a".into(),
            payload: Payload::args(vec![Value::Bytes(vec![1, 2, 3]), Value::from(-5)]),
        };
        let data = Serializer::MsgPack.encode(&full).unwrap();
        let message = Serializer::MsgPack.decode_shared(&Bytes::from(data.clone())).unwrap();
        assert_eq!(raw(&message).elements(), 1);
        assert_eq!(Serializer::MsgPack.encode(&message).unwrap(), data);
        assert_eq!(message, full);
    }

    #[test]
    fn the_bounds_of_json_elements_are_those_serde_json_finds() {
        let texts = [
            "[1]",
            "[]",
            " [ ] ",
            " [ 1 , \"a,]\\\"[\" , {\"k\": [1, {\"x\": \"}\"}]} , [ ] , null ,-1.5e3,true] ",
            "[\"\\\\\", \"\\\\\\\"\", \"\\u0000AAE=\"]",
            "[\n\t48,\r\n 1, {}, \"a.b\", [\"\u{e9}\u{6f22}\"], {\"k\": {}}\n]",
        ];
        for text in texts {
            let raw: Vec<&serde_json::value::RawValue> = serde_json::from_str(text).unwrap();
            let expected: Vec<&str> = raw.iter().map(|r| r.get()).collect();
            let found = json_elements(text.as_bytes()).unwrap();
            let found: Vec<&str> = found.iter().map(|(start, end)| &text[*start..*end]).collect();
            assert_eq!(found, expected, "{text}");
        }
        assert_eq!(json_elements(b"{\"a\": [1]}"), None);
        assert_eq!(json_elements(b" \"[1]\""), None);
    }

    #[test]
    fn json_that_is_not_utf8_is_refused() {
        let mut data = br#"[16,1,{},"a.b",[""#.to_vec();
        data.extend_from_slice(&[0xff, 0xfe]);
        data.extend_from_slice(br#""]]"#);
        assert!(Serializer::Json.decode_shared(&Bytes::from(data.clone())).is_err());
        assert!(Serializer::Json.decode(&data).is_err());
    }

    #[test]
    fn the_events_of_one_publication_share_one_encoding_per_serializer() {
        let big = "x".repeat(SHARED_ENCODING);
        let publish = WampMessage::Publish {
            request: 3,
            options: Dict::new(),
            topic: "com.a".into(),
            payload: Payload::args(vec![Value::from(big.as_str())]),
        };
        let data = Serializer::MsgPack.encode(&publish).unwrap();
        let WampMessage::Publish { payload, .. } =
            Serializer::MsgPack.decode_shared(&Bytes::from(data)).unwrap()
        else {
            panic!("PUBLISH")
        };
        let event = |subscription: u64| WampMessage::Event {
            subscription,
            publication: 9,
            details: Dict::new(),
            payload: payload.clone(),
        };
        for serializer in Serializer::ALL {
            let first = serializer.encode_shared(&event(1)).unwrap();
            let second = serializer.encode_shared(&event(1)).unwrap();
            assert_eq!(first.as_ptr(), second.as_ptr(), "{serializer}: one encoding, shared");
            assert_eq!(
                first,
                serializer.encode(&event(1)).unwrap(),
                "{serializer}: the same bytes as encode"
            );
            // Another envelope (subscription) is encoded on its own.
            let other = serializer.encode_shared(&event(2)).unwrap();
            assert_ne!(other.as_ptr(), first.as_ptr());
            assert_eq!(serializer.decode(&other).unwrap(), event(2));
        }
    }

    #[test]
    fn a_raw_payload_is_converted_for_the_other_serializer_binary_values_included() {
        let bytes = Value::Bytes(vec![0, 1, 2, 255]);
        let mut kwargs = Dict::new();
        kwargs.insert("blob".into(), bytes.clone());
        let full = WampMessage::Yield {
            request: 9,
            options: Dict::new(),
            payload: Payload::new(vec![bytes], kwargs),
        };
        for (from, to) in [(Serializer::Json, Serializer::MsgPack), (Serializer::MsgPack, Serializer::Json)] {
            let data = from.encode(&full).unwrap();
            let message = from.decode_shared(&Bytes::from(data)).unwrap();
            let converted = to.encode(&message).unwrap();
            assert_eq!(converted, to.encode(&full).unwrap(), "{from} to {to}");
            assert_eq!(to.decode(&converted).unwrap(), full);
        }
    }

    #[test]
    fn small_messages_for_one_receiver_are_decoded_in_full_and_publications_kept() {
        let call = |size: usize| WampMessage::Call {
            request: 1,
            options: Dict::new(),
            procedure: "com.a".into(),
            payload: Payload::args(vec![Value::from("z".repeat(size))]),
        };
        for s in Serializer::ALL {
            let small = s.decode_shared(&Bytes::from(s.encode(&call(16)).unwrap())).unwrap();
            assert!(matches!(small.payload(), Some(Payload::Values { .. })), "{s}");
            let large = s.decode_shared(&Bytes::from(s.encode(&call(2 * SMALL_MESSAGE)).unwrap())).unwrap();
            assert!(matches!(large.payload(), Some(Payload::Raw(_))), "{s}");
            assert_eq!(large, call(2 * SMALL_MESSAGE));
        }
    }

    #[test]
    fn messages_without_a_payload_or_with_a_transparent_one_are_decoded_in_full() {
        let subscribe = br#"[32,1,{},"com.a"]"#;
        let message = Serializer::Json.decode_shared(&Bytes::from_static(subscribe)).unwrap();
        assert!(matches!(message, WampMessage::Subscribe { .. }));
        let transparent = WampMessage::Call {
            request: 1,
            options: Dict::new(),
            procedure: "com.a".into(),
            payload: Payload::Transparent(vec![9, 9]),
        };
        for s in Serializer::ALL {
            let data = Bytes::from(s.encode(&transparent).unwrap());
            assert_eq!(s.decode_shared(&data).unwrap(), transparent);
        }
    }

    #[test]
    fn the_errors_of_full_decoding_are_kept() {
        let err = Serializer::Json.decode_shared(&Bytes::from_static(br#"{"a": 1}"#)).unwrap_err();
        assert_eq!(err.to_string(), "a WAMP message must be a list, got a dictionary");
        let err = Serializer::Json.decode_shared(&Bytes::from_static(br#"[48,1,{},"a.b",5]"#)).unwrap_err();
        assert_eq!(err.to_string(), "CALL message: Arguments must be a list, got an integer");
        let err =
            Serializer::Json.decode_shared(&Bytes::from_static(br#"[48,1,{},"a.b",[],{},3]"#)).unwrap_err();
        assert!(err.to_string().contains("trailing"), "{err}");
    }

    #[test]
    fn a_binary_dictionary_key_is_taken_as_by_the_full_decoding() {
        // SUBSCRIBE with options {bin "k": 1}.
        let data = [0x94, 0x20, 0x01, 0x81, 0xc4, 0x01, b'k', 0x01, 0xa1, b'a'];
        let full = Serializer::MsgPack.decode(&data);
        let shared = Serializer::MsgPack.decode_shared(&Bytes::copy_from_slice(&data));
        assert_eq!(shared, full);
    }

    #[test]
    fn the_budget_bounds_depth_and_values() {
        let deep = format!("[16,1,{{}},\"a.b\",{}{}]", "[".repeat(100), "]".repeat(100));
        let err = Serializer::Json.decode_shared(&Bytes::from(deep)).unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
        // A million and one nils in one list (array32 header).
        let count = crate::protocol::raw::MAX_ELEMENTS + 1;
        let mut data = vec![0x95, 16, 1, 0x80, 0xa3, b'a', b'.', b'b', 0xdd];
        data.extend_from_slice(&u32::try_from(count).unwrap().to_be_bytes());
        data.extend(std::iter::repeat_n(0xc0, count));
        let err = Serializer::MsgPack.decode_shared(&Bytes::from(data)).unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
        // A detail dictionary is held to the same budget.
        let mut hello = vec![0x93, 1, 0xa1, b'r', 0xdf];
        hello.extend_from_slice(&u32::try_from(count).unwrap().to_be_bytes());
        for i in 0..count {
            hello.extend_from_slice(&[0xa1, b'k', 0xcd]);
            hello.extend_from_slice(&u16::try_from(i % 60000).unwrap().to_be_bytes());
        }
        assert!(Serializer::MsgPack.decode_shared(&Bytes::from(hello)).is_err());
    }

    #[test]
    fn a_small_payload_in_a_large_message_does_not_keep_the_message() {
        let inside = |message: &WampMessage, data: &Bytes| {
            let (bytes, _) = raw(message).encoded_for(Serializer::Json).unwrap();
            let range = data.as_ptr() as usize..data.as_ptr() as usize + data.len();
            range.contains(&(bytes.as_ptr() as usize))
        };
        let padded = Bytes::from(format!("[16,1,{{\"x_pad\":\"{}\"}},\"a.b\",[1]]", "p".repeat(4096)));
        let message = Serializer::Json.decode_shared(&padded).unwrap();
        assert!(!inside(&message, &padded), "copied out of the message");
        assert_eq!(raw(&message).encoded_for(Serializer::Json).unwrap().0.as_ref(), b"[1]");
        let large = Bytes::from(format!("[16,1,{{}},\"a.b\",[\"{}\"]]", "p".repeat(4096)));
        let message = Serializer::Json.decode_shared(&large).unwrap();
        assert!(inside(&message, &large), "shared with the message");
    }

    #[test]
    fn a_detached_payload_shares_the_bytes_but_nothing_derived_from_them() {
        let data = Bytes::from(format!("[16,1,{{}},\"a.b\",[\"{}\"]]", "p".repeat(2048)));
        let message = Serializer::Json.decode_shared(&data).unwrap();
        let original = raw(&message);
        original.values().unwrap();
        original.encoded_for(Serializer::MsgPack).unwrap();
        assert!(original.has_derived());
        let kept = original.detached();
        let bytes = |p: &RawPayload| p.encoded_for(Serializer::Json).unwrap().0.as_ptr();
        assert_eq!(bytes(&kept), bytes(original));
        assert!(!kept.has_derived());
    }

    #[test]
    fn small_messages_are_held_to_the_same_depth() {
        // A CALL of under 1 KiB, which is decoded in full, nesting its
        // arguments 64 and 65 levels deep with the message's own list.
        let call =
            |levels: usize| format!("[48,1,{{}},\"a.b\",{}{}]", "[".repeat(levels), "]".repeat(levels));
        assert!(Serializer::Json.decode_shared(&Bytes::from(call(63))).is_ok());
        let err = Serializer::Json.decode_shared(&Bytes::from(call(64))).unwrap_err();
        assert!(err.to_string().contains("nested deeper than 64"), "{err}");
        // Brackets inside strings do not count.
        let quoted = format!("[48,1,{{}},\"a.b\",[\"{}\\\"\"]]", "[".repeat(500));
        assert!(Serializer::Json.decode_shared(&Bytes::from(quoted)).is_ok());
        let msgpack = |levels: usize| {
            let mut data = vec![0x95, 48, 1, 0x80, 0xa3, b'a', b'.', b'b'];
            data.extend(std::iter::repeat_n(0x91, levels));
            data.push(0xc0);
            data
        };
        assert!(Serializer::MsgPack.decode_shared(&Bytes::from(msgpack(63))).is_ok());
        let err = Serializer::MsgPack.decode_shared(&Bytes::from(msgpack(64))).unwrap_err();
        assert!(err.to_string().contains("nested deeper than 64"), "{err}");
    }

    #[test]
    fn a_list_length_larger_than_any_message_sizes_nothing() {
        // array32 claiming 2 million elements, carried by 2 MiB of nils:
        // refused by the budget, the element bounds growing as they are read.
        let count = 2_000_000usize;
        let mut data = vec![0xdd];
        data.extend_from_slice(&u32::try_from(count).unwrap().to_be_bytes());
        data.extend(std::iter::repeat_n(0xc0, count));
        let err = Serializer::MsgPack.decode_shared(&Bytes::from(data)).unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
    }

    #[test]
    fn huge_length_prefixes_fail_without_allocating() {
        // bin32, str32, array32 and map32 that claim 4 GiB but carry nothing.
        for prefix in [0xc6u8, 0xdb, 0xdd, 0xdf] {
            let data = [0x92, 0x01, prefix, 0xff, 0xff, 0xff, 0xff];
            assert!(Serializer::MsgPack.decode(&data).is_err());
        }
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        assert!(Serializer::Json.decode(b"[6,{},\"wamp.close.normal\"] x").is_err());
        assert!(Serializer::MsgPack.decode(&[0x93, 0x06, 0x80, 0xa1, b'a', 0x00]).is_err());
    }

    #[test]
    fn errors_name_the_message_and_field() {
        let err = Serializer::Json.decode(br#"[48, 0, {}, "a.b"]"#).unwrap_err();
        assert_eq!(err.to_string(), "CALL message: Request 0 is outside the id range [1, 2^53]");
        let err = Serializer::Json.decode(br#"[48, 1, [], "a.b"]"#).unwrap_err();
        assert_eq!(err.to_string(), "CALL message: Options must be a dictionary, got a list");
        let err = Serializer::Json.decode(br#"[999]"#).unwrap_err();
        assert_eq!(err.to_string(), "unknown message type 999");
        let err = Serializer::Json.decode(br#"{"a": 1}"#).unwrap_err();
        assert_eq!(err.to_string(), "a WAMP message must be a list, got a dictionary");
    }
}
