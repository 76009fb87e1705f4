//! The write half: frames encoded straight into the buffer actix-web
//! sends as the response body.

use std::cell::RefCell;
use std::convert::Infallible;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_http::ws::{CloseReason, OpCode, Parser};
use bytes::{Bytes, BytesMut};

use super::deflate::Deflater;
use super::frame::{unmask, write_header, MAX_CONTROL_PAYLOAD};
use super::{Link, Role};
use crate::protocol::{Payload, Serializer, Spliced, WampMessage, SHARED_ENCODING};

/// How many bytes the writer buffers before it waits for actix-web to
/// take them (actix-web then buffers up to its own write buffer size).
pub(crate) const HIGH_WATER: usize = 64 * 1024;

/// The encoding buffer is kept between messages up to this size.
const SCRATCH_KEEP: usize = 64 * 1024;

/// Frames at least this large are not copied into the gathering buffer
/// but handed to actix-web in the buffer they were encoded in.
const WHOLE_FRAME: usize = 16 * 1024;

/// A frame's payload: a buffer handed over whole, or bytes to copy into
/// the gathering buffer.
enum Data<'a> {
    Whole(Bytes),
    Copied(&'a [u8]),
    /// A compressed message (RSV1 set): copied when small.
    Compressed(Vec<u8>),
}

/// The connection is gone: nothing more can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is gone")]
pub(crate) struct Gone;

/// A message could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode {message}: {reason}")]
pub(crate) struct EncodeError {
    message: &'static str,
    reason: String,
}

/// Writes frames for the connection's body. Dropping it ends the body
/// once what was written is sent.
pub(crate) struct Writer {
    link: Rc<RefCell<Link>>,
    scratch: Vec<u8>,
    /// With permessage-deflate: the compression stream to the peer.
    deflater: Option<Deflater>,
    /// A client's writer masks its frames (RFC 6455, 5.3).
    role: Role,
}

impl Writer {
    pub(super) fn new(link: Rc<RefCell<Link>>, deflater: Option<Deflater>, role: Role) -> Self {
        Writer { link, scratch: Vec::new(), deflater, role }
    }

    /// Ready when the buffer has room for more; the task is woken when
    /// it has. An error once the connection is gone or closed.
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<Result<(), Gone>> {
        let mut link = self.link.borrow_mut();
        if link.body_gone || link.closing {
            return Poll::Ready(Err(Gone));
        }
        if link.queued() < HIGH_WATER {
            return Poll::Ready(Ok(()));
        }
        link.writer = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Whether the buffer has room for more.
    pub(crate) fn has_room(&self) -> bool {
        let link = self.link.borrow();
        !link.body_gone && !link.closing && link.queued() < HIGH_WATER
    }

    /// Encodes `message` with `serializer` as one text or binary frame.
    /// Small frames are gathered into one buffer; a large one is handed
    /// over in the buffer it was encoded in, shared with the message's
    /// other receivers when its payload was kept as bytes.
    pub(crate) fn message(
        &mut self,
        serializer: Serializer,
        message: &WampMessage,
    ) -> Result<(), EncodeError> {
        let failed = |reason: String| EncodeError { message: message.name(), reason };
        let op = if serializer.is_binary() { OpCode::Binary } else { OpCode::Text };
        if let Some(Payload::Raw(raw)) = message.payload().filter(|_| self.deflater.is_none()) {
            if raw.len() >= SHARED_ENCODING && self.role == Role::Server && serializer.is_binary() {
                // The payload goes out in the buffer it came in. Not for
                // JSON, whose closing `]` would follow the payload in a
                // write of its own: a reader would wait for that last byte.
                let parts = serializer.encode_parts(message, raw).map_err(|e| failed(e.to_string()))?;
                self.spliced(op, parts);
                return Ok(());
            }
        }
        if matches!(message.payload(), Some(Payload::Raw(raw)) if raw.len() >= SHARED_ENCODING) {
            let encoded = serializer.encode_shared(message).map_err(|e| failed(e.to_string()))?;
            if let Some(compressed) = self.compressed(&encoded) {
                self.frame(op, Data::Compressed(compressed.map_err(|e| failed(e.to_string()))?));
            } else {
                self.frame(op, Data::Whole(encoded));
            }
            return Ok(());
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        serializer.encode_into(message, &mut buf).map_err(|e| failed(e.to_string()))?;
        if cfg!(debug_assertions) && !serializer.is_binary() {
            // The JSON writer writes only `str` and ASCII escapes, and
            // splices only arguments checked when they came in (the fuzz
            // targets compare its output with serde_json's). Debug builds,
            // which run the tests, check every text frame anyway.
            simdutf8::basic::from_utf8(&buf)
                .map_err(|_| failed("the JSON encoder wrote bytes that are not UTF-8".into()))?;
        }
        if let Some(compressed) = self.compressed(&buf) {
            let compressed = compressed.map_err(|e| failed(e.to_string()));
            if buf.capacity() <= SCRATCH_KEEP {
                self.scratch = buf;
            }
            self.frame(op, Data::Compressed(compressed?));
        } else if buf.len() >= WHOLE_FRAME {
            self.frame(op, Data::Whole(Bytes::from(buf)));
        } else {
            self.frame(op, Data::Copied(&buf));
            if buf.capacity() <= SCRATCH_KEEP {
                self.scratch = buf;
            }
        }
        Ok(())
    }

    /// Writes `data` as one text or binary message. A large message is
    /// handed to actix-web in the buffer it came in.
    pub(crate) fn data(&mut self, text: bool, data: Bytes) -> Result<(), Gone> {
        if !self.is_open() {
            return Err(Gone);
        }
        let op = if text { OpCode::Text } else { OpCode::Binary };
        if let Some(compressed) = self.compressed(&data) {
            match compressed {
                Ok(compressed) => self.frame(op, Data::Compressed(compressed)),
                Err(e) => {
                    // zlib fails only on a misuse of its stream, never on
                    // data: the message goes out as it is.
                    tracing::error!(error = %e, "compression failed");
                    self.deflater = None;
                    self.frame(op, Data::Copied(&data));
                }
            }
        } else if data.len() >= WHOLE_FRAME {
            self.frame(op, Data::Whole(data));
        } else {
            self.frame(op, Data::Copied(&data));
        }
        Ok(())
    }

    /// `data` compressed, when the connection compresses and `data` is
    /// worth it.
    fn compressed(&mut self, data: &[u8]) -> Option<Result<Vec<u8>, flate2::CompressError>> {
        let deflater = self.deflater.as_mut()?;
        deflater.worth_it(data.len()).then(|| deflater.compress(data))
    }

    /// Whether frames can still be written.
    fn is_open(&self) -> bool {
        let link = self.link.borrow();
        !link.closing && !link.body_gone
    }

    /// Writes a final frame (RFC 6455, 5.2) with `payload`: data or, with
    /// at most 125 bytes, ping and pong. A server's frame is unmasked; a
    /// client's is masked with a fresh key, and so always copied.
    fn frame(&self, op: OpCode, payload: Data<'_>) {
        let mut link = self.link.borrow_mut();
        if link.closing || link.body_gone {
            return;
        }
        let (bytes, rsv1): (&[u8], u8) = match &payload {
            Data::Whole(bytes) => (bytes, 0),
            Data::Copied(bytes) => (bytes, 0),
            Data::Compressed(bytes) => (bytes, 0x40),
        };
        if self.role == Role::Client {
            let mask: [u8; 4] = rand::random();
            write_header(&mut link.out, rsv1 | u8::from(op), bytes.len(), Some(mask));
            let start = link.out.len();
            link.out.extend_from_slice(bytes);
            unmask(&mut link.out[start..], mask);
            link.wake_body();
            return;
        }
        write_header(&mut link.out, rsv1 | u8::from(op), bytes.len(), None);
        match payload {
            Data::Whole(bytes) => link.push_chunk(bytes),
            Data::Copied(bytes) => link.out.extend_from_slice(bytes),
            Data::Compressed(bytes) if bytes.len() >= WHOLE_FRAME => link.push_chunk(Bytes::from(bytes)),
            Data::Compressed(bytes) => link.out.extend_from_slice(&bytes),
        }
        link.wake_body();
    }

    /// Writes one uncompressed frame of a server made of a message's
    /// pieces: the payload in the middle is handed over as it is.
    fn spliced(&self, op: OpCode, parts: Spliced) {
        let mut link = self.link.borrow_mut();
        if link.closing || link.body_gone {
            return;
        }
        write_header(&mut link.out, u8::from(op), parts.len(), None);
        link.out.extend_from_slice(&parts.head);
        link.push_chunk(parts.body);
        link.out.extend_from_slice(parts.tail);
        link.wake_body();
    }

    /// Writes a ping.
    pub(crate) fn ping(&mut self, payload: &[u8]) {
        self.frame(OpCode::Ping, Data::Copied(control_payload(payload)));
    }

    /// Writes a pong.
    pub(crate) fn pong(&mut self, payload: &[u8]) {
        self.frame(OpCode::Pong, Data::Copied(control_payload(payload)));
    }

    /// Writes the closing frame: the body ends after it.
    pub(crate) fn close(&mut self, reason: Option<CloseReason>) {
        let reason = reason.map(|mut reason| {
            if let Some(description) = &mut reason.description {
                truncate(description, MAX_CONTROL_PAYLOAD - 2);
            }
            reason
        });
        let mut link = self.link.borrow_mut();
        if link.closing || link.body_gone {
            return;
        }
        Parser::write_close(&mut link.out, reason, self.role == Role::Client);
        link.closing = true;
        link.wake_body();
    }

    /// Ready once the body has handed everything written to actix-web, or
    /// the connection is gone.
    pub(crate) fn poll_flushed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut link = self.link.borrow_mut();
        if link.body_gone || link.queued() == 0 {
            return Poll::Ready(());
        }
        link.writer = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let mut link = self.link.borrow_mut();
        link.closing = true;
        link.wake_body();
    }
}

fn control_payload(payload: &[u8]) -> &[u8] {
    &payload[..payload.len().min(MAX_CONTROL_PAYLOAD)]
}

/// Cuts `text` to at most `max` bytes, at a character boundary.
fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
}

/// The response body: hands actix-web what the writer wrote, and ends
/// after the closing frame.
pub(crate) struct Body {
    link: Rc<RefCell<Link>>,
}

impl Body {
    pub(super) fn new(link: Rc<RefCell<Link>>) -> Self {
        Body { link }
    }
}

impl futures_util::Stream for Body {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut link = self.link.borrow_mut();
        let chunk = match link.chunks.pop_front() {
            Some(chunk) => {
                link.chunk_bytes -= chunk.len();
                chunk
            }
            None if !link.out.is_empty() => link.out.split().freeze(),
            None if link.closing => return Poll::Ready(None),
            None => {
                link.body = Some(cx.waker().clone());
                return Poll::Pending;
            }
        };
        if let Some(writer) = link.writer.take() {
            writer.wake();
        }
        Poll::Ready(Some(Ok(chunk)))
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        // actix-web dropped the response: the connection is gone.
        let mut link = self.link.borrow_mut();
        link.body_gone = true;
        link.out = BytesMut::new();
        link.chunks.clear();
        link.chunk_bytes = 0;
        for waker in [link.writer.take(), link.reader.take()].into_iter().flatten() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::ws::{Codec, Frame};
    use futures_util::{FutureExt as _, StreamExt as _};
    use tokio_util::codec::Decoder as _;

    #[test]
    fn frames_of_every_header_size_read_back_in_order() {
        let link = Rc::new(RefCell::new(Link::default()));
        let mut body = Body::new(link.clone());
        let mut writer = Writer::new(link, None, Role::Server);
        let sizes = [5usize, 125, 126, 300, 65_535, 65_536, 70_000];
        for (i, size) in sizes.iter().enumerate() {
            let message = WampMessage::Publish {
                request: i as u64 + 1,
                options: Default::default(),
                topic: "com.a".into(),
                payload: Payload::args(vec!["x".repeat(*size).into()]),
            };
            writer.message(Serializer::MsgPack, &message).unwrap();
        }
        writer.ping(b"p");
        writer.close(None);
        let mut wire = BytesMut::new();
        while let Some(Some(Ok(chunk))) = body.next().now_or_never() {
            wire.extend_from_slice(&chunk);
        }
        let mut codec = Codec::new().client_mode().max_size(1 << 20);
        for (i, size) in sizes.iter().enumerate() {
            let Ok(Some(Frame::Binary(data))) = codec.decode(&mut wire) else { panic!("frame {i}") };
            match Serializer::MsgPack.decode(&data).unwrap() {
                WampMessage::Publish { request, payload, .. } => {
                    assert_eq!(request, i as u64 + 1);
                    assert_eq!(payload.args_list()[0].as_str().map(str::len), Some(*size));
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(codec.decode(&mut wire), Ok(Some(Frame::Ping(p))) if &p[..] == b"p"));
        assert!(matches!(codec.decode(&mut wire), Ok(Some(Frame::Close(None)))));
        assert!(wire.is_empty());
    }

    #[test]
    fn a_large_payload_kept_as_bytes_goes_out_as_the_whole_message_would() {
        for (from, to) in [
            (Serializer::MsgPack, Serializer::MsgPack),
            (Serializer::Json, Serializer::Json),
            (Serializer::Json, Serializer::MsgPack),
            (Serializer::MsgPack, Serializer::Json),
        ] {
            let mut kwargs = crate::protocol::Dict::new();
            kwargs.insert("k".into(), "v".into());
            let publish = WampMessage::Publish {
                request: 1,
                options: Default::default(),
                topic: "com.a".into(),
                payload: Payload::new(vec!["x".repeat(SHARED_ENCODING).into(), 7.into()], kwargs),
            };
            let WampMessage::Publish { payload, .. } =
                from.decode_shared(&Bytes::from(from.encode(&publish).unwrap())).unwrap()
            else {
                panic!("a PUBLISH");
            };
            assert!(matches!(payload, Payload::Raw(_)), "kept as bytes");
            let event =
                WampMessage::Event { subscription: 5, publication: 6, details: Default::default(), payload };
            let link = Rc::new(RefCell::new(Link::default()));
            let mut body = Body::new(link.clone());
            let mut writer = Writer::new(link, None, Role::Server);
            writer.message(to, &event).unwrap();
            writer.close(None);
            let mut wire = BytesMut::new();
            while let Some(Some(Ok(chunk))) = body.next().now_or_never() {
                wire.extend_from_slice(&chunk);
            }
            let mut codec = Codec::new().client_mode().max_size(1 << 20);
            let data = match codec.decode(&mut wire) {
                Ok(Some(Frame::Binary(data) | Frame::Text(data))) => data,
                other => panic!("{other:?}"),
            };
            assert_eq!(&data[..], &to.encode_shared(&event).unwrap()[..], "{from:?} to {to:?}");
            let WampMessage::Event { publication: 6, payload, .. } = to.decode(&data).unwrap() else {
                panic!("an EVENT")
            };
            assert_eq!(payload.args_list()[0].as_str().map(str::len), Some(SHARED_ENCODING));
            assert_eq!(payload.args_list()[1].as_u64(), Some(7));
        }
    }
}
