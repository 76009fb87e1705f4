//! A realm's routing state and the routing of one input, apart from the
//! actor that drives it.
//!
//! Sessions route their input on their own threads, in their own tasks,
//! when nothing else holds the state (see [`super::super::direct`]); the
//! actor routes what its shared queue brings. Either way the same code
//! runs here. What needs the actor's context (timers, the idle check) is
//! left as [`Chores`] for the actor's next turn.
//!
//! Routing an input leaves its effects in the outbox; [`deliver`] carries
//! them out. A message for a session on the routing thread that takes
//! its deliveries by call is handed over with the routing state
//! released, so no handler ever runs while the routing state is held.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use futures_util::task::AtomicWaker;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use super::{Peer, RealmInput, ToPeer};
use crate::protocol::{Id, WampMessage};
use crate::router::clock::Clock;
use crate::router::direct::DirectLink;
use crate::router::flow::{weight, FlowSettings, Gate, Queued, Stall, StallPolicy, WakeWhenRouted};
use crate::router::outbox::{Effect, Outbox};
use crate::router::realm::RealmCore;
use crate::router::IdMap;

/// How many inputs in a row, routed without a pause, may use one clock
/// reading.
const CLOCK_READING_USES: u32 = 64;

/// What routing left for the actor, which has the timers.
#[derive(Debug, Default)]
pub(super) struct Chores {
    /// Sessions whose outbound queue filled: look again after this long.
    pub(super) stall_checks: Vec<(Id, Duration)>,
    /// A CALL may have brought the earliest deadline forward: the time it
    /// was routed at.
    pub(super) deadline: Option<Duration>,
    /// A session went: the realm may now be idle.
    pub(super) idle_check: bool,
}

impl Chores {
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.stall_checks.is_empty() && self.deadline.is_none() && !self.idle_check
    }
}

// The routing state holds nothing tied to a thread (a session that takes
// its deliveries by call is reached through a `DirectLink`, plain data),
// so a realm could be routed from any thread under a lock. Checked here.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Routing>();
};

/// A realm's routing state, behind the lock that whoever routes takes
/// (the realm's task, or a session routing its input at once, on any
/// thread), and how routing done outside the realm's task tells it that
/// chores wait.
pub(crate) struct Shared {
    state: Mutex<Routing>,
    /// Routing done outside the realm's task left it chores.
    chores: AtomicBool,
    /// The realm's task, waiting for chores.
    chores_waker: AtomicWaker,
    /// Unique in the process: names the realm in each thread's table of
    /// inputs (see [`crate::router::direct::LocalInput`]).
    serial: u64,
    /// How many inputs wait in the shared queue (`Routing::receiver`): a
    /// session's own, counted before it sends them, are always seen by
    /// its later passes, which spare themselves the queue's atomics when
    /// there are none.
    in_shared_queue: AtomicUsize,
}

/// Realm serials are unique in the process.
static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

impl Shared {
    pub(crate) fn new(routing: Routing) -> Self {
        Shared {
            state: Mutex::new(routing),
            chores: AtomicBool::new(false),
            chores_waker: AtomicWaker::new(),
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            in_shared_queue: AtomicUsize::new(0),
        }
    }

    /// The realm's serial, unique in the process.
    #[inline]
    pub(crate) fn serial(&self) -> u64 {
        self.serial
    }

    /// Counts inputs about to be put in the shared queue.
    #[inline]
    pub(crate) fn forwarded(&self, n: usize) {
        self.in_shared_queue.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts inputs taken from the shared queue (or that never reached
    /// it).
    #[inline]
    pub(crate) fn taken(&self, n: usize) {
        self.in_shared_queue.fetch_sub(n, Ordering::Relaxed);
    }

    /// Tells the realm's task that routing left it chores.
    pub(crate) fn chores_due(&self) {
        if !self.chores.swap(true, Ordering::AcqRel) {
            self.chores_waker.wake();
        }
    }

    /// Ready once routing done outside the realm's task left it chores.
    pub(crate) fn poll_chores(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.chores_waker.register(cx.waker());
        if self.chores.swap(false, Ordering::AcqRel) {
            return std::task::Poll::Ready(());
        }
        std::task::Poll::Pending
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("serial", &self.serial).finish_non_exhaustive()
    }
}

/// The routing state, locked. The sessions on other threads that routing
/// gives messages to are woken once it is released, not while it is held
/// ([`WakeWhenRouted`]).
pub(crate) struct Held<'a> {
    // Dropped in this order: the lock first, then the wake-ups.
    guard: MutexGuard<'a, Routing>,
    _wakes: WakeWhenRouted,
}

impl std::ops::Deref for Held<'_> {
    type Target = Routing;
    #[inline(always)]
    fn deref(&self) -> &Routing {
        &self.guard
    }
}

impl std::ops::DerefMut for Held<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Routing {
        &mut self.guard
    }
}

/// Locks the routing state. Nothing panics while it is held (handlers run
/// with it released), but if something did, the state stays usable: a
/// realm keeps serving its other sessions.
#[inline(always)]
pub(crate) fn lock(cell: &Shared) -> Held<'_> {
    let _wakes = WakeWhenRouted::start();
    Held { guard: cell.state.lock().unwrap_or_else(PoisonError::into_inner), _wakes }
}

/// Locks the routing state if nothing else holds it.
#[inline(always)]
pub(crate) fn try_lock(cell: &Shared) -> Option<Held<'_>> {
    let guard = match cell.state.try_lock() {
        Ok(held) => held,
        Err(TryLockError::Poisoned(held)) => held.into_inner(),
        Err(TryLockError::WouldBlock) => return None,
    };
    Some(Held { guard, _wakes: WakeWhenRouted::start() })
}

/// The session a destination that fills up holds, and its gate (`None`
/// when there is none to hold).
type Holder = Option<(Id, Arc<Gate>)>;

/// One realm's routing state.
pub(crate) struct Routing {
    pub(super) core: RealmCore,
    pub(super) peers: IdMap<Peer>,
    outbox: Outbox,
    pub(super) flow: FlowSettings,
    /// The clock the core's time is read from.
    source: Clock,
    /// The core's clock, as last read.
    clock: Duration,
    /// How many times the realm had waited for input when the clock was
    /// last read, and how many inputs have used that reading since.
    clock_read_after: (u64, u32),
    /// How many times the realm has waited for input (see
    /// [`super::InputStream`]).
    waits: Arc<AtomicU64>,
    /// When the actor's deadline timer fires, if one is armed.
    pub(super) timer_at: Option<Duration>,
    pub(super) chores: Chores,
    /// The session whose input caused the effects being delivered: a
    /// destination that fills up holds it.
    producer: Option<Id>,
    /// The producer's gate, looked up when a message is first queued (a
    /// delivery by direct call never needs it).
    holder: Option<Holder>,
    /// Sessions whose queue overflowed while effects were delivered: they
    /// are ended once the effects are out.
    overflowed: Vec<Id>,
    /// What sessions send from threads where they cannot route at once:
    /// taken by whoever routes (see [`crate::router::direct::LocalInput`]),
    /// so that a session's later input, routed at once, never overtakes
    /// it. `None` once the realm stopped.
    pub(super) receiver: Option<mpsc::UnboundedReceiver<RealmInput>>,
    /// The realm's task stopped: nothing is routed any more.
    pub(crate) stopped: bool,
}

/// Carries out the effects routing left in the outbox, in order, and
/// returns the routing state once they are out. A message for a session
/// on this thread that takes its deliveries by call is handed over with
/// the routing state released (`routing` is unlocked, and `cell` locked
/// again after); a session that refuses it (it takes no delivery now) gets it
/// in its queue, as it gets everything after it until the queue is
/// empty. The message goes from the outbox to the session without
/// another copy: it is 112 bytes.
#[inline(always)]
pub(crate) fn deliver<'a>(cell: &'a Shared, mut routing: Held<'a>) -> Held<'a> {
    loop {
        let Some(effect) = routing.outbox.pop() else {
            if routing.end_overflowed() {
                continue;
            }
            // A session left, or was closed for what it sent.
            routing.chores.idle_check |= routing.peers.is_empty();
            return routing;
        };
        match effect {
            Effect::Send { to, message } => {
                let state = &mut *routing;
                let Some(peer) = state.peers.get(&to) else { continue };
                // Handed over, unless earlier deliveries wait in the
                // queue or the session is on another thread.
                let direct =
                    peer.direct.as_ref().filter(|_| peer.outbound.is_idle()).and_then(DirectLink::peer);
                let Some(direct) = direct else {
                    let queued = push(peer, message, (&mut state.holder, state.producer), &state.peers);
                    state.note_queued(to, queued);
                    continue;
                };
                drop(routing);
                let refused = direct.deliver(message).err();
                drop(direct);
                routing = lock(cell);
                if let Some(message) = refused {
                    routing.queue(to, message);
                }
            }
            Effect::Close { to, reason, message } => {
                if let Some(peer) = routing.peers.remove(&to) {
                    peer.outbound.release_producers();
                    peer.outbound.push(ToPeer::Close { reason, message }, 0, None);
                }
            }
        }
    }
}

/// Routes what waits in the realm's shared queue, in order: a session
/// routing on its own thread does so first, so that
/// what it queued there before is routed before what it sends now.
#[inline]
pub(crate) fn route_shared<'a>(cell: &'a Shared, mut routing: Held<'a>) -> Held<'a> {
    if cell.in_shared_queue.load(Ordering::Relaxed) == 0 {
        return routing;
    }
    while let Some(input) = routing.receiver.as_mut().and_then(|r| r.try_recv().ok()) {
        cell.taken(1);
        routing.route(input);
        routing = deliver(cell, routing);
    }
    routing
}

impl Routing {
    pub(super) fn new(mut core: RealmCore, flow: FlowSettings, waits: Arc<AtomicU64>) -> Self {
        // The core's clock starts now (`source`).
        core.set_wall_origin(std::time::SystemTime::now());
        let source = Clock::start();
        core.set_clock_resolution(source.resolution());
        Routing {
            core,
            peers: IdMap::default(),
            outbox: Outbox::new(),
            flow,
            source,
            clock: Duration::ZERO,
            clock_read_after: (u64::MAX, 0),
            waits,
            timer_at: None,
            chores: Chores::default(),
            producer: None,
            holder: None,
            overflowed: Vec::new(),
            receiver: None,
            stopped: false,
        }
    }

    /// The realm's name.
    pub(super) fn name(&self) -> &str {
        self.core.name()
    }

    /// Whether routing left the actor something to do.
    #[inline]
    pub(crate) fn has_chores(&self) -> bool {
        !self.chores.is_empty()
    }

    /// Where the core puts its effects, for the actor's own requests.
    pub(super) fn outbox(&mut self) -> (&mut RealmCore, &mut Outbox) {
        (&mut self.core, &mut self.outbox)
    }

    /// Tells the core the time, as read now.
    pub(super) fn tick_clock(&mut self) -> Duration {
        self.clock = self.source.now();
        self.clock_read_after = (self.waits.load(Ordering::Relaxed), 0);
        self.core.set_clock(self.clock);
        self.clock
    }

    /// The next input that needs the clock reads it again, whatever the
    /// realm did meanwhile: for inputs routed outside the realm's own
    /// turns, which do not count as the realm waiting.
    pub(crate) fn forget_clock(&mut self) {
        self.clock_read_after = (u64::MAX, 0);
    }

    /// Tells the core the time for an input that needs it: read again
    /// once the realm has waited for input since the last reading, or
    /// after [`CLOCK_READING_USES`] inputs. Reading even the coarse clock
    /// (see [`Clock`]) costs something, and timeouts are counted in
    /// milliseconds: a busy realm reuses a reading for a run of inputs it
    /// routes without a pause, so a call's timeout may start that run's
    /// routing time early.
    fn tick_clock_for_input(&mut self) -> Duration {
        let (waits, uses) = self.clock_read_after;
        if waits != self.waits.load(Ordering::Relaxed) || uses >= CLOCK_READING_USES {
            return self.tick_clock();
        }
        self.clock_read_after.1 += 1;
        self.clock
    }

    /// Routes one input; [`deliver`] must carry out what it caused.
    /// Inlined into both callers (the actor's turn and a session's
    /// routing at once): out of line it costs the WebSocket path about 2%
    /// of a call.
    #[inline(always)]
    pub(crate) fn route(&mut self, input: RealmInput) {
        match input {
            RealmInput::Inbound { session, message, size } => {
                // Only a call reads the time (for its deadline), and only
                // a call can bring the next deadline forward: other inputs
                // spare the clock and the timer.
                let now = self.core.reads_clock(&message).then(|| self.tick_clock_for_input());
                let now = now.filter(|_| matches!(message, WampMessage::Call { .. }));
                self.core.handle(session, message, &mut self.outbox);
                if size > 0 {
                    if let Some(gate) = self.peers.get(&session).and_then(|p| p.gate.as_ref()) {
                        gate.routed(size);
                    }
                }
                if let Some(now) = now {
                    self.note_deadline(now);
                }
                self.produced_by(Some(session));
            }
            RealmInput::Leave { session } => {
                if let Some(peer) = self.peers.remove(&session) {
                    peer.outbound.release_producers();
                }
                self.core.leave(session, &mut self.outbox);
                self.produced_by(None);
            }
        }
    }

    /// After a CALL routed at `now`: the timer is for the actor to arm if
    /// the earliest deadline comes before the armed one.
    fn note_deadline(&mut self, now: Duration) {
        let Some(deadline) = self.core.next_deadline() else { return };
        if self.timer_at.is_some_and(|at| at <= deadline) {
            return;
        }
        self.chores.deadline = Some(now);
    }

    /// Ends what timed out (the actor's deadline timer fired); returns
    /// the time. [`deliver`] must follow.
    pub(super) fn expire(&mut self) -> Duration {
        self.timer_at = None;
        let now = self.tick_clock();
        self.core.expire(&mut self.outbox);
        self.produced_by(None);
        now
    }

    /// Names the session whose input caused what is in the outbox: a
    /// destination that fills up holds it.
    #[inline]
    pub(super) fn produced_by(&mut self, producer: Option<Id>) {
        self.producer = producer;
        self.holder = None;
    }

    /// Ends the first session whose queue overflowed while effects were
    /// delivered, if any; what its leaving causes is then in the outbox.
    fn end_overflowed(&mut self) -> bool {
        if self.overflowed.is_empty() {
            return false;
        }
        let session = self.overflowed.remove(0);
        let explanation = format!(
            "the session stopped reading: its outbound queue passed twice {} bytes with messages \
             other than events, which the drop policy does not drop",
            self.flow.max_queued_bytes
        );
        self.end_stalled(session, explanation);
        // What its leaving causes has no producer to hold.
        self.produced_by(None);
        true
    }

    /// Queues a message in its session's outbound queue.
    fn queue(&mut self, to: Id, message: WampMessage) {
        let Some(peer) = self.peers.get(&to) else { return };
        let queued = push(peer, message, (&mut self.holder, self.producer), &self.peers);
        self.note_queued(to, queued);
    }

    /// What a queued message's destination needs next.
    #[inline(always)]
    fn note_queued(&mut self, to: Id, queued: Queued) {
        match queued {
            Queued::Full { arm_timer: true } => self.chores.stall_checks.push((to, self.flow.stall_timeout)),
            Queued::Dropped => {
                tracing::trace!(realm = %self.core.name(), session = to, "event dropped: stalled")
            }
            Queued::Overflow => self.overflowed.push(to),
            Queued::Accepted | Queued::Full { .. } | Queued::Gone => {}
        }
    }

    /// Ends a session whose queue stalled: what is queued is discarded, its
    /// connection is told at once, and it leaves the realm (its pending
    /// calls fail with `wamp.error.canceled`). What its leaving causes
    /// waits in the outbox.
    fn end_stalled(&mut self, session: Id, explanation: String) {
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
    }

    /// A session's queue went over its limit a while ago: if it is still
    /// full after the stall timeout, apply the realm's policy.
    pub(super) fn check_stall(&mut self, session: Id) {
        let Some(peer) = self.peers.get(&session) else { return };
        let timeout = self.flow.stall_timeout;
        match peer.outbound.check_stall(timeout) {
            Stall::Cleared => {}
            Stall::Pending(left) => self.chores.stall_checks.push((session, left)),
            Stall::Stalled => match self.flow.stall_policy {
                StallPolicy::Close => {
                    let explanation = format!(
                        "the session stopped reading: its outbound queue stayed over {} bytes for {}s",
                        self.flow.max_queued_bytes,
                        timeout.as_secs_f64()
                    );
                    self.end_stalled(session, explanation);
                    self.produced_by(None);
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

/// Queues `message` in `peer`'s outbound queue, holding the producer
/// if the queue fills up: `holder` is the producer and its gate, looked
/// up in `peers` the first time.
#[inline(always)]
fn push(
    peer: &Peer,
    message: WampMessage,
    holder: (&mut Option<Holder>, Option<Id>),
    peers: &IdMap<Peer>,
) -> Queued {
    let weight = weight(&message);
    let (holder, producer) = holder;
    let holder =
        holder.get_or_insert_with(|| producer.and_then(|id| Some((id, peers.get(&id)?.gate.clone()?))));
    let producer = holder.as_ref().map(|(id, gate)| (*id, gate));
    peer.outbound.push(ToPeer::Message(message), weight, producer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Dict;
    use crate::router::direct::{DirectEntry, DirectPeer};
    use crate::router::flow::{outbound, Next, OutboundReceiver, Room};
    use crate::router::realm::RealmSettings;
    use std::cell::{Cell, OnceCell, RefCell};
    use std::rc::Rc;
    use std::sync::Weak;
    use std::task::{Context, Poll};

    /// A session on this thread that notes what it takes and whether the
    /// routing state was free meanwhile, and refuses its first `refuse`
    /// messages.
    #[derive(Default)]
    struct Recorder {
        routing: OnceCell<Weak<Shared>>,
        taken: RefCell<Vec<String>>,
        refuse: Cell<usize>,
        held_while_handling: Cell<usize>,
    }

    impl DirectPeer for Recorder {
        fn deliver(&self, message: WampMessage) -> Result<(), WampMessage> {
            let routing = self.routing.get().and_then(Weak::upgrade).expect("the realm's routing");
            if try_lock(&routing).is_none() {
                self.held_while_handling.set(self.held_while_handling.get() + 1);
            }
            if self.refuse.get() > 0 {
                self.refuse.set(self.refuse.get() - 1);
                return Err(message);
            }
            self.taken.borrow_mut().push(reason_of(&message));
            Ok(())
        }
    }

    fn message(reason: &str) -> WampMessage {
        WampMessage::Goodbye { details: Dict::new(), reason: reason.into() }
    }

    fn reason_of(message: &WampMessage) -> String {
        match message {
            WampMessage::Goodbye { reason, .. } => reason.to_string(),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn queued(receiver: &mut OutboundReceiver) -> Vec<String> {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut reasons = Vec::new();
        while let Poll::Ready(Next::Deliver(ToPeer::Message(m))) = receiver.poll_next(&mut cx, Room::Any) {
            reasons.push(reason_of(&m));
        }
        reasons
    }

    /// A realm's routing with sessions 1 and 2 on this thread: their
    /// queues, and their entries (kept while they take messages by call).
    fn realm_with(sessions: [&Rc<Recorder>; 2]) -> (Arc<Shared>, Vec<OutboundReceiver>, Vec<DirectEntry>) {
        let core = RealmCore::new("test", RealmSettings::default());
        let cell = Arc::new(Shared::new(Routing::new(core, FlowSettings::default(), Arc::default())));
        let mut receivers = Vec::new();
        let mut entries = Vec::new();
        for (id, session) in (1..).zip(sessions) {
            let _ = session.routing.set(Arc::downgrade(&cell));
            let (outbound, receiver) = outbound(usize::MAX);
            let entry = DirectEntry::new(session.clone());
            lock(&cell).peers.insert(id, Peer { outbound, direct: Some(entry.link()), gate: None });
            receivers.push(receiver);
            entries.push(entry);
        }
        (cell, receivers, entries)
    }

    #[test]
    fn sessions_take_their_messages_with_the_routing_state_free() {
        let (one, two) = (Rc::new(Recorder::default()), Rc::new(Recorder::default()));
        let (cell, mut queues, _entries) = realm_with([&one, &two]);
        let mut routing = lock(&cell);
        for (to, reason) in [(1, "a"), (2, "b"), (1, "c")] {
            routing.outbox.send(to, message(reason));
        }
        routing.produced_by(None);
        let routing = deliver(&cell, routing);
        assert!(routing.outbox.is_empty());
        drop(routing);
        assert_eq!(*one.taken.borrow(), ["a", "c"]);
        assert_eq!(*two.taken.borrow(), ["b"]);
        assert_eq!(one.held_while_handling.get() + two.held_while_handling.get(), 0);
        assert!(queued(&mut queues[0]).is_empty() && queued(&mut queues[1]).is_empty());
    }

    #[test]
    fn a_session_whose_entry_is_gone_gets_its_messages_in_its_queue() {
        let (one, two) = (Rc::new(Recorder::default()), Rc::new(Recorder::default()));
        let (cell, mut queues, mut entries) = realm_with([&one, &two]);
        drop(entries.remove(0));
        let mut routing = lock(&cell);
        for (to, reason) in [(1, "a"), (2, "b")] {
            routing.outbox.send(to, message(reason));
        }
        routing.produced_by(None);
        drop(deliver(&cell, routing));
        assert!(one.taken.borrow().is_empty());
        assert_eq!(queued(&mut queues[0]), ["a"]);
        assert_eq!(*two.taken.borrow(), ["b"]);
    }

    #[test]
    fn a_refused_message_and_those_after_it_wait_in_order_in_the_queue() {
        let (one, two) = (Rc::new(Recorder::default()), Rc::new(Recorder::default()));
        one.refuse.set(1);
        let (cell, mut queues, _entries) = realm_with([&one, &two]);
        let mut routing = lock(&cell);
        for (to, reason) in [(1, "a"), (2, "b"), (1, "c"), (2, "d"), (1, "e")] {
            routing.outbox.send(to, message(reason));
        }
        routing.produced_by(None);
        drop(deliver(&cell, routing));
        // The first session refused "a": it and everything after it for
        // that session wait in its queue, in order; the other session
        // still takes its messages by call.
        assert!(one.taken.borrow().is_empty());
        assert_eq!(queued(&mut queues[0]), ["a", "c", "e"]);
        assert_eq!(*two.taken.borrow(), ["b", "d"]);
        assert!(queued(&mut queues[1]).is_empty());
        // Its queue empty again, the session takes messages by call.
        let mut routing = lock(&cell);
        routing.outbox.send(1, message("f"));
        routing.produced_by(None);
        drop(deliver(&cell, routing));
        assert_eq!(*one.taken.borrow(), ["f"]);
        assert_eq!(one.held_while_handling.get() + two.held_while_handling.get(), 0);
    }
}
