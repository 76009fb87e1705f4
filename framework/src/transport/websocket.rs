//! The WebSocket endpoint of the router, on actix-web.
//!
//! [`Router::websocket`] returns an actix-web resource that upgrades
//! requests offering `wamp.2.msgpack` or `wamp.2.json` and runs one task per
//! connection. The task decodes frames, drives the session's state machine,
//! forwards messages to the realm actor and writes what the realm sends
//! back, in order.
//!
//! Reading and writing never wait on each other: the task takes messages
//! from the session's outbound queue only while the socket keeps up (see
//! the `ws` module), so a peer that stops reading leaves the task free to
//! read, answer pings, time out and say goodbye. What the realm queues meanwhile is
//! bounded by the queue's back-pressure rule (see [`crate::router::flow`]);
//! the task's own frames (WELCOME, GOODBYE, pings, pongs) are at most a
//! handful. Reading in turn pauses while the connection's [`Gate`] is
//! closed: that is how the realm slows a producer down. It also pauses
//! while the realm's dynamic authorizer is asked about one of the peer's
//! messages, so that its messages stay in order; writing goes on.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_http::ws::{CloseCode, CloseReason};
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Resource};
use bytes::Bytes;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::ws::{self, Incoming, ReadError, Reader, Writer};

use crate::auth;
use crate::protocol::roles::{router_roles, ClientRoles};
use crate::protocol::{errors, Dict, Id, Serializer, Value, WampMessage};
use crate::router::actor::{Join, RealmInput, ToPeer};
use crate::router::direct::LocalInput;
use crate::router::flow::{self, Gate, Next, OutboundReceiver, Room};
use crate::router::realm::Member;
use crate::router::session::{abort, goodbye, PeerSession, Step};
use crate::router::{ConnectionGuard, Router};

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
    if let Some(refused) = router.config().origins().refuse(&req) {
        return Ok(refused);
    }
    let Some(serializer) = negotiate(&req) else {
        return Ok(HttpResponse::BadRequest().insert_header(header::ContentType::plaintext()).body(
            "WAMP needs a WebSocket subprotocol: offer wamp.2.json or wamp.2.msgpack in Sec-WebSocket-Protocol\n",
        ));
    };
    let guard = match router.admit(req.peer_addr().map(|a| a.ip())) {
        Ok(guard) => guard,
        Err(refused) => {
            tracing::warn!(peer = ?req.peer_addr(), %refused, "connection refused");
            return Ok(HttpResponse::ServiceUnavailable()
                .insert_header(header::ContentType::plaintext())
                .body(format!("{refused}\n")));
        }
    };
    let config = router.config();
    let (response, reader, writer) = ws::accept(
        &req,
        body,
        Some(serializer.subprotocol()),
        config.max_message_size,
        &config.compression(),
    )?;
    let peer = req.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let span = tracing::info_span!(
        "session",
        %peer,
        serializer = serializer.subprotocol(),
        realm = tracing::field::Empty,
        session = tracing::field::Empty,
        authid = tracing::field::Empty,
    );
    let mut connection = Connection::new(router.get_ref().clone(), serializer, writer);
    connection.peer_ip = req.peer_addr().map(|a| a.ip());
    actix_web::rt::spawn(connection.run(reader, guard).instrument(span));
    Ok(response)
}

/// Why the connection loop ended.
enum End {
    /// Send what is queued of our own frames, then close the WebSocket
    /// with this code and reason.
    Close(CloseCode, String),
    /// The peer is gone; nothing more can be sent.
    Gone,
}

/// A session's place in its realm. However the connection ends (its loop
/// returns, the task is dropped or panics) the realm is told the session
/// left, unless the realm ended the session itself.
struct Membership {
    /// This thread's input to the realm: where the realm runs here, the
    /// session's messages and its leaving go there without atomics;
    /// elsewhere it hands them to the realm's shared queue.
    local: Rc<LocalInput>,
    session: Id,
    /// The realm already forgot the session.
    forgotten: bool,
}

impl Membership {
    /// Sends the realm a message of the session; `false` if the realm is
    /// gone (a realm on this thread says so by closing the session).
    fn send(&self, message: WampMessage, size: usize) -> bool {
        self.local.send(RealmInput::Inbound { session: self.session, message, size })
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        if self.forgotten {
            return;
        }
        // The same way as its messages, which it must not overtake.
        self.local.send(RealmInput::Leave { session: self.session });
    }
}

/// What the writing side of the loop did, or has to do next.
enum Write {
    /// Frames were written.
    Wrote,
    /// The realm closed the session.
    Closed { reason: Cow<'static, str>, message: String },
    /// The realm ended the session because it stopped reading.
    Stalled(String),
    /// The connection must end.
    End(End),
}

/// How many frames of its own a connection keeps for a peer that does
/// not read them before it stops reading that peer.
const OWN_QUEUE_LIMIT: usize = 64;

/// A frame of the connection's own.
enum Own {
    /// WELCOME, GOODBYE or ABORT.
    Wamp(WampMessage),
    Ping,
    Pong(Bytes),
}

/// The realm's deliveries to a joined session: its outbound queue, and
/// what was taken from it and is not written yet.
struct Deliveries {
    queue: OutboundReceiver,
    taken: VecDeque<ToPeer>,
}

/// How many bytes of deliveries (by their queued weight) the connection
/// takes from its queue at once: about what the socket's buffer takes
/// before it has no room.
const TAKE_AT_ONCE: usize = ws::HIGH_WATER;

/// One client connection.
struct Connection {
    router: Router,
    serializer: Serializer,
    writer: Writer,
    machine: PeerSession,
    joined: Option<Membership>,
    outbound: Option<Deliveries>,
    /// Frames of the connection's own, written before the realm's
    /// deliveries: at most one WELCOME, GOODBYE or ABORT, one ping and one
    /// pong, and the refusals of the dynamic authorizer (up to
    /// [`OWN_QUEUE_LIMIT`] before the connection stops reading).
    control: VecDeque<Own>,
    gate: Arc<Gate>,
    /// When the keepalive last found the peer not read (held by
    /// back-pressure or waiting for the authorizer): its silence until
    /// then is not its own. When the peer last sent something is the
    /// reader's to say ([`Reader::last_received`]).
    last_not_reading: Instant,
    /// Set when the router sends GOODBYE: when to stop waiting for the
    /// reply (taken by the loop, which arms its timer).
    goodbye_deadline: Option<Instant>,
    /// The peer's address, for the limit on failed authentications.
    peer_ip: Option<IpAddr>,
    /// A CHALLENGE sent, waiting for its AUTHENTICATE.
    challenged: Option<Challenged>,
    /// Once joined with a realm that has a dynamic authorizer: who the
    /// session is, for the authorizer's questions.
    authorized_by: Option<DynamicAuthorization>,
    /// A question for the authorizer just made, taken over by the loop.
    question: Option<Question>,
}

/// A message waiting for the dynamic authorizer's answer.
struct Question {
    message: WampMessage,
    size: usize,
    asked: std::time::Instant,
    /// (allowed, may be cached).
    answer: futures_util::future::LocalBoxFuture<'static, (bool, bool)>,
}

/// The answer to the question in flight (pending while there is none).
async fn answer_of(question: &mut Option<Question>) -> (bool, bool) {
    match question {
        Some(q) => (&mut q.answer).await,
        None => std::future::pending().await,
    }
}

/// A session's dynamic authorization.
struct DynamicAuthorization {
    settings: auth::authorizer::AuthorizerSettings,
    realm: String,
    identity: auth::Identity,
    answers: auth::authorizer::AnswerCache,
}

/// A join waiting for the answer to its CHALLENGE.
struct Challenged {
    realm: String,
    roles: ClientRoles,
    pending: Box<auth::Pending>,
}

impl Connection {
    fn new(router: Router, serializer: Serializer, writer: Writer) -> Self {
        let machine = PeerSession::new(router.config().uri_rules());
        Connection {
            router,
            serializer,
            writer,
            machine,
            joined: None,
            outbound: None,
            control: VecDeque::new(),
            gate: Gate::new(),
            last_not_reading: Instant::now(),
            goodbye_deadline: None,
            peer_ip: None,
            challenged: None,
            authorized_by: None,
            question: None,
        }
    }

    async fn run(mut self, mut reader: Reader, _guard: ConnectionGuard) {
        tracing::debug!("connection open");
        let hello_timeout = self.router.config().hello_timeout();
        // One timer each, armed once: a timer set up per loop turn would
        // cost more than the turn.
        let hello = tokio::time::sleep(hello_timeout);
        tokio::pin!(hello);
        let mut awaiting_hello = true;
        let goodbye = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(goodbye);
        let mut awaiting_goodbye = false;
        let ping_interval = self.router.config().ping_interval();
        let ping_timeout = self.router.config().ping_timeout();
        let mut ping = tokio::time::interval(ping_interval.unwrap_or(Duration::from_secs(3600)));
        ping.reset();
        // The connection's own frames (pongs, refusals) wait in `control`
        // for room in the socket: past `OWN_QUEUE_LIMIT` of them it reads
        // nothing more, and a peer that leaves them unread for the stall
        // timeout is closed, as a full outbound queue would be.
        let own_stall_timeout = Duration::from_millis(self.router.config().stall_timeout_ms);
        let own_stall = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(own_stall);
        let mut own_full = false;
        let gate = self.gate.clone();
        // A question to the dynamic authorizer in flight: the connection
        // reads nothing more until it is answered (so messages stay in
        // order), and goes on writing, pinging and timing meanwhile.
        let mut question: Option<Question> = None;
        let end = loop {
            if question.is_none() {
                question = self.question.take();
            }
            if awaiting_hello && !self.machine.is_joining() {
                awaiting_hello = false;
            }
            if let Some(deadline) = self.goodbye_deadline.take() {
                goodbye.as_mut().reset(deadline);
                awaiting_goodbye = true;
            }
            let reading = question.is_none() && self.control.len() < OWN_QUEUE_LIMIT;
            if own_full != (self.control.len() >= OWN_QUEUE_LIMIT) {
                own_full = !own_full;
                if own_full {
                    own_stall.as_mut().reset(tokio::time::Instant::now() + own_stall_timeout);
                }
            }
            let step = tokio::select! {
                biased;
                write = std::future::poll_fn(|cx| self.poll_write(cx)) => self.on_write(write),
                answer = answer_of(&mut question), if question.is_some() => match question.take() {
                    Some(asked) => self.on_answer(asked, answer),
                    None => None,
                },
                frame = next_frame(&gate, &mut reader), if reading => self.on_frame(frame).await,
                () = &mut own_stall, if own_full => {
                    let explanation = format!(
                        "{OWN_QUEUE_LIMIT} answers of the connection's own unread for {}ms (stall_timeout_ms)",
                        own_stall_timeout.as_millis()
                    );
                    tracing::warn!(%explanation, "session closed: it stopped reading");
                    Some(End::Close(CloseCode::Policy, explanation))
                }
                () = &mut goodbye, if awaiting_goodbye => {
                    Some(End::Close(CloseCode::Away, "no GOODBYE in reply".into()))
                }
                () = &mut hello, if awaiting_hello => {
                    awaiting_hello = false;
                    let text = format!("no HELLO within {}s (hello_timeout_secs)", hello_timeout.as_secs());
                    self.machine.rejected();
                    Some(self.fail(abort(errors::TIMEOUT, &text), CloseCode::Policy))
                }
                _ = ping.tick(), if ping_interval.is_some() => {
                    let limit = ping_interval.unwrap_or_default() + ping_timeout;
                    self.keepalive(limit, reading, reader.last_received())
                }
            };
            if let Some(end) = step {
                break end;
            }
        };
        drop(reader);
        self.finish(end).await;
        tracing::debug!("connection closed");
    }

    /// Leaves the realm, then writes the connection's own frames still
    /// queued and closes the WebSocket, giving a peer that does not read
    /// at most the shutdown grace period.
    async fn finish(mut self, end: End) {
        self.joined = None;
        self.outbound = None;
        let End::Close(code, description) = end else { return };
        tracing::debug!(?code, %description, "closing connection");
        for own in std::mem::take(&mut self.control) {
            if let Err(e) = self.write_own(own) {
                tracing::error!(error = %e, "cannot encode an outgoing message");
            }
        }
        self.writer.close(Some(CloseReason { code, description: Some(description) }));
        let flushed = std::future::poll_fn(|cx| self.writer.poll_flushed(cx));
        if tokio::time::timeout(self.router.config().shutdown_grace(), flushed).await.is_err() {
            tracing::debug!("the peer read nothing more; the connection is dropped");
        }
    }

    /// The keepalive tick: ping, or give up on a peer silent for `limit`
    /// (the peer's bytes last came in at `received`).
    fn keepalive(&mut self, limit: Duration, reading: bool, received: Instant) -> Option<End> {
        if !reading || !self.gate.is_open() {
            // We are not reading this peer (back-pressure, or a question to
            // the authorizer): its silence is ours, not its.
            self.last_not_reading = Instant::now();
        }
        // Exact, not per keepalive tick: a peer that answers pings only
        // once it is close to the limit must still be closed in time.
        let silent = received.max(self.last_not_reading).elapsed();
        if silent > limit {
            return Some(End::Close(
                CloseCode::Away,
                format!("no answer to pings for {}s", silent.as_secs()),
            ));
        }
        if !self.control.iter().any(|own| matches!(own, Own::Ping)) {
            self.control.push_back(Own::Ping);
        }
        None
    }

    fn forget_membership(&mut self) {
        if let Some(mut membership) = self.joined.take() {
            membership.forgotten = true;
        }
    }

    /// Queues a WAMP message of the connection's own (WELCOME, GOODBYE,
    /// ABORT) ahead of the realm's deliveries.
    fn send_own(&mut self, message: WampMessage) {
        self.control.push_back(Own::Wamp(message));
    }

    fn write_own(&mut self, own: Own) -> Result<(), ws::EncodeError> {
        match own {
            Own::Wamp(message) => self.writer.message(self.serializer, &message)?,
            Own::Ping => self.writer.ping(&[]),
            Own::Pong(payload) => self.writer.pong(&payload),
        }
        Ok(())
    }

    /// Writes what there is room for: the connection's own frames first,
    /// then the realm's deliveries in order. A closing or a stall ending
    /// is reported even while the socket is busy.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<Write> {
        let internal = |e: ws::EncodeError| {
            tracing::error!(error = %e, "cannot encode an outgoing message");
            Write::End(End::Close(CloseCode::Error, "internal encoding error".into()))
        };
        let ready = match self.writer.poll_room(cx) {
            Poll::Ready(Ok(())) => true,
            Poll::Ready(Err(ws::Gone)) => return Poll::Ready(Write::End(End::Gone)),
            Poll::Pending => false,
        };
        let mut wrote = false;
        if ready {
            while let Some(own) = self.control.pop_front() {
                if let Err(e) = self.write_own(own) {
                    return Poll::Ready(internal(e));
                }
                wrote = true;
            }
        }
        let Some(Deliveries { queue, taken }) = &mut self.outbound else {
            return if wrote { Poll::Ready(Write::Wrote) } else { Poll::Pending };
        };
        loop {
            let next = if !ready && !taken.is_empty() {
                // What was taken goes first, once there is room; only a
                // stall ending comes past it.
                queue.poll_stalled(cx).map(Next::Stalled)
            } else if !ready {
                // Without room, only a closing is taken: answers too stay
                // in the queue, where they count against its limit.
                queue.poll_next(cx, Room::Closing)
            } else if let Some(to_peer) = taken.pop_front() {
                Poll::Ready(Next::Deliver(to_peer))
            } else {
                match queue.poll_take(cx, taken, TAKE_AT_ONCE) {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(explanation)) => Poll::Ready(Next::Stalled(explanation)),
                    Poll::Pending => Poll::Pending,
                }
            };
            match next {
                Poll::Ready(Next::Deliver(ToPeer::Message(message))) => {
                    if let Err(e) = self.writer.message(self.serializer, &message) {
                        return Poll::Ready(internal(e));
                    }
                    // Out of room: the next turn waits for it (`poll_room`
                    // registers the task) and reads meanwhile.
                    if !self.writer.has_room() {
                        return Poll::Ready(Write::Wrote);
                    }
                    wrote = true;
                }
                Poll::Ready(Next::Deliver(ToPeer::Close { reason, message })) => {
                    return Poll::Ready(Write::Closed { reason, message })
                }
                Poll::Ready(Next::Stalled(explanation)) => return Poll::Ready(Write::Stalled(explanation)),
                Poll::Pending if wrote => return Poll::Ready(Write::Wrote),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn on_write(&mut self, write: Write) -> Option<End> {
        match write {
            Write::Wrote => None,
            Write::Closed { reason, message } => {
                // The realm has already forgotten the session.
                self.forget_membership();
                if reason == errors::PROTOCOL_VIOLATION {
                    self.machine.violation(&message);
                    return Some(self.fail(goodbye(&reason, &message), CloseCode::Protocol));
                }
                self.machine.closing();
                self.send_own(goodbye(&reason, &message));
                self.outbound = None;
                // Wait (bounded) for the peer's GOODBYE; `on_frame` ends the
                // loop when it arrives.
                self.goodbye_deadline = Some(Instant::now() + self.router.config().shutdown_grace());
                None
            }
            Write::Stalled(explanation) => {
                self.forget_membership();
                tracing::warn!(%explanation, "session closed: it stopped reading");
                self.machine.closing();
                self.send_own(goodbye(errors::CLOSE_STALLED, &explanation));
                Some(End::Close(CloseCode::Policy, explanation))
            }
            Write::End(end) => Some(end),
        }
    }

    /// Queues `message` (ABORT or GOODBYE) and ends the connection with
    /// `code`.
    fn fail(&mut self, message: WampMessage, code: CloseCode) -> End {
        let description = match &message {
            WampMessage::Abort { reason, .. } | WampMessage::Goodbye { reason, .. } => reason.clone(),
            _ => String::new(),
        };
        if matches!(message, WampMessage::Goodbye { .. }) {
            self.joined = None;
        }
        self.send_own(message);
        End::Close(code, description)
    }

    /// A frame from the client.
    async fn on_frame(&mut self, frame: Option<Result<Incoming, ReadError>>) -> Option<End> {
        let data = match frame {
            None => return Some(End::Gone),
            Some(Err(e)) => {
                tracing::debug!(error = %e, "websocket protocol error");
                let code = e.close_code();
                let text = e.to_string();
                // Tell the peer in WAMP terms too, if it can still hear us.
                let step = self.machine.violation(&text);
                if let Step::Fail { message } = step {
                    return Some(self.fail(message, code));
                }
                return Some(End::Close(code, text));
            }
            Some(Ok(Incoming::Text(data))) if !self.serializer.is_binary() => data,
            Some(Ok(Incoming::Binary(data))) if self.serializer.is_binary() => data,
            Some(Ok(Incoming::Text(_) | Incoming::Binary(_))) => {
                let kind = if self.serializer.is_binary() { "text" } else { "binary" };
                let text = format!("a {kind} frame on a {} session", self.serializer.subprotocol());
                let step = self.machine.violation(&text);
                return self.perform(step, 0).await;
            }
            Some(Ok(Incoming::Ping(payload))) => {
                // Only the latest ping needs an answer.
                self.control.retain(|own| !matches!(own, Own::Pong(_)));
                self.control.push_back(Own::Pong(payload));
                return None;
            }
            Some(Ok(Incoming::Pong(_))) => return None,
            Some(Ok(Incoming::Close(reason))) => {
                tracing::debug!(?reason, "peer closed the connection");
                return Some(End::Close(CloseCode::Normal, String::new()));
            }
        };
        let step = match self.serializer.decode_shared(&data) {
            Ok(message) => self.machine.receive(message),
            Err(e) => self.machine.violation(&e.to_string()),
        };
        self.perform(step, data.len()).await
    }

    async fn perform(&mut self, step: Step, size: usize) -> Option<End> {
        match step {
            Step::Route(message) => self.authorize_then_route(message, size),
            Step::Join { realm, details, roles } => self.hello(realm, details, roles).await,
            Step::Authenticate { signature } => self.authenticate(&signature).await,
            Step::Leave { reply } => {
                self.joined = None;
                if let Some(reply) = reply {
                    self.send_own(reply);
                }
                Some(End::Close(CloseCode::Normal, String::new()))
            }
            Step::Fail { message } => Some(self.fail(message, CloseCode::Protocol)),
            Step::Close => Some(End::Close(CloseCode::Normal, String::new())),
            Step::Ignore => None,
        }
    }

    /// Hands a message to the realm.
    fn route(&mut self, message: WampMessage, size: usize) -> Option<End> {
        let membership = self.joined.as_ref()?;
        self.gate.admit(size);
        if membership.send(message, size) {
            return None;
        }
        self.forget_membership();
        tracing::warn!("the realm stopped; closing its session");
        let text = "the realm is no longer running";
        Some(self.fail(goodbye(errors::CLOSE_SYSTEM_SHUTDOWN, text), CloseCode::Away))
    }

    /// Routes `message` if the realm's dynamic authorizer (or its cached
    /// answer) lets the session send it, answers it with an ERROR if not,
    /// or asks the authorizer and routes it once the answer is in.
    fn authorize_then_route(&mut self, message: WampMessage, size: usize) -> Option<End> {
        let Some(dynamic) = self.authorized_by.as_mut() else { return self.route(message, size) };
        let Some((action, uri, options)) = auth::authorizer::action_of(&message) else {
            return self.route(message, size);
        };
        match dynamic.answers.get(action, uri, std::time::Instant::now()) {
            Some(true) => self.route(message, size),
            Some(false) => {
                self.refuse_request(&message);
                None
            }
            None => {
                let session = self.joined.as_ref().map_or(0, |m| m.session);
                let query = auth::authorizer::query(
                    &dynamic.settings,
                    &dynamic.realm,
                    session,
                    &dynamic.identity,
                    action,
                    uri,
                    options,
                );
                let (router, timeout) = (self.router.clone(), self.router.config().hello_timeout());
                let answer = Box::pin(async move {
                    match auth::dynamic::ask(&router, &query, timeout).await {
                        Ok(answer) => auth::authorizer::decision(&answer),
                        Err(_) => (false, false),
                    }
                });
                self.question = Some(Question { message, size, asked: std::time::Instant::now(), answer });
                None
            }
        }
    }

    /// The authorizer answered the question about `asked.message`.
    fn on_answer(&mut self, asked: Question, (allowed, cache): (bool, bool)) -> Option<End> {
        if let (Some(dynamic), Some((action, uri, _))) =
            (self.authorized_by.as_mut(), auth::authorizer::action_of(&asked.message))
        {
            if cache {
                dynamic.answers.put(action, uri, allowed, asked.asked, dynamic.settings.cache_for);
            }
        }
        if allowed {
            return self.route(asked.message, asked.size);
        }
        self.refuse_request(&asked.message);
        None
    }

    /// Answers a request the authorizer refused with ERROR
    /// `wamp.error.not_authorized` (a PUBLISH only if it asked for
    /// `acknowledge`).
    fn refuse_request(&mut self, message: &WampMessage) {
        let (Some(dynamic), Some((action, uri, _))) =
            (self.authorized_by.as_ref(), auth::authorizer::action_of(message))
        else {
            return;
        };
        let text =
            format!("the authorizer does not let '{}' {} '{uri}'", dynamic.identity.authrole, action.name());
        tracing::debug!(%text, "request refused");
        let (request_type, request) = match message {
            WampMessage::Call { request, .. } => (crate::protocol::code::CALL, *request),
            WampMessage::Register { request, .. } => (crate::protocol::code::REGISTER, *request),
            WampMessage::Subscribe { request, .. } => (crate::protocol::code::SUBSCRIBE, *request),
            WampMessage::Publish { request, options, .. } => {
                if options.get("acknowledge").and_then(Value::as_bool) != Some(true) {
                    return;
                }
                (crate::protocol::code::PUBLISH, *request)
            }
            _ => return,
        };
        self.send_own(WampMessage::Error {
            request_type,
            request,
            details: Dict::new(),
            error: errors::NOT_AUTHORIZED.into(),
            payload: crate::protocol::Payload::args(vec![Value::from(text)]),
        });
    }

    /// Refuses the join with ABORT.
    fn refuse(&mut self, error: &auth::AuthError) -> Option<End> {
        tracing::info!(%error, "session refused");
        self.machine.rejected();
        Some(self.fail(abort(error.uri(), &error.to_string()), CloseCode::Normal))
    }

    /// Authentication first: nobody makes the router start a realm
    /// without passing it.
    async fn hello(&mut self, realm: String, details: Dict, roles: ClientRoles) -> Option<End> {
        let authenticator = match self.router.authenticator(&realm) {
            Ok(authenticator) => authenticator,
            Err(e) => return self.refuse(&e),
        };
        let mut next = authenticator.hello(&details);
        if let Ok(auth::Next::Ask { .. }) = &next {
            if let Err(wait) = self.router.auth_failures().check(self.peer_ip, std::time::Instant::now()) {
                return self.refuse(&auth::AuthError::Throttled(wait));
            }
        }
        if let Ok(auth::Next::Ask { query, resume }) = next {
            let timeout = self.router.config().hello_timeout();
            next = match auth::dynamic::ask(&self.router, &query, timeout).await {
                Ok(answer) => authenticator.resume(resume, &answer),
                Err(e) => Err(e),
            };
            if next.as_ref().is_err_and(auth::AuthError::counts_against_peer) {
                self.router.auth_failures().failed(self.peer_ip, std::time::Instant::now());
            }
        }
        match next {
            Ok(auth::Next::Ask { .. }) => self.refuse(&auth::AuthError::Failed),
            Err(e) => self.refuse(&e),
            Ok(auth::Next::Welcome(identity)) => self.join(realm, identity, roles).await,
            Ok(auth::Next::Challenge { challenge, pending }) => {
                if let Err(wait) = self.router.auth_failures().check(self.peer_ip, std::time::Instant::now())
                {
                    return self.refuse(&auth::AuthError::Throttled(wait));
                }
                tracing::debug!(method = pending.method().name(), "challenge sent");
                self.machine.challenged();
                self.challenged = Some(Challenged { realm, roles, pending });
                self.send_own(challenge);
                None
            }
        }
    }

    /// Checks the AUTHENTICATE that answers the CHALLENGE.
    async fn authenticate(&mut self, signature: &str) -> Option<End> {
        let Some(Challenged { realm, roles, pending }) = self.challenged.take() else {
            // The state machine lets AUTHENTICATE through only after a
            // CHALLENGE.
            let text = "AUTHENTICATE without a CHALLENGE";
            return match self.machine.violation(text) {
                Step::Fail { message } => Some(self.fail(message, CloseCode::Protocol)),
                _ => Some(End::Close(CloseCode::Protocol, text.into())),
            };
        };
        let verified = match pending.query(signature) {
            None => pending.verify(signature),
            Some(query) => {
                let timeout = self.router.config().hello_timeout();
                match auth::dynamic::ask(&self.router, &query, timeout).await {
                    Ok(answer) => pending.accept(&answer),
                    Err(e) => Err(e),
                }
            }
        };
        let failures = self.router.auth_failures();
        match verified {
            // A success clears nothing (auth::throttle says why).
            Ok(identity) => self.join(realm, identity, roles).await,
            Err(e) => {
                if e.counts_against_peer() {
                    failures.failed(self.peer_ip, std::time::Instant::now());
                }
                self.refuse(&e)
            }
        }
    }

    async fn join(
        &mut self,
        realm_name: String,
        identity: auth::Identity,
        roles: ClientRoles,
    ) -> Option<End> {
        // A realm created on demand may stop (idle) between being found and
        // being joined: then it is started again, once.
        let mut attempts = 0;
        let (session, receiver, local) = loop {
            let realm = match self.router.realm(&realm_name) {
                Ok(realm) => realm,
                Err(refused) => {
                    self.machine.rejected();
                    return Some(
                        self.fail(abort(errors::NO_SUCH_REALM, &refused.to_string()), CloseCode::Normal),
                    );
                }
            };
            // The realm sets the queue's limit when the session joins.
            let (outbound, receiver) = flow::outbound(usize::MAX);
            let info = Member { identity: identity.clone(), roles, in_process: false };
            let join = Join { info, outbound, gate: Some(self.gate.clone()), direct: None };
            match realm.addr().send(join).await {
                Ok(id) => {
                    let local = realm.local_input();
                    break (id, receiver, local);
                }
                Err(e) if attempts > 0 => {
                    tracing::warn!(error = %e, "realm unavailable");
                    self.machine.rejected();
                    let text = "the realm is shutting down";
                    return Some(self.fail(abort(errors::SYSTEM_SHUTDOWN_ERROR, text), CloseCode::Away));
                }
                Err(_) => attempts += 1,
            }
        };
        let span = tracing::Span::current();
        span.record("realm", realm_name.as_str());
        span.record("session", session);
        span.record("authid", identity.authid.as_str());
        if let Some(settings) = self.router.config().authorizer(&realm_name) {
            self.authorized_by = Some(DynamicAuthorization {
                settings,
                realm: realm_name.clone(),
                identity: identity.clone(),
                answers: Default::default(),
            });
        }
        self.joined = Some(Membership { local, session, forgotten: false });
        self.outbound = Some(Deliveries { queue: receiver, taken: VecDeque::new() });
        self.machine.joined();
        let mut welcome = Dict::new();
        welcome.insert("roles".into(), Value::Dict(router_roles()));
        welcome.insert("realm".into(), Value::from(realm_name));
        identity.write_details(&mut welcome);
        welcome.insert("agent".into(), Value::from(concat!("actix-wamp/", env!("CARGO_PKG_VERSION"))));
        tracing::debug!("session joined");
        self.send_own(WampMessage::Welcome { session, details: welcome });
        None
    }
}

/// The next message from the client, once the gate lets the connection
/// read.
async fn next_frame(gate: &Gate, reader: &mut Reader) -> Option<Result<Incoming, ReadError>> {
    std::future::poll_fn(|cx| match gate.poll_open(cx) {
        Poll::Ready(()) => reader.poll_next(cx),
        Poll::Pending => Poll::Pending,
    })
    .await
}
