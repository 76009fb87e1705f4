//! The actor that owns one realm's routing core.
//!
//! Sessions (remote or local) join with [`Join`], then send their messages
//! and their leaving through their thread's input to the realm
//! ([`RealmHandle::local_input`]), which routes them on that thread under
//! the realm's lock ([`Shared`]) whenever it is free (see
//! [`super::direct`]). What cannot be routed there waits in the realm's
//! shared queue, which this actor routes, on a thread where no session
//! and no handler runs; whoever takes the lock routes it first, so that
//! a session's input is routed in the order it was sent. The actor also
//! keeps what needs a task: joins, the deadline timer, stall and idle
//! checks.

use actix::{
    Actor, ActorContext as _, Addr, AsyncContext as _, Context, Handler, Message, MessageResult, SpawnHandle,
    StreamHandler,
};
use tokio::sync::mpsc;

use super::direct::{DirectLink, LocalInput};
use super::flow::{FlowSettings, Gate, Outbound};
use super::realm::{Member, RealmCore};
use crate::protocol::{errors, Id, WampMessage};
use std::borrow::Cow;

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod routing;

pub(crate) use routing::{deliver, lock, route_shared, try_lock, Routing, Shared};

/// What a realm sends to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum ToPeer {
    /// A message to deliver.
    Message(WampMessage),
    /// The realm closed the session: send GOODBYE with this reason and end
    /// the connection.
    Close {
        /// The GOODBYE reason URI.
        reason: Cow<'static, str>,
        /// An explanation for the details.
        message: String,
    },
}

/// Join the realm. The reply is the new session id.
#[derive(Message)]
#[rtype(result = "Id")]
pub struct Join {
    /// Who the session is.
    pub info: Member,
    /// Where the realm delivers the session's messages (the realm sets
    /// its limit).
    pub outbound: Outbound,
    /// The gate of the session's connection, which the realm closes to
    /// slow it down (see [`super::flow`]); `None` for sessions that cannot
    /// be slowed (in-process ones).
    pub gate: Option<Arc<Gate>>,
    /// For a session that takes its deliveries by call (see
    /// [`super::direct`]): where it is found, whenever the realm routes on
    /// its thread.
    pub(crate) direct: Option<DirectLink>,
}

/// What joined sessions send their realm, in order, on one queue: a
/// session's messages and its leaving can never overtake each other.
#[derive(Debug)]
pub enum RealmInput {
    /// A message from a joined session.
    Inbound {
        /// The sending session.
        session: Id,
        /// The message.
        message: WampMessage,
        /// Its size on the wire, counted in the sender's [`Gate`] until
        /// it is routed (0 for senders without a gate).
        size: usize,
    },
    /// A session left (GOODBYE, or its connection is gone).
    Leave {
        /// The session.
        session: Id,
    },
}

/// A handle on a running realm: its actor (to join and shut down) and its
/// input queue (the hot path, without a boxed envelope per message).
#[derive(Clone, Debug)]
pub struct RealmHandle {
    // Shared: cloning an actix address allocates, and handles are cloned
    // wherever a session's link is.
    inner: std::sync::Arc<HandleInner>,
}

#[derive(Debug)]
struct HandleInner {
    addr: Addr<RealmActor>,
    /// The shared queue: input from threads that cannot route at once.
    input: mpsc::UnboundedSender<RealmInput>,
    routing: Arc<Shared>,
}

impl RealmHandle {
    /// Starts a realm actor driving `core` on the arbiter `thread`, with
    /// the back-pressure settings `flow`. With an `idle_timeout` the realm
    /// stops once it has been without sessions that long.
    ///
    /// The router gives its realms a thread of their own, where no
    /// session and no handler runs: the realm's task (joins, timers, what
    /// sessions could not route on their own threads) never waits for a
    /// handler.
    pub fn start(
        core: RealmCore,
        flow: FlowSettings,
        idle_timeout: Option<Duration>,
        thread: &actix::dev::ArbiterHandle,
    ) -> Self {
        let (input, receiver) = mpsc::unbounded_channel();
        let waits = Arc::<AtomicU64>::default();
        let mut state = Routing::new(core, flow, waits.clone());
        state.receiver = Some(receiver);
        let routing = Arc::new(Shared::new(state));
        let addr = RealmActor::start_in_arbiter(thread, {
            let routing = routing.clone();
            move |ctx| {
                ctx.add_stream(InputStream { routing: routing.clone(), waits });
                ctx.add_stream(ChoresDue(routing.clone()));
                RealmActor { routing, timer_at: None, idle_timeout, idle_since: Some(Instant::now()) }
            }
        });
        RealmHandle { inner: std::sync::Arc::new(HandleInner { addr, input, routing }) }
    }

    /// This thread's input to the realm, through which a session on this
    /// thread sends (see [`LocalInput`]).
    pub(crate) fn local_input(&self) -> Rc<LocalInput> {
        LocalInput::of(&self.inner.routing, &self.inner.input)
    }

    /// The realm actor.
    pub fn addr(&self) -> &Addr<RealmActor> {
        &self.inner.addr
    }

    /// Whether the realm is still running.
    pub fn connected(&self) -> bool {
        !self.inner.input.is_closed() && self.inner.addr.connected()
    }
}

/// Routing done outside the actor's turns left it chores (see
/// [`Shared::chores_due`]): a stream apart from the inputs, so that the
/// inputs' hot path carries nothing for it.
struct ChoresDue(Arc<Shared>);

/// One reminder that chores wait.
struct Chores;

impl futures_util::Stream for ChoresDue {
    type Item = Chores;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Chores>> {
        self.0.poll_chores(cx).map(|()| Some(Chores))
    }
}

/// The realm's task routes what waits in its shared queue: input its
/// sessions could not route on their own threads. An input is taken and
/// routed under one hold of the lock, so a session routing at once,
/// which takes the shared queue first, never overtakes its earlier
/// input.
struct InputStream {
    routing: Arc<Shared>,
    /// How many times the realm has waited for input (read by the realm's
    /// clock, which is read again after a wait).
    waits: Arc<AtomicU64>,
}

/// One input routed by the realm's task; whether it left chores.
struct Routed(bool);

impl futures_util::Stream for InputStream {
    type Item = Routed;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Routed>> {
        use std::task::Poll;
        let cell = &*self.routing;
        let mut routing = lock(cell);
        let next = match &mut routing.receiver {
            Some(receiver) => receiver.poll_recv(cx),
            None => Poll::Pending,
        };
        match next {
            Poll::Ready(Some(input)) => {
                cell.taken(1);
                routing.route(input);
                let routing = routing::deliver(cell, routing);
                Poll::Ready(Some(Routed(routing.has_chores())))
            }
            // Every handle and input is gone: nothing can send any more,
            // and the realm runs until stopped (idle, or shut down).
            Poll::Ready(None) => {
                routing.receiver = None;
                Poll::Pending
            }
            Poll::Pending => {
                // One writer: a load and a store, no locked instruction.
                self.waits.store(self.waits.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                Poll::Pending
            }
        }
    }
}

/// Close every session with GOODBYE `wamp.close.system_shutdown`. The reply
/// is how many sessions were told.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Shutdown;

/// How the realm reaches one joined session.
struct Peer {
    outbound: Outbound,
    /// Set for in-process sessions, which take their messages by direct
    /// call from routing on their thread; `outbound` carries the rest and
    /// the closing.
    direct: Option<DirectLink>,
    /// The gate of the session's connection, if it can be slowed.
    gate: Option<Arc<Gate>>,
}

/// The realm actor: it drives the realm's [`Routing`], shared with the
/// sessions' [`LocalInput`]s so that a session can have its input routed
/// at once (see [`super::direct`]), and keeps the timers.
pub struct RealmActor {
    routing: Arc<Shared>,
    /// When the armed deadline timer fires, on the core's clock, and the
    /// timer (cancelled when an earlier deadline needs one: a caller
    /// sending ever shorter timeouts arms one timer, not one per call).
    timer_at: Option<(Duration, SpawnHandle)>,
    /// Stop after this long without sessions (realms created on demand).
    idle_timeout: Option<Duration>,
    /// Since when the realm has had no session.
    idle_since: Option<Instant>,
}

impl RealmActor {
    /// Does what routing left for the actor: stall checks, the deadline
    /// timer, the idle check.
    fn do_chores(&mut self, ctx: &mut Context<Self>) {
        let chores = {
            let mut routing = lock(&self.routing);
            if routing.chores.is_empty() {
                return;
            }
            std::mem::take(&mut routing.chores)
        };
        for (session, after) in chores.stall_checks {
            ctx.run_later(after, move |act, ctx| {
                let mut routing = lock(&act.routing);
                routing.check_stall(session);
                drop(routing::deliver(&act.routing, routing));
                act.do_chores(ctx);
            });
        }
        if let Some(now) = chores.deadline {
            self.arm_deadline_timer(now, ctx);
        }
        if chores.idle_check {
            self.note_idle(ctx);
        }
    }

    /// Notes that the realm has no session left and arms the idle check.
    fn note_idle(&mut self, ctx: &mut Context<Self>) {
        let Some(timeout) = self.idle_timeout else { return };
        let routing = lock(&self.routing);
        if routing.core.session_count() > 0 || !routing.peers.is_empty() {
            self.idle_since = None;
            return;
        }
        if self.idle_since.is_none() {
            self.idle_since = Some(Instant::now());
            ctx.run_later(timeout, Self::stop_if_idle);
        }
    }

    fn stop_if_idle(&mut self, ctx: &mut Context<Self>) {
        let Some(timeout) = self.idle_timeout else { return };
        match self.idle_since {
            Some(since) if since.elapsed() >= timeout => {
                tracing::info!(realm = %lock(&self.routing).name(), "no session for {timeout:?}: stopping");
                ctx.stop();
            }
            Some(since) => {
                ctx.run_later(timeout.saturating_sub(since.elapsed()), Self::stop_if_idle);
            }
            None => {}
        }
    }

    /// Arms a timer for the core's earliest deadline, unless one fires
    /// before it anyway.
    fn arm_deadline_timer(&mut self, now: Duration, ctx: &mut Context<Self>) {
        let Some(deadline) = lock(&self.routing).core.next_deadline() else { return };
        if let Some((at, timer)) = self.timer_at {
            if at <= deadline {
                return;
            }
            ctx.cancel_future(timer);
        }
        let timer = ctx.run_later(deadline.saturating_sub(now), |act, ctx| {
            act.timer_at = None;
            let mut routing = lock(&act.routing);
            let now = routing.expire();
            drop(routing::deliver(&act.routing, routing));
            act.arm_deadline_timer(now, ctx);
            act.do_chores(ctx);
        });
        self.timer_at = Some((deadline, timer));
        lock(&self.routing).timer_at = Some(deadline);
    }
}

/// Ends a realm: nothing may keep talking into it. Its sessions are
/// closed (GOODBYE `wamp.close.system_shutdown`) and nothing is routed any
/// more.
fn end(routing: &Shared) {
    let mut routing = lock(routing);
    routing.stopped = true;
    routing.receiver = None;
    for (_, peer) in routing.peers.drain() {
        peer.outbound.release_producers();
        let close = ToPeer::Close {
            reason: errors::CLOSE_SYSTEM_SHUTDOWN.into(),
            message: "the realm stopped".into(),
        };
        peer.outbound.push(close, 0, None);
    }
    tracing::info!(realm = %routing.name(), "realm stopped");
}

impl Actor for RealmActor {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        end(&self.routing);
    }

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(realm = %lock(&self.routing).name(), "realm started");
        if let Some(timeout) = self.idle_timeout {
            ctx.run_later(timeout, Self::stop_if_idle);
        }
    }
}

impl Handler<Join> for RealmActor {
    type Result = MessageResult<Join>;

    fn handle(&mut self, msg: Join, ctx: &mut Self::Context) -> Self::Result {
        let id = {
            let mut routing = lock(&self.routing);
            let (core, outbox) = routing.outbox();
            let id = core.join(msg.info, outbox);
            // Wherever the session is, the realm keeps its link, which
            // hands it messages whenever the realm routes on its thread.
            msg.outbound.configure(id, routing.flow.max_queued_bytes);
            routing.peers.insert(id, Peer { outbound: msg.outbound, direct: msg.direct, gate: msg.gate });
            // The on_join event, to the sessions that asked for it.
            routing.produced_by(None);
            drop(routing::deliver(&self.routing, routing));
            id
        };
        self.idle_since = None;
        self.do_chores(ctx);
        MessageResult(id)
    }
}

impl StreamHandler<Routed> for RealmActor {
    fn handle(&mut self, Routed(chores): Routed, ctx: &mut Self::Context) {
        if chores {
            self.do_chores(ctx);
        }
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The inputs never end (sessions on this thread may always send);
        // the actor runs until stopped.
    }
}

impl StreamHandler<Chores> for RealmActor {
    fn handle(&mut self, _: Chores, ctx: &mut Self::Context) {
        self.do_chores(ctx);
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // Never ends: it only reads a flag.
    }
}

impl Handler<Shutdown> for RealmActor {
    type Result = usize;

    fn handle(&mut self, _msg: Shutdown, ctx: &mut Self::Context) -> usize {
        let closed = {
            let mut routing = lock(&self.routing);
            let (core, outbox) = routing.outbox();
            let closed = core.close_all(errors::CLOSE_SYSTEM_SHUTDOWN, "the router is shutting down", outbox);
            routing.produced_by(None);
            drop(routing::deliver(&self.routing, routing));
            closed
        };
        self.do_chores(ctx);
        closed
    }
}

/// Realms driven by hand, for the router's tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::protocol::roles::ClientRoles;
    use crate::router::realm::RealmSettings;

    /// A realm's state, not driven by any task, and its shared queue.
    pub(crate) fn realm() -> (Arc<Shared>, mpsc::UnboundedSender<RealmInput>) {
        let (remote, receiver) = mpsc::unbounded_channel();
        let core = RealmCore::new("test", RealmSettings::default());
        let mut state = Routing::new(core, FlowSettings::default(), Arc::default());
        state.receiver = Some(receiver);
        (Arc::new(Shared::new(state)), remote)
    }

    /// Joins an in-process session, found through `direct` if it takes
    /// its deliveries by call; its id.
    pub(crate) fn join(routing: &Shared, direct: Option<DirectLink>) -> Id {
        let member = Member {
            identity: crate::component::local_identity("test"),
            roles: ClientRoles::BASIC,
            in_process: true,
        };
        let mut routing = lock(routing);
        let (core, outbox) = routing.outbox();
        let id = core.join(member, outbox);
        let (outbound, _) = crate::router::flow::outbound(usize::MAX);
        routing.peers.insert(id, Peer { outbound, direct, gate: None });
        id
    }

    /// Whether nothing waits in the realm's shared queue.
    pub(crate) fn shared_queue_is_empty(routing: &Shared) -> bool {
        lock(routing).receiver.as_ref().map_or(true, |r| r.is_empty())
    }

    /// The next input in the realm's shared queue.
    pub(crate) fn take_shared(routing: &Shared) -> Option<RealmInput> {
        let input = lock(routing).receiver.as_mut()?.try_recv().ok();
        if input.is_some() {
            routing.taken(1);
        }
        input
    }
}
