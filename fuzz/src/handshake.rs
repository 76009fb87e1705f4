//! The text of a WebSocket handshake that comes from the other side: a
//! server's answer to our client's upgrade request, and a client's
//! permessage-deflate offer to our server.
//!
//! Beyond "no panic": an answer the client accepts stays within what it
//! offered, and an offer the server accepts gives a connection whose
//! compressed messages a client inflates back to what was sent.

use wamp::internals::{client_handshake_answer, Wire};
use wamp::protocol::{WampMessage, Payload, Serializer, Value};
use wamp::websocket::Compression;

/// The request key of RFC 6455's example, and its accept value.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
/// `Sec-WebSocket-Accept` for [`KEY`].
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The headers an input line of [`answer_from_lines`] may set, chosen by
/// its first byte.
const HEADERS: [&str; 4] = ["Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "Upgrade", "Connection"];

/// The first byte chooses what the rest is: a whole answer, header lines
/// added to a valid answer, or a client's offer.
pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    match mode % 3 {
        0 => check_answer(rest),
        1 => check_answer(&answer_from_lines(rest)),
        _ => check_offer(&String::from_utf8_lossy(rest)),
    }
}

/// A `101` answer with the right accept key, plus a header per line of
/// `lines` (its first byte picks the name, the rest is the value), so
/// that inputs reach the checks of the subprotocol and the extension.
pub fn answer_from_lines(lines: &[u8]) -> Vec<u8> {
    let mut answer =
        format!("HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Accept: {ACCEPT}\r\n").into_bytes();
    let mut named = [false; 2];
    for line in lines.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let index = usize::from(line[0]) % HEADERS.len();
        if let Some(seen) = named.get_mut(index) {
            *seen = true;
        }
        answer.extend_from_slice(format!("{}: ", HEADERS[index]).as_bytes());
        answer.extend_from_slice(&line[1..]);
        answer.extend_from_slice(b"\r\n");
    }
    answer.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    answer
}

/// The client reads `answer` with and without compression offered.
pub fn check_answer(answer: &[u8]) {
    let protocols = vec!["wamp.2.json".to_owned(), "wamp.2.msgpack".to_owned()];
    for compression in [Compression::enabled(), Compression::default()] {
        let Ok(Some(agreed)) = client_handshake_answer(answer, KEY, &protocols, &compression) else {
            continue;
        };
        assert!(agreed.head_len <= answer.len(), "a head longer than the answer: {agreed:?}");
        if let Some(protocol) = &agreed.protocol {
            assert!(protocols.contains(protocol), "agreed to a subprotocol not offered: {agreed:?}");
        }
        if let Some(bits) = agreed.compress_window_bits {
            assert!(compression.enabled, "compression agreed without an offer: {agreed:?}");
            assert!((8..=15).contains(&bits), "an impossible window: {agreed:?}");
        }
    }
}

/// The server reads `offer`; if it compresses, two messages (the second
/// with the first's context, where kept) inflate back to what was sent.
pub fn check_offer(offer: &str) {
    let mut wire = Wire::new(&Compression::enabled(), Some(offer));
    if !wire.compressing() {
        return;
    }
    for text in ["a first message, long enough to be compressed", "and a second one, much like the first"] {
        let message = WampMessage::Publish {
            request: 1,
            options: Default::default(),
            topic: "com.example.topic".into(),
            payload: Payload::args(vec![Value::from(text.repeat(8))]),
        };
        let sent = Serializer::Json.encode(&message).expect("encodes");
        let frame = wire.write(Serializer::Json, &message).expect("writes");
        let got = wire.inflate(&frame).unwrap_or_else(|e| panic!("offer {offer:?}: {e}"));
        assert_eq!(got, sent, "offer {offer:?}: the inflated message differs");
    }
}
