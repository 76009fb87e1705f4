//! The read half: whole messages out of the request's byte stream.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_http::ws::{CloseCode, CloseReason, Codec, Frame, Item, ProtocolError};
use actix_web::web;
use bytes::{Bytes, BytesMut};
use futures_util::Stream as _;
use tokio_util::codec::Decoder as _;

use super::Link;

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
    /// A frame, or a message made of fragments, is over the size limit.
    #[error("message larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A text message that is not UTF-8.
    #[error("a text message is not valid UTF-8")]
    InvalidUtf8,
    /// Anything else the framing rules forbid.
    #[error("{0}")]
    Framing(ProtocolError),
}

impl ReadError {
    /// The close code to end the connection with.
    pub(crate) fn close_code(&self) -> CloseCode {
        match self {
            ReadError::TooLarge { .. } => CloseCode::Size,
            ReadError::InvalidUtf8 => CloseCode::Invalid,
            ReadError::Framing(_) => CloseCode::Protocol,
        }
    }
}

/// A message being put together from fragments.
struct Partial {
    text: bool,
    data: BytesMut,
    /// For text, how much of `data` is known to be UTF-8. At most the
    /// start of one character follows, cut off by a fragment's end.
    checked: usize,
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
        match std::str::from_utf8(self.data.get(self.checked..).unwrap_or_default()) {
            Ok(_) => {
                self.checked = self.data.len();
                Ok(())
            }
            Err(e) if e.error_len().is_none() && !last => {
                self.checked += e.valid_up_to();
                Ok(())
            }
            Err(_) => Err(ReadError::InvalidUtf8),
        }
    }
}

/// Reads frames off the upgraded request, joins fragments into whole
/// messages (at most `limit` bytes) and checks text for UTF-8.
pub(crate) struct Reader {
    payload: web::Payload,
    buf: BytesMut,
    codec: Codec,
    partial: Option<Partial>,
    limit: usize,
    /// No more input: the request stream ended or failed.
    ended: bool,
    link: Rc<RefCell<Link>>,
}

impl Reader {
    pub(super) fn new(payload: web::Payload, limit: usize, link: Rc<RefCell<Link>>) -> Self {
        Reader {
            payload,
            buf: BytesMut::new(),
            codec: Codec::new().max_size(limit),
            partial: None,
            limit,
            ended: false,
            link,
        }
    }

    /// The next message; `None` once the connection is gone. After an
    /// error nothing more should be read.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Incoming, ReadError>>> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => match self.assemble(frame) {
                    Ok(Some(incoming)) => return Poll::Ready(Some(Ok(incoming))),
                    Ok(None) => continue,
                    Err(e) => return Poll::Ready(Some(Err(e))),
                },
                Ok(None) => {}
                Err(ProtocolError::Overflow) => {
                    return Poll::Ready(Some(Err(ReadError::TooLarge { limit: self.limit })))
                }
                Err(e) => return Poll::Ready(Some(Err(ReadError::Framing(e)))),
            }
            if self.ended || self.link.borrow().body_gone {
                self.ended = true;
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.payload).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    if self.buf.is_empty() {
                        self.buf = BytesMut::from(bytes);
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
                    return Poll::Pending;
                }
            }
        }
    }

    /// Turns a frame into a message, or keeps a fragment for later.
    fn assemble(&mut self, frame: Frame) -> Result<Option<Incoming>, ReadError> {
        Ok(Some(match frame {
            Frame::Text(data) => Incoming::Text(utf8(data)?),
            Frame::Binary(data) => Incoming::Binary(data),
            Frame::Ping(data) => Incoming::Ping(data),
            Frame::Pong(data) => Incoming::Pong(data),
            Frame::Close(reason) => Incoming::Close(reason),
            Frame::Continuation(Item::FirstText(data)) => return self.begin(true, data),
            Frame::Continuation(Item::FirstBinary(data)) => return self.begin(false, data),
            Frame::Continuation(Item::Continue(data)) => {
                self.extend(&data)?;
                return Ok(None);
            }
            Frame::Continuation(Item::Last(data)) => {
                self.extend(&data)?;
                let Some(mut partial) = self.partial.take() else {
                    return Err(ReadError::Framing(ProtocolError::ContinuationNotStarted));
                };
                partial.check_utf8(true)?;
                if partial.text {
                    Incoming::Text(partial.data.freeze())
                } else {
                    Incoming::Binary(partial.data.freeze())
                }
            }
        }))
    }

    fn begin(&mut self, text: bool, data: Bytes) -> Result<Option<Incoming>, ReadError> {
        let mut partial = Partial { text, data: BytesMut::from(data), checked: 0 };
        partial.check_utf8(false)?;
        self.partial = Some(partial);
        Ok(None)
    }

    fn extend(&mut self, data: &[u8]) -> Result<(), ReadError> {
        let Some(partial) = &mut self.partial else {
            return Err(ReadError::Framing(ProtocolError::ContinuationNotStarted));
        };
        if partial.data.len() + data.len() > self.limit {
            return Err(ReadError::TooLarge { limit: self.limit });
        }
        partial.data.extend_from_slice(data);
        partial.check_utf8(false)
    }
}

fn utf8(data: Bytes) -> Result<Bytes, ReadError> {
    match std::str::from_utf8(&data) {
        Ok(_) => Ok(data),
        Err(_) => Err(ReadError::InvalidUtf8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(fragments: &[&[u8]]) -> Result<(), ReadError> {
        let mut partial = Partial { text: true, data: BytesMut::new(), checked: 0 };
        for (i, fragment) in fragments.iter().enumerate() {
            partial.data.extend_from_slice(fragment);
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
        let mut partial = Partial { text: true, data: BytesMut::from(&b"ab\xc3"[..]), checked: 0 };
        assert!(partial.check_utf8(false).is_ok(), "a cut character may be completed");
        partial.data.extend_from_slice(b"(");
        assert!(matches!(partial.check_utf8(false), Err(ReadError::InvalidUtf8)), "and is not");
        // A character still cut at the end of the message.
        assert!(matches!(feed(&[b"caf", b"\xc3"]), Err(ReadError::InvalidUtf8)));
        // Binary is not text.
        let mut binary = Partial { text: false, data: BytesMut::from(&b"\xff"[..]), checked: 0 };
        assert!(binary.check_utf8(true).is_ok());
    }
}
