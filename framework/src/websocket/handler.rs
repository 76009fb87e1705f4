//! What an application implements: the events of one connection.

use actix_web::HttpRequest;
use bytes::Bytes;

use super::Socket;

/// A whole message, however many frames it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebSocketMessage {
    /// A text message (checked to be UTF-8 on arrival).
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// The answer to an upgrade request that is accepted.
#[derive(Clone, Debug, Default)]
pub struct Accept {
    pub(super) protocol: Option<String>,
}

impl Accept {
    /// Accepts without a subprotocol.
    pub fn new() -> Self {
        Accept::default()
    }

    /// Accepts with `protocol`, which should be one the client offered in
    /// `Sec-WebSocket-Protocol` (RFC 6455, 4.2.2: a client fails the
    /// connection otherwise).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = Some(protocol.into());
        self
    }
}

/// How a connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// Whether both sides sent a closing frame (the closing handshake of
    /// RFC 6455, 7.1.2, completed).
    pub clean: bool,
    /// The close code the peer sent, or, if the server ended the
    /// connection, the one it sent; `None` if the connection was lost
    /// without one.
    pub code: Option<u16>,
    /// The reason that went with the code.
    pub reason: String,
}

/// The events of one WebSocket connection. [`endpoint`](super::endpoint)
/// makes one handler per connection, [`connect`](super::connect) takes one; its methods run on the connection's
/// thread, one at a time, in the order the events happen.
///
/// The methods are not `async`: a handler that has to wait for something
/// spawns a task (`actix_web::rt::spawn`) and writes from it through
/// [`Socket::handle`].
pub trait WebSocketHandler: 'static {
    /// A server's decision on the upgrade request: accept (choosing a
    /// subprotocol or none), or refuse with an error, whose response the
    /// client gets (e.g. `actix_web::error::ErrorForbidden("...")` for a
    /// 403). Accepts by default. Not called on a client's connection
    /// ([`connect`](super::connect) says what the server agreed to).
    fn on_connect(&mut self, request: &HttpRequest) -> Result<Accept, actix_web::Error> {
        let _ = request;
        Ok(Accept::new())
    }

    /// The connection is open.
    fn on_open(&mut self, socket: &mut Socket) {
        let _ = socket;
    }

    /// A whole message from the peer.
    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage);

    /// The connection ended, cleanly or not; nothing more can be sent.
    fn on_close(&mut self, closed: Closed) {
        let _ = closed;
    }
}
