//! The actor that owns one realm's routing core.
//!
//! Sessions (remote or local) join with [`Join`], then send their messages
//! and their leaving through a [`RealmHandle`]'s input queue. It hands
//! each input to the [`RealmCore`] and delivers the resulting effects to
//! the sessions: into their outbound queues, or, for in-process sessions
//! on the realm's own thread, by a direct call (see [`super::direct`]).
//! One owner, no locks: the realm's state is only ever touched here.

use crate::router::FastMap as HashMap;

use actix::{
    Actor, ActorContext as _, Addr, AsyncContext as _, Context, Handler, Message as ActixMessage,
    MessageResult, SpawnHandle, StreamHandler,
};
use tokio::sync::mpsc;

use super::direct::{DirectOffer, DirectPeer, LocalInput};
use super::flow::{weight, FlowSettings, Gate, Outbound, Queued, Stall, StallPolicy};
use super::outbox::{Effect, Outbox};
use super::realm::{Member, RealmCore};
use crate::protocol::{errors, Id, Message};
use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a realm sends to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum ToPeer {
    /// A message to deliver.
    Message(Message),
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
#[derive(ActixMessage)]
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
        message: Message,
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
    pub fn send(&self, session: Id, message: Message, size: usize) -> bool {
        self.inner.input.send(RealmInput::Inbound { session, message, size }).is_ok()
    }

    /// Tells the realm a session left.
    pub fn leave(&self, session: Id) {
        let _ = self.inner.input.send(RealmInput::Leave { session });
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
    waits: Rc<Cell<u64>>,
}

impl InputStream {
    fn new(receiver: mpsc::UnboundedReceiver<RealmInput>, local: Rc<LocalInput>) -> Self {
        InputStream { receiver: Some(receiver), local, local_first: true, waits: Rc::default() }
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
            this.waits.set(this.waits.get() + 1);
        }
        input.map(Some)
    }
}

/// Close every session with GOODBYE `wamp.close.system_shutdown`. The reply
/// is how many sessions were told.
#[derive(ActixMessage)]
#[rtype(result = "usize")]
pub struct Shutdown;

/// How the realm reaches one joined session.
struct Peer {
    outbound: Outbound,
    /// Set for in-process sessions on the realm's thread, which take
    /// their messages by direct call; `outbound` then only carries the
    /// closing.
    direct: Option<Rc<dyn DirectPeer>>,
    /// The gate of the session's connection, if it can be slowed.
    gate: Option<Arc<Gate>>,
}

/// How many inputs in a row, routed without a pause, may use one clock
/// reading.
const CLOCK_READING_USES: u32 = 64;

/// The realm actor.
pub struct RealmActor {
    core: RealmCore,
    peers: HashMap<Id, Peer>,
    outbox: Outbox,
    /// What sessions on this thread send (see [`super::direct`]).
    local: Rc<LocalInput>,
    flow: FlowSettings,
    /// The origin of the core's clock.
    origin: Instant,
    /// The core's clock, as last read.
    clock: Duration,
    /// How many times the realm had waited for input when the clock was
    /// last read, and how many inputs have used that reading since.
    clock_read_after: (u64, u32),
    /// How many times the realm has waited for input (see [`InputStream`]).
    waits: Rc<Cell<u64>>,
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
    fn new(mut core: RealmCore, local: Rc<LocalInput>, flow: FlowSettings, waits: Rc<Cell<u64>>) -> Self {
        // The core's clock starts now (`origin`).
        core.set_wall_origin(std::time::SystemTime::now());
        RealmActor {
            core,
            peers: HashMap::default(),
            outbox: Outbox::new(),
            local,
            flow,
            origin: Instant::now(),
            clock: Duration::ZERO,
            clock_read_after: (u64::MAX, 0),
            waits,
            timer_at: None,
            idle_timeout: None,
            idle_since: Some(Instant::now()),
        }
    }

    /// Notes that the realm has no session left and arms the idle check.
    fn note_idle(&mut self, ctx: &mut Context<Self>) {
        let Some(timeout) = self.idle_timeout else { return };
        if self.core.session_count() > 0 || !self.peers.is_empty() {
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
                tracing::info!(realm = %self.core.name(), "no session for {timeout:?}: stopping");
                ctx.stop();
            }
            Some(since) => {
                ctx.run_later(timeout.saturating_sub(since.elapsed()), Self::stop_if_idle);
            }
            None => {}
        }
    }

    /// Tells the core the time, as read now.
    fn tick_clock(&mut self) -> Duration {
        self.clock = self.origin.elapsed();
        self.clock_read_after = (self.waits.get(), 0);
        self.core.set_clock(self.clock);
        self.clock
    }

    /// Tells the core the time for an input that needs it: read again
    /// once the realm has waited for input since the last reading, or
    /// after [`CLOCK_READING_USES`] inputs. Reading the clock costs about
    /// 1% of routing a small call, and timeouts are counted in
    /// milliseconds: a busy realm reuses a reading for a run of inputs it
    /// routes without a pause, so a call's timeout may start that run's
    /// routing time early.
    fn tick_clock_for_input(&mut self) -> Duration {
        let (waits, uses) = self.clock_read_after;
        if waits != self.waits.get() || uses >= CLOCK_READING_USES {
            return self.tick_clock();
        }
        self.clock_read_after.1 += 1;
        self.clock
    }

    /// Arms a timer for the core's earliest deadline, unless one fires
    /// before it anyway.
    fn arm_deadline_timer(&mut self, now: Duration, ctx: &mut Context<Self>) {
        let Some(deadline) = self.core.next_deadline() else { return };
        if let Some((at, timer)) = self.timer_at {
            if at <= deadline {
                return;
            }
            ctx.cancel_future(timer);
        }
        let timer = ctx.run_later(deadline.saturating_sub(now), |act, ctx| {
            act.timer_at = None;
            let now = act.tick_clock();
            act.core.expire(&mut act.outbox);
            act.deliver(None, ctx);
            act.arm_deadline_timer(now, ctx);
        });
        self.timer_at = Some((deadline, timer));
    }

    /// Carries out the outbox's effects. `producer` is the session whose
    /// input caused them: a destination that fills up holds it.
    fn deliver(&mut self, producer: Option<Id>, ctx: &mut Context<Self>) {
        // The producer's gate, looked up when a message is first queued
        // (a delivery by direct call never needs it).
        let mut holder: Option<Option<(Id, Arc<Gate>)>> = None;
        let mut overflowed = Vec::new();
        for effect in self.outbox.drain() {
            match effect {
                Effect::Send { to, message } => {
                    let Some(peer) = self.peers.get(&to) else { continue };
                    if let Some(direct) = &peer.direct {
                        // Straight in, unless earlier deliveries wait in
                        // the queue or the session is too busy.
                        if peer.outbound.is_idle() && direct.ready() {
                            direct.deliver(ToPeer::Message(message));
                            continue;
                        }
                    }
                    let weight = weight(&message);
                    let producer = holder.get_or_insert_with(|| {
                        producer.and_then(|id| Some((id, self.peers.get(&id)?.gate.clone()?)))
                    });
                    let producer = producer.as_ref().map(|(id, gate)| (*id, gate));
                    match peer.outbound.push(ToPeer::Message(message), weight, producer) {
                        Queued::Full { arm_timer: true } => {
                            Self::arm_stall_timer(to, self.flow.stall_timeout, ctx)
                        }
                        Queued::Dropped => {
                            tracing::trace!(realm = %self.core.name(), session = to, "event dropped: stalled")
                        }
                        Queued::Overflow => overflowed.push(to),
                        Queued::Accepted | Queued::Full { .. } | Queued::Gone => {}
                    }
                }
                Effect::Close { to, reason, message } => {
                    if let Some(peer) = self.peers.remove(&to) {
                        peer.outbound.release_producers();
                        peer.outbound.push(ToPeer::Close { reason, message }, 0, None);
                    }
                }
            }
        }
        for session in overflowed {
            let explanation = format!(
                "the session stopped reading: its outbound queue passed twice {} bytes with messages \
                 other than events, which the drop policy does not drop",
                self.flow.max_queued_bytes
            );
            self.end_stalled(session, explanation, ctx);
        }
    }

    /// Ends a session whose queue stalled: what is queued is discarded, its
    /// connection is told at once, and it leaves the realm (its pending
    /// calls fail with `wamp.error.canceled`).
    fn end_stalled(&mut self, session: Id, explanation: String, ctx: &mut Context<Self>) {
        let Some(peer) = self.peers.remove(&session) else { return };
        tracing::warn!(
            realm = %self.core.name(),
            session,
            queued = peer.outbound.queued_bytes(),
            %explanation,
            "closing a session that stopped reading"
        );
        peer.outbound.end_stalled(explanation);
        self.core.leave(session, &mut self.outbox);
        self.deliver(None, ctx);
        if self.peers.is_empty() {
            self.note_idle(ctx);
        }
    }

    fn arm_stall_timer(session: Id, after: Duration, ctx: &mut Context<Self>) {
        ctx.run_later(after, move |act, ctx| act.check_stall(session, ctx));
    }

    /// A session's queue went over its limit a while ago: if it is still
    /// full after the stall timeout, apply the realm's policy.
    fn check_stall(&mut self, session: Id, ctx: &mut Context<Self>) {
        let Some(peer) = self.peers.get(&session) else { return };
        let timeout = self.flow.stall_timeout;
        match peer.outbound.check_stall(timeout) {
            Stall::Cleared => {}
            Stall::Pending(left) => Self::arm_stall_timer(session, left, ctx),
            Stall::Stalled => match self.flow.stall_policy {
                StallPolicy::Close => {
                    let explanation = format!(
                        "the session stopped reading: its outbound queue stayed over {} bytes for {}s",
                        self.flow.max_queued_bytes,
                        timeout.as_secs_f64()
                    );
                    self.end_stalled(session, explanation, ctx);
                }
                StallPolicy::Drop => {
                    tracing::warn!(
                        realm = %self.core.name(),
                        session,
                        "dropping events for a session whose queue stayed full for {timeout:?}"
                    );
                    peer.outbound.start_dropping();
                }
            },
        }
    }
}

impl Actor for RealmActor {
    type Context = Context<Self>;

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        // Nothing may keep talking into a realm that is gone.
        for (_, peer) in self.peers.drain() {
            peer.outbound.release_producers();
            let close = ToPeer::Close {
                reason: errors::CLOSE_SYSTEM_SHUTDOWN.into(),
                message: "the realm stopped".into(),
            };
            peer.outbound.push(close, 0, None);
        }
        tracing::info!(realm = %self.core.name(), "realm stopped");
    }

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(realm = %self.core.name(), "realm started");
        if let Some(timeout) = self.idle_timeout {
            ctx.run_later(timeout, Self::stop_if_idle);
        }
    }
}

impl Handler<Join> for RealmActor {
    type Result = MessageResult<Join>;

    fn handle(&mut self, msg: Join, ctx: &mut Self::Context) -> Self::Result {
        let id = self.core.join(msg.info, &mut self.outbox);
        let direct = msg.direct.and_then(|offer| offer.claim(&self.local));
        msg.outbound.configure(id, self.flow.max_queued_bytes);
        self.peers.insert(id, Peer { outbound: msg.outbound, direct, gate: msg.gate });
        self.idle_since = None;
        // The on_join event, to the sessions that asked for it.
        self.deliver(None, ctx);
        MessageResult(id)
    }
}

impl StreamHandler<RealmInput> for RealmActor {
    fn handle(&mut self, input: RealmInput, ctx: &mut Self::Context) {
        match input {
            RealmInput::Inbound { session, message, size } => {
                // Only a call reads the time (for its deadline), and only
                // a call can bring the next deadline forward: other inputs
                // spare the clock and the timer.
                let now = self.core.reads_clock(&message).then(|| self.tick_clock_for_input());
                // Only a CALL can bring the next deadline forward.
                let now = now.filter(|_| matches!(message, Message::Call { .. }));
                self.core.handle(session, message, &mut self.outbox);
                self.deliver(Some(session), ctx);
                if size > 0 {
                    if let Some(gate) = self.peers.get(&session).and_then(|p| p.gate.as_ref()) {
                        gate.routed(size);
                    }
                }
                if let Some(now) = now {
                    self.arm_deadline_timer(now, ctx);
                }
            }
            RealmInput::Leave { session } => {
                if let Some(peer) = self.peers.remove(&session) {
                    peer.outbound.release_producers();
                }
                self.core.leave(session, &mut self.outbox);
                self.deliver(None, ctx);
            }
        }
        if self.peers.is_empty() {
            self.note_idle(ctx);
        }
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The inputs never end (sessions on this thread may always send);
        // the actor runs until stopped.
    }
}

impl Handler<Shutdown> for RealmActor {
    type Result = usize;

    fn handle(&mut self, _msg: Shutdown, ctx: &mut Self::Context) -> usize {
        let closed = self.core.close_all(
            errors::CLOSE_SYSTEM_SHUTDOWN,
            "the router is shutting down",
            &mut self.outbox,
        );
        self.deliver(None, ctx);
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
