//! The actor that owns one realm's routing core.
//!
//! Sessions (remote or local) join with [`Join`], then send their messages
//! and their leaving through a [`RealmHandle`]'s input queue. It hands
//! each input to the [`RealmCore`] and delivers the resulting effects to
//! the sessions: into their outbound queues, or, for in-process sessions
//! on the realm's own thread, by a direct call (see [`super::direct`]).
//! The realm's state ([`Routing`]) sits behind a lock ([`Shared`]), taken
//! by this actor or, for a call made on the realm's thread while the
//! state is free, by the calling session's task. Today both are on the
//! realm's thread, so the lock is never waited for; it is what lets the
//! state be routed from other threads (docs/architecture.md, "This is
//! how far...").

use actix::{
    Actor, ActorContext as _, Addr, AsyncContext as _, Context, Handler, Message, MessageResult, SpawnHandle,
    StreamHandler,
};
use tokio::sync::mpsc;

use super::direct::{DirectLink, DirectOffer, LocalInput};
use super::flow::{FlowSettings, Gate, Outbound};
use super::realm::{Member, RealmCore};
use crate::protocol::{errors, Id, WampMessage};
use std::borrow::Cow;

use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod routing;

pub(crate) use routing::{deliver, lock, try_lock, Routing, Shared};

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
    /// A session's offer to exchange messages without synchronised
    /// queues (see [`super::direct`]); taken up when the realm runs on the
    /// offering thread.
    pub direct: Option<DirectOffer>,
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
    input: mpsc::UnboundedSender<RealmInput>,
}

impl RealmHandle {
    /// Starts a realm actor driving `core` on the current arbiter, with
    /// the back-pressure settings `flow`. With an `idle_timeout` the realm
    /// stops once it has been without sessions that long.
    pub fn start(core: RealmCore, flow: FlowSettings, idle_timeout: Option<Duration>) -> Self {
        let (input, receiver) = mpsc::unbounded_channel();
        let addr = RealmActor::create(move |ctx| {
            let local = Rc::new(LocalInput::default());
            let inputs = InputStream::new(receiver, local.clone());
            let waits = inputs.waits.clone();
            ctx.add_stream(inputs);
            ctx.add_stream(ChoresDue(local.clone()));
            let mut actor = RealmActor::new(core, local, flow, waits);
            actor.idle_timeout = idle_timeout;
            actor
        });
        RealmHandle { inner: std::sync::Arc::new(HandleInner { addr, input }) }
    }

    /// The realm actor.
    pub fn addr(&self) -> &Addr<RealmActor> {
        &self.inner.addr
    }

    /// Whether the realm is still running.
    pub fn connected(&self) -> bool {
        !self.inner.input.is_closed() && self.inner.addr.connected()
    }

    /// Routes a message of a joined session; `false` if the realm is gone.
    /// `size` is what the sender counted in its [`Gate`] (0 if none).
    pub fn send(&self, session: Id, message: WampMessage, size: usize) -> bool {
        self.inner.input.send(RealmInput::Inbound { session, message, size }).is_ok()
    }

    /// Tells the realm a session left.
    pub fn leave(&self, session: Id) {
        let _ = self.inner.input.send(RealmInput::Leave { session });
    }
}

/// Routing done outside the actor's turns left it chores (see
/// [`LocalInput::poll_chores`]): a stream apart from the inputs, so that
/// the inputs' hot path carries nothing for it.
struct ChoresDue(Rc<LocalInput>);

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

/// The realm's inputs: from its own thread's sessions, and from anywhere.
/// When both have input they take turns, so neither can starve the other.
struct InputStream {
    /// `None` once every handle is gone.
    receiver: Option<mpsc::UnboundedReceiver<RealmInput>>,
    local: Rc<LocalInput>,
    /// Whether the local input goes first on the next poll.
    local_first: bool,
    /// How many times the realm has waited for input (read by the realm's
    /// clock, which is read again after a wait).
    waits: Arc<AtomicU64>,
}

impl InputStream {
    fn new(receiver: mpsc::UnboundedReceiver<RealmInput>, local: Rc<LocalInput>) -> Self {
        InputStream { receiver: Some(receiver), local, local_first: true, waits: Arc::default() }
    }

    fn poll_remote(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<RealmInput> {
        use std::task::Poll;
        if let Some(receiver) = &mut self.receiver {
            match receiver.poll_recv(cx) {
                Poll::Ready(Some(input)) => return Poll::Ready(input),
                // No handle is left, but sessions on this thread may still
                // send through the local input.
                Poll::Ready(None) => self.receiver = None,
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }
}

impl futures_util::Stream for InputStream {
    type Item = RealmInput;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<RealmInput>> {
        use std::task::Poll;
        let this = &mut *self;
        // The realm has its turn: sessions may route at once again.
        this.local.realm_turn();
        // The channel's turn is skipped while it is empty: looking (atomic
        // loads) costs less than polling it, which registers the task.
        let remote_turn = !this.local_first && this.receiver.as_ref().is_some_and(|r| !r.is_empty());
        let input = if !remote_turn {
            match this.local.poll_next(cx) {
                Poll::Ready(input) => Poll::Ready(input),
                Poll::Pending => this.poll_remote(cx),
            }
        } else {
            match this.poll_remote(cx) {
                Poll::Ready(input) => Poll::Ready(input),
                Poll::Pending => this.local.poll_next(cx),
            }
        };
        this.local_first = !this.local_first;
        if input.is_pending() {
            // One writer: a load and a store, no locked instruction.
            this.waits.store(this.waits.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        }
        input.map(Some)
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
    /// Set for in-process sessions on the realm's thread, which take
    /// their messages by direct call; `outbound` then only carries the
    /// closing.
    direct: Option<DirectLink>,
    /// The gate of the session's connection, if it can be slowed.
    gate: Option<Arc<Gate>>,
}

/// The realm actor: it drives the realm's [`Routing`], shared with the
/// realm's [`LocalInput`] so that a session on this thread can have its
/// input routed at once (see [`super::direct`]), and keeps the timers.
pub struct RealmActor {
    routing: Arc<Shared>,
    /// What sessions on this thread send (see [`super::direct`]).
    local: Rc<LocalInput>,
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
    fn new(core: RealmCore, local: Rc<LocalInput>, flow: FlowSettings, waits: Arc<AtomicU64>) -> Self {
        let routing = Arc::new(std::sync::Mutex::new(Routing::new(core, flow, waits)));
        local.attach(routing.clone());
        RealmActor { routing, local, timer_at: None, idle_timeout: None, idle_since: Some(Instant::now()) }
    }

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

impl Actor for RealmActor {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        // Nothing may keep talking into a realm that is gone.
        let mut routing = lock(&self.routing);
        routing.stopped = true;
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
            // On this thread the session also sends through the realm's
            // local input; wherever it is, the realm keeps its link, which
            // hands it messages whenever the realm routes on its thread.
            let direct = msg.direct.and_then(|offer| {
                offer.claim(&self.local);
                offer.link()
            });
            msg.outbound.configure(id, routing.flow.max_queued_bytes);
            routing.peers.insert(id, Peer { outbound: msg.outbound, direct, gate: msg.gate });
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

impl StreamHandler<RealmInput> for RealmActor {
    fn handle(&mut self, input: RealmInput, ctx: &mut Self::Context) {
        let chores = {
            let mut routing = lock(&self.routing);
            routing.route(input);
            routing = routing::deliver(&self.routing, routing);
            routing.has_chores()
        };
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
        // Never ends while the actor runs (it holds the local input).
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{FutureExt as _, StreamExt as _};

    fn leave_of(input: Option<Option<RealmInput>>) -> Id {
        match input {
            Some(Some(RealmInput::Leave { session })) => session,
            other => panic!("expected a leave, got {other:?}"),
        }
    }

    #[test]
    fn local_and_remote_inputs_take_turns() {
        let (remote, receiver) = mpsc::unbounded_channel();
        let local = Rc::new(LocalInput::default());
        let mut inputs = InputStream::new(receiver, local.clone());
        for session in [1, 2, 3] {
            local.send(RealmInput::Leave { session });
            remote.send(RealmInput::Leave { session: 10 + session }).unwrap();
        }
        let order: Vec<Id> = (0..6).map(|_| leave_of(inputs.next().now_or_never())).collect();
        assert_eq!(order, [1, 11, 2, 12, 3, 13]);
        assert!(inputs.next().now_or_never().is_none(), "nothing left: pending");
    }

    #[test]
    fn local_input_is_still_served_when_every_handle_is_gone() {
        let (remote, receiver) = mpsc::unbounded_channel();
        let local = Rc::new(LocalInput::default());
        let mut inputs = InputStream::new(receiver, local.clone());
        drop(remote);
        assert!(inputs.next().now_or_never().is_none(), "pending, not ended");
        local.send(RealmInput::Leave { session: 4 });
        assert_eq!(leave_of(inputs.next().now_or_never()), 4);
    }
}
