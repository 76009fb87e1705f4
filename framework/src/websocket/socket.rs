//! Writing to a connection: from its handler, and from anywhere.

use bytes::Bytes;
use tokio::sync::mpsc;

use super::WebSocketMessage;
use crate::transport::ws::Writer;

/// Commands a connection takes from its [`SocketHandle`]s at most, before
/// their `send` waits.
pub(super) const HANDLE_QUEUE: usize = 64;

/// The connection is closing or gone: nothing more is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the WebSocket connection is closing or gone")]
pub struct SocketClosed;

/// What a [`SocketHandle`] asks its connection to do.
#[derive(Debug)]
pub(super) enum Command {
    Send(WebSocketMessage),
    Ping(Bytes),
    Close(u16, String),
}

/// The connection, as its [`WebSocketHandler`](super::WebSocketHandler) sees it: what is
/// written goes to the peer in order, after everything written before.
pub struct Socket {
    pub(super) writer: Writer,
    pub(super) commands: mpsc::Sender<Command>,
    /// The closing frame is written.
    pub(super) closing: bool,
}

impl Socket {
    /// Sends a message. It is queued at once; the connection reads no
    /// more of its peer until the queue has drained.
    pub fn send(&mut self, message: WebSocketMessage) -> Result<(), SocketClosed> {
        if self.closing {
            return Err(SocketClosed);
        }
        match message {
            WebSocketMessage::Text(text) => self.writer.data(true, Bytes::from(text)),
            WebSocketMessage::Binary(data) => self.writer.data(false, data),
        }
        .map_err(|_| SocketClosed)
    }

    /// Sends a ping (at most 125 bytes of `payload` are sent).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SocketClosed> {
        if self.closing {
            return Err(SocketClosed);
        }
        self.writer.ping(payload);
        Ok(())
    }

    /// Starts the closing handshake with `code` (RFC 6455, 7.4) and
    /// `reason` (cut to fit a control frame). The connection then waits
    /// for the peer's closing frame, dropping any message that comes
    /// before it.
    pub fn close(&mut self, code: u16, reason: &str) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.writer.close(Some(actix_http::ws::CloseReason {
            code: code.into(),
            description: Some(reason.to_owned()),
        }));
    }

    /// Whether the connection is closing: nothing more can be sent.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// A handle to write to this connection from other tasks or threads.
    pub fn handle(&self) -> SocketHandle {
        SocketHandle { commands: self.commands.clone() }
    }
}

/// Writes to a connection from anywhere. Cheap to clone; it does not keep
/// the connection open.
#[derive(Clone, Debug)]
pub struct SocketHandle {
    commands: mpsc::Sender<Command>,
}

impl SocketHandle {
    /// Sends a message, waiting while the connection is behind (its queue
    /// full, or its peer slow to read).
    pub async fn send(&self, message: WebSocketMessage) -> Result<(), SocketClosed> {
        self.commands.send(Command::Send(message)).await.map_err(|_| SocketClosed)
    }

    /// Sends a message if the connection can take it now.
    pub fn try_send(&self, message: WebSocketMessage) -> Result<(), TrySendError> {
        self.commands.try_send(Command::Send(message)).map_err(|e| match e {
            mpsc::error::TrySendError::Full(Command::Send(message)) => TrySendError::Full(message),
            _ => TrySendError::Closed,
        })
    }

    /// Sends a ping.
    pub async fn ping(&self, payload: Bytes) -> Result<(), SocketClosed> {
        self.commands.send(Command::Ping(payload)).await.map_err(|_| SocketClosed)
    }

    /// Starts the closing handshake (see [`Socket::close`]).
    pub async fn close(&self, code: u16, reason: impl Into<String>) -> Result<(), SocketClosed> {
        self.commands.send(Command::Close(code, reason.into())).await.map_err(|_| SocketClosed)
    }

    /// Whether the connection has ended.
    pub fn is_closed(&self) -> bool {
        self.commands.is_closed()
    }
}

/// Why [`SocketHandle::try_send`] did not send.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrySendError {
    /// The connection is behind; the message is given back.
    #[error("the WebSocket connection's queue is full")]
    Full(WebSocketMessage),
    /// The connection is closing or gone.
    #[error("the WebSocket connection is closing or gone")]
    Closed,
}
