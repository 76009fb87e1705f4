//! The read half: whole messages out of the request's byte stream.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_http::ws::{CloseCode, CloseReason, OpCode, Parser, ProtocolError};
use actix_web::web;
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::time::Instant;

use super::deflate::Inflater;
use super::frame::{Frame, FrameDecoder};
use super::{Link, Role};

/// A whole message or a control frame from the peer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A text message, checked to be UTF-8.
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping, to answer with a pong carrying the same payload.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's closing frame.
    Close(Option<CloseReason>),
}

/// Why the peer's input cannot be read further. Each names the close code
/// RFC 6455 gives it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// A frame, or a message made of fragments, is over the size limit
    /// (for a compressed message: what it inflates to).
    #[error("message larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A text message that is not UTF-8.
    #[error("a text message is not valid UTF-8")]
    InvalidUtf8,
    /// A compressed message that does not inflate.
    #[error("a compressed message is not valid deflate data")]
    InvalidCompressed,
    /// Anything else the framing rules forbid.
    #[error("{0}")]
    Framing(ProtocolError),
}

impl ReadError {
    /// The close code to end the connection with.
    pub(crate) fn close_code(&self) -> CloseCode {
        match self {
            ReadError::TooLarge { .. } => CloseCode::Size,
            ReadError::InvalidUtf8 | ReadError::InvalidCompressed => CloseCode::Invalid,
            ReadError::Framing(_) => CloseCode::Protocol,
        }
    }
}

/// A message being put together from fragments.
struct Partial {
    text: bool,
    data: Body,
    /// For text, how much of `data` is known to be UTF-8. At most the
    /// start of one character follows, cut off by a fragment's end.
    checked: usize,
}

/// The bytes of a message so far: as they came, or inflated.
enum Body {
    Plain(BytesMut),
    Inflated(Vec<u8>),
}

impl Body {
    fn bytes(&self) -> &[u8] {
        match self {
            Body::Plain(data) => data,
            Body::Inflated(data) => data,
        }
    }

    fn freeze(self) -> Bytes {
        match self {
            Body::Plain(data) => data.freeze(),
            Body::Inflated(data) => Bytes::from(data),
        }
    }
}

impl Partial {
    /// Checks the text that arrived since the last check, so that a
    /// message that is not UTF-8 is refused at the fragment that breaks
    /// it, not once the (possibly endless) message is complete. Only at
    /// the `last` fragment is a character cut off at the end an error.
    fn check_utf8(&mut self, last: bool) -> Result<(), ReadError> {
        if !self.text {
            return Ok(());
        }
        let data = self.data.bytes();
        match simdutf8::compat::from_utf8(data.get(self.checked..).unwrap_or_default()) {
            Ok(_) => {
                self.checked = data.len();
                Ok(())
            }
            Err(e) if e.error_len().is_none() && !last => {
                self.checked += e.valid_up_to();
                Ok(())
            }
            Err(_) => Err(ReadError::InvalidUtf8),
        }
    }

    fn into_message(self) -> Incoming {
        if self.text {
            Incoming::Text(self.data.freeze())
        } else {
            Incoming::Binary(self.data.freeze())
        }
    }
}

/// Reads frames off a connection's byte stream (by default the upgraded
/// request's), joins fragments into whole messages (at most `limit`
/// bytes), inflates compressed ones and checks text for UTF-8.
pub(crate) struct Reader<S = web::Payload> {
    payload: S,
    buf: BytesMut,
    frames: FrameDecoder,
    /// With permessage-deflate: the peer's compression stream.
    inflater: Option<Inflater>,
    partial: Option<Partial>,
    limit: usize,
    /// No more input: the request stream ended or failed.
    ended: bool,
    /// An error was returned: nothing more is read.
    failed: bool,
    role: Role,
    link: Rc<RefCell<Link>>,
    /// When bytes last came in: one clock reading per read from the
    /// socket, however many frames the bytes hold.
    received: Instant,
}

impl<S, E> Reader<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    /// A reader of `payload`, whose first bytes may already be in `buf`
    /// (read with the handshake). A server's reader also ends when the
    /// body is dropped (actix-web's sign that the connection is gone); a
    /// client's ends when its socket does.
    pub(super) fn new(
        payload: S,
        buf: BytesMut,
        limit: usize,
        inflater: Option<Inflater>,
        role: Role,
        link: Rc<RefCell<Link>>,
    ) -> Self {
        Reader {
            payload,
            buf,
            frames: FrameDecoder::new(limit, inflater.is_some(), role),
            inflater,
            partial: None,
            limit,
            ended: false,
            failed: false,
            role,
            link,
            received: Instant::now(),
        }
    }

    /// When bytes last came in from the peer (when the reader was made, if
    /// none has yet).
    pub(crate) fn last_received(&self) -> Instant {
        self.received
    }

    /// The next message; `None` once the connection is gone, and after
    /// an error (the input cannot be read further).
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Incoming, ReadError>>> {
        if self.failed {
            return Poll::Ready(None);
        }
        loop {
            let error = match self.frames.decode(&mut self.buf) {
                Ok(Some(frame)) => match self.assemble(frame) {
                    Ok(Some(incoming)) => return Poll::Ready(Some(Ok(incoming))),
                    Ok(None) => continue,
                    Err(e) => e,
                },
                Ok(None) => {
                    if let Some(ready) = self.poll_input(cx) {
                        return ready;
                    }
                    continue;
                }
                Err(e) => e,
            };
            self.failed = true;
            self.buf = BytesMut::new();
            return Poll::Ready(Some(Err(error)));
        }
    }

    /// Reads more input into the buffer: `None` when some was read,
    /// otherwise what `poll_next` returns.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> Option<Poll<Option<Result<Incoming, ReadError>>>> {
        if self.ended || (self.role == Role::Server && self.link.borrow().body_gone) {
            self.ended = true;
            return Some(Poll::Ready(None));
        }
        match Pin::new(&mut self.payload).poll_next(cx) {
            Poll::Ready(Some(Ok(mut bytes))) => {
                self.received = Instant::now();
                if self.buf.is_empty() {
                    // A large frame's bytes go straight to its own buffer.
                    self.frames.feed(&mut bytes);
                    if !bytes.is_empty() {
                        self.buf = BytesMut::from(bytes);
                    }
                } else {
                    self.buf.extend_from_slice(&bytes);
                }
            }
            Poll::Ready(Some(Err(e))) => {
                tracing::debug!(error = %e, "the connection failed");
                self.ended = true;
            }
            Poll::Ready(None) => self.ended = true,
            Poll::Pending => {
                // The body's end (the connection dropped) wakes us too.
                self.link.borrow_mut().reader = Some(cx.waker().clone());
                return Some(Poll::Pending);
            }
        }
        None
    }

    /// Turns a frame into a message, or keeps a fragment for later.
    fn assemble(&mut self, frame: Frame) -> Result<Option<Incoming>, ReadError> {
        let Frame { fin, compressed, op, payload } = frame;
        let text = match op {
            OpCode::Ping => return Ok(Some(Incoming::Ping(payload.freeze()))),
            OpCode::Pong => return Ok(Some(Incoming::Pong(payload.freeze()))),
            OpCode::Close => {
                let reason = Parser::try_parse_close_payload(&payload).map_err(ReadError::Framing)?;
                return Ok(Some(Incoming::Close(reason)));
            }
            OpCode::Continue => return self.fragment(payload, fin),
            OpCode::Text => true,
            OpCode::Binary => false,
            OpCode::Bad => return Err(ReadError::Framing(ProtocolError::BadOpCode)),
        };
        if self.partial.is_some() {
            return Err(ReadError::Framing(ProtocolError::ContinuationStarted));
        }
        if !compressed && fin {
            // The common case: one frame, as it came.
            let data = payload.freeze();
            return Ok(Some(if text { Incoming::Text(utf8(data)?) } else { Incoming::Binary(data) }));
        }
        let data = if compressed { Body::Inflated(Vec::new()) } else { Body::Plain(BytesMut::new()) };
        self.partial = Some(Partial { text, data, checked: 0 });
        self.fragment(payload, fin)
    }

    /// Adds a fragment to the message being put together and, after its
    /// last (`fin`), returns the whole message.
    fn fragment(&mut self, payload: BytesMut, fin: bool) -> Result<Option<Incoming>, ReadError> {
        self.extend(payload)?;
        if !fin {
            return Ok(None);
        }
        let Some(mut partial) = self.partial.take() else {
            return Err(ReadError::Framing(ProtocolError::ContinuationNotStarted));
        };
        self.finish(&mut partial)?;
        Ok(Some(partial.into_message()))
    }

    /// Adds a fragment to the message being put together.
    fn extend(&mut self, data: BytesMut) -> Result<(), ReadError> {
        let Some(partial) = &mut self.partial else {
            return Err(ReadError::Framing(ProtocolError::ContinuationNotStarted));
        };
        match &mut partial.data {
            Body::Plain(body) => {
                if body.len() + data.len() > self.limit {
                    return Err(ReadError::TooLarge { limit: self.limit });
                }
                if body.is_empty() {
                    *body = data;
                } else {
                    body.extend_from_slice(&data);
                }
            }
            Body::Inflated(body) => {
                let Some(inflater) = &mut self.inflater else {
                    return Err(ReadError::InvalidCompressed);
                };
                inflater.inflate(&data, body, self.limit)?;
            }
        }
        partial.check_utf8(false)
    }

    /// Completes the message: a compressed one gets its stream's tail.
    fn finish(&mut self, partial: &mut Partial) -> Result<(), ReadError> {
        if let Body::Inflated(body) = &mut partial.data {
            let Some(inflater) = &mut self.inflater else {
                return Err(ReadError::InvalidCompressed);
            };
            inflater.finish(body, self.limit)?;
        }
        partial.check_utf8(true)
    }
}

/// `data` if it is UTF-8. The check runs over every text message, up to
/// the size limit, so it uses SIMD where the machine has it.
fn utf8(data: Bytes) -> Result<Bytes, ReadError> {
    match simdutf8::basic::from_utf8(&data) {
        Ok(_) => Ok(data),
        Err(_) => Err(ReadError::InvalidUtf8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(fragments: &[&[u8]]) -> Result<(), ReadError> {
        let mut partial = Partial { text: true, data: Body::Plain(BytesMut::new()), checked: 0 };
        for (i, fragment) in fragments.iter().enumerate() {
            let Body::Plain(data) = &mut partial.data else { unreachable!() };
            data.extend_from_slice(fragment);
            partial.check_utf8(i + 1 == fragments.len())?;
        }
        Ok(())
    }

    #[test]
    fn utf8_is_checked_fragment_by_fragment() {
        // "é" and "😀" cut at every byte.
        assert!(feed(&[b"caf\xc3", b"\xa9 ", b"\xf0\x9f", b"\x98", b"\x80"]).is_ok());
        // A byte that starts no character fails at its fragment, whatever follows.
        assert!(matches!(feed(&[b"ok", b"\xff"]), Err(ReadError::InvalidUtf8)));
        let mut partial =
            Partial { text: true, data: Body::Plain(BytesMut::from(&b"ab\xc3"[..])), checked: 0 };
        assert!(partial.check_utf8(false).is_ok(), "a cut character may be completed");
        let Body::Plain(data) = &mut partial.data else { unreachable!() };
        data.extend_from_slice(b"(");
        assert!(matches!(partial.check_utf8(false), Err(ReadError::InvalidUtf8)), "and is not");
        // A character still cut at the end of the message.
        assert!(matches!(feed(&[b"caf", b"\xc3"]), Err(ReadError::InvalidUtf8)));
        // Binary is not text.
        let mut binary = Partial { text: false, data: Body::Plain(BytesMut::from(&b"\xff"[..])), checked: 0 };
        assert!(binary.check_utf8(true).is_ok());
    }
}
