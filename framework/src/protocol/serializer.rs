//! The wire serializers: JSON (`wamp.2.json`) and MessagePack
//! (`wamp.2.msgpack`).

use super::message::Message;
use super::value::Value;
use super::{DecodeError, EncodeError};

/// A WAMP serializer, chosen per connection by WebSocket subprotocol.
///
/// ```
/// use wamp::protocol::{Message, Serializer};
/// let msg = Message::Goodbye { details: Default::default(), reason: "wamp.close.normal".into() };
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
    pub fn encode(self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(128);
        self.encode_into(msg, &mut out)?;
        Ok(out)
    }

    /// Encodes a message, appending to `out`.
    pub fn encode_into(self, msg: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Serializer::Json => serde_json::to_writer(&mut *out, msg)
                .map_err(|e| EncodeError { serializer: self.name(), reason: e.to_string() }),
            Serializer::MsgPack => {
                let mut ser = rmp_serde::Serializer::new(&mut *out);
                msg.serialize(&mut ser)
                    .map_err(|e| EncodeError { serializer: self.name(), reason: e.to_string() })
            }
        }
    }

    /// Decodes one message. Never panics; every problem is a [`DecodeError`].
    pub fn decode(self, data: &[u8]) -> Result<Message, DecodeError> {
        match self.decode_value(data)? {
            Value::List(list) => Message::from_list(list),
            other => Err(DecodeError::NotAList(other.kind())),
        }
    }

    /// Decodes any value (not necessarily a message).
    pub fn decode_value(self, data: &[u8]) -> Result<Value, DecodeError> {
        let malformed = |reason: String| DecodeError::Malformed { serializer: self.name(), reason };
        match self {
            Serializer::Json => {
                let mut de = serde_json::Deserializer::from_slice(data);
                let v = serde::Deserialize::deserialize(&mut de).map_err(|e| malformed(e.to_string()))?;
                de.end().map_err(|e| malformed(e.to_string()))?;
                Ok(v)
            }
            Serializer::MsgPack => {
                let mut cursor = std::io::Cursor::new(data);
                let v = {
                    let mut de = rmp_serde::Deserializer::new(&mut cursor);
                    serde::Deserialize::deserialize(&mut de).map_err(|e| malformed(e.to_string()))?
                };
                let used = usize::try_from(cursor.position()).unwrap_or(usize::MAX);
                if used != data.len() {
                    return Err(malformed(format!(
                        "{} trailing bytes after the message",
                        data.len().saturating_sub(used)
                    )));
                }
                Ok(v)
            }
        }
    }
}

use serde::Serialize as _;

impl std::fmt::Display for Serializer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.subprotocol())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
