//! Decoding arbitrary bytes, then encoding and decoding the result again.
//!
//! Bytes from a peer are the first line of attack. There are two decoders:
//! [`Serializer::decode`] builds every value (the client uses it), and
//! [`Serializer::decode_shared`] checks the message against a budget and
//! keeps the arguments as the bytes they came in (the router uses it, and
//! splices those bytes into what it sends on). Both must refuse anything
//! malformed with an error, never a panic; they must agree on what a
//! message says; and whatever they accept must survive being sent on,
//! since a message that changed on the way out would reach its receiver
//! different from what the sender wrote.

use bytes::Bytes;
use wamp::protocol::raw::MAX_DEPTH;
use wamp::protocol::{DecodeError, WampMessage, Serializer, Value};

/// Decodes `data` with both decoders of `serializer` and checks that they
/// agree, and that what they accept round-trips (see [`round_trip`]).
///
/// The router's decoder may refuse more than the other, but only for its
/// budget: values nested more than [`MAX_DEPTH`] deep (the budget's cap
/// on the number of values is out of reach of inputs this size).
pub fn check(serializer: Serializer, data: &[u8]) {
    let full = serializer.decode(data);
    let shared = serializer.decode_shared(&Bytes::copy_from_slice(data));
    match (&full, &shared) {
        (Ok(full), Ok(shared)) => {
            assert_eq!(shared, full, "{serializer}: the two decoders read different messages");
        }
        (Err(e), Ok(_)) => panic!("{serializer}: decode_shared accepts what decode refuses ({e})"),
        (Ok(_), Err(e)) => {
            let depth = serializer.decode_value(data).map_or(0, |v| nesting(&v));
            assert!(depth > MAX_DEPTH, "{serializer}: decode_shared refuses a message {depth} deep: {e}");
        }
        (Err(_), Err(_)) => {}
    }
    if let Ok(message) = &full {
        round_trip(serializer, message, |bytes| serializer.decode(bytes));
    }
    if let Ok(message) = &shared {
        round_trip(serializer, message, |bytes| serializer.decode_shared(&Bytes::copy_from_slice(bytes)));
    }
}

/// Our decoding of a value (written for the format: all of MessagePack,
/// the common case of JSON) must accept exactly what the reference decoder
/// (`rmp-serde`, `serde_json`) accepts as a [`Value`], and read the same
/// value from it.
pub fn check_reference(serializer: Serializer, data: &[u8]) {
    let ours = serializer.decode_value(data);
    let reference = match serializer {
        Serializer::Json => serde_json::from_slice::<Value>(data).map_err(|e| e.to_string()),
        Serializer::MsgPack => {
            let mut rest = data;
            let mut de = rmp_serde::Deserializer::new(&mut rest);
            match <Value as serde::Deserialize>::deserialize(&mut de) {
                Ok(_) if !rest.is_empty() => Err("trailing bytes".to_string()),
                decoded => decoded.map_err(|e| e.to_string()),
            }
        }
    };
    match (ours, reference) {
        (Ok(ours), Ok(reference)) => {
            assert_eq!(ours, reference, "{serializer}: our decoding reads another value than the reference");
        }
        (Ok(value), Err(e)) => {
            panic!("{serializer}: our decoding accepts what the reference refuses ({e}): {value:?}")
        }
        (Err(e), Ok(_)) => panic!("{serializer}: our decoding refuses what the reference accepts: {e}"),
        (Err(_), Err(_)) => {}
    }
}

/// `message` must encode, `decode` that to an equal message, and encode
/// that again to the same bytes.
///
/// Floats need no special case: `Value` compares NaN by its bits, so a NaN
/// that goes out and comes back unchanged is equal to itself. The byte
/// comparison then catches what equality cannot see, such as `-0.0`
/// turning into `0.0`.
pub fn round_trip(
    serializer: Serializer,
    message: &WampMessage,
    decode: impl Fn(&[u8]) -> Result<WampMessage, DecodeError>,
) {
    let encoded = encode(serializer, message);
    let again = match decode(&encoded) {
        Ok(again) => again,
        Err(e) => panic!("{serializer}: our own encoding does not decode: {e}\n{message:?}"),
    };
    assert_eq!(&again, message, "{serializer}: the re-encoded message decodes differently");
    assert!(
        encode(serializer, &again) == encoded,
        "{serializer}: encoding the decoded encoding gives other bytes"
    );
}

/// What a JSON peer sends must reach a MessagePack peer unchanged, whichever
/// decoder read it: every value JSON can carry (finite floats only) has a
/// MessagePack form.
pub fn check_json_to_msgpack(data: &[u8]) {
    let decoded =
        [Serializer::Json.decode(data), Serializer::Json.decode_shared(&Bytes::copy_from_slice(data))];
    for message in decoded.iter().flatten() {
        let packed = encode(Serializer::MsgPack, message);
        match Serializer::MsgPack.decode(&packed) {
            Ok(back) => assert_eq!(&back, message, "a JSON message changes when sent on as MessagePack"),
            Err(e) => panic!("a JSON message sent on as MessagePack does not decode: {e}\n{message:?}"),
        }
    }
}

/// What a MessagePack peer sends must at least be writable for a JSON peer.
/// It need not arrive unchanged: JSON writes NaN and the infinities as
/// `null`, and reads a string that starts with NUL as binary data.
pub fn check_msgpack_to_json(data: &[u8]) {
    let decoded =
        [Serializer::MsgPack.decode(data), Serializer::MsgPack.decode_shared(&Bytes::copy_from_slice(data))];
    for message in decoded.iter().flatten() {
        encode(Serializer::Json, message);
    }
}

/// Encodes `message`, byte for byte as the reference encoder (`serde_json`,
/// `rmp-serde`) would: our writer is written for speed, they are the
/// reference. (A payload kept as bytes is spliced in as it came, which
/// they cannot do.)
fn encode(serializer: Serializer, message: &WampMessage) -> Vec<u8> {
    let bytes = match serializer.encode(message) {
        Ok(bytes) => bytes,
        Err(e) => panic!("{serializer}: a decoded message does not encode: {e}\n{message:?}"),
    };
    if !matches!(message.payload(), Some(wamp::protocol::Payload::Raw(_))) {
        let reference = match serializer {
            Serializer::Json => serde_json::to_vec(message).map_err(|e| e.to_string()),
            Serializer::MsgPack => rmp_serde::to_vec(message).map_err(|e| e.to_string()),
        };
        match reference {
            Ok(reference) => {
                assert!(bytes == reference, "{serializer}: our writer and the reference differ\n{message:?}")
            }
            Err(e) => panic!("{serializer}: the reference cannot write what we wrote ({e})\n{message:?}"),
        }
    }
    bytes
}

/// How deeply lists and dictionaries are nested in `value` (a scalar: 0).
fn nesting(value: &Value) -> usize {
    match value {
        Value::List(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Value::Dict(entries) => 1 + entries.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}
