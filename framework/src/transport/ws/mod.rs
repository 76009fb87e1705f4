//! The WebSocket protocol (RFC 6455), on an actix-web request and as a
//! client ([`client`]).
//!
//! [`accept`] answers the upgrade and splits the connection into a
//! [`Reader`] of whole messages and a [`Writer`] of frames. The writer
//! encodes straight into the buffer that actix-web sends as the response
//! body: no channel and no task sit between the connection and its
//! socket, and actix-web only asks for more when the socket took what it
//! had, which is what lets the connection see a slow peer (see
//! [`Writer::poll_room`]).
//!
//! Frames are parsed here ([`frame`]) rather than by actix-http, whose
//! parser refuses the reserved bit that permessage-deflate ([`deflate`])
//! sets. This module joins fragments, inflates compressed messages,
//! checks text for UTF-8 (closing with 1007 when it is not) and ties the
//! three halves together: when actix-web drops the body (the peer went
//! away) the reader ends and the writer reports [`Gone`].

pub(crate) mod client;
mod deflate;
mod frame;
mod reader;
mod writer;

#[cfg(feature = "internals")]
pub(crate) use deflate::Inflater;
#[cfg(feature = "internals")]
pub(crate) use writer::Body;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::Waker;

use actix_http::body::{BodyStream, MessageBody as _};
use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};

pub use client::ConnectError;
pub use deflate::Compression;
pub(crate) use reader::{Incoming, ReadError, Reader};
pub(crate) use writer::{EncodeError, Gone, Writer, HIGH_WATER};

/// Which end of the connection this is: a client masks what it writes and
/// reads unmasked frames, a server the other way round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Server,
    Client,
}

/// What the reader, the writer and the body share. All three live on the
/// connection's worker thread.
#[derive(Default)]
struct Link {
    /// Large frames written and not yet taken by the body, each in the
    /// buffer it was encoded in.
    chunks: VecDeque<Bytes>,
    /// The bytes in `chunks`.
    chunk_bytes: usize,
    /// Small frames written after those in `chunks`, gathered into one
    /// buffer.
    out: BytesMut,
    /// The closing frame is written: the body ends once `out` is taken.
    closing: bool,
    /// actix-web dropped the body: the connection is gone.
    body_gone: bool,
    /// The body, waiting for frames.
    body: Option<Waker>,
    /// The writer, waiting for room.
    writer: Option<Waker>,
    /// The reader, waiting for input.
    reader: Option<Waker>,
}

impl Link {
    /// Bytes written and not yet taken by the body.
    fn queued(&self) -> usize {
        self.chunk_bytes + self.out.len()
    }

    /// Queues a whole frame after everything written so far.
    fn push_chunk(&mut self, chunk: Bytes) {
        if !self.out.is_empty() {
            let gathered = self.out.split().freeze();
            self.chunk_bytes += gathered.len();
            self.chunks.push_back(gathered);
        }
        self.chunk_bytes += chunk.len();
        self.chunks.push_back(chunk);
    }

    fn wake_body(&mut self) {
        if let Some(body) = self.body.take() {
            body.wake();
        }
    }
}

/// Answers a WebSocket upgrade request, choosing `protocol` if any and
/// accepting the client's permessage-deflate offer if `compression` is
/// on, and returns the response with the connection's two halves.
/// Messages and frames over `max_message_size` bytes (for compressed
/// messages: inflated) end the connection with 1009.
pub(crate) fn accept(
    req: &HttpRequest,
    payload: web::Payload,
    protocol: Option<&str>,
    max_message_size: usize,
    compression: &Compression,
) -> Result<(HttpResponse, Reader, Writer), actix_web::Error> {
    let mut response = actix_http::ws::handshake(req.head())?;
    if let Some(protocol) = protocol {
        let value = HeaderValue::from_str(protocol).map_err(actix_web::error::ErrorInternalServerError)?;
        response.insert_header((header::SEC_WEBSOCKET_PROTOCOL, value));
    }
    let (deflater, inflater) = match deflate::negotiate(req.headers(), compression) {
        Some(agreement) => {
            response.insert_header((header::SEC_WEBSOCKET_EXTENSIONS, agreement.header()));
            let (deflater, inflater) = agreement.contexts();
            (Some(deflater), Some(inflater))
        }
        None => (None, None),
    };
    let link = Rc::new(RefCell::new(Link::default()));
    let body = BodyStream::new(writer::Body::new(link.clone())).boxed();
    let response = HttpResponse::from(response.message_body(body)?);
    let reader =
        Reader::new(payload, BytesMut::new(), max_message_size, inflater, Role::Server, link.clone());
    Ok((response, reader, Writer::new(link, deflater, Role::Server)))
}

/// A writer and the body it writes into, with no socket, as on a
/// connection whose client offered `offer`; with the inflater of the
/// server's compressed frames, as a client holds it. For the benchmarks.
#[cfg(feature = "internals")]
pub(crate) fn detached(compression: &Compression, offer: Option<&str>) -> (Writer, Body, Option<Inflater>) {
    let mut headers = actix_web::http::header::HeaderMap::new();
    if let Some(offer) = offer.and_then(|offer| HeaderValue::from_str(offer).ok()) {
        headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, offer);
    }
    let (deflater, inflater) = match deflate::negotiate(&headers, compression) {
        Some(agreement) => {
            let (deflater, inflater) = agreement.contexts();
            (Some(deflater), Some(inflater))
        }
        None => (None, None),
    };
    let link = Rc::new(RefCell::new(Link::default()));
    (Writer::new(link.clone(), deflater, Role::Server), writer::Body::new(link), inflater)
}

/// Decodes `wire` as a server (`server`, masked frames) or a client reads
/// it, in chunks of `sizes` (see `frame::decode_in_chunks`): each frame as
/// (final, compressed, opcode, payload), and the error reading stopped at.
#[cfg(feature = "internals")]
pub(crate) fn decode_frames(
    wire: &[u8],
    sizes: &[usize],
    server: bool,
    limit: usize,
    deflate: bool,
) -> (Vec<crate::internals::DecodedFrame>, Option<String>) {
    let role = if server { Role::Server } else { Role::Client };
    let mut decoder = frame::FrameDecoder::new(limit, deflate, role);
    let (frames, error) = frame::decode_in_chunks(&mut decoder, wire, sizes);
    let frames =
        frames.into_iter().map(|f| (f.fin, f.compressed, u8::from(f.op), f.payload.to_vec())).collect();
    (frames, error.map(|e| e.to_string()))
}
