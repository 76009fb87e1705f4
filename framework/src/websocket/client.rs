//! The plain WebSocket client: the same handler and socket as an endpoint,
//! on a connection this side opens.

use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::oneshot;

use super::connection::Connection;
use super::{Closed, Compression, Settings, SocketHandle, WebSocketHandler};
use crate::transport::proxy::Proxy;
use crate::transport::ws::client::{self, Dial};
use crate::transport::ws::ConnectError;

/// Where and how a client connects.
///
/// ```
/// use std::time::Duration;
/// use wamp::websocket::{ClientOptions, Compression};
///
/// let options = ClientOptions::new("wss://example.com/chat")
///     .protocol("chat.v2")
///     .header("Authorization", "Bearer 0123")
///     .compression(Compression::enabled())
///     .connect_timeout(Duration::from_secs(5));
/// assert_eq!(options.protocols, ["chat.v2"]);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// `ws://host[:port]/path` or `wss://...`.
    pub url: String,
    /// Subprotocols to offer, in order of preference (none by default).
    pub protocols: Vec<String>,
    /// Further headers of the upgrade request (`Origin`, `Authorization`).
    pub headers: Vec<(String, String)>,
    /// Message size limit, keepalive, closing timeout and compression, as
    /// for an endpoint (`allowed_origins` does not apply to a client).
    /// `compression.enabled` makes the client offer permessage-deflate.
    pub settings: Settings,
    /// PEM files of CA certificates to trust for `wss://`, besides the
    /// system's root certificates.
    pub tls_ca: Vec<PathBuf>,
    /// SHA-256 fingerprints of the only certificates to trust for `wss://`
    /// (`AB:CD:...`); when given, CAs are not consulted.
    pub tls_pins: Vec<String>,
    /// The HTTP proxy to tunnel through (by default the one the
    /// environment names: `HTTPS_PROXY` / `HTTP_PROXY`, `NO_PROXY`).
    pub proxy: Proxy,
    /// How long connecting may take, through the TLS handshake and the
    /// upgrade; 10 seconds by default.
    pub connect_timeout: Duration,
}

impl ClientOptions {
    /// Options for `url`, with the defaults.
    pub fn new(url: impl Into<String>) -> Self {
        ClientOptions {
            url: url.into(),
            protocols: Vec::new(),
            headers: Vec::new(),
            settings: Settings::default(),
            tls_ca: Vec::new(),
            tls_pins: Vec::new(),
            proxy: Proxy::default(),
            connect_timeout: Duration::from_secs(10),
        }
    }

    /// Offers `protocol` too (after those offered before).
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// Sends a further header with the upgrade request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// These options with `settings`.
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = settings;
        self
    }

    /// Offers permessage-deflate with `compression`'s level, window and
    /// threshold for what the client sends.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.settings.compression = compression;
        self
    }

    /// Trusts the CA certificates of the PEM file at `path` too.
    pub fn tls_ca(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls_ca.push(path.into());
        self
    }

    /// Trusts only certificates with these SHA-256 fingerprints.
    pub fn tls_pin(mut self, fingerprint: impl Into<String>) -> Self {
        self.tls_pins.push(fingerprint.into());
        self
    }

    /// These options with `proxy`.
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// These options with `timeout` for connecting.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }
}

/// An open client connection: what was agreed, a handle to write to it,
/// and its end.
#[derive(Debug)]
pub struct ClientConnection {
    protocol: Option<String>,
    compressed: bool,
    handle: SocketHandle,
    closed: oneshot::Receiver<Closed>,
}

impl ClientConnection {
    /// The subprotocol the server chose, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Whether permessage-deflate was negotiated.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// A handle to write to the connection from anywhere.
    pub fn handle(&self) -> SocketHandle {
        self.handle.clone()
    }

    /// Waits until the connection has ended, and says how (as the
    /// handler's [`on_close`](WebSocketHandler::on_close) was told).
    pub async fn closed(self) -> Closed {
        self.closed.await.unwrap_or(Closed {
            clean: false,
            code: None,
            reason: "the connection task ended".into(),
        })
    }
}

/// Connects to `options.url` and runs `handler` on the connection, as an
/// endpoint runs one: [`on_open`](WebSocketHandler::on_open), then every
/// message, then [`on_close`](WebSocketHandler::on_close)
/// ([`on_connect`](WebSocketHandler::on_connect) is a server's and is not
/// called). Returns once the connection is open, or with why it could
/// not be: a URL that cannot work, TLS refusing the server, a refused
/// upgrade, a server answering outside RFC 6455, and the connection
/// timeout are all told at once, never retried.
///
/// The connection runs on the current thread, as actix runs its tasks:
/// call it within an actix (or `actix_web`) runtime, or a tokio
/// `LocalSet`.
///
/// ```no_run
/// use wamp::websocket::{self, ClientOptions, Socket, WebSocketHandler, WebSocketMessage};
///
/// /// Prints what the server sends.
/// struct Print;
///
/// impl WebSocketHandler for Print {
///     fn on_open(&mut self, socket: &mut Socket) {
///         let _ = socket.send(WebSocketMessage::Text("hello".into()));
///     }
///
///     fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
///         tracing::info!(?message, "received");
///         socket.close(1000, "done");
///     }
/// }
///
/// #[actix_web::main]
/// async fn main() -> Result<(), websocket::ConnectError> {
///     let connection = websocket::connect(ClientOptions::new("ws://127.0.0.1:8080/echo"), Print).await?;
///     let closed = connection.closed().await;
///     tracing::info!(clean = closed.clean, code = ?closed.code, "closed");
///     Ok(())
/// }
/// ```
pub async fn connect<H: WebSocketHandler>(
    options: ClientOptions,
    handler: H,
) -> Result<ClientConnection, ConnectError> {
    let dial = Dial {
        url: &options.url,
        protocols: &options.protocols,
        compression: &options.settings.compression,
        max_message_size: options.settings.max_message_size,
        tls_ca: &options.tls_ca,
        tls_pins: &options.tls_pins,
        proxy: &options.proxy,
        headers: &options.headers,
    };
    let opened =
        tokio::time::timeout(options.connect_timeout, client::open(&dial)).await.map_err(|_| {
            let reason = format!("not connected within {} ms", options.connect_timeout.as_millis());
            ConnectError::Io {
                url: options.url.clone(),
                source: std::io::Error::new(std::io::ErrorKind::TimedOut, reason),
            }
        })??;
    let connection = Connection::new(handler, opened.writer, Rc::new(options.settings), true);
    let handle = connection.handle();
    let (done, closed) = oneshot::channel();
    let span = tracing::debug_span!("websocket client", url = %options.url);
    let reader = opened.reader;
    actix_web::rt::spawn(tracing::Instrument::instrument(
        async move {
            let _ = done.send(connection.run(reader).await);
        },
        span,
    ));
    Ok(ClientConnection { protocol: opened.protocol, compressed: opened.compressed, handle, closed })
}
