//! The actor that drives one client session: it owns the link to the
//! router, feeds the router's messages to the
//! [`ClientCore`](super::core::ClientCore), runs procedure and event
//! handlers, and answers requests.

use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use actix::{
    Actor, ActorContext, ActorFutureExt as _, AsyncContext, Handler as ActixHandler, ResponseFuture,
    StreamHandler, WrapFuture as _,
};
use futures_util::future::LocalBoxFuture;
use futures_util::{FutureExt as _, Stream};
use tokio::sync::{mpsc, oneshot};

use super::core::ClientEffect;
use super::details::{CallDetails, EventDetails, SessionInfo};
use super::invocation::{CallControl, Interruption, InvocationState};
use super::link::{LinkEvent, LinkSender, Outgoing};
use super::queue::CallQueue;
use super::session::{Completion, Handler, Reply, Session, SessionState};
use super::websocket::{self, ConnectOptions};
use crate::auth::Identity;
use crate::protocol::options::Schema;
use crate::protocol::roles::router_roles;
use crate::protocol::{errors, Dict, Id, Payload, Value};
use crate::router::actor::{Join, RealmHandle, ToPeer};
use crate::router::direct::{DirectOffer, DirectPeer};
use crate::router::flow::{self, Next, OutboundReceiver};
use crate::router::realm::Member;
use crate::Error;

/// A lifecycle hook: on join, on leave, on disconnect.
pub type HookFn = Rc<dyn Fn(Session) -> LocalBoxFuture<'static, Result<(), Error>>>;

/// What runs when the session's state changes.
#[derive(Default, Clone)]
pub struct Hooks {
    /// After every join, once the session's registrations and
    /// subscriptions are restored, and before the session counts as joined
    /// ([`Client::joined`](super::Client::joined) waits for it): what a
    /// session must have in place to be ready, such as a component's
    /// declared procedures and subscriptions. If it fails, the waiters of
    /// the join get its error and `on_join` does not run.
    pub setup: Option<HookFn>,
    /// After every join (the first, and each after a reconnect), once
    /// `setup` is done.
    pub on_join: Option<HookFn>,
    /// When the session ends (GOODBYE, or the connection is gone).
    pub on_leave: Option<HookFn>,
    /// When the connection is lost (before a reconnect is tried).
    pub on_disconnect: Option<HookFn>,
}

/// How the session reaches its router.
pub enum Start {
    /// An in-process router's realm: messages are passed as values.
    Local {
        /// The realm actor.
        realm: RealmHandle,
        /// The realm's name.
        realm_name: String,
        /// Who the session is.
        identity: Identity,
    },
    /// A router over WebSocket.
    Remote(ConnectOptions),
}

/// The session actor.
pub struct SessionActor {
    shared: Rc<SessionState>,
    handle: Session,
    start: Option<Start>,
    hooks: Hooks,
    /// Counts joins: after the first, the session's registrations and
    /// subscriptions are restored, and a setup that finishes after its
    /// session was replaced is ignored.
    joins: u64,
    /// Whether the current session is joined and set up: `None` while
    /// joining or setting up, then the outcome of the setup.
    ready: Option<Result<SessionInfo, Error>>,
    waiters: Vec<oneshot::Sender<Result<SessionInfo, Error>>>,
    /// Waiters of [`LeaveSession`]: answered (or dropped) when the session
    /// is over.
    leaving: Vec<oneshot::Sender<()>>,
    /// The command queue of a WebSocket link, kept while it reconnects too,
    /// so leaving works at any time.
    remote: Option<mpsc::UnboundedSender<Outgoing>>,
    effects: Vec<ClientEffect<Reply, Handler>>,
}

impl SessionActor {
    /// A session that will reach its router as `start` says.
    pub fn new(start: Start, hooks: Hooks, call_timeout: Option<std::time::Duration>) -> Self {
        let shared = Rc::new(SessionState::new(call_timeout));
        SessionActor {
            handle: Session { shared: shared.clone() },
            shared,
            start: Some(start),
            hooks,
            joins: 0,
            ready: None,
            waiters: Vec::new(),
            leaving: Vec::new(),
            remote: None,
            effects: Vec::new(),
        }
    }

    /// Attaches what the session runs for (a component's state), for code
    /// that reaches the session later; the first attachment stays.
    pub fn attach(self, value: Rc<dyn std::any::Any>) -> Self {
        let _ = self.shared.attached.set(value);
        self
    }

    /// The context handle of this session.
    pub fn context(&self) -> Session {
        self.handle.clone()
    }

    fn joined(&mut self, info: SessionInfo, sender: LinkSender, ctx: &mut actix::Context<Self>) {
        tracing::debug!(session = info.id, realm = %info.realm, "client session joined");
        *self.shared.link.borrow_mut() = Some(sender);
        *self.shared.info.borrow_mut() = Some(info.clone());
        if self.joins > 0 {
            self.shared.core.borrow_mut().rejoined(&mut self.effects);
            self.apply(ctx);
        }
        self.joins += 1;
        match self.hooks.setup.clone() {
            None => self.ready(Ok(info)),
            Some(setup) => {
                let joins = self.joins;
                let fut = setup(self.handle.clone());
                ctx.spawn(fut.into_actor(self).map(move |done, act, _ctx| {
                    if act.joins == joins && act.shared.link.borrow().is_some() {
                        act.ready(done.map(|()| info));
                    }
                }));
            }
        }
    }

    /// The session is set up (or its setup failed): answer the waiters of
    /// the join and run `on_join`.
    fn ready(&mut self, outcome: Result<SessionInfo, Error>) {
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "session setup failed");
        }
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(outcome.clone());
        }
        let failed = outcome.is_err();
        self.ready = Some(outcome);
        if failed {
            return;
        }
        if let Some(hook) = self.hooks.on_join.clone() {
            let fut = hook(self.handle.clone());
            actix::spawn(async move {
                if let Err(e) = fut.await {
                    tracing::error!(error = %e, "on_join failed");
                }
            });
        }
    }

    fn left(&mut self, reason: &str, reconnecting: bool, ctx: &mut actix::Context<Self>) {
        tracing::debug!(%reason, reconnecting, "client session left");
        self.ready = None;
        self.shared.link.borrow_mut().take();
        self.shared.info.borrow_mut().take();
        self.shared.core.borrow_mut().disconnected(&mut self.effects);
        self.apply(ctx);
        // The calls this session's procedures were answering are gone
        // with the session.
        let running: Vec<_> = self.shared.invocations.borrow_mut().drain().map(|(_, i)| i).collect();
        for mut invocation in running {
            invocation.interrupt(Interruption::session_ended());
        }
        let hook = if reconnecting { self.hooks.on_disconnect.clone() } else { self.hooks.on_leave.clone() };
        if let Some(hook) = hook {
            let fut = hook(self.handle.clone());
            actix::spawn(async move {
                if let Err(e) = fut.await {
                    tracing::error!(error = %e, "session hook failed");
                }
            });
        }
        if !reconnecting {
            for waiter in self.waiters.drain(..) {
                let _ = waiter.send(Err(Error::transport(format!("the session ended: {reason}"))));
            }
            for waiter in self.leaving.drain(..) {
                let _ = waiter.send(());
            }
            ctx.stop();
        }
    }

    /// Carries out the effects the core produced.
    fn apply(&mut self, ctx: &mut actix::Context<Self>) {
        if apply(&self.handle, &mut self.effects) {
            ctx.stop();
        }
    }
}

/// Carries out the effects a session's core produced: sends messages,
/// answers waiters, runs handlers. If the router broke the protocol, the
/// session says GOODBYE and leaves, and this returns `true`.
fn apply(handle: &Session, effects: &mut Vec<ClientEffect<Reply, Handler>>) -> bool {
    if effects.is_empty() {
        return false;
    }
    let link = handle.shared.link.borrow();
    let link = link.as_ref();
    let mut violation = None;
    for effect in effects.drain(..) {
        match effect {
            ClientEffect::Send(message) => {
                if let Some(link) = link {
                    link.send(message);
                }
            }
            ClientEffect::Complete(reply, outcome) => {
                let _ = reply.send(outcome);
            }
            ClientEffect::Invoke { handler: Handler::Procedure(procedure), request, details, payload } => {
                let Some(link) = link else { continue };
                // The call's state is made when first asked for (at once
                // for a call that takes input), and goes when the call has
                // been answered.
                let session = handle.session_id().unwrap_or_default();
                let (receive_progress, takes_input, timeout) = if details.is_empty() {
                    (false, false, None)
                } else {
                    (
                        Schema::flag(&details, "receive_progress", false),
                        Schema::flag(&details, "progress", false),
                        // A router that does not time calls may pass the
                        // caller's timeout on: the callee keeps it.
                        Schema::count(&details, "timeout")
                            .filter(|ms| *ms > 0)
                            .map(std::time::Duration::from_millis),
                    )
                };
                if takes_input {
                    let inputs = Rc::new(CallQueue::new(handle.shared.clone()));
                    handle
                        .shared
                        .invocations
                        .borrow_mut()
                        .insert(request, InvocationState::new(session, Some(inputs)));
                }
                // Most handlers finish at once; only the others get a task
                // (which answers on the link the call came from, unless
                // the call is interrupted first). A panic answers the call
                // and goes no further.
                let control = CallControl::new(request, session, receive_progress, handle.shared.clone());
                let details = CallDetails::new(request, details).with_call(control);
                handle.shared.first_run.set(Some((request, session)));
                let outcome = contained(|| procedure(payload, details, handle.clone()));
                handle.shared.first_run.set(None);
                match outcome {
                    Ok(Completion::Later(fut)) => {
                        handle
                            .shared
                            .invocations
                            .borrow_mut()
                            .entry(request)
                            .or_insert_with(|| InvocationState::new(session, None));
                        let link = link.clone();
                        let running = handle.shared.handler_started();
                        let shared = handle.shared.clone();
                        let control = CallControl::new(request, session, receive_progress, shared.clone());
                        actix::spawn(async move {
                            let handler = async move { contained_future(fut).await.unwrap_or_else(Err) };
                            let result = control.run(handler, timeout).await;
                            answer(&link, request, result);
                            answered(&shared, request, session);
                            drop(running);
                        });
                    }
                    Ok(Completion::Now(result)) => {
                        answered(&handle.shared, request, session);
                        answer(link, request, result);
                    }
                    Err(panic) => {
                        answered(&handle.shared, request, session);
                        answer(link, request, Err(panic));
                    }
                }
            }
            ClientEffect::Progress { request, payload, .. } => {
                match handle.shared.partials.borrow().get(&request) {
                    Some(partials) => partials.push(payload),
                    None => tracing::debug!(request, "a partial result for a call given up"),
                }
            }
            ClientEffect::Input { request, progress, payload } => {
                match handle.shared.invocations.borrow().get(&request) {
                    Some(invocation) => invocation.input(payload, progress),
                    None => tracing::debug!(request, "input for a call already answered"),
                }
            }
            ClientEffect::Interrupt { request, mode, reason } => {
                match handle.shared.invocations.borrow_mut().get_mut(&request) {
                    Some(invocation) => invocation.interrupt(Interruption { mode, reason }),
                    None => tracing::debug!(request, "INTERRUPT for a call already answered"),
                }
            }
            ClientEffect::Deliver { handler: Handler::Event(event), publication, details, payload } => {
                let details = EventDetails::new(publication, details);
                match contained(|| event(payload, details, handle.clone())) {
                    Ok(Completion::Now(())) => {}
                    Ok(Completion::Later(fut)) => {
                        let running = handle.shared.handler_started();
                        actix::spawn(async move {
                            if let Err(panic) = contained_future(fut).await {
                                tracing::error!(error = %panic, "event handler panicked");
                            }
                            drop(running);
                        });
                    }
                    Err(panic) => tracing::error!(error = %panic, "event handler panicked"),
                }
            }
            ClientEffect::Invoke { request, .. } => {
                // A subscription id named in an INVOCATION: answer, do not hang.
                if let Some(link) = link {
                    answer(link, request, Err(Error::new(errors::NO_SUCH_REGISTRATION, "not a procedure")));
                }
            }
            ClientEffect::Deliver { .. } => {}
            ClientEffect::Violation(text) => violation = Some(text),
        }
    }
    let Some(text) = violation else { return false };
    tracing::warn!(%text, "the router broke the protocol; leaving");
    if let Some(link) = link {
        link.send(crate::router::session::goodbye(errors::PROTOCOL_VIOLATION, &text));
        link.leave();
    }
    true
}

/// The invocation `request` of `session` has been answered: its state
/// goes (its input ends, anything waiting on it wakes).
fn answered(shared: &SessionState, request: Id, session: Id) {
    let mut invocations = shared.invocations.borrow_mut();
    if invocations.is_empty() {
        return;
    }
    if invocations.get(&request).is_some_and(|state| state.session() == session) {
        if let Some(mut state) = invocations.remove(&request) {
            drop(invocations);
            state.end();
        }
    }
}

/// Runs a handler, turning a panic into a `wamp.error.runtime_error`: a
/// handler's failure must not take the session, or the realm that may be
/// delivering to it, down with it. The handler's state stays as the panic
/// left it (its lock is released).
pub(crate) fn contained<T>(run: impl FnOnce() -> T) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).map_err(panicked)
}

/// [`contained`] for a handler's future.
async fn contained_future<T>(future: LocalBoxFuture<'static, T>) -> Result<T, Error> {
    std::panic::AssertUnwindSafe(future).catch_unwind().await.map_err(panicked)
}

fn panicked(panic: Box<dyn std::any::Any + Send>) -> Error {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    Error::new(errors::RUNTIME_ERROR, format!("the handler panicked: {text}"))
}

/// An in-process session's end of direct delivery: the realm, on this
/// session's thread, hands it each message to handle at once. A closing
/// goes through the session actor's queue, which ends the session.
struct DirectSession {
    handle: Session,
    effects: std::cell::RefCell<Vec<ClientEffect<Reply, Handler>>>,
}

impl DirectPeer for DirectSession {
    fn ready(&self) -> bool {
        self.handle.shared.handlers.has_room()
    }

    fn deliver(&self, to_peer: ToPeer) {
        match to_peer {
            ToPeer::Message(message) => {
                // Deliveries never nest (the session answers through the
                // realm's queue), but a spare buffer keeps that harmless.
                let mut effects = self.effects.take();
                self.handle.shared.core.borrow_mut().receive(message, &mut effects);
                if apply(&self.handle, &mut effects) {
                    // The session left; the realm drops this peer, which
                    // closes the actor's queue and stops it.
                    tracing::debug!("in-process session left after a protocol violation");
                }
                *self.effects.borrow_mut() = effects;
            }
            // The realm sends the closing through the session's queue.
            ToPeer::Close { .. } => {}
        }
    }
}

/// Sends the YIELD or ERROR for an invocation on the link it came from.
fn answer(link: &LinkSender, request: Id, result: Result<Payload, Error>) {
    let message = match result {
        Ok(payload) => crate::protocol::Message::Yield { request, options: Dict::new(), payload },
        Err(e) => {
            let (error, payload) = e.into_parts();
            crate::protocol::Message::Error {
                request_type: crate::protocol::code::INVOCATION,
                request,
                details: Dict::new(),
                error,
                payload,
            }
        }
    };
    link.send(message);
}

impl Actor for SessionActor {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        match self.start.take() {
            Some(Start::Local { realm, realm_name, identity }) => {
                // The realm sets the queue's limit when the session joins.
                let (outbound, receiver) = flow::outbound(usize::MAX);
                let direct = DirectOffer::new(Rc::new(DirectSession {
                    handle: self.handle.clone(),
                    effects: Default::default(),
                }));
                let info = Member { identity: identity.clone(), roles: super::features::client_roles() };
                let join = realm.addr().send(Join { info, outbound, gate: None, direct: Some(direct) });
                ctx.wait(join.into_actor(self).map(move |joined, act, ctx| match joined {
                    Ok(session) => {
                        // A realm on this thread claimed the offer, or the
                        // session uses its queues.
                        let sender = match direct.finish() {
                            Some(input) => LinkSender::Direct { input, session },
                            None => LinkSender::Local { realm, session },
                        };
                        ctx.add_stream(LocalEvents { receiver, shared: act.shared.clone() });
                        // What a WELCOME of this router would say.
                        let mut details = Dict::new();
                        identity.write_details(&mut details);
                        details.insert("roles".into(), Value::Dict(router_roles()));
                        let info = SessionInfo::new(session, &realm_name, details);
                        act.joined(info, sender, ctx);
                    }
                    Err(e) => {
                        direct.finish();
                        act.left(&format!("the realm is not running: {e}"), false, ctx)
                    }
                }));
            }
            Some(Start::Remote(options)) => {
                let (events, receiver) = mpsc::unbounded_channel();
                let (commands, outgoing) = mpsc::unbounded_channel();
                self.remote = Some(commands.clone());
                ctx.add_stream(RemoteEvents { receiver });
                actix::spawn(websocket::run(options, events, commands, outgoing));
            }
            None => {}
        }
    }
}

impl StreamHandler<LinkEvent> for SessionActor {
    fn handle(&mut self, event: LinkEvent, ctx: &mut Self::Context) {
        match event {
            LinkEvent::Message(message) => {
                self.shared.core.borrow_mut().receive(message, &mut self.effects);
                self.apply(ctx);
            }
            LinkEvent::Joined { session, realm, details, sender } => {
                let info = SessionInfo::new(session, &realm, details);
                self.joined(info, sender, ctx);
            }
            LinkEvent::Left { reason, reconnecting } => self.left(&reason, reconnecting, ctx),
            LinkEvent::Failed(error) => {
                for waiter in self.waiters.drain(..) {
                    let _ = waiter.send(Err(error.clone()));
                }
                self.left(&error.to_string(), false, ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        if self.shared.link.borrow().is_some() {
            self.left("the link closed", false, ctx);
        } else {
            ctx.stop();
        }
    }
}

/// The realm's deliveries to an in-process session, as link events.
struct LocalEvents {
    receiver: OutboundReceiver,
    shared: Rc<SessionState>,
}

impl Stream for LocalEvents {
    type Item = LinkEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<LinkEvent>> {
        // Too many handlers running: leave deliveries queued (closings and
        // stall endings still come through).
        let ready = self.shared.handlers.poll_room(cx.waker());
        self.receiver.poll_next(cx, ready).map(|next| {
            Some(match next {
                Next::Deliver(ToPeer::Message(message)) => LinkEvent::Message(message),
                Next::Deliver(ToPeer::Close { reason, message }) => {
                    LinkEvent::Left { reason: format!("{reason}: {message}"), reconnecting: false }
                }
                Next::Stalled(message) => LinkEvent::Left { reason: message, reconnecting: false },
            })
        })
    }
}

/// Link events from a WebSocket connection task.
struct RemoteEvents {
    receiver: mpsc::UnboundedReceiver<LinkEvent>,
}

impl Stream for RemoteEvents {
    type Item = LinkEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<LinkEvent>> {
        self.receiver.poll_recv(cx)
    }
}

/// Wait until the session has joined and is set up (immediately if it
/// is); see [`Hooks::setup`].
#[derive(actix::Message)]
#[rtype(result = "Result<SessionInfo, Error>")]
pub struct WaitJoined;

impl ActixHandler<WaitJoined> for SessionActor {
    type Result = ResponseFuture<Result<SessionInfo, Error>>;

    fn handle(&mut self, _msg: WaitJoined, _ctx: &mut Self::Context) -> Self::Result {
        if let Some(outcome) = self.ready.clone() {
            return Box::pin(async move { outcome });
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.push(tx);
        Box::pin(async move { rx.await.unwrap_or_else(|_| Err(Error::lost())) })
    }
}

/// Run a closure with the session's context on its thread; the reply is
/// the closure's future's output.
pub struct WithContext<T: 'static> {
    run: Box<dyn FnOnce(Session) -> LocalBoxFuture<'static, T> + Send>,
}

impl<T: 'static> WithContext<T> {
    /// Wraps a closure.
    pub fn new(run: impl FnOnce(Session) -> LocalBoxFuture<'static, T> + Send + 'static) -> Self {
        WithContext { run: Box::new(run) }
    }
}

impl<T: 'static> actix::Message for WithContext<T> {
    type Result = T;
}

impl<T: 'static> ActixHandler<WithContext<T>> for SessionActor {
    type Result = ResponseFuture<T>;

    fn handle(&mut self, msg: WithContext<T>, _ctx: &mut Self::Context) -> Self::Result {
        (msg.run)(self.handle.clone())
    }
}

/// Leave the realm and stop. The reply comes when the session is over: at
/// once in-process; over WebSocket once the router answered GOODBYE (or
/// the link gave up waiting for it), also while reconnecting.
#[derive(actix::Message)]
#[rtype(result = "()")]
pub struct LeaveSession;

impl ActixHandler<LeaveSession> for SessionActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _msg: LeaveSession, ctx: &mut Self::Context) -> Self::Result {
        if let Some(commands) = &self.remote {
            let (tx, rx) = oneshot::channel();
            self.leaving.push(tx);
            if commands.send(Outgoing::Leave).is_err() {
                // The link is already gone; its end is on the way.
                tracing::debug!("leaving a session whose link has ended");
            }
            return Box::pin(async move {
                // Dropped unanswered when the actor stops: over as well.
                let _ = rx.await;
            });
        }
        self.handle.leave();
        // An in-process realm does not answer: the session is over now.
        self.left(crate::protocol::errors::CLOSE_NORMAL, false, ctx);
        Box::pin(async {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Message;
    use crate::router::actor::RealmInput;
    use crate::router::direct::LocalInput;

    /// A session on the realm's thread, linked to `input` as session 7.
    fn direct_session(input: &Rc<LocalInput>) -> DirectSession {
        let handle = Session::detached();
        *handle.shared.link.borrow_mut() = Some(LinkSender::Direct { input: input.clone(), session: 7 });
        DirectSession { handle, effects: Default::default() }
    }

    fn next_input(input: &LocalInput) -> Option<RealmInput> {
        let waker = futures_util::task::noop_waker();
        match input.poll_next(&mut std::task::Context::from_waker(&waker)) {
            Poll::Ready(input) => Some(input),
            Poll::Pending => None,
        }
    }

    #[test]
    fn a_direct_delivery_runs_the_handler_and_answers_through_the_local_queue() {
        let input = Rc::new(LocalInput::default());
        let session = direct_session(&input);
        let ctx = session.handle.clone();
        let handler: super::super::ProcedureFn =
            Rc::new(|payload, _details, _ctx| Completion::Now(Ok(payload)));
        let (tx, _rx) = super::super::reply::slot();
        let register = ctx.shared.core.borrow_mut().register(
            "com.example.echo",
            Dict::new(),
            Handler::Procedure(handler),
            tx,
        );
        let Ok(Some(Message::Register { request, .. })) = register else { panic!("a REGISTER to send") };
        session.deliver(ToPeer::Message(Message::Registered { request, registration: 3 }));
        let payload = Payload::args(vec![crate::protocol::Value::from(5)]);
        session.deliver(ToPeer::Message(Message::Invocation {
            request: 11,
            registration: 3,
            details: Dict::new(),
            payload: payload.clone(),
        }));
        match next_input(&input) {
            Some(RealmInput::Inbound {
                session: 7,
                message: Message::Yield { request: 11, payload: p, .. },
                ..
            }) => {
                assert_eq!(p, payload)
            }
            other => panic!("expected the YIELD, got {other:?}"),
        }
    }

    #[test]
    fn a_direct_delivery_that_breaks_the_protocol_says_goodbye_and_leaves() {
        let input = Rc::new(LocalInput::default());
        let session = direct_session(&input);
        // A router never sends HELLO.
        session.deliver(ToPeer::Message(Message::Hello { realm: "realm1".into(), details: Dict::new() }));
        match next_input(&input) {
            Some(RealmInput::Inbound { session: 7, message: Message::Goodbye { reason, .. }, .. }) => {
                assert_eq!(reason, errors::PROTOCOL_VIOLATION)
            }
            other => panic!("expected GOODBYE, got {other:?}"),
        }
        assert!(matches!(next_input(&input), Some(RealmInput::Leave { session: 7 })));
    }

    /// Registers `handler` as registration 3 of `session`.
    fn register(session: &DirectSession, handler: super::super::ProcedureFn) {
        let (tx, _rx) = super::super::reply::slot();
        let register = session.handle.shared.core.borrow_mut().register(
            "com.example.slow",
            Dict::new(),
            Handler::Procedure(handler),
            tx,
        );
        let Ok(Some(Message::Register { request, .. })) = register else { panic!("a REGISTER to send") };
        session.deliver(ToPeer::Message(Message::Registered { request, registration: 3 }));
    }

    fn invoke(session: &DirectSession, request: Id) {
        let message = Message::Invocation {
            request,
            registration: 3,
            details: Dict::new(),
            payload: Payload::default(),
        };
        session.deliver(ToPeer::Message(message));
    }

    fn interrupt(session: &DirectSession, request: Id) {
        let options = Dict::from([("mode".to_owned(), Value::from("kill"))]);
        session.deliver(ToPeer::Message(Message::Interrupt { request, options }));
    }

    /// Lets the spawned handler tasks run.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[test]
    fn a_call_answered_at_once_leaves_no_state_behind() {
        let input = Rc::new(LocalInput::default());
        let session = direct_session(&input);
        register(&session, Rc::new(|payload, _details, _ctx| Completion::Now(Ok(payload))));
        invoke(&session, 11);
        assert!(matches!(
            next_input(&input),
            Some(RealmInput::Inbound { message: Message::Yield { .. }, .. })
        ));
        assert!(session.handle.shared.invocations.borrow().is_empty());
    }

    #[actix_web::test]
    async fn an_interrupt_drops_a_procedure_that_does_not_watch_and_answers_with_canceled() {
        struct Flag(Rc<std::cell::Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let input = Rc::new(LocalInput::default());
        let session = direct_session(&input);
        let dropped = Rc::new(std::cell::Cell::new(false));
        let flag = dropped.clone();
        register(
            &session,
            Rc::new(move |_payload, _details, _ctx| {
                let guard = Flag(flag.clone());
                Completion::Later(Box::pin(async move {
                    std::future::pending::<()>().await;
                    drop(guard);
                    Ok(Payload::default())
                }))
            }),
        );
        invoke(&session, 12);
        settle().await;
        assert!(next_input(&input).is_none(), "no answer before the interrupt");
        assert_eq!(session.handle.shared.invocations.borrow().len(), 1);
        interrupt(&session, 12);
        settle().await;
        match next_input(&input) {
            Some(RealmInput::Inbound { message: Message::Error { request: 12, error, .. }, .. }) => {
                assert_eq!(error, errors::CANCELED)
            }
            other => panic!("expected ERROR canceled, got {other:?}"),
        }
        assert!(dropped.get(), "the procedure's future was dropped");
        assert!(session.handle.shared.invocations.borrow().is_empty());
    }

    #[actix_web::test]
    async fn a_procedure_that_watches_answers_its_interrupt_itself() {
        let input = Rc::new(LocalInput::default());
        let session = direct_session(&input);
        register(
            &session,
            Rc::new(|_payload, details: CallDetails, _ctx| {
                Completion::Later(Box::pin(async move {
                    let why = details.interrupted().await;
                    Ok(Payload::args(vec![Value::from(format!("stopped: {}", why.mode))]))
                }))
            }),
        );
        invoke(&session, 13);
        settle().await;
        interrupt(&session, 13);
        settle().await;
        match next_input(&input) {
            Some(RealmInput::Inbound { message: Message::Yield { request: 13, payload, .. }, .. }) => {
                assert_eq!(payload.args_list(), [Value::from("stopped: kill")])
            }
            other => panic!("expected the procedure's own YIELD, got {other:?}"),
        }
        assert!(session.handle.shared.invocations.borrow().is_empty());
    }

    #[actix_web::test]
    async fn a_timeout_passed_on_to_the_callee_interrupts_the_procedure() {
        let input = Rc::new(LocalInput::default());
        let session = direct_session(&input);
        register(
            &session,
            Rc::new(|_payload, _details, _ctx| {
                Completion::Later(Box::pin(async {
                    std::future::pending::<()>().await;
                    Ok(Payload::default())
                }))
            }),
        );
        let details = Dict::from([("timeout".to_owned(), Value::from(30))]);
        session.deliver(ToPeer::Message(Message::Invocation {
            request: 14,
            registration: 3,
            details,
            payload: Payload::default(),
        }));
        settle().await;
        assert!(next_input(&input).is_none(), "no answer before the timeout");
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        settle().await;
        match next_input(&input) {
            Some(RealmInput::Inbound { message: Message::Error { request: 14, error, .. }, .. }) => {
                assert_eq!(error, errors::TIMEOUT)
            }
            other => panic!("expected ERROR timeout, got {other:?}"),
        }
        assert!(session.handle.shared.invocations.borrow().is_empty());
    }
}
