//! The write half: frames encoded straight into the buffer actix-web
//! sends as the response body.

use std::cell::RefCell;
use std::convert::Infallible;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_http::ws::{CloseReason, OpCode, Parser};
use bytes::{Bytes, BytesMut};

use super::Link;
use crate::protocol::{Message, Payload, Serializer, SHARED_ENCODING};

/// How many bytes the writer buffers before it waits for actix-web to
/// take them (actix-web then buffers up to its own write buffer size).
pub(crate) const HIGH_WATER: usize = 64 * 1024;

/// The encoding buffer is kept between messages up to this size.
const SCRATCH_KEEP: usize = 64 * 1024;

/// Frames at least this large are not copied into the shared buffer but
/// handed to actix-web in the buffer they were encoded in.
const WHOLE_FRAME: usize = 16 * 1024;

/// Room left before an encoded message for its frame header (the longest
/// header of an unmasked frame).
const HEADROOM: usize = 10;

/// Longest payload of a control frame (RFC 6455, 5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;

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
}

impl Writer {
    pub(super) fn new(link: Rc<RefCell<Link>>) -> Self {
        Writer { link, scratch: Vec::new() }
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
    /// A large frame is handed over as it was encoded (after room left
    /// for its header); small ones are gathered into one buffer.
    pub(crate) fn message(&mut self, serializer: Serializer, message: &Message) -> Result<(), EncodeError> {
        if matches!(message.payload(), Some(Payload::Raw(raw)) if raw.len() >= SHARED_ENCODING) {
            return self.shared(serializer, message);
        }
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        buf.resize(HEADROOM, 0);
        let failed = |reason: String| EncodeError { message: message.name(), reason };
        serializer.encode_into(message, &mut buf).map_err(|e| failed(e.to_string()))?;
        let op = if serializer.is_binary() {
            OpCode::Binary
        } else {
            // The JSON encoder writes UTF-8; this guards against a bug
            // putting anything else on the wire.
            std::str::from_utf8(&buf[HEADROOM..]).map_err(|e| failed(e.to_string()))?;
            OpCode::Text
        };
        let (header, header_len) = header(op, buf.len() - HEADROOM);
        let mut link = self.link.borrow_mut();
        if link.closing || link.body_gone {
            return Ok(());
        }
        if buf.len() >= WHOLE_FRAME {
            let start = HEADROOM - header_len;
            buf[start..HEADROOM].copy_from_slice(&header[..header_len]);
            link.push_chunk(Bytes::from(buf).slice(start..));
        } else {
            link.out.extend_from_slice(&header[..header_len]);
            link.out.extend_from_slice(&buf[HEADROOM..]);
            if buf.capacity() <= SCRATCH_KEEP {
                self.scratch = buf;
            }
        }
        link.wake_body();
        Ok(())
    }

    /// A message with a large payload kept as bytes: its encoding is
    /// shared with the other receivers of the same message (the
    /// subscribers of a publication), and handed over without a copy.
    fn shared(&mut self, serializer: Serializer, message: &Message) -> Result<(), EncodeError> {
        let encoded = serializer
            .encode_shared(message)
            .map_err(|e| EncodeError { message: message.name(), reason: e.to_string() })?;
        let op = if serializer.is_binary() { OpCode::Binary } else { OpCode::Text };
        let (header, header_len) = header(op, encoded.len());
        let mut link = self.link.borrow_mut();
        if link.closing || link.body_gone {
            return Ok(());
        }
        link.out.extend_from_slice(&header[..header_len]);
        link.push_chunk(encoded);
        link.wake_body();
        Ok(())
    }

    /// Writes a ping.
    pub(crate) fn ping(&mut self, payload: &[u8]) {
        self.frame(OpCode::Ping, control_payload(payload));
    }

    /// Writes a pong.
    pub(crate) fn pong(&mut self, payload: &[u8]) {
        self.frame(OpCode::Pong, control_payload(payload));
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
        Parser::write_close(&mut link.out, reason, false);
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

    fn frame(&self, op: OpCode, payload: &[u8]) {
        let mut link = self.link.borrow_mut();
        if link.closing || link.body_gone {
            return;
        }
        Parser::write_message(&mut link.out, payload, op, true, false);
        link.wake_body();
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let mut link = self.link.borrow_mut();
        link.closing = true;
        link.wake_body();
    }
}

/// The header of an unmasked, final frame carrying `len` bytes, and its
/// length (RFC 6455, 5.2).
fn header(op: OpCode, len: usize) -> ([u8; HEADROOM], usize) {
    let mut header = [0u8; HEADROOM];
    header[0] = 0x80 | u8::from(op);
    if len < 126 {
        header[1] = len as u8;
        (header, 2)
    } else if let Ok(len) = u16::try_from(len) {
        header[1] = 126;
        header[2..4].copy_from_slice(&len.to_be_bytes());
        (header, 4)
    } else {
        header[1] = 127;
        header[2..10].copy_from_slice(&(len as u64).to_be_bytes());
        (header, 10)
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
