//! The load's messages on the wire, without building or decoding values.
//!
//! A load client sends the same message over and over with only the request
//! id changing, and needs only the type and first id of what it receives.
//! Encoding each message from values and decoding each answer into values
//! made the load tool's work per message grow with the payload: at 64 KiB
//! it did more than the router, and shared the machine with it, so the
//! rates measured the load tool. Here a message is encoded once into a
//! [`Template`] and each send only writes the id between its two halves;
//! an answer is read by its head ([`head`]) and its payload compared with
//! the bytes that were sent ([`Template::carried_by`]), which checks more
//! than decoding did and costs a comparison.

use wamp::protocol::{Payload, Serializer, Value, WampMessage};

type BoxError = Box<dyn std::error::Error>;

/// Stands for the request id while a template is encoded: MessagePack
/// writes it in nine bytes and JSON as sixteen digits, neither of which a
/// payload of the load contains.
const PLACEHOLDER: u64 = (1 << 53) - 1;

/// A message encoded once, with a hole where its request id goes.
pub enum Template {
    /// The text before and after the id.
    Json { head: String, tail: String, payload: String },
    /// The bytes before and after the id.
    MsgPack { head: Vec<u8>, tail: Vec<u8>, payload: Vec<u8> },
}

/// A frame to send: text for JSON, binary for MessagePack.
pub enum Frame {
    /// A JSON message.
    Text(String),
    /// A MessagePack message.
    Binary(Vec<u8>),
}

impl Template {
    /// Encodes the message `message` builds for a placeholder request id,
    /// and remembers how its payload's arguments end a message: every
    /// message the load receives in answer ends with them.
    pub fn new(serializer: Serializer, message: impl Fn(u64) -> WampMessage) -> Result<Template, BoxError> {
        let encoded = serializer.encode(&message(PLACEHOLDER))?;
        let args = match message(0) {
            WampMessage::Call { payload, .. }
            | WampMessage::Publish { payload, .. }
            | WampMessage::Yield { payload, .. } => payload_args(payload)?,
            other => return Err(format!("no template for {other:?}").into()),
        };
        let mut payload = Vec::new();
        serializer.encode_value_into(&Value::List(args), &mut payload)?;
        match serializer {
            Serializer::Json => {
                let text = String::from_utf8(encoded)?;
                let (head, tail) = text
                    .split_once(&PLACEHOLDER.to_string())
                    .ok_or("the placeholder is not in the message")?;
                let mut payload = String::from_utf8(payload)?;
                payload.push(']');
                Ok(Template::Json { head: head.to_owned(), tail: tail.to_owned(), payload })
            }
            Serializer::MsgPack => {
                let mut placeholder = Vec::new();
                write_uint(&mut placeholder, PLACEHOLDER);
                let at = encoded
                    .windows(placeholder.len())
                    .position(|w| w == placeholder.as_slice())
                    .ok_or("the placeholder is not in the message")?;
                Ok(Template::MsgPack {
                    head: encoded[..at].to_vec(),
                    tail: encoded[at + placeholder.len()..].to_vec(),
                    payload,
                })
            }
        }
    }

    /// The message with `request` as its id.
    pub fn frame(&self, request: u64) -> Frame {
        match self {
            Template::Json { head, tail, .. } => {
                let mut text = String::with_capacity(head.len() + 20 + tail.len());
                text.push_str(head);
                text.push_str(&request.to_string());
                text.push_str(tail);
                Frame::Text(text)
            }
            Template::MsgPack { head, tail, .. } => {
                let mut data = Vec::with_capacity(head.len() + 9 + tail.len());
                data.extend_from_slice(head);
                write_uint(&mut data, request);
                data.extend_from_slice(tail);
                Frame::Binary(data)
            }
        }
    }

    /// Whether `data`, a message received, ends with this template's
    /// arguments exactly as they were sent (and no keyword arguments).
    pub fn carried_by(&self, data: &[u8]) -> bool {
        match self {
            Template::Json { payload, .. } => data.ends_with(payload.as_bytes()),
            Template::MsgPack { payload, .. } => data.ends_with(payload),
        }
    }
}

fn payload_args(payload: Payload) -> Result<Vec<Value>, BoxError> {
    let (args, kwargs) = payload.into_parts();
    if !kwargs.is_empty() {
        return Err("templates carry arguments only".into());
    }
    Ok(args)
}

/// The type code and the first id of a received message, read without
/// decoding the rest.
pub fn head(serializer: Serializer, data: &[u8]) -> Option<(u64, u64)> {
    match serializer {
        Serializer::Json => {
            let mut rest = data.trim_ascii_start().strip_prefix(b"[")?;
            let mut number = || {
                let text = rest.trim_ascii_start();
                let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
                let value = std::str::from_utf8(&text[..digits]).ok()?.parse().ok()?;
                rest = text[digits..].trim_ascii_start();
                rest = rest.strip_prefix(b",").unwrap_or(rest);
                Some(value)
            };
            Some((number()?, number()?))
        }
        Serializer::MsgPack => {
            let mut rest = match *data.first()? {
                0x90..=0x9f => &data[1..],
                0xdc => data.get(3..)?,
                0xdd => data.get(5..)?,
                _ => return None,
            };
            Some((read_uint(&mut rest)?, read_uint(&mut rest)?))
        }
    }
}

/// Appends `value` as a MessagePack unsigned integer, in as few bytes as
/// it fits.
fn write_uint(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=0x7f => out.push(value as u8),
        0x80..=0xff => out.extend_from_slice(&[0xcc, value as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(0xcf);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

/// Reads a MessagePack unsigned integer off the front of `data`.
fn read_uint(data: &mut &[u8]) -> Option<u64> {
    let (&marker, rest) = data.split_first()?;
    let width = match marker {
        0x00..=0x7f => {
            *data = rest;
            return Some(u64::from(marker));
        }
        0xcc => 1,
        0xcd => 2,
        0xce => 4,
        0xcf => 8,
        _ => return None,
    };
    let (bytes, rest) = rest.split_at_checked(width)?;
    *data = rest;
    Some(bytes.iter().fold(0u64, |value, &b| value << 8 | u64::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wamp::protocol::Dict;

    fn call(request: u64) -> WampMessage {
        WampMessage::Call {
            request,
            options: Dict::new(),
            procedure: "bench.echo".into(),
            payload: Payload::args(vec![Value::from("x".repeat(300))]),
        }
    }

    #[test]
    fn a_template_frame_is_the_message_encoded() {
        for serializer in [Serializer::Json, Serializer::MsgPack] {
            let template = Template::new(serializer, call).unwrap();
            for request in [0, 1, 127, 128, 255, 256, 65_535, 65_536, 1 << 32, (1 << 53) - 2] {
                let data = match template.frame(request) {
                    Frame::Text(text) => text.into_bytes(),
                    Frame::Binary(data) => data,
                };
                assert_eq!(data, serializer.encode(&call(request)).unwrap(), "{serializer} {request}");
                assert_eq!(head(serializer, &data), Some((48, request)));
                assert!(template.carried_by(&data));
                assert!(!template.carried_by(&data[..data.len() - 2]));
            }
        }
    }

    #[test]
    fn a_result_carries_the_arguments_of_the_call() {
        for serializer in [Serializer::Json, Serializer::MsgPack] {
            let template = Template::new(serializer, call).unwrap();
            let WampMessage::Call { payload, .. } = call(0) else { unreachable!() };
            let result = WampMessage::Result { request: 7, details: Dict::new(), payload };
            let data = serializer.encode(&result).unwrap();
            assert_eq!(head(serializer, &data), Some((50, 7)));
            assert!(template.carried_by(&data));
        }
    }

    #[test]
    fn heads_that_are_not_messages_are_refused() {
        assert_eq!(head(Serializer::Json, b" [ 50 , 7 , {}]"), Some((50, 7)));
        assert_eq!(head(Serializer::Json, b"{\"a\": 1}"), None);
        assert_eq!(head(Serializer::Json, b"[50]"), None);
        assert_eq!(head(Serializer::MsgPack, &[0x92, 0x32, 0xcd, 0x01]), None);
        assert_eq!(head(Serializer::MsgPack, &[0x92, 0x32, 0xcd, 0x01, 0x00]), Some((50, 256)));
        assert_eq!(head(Serializer::MsgPack, &[0x80]), None);
    }
}
