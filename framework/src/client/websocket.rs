//! The WebSocket link of a client session: connect, join, pump messages,
//! and reconnect with exponential backoff and jitter.

use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason};
use tokio::sync::mpsc;

use super::link::{Closed, LinkEvent, LinkSender, Outgoing, RemoteEvent};
use crate::protocol::{errors, Dict, Serializer, Value, WampMessage};
use crate::router::flow::{Credit, Gate};
use crate::router::session::goodbye;
use crate::transport::ws::client::{self, ClientReader, Dial};
use crate::transport::ws::{Compression, ConnectError, Incoming, ReadError, Writer};
use crate::{Error, ErrorKind};

/// When and how often to reconnect.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct ReconnectPolicy {
    /// Reconnect at all (also governs retrying the first connection).
    pub enabled: bool,
    /// The first delay, in milliseconds.
    pub initial_delay_ms: u64,
    /// The longest delay, in milliseconds.
    pub max_delay_ms: u64,
    /// The factor each failed attempt multiplies the delay by.
    pub multiplier: f64,
    /// The fraction of each delay drawn at random (0 to 1), so that many
    /// clients do not reconnect in step.
    pub jitter: f64,
    /// Give up after this many failed attempts in a row; never when `None`.
    pub max_attempts: Option<u32>,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            initial_delay_ms: 250,
            max_delay_ms: 30_000,
            multiplier: 2.0,
            jitter: 0.2,
            max_attempts: None,
        }
    }
}

impl ReconnectPolicy {
    /// No reconnecting: one attempt, and the session ends with its
    /// connection.
    pub fn off() -> Self {
        ReconnectPolicy { enabled: false, ..Self::default() }
    }

    /// The delay before attempt `attempt` (1 is the first retry).
    ///
    /// ```
    /// use wamp::client::ReconnectPolicy;
    /// let p = ReconnectPolicy { jitter: 0.0, ..ReconnectPolicy::default() };
    /// assert_eq!(p.delay(1).as_millis(), 250);
    /// assert_eq!(p.delay(3).as_millis(), 1000);
    /// assert_eq!(p.delay(100).as_millis(), 30_000);
    /// ```
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(64) as i32;
        let base = (self.initial_delay_ms as f64 * self.multiplier.max(1.0).powi(exponent))
            .min(self.max_delay_ms as f64);
        let jitter = self.jitter.clamp(0.0, 1.0);
        let factor = if jitter > 0.0 {
            use rand::Rng as _;
            1.0 - jitter + rand::rng().random_range(0.0..=jitter * 2.0)
        } else {
            1.0
        };
        Duration::from_millis((base * factor).max(0.0) as u64)
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `ws://host:port/path` (or `wss://`).
    pub url: String,
    /// The realm to join.
    pub realm: String,
    /// The serializer to offer.
    pub serializer: Serializer,
    /// Reconnect behaviour.
    pub reconnect: ReconnectPolicy,
    /// How to authenticate (anonymous by default).
    pub credentials: super::Credentials,
    /// Further HELLO details; roles, and the credentials' `authmethods`,
    /// `authid` and `authextra`, are always set.
    pub hello_details: Dict,
    /// The largest message accepted from the router.
    pub max_message_size: usize,
    /// How long a call waits for its answer unless its options say
    /// otherwise; `None` waits as long as the session lasts.
    pub call_timeout: Option<Duration>,
    /// PEM files of CA certificates to trust for `wss://`, besides the
    /// system's root certificates.
    pub tls_ca: Vec<std::path::PathBuf>,
    /// SHA-256 fingerprints of the only certificates to trust for
    /// `wss://` (`AB:CD:...`, as `openssl x509 -fingerprint -sha256`
    /// prints); when given, CAs are not consulted.
    pub tls_pins: Vec<String>,
    /// The HTTP proxy to tunnel through (by default the one the
    /// environment names: `HTTPS_PROXY` / `HTTP_PROXY`, `NO_PROXY`).
    pub proxy: super::Proxy,
    /// permessage-deflate: offered to the router when enabled (off by
    /// default; see [`Compression`] for what it costs and saves).
    pub compression: Compression,
    /// How long one connection attempt may take, from opening TCP (or the
    /// proxy tunnel) through the TLS handshake and the WebSocket upgrade
    /// to WELCOME; an attempt that takes longer counts as failed (and is
    /// retried as the reconnect policy says). 10 seconds by default.
    pub connect_timeout: Duration,
}

impl ConnectOptions {
    /// Options for `url` and `realm`, MessagePack, reconnecting by default.
    pub fn new(url: impl Into<String>, realm: impl Into<String>) -> Self {
        ConnectOptions {
            url: url.into(),
            realm: realm.into(),
            serializer: Serializer::MsgPack,
            reconnect: ReconnectPolicy::default(),
            credentials: super::Credentials::default(),
            hello_details: Dict::new(),
            max_message_size: 16 * 1024 * 1024,
            call_timeout: Some(Duration::from_secs(60)),
            tls_ca: Vec::new(),
            tls_pins: Vec::new(),
            proxy: super::Proxy::default(),
            compression: Compression::default(),
            connect_timeout: Duration::from_secs(10),
        }
    }
}

/// The HELLO a client sends: all four client roles, with the features of
/// [`super::features::CLIENT_FEATURES`].
fn hello(options: &ConnectOptions) -> WampMessage {
    let roles = super::features::hello_roles();
    let mut details = options.hello_details.clone();
    options.credentials.write_hello(&mut details);
    details.insert("roles".into(), Value::Dict(roles));
    details.insert("agent".into(), Value::from(concat!("actix-wamp/", env!("CARGO_PKG_VERSION"))));
    WampMessage::Hello { realm: options.realm.clone(), details }
}

/// Why a connection attempt or session ended.
enum Ended {
    /// Worth another attempt (I/O error, router went away or restarts).
    Retry(String),
    /// The router ended the session with GOODBYE or ABORT: worth another
    /// attempt too, but calls in flight learn why.
    Closed(Closed),
    /// Not worth another attempt (ABORT such as no_such_realm).
    Fatal(Error),
    /// The application left.
    Left,
}

/// Runs the link until the application leaves or reconnecting gives up.
/// `commands` is the sending end of `outgoing`, handed to each session.
pub async fn run(
    options: ConnectOptions,
    events: mpsc::UnboundedSender<RemoteEvent>,
    commands: mpsc::UnboundedSender<Outgoing>,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
) {
    let mut generation = 0u64;
    let mut failures = 0u32;
    loop {
        let attempt = tokio::select! {
            attempt = tokio::time::timeout(options.connect_timeout, connect(&options)) => {
                attempt.unwrap_or_else(|_| {
                    Err(Ended::Retry(format!(
                        "no WELCOME from {} within {} ms (connect_timeout)",
                        options.url,
                        options.connect_timeout.as_millis()
                    )))
                })
            }
            () = leave_requested(&mut outgoing) => return,
        };
        let ended = match attempt {
            Err(ended) => ended,
            Ok((socket, session, details)) => {
                generation += 1;
                failures = 0;
                let sender = LinkSender::Remote { commands: commands.clone(), generation, gate: Gate::new() };
                let joined = LinkEvent::Joined { session, realm: options.realm.clone(), details, sender };
                if events.send((joined, None)).is_err() {
                    return;
                }
                let ended = pump(socket, &options, generation, &mut outgoing, &events).await;
                let (reason, retry, by_router) = match ended {
                    Ended::Retry(ref reason) => (reason.clone(), options.reconnect.enabled, None),
                    Ended::Closed(closed) => {
                        let reason = format!("the router ended the session ({})", closed.reason);
                        (reason, options.reconnect.enabled, Some(closed))
                    }
                    Ended::Fatal(ref e) => (e.to_string(), false, None),
                    Ended::Left => (errors::CLOSE_NORMAL.to_owned(), false, None),
                };
                let _ = events
                    .send((LinkEvent::Left { reason: reason.clone(), reconnecting: retry, by_router }, None));
                if !retry {
                    return;
                }
                Ended::Retry(reason)
            }
        };
        let ended = match ended {
            Ended::Closed(closed) => {
                Ended::Retry(format!("the router ended the session ({})", closed.reason))
            }
            other => other,
        };
        match ended {
            Ended::Closed(_) | Ended::Left => return,
            Ended::Fatal(e) => {
                let _ = events.send((LinkEvent::Failed(e), None));
                return;
            }
            Ended::Retry(reason) => {
                failures += 1;
                let give_up = !options.reconnect.enabled
                    || options.reconnect.max_attempts.is_some_and(|max| failures > max);
                if give_up {
                    let text = format!("cannot reach the router at {}: {reason}", options.url);
                    let _ = events.send((LinkEvent::Failed(Error::transport(text)), None));
                    return;
                }
                let delay = options.reconnect.delay(failures);
                tracing::info!(url = %options.url, %reason, attempt = failures, delay_ms = delay.as_millis() as u64, "reconnecting");
                // Leaving while waiting ends the link; stale messages of the
                // old session are dropped.
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = leave_requested(&mut outgoing) => return,
                }
            }
        }
    }
}

/// Waits until the application leaves, dropping messages meanwhile (they
/// belong to a session that is gone).
async fn leave_requested(outgoing: &mut mpsc::UnboundedReceiver<Outgoing>) {
    loop {
        match outgoing.recv().await {
            Some(Outgoing::Leave) | None => return,
            Some(Outgoing::Message(..)) => {}
        }
    }
}

/// The WebSocket connection of one session.
struct Socket {
    reader: ClientReader,
    writer: Writer,
}

/// Opens the WebSocket and joins the realm.
async fn connect(options: &ConnectOptions) -> Result<(Socket, crate::protocol::Id, Dict), Ended> {
    let retry = |e: &dyn std::fmt::Display| Ended::Retry(e.to_string());
    let protocols = [options.serializer.subprotocol().to_owned()];
    let dial = Dial {
        url: &options.url,
        protocols: &protocols,
        compression: &options.compression,
        max_message_size: options.max_message_size,
        tls_ca: &options.tls_ca,
        tls_pins: &options.tls_pins,
        proxy: &options.proxy,
        headers: &[],
    };
    let opened = client::open(&dial).await.map_err(|e| match e {
        // Said once the attempts are given up, after the router's URL.
        ConnectError::Io { source, .. } => Ended::Retry(source.to_string()),
        e if e.is_retryable() => Ended::Retry(e.to_string()),
        e => Ended::Fatal(Error::transport(e.to_string())),
    })?;
    if opened.protocol.as_deref() != Some(options.serializer.subprotocol()) {
        let text = format!(
            "the router did not accept {} (it answered {:?})",
            options.serializer.subprotocol(),
            opened.protocol
        );
        return Err(Ended::Fatal(Error::new(errors::PROTOCOL_VIOLATION, text).of_kind(ErrorKind::Aborted)));
    }
    let mut socket = Socket { reader: opened.reader, writer: opened.writer };
    send(&mut socket, options.serializer, &hello(options)).map_err(|e| retry(&e))?;
    let mut challenged = false;
    loop {
        match receive(&mut socket, options.serializer).await {
            Ok(Some(WampMessage::Welcome { session, details })) => return Ok((socket, session, details)),
            Ok(Some(WampMessage::Abort { reason, details })) => {
                let message = details.get("message").and_then(Value::as_str).unwrap_or("").to_owned();
                return Err(Ended::Fatal(Error::new(reason, message).of_kind(ErrorKind::Aborted)));
            }
            // One challenge per join: a router that asks again is broken.
            Ok(Some(WampMessage::Challenge { method, extra })) if !challenged => {
                challenged = true;
                let signature = options.credentials.answer(&method, &extra).map_err(|reason| {
                    Ended::Fatal(
                        Error::new(errors::AUTHENTICATION_FAILED, format!("cannot authenticate: {reason}"))
                            .of_kind(ErrorKind::Aborted),
                    )
                })?;
                let answer = WampMessage::Authenticate { signature, extra: Dict::new() };
                send(&mut socket, options.serializer, &answer).map_err(|e| retry(&e))?;
            }
            Ok(Some(other)) => return Err(Ended::Retry(format!("expected WELCOME, got {}", other.name()))),
            Ok(None) => {
                return Err(Ended::Retry("the router closed the connection during the handshake".into()))
            }
            Err(e) => return Err(Ended::Retry(e)),
        }
    }
}

/// Writes `message` to the socket. The writer gathers what is written
/// while the socket is busy, so messages queued together go out together;
/// [`pump`] takes no more from the application while it is over its
/// high-water mark.
fn send(socket: &mut Socket, serializer: Serializer, message: &WampMessage) -> Result<(), String> {
    socket.writer.message(serializer, message).map_err(|e| e.to_string())
}

/// Says GOODBYE, waits briefly for the router's, and closes.
async fn leave(mut socket: Socket, serializer: Serializer) -> Ended {
    let _ = send(&mut socket, serializer, &goodbye(errors::CLOSE_NORMAL, "leaving"));
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(message)) = receive(&mut socket, serializer).await {
            if matches!(message, WampMessage::Goodbye { .. }) {
                break;
            }
        }
    })
    .await;
    close(socket, CloseCode::Normal, "").await;
    Ended::Left
}

/// Starts the closing handshake and waits, briefly, for the router to
/// answer it and close the connection.
async fn close(mut socket: Socket, code: CloseCode, reason: &str) {
    socket.writer.close(Some(CloseReason { code, description: Some(reason.to_owned()) }));
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while std::future::poll_fn(|cx| socket.reader.poll_next(cx)).await.is_some() {}
    })
    .await;
}

/// The next WAMP message; `Ok(None)` when the connection closed. Pings
/// are answered on the way.
async fn receive(socket: &mut Socket, serializer: Serializer) -> Result<Option<WampMessage>, String> {
    loop {
        let frame = std::future::poll_fn(|cx| socket.reader.poll_next(cx)).await;
        if let Some(message) = decode(socket, serializer, frame)? {
            return Ok(message);
        }
    }
}

/// What a frame from the router means: a message (`Some(Some(..))`),
/// the end of the connection (`Some(None)`), or nothing for the session
/// (`None`: a ping, answered here, or a pong).
fn decode(
    socket: &mut Socket,
    serializer: Serializer,
    frame: Option<Result<Incoming, ReadError>>,
) -> Result<Option<Option<WampMessage>>, String> {
    match frame {
        None => Ok(Some(None)),
        Some(Ok(Incoming::Close(reason))) => {
            socket.writer.close(reason.map(|reason| CloseReason::from(reason.code)));
            Ok(Some(None))
        }
        Some(Err(e)) => {
            socket.writer.close(Some(CloseReason { code: e.close_code(), description: Some(e.to_string()) }));
            Err(e.to_string())
        }
        Some(Ok(Incoming::Text(text))) if !serializer.is_binary() => {
            serializer.decode(&text).map(|m| Some(Some(m))).map_err(|e| e.to_string())
        }
        Some(Ok(Incoming::Binary(data))) if serializer.is_binary() => {
            serializer.decode(&data).map(|m| Some(Some(m))).map_err(|e| e.to_string())
        }
        Some(Ok(Incoming::Ping(payload))) => {
            socket.writer.pong(&payload);
            Ok(None)
        }
        Some(Ok(Incoming::Pong(_))) => Ok(None),
        Some(Ok(_)) => Err(format!("a frame of the wrong type for {serializer}")),
    }
}

/// Moves messages both ways until the session ends. Back-pressure holds
/// both ways, as TCP's does:
/// * messages queued by the application are taken only while the socket
///   has room: a router that reads slowly slows the application's
///   sending (publications wait for the session's gate, which counts what
///   is queued);
/// * the socket is read only while the session has taken what was read
///   (less than [`INBOUND_WINDOW`](crate::router::flow::INBOUND_WINDOW)
///   waits for it): a session that falls behind slows the router, which
///   then slows the producers feeding it.
async fn pump(
    mut socket: Socket,
    options: &ConnectOptions,
    generation: u64,
    outgoing: &mut mpsc::UnboundedReceiver<Outgoing>,
    events: &mpsc::UnboundedSender<RemoteEvent>,
) -> Ended {
    let serializer = options.serializer;
    let inbound = Gate::new();
    loop {
        let room = socket.writer.has_room();
        let reading = inbound.is_open();
        let event = tokio::select! {
            gone = std::future::poll_fn(|cx| socket.writer.poll_room(cx)), if !room => match gone {
                Ok(()) => continue,
                Err(_) => return Ended::Retry("the connection to the router failed".into()),
            },
            command = outgoing.recv(), if room => Event::Command(command),
            () = std::future::poll_fn(|cx| inbound.poll_open(cx)), if !reading => continue,
            frame = std::future::poll_fn(|cx| socket.reader.poll_next(cx)), if reading => {
                let size = match &frame {
                    Some(Ok(Incoming::Text(data) | Incoming::Binary(data))) => data.len(),
                    _ => 0,
                };
                match decode(&mut socket, serializer, frame) {
                    Ok(None) => continue,
                    Ok(Some(message)) => Event::Received(Ok(message), size),
                    Err(e) => Event::Received(Err(e), size),
                }
            }
        };
        match event {
            Event::Command(mut command) => {
                // Everything already queued is written at once: it goes
                // out together.
                loop {
                    match command {
                        // A message's credit is returned once it is written
                        // (or dropped, for an old session's).
                        Some(Outgoing::Message(g, message, _credit)) if g == generation => {
                            if let Err(e) = send(&mut socket, serializer, &message) {
                                return Ended::Retry(e);
                            }
                        }
                        Some(Outgoing::Message(..)) => {}
                        Some(Outgoing::Leave) | None => return leave(socket, serializer).await,
                    }
                    if !socket.writer.has_room() {
                        break;
                    }
                    match outgoing.try_recv() {
                        Ok(next) => command = Some(next),
                        Err(_) => break,
                    }
                }
            }
            Event::Received(Ok(Some(WampMessage::Goodbye { reason, details })), _) => {
                let _ = send(&mut socket, serializer, &goodbye(errors::GOODBYE_AND_OUT, "goodbye"));
                close(socket, CloseCode::Normal, "").await;
                return Ended::Closed(closed(reason, &details));
            }
            Event::Received(Ok(Some(WampMessage::Abort { reason, details })), _) => {
                close(socket, CloseCode::Normal, "").await;
                return Ended::Closed(closed(reason, &details));
            }
            Event::Received(Ok(Some(message)), size) => {
                let credit = Credit::new(&inbound, size);
                if events.send((LinkEvent::Message(message), Some(credit))).is_err() {
                    return Ended::Left;
                }
            }
            Event::Received(Ok(None), _) => return Ended::Retry("the router closed the connection".into()),
            Event::Received(Err(e), _) => {
                let _ = send(&mut socket, serializer, &goodbye(errors::PROTOCOL_VIOLATION, &e));
                close(socket, CloseCode::Protocol, "").await;
                return Ended::Retry(e);
            }
        }
    }
}

/// How the router ended the session: the reason and the message of its
/// GOODBYE or ABORT (`Details.message`, if a string).
fn closed(reason: String, details: &Dict) -> Closed {
    let message = details.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
    Closed { reason, message }
}

/// What woke [`pump`].
enum Event {
    Command(Option<Outgoing>),
    /// A message (or the end, or an error) and its size on the wire.
    Received(Result<Option<WampMessage>, String>, usize),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::roles::{ClientRoles, Role};

    #[test]
    fn hello_announces_every_role_and_the_features_the_client_reads() {
        let WampMessage::Hello { details, .. } = hello(&ConnectOptions::new("ws://127.0.0.1:1/ws", "realm1"))
        else {
            panic!("not a HELLO");
        };
        let roles = ClientRoles::from_hello(&details).expect("valid roles");
        assert!(Role::ALL.iter().all(|role| roles.plays(*role)));
        assert!(roles.supports(Role::Callee, "caller_identification"));
        assert!(roles.supports(Role::Subscriber, "pattern_based_subscription"));
        assert_eq!(roles, super::super::features::client_roles());
    }
}
