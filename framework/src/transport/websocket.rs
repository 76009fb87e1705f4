//! The WebSocket endpoint of the router, on actix-web and `actix-ws`.
//!
//! [`Router::websocket`] returns an actix-web resource that upgrades
//! requests offering `wamp.2.msgpack` or `wamp.2.json` and runs one task per
//! connection. The task decodes frames, drives the session's state machine,
//! forwards messages to the realm actor and writes what the realm sends
//! back, in order.

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse, Resource};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, CloseReason};
use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::auth;
use crate::protocol::roles::router_roles;
use crate::protocol::{errors, Dict, Id, Message, Serializer, Value};
use crate::router::actor::{Join, PeerReceiver, RealmHandle, ToPeer};
use crate::router::realm::SessionInfo;
use crate::router::session::{abort, goodbye, PeerSession, Step};
use crate::router::Router;

impl Router {
    /// The WebSocket endpoint at `path`, to add to an actix-web `App` with
    /// `.service(...)`, beside the application's own routes.
    ///
    /// ```no_run
    /// use actix_web::{web, App, HttpServer};
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let router = wamp::Router::new(wamp::RouterConfig::default());
    /// HttpServer::new(move || {
    ///     App::new()
    ///         .route("/health", web::get().to(|| async { "ok" }))
    ///         .service(router.websocket("/ws"))
    /// })
    /// .bind("127.0.0.1:8080")?
    /// .run()
    /// .await
    /// # }
    /// ```
    pub fn websocket(&self, path: &str) -> Resource {
        web::resource(path).app_data(web::Data::new(self.clone())).route(web::get().to(upgrade))
    }
}

/// The serializer of the first subprotocol the client offers that we speak.
fn negotiate(req: &HttpRequest) -> Option<Serializer> {
    req.headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| Serializer::from_subprotocol(p.trim()))
}

async fn upgrade(
    req: HttpRequest,
    body: web::Payload,
    router: web::Data<Router>,
) -> Result<HttpResponse, actix_web::Error> {
    actix_http::ws::verify_handshake(req.head())?;
    let Some(serializer) = negotiate(&req) else {
        return Ok(HttpResponse::BadRequest().insert_header(header::ContentType::plaintext()).body(
            "WAMP needs a WebSocket subprotocol: offer wamp.2.json or wamp.2.msgpack in Sec-WebSocket-Protocol\n",
        ));
    };
    let (mut response, ws, stream) = actix_ws::handle(&req, body)?;
    response
        .headers_mut()
        .insert(header::SEC_WEBSOCKET_PROTOCOL, HeaderValue::from_static(serializer.subprotocol()));
    let limit = router.config().max_message_size;
    let stream = stream.max_frame_size(limit).aggregate_continuations().max_continuation_size(limit);
    let peer = req.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let span = tracing::info_span!(
        "session",
        %peer,
        serializer = serializer.subprotocol(),
        realm = tracing::field::Empty,
        session = tracing::field::Empty,
        authid = tracing::field::Empty,
    );
    let connection = Connection::new(router.get_ref().clone(), serializer, ws);
    actix_web::rt::spawn(connection.run(stream).instrument(span));
    Ok(response)
}

/// Why the connection loop ended.
enum End {
    /// Close the WebSocket with this code and reason.
    Close(CloseCode, String),
    /// The peer is gone; nothing more can be sent.
    Gone,
}

/// One client connection.
struct Connection {
    router: Router,
    serializer: Serializer,
    ws: actix_ws::Session,
    machine: PeerSession,
    joined: Option<(RealmHandle, Id)>,
    outbound: Option<PeerReceiver>,
    last_heard: Instant,
    /// Set once the router sent GOODBYE: when to stop waiting for the reply.
    goodbye_deadline: Option<Instant>,
}

impl Connection {
    fn new(router: Router, serializer: Serializer, ws: actix_ws::Session) -> Self {
        let machine = PeerSession::new(router.config().uri_check);
        Connection {
            router,
            serializer,
            ws,
            machine,
            joined: None,
            outbound: None,
            last_heard: Instant::now(),
            goodbye_deadline: None,
        }
    }

    async fn run(mut self, mut stream: AggregatedMessageStream) {
        let _guard = self.router.track_connection();
        tracing::debug!("connection open");
        let ping_interval = self.router.config().ping_interval();
        let ping_timeout = self.router.config().ping_timeout();
        let mut ping = tokio::time::interval(ping_interval.unwrap_or(Duration::from_secs(3600)));
        ping.reset();
        let end = loop {
            let step = tokio::select! {
                biased;
                out = recv_outbound(&mut self.outbound) => self.on_outbound(out).await,
                frame = stream.recv() => self.on_frame(frame).await,
                _ = sleep_until(self.goodbye_deadline) => {
                    Some(End::Close(CloseCode::Away, "no GOODBYE in reply".into()))
                }
                _ = ping.tick(), if ping_interval.is_some() => {
                    let silent = self.last_heard.elapsed();
                    if silent > ping_interval.unwrap_or_default() + ping_timeout {
                        Some(End::Close(CloseCode::Away, format!("no answer to pings for {}s", silent.as_secs())))
                    } else if self.ws.ping(b"").await.is_err() {
                        Some(End::Gone)
                    } else {
                        None
                    }
                }
            };
            if let Some(end) = step {
                break end;
            }
        };
        self.leave_realm();
        if let End::Close(code, description) = end {
            tracing::debug!(?code, %description, "closing connection");
            let _ = self.ws.close(Some(CloseReason { code, description: Some(description) })).await;
        }
        tracing::debug!("connection closed");
    }

    fn leave_realm(&mut self) {
        if let Some((realm, session)) = self.joined.take() {
            realm.leave(session);
        }
    }

    async fn send(&mut self, message: &Message) -> Result<(), End> {
        let internal = |what: &str| {
            tracing::error!(message = message.name(), "cannot encode an outgoing message: {what}");
            End::Close(CloseCode::Error, "internal encoding error".into())
        };
        let mut data = Vec::with_capacity(128);
        if let Err(e) = self.serializer.encode_into(message, &mut data) {
            return Err(internal(&e.to_string()));
        }
        let sent = if self.serializer.is_binary() {
            self.ws.binary(Bytes::from(data)).await
        } else {
            match String::from_utf8(data) {
                Ok(text) => self.ws.text(text).await,
                Err(e) => return Err(internal(&e.to_string())),
            }
        };
        sent.map_err(|_| End::Gone)
    }

    /// A message the realm sends to this session.
    async fn on_outbound(&mut self, out: Option<ToPeer>) -> Option<End> {
        match out {
            Some(ToPeer::Message(message)) => self.send(&message).await.err(),
            Some(ToPeer::Close { reason, message }) => {
                // The realm has already forgotten the session.
                self.joined = None;
                if reason == errors::PROTOCOL_VIOLATION {
                    self.machine.violation(&message);
                    return Some(self.fail(goodbye(reason, &message), CloseCode::Protocol).await);
                }
                self.machine.closing();
                if let Err(end) = self.send(&goodbye(reason, &message)).await {
                    return Some(end);
                }
                self.outbound = None;
                // Wait (bounded) for the peer's GOODBYE; `on_frame` ends the
                // loop when it arrives.
                self.goodbye_deadline = Some(Instant::now() + self.router.config().shutdown_grace());
                None
            }
            None => {
                self.outbound = None;
                None
            }
        }
    }

    async fn fail(&mut self, message: Message, code: CloseCode) -> End {
        let description = match &message {
            Message::Abort { reason, .. } | Message::Goodbye { reason, .. } => reason.clone(),
            _ => String::new(),
        };
        if matches!(message, Message::Goodbye { .. }) {
            self.leave_realm();
        }
        match self.send(&message).await {
            Ok(()) => End::Close(code, description),
            Err(end) => end,
        }
    }

    /// A frame from the client.
    async fn on_frame(
        &mut self,
        frame: Option<Result<AggregatedMessage, actix_ws::ProtocolError>>,
    ) -> Option<End> {
        self.last_heard = Instant::now();
        let data = match frame {
            None => return Some(End::Gone),
            Some(Err(e)) => {
                tracing::debug!(error = %e, "websocket protocol error");
                let code = match e {
                    actix_ws::ProtocolError::Overflow => CloseCode::Size,
                    _ => CloseCode::Protocol,
                };
                let text = match e {
                    actix_ws::ProtocolError::Overflow => format!(
                        "message larger than the limit of {} bytes",
                        self.router.config().max_message_size
                    ),
                    other => other.to_string(),
                };
                // Tell the peer in WAMP terms too, if it can still hear us.
                let step = self.machine.violation(&text);
                if let Step::Fail { message } = step {
                    return Some(self.fail(message, code).await);
                }
                return Some(End::Close(code, text));
            }
            Some(Ok(AggregatedMessage::Text(text))) if !self.serializer.is_binary() => text.into_bytes(),
            Some(Ok(AggregatedMessage::Binary(data))) if self.serializer.is_binary() => data,
            Some(Ok(AggregatedMessage::Text(_) | AggregatedMessage::Binary(_))) => {
                let kind = if self.serializer.is_binary() { "text" } else { "binary" };
                let text = format!("a {kind} frame on a {} session", self.serializer.subprotocol());
                let step = self.machine.violation(&text);
                return self.perform(step).await;
            }
            Some(Ok(AggregatedMessage::Ping(payload))) => {
                return self.ws.pong(&payload).await.err().map(|_| End::Gone);
            }
            Some(Ok(AggregatedMessage::Pong(_))) => return None,
            Some(Ok(AggregatedMessage::Close(reason))) => {
                tracing::debug!(?reason, "peer closed the connection");
                return Some(End::Close(CloseCode::Normal, String::new()));
            }
        };
        let step = match self.serializer.decode(&data) {
            Ok(message) => self.machine.receive(message),
            Err(e) => self.machine.violation(&e.to_string()),
        };
        self.perform(step).await
    }

    async fn perform(&mut self, step: Step) -> Option<End> {
        match step {
            Step::Route(message) => {
                if let Some((realm, session)) = &self.joined {
                    realm.send(*session, message);
                }
                None
            }
            Step::Join { realm, details } => self.join(realm, details).await,
            Step::Leave { reply } => {
                self.leave_realm();
                if let Some(reply) = reply {
                    if let Err(end) = self.send(&reply).await {
                        return Some(end);
                    }
                }
                Some(End::Close(CloseCode::Normal, String::new()))
            }
            Step::Fail { message } => Some(self.fail(message, CloseCode::Protocol).await),
            Step::Close => Some(End::Close(CloseCode::Normal, String::new())),
            Step::Ignore => None,
        }
    }

    async fn join(&mut self, realm_name: String, details: Dict) -> Option<End> {
        let Some(realm) = self.router.realm(&realm_name) else {
            self.machine.rejected();
            let text = format!("no realm '{realm_name}' on this router");
            return Some(self.fail(abort(errors::NO_SUCH_REALM, &text), CloseCode::Normal).await);
        };
        let identity = match auth::authenticate(&details) {
            Ok(identity) => identity,
            Err(e) => {
                self.machine.rejected();
                return Some(self.fail(abort(e.uri(), &e.to_string()), CloseCode::Normal).await);
            }
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        let info = SessionInfo { identity: identity.clone() };
        let session = match realm.addr().send(Join { info, sender, direct: None }).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "realm unavailable");
                self.machine.rejected();
                let text = "the realm is shutting down";
                return Some(self.fail(abort(errors::SYSTEM_SHUTDOWN_ERROR, text), CloseCode::Away).await);
            }
        };
        let span = tracing::Span::current();
        span.record("realm", realm_name.as_str());
        span.record("session", session);
        span.record("authid", identity.authid.as_str());
        self.joined = Some((realm, session));
        self.outbound = Some(receiver);
        self.machine.joined();
        let mut welcome = Dict::new();
        welcome.insert("roles".into(), Value::Dict(router_roles()));
        welcome.insert("realm".into(), Value::from(realm_name));
        identity.write_details(&mut welcome);
        welcome.insert("agent".into(), Value::from(concat!("actix-wamp/", env!("CARGO_PKG_VERSION"))));
        tracing::debug!("session joined");
        self.send(&Message::Welcome { session, details: welcome }).await.err()
    }
}

/// Completes at `deadline`, or never without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The next message from the realm, or pending forever when not joined.
async fn recv_outbound(outbound: &mut Option<PeerReceiver>) -> Option<ToPeer> {
    match outbound {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
