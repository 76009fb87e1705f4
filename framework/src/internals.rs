//! The routing and client cores, for the project's own fuzzers,
//! benchmarks and conformance tests, which drive them without sockets or
//! actors. Compiled only with the `internals` feature; not part of the
//! API, and free to change in any release.

pub use crate::auth::authenticator::{Authenticator, Next};
pub use crate::auth::error::AuthError;
pub use crate::auth::identity::Identity;
pub use crate::client::core::{ClientCore, ClientEffect};
pub use crate::client::driver::{Hooks, SessionActor, Start};
pub use crate::client::Client;
pub use crate::protocol::id_source::{IdAllocator, RandomIds, SeededRandom, SequentialIds, SystemRandom};
pub use crate::router::actor::RealmHandle;
pub use crate::router::broker::retained::RetentionLimits;
pub use crate::router::broker::RESERVED_PREFIX;
pub use crate::router::outbox::{Effect, Outbox};
pub use crate::router::realm::{Member, RealmCore, RealmSettings, SessionLimits};
pub use crate::router::session::{PeerSession, Step};

/// A client for a session actor started by hand (e.g. in-process on
/// another arbiter).
pub fn client_of(actor: actix::Addr<SessionActor>) -> Client {
    Client::from_addr(actor, 0)
}

/// Starts a session actor on the current arbiter.
pub fn start_client(actor: SessionActor) -> Client {
    Client::start(actor)
}

/// A realm of `router`, created on demand if the configuration allows;
/// otherwise why not.
pub fn realm(router: &crate::Router, name: &str) -> Result<RealmHandle, String> {
    router.realm(name).map_err(|why| why.to_string())
}

/// How an in-process component identifies itself to its realm.
pub fn local_identity(name: &str) -> Identity {
    crate::component::local_identity(name)
}

/// One WebSocket connection's work per message, without a socket: the
/// frames the server writes, exactly as they would go on the wire, and
/// the inflating a client does with the compressed ones.
pub struct Wire {
    writer: crate::transport::ws::Writer,
    body: crate::transport::ws::Body,
    inflater: Option<crate::transport::ws::Inflater>,
}

impl Wire {
    /// A connection whose client offered `offer` (a
    /// `Sec-WebSocket-Extensions` value), served with `compression`.
    pub fn new(compression: &crate::websocket::Compression, offer: Option<&str>) -> Self {
        let (writer, body, inflater) = crate::transport::ws::detached(compression, offer);
        Wire { writer, body, inflater }
    }

    /// Whether permessage-deflate was agreed.
    pub fn compressing(&self) -> bool {
        self.inflater.is_some()
    }

    /// Writes `message` as the server would; returns the frame's bytes.
    pub fn write(
        &mut self,
        serializer: crate::protocol::Serializer,
        message: &crate::protocol::WampMessage,
    ) -> Result<bytes::BytesMut, String> {
        use futures_util::Stream as _;
        self.writer.message(serializer, message).map_err(|e| e.to_string())?;
        let mut frame = bytes::BytesMut::new();
        let mut cx = std::task::Context::from_waker(futures_util::task::noop_waker_ref());
        while let std::task::Poll::Ready(Some(Ok(chunk))) =
            std::pin::Pin::new(&mut self.body).poll_next(&mut cx)
        {
            frame.extend_from_slice(&chunk);
        }
        Ok(frame)
    }

    /// Inflates a compressed frame written by [`Wire::write`] (frames must
    /// come in the order they were written); returns the message.
    pub fn inflate(&mut self, frame: &[u8]) -> Result<Vec<u8>, String> {
        let inflater = self.inflater.as_mut().ok_or("the connection does not compress")?;
        let header = match frame.get(1).map(|b| b & 0x7F) {
            Some(126) => 4,
            Some(127) => 10,
            Some(_) => 2,
            None => return Err("no frame".into()),
        };
        let payload = frame.get(header..).ok_or("a cut frame")?;
        let mut out = Vec::new();
        inflater.inflate(payload, &mut out, usize::MAX - 1).map_err(|e| e.to_string())?;
        inflater.finish(&mut out, usize::MAX - 1).map_err(|e| e.to_string())?;
        Ok(out)
    }
}

/// What a client agreed to in a server's answer to its upgrade request
/// (see [`client_handshake_answer`]).
#[derive(Debug)]
pub struct AnswerAgreed {
    /// The length of the answer's head; what follows is WebSocket data.
    pub head_len: usize,
    /// The subprotocol the server chose.
    pub protocol: Option<String>,
    /// With permessage-deflate agreed: the window the client compresses
    /// with, in bits.
    pub compress_window_bits: Option<u8>,
}

/// Reads `answer`, a server's answer to an upgrade request sent with `key`
/// that offered `protocols` and, if `compression` is enabled,
/// permessage-deflate, as the client does: `None` while its head is
/// incomplete, else what was agreed or why the client fails the
/// connection.
pub fn client_handshake_answer(
    answer: &[u8],
    key: &str,
    protocols: &[String],
    compression: &crate::websocket::Compression,
) -> Result<Option<AnswerAgreed>, String> {
    use crate::transport::ws::client::{read_answer, Offered};
    let offered = Offered { url: "ws://fuzz/", protocols, compression };
    let read = read_answer(answer, key, &offered).map_err(|e| e.to_string())?;
    Ok(read.map(|(head_len, (protocol, agreement))| AnswerAgreed {
        head_len,
        protocol,
        compress_window_bits: agreement.map(|a| a.compress_window_bits()),
    }))
}

/// A WebSocket frame as the reader decodes it: final, compressed (RSV1),
/// opcode, unmasked payload.
pub type DecodedFrame = (bool, bool, u8, Vec<u8>);

/// Decodes `wire` as a server (`server`: masked frames only) or a client
/// reads it, with frames up to `limit` bytes and RSV1 allowed if
/// `deflate`, the bytes handed over in chunks of `sizes` (repeated; all at
/// once if empty) as they come off a socket: the frames, and the error
/// reading stopped at. Whatever the chunks, the result must be the same.
pub fn websocket_frames(
    wire: &[u8],
    sizes: &[usize],
    server: bool,
    limit: usize,
    deflate: bool,
) -> (Vec<DecodedFrame>, Option<String>) {
    crate::transport::ws::decode_frames(wire, sizes, server, limit, deflate)
}
