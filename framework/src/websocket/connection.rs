//! One connection of a plain endpoint: the upgrade, then the loop that
//! reads, writes and keeps the peer alive.

use std::rc::Rc;
use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason};
use actix_web::{web, HttpRequest, HttpResponse, Resource};
use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::handler::{Closed, WebSocketHandler, WebSocketMessage};
use super::socket::{Command, Socket, HANDLE_QUEUE};
use super::Compression;
use crate::transport::origin::AllowedOrigins;
use crate::transport::ws::{self, Incoming, ReadError, Reader, Writer};

/// Limits and keepalive of a plain endpoint or client. The defaults are
/// those of the WAMP endpoint ([`RouterConfig`](crate::RouterConfig)).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Settings {
    /// The largest message (and frame) accepted, in bytes; larger ones
    /// end the connection with 1009.
    pub max_message_size: usize,
    /// How often a silent peer is pinged; `None`: never.
    pub ping_interval: Option<Duration>,
    /// How long after a ping a peer may stay silent before it is closed.
    pub ping_timeout: Duration,
    /// How long the closing handshake may take: the wait for the peer's
    /// closing frame, and for ours to be sent.
    pub close_timeout: Duration,
    /// The web origins whose pages may connect (any by default); others
    /// get HTTP 403 before the handler sees the request.
    pub allowed_origins: AllowedOrigins,
    /// permessage-deflate: off by default.
    pub compression: Compression,
}

impl Default for Settings {
    fn default() -> Self {
        let defaults = crate::RouterConfig::default();
        Settings {
            max_message_size: defaults.max_message_size,
            ping_interval: defaults.ping_interval(),
            ping_timeout: defaults.ping_timeout(),
            close_timeout: defaults.shutdown_grace(),
            allowed_origins: AllowedOrigins::any(),
            compression: Compression::default(),
        }
    }
}

impl Settings {
    /// These settings with `max_message_size`.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// These settings accepting only pages from `origins` (patterns as in
    /// [`RouterConfig::allowed_origins`](crate::RouterConfig::allowed_origins)).
    pub fn allowed_origins<S: AsRef<str>>(mut self, origins: impl IntoIterator<Item = S>) -> Self {
        self.allowed_origins = AllowedOrigins::new(origins);
        self
    }

    /// These settings with `compression` (e.g. [`Compression::enabled`])
    /// for clients that offer permessage-deflate.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// These settings with keepalive pings every `interval` (`None`: off),
    /// closing a peer silent for `timeout` after one.
    pub fn keepalive(mut self, interval: Option<Duration>, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }
}

/// A plain WebSocket endpoint at `path`, to add to an actix-web `App` with
/// `.service(...)`. `handler` makes the [`WebSocketHandler`] of each connection.
pub fn endpoint<H, F>(path: &str, settings: Settings, handler: F) -> Resource
where
    H: WebSocketHandler,
    F: Fn() -> H + 'static,
{
    let make = Rc::new(handler);
    let settings = Rc::new(settings);
    web::resource(path).route(web::get().to(move |req: HttpRequest, body: web::Payload| {
        let handler = make();
        upgrade(req, body, handler, settings.clone())
    }))
}

async fn upgrade<H: WebSocketHandler>(
    req: HttpRequest,
    body: web::Payload,
    mut handler: H,
    settings: Rc<Settings>,
) -> Result<HttpResponse, actix_web::Error> {
    actix_http::ws::verify_handshake(req.head())?;
    if let Some(refused) = settings.allowed_origins.refuse(&req) {
        return Ok(refused);
    }
    let accept = handler.on_connect(&req)?;
    let (response, reader, writer) =
        ws::accept(&req, body, accept.protocol.as_deref(), settings.max_message_size, &settings.compression)?;
    let span = tracing::debug_span!("websocket", peer = ?req.peer_addr(), path = req.path());
    let connection = Connection::new(handler, writer, settings, false);
    actix_web::rt::spawn(tracing::Instrument::instrument(connection.run(reader), span));
    Ok(response)
}

/// The loop of one connection, server's or client's.
pub(super) struct Connection<H> {
    handler: H,
    socket: Socket,
    /// What the connection's handles ask for.
    queue: mpsc::Receiver<Command>,
    settings: Rc<Settings>,
    last_heard: Instant,
    /// A client, which leaves closing TCP to the server (RFC 6455, 7.1.1).
    client: bool,
}

/// What woke the loop.
enum Event {
    Frame(Option<Result<Incoming, ReadError>>),
    Command(Command),
    Room,
    Tick,
}

impl<H: WebSocketHandler> Connection<H> {
    pub(super) fn new(handler: H, writer: Writer, settings: Rc<Settings>, client: bool) -> Self {
        let (commands, queue) = mpsc::channel(HANDLE_QUEUE);
        let socket = Socket { writer, commands, closing: false };
        Connection { handler, socket, queue, settings, last_heard: Instant::now(), client }
    }

    /// A handle to the connection's socket, before it runs.
    pub(super) fn handle(&self) -> super::SocketHandle {
        self.socket.handle()
    }

    /// Runs the connection until it ends; the handler's `on_close` is
    /// told how, and so is the caller.
    pub(super) async fn run<S, E>(mut self, mut reader: Reader<S>) -> Closed
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        tracing::debug!("websocket open");
        self.handler.on_open(&mut self.socket);
        let interval = self.settings.ping_interval;
        let mut ping = tokio::time::interval(interval.unwrap_or(Duration::from_secs(3600)));
        ping.reset();
        let closed = loop {
            if self.socket.closing {
                break self.await_peer_close(&mut reader).await;
            }
            // Reading and taking commands wait while the writer is behind:
            // that is what slows down a peer that does not read.
            let room = self.socket.writer.has_room();
            let event = tokio::select! {
                biased;
                gone = std::future::poll_fn(|cx| self.socket.writer.poll_room(cx)), if !room => match gone {
                    Ok(()) => Event::Room,
                    Err(_) => break Closed { clean: false, code: None, reason: String::new() },
                },
                command = self.queue.recv(), if room => match command {
                    Some(command) => Event::Command(command),
                    // `self.socket` holds a sender: the queue never ends.
                    None => Event::Room,
                },
                frame = std::future::poll_fn(|cx| reader.poll_next(cx)), if room => Event::Frame(frame),
                _ = ping.tick(), if interval.is_some() => Event::Tick,
            };
            let ended = match event {
                Event::Frame(frame) => self.on_frame(frame),
                Event::Command(command) => {
                    self.on_command(command);
                    None
                }
                Event::Room => None,
                Event::Tick => self.keepalive(),
            };
            if let Some(closed) = ended {
                break closed;
            }
        };
        self.flush().await;
        if self.client {
            // The server closes TCP once it has our closing frame; the
            // socket closes when the reader is dropped, at the latest
            // after `close_timeout`.
            let eof = async { while std::future::poll_fn(|cx| reader.poll_next(cx)).await.is_some() {} };
            let _ = tokio::time::timeout(self.settings.close_timeout, eof).await;
        }
        tracing::debug!(?closed, "websocket closed");
        self.handler.on_close(closed.clone());
        closed
    }

    fn on_frame(&mut self, frame: Option<Result<Incoming, ReadError>>) -> Option<Closed> {
        self.last_heard = Instant::now();
        match frame {
            None => Some(Closed { clean: false, code: None, reason: String::new() }),
            Some(Err(e)) => {
                tracing::debug!(error = %e, "websocket protocol error");
                let code = u16::from(e.close_code());
                let reason = e.to_string();
                self.socket.close(code, &reason);
                Some(Closed { clean: false, code: Some(code), reason })
            }
            Some(Ok(Incoming::Text(data))) => {
                // The reader checked it.
                let text = String::from_utf8_lossy(&data).into_owned();
                self.handler.on_message(&mut self.socket, WebSocketMessage::Text(text));
                None
            }
            Some(Ok(Incoming::Binary(data))) => {
                self.handler.on_message(&mut self.socket, WebSocketMessage::Binary(data));
                None
            }
            Some(Ok(Incoming::Ping(payload))) => {
                self.socket.writer.pong(&payload);
                None
            }
            Some(Ok(Incoming::Pong(_))) => None,
            Some(Ok(Incoming::Close(reason))) => {
                // Answer with the peer's code (RFC 6455, 5.5.1), then end.
                let (code, reason) = close_parts(reason);
                if !self.socket.closing {
                    self.socket.closing = true;
                    self.socket.writer.close(code.map(|code| CloseReason::from(CloseCode::from(code))));
                }
                Some(Closed { clean: true, code, reason })
            }
        }
    }

    fn on_command(&mut self, command: Command) {
        // A handle writing after the close gets nothing back: it learns
        // of the end when its channel closes.
        let _ = match command {
            Command::Send(message) => self.socket.send(message),
            Command::Ping(payload) => self.socket.ping(&payload),
            Command::Close(code, reason) => {
                self.socket.close(code, &reason);
                Ok(())
            }
        };
    }

    /// The keepalive tick: ping, or give up on a peer silent too long.
    fn keepalive(&mut self) -> Option<Closed> {
        let limit = self.settings.ping_interval.unwrap_or_default() + self.settings.ping_timeout;
        let silent = self.last_heard.elapsed();
        if silent > limit {
            let reason = format!("no answer to pings for {}s", silent.as_secs());
            self.socket.close(CloseCode::Away.into(), &reason);
            return Some(Closed { clean: false, code: Some(CloseCode::Away.into()), reason });
        }
        let _ = self.socket.ping(b"");
        None
    }

    /// After our closing frame: waits for the peer's, dropping messages
    /// that come before it, at most `close_timeout`.
    async fn await_peer_close<S, E>(&mut self, reader: &mut Reader<S>) -> Closed
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let deadline = tokio::time::sleep(self.settings.close_timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                frame = std::future::poll_fn(|cx| reader.poll_next(cx)) => match frame {
                    Some(Ok(Incoming::Close(reason))) => {
                        let (code, reason) = close_parts(reason);
                        return Closed { clean: true, code, reason };
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => return Closed { clean: false, code: None, reason: String::new() },
                },
                () = &mut deadline => {
                    return Closed { clean: false, code: None, reason: "no closing frame in reply".into() };
                }
            }
        }
    }

    /// Lets what was written go out, at most `close_timeout`.
    async fn flush(&mut self) {
        self.queue.close();
        let flushed = std::future::poll_fn(|cx| self.socket.writer.poll_flushed(cx));
        if tokio::time::timeout(self.settings.close_timeout, flushed).await.is_err() {
            tracing::debug!("the peer read nothing more; the connection is dropped");
        }
    }
}

fn close_parts(reason: Option<CloseReason>) -> (Option<u16>, String) {
    match reason {
        Some(reason) => (Some(reason.code.into()), reason.description.unwrap_or_default()),
        None => (None, String::new()),
    }
}
