//! The actor that drives one client session: it owns the link to the
//! router, feeds the router's messages to the
//! [`ClientCore`](super::core::ClientCore), runs procedure and event
//! handlers, and answers requests.

use std::collections::VecDeque;
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
use super::details::{EventDetails, IncomingCall, SessionInfo};
use super::invocation::{CallControl, Interruption, InvocationState};
use super::link::{Closed, LinkEvent, LinkSender, Outgoing, RemoteEvent};
use super::queue::CallQueue;
use super::session::{Completion, Handler, Reply, Session, SessionState};
use super::websocket::{self, ConnectOptions};
use crate::auth::Identity;
use crate::protocol::options::Schema;
use crate::protocol::roles::router_roles;
use crate::protocol::{errors, Dict, Id, Payload, Value};
use crate::router::actor::{Join, RealmHandle, ToPeer};
use crate::router::direct::{DirectEntry, DirectPeer};
use crate::router::flow::{self, Gate, Next, OutboundReceiver, Room};
use crate::router::realm::Member;
use crate::Error;

mod direct;
pub(crate) mod effects;
mod events;
mod messages;
#[cfg(test)]
mod tests;

use direct::*;
use effects::*;
use events::*;
pub use messages::{LeaveSession, WaitJoined, WithSession};

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
    /// Once, when the session's actor starts, before the session joins
    /// (the join waits for it). If it fails, the session does not join:
    /// the waiters of the join get its error.
    pub on_start: Option<HookFn>,
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
    /// The session's entry in its thread's table of sessions a realm
    /// hands messages to by call, while it is in a realm of this process.
    direct: Option<DirectEntry>,
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
            direct: None,
        }
    }

    /// Gives the session its host's application data.
    pub(crate) fn with_app_data(self, data: crate::component::data::AppData) -> Self {
        let _ = self.shared.app_data.set(data);
        self
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
        if let Some(old) = self.shared.link.borrow_mut().replace(sender) {
            old.gate().end();
        }
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

    fn left(
        &mut self,
        reason: &str,
        reconnecting: bool,
        by_router: Option<Closed>,
        ctx: &mut actix::Context<Self>,
    ) {
        tracing::debug!(%reason, reconnecting, "client session left");
        self.ready = None;
        // No realm hands it anything any more.
        self.direct = None;
        // Tasks waiting to publish on the link find it gone.
        if let Some(link) = self.shared.link.borrow_mut().take() {
            link.gate().end();
        }
        self.shared.info.borrow_mut().take();
        self.shared.core.borrow_mut().disconnected(by_router, &mut self.effects);
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

impl Actor for SessionActor {
    type Context = actix::Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let _ = self.shared.address.set(ctx.address().downgrade());
        match self.hooks.on_start.clone() {
            None => self.begin(ctx),
            Some(hook) => {
                let fut = hook(self.handle.clone());
                ctx.spawn(fut.into_actor(self).map(|started, act, ctx| match started {
                    Ok(()) => act.begin(ctx),
                    Err(e) => {
                        tracing::error!(error = %e, "on_start failed; the session does not join");
                        for waiter in act.waiters.drain(..) {
                            let _ = waiter.send(Err(e.clone()));
                        }
                        // Kept until it is told to leave, so that later
                        // waiters learn why too.
                        act.ready = Some(Err(e));
                    }
                }));
            }
        }
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.shared.tasks.stop_all();
    }
}

impl SessionActor {
    /// Reaches the router, as `start` says.
    fn begin(&mut self, ctx: &mut actix::Context<Self>) {
        match self.start.take() {
            Some(Start::Local { realm, realm_name, identity }) => {
                // The realm sets the queue's limit when the session joins.
                let (outbound, receiver) = flow::outbound(usize::MAX);
                let entry = DirectEntry::new(Rc::new(DirectSession { handle: self.handle.clone() }));
                let direct = entry.link();
                self.direct = Some(entry);
                let info = Member {
                    identity: identity.clone(),
                    roles: super::features::client_roles(),
                    in_process: true,
                };
                // What the session publishes counts in its gate until
                // the realm has routed it; a destination that fills up
                // holds the gate, as it holds a connection's.
                let gate = Gate::new();
                let join = realm.addr().send(Join {
                    info,
                    outbound,
                    gate: Some(gate.clone()),
                    direct: Some(direct),
                });
                ctx.wait(join.into_actor(self).map(move |joined, act, ctx| match joined {
                    Ok(session) => {
                        // The session sends through its thread's input to
                        // the realm, wherever the realm runs.
                        let sender = LinkSender::Direct { input: realm.local_input(), session, gate };
                        ctx.add_stream(LocalEvents { receiver, shared: act.shared.clone() });
                        // What a WELCOME of this router would say.
                        let mut details = Dict::new();
                        identity.write_details(&mut details);
                        details.insert("roles".into(), Value::Dict(router_roles()));
                        let info = SessionInfo::new(session, &realm_name, details);
                        act.joined(info, sender, ctx);
                    }
                    Err(e) => {
                        act.direct = None;
                        act.left(&format!("the realm is not running: {e}"), false, None, ctx)
                    }
                }));
            }
            Some(Start::Remote(options)) => {
                let (events, receiver) = mpsc::unbounded_channel();
                let (commands, outgoing) = mpsc::unbounded_channel();
                self.remote = Some(commands.clone());
                ctx.add_stream(RemoteEvents {
                    receiver,
                    shared: self.shared.clone(),
                    waiting: VecDeque::new(),
                });
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
                let effect = self.shared.core.borrow_mut().receive(message, &mut self.effects);
                self.effects.extend(effect);
                self.apply(ctx);
            }
            LinkEvent::Joined { session, realm, details, sender } => {
                let info = SessionInfo::new(session, &realm, details);
                self.joined(info, sender, ctx);
            }
            LinkEvent::Left { reason, reconnecting, by_router } => {
                self.left(&reason, reconnecting, by_router, ctx)
            }
            LinkEvent::Failed(error) => {
                for waiter in self.waiters.drain(..) {
                    let _ = waiter.send(Err(error.clone()));
                }
                self.left(&error.to_string(), false, None, ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        if self.shared.link.borrow().is_some() {
            self.left("the link closed", false, None, ctx);
        } else {
            ctx.stop();
        }
    }
}
