//! Back-pressure: bounded outbound queues, and gates that slow producers.
//!
//! The rule is the one TCP follows: nothing is dropped for a peer that
//! keeps reading, and no queue grows without bound. Every session's
//! outbound queue ([`Outbound`]) is bounded in bytes. When the realm
//! queues a message that takes a destination over its limit, it holds the
//! *producer* of that message: the producer's [`Gate`] closes and its
//! connection stops reading its socket until the destination drains to
//! half its limit. A destination that stays full past the realm's stall
//! timeout is handled by the realm's [`StallPolicy`], which also opens
//! every gate it held.
//!
//! A gate also bounds what one connection can have on its way into the
//! realm ([`INBOUND_WINDOW`]), so the realm's input cannot grow faster than
//! the realm routes it either.
//!
//! Time is read here (when a queue became full) but never waited on: the
//! realm actor runs the stall timers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use serde::{Deserialize, Serialize};

use super::actor::ToPeer;
use super::IdMap;
use crate::protocol::{Dict, Id, Payload, Value, WampMessage};

/// How many bytes one connection may have on their way into its realm
/// (read from the socket, not yet routed) before it stops reading. One
/// message is always let through, whatever its size.
pub const INBOUND_WINDOW: usize = 4 * 1024 * 1024;

/// What a realm does with a session whose outbound queue stays full past
/// the stall timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StallPolicy {
    /// Close the session: its connection ends with a reason that names the
    /// cause, and calls it was answering fail with `wamp.error.canceled`.
    #[default]
    Close,
    /// Keep the session, but drop (and count) the events meant for it
    /// until its queue drains to half its limit. Other messages are still
    /// queued.
    Drop,
}

/// The back-pressure settings of one realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowSettings {
    /// The bytes a session's outbound queue may hold before its producers
    /// are slowed.
    pub max_queued_bytes: usize,
    /// How long a queue may stay full before the policy applies.
    pub stall_timeout: Duration,
    /// What happens then.
    pub stall_policy: StallPolicy,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            max_queued_bytes: 16 * 1024 * 1024,
            stall_timeout: Duration::from_secs(10),
            stall_policy: StallPolicy::Close,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing under these locks can panic half-way through an update.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The inbound side of one producer: open while nothing holds it and its
/// bytes on the way to their consumer are under [`INBOUND_WINDOW`].
///
/// A connection's reader waits on it before it reads the next message
/// ([`Gate::poll_open`]). The tasks of a client session wait on one before
/// they publish ([`Gate::poll_open_shared`]): an in-process session's gate
/// is the one the realm holds, a remote session's counts what waits for
/// its socket.
#[derive(Debug, Default)]
pub struct Gate {
    /// How many destinations hold this producer.
    held: AtomicUsize,
    /// Bytes sent on and not yet taken by the consumer.
    in_flight: AtomicUsize,
    /// Whether a task waits for the gate to open.
    waiting: AtomicBool,
    /// The one reader of a connection.
    waker: AtomicWaker,
    /// The tasks of a session (any number of them).
    tasks: Mutex<Vec<Waker>>,
    /// The producer's link is gone: the gate lets everyone through, and
    /// what waits finds out.
    ended: AtomicBool,
}

impl Gate {
    /// A new, open gate.
    pub fn new() -> Arc<Gate> {
        Arc::new(Gate::default())
    }

    /// Whether the reader may read the next message.
    pub fn is_open(&self) -> bool {
        self.held.load(Ordering::SeqCst) == 0 && self.in_flight.load(Ordering::SeqCst) < INBOUND_WINDOW
    }

    /// Whether a destination holds this producer.
    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::SeqCst) > 0
    }

    /// Ready once the gate is open; the reader's task is woken when it
    /// opens.
    pub fn poll_open(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_open() {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        self.waiting.store(true, Ordering::SeqCst);
        if self.is_open() {
            self.waiting.store(false, Ordering::SeqCst);
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Like [`Gate::poll_open`], for any number of tasks of one producer
    /// (each is woken when the gate opens), and also ready once the gate
    /// has [ended](Gate::end).
    pub fn poll_open_shared(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_open() || self.ended.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        {
            let mut tasks = lock(&self.tasks);
            if !tasks.iter().any(|w| w.will_wake(cx.waker())) {
                tasks.push(cx.waker().clone());
            }
        }
        self.waiting.store(true, Ordering::SeqCst);
        if self.is_open() || self.ended.load(Ordering::SeqCst) {
            self.wake();
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// The producer's link is gone: whatever waits on the gate is let
    /// through (to find the link gone), now and from now on.
    pub fn end(&self) {
        self.ended.store(true, Ordering::SeqCst);
        self.wake_all();
    }

    /// The reader sent `size` bytes on to the realm.
    pub fn admit(&self, size: usize) {
        self.in_flight.fetch_add(size, Ordering::SeqCst);
    }

    /// The realm routed a message of `size` bytes.
    pub fn routed(&self, size: usize) {
        self.in_flight.fetch_sub(size, Ordering::SeqCst);
        self.wake();
    }

    fn hold(&self) {
        self.held.fetch_add(1, Ordering::SeqCst);
    }

    fn release(&self) {
        self.held.fetch_sub(1, Ordering::SeqCst);
        self.wake();
    }

    fn wake(&self) {
        if self.waiting.load(Ordering::SeqCst) && self.is_open() {
            self.wake_all();
        }
    }

    fn wake_all(&self) {
        self.waiting.store(false, Ordering::SeqCst);
        self.waker.wake();
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        for task in tasks {
            task.wake();
        }
    }
}

/// Bytes counted in a [`Gate`] until this is dropped: a message on its way
/// through a queue whose consumer may drop it unread.
#[derive(Debug)]
pub struct Credit {
    gate: Arc<Gate>,
    size: usize,
}

impl Credit {
    /// Counts `size` bytes in `gate` until the credit is dropped.
    pub fn new(gate: &Arc<Gate>, size: usize) -> Credit {
        gate.admit(size);
        Credit { gate: gate.clone(), size }
    }
}

impl Drop for Credit {
    fn drop(&mut self) {
        self.gate.routed(self.size);
    }
}

/// What became of a message the realm queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// Queued; the queue is under its limit.
    Accepted,
    /// Queued, and the queue is over its limit: its producer is held. If
    /// `arm_timer`, no stall timer runs for the queue yet: the realm arms
    /// one that calls [`Outbound::check_stall`].
    Full {
        /// Whether the realm must arm the stall timer.
        arm_timer: bool,
    },
    /// Dropped and counted: the queue is stalled under the drop policy and
    /// the message was an event.
    Dropped,
    /// Not queued: the queue is stalled under the drop policy, and the
    /// message (not an event, so not droppable) would take it past twice
    /// its limit. The realm ends the session as the close policy would.
    Overflow,
    /// Dropped: the session's consumer is gone.
    Gone,
}

/// A stall timer's finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stall {
    /// The queue drained since: nothing to do.
    Cleared,
    /// The queue is full, but not yet for the whole timeout: check again
    /// after this long.
    Pending(Duration),
    /// The queue has been full for the whole timeout.
    Stalled,
}

/// What the consumer of a queue takes next.
#[derive(Debug)]
pub enum Next {
    /// The next delivery, in order.
    Deliver(ToPeer),
    /// The realm ended the session because its queue stayed full: end the
    /// connection at once, with this explanation.
    Stalled(String),
}

/// What a queue's consumer can take now ([`OutboundReceiver::poll_next`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Anything: the deliveries in order.
    Any,
    /// Answers to the session's own requests, past what waits in the other
    /// lane, and a closing that comes next: an in-process session running
    /// as many handlers as it may, whose running work may wait for them.
    Answers,
    /// Only a closing that comes next: a connection whose socket has no
    /// room. Its answers stay queued and counted like everything else, so
    /// a peer that sends requests and reads nothing fills its own queue,
    /// is held, and meets the stall policy.
    Closing,
}

/// A queue's deliveries, in order, in two lanes: answers to the session's
/// own requests ([`is_answer`]) and everything else. While the consumer
/// takes deliveries they are taken in order (by sequence number); while it
/// takes only answers ([`Room::Answers`]), answers go past what waits in
/// the other lane: they start no work, and the work running may be
/// waiting for them. WAMP orders neither results among themselves nor RPC
/// against PubSub, so an answer may overtake an event or an invocation.
#[derive(Debug, Default)]
struct Lanes {
    others: VecDeque<(u64, ToPeer, usize)>,
    answers: VecDeque<(u64, ToPeer, usize)>,
    next: u64,
}

impl Lanes {
    fn len(&self) -> usize {
        self.others.len() + self.answers.len()
    }

    fn clear(&mut self) {
        self.others.clear();
        self.answers.clear();
    }

    fn push_back(&mut self, to_peer: ToPeer, weight: usize) {
        let seq = self.next;
        self.next += 1;
        if is_answer(&to_peer) {
            self.answers.push_back((seq, to_peer, weight));
        } else {
            self.others.push_back((seq, to_peer, weight));
        }
    }

    /// The next delivery the consumer has `room` for: the earliest of
    /// both lanes, the earliest answer, or only a closing that comes next.
    fn pop(&mut self, room: Room) -> Option<(ToPeer, usize)> {
        let answer_first = match (self.others.front(), self.answers.front()) {
            (Some((other, ..)), Some((answer, ..))) => answer < other,
            (None, Some(_)) => true,
            (_, None) => false,
        };
        let closing_next = matches!(self.others.front(), Some((_, ToPeer::Close { .. }, _)));
        let entry = match room {
            Room::Any | Room::Answers if answer_first => self.answers.pop_front(),
            Room::Any => self.others.pop_front(),
            Room::Answers | Room::Closing if closing_next && !answer_first => self.others.pop_front(),
            Room::Answers => self.answers.pop_front(),
            Room::Closing => None,
        };
        entry.map(|(_, to_peer, weight)| (to_peer, weight))
    }
}

/// Whether a delivery answers a request of the session and starts no
/// work there: a final RESULT, an ERROR, an acknowledgement, or the
/// INTERRUPT of an invocation that runs. Partial results are not: they
/// fill a queue of their call, which holds the session when it is full.
fn is_answer(to_peer: &ToPeer) -> bool {
    matches!(to_peer, ToPeer::Message(message) if answers(message))
}

/// Whether a message to a client answers one of its requests and starts
/// no work there (see [`is_answer`]).
pub(crate) fn answers(message: &WampMessage) -> bool {
    match message {
        WampMessage::Result { details, .. } => !matches!(details.get("progress"), Some(Value::Bool(true))),
        WampMessage::Error { .. }
        | WampMessage::Published { .. }
        | WampMessage::Subscribed { .. }
        | WampMessage::Unsubscribed { .. }
        | WampMessage::Registered { .. }
        | WampMessage::Unregistered { .. }
        | WampMessage::Interrupt { .. } => true,
        _ => false,
    }
}

#[derive(Debug)]
struct State {
    session: Id,
    items: Lanes,
    bytes: usize,
    limit: usize,
    /// The consumer's task.
    consumer: Option<Waker>,
    /// The consumer is gone: nothing more is queued.
    gone: bool,
    /// The realm ended the session for stalling.
    stalled: Option<String>,
    /// Producers held by this queue.
    holding: IdMap<Arc<Gate>>,
    /// When the queue went over its limit, if it is over it.
    full_since: Option<Instant>,
    timer_armed: bool,
    /// Under the drop policy, while stalled: events are dropped.
    dropping: bool,
    dropped: u64,
}

impl State {
    fn release_all(&mut self) {
        for (_, gate) in self.holding.drain() {
            gate.release();
        }
    }

    /// The stall ending, reported once (the queue stays ended).
    fn take_stalled(&mut self) -> Option<String> {
        let explanation = self.stalled.take()?;
        self.gone = true;
        Some(explanation)
    }

    /// The next delivery the consumer has `room` for, no longer counted.
    fn pop(&mut self, room: Room) -> Option<ToPeer> {
        let (to_peer, weight) = self.items.pop(room)?;
        self.unqueued(weight);
        Some(to_peer)
    }

    /// A delivery of `weight` left the queue: the producers it held go
    /// once it has drained to half its limit.
    fn unqueued(&mut self, weight: usize) {
        self.bytes -= weight;
        if self.bytes <= self.limit / 2 && (self.full_since.is_some() || !self.holding.is_empty()) {
            self.full_since = None;
            self.release_all();
            if std::mem::take(&mut self.dropping) {
                let dropped = std::mem::take(&mut self.dropped);
                tracing::warn!(session = self.session, dropped, "queue drained: events flow again");
            }
        }
    }
}

/// The realm's end of a session's outbound queue.
#[derive(Debug, Clone)]
pub struct Outbound {
    state: Arc<Shared>,
}

/// The session's end of its outbound queue. Dropping it (however the
/// connection ends) releases every producer the queue held.
#[derive(Debug)]
pub struct OutboundReceiver {
    state: Arc<Shared>,
    /// The waker the consumer last left in the queue (see
    /// [`OutboundReceiver::poll_take`]).
    parked_with: Option<Waker>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// How many deliveries are queued, readable without the lock.
    queued: AtomicUsize,
    /// The consumer's waker is in the queue, and nothing has taken it
    /// since: the consumer will be woken by whatever comes. Set and
    /// cleared under the lock, read without it.
    parked: AtomicBool,
}

impl Shared {
    /// The consumer's task is to be woken when there is something; the
    /// consumer remembers the waker it left in `parked_with`.
    fn park(&self, state: &mut State, parked_with: &mut Option<Waker>, cx: &Context<'_>) {
        if !state.consumer.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            state.consumer = Some(cx.waker().clone());
        }
        if !parked_with.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *parked_with = Some(cx.waker().clone());
        }
        self.parked.store(true, Ordering::Release);
    }

    fn wake_consumer(&self, state: &mut State) {
        if let Some(waker) = state.consumer.take() {
            self.parked.store(false, Ordering::Release);
            wake_when_routed(waker);
        }
    }
}

impl std::ops::Deref for Shared {
    type Target = Mutex<State>;
    fn deref(&self) -> &Mutex<State> {
        &self.state
    }
}

thread_local! {
    /// How deep this thread holds a realm's routing lock (see
    /// [`WakeWhenRouted`]), with [`WAKES_KEPT`] set once it kept a
    /// wake-up for later.
    static ROUTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// The consumers woken meanwhile, to wake once it lets go.
    static DEFERRED: std::cell::RefCell<Vec<Waker>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// In [`ROUTING`]: wake-ups wait in [`DEFERRED`].
const WAKES_KEPT: u32 = 1 << 31;

/// Wakes `waker` now, or, while this thread holds a realm's routing lock
/// ([`WakeWhenRouted`]), once it lets go: a consumer on another thread
/// woken at once would often find the lock still held when it answers,
/// and wait for it.
fn wake_when_routed(waker: Waker) {
    let routing = ROUTING.with(std::cell::Cell::get);
    if routing & !WAKES_KEPT == 0 {
        return waker.wake();
    }
    let kept = DEFERRED.with(|deferred| match deferred.try_borrow_mut() {
        Ok(mut deferred) => {
            deferred.push(waker);
            None
        }
        Err(_) => Some(waker),
    });
    match kept {
        None => ROUTING.with(|r| r.set(routing | WAKES_KEPT)),
        Some(waker) => waker.wake(),
    }
}

/// Held beside a realm's routing lock, and dropped after it: the
/// consumers woken meanwhile on this thread are woken then.
#[derive(Debug)]
pub(crate) struct WakeWhenRouted(());

impl WakeWhenRouted {
    #[inline(always)]
    pub(crate) fn start() -> Self {
        ROUTING.with(|depth| depth.set(depth.get() + 1));
        WakeWhenRouted(())
    }
}

impl Drop for WakeWhenRouted {
    #[inline(always)]
    fn drop(&mut self) {
        let left = ROUTING.with(|depth| {
            let left = depth.get().wrapping_sub(1);
            depth.set(left);
            left
        });
        if left == WAKES_KEPT {
            wake_deferred();
        }
    }
}

/// Wakes what [`wake_when_routed`] kept.
#[cold]
#[inline(never)]
fn wake_deferred() {
    ROUTING.with(|r| r.set(r.get() & !WAKES_KEPT));
    let wakers =
        DEFERRED.with(|deferred| deferred.try_borrow_mut().ok().map(|mut d| std::mem::take(&mut *d)));
    let Some(mut wakers) = wakers else { return };
    for waker in wakers.drain(..) {
        waker.wake();
    }
    // The list's room is kept for the next time.
    DEFERRED.with(|deferred| {
        if let Ok(mut deferred) = deferred.try_borrow_mut() {
            if deferred.is_empty() {
                *deferred = wakers;
            }
        }
    });
}

/// A new queue holding at most `limit` bytes before it holds producers
/// (the realm may change the limit when the session joins).
pub fn outbound(limit: usize) -> (Outbound, OutboundReceiver) {
    let state = Mutex::new(State {
        session: 0,
        items: Lanes::default(),
        bytes: 0,
        limit,
        consumer: None,
        gone: false,
        stalled: None,
        holding: IdMap::default(),
        full_since: None,
        timer_armed: false,
        dropping: false,
        dropped: 0,
    });
    let state = Arc::new(Shared { state, queued: AtomicUsize::new(0), parked: AtomicBool::new(false) });
    (Outbound { state: state.clone() }, OutboundReceiver { state, parked_with: None })
}

impl Outbound {
    /// Names the session the queue belongs to and sets its limit (done by
    /// the realm when the session joins).
    pub fn configure(&self, session: Id, limit: usize) {
        let mut state = lock(&self.state);
        state.session = session;
        state.limit = limit;
    }

    /// Queues a delivery of about `weight` bytes. If that takes the queue
    /// over its limit, `producer` (the session whose message caused it,
    /// and its gate) is held until the queue drains.
    pub fn push(&self, to_peer: ToPeer, weight: usize, producer: Option<(Id, &Arc<Gate>)>) -> Queued {
        let mut state = lock(&self.state);
        if state.gone || state.stalled.is_some() {
            return Queued::Gone;
        }
        let over = state.bytes >= state.limit;
        if over && state.dropping {
            if matches!(to_peer, ToPeer::Message(WampMessage::Event { .. })) {
                state.dropped += 1;
                return Queued::Dropped;
            }
            if state.bytes.saturating_add(weight) > state.limit.saturating_mul(2) {
                return Queued::Overflow;
            }
        }
        state.items.push_back(to_peer, weight);
        self.state.queued.store(state.items.len(), Ordering::Release);
        state.bytes += weight;
        self.state.wake_consumer(&mut state);
        if state.bytes < state.limit {
            return Queued::Accepted;
        }
        if let Some((id, gate)) = producer {
            if !state.dropping && !state.holding.contains_key(&id) {
                gate.hold();
                state.holding.insert(id, gate.clone());
            }
        }
        if state.full_since.is_none() {
            state.full_since = Some(Instant::now());
        }
        let arm_timer = !state.timer_armed && !state.dropping;
        state.timer_armed |= arm_timer;
        Queued::Full { arm_timer }
    }

    /// The stall timer fired: has the queue been full for `timeout`? A
    /// `Pending` answer keeps the timer armed; the others disarm it.
    pub fn check_stall(&self, timeout: Duration) -> Stall {
        let mut state = lock(&self.state);
        let since = match state.full_since {
            Some(since) if !state.gone && state.stalled.is_none() && !state.dropping => since,
            _ => {
                state.timer_armed = false;
                return Stall::Cleared;
            }
        };
        let full_for = since.elapsed();
        if full_for < timeout {
            return Stall::Pending(timeout - full_for);
        }
        state.timer_armed = false;
        Stall::Stalled
    }

    /// Ends the session for stalling: everything queued is discarded, the
    /// producers are released and the consumer is told at once.
    pub fn end_stalled(&self, explanation: String) {
        let mut state = lock(&self.state);
        state.items.clear();
        self.state.queued.store(0, Ordering::Release);
        state.bytes = 0;
        state.stalled = Some(explanation);
        state.release_all();
        self.state.wake_consumer(&mut state);
    }

    /// Starts dropping events (the drop policy) and releases the
    /// producers, until the queue drains.
    pub fn start_dropping(&self) {
        let mut state = lock(&self.state);
        state.dropping = true;
        state.release_all();
    }

    /// The realm forgot the session: the producers it held go free.
    pub fn release_producers(&self) {
        lock(&self.state).release_all();
    }

    /// Whether nothing is queued (read without the lock).
    pub fn is_idle(&self) -> bool {
        self.state.queued.load(Ordering::Acquire) == 0
    }

    /// Bytes queued.
    pub fn queued_bytes(&self) -> usize {
        lock(&self.state).bytes
    }

    /// Events dropped under the drop policy so far.
    pub fn dropped_events(&self) -> u64 {
        lock(&self.state).dropped
    }
}

impl OutboundReceiver {
    /// The next delivery the consumer has `room` for; a stall ending is
    /// reported whatever the room. The task is woken when either arrives.
    pub fn poll_next(&mut self, cx: &mut Context<'_>, room: Room) -> Poll<Next> {
        let mut state = lock(&self.state);
        if let Some(explanation) = state.take_stalled() {
            return Poll::Ready(Next::Stalled(explanation));
        }
        if let Some(to_peer) = state.pop(room) {
            self.state.queued.store(state.items.len(), Ordering::Release);
            return Poll::Ready(Next::Deliver(to_peer));
        }
        self.state.park(&mut state, &mut self.parked_with, cx);
        Poll::Pending
    }

    /// Takes the deliveries in order, as [`OutboundReceiver::poll_next`]
    /// does with [`Room::Any`], but as many as come to `max_bytes` (at
    /// least one) under one lock, appended to `into`: each lock the
    /// consumer takes is one the realm may have to wait for. `Ok` once it
    /// took some; the explanation of a stall ending instead, if there is
    /// one.
    ///
    /// What is taken no longer counts as queued, so this is only for a
    /// consumer the realm never delivers to by direct call (a connection,
    /// whose socket takes what it has room for anyway).
    ///
    /// A consumer polled again with nothing new for it is answered without
    /// the lock: its waker is still in the queue, and nothing was queued.
    pub fn poll_take(
        &mut self,
        cx: &mut Context<'_>,
        into: &mut VecDeque<ToPeer>,
        max_bytes: usize,
    ) -> Poll<Result<(), String>> {
        if self.state.parked.load(Ordering::Acquire)
            && self.state.queued.load(Ordering::Acquire) == 0
            && self.parked_with.as_ref().is_some_and(|w| w.will_wake(cx.waker()))
        {
            return Poll::Pending;
        }
        let mut state = lock(&self.state);
        if let Some(explanation) = state.take_stalled() {
            return Poll::Ready(Err(explanation));
        }
        let mut taken = 0;
        while taken < max_bytes {
            let Some((to_peer, weight)) = state.items.pop(Room::Any) else { break };
            state.unqueued(weight);
            into.push_back(to_peer);
            taken += weight.max(1);
        }
        if taken > 0 {
            self.state.queued.store(state.items.len(), Ordering::Release);
            return Poll::Ready(Ok(()));
        }
        self.state.park(&mut state, &mut self.parked_with, cx);
        Poll::Pending
    }

    /// Ready with its explanation once the realm ended the session for
    /// stalling; the task is woken then (or when anything is queued).
    pub fn poll_stalled(&mut self, cx: &mut Context<'_>) -> Poll<String> {
        let mut state = lock(&self.state);
        if let Some(explanation) = state.take_stalled() {
            return Poll::Ready(explanation);
        }
        self.state.park(&mut state, &mut self.parked_with, cx);
        Poll::Pending
    }
}

impl Drop for OutboundReceiver {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        state.gone = true;
        state.items.clear();
        self.state.queued.store(0, Ordering::Release);
        state.bytes = 0;
        state.release_all();
    }
}

/// About how many bytes of memory a message holds while queued.
pub fn weight(message: &WampMessage) -> usize {
    const BASE: usize = 64;
    BASE + match message {
        WampMessage::Event { details, payload, .. }
        | WampMessage::Result { details, payload, .. }
        | WampMessage::Invocation { details, payload, .. }
        | WampMessage::Error { details, payload, .. } => dict_weight(details) + payload_weight(payload),
        WampMessage::Publish { options, payload, .. }
        | WampMessage::Call { options, payload, .. }
        | WampMessage::Yield { options, payload, .. } => dict_weight(options) + payload_weight(payload),
        WampMessage::Welcome { details, .. }
        | WampMessage::Goodbye { details, .. }
        | WampMessage::Abort { details, .. } => dict_weight(details),
        _ => 0,
    }
}

pub(crate) fn payload_weight(payload: &Payload) -> usize {
    match payload {
        Payload::Values { args, kwargs } => {
            args.iter().map(value_weight).sum::<usize>() + dict_weight(kwargs)
        }
        Payload::Transparent(bytes) => bytes.len(),
        // Shared by every receiver, but each may hold it alone by the
        // time it is written: counted in full for each.
        Payload::Raw(raw) => raw.len(),
        // Counted as the values it becomes (converted once, and kept for
        // whoever reads it as values later); a value that cannot convert
        // counts its Rust size.
        Payload::Native(native) => match native.values() {
            Ok((args, kwargs)) => args.iter().map(value_weight).sum::<usize>() + dict_weight(kwargs),
            Err(_) => std::mem::size_of::<Payload>(),
        },
    }
}

pub(crate) fn dict_weight(dict: &Dict) -> usize {
    dict.iter().map(|(k, v)| 32 + k.len() + value_weight(v)).sum()
}

fn value_weight(value: &Value) -> usize {
    std::mem::size_of::<Value>()
        + match value {
            Value::String(s) => s.len(),
            Value::Bytes(b) => b.len(),
            Value::List(list) => list.iter().map(value_weight).sum(),
            Value::Dict(dict) => dict_weight(dict),
            _ => 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::WakeCounter;

    fn event(bytes: usize) -> ToPeer {
        ToPeer::Message(WampMessage::Event {
            subscription: 1,
            publication: 2,
            details: Dict::new(),
            payload: Payload::args(vec![Value::Bytes(vec![0; bytes])]),
        })
    }

    fn take(receiver: &mut OutboundReceiver) -> Option<Next> {
        let waker = futures_util::task::noop_waker();
        match receiver.poll_next(&mut Context::from_waker(&waker), Room::Any) {
            Poll::Ready(next) => Some(next),
            Poll::Pending => None,
        }
    }

    #[test]
    fn a_full_queue_holds_its_producer_until_it_drains_to_half() {
        let (queue, mut receiver) = outbound(1000);
        let gate = Gate::new();
        let item = event(300);
        let w = weight(match &item {
            ToPeer::Message(m) => m,
            _ => unreachable!(),
        });
        assert!(w > 300 && w < 500, "{w}");
        assert_eq!(queue.push(event(300), w, Some((7, &gate))), Queued::Accepted);
        assert_eq!(queue.push(event(300), w, Some((7, &gate))), Queued::Accepted);
        assert_eq!(queue.push(event(300), w, Some((7, &gate))), Queued::Full { arm_timer: true });
        assert!(!gate.is_open(), "held");
        // Held once, however often it pushes while full; one timer.
        assert_eq!(queue.push(event(300), w, Some((7, &gate))), Queued::Full { arm_timer: false });
        assert!(take(&mut receiver).is_some());
        assert!(take(&mut receiver).is_some());
        assert!(!gate.is_open(), "still above half");
        assert!(take(&mut receiver).is_some());
        assert!(gate.is_open(), "released at half the limit");
        assert!(matches!(queue.check_stall(Duration::ZERO), Stall::Cleared));
    }

    #[test]
    fn a_connection_takes_deliveries_in_order_up_to_a_size_and_still_hears_of_a_stall() {
        let (queue, mut receiver) = outbound(1000);
        let gate = Gate::new();
        for _ in 0..5 {
            queue.push(event(1), 300, Some((7, &gate)));
        }
        assert!(!gate.is_open(), "held");
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut taken = VecDeque::new();
        // 300 + 300 reach 500: two at once, and the producer is still held
        // (900 bytes queued are not half the limit).
        assert_eq!(receiver.poll_take(&mut cx, &mut taken, 500), Poll::Ready(Ok(())));
        assert_eq!(taken.len(), 2);
        assert_eq!(queue.queued_bytes(), 900);
        assert!(!gate.is_open());
        // One at least, however small the size.
        assert_eq!(receiver.poll_take(&mut cx, &mut taken, 1), Poll::Ready(Ok(())));
        assert_eq!(taken.len(), 3);
        assert!(!gate.is_open(), "600 bytes queued");
        assert_eq!(receiver.poll_take(&mut cx, &mut taken, usize::MAX), Poll::Ready(Ok(())));
        assert!(gate.is_open(), "released at half the limit");
        assert_eq!(taken.len(), 5);
        assert!(queue.is_idle());
        assert_eq!(receiver.poll_take(&mut cx, &mut taken, usize::MAX), Poll::Pending);
        // A stall ending is heard whether the consumer takes or waits.
        assert!(receiver.poll_stalled(&mut cx).is_pending());
        queue.end_stalled("stalled".into());
        assert_eq!(receiver.poll_stalled(&mut cx), Poll::Ready("stalled".to_owned()));
        let (queue, mut receiver) = outbound(1000);
        queue.push(event(1), 300, None);
        queue.end_stalled("stalled".into());
        assert_eq!(receiver.poll_take(&mut cx, &mut taken, 500), Poll::Ready(Err("stalled".to_owned())));
    }

    #[test]
    fn a_parked_consumer_is_woken_by_what_comes_whichever_waker_it_last_used() {
        let (queue, mut receiver) = outbound(1000);
        let mut taken = VecDeque::new();
        let (first_wakes, first) = WakeCounter::new();
        let (second_wakes, second) = WakeCounter::new();
        let mut first_cx = Context::from_waker(&first);
        let mut second_cx = Context::from_waker(&second);
        assert!(receiver.poll_take(&mut first_cx, &mut taken, 500).is_pending());
        // Polled again with nothing new: still parked.
        assert!(receiver.poll_take(&mut first_cx, &mut taken, 500).is_pending());
        queue.push(event(1), 10, None);
        assert_eq!(first_wakes.count(), 1, "woken by the push");
        assert_eq!(receiver.poll_take(&mut first_cx, &mut taken, 500), Poll::Ready(Ok(())));
        // Parked with one waker, polled with another: the other is the one
        // left in the queue, and woken.
        assert!(receiver.poll_take(&mut first_cx, &mut taken, 500).is_pending());
        assert!(receiver.poll_take(&mut second_cx, &mut taken, 500).is_pending());
        queue.push(event(1), 10, None);
        assert_eq!((first_wakes.count(), second_wakes.count()), (1, 1));
        // A stall ending wakes a parked consumer too.
        assert_eq!(receiver.poll_take(&mut second_cx, &mut taken, 500), Poll::Ready(Ok(())));
        assert!(receiver.poll_take(&mut second_cx, &mut taken, 500).is_pending());
        queue.end_stalled("stalled".into());
        assert_eq!(second_wakes.count(), 2);
        assert_eq!(
            receiver.poll_take(&mut second_cx, &mut taken, 500),
            Poll::Ready(Err("stalled".to_owned()))
        );
    }

    #[test]
    fn a_consumer_is_woken_once_routing_lets_go_of_the_lock() {
        let (queue, mut receiver) = outbound(usize::MAX);
        let (wakes, waker) = WakeCounter::new();
        let mut cx = Context::from_waker(&waker);
        assert!(receiver.poll_next(&mut cx, Room::Any).is_pending(), "parked");
        {
            let _outer = WakeWhenRouted::start();
            {
                // Nested (a delivery lets go and takes the lock again):
                // only the outermost hold wakes.
                let _inner = WakeWhenRouted::start();
                queue.push(event(1), 10, None);
            }
            assert_eq!(wakes.count(), 0, "not while the lock is held");
        }
        assert_eq!(wakes.count(), 1, "once it is let go");
        assert!(take(&mut receiver).is_some());
        // Outside routing, at once.
        assert!(receiver.poll_next(&mut cx, Room::Any).is_pending());
        queue.push(event(2), 10, None);
        assert_eq!(wakes.count(), 2);
    }

    #[test]
    fn a_held_reader_is_woken_when_released() {
        let (queue, mut receiver) = outbound(100);
        let gate = Gate::new();
        let (wakes, waker) = WakeCounter::new();
        let mut cx = Context::from_waker(&waker);
        queue.push(event(200), 300, Some((1, &gate)));
        assert!(gate.poll_open(&mut cx).is_pending());
        assert!(take(&mut receiver).is_some());
        assert_eq!(wakes.count(), 1);
        assert!(gate.poll_open(&mut cx).is_ready());
    }

    #[test]
    fn answers_pass_a_consumer_that_takes_no_more_and_keep_their_place_otherwise() {
        let result = |request: Id, progress: bool| {
            let mut details = Dict::new();
            if progress {
                details.insert("progress".into(), Value::Bool(true));
            }
            ToPeer::Message(WampMessage::Result { request, details, payload: Payload::args(vec![]) })
        };
        let request_of = |next: Option<Next>| match next {
            Some(Next::Deliver(ToPeer::Message(WampMessage::Result { request, .. }))) => Some(request),
            Some(Next::Deliver(ToPeer::Message(WampMessage::Event { .. }))) => Some(0),
            _ => None,
        };
        let waker = futures_util::task::noop_waker();
        let take_if = |receiver: &mut OutboundReceiver, room: Room| match receiver
            .poll_next(&mut Context::from_waker(&waker), room)
        {
            Poll::Ready(next) => Some(next),
            Poll::Pending => None,
        };
        let (queue, mut receiver) = outbound(1 << 20);
        queue.push(event(1), 100, None);
        queue.push(result(1, false), 100, None);
        queue.push(result(2, true), 100, None);
        queue.push(event(1), 100, None);
        queue.push(result(3, false), 100, None);
        // A socket without room takes nothing.
        assert!(take_if(&mut receiver, Room::Closing).is_none());
        assert_eq!(queue.queued_bytes(), 500);
        // Answers only: the final results, in order; a partial result
        // waits with the events.
        assert_eq!(request_of(take_if(&mut receiver, Room::Answers)), Some(1));
        assert_eq!(request_of(take_if(&mut receiver, Room::Answers)), Some(3));
        assert!(take_if(&mut receiver, Room::Answers).is_none());
        assert!(!queue.is_idle());
        // Ready: the rest, in order.
        assert_eq!(request_of(take(&mut receiver)), Some(0));
        assert_eq!(request_of(take(&mut receiver)), Some(2));
        assert_eq!(request_of(take(&mut receiver)), Some(0));
        assert!(take(&mut receiver).is_none());
        assert!(queue.is_idle());
        assert_eq!(queue.queued_bytes(), 0);
        // In order with everything else while the consumer takes all.
        queue.push(event(1), 100, None);
        queue.push(result(4, false), 100, None);
        assert_eq!(request_of(take(&mut receiver)), Some(0));
        assert_eq!(request_of(take(&mut receiver)), Some(4));
    }

    #[test]
    fn a_consumer_without_room_still_takes_a_closing_that_comes_next() {
        let waker = futures_util::task::noop_waker();
        let closing = || ToPeer::Close { reason: "wamp.close.killed".into(), message: String::new() };
        let answer = || ToPeer::Message(WampMessage::Published { request: 1, publication: 2 });
        let (queue, mut receiver) = outbound(1 << 20);
        queue.push(closing(), 10, None);
        let next = receiver.poll_next(&mut Context::from_waker(&waker), Room::Closing);
        assert!(matches!(next, Poll::Ready(Next::Deliver(ToPeer::Close { .. }))));
        // An answer queued before the closing goes first, so both wait
        // for room.
        let (queue2, mut receiver) = outbound(1 << 20);
        queue2.push(answer(), 10, None);
        queue2.push(closing(), 10, None);
        assert!(receiver.poll_next(&mut Context::from_waker(&waker), Room::Closing).is_pending());
        let next = receiver.poll_next(&mut Context::from_waker(&waker), Room::Any);
        assert!(matches!(next, Poll::Ready(Next::Deliver(ToPeer::Message(WampMessage::Published { .. })))));
        drop(queue);
    }

    #[test]
    fn every_task_waiting_on_a_shared_gate_is_woken_when_it_opens() {
        let gate = Gate::new();
        let credit = Credit::new(&gate, INBOUND_WINDOW);
        let (first, first_waker) = WakeCounter::new();
        let (second, second_waker) = WakeCounter::new();
        assert!(gate.poll_open_shared(&mut Context::from_waker(&first_waker)).is_pending());
        assert!(gate.poll_open_shared(&mut Context::from_waker(&second_waker)).is_pending());
        // Polled again, a task is not counted twice.
        assert!(gate.poll_open_shared(&mut Context::from_waker(&first_waker)).is_pending());
        drop(credit);
        assert_eq!((first.count(), second.count()), (1, 1), "both woken once");
        assert!(gate.poll_open_shared(&mut Context::from_waker(&first_waker)).is_ready());
    }

    #[test]
    fn an_ended_gate_lets_its_waiting_tasks_through() {
        let gate = Gate::new();
        gate.admit(INBOUND_WINDOW);
        let (wakes, waker) = WakeCounter::new();
        let mut cx = Context::from_waker(&waker);
        assert!(gate.poll_open_shared(&mut cx).is_pending());
        gate.end();
        assert_eq!(wakes.count(), 1);
        assert!(gate.poll_open_shared(&mut cx).is_ready(), "and whoever comes later");
    }

    #[test]
    fn a_credit_counts_until_dropped() {
        let gate = Gate::new();
        let credits: Vec<Credit> = (0..4).map(|_| Credit::new(&gate, INBOUND_WINDOW / 4)).collect();
        assert!(!gate.is_open(), "the window is full");
        drop(credits);
        assert!(gate.is_open());
    }

    #[test]
    fn the_inbound_window_closes_the_gate_until_the_realm_routes() {
        let gate = Gate::new();
        gate.admit(INBOUND_WINDOW);
        assert!(!gate.is_open());
        gate.routed(INBOUND_WINDOW);
        assert!(gate.is_open());
    }

    #[test]
    fn a_stall_is_reported_only_after_the_timeout() {
        let (queue, _receiver) = outbound(10);
        queue.push(event(1), 100, None);
        assert!(matches!(queue.check_stall(Duration::from_secs(60)), Stall::Pending(_)));
        assert_eq!(queue.check_stall(Duration::ZERO), Stall::Stalled);
    }

    #[test]
    fn ending_a_stalled_queue_frees_its_memory_and_producers_and_tells_the_consumer() {
        let (queue, mut receiver) = outbound(10);
        let gate = Gate::new();
        queue.push(event(1000), 2000, Some((3, &gate)));
        queue.end_stalled("stalled".into());
        assert_eq!(queue.queued_bytes(), 0);
        assert!(gate.is_open());
        assert!(matches!(take(&mut receiver), Some(Next::Stalled(_))));
        assert_eq!(queue.push(event(1), 10, None), Queued::Gone);
    }

    #[test]
    fn the_drop_policy_drops_and_counts_events_only_while_full() {
        let (queue, mut receiver) = outbound(100);
        let gate = Gate::new();
        queue.push(event(1), 150, Some((3, &gate)));
        queue.start_dropping();
        assert!(gate.is_open(), "producers run again");
        assert_eq!(queue.push(event(1), 50, Some((3, &gate))), Queued::Dropped);
        let result = ToPeer::Message(WampMessage::Result {
            request: 1,
            details: Dict::new(),
            payload: Payload::default(),
        });
        assert!(
            matches!(queue.push(result.clone(), 50, None), Queued::Full { arm_timer: false }),
            "calls still queue"
        );
        // 200 bytes queued, the limit is 100: nothing that cannot be
        // dropped takes it past 200.
        assert_eq!(queue.push(result, 1, None), Queued::Overflow);
        assert_eq!(queue.queued_bytes(), 200);
        assert_eq!(queue.dropped_events(), 1);
        assert!(take(&mut receiver).is_some());
        assert!(take(&mut receiver).is_some());
        assert_eq!(queue.push(event(1), 50, None), Queued::Accepted, "drained: events flow again");
    }

    #[test]
    fn a_consumer_that_goes_away_releases_its_producers() {
        let (queue, receiver) = outbound(10);
        let gate = Gate::new();
        queue.push(event(1), 100, Some((3, &gate)));
        assert!(!gate.is_open());
        drop(receiver);
        assert!(gate.is_open());
        assert_eq!(queue.push(event(1), 10, None), Queued::Gone);
    }
}
