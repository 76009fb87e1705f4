//! Routing on the session's thread: a realm and an in-process session
//! hand each other messages with function calls and plain queues.
//!
//! Every delivery through a synchronised queue costs atomic operations
//! and a task wake-up of the receiver; a hand-over between threads costs
//! far more. So whatever a session sends is routed on its own thread,
//! under the realm's lock ([`Shared`]), and whoever routes there delivers
//! to the sessions of that thread by calling them ([`DirectPeer`]); only
//! messages for sessions on other threads go through their queues. A
//! session sends through its thread's input ([`LocalInput`], one per
//! thread and realm). A delivery never re-enters the realm: a session's
//! answer waits in the input until the delivery returns. The realm's
//! routing state is released while the session handles the message (see
//! [`deliver`](super::actor::deliver)), so no handler runs while it is
//! held.
//!
//! A session that calls routes its call itself ([`LocalInput::flush`]): a
//! callee on the same thread runs, its answer is routed in the same pass,
//! and the caller finds it before it waits, with no task switch. Within
//! limits that keep it safe (never inside a delivery) and fair (the
//! thread's other tasks get a turn every [`ROUTED_AT_ONCE`] calls). What
//! a session sends otherwise (an `async` handler's answer, a publication,
//! a connection's messages, its leaving), and a call that finds the
//! realm's state held by another thread, is routed by the input's pump, a
//! task of the same thread, which waits for the lock: it is held only
//! while an input is routed, never while a handler runs. Only a thread
//! without a pump (no actix arbiter runs there) hands its input to the
//! realm's shared queue, which the realm's task (on a thread of its own,
//! see [`RealmHandle::start`](super::actor::RealmHandle::start)) routes,
//! and which whoever takes the lock routes first, so that a session's
//! input is routed in the order it was sent.
//!
//! A WebSocket connection sends through the same input; its deliveries go
//! through its outbound queue, which it takes from as its socket has room.
//!
//! Actix messages must be `Send`, and these handles are not, so they never
//! travel with [`Join`](super::actor::Join). The session puts its handle
//! in a table of its own thread ([`DirectEntry`]) and sends a link to it
//! ([`DirectLink`], plain data) with its join. The realm keeps the link,
//! which finds the handle whenever routing runs on the session's thread;
//! elsewhere the message goes to the session's queue.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::sync::mpsc;

use super::actor::{deliver, lock, route_shared, try_lock, RealmInput, Shared};
use super::slot_queue::SlotQueue;
use crate::protocol::WampMessage;

/// A session that takes its deliveries as calls, from routing on its
/// thread.
pub trait DirectPeer {
    /// Takes one message, in order, or gives it back if the session takes
    /// no delivery now: the realm then queues it (and everything after
    /// it, until the queue is empty) in the session's bounded outbound
    /// queue instead. One call, not a question and a delivery: each is an
    /// indirect call on the path of every in-process message.
    ///
    /// It may send to the realm (through the realm's [`LocalInput`]) but
    /// must not wait for it. Closings never come this way: they go through
    /// the session's queue.
    fn deliver(&self, message: WampMessage) -> Result<(), WampMessage>;
}

/// How many times sessions may route at once (see
/// [`LocalInput::flush`]) before the thread's other tasks have had a turn
/// (the input's pump has run): a session that never waits for its calls
/// would otherwise keep its thread to itself.
const ROUTED_AT_ONCE: u32 = 64;

thread_local! {
    /// How many deliveries to sessions are under way on this thread.
    static DELIVERING: Cell<u32> = const { Cell::new(0) };
}

/// Marks a delivery to a session (its handlers running) on this thread:
/// while one is under way, nothing is routed at once, so a session never
/// takes a delivery inside another of its own.
pub(crate) struct Delivering(());

impl Delivering {
    pub(crate) fn enter() -> Self {
        DELIVERING.with(|d| d.set(d.get() + 1));
        Delivering(())
    }
}

impl Drop for Delivering {
    fn drop(&mut self) {
        DELIVERING.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// What sessions on one thread send one realm, in order. Each thread
/// has at most one per realm ([`LocalInput::of`]), shared by the realm's
/// sessions there.
///
/// What is sent is routed on this thread, under the realm's lock: at
/// once by a session that calls ([`LocalInput::flush`]), by the pass
/// under way if a handler sends it during a delivery, or by the input's
/// pump, a task of this thread woken for it ([`Pump`]). On a thread
/// without a pump, what cannot be routed at once goes on to the realm's
/// shared queue instead, which whoever takes the lock next routes first.
pub struct LocalInput {
    queue: RefCell<SlotQueue<RealmInput>>,
    /// The realm's routing.
    shared: Arc<Shared>,
    /// The realm's shared queue, for what cannot be routed here now.
    forward: mpsc::UnboundedSender<RealmInput>,
    /// The pump, kept between its polls.
    waker: RefCell<Option<Waker>>,
    /// Whether the pump waits to be woken. While a pass routes, what is
    /// sent needs no wake-up.
    waiting: Cell<bool>,
    /// Whether a pump runs on this thread for this input.
    pump: Cell<PumpState>,
    /// Inputs routed at once since the pump last ran.
    routed_at_once: Cell<u32>,
    /// A pass of this realm runs on this thread: what handlers send
    /// during its deliveries waits in `queue` for it.
    passing: Cell<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PumpState {
    NotStarted,
    Running,
    /// No actix arbiter runs on this thread to run it: what cannot be
    /// routed at once goes to the shared queue.
    Unavailable,
}

/// What became of an attempt to route what is queued at once.
enum Pass {
    Routed,
    /// Not now: a delivery is under way on this thread (of another realm,
    /// or of this one but not by a pass of this input), sessions routed
    /// [`ROUTED_AT_ONCE`] times in a row, or another thread holds the
    /// realm's state.
    Later,
    /// The realm stopped.
    Stopped,
}

thread_local! {
    /// Each thread's inputs, by realm serial; the sessions that send
    /// through one keep it.
    static INPUTS: RefCell<Vec<(u64, Weak<LocalInput>)>> = const { RefCell::new(Vec::new()) };
}

impl LocalInput {
    /// This thread's input to the realm of `shared`, whose shared queue
    /// `forward` feeds; made if the thread has none yet.
    pub(crate) fn of(shared: &Arc<Shared>, forward: &mpsc::UnboundedSender<RealmInput>) -> Rc<Self> {
        let serial = shared.serial();
        INPUTS.with(|inputs| {
            let mut inputs = inputs.borrow_mut();
            if let Some(input) = inputs.iter().find(|(s, _)| *s == serial).and_then(|(_, i)| i.upgrade()) {
                return input;
            }
            inputs.retain(|(_, input)| input.strong_count() > 0);
            let input = Rc::new(LocalInput {
                queue: RefCell::default(),
                shared: shared.clone(),
                forward: forward.clone(),
                waker: RefCell::default(),
                waiting: Cell::new(false),
                pump: Cell::new(PumpState::NotStarted),
                routed_at_once: Cell::new(0),
                passing: Cell::new(false),
            });
            inputs.push((serial, Rc::downgrade(&input)));
            input
        })
    }

    /// Sends an input to the realm, to be routed after whatever routing
    /// runs now; `false` if the realm is gone. It never routes in the
    /// sender's call: the sender may hold its session borrowed.
    pub fn send(self: &Rc<Self>, input: RealmInput) -> bool {
        if self.passing.get() {
            self.queue.borrow_mut().push_back(input);
            return true;
        }
        if !self.pump_runs() {
            return self.hand_on_one(input);
        }
        self.queue.borrow_mut().push_back(input);
        self.wake();
        true
    }

    fn wake(&self) {
        if self.waiting.replace(false) {
            if let Some(waker) = &*self.waker.borrow() {
                waker.wake_by_ref();
            }
        }
    }

    /// Whether the pump runs, started if it has not been yet.
    fn pump_runs(self: &Rc<Self>) -> bool {
        match self.pump.get() {
            PumpState::Running => true,
            PumpState::Unavailable => false,
            PumpState::NotStarted => {
                let runs = actix::Arbiter::try_current().is_some();
                if runs {
                    actix::spawn(Pump(Rc::downgrade(self)));
                }
                self.pump.set(if runs { PumpState::Running } else { PumpState::Unavailable });
                runs
            }
        }
    }

    /// Queues an input without routing it: [`LocalInput::flush`] must
    /// follow.
    pub(crate) fn push(&self, input: RealmInput) {
        self.queue.borrow_mut().push_back(input);
    }

    /// Routes what is queued at once, when it can be: no delivery is under
    /// way on this thread (the sender is not inside a handler), nothing
    /// else holds the realm's lock, and fewer than [`ROUTED_AT_ONCE`]
    /// inputs went this way since the thread's other tasks last had a
    /// turn. Otherwise the pump routes it at its turn (or, on a thread
    /// without one, the realm's task, through the shared queue).
    ///
    /// A call sent this way is answered before its sender waits, when its
    /// callee is on this thread: an in-process call costs no task switch.
    pub fn flush(self: &Rc<Self>) {
        match self.route_queued(false) {
            Pass::Routed => {}
            // The pass under way routes it.
            Pass::Later if self.passing.get() => {}
            Pass::Later if self.pump_runs() => self.wake(),
            Pass::Later | Pass::Stopped => self.hand_on(),
        }
    }

    /// Hands what is queued to the realm's shared queue, in order.
    fn hand_on(&self) {
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some(input) = next else { break };
            // A realm that is gone tells its sessions through their
            // queues.
            self.hand_on_one(input);
        }
    }

    /// Hands one input to the realm's shared queue; `false` if the realm
    /// is gone.
    fn hand_on_one(&self, input: RealmInput) -> bool {
        self.shared.forwarded(1);
        let sent = self.forward.send(input).is_ok();
        if !sent {
            self.shared.taken(1);
        }
        sent
    }

    /// Routes what is queued, unless a delivery is under way on this
    /// thread or the run of inputs routed at once is over; `wait` for
    /// the realm's lock if another thread holds it (only a task of its
    /// own may: a session's call must not wait), else leave the input.
    fn route_queued(&self, wait: bool) -> Pass {
        if DELIVERING.with(Cell::get) > 0 || self.routed_at_once.get() >= ROUTED_AT_ONCE {
            return Pass::Later;
        }
        let cell = &*self.shared;
        let held = if wait { Some(lock(cell)) } else { try_lock(cell) };
        let Some(mut routing) = held else { return Pass::Later };
        if routing.stopped {
            return Pass::Stopped;
        }
        self.routed_at_once.set(self.routed_at_once.get() + 1);
        // What handlers send meanwhile is routed here too.
        self.passing.set(true);
        routing.forget_clock();
        routing = route_shared(cell, routing);
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some(input) = next else { break };
            routing.route(input);
            routing = deliver(cell, routing);
        }
        let chores = routing.has_chores();
        drop(routing);
        self.passing.set(false);
        if chores {
            self.shared.chores_due();
        }
        Pass::Routed
    }
}

impl Drop for LocalInput {
    fn drop(&mut self) {
        // What the last sessions sent as they went (their leaving) is
        // still routed, by the realm's task.
        self.hand_on();
        // The pump ends once it finds the input gone.
        if let Some(waker) = self.waker.get_mut().take() {
            waker.wake();
        }
    }
}

/// Routes what a thread's sessions send a realm outside the calls they
/// route at once (answers of `async` handlers, publications, a
/// connection's messages, leaving, calls that found the lock held): a
/// task of that thread, woken by [`LocalInput::send`] and
/// [`LocalInput::flush`], which ends with its input. Its turn also tells
/// the input that the thread's other tasks had theirs.
struct Pump(Weak<LocalInput>);

impl std::future::Future for Pump {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(input) = self.0.upgrade() else { return Poll::Ready(()) };
        if !input.queue.borrow().is_empty() {
            input.routed_at_once.set(0);
            // The lock is held only while an input is routed, never while
            // a handler runs, and never by this thread now (a task runs
            // outside any pass): waiting for it is short, shorter than
            // handing the input to the realm's thread.
            match input.route_queued(true) {
                Pass::Routed => {}
                Pass::Later | Pass::Stopped => input.hand_on(),
            }
        }
        input.routed_at_once.set(0);
        let mut waker = input.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        input.waiting.set(true);
        Poll::Pending
    }
}

#[cfg(test)]
impl LocalInput {
    /// The input of a realm of its own that routes nothing (it is marked
    /// stopped), with no pump: what is sent waits in the realm's shared
    /// queue, for tests to take with [`Detached::next`].
    pub(crate) fn detached() -> Detached {
        let (shared, forward) = crate::router::actor::testing::realm();
        crate::router::actor::lock(&shared).stopped = true;
        let input = Self::of(&shared, &forward);
        input.pump.set(PumpState::Unavailable);
        Detached { input, shared }
    }
}

/// See [`LocalInput::detached`].
#[cfg(test)]
pub(crate) struct Detached {
    pub(crate) input: Rc<LocalInput>,
    shared: Arc<Shared>,
}

#[cfg(test)]
impl Detached {
    /// The next input that reached the realm.
    pub(crate) fn next(&self) -> Option<RealmInput> {
        crate::router::actor::testing::take_shared(&self.shared)
    }
}

impl std::fmt::Debug for LocalInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalInput")
            .field("realm", &self.shared.serial())
            .field("queued", &self.queue.borrow().len())
            .finish()
    }
}

/// Where a session that takes its deliveries by call is found: an entry
/// in a table of the thread it runs on ([`DirectEntry`] makes it), named
/// by the thread's tag, the entry's place and the place's generation. It
/// is plain data, so the routing state that holds it can move between
/// threads; on any other thread than the session's, and once the entry is
/// gone, it finds nothing and the realm queues the message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirectLink {
    thread: u64,
    slot: u32,
    generation: u32,
}

impl DirectLink {
    /// The session, if it runs on this thread and is still there.
    ///
    /// A counted reference, not a borrow of the table: its handlers run
    /// when the realm hands it a message, and may make sessions, which
    /// add entries. Inlined, so that the message goes to the peer as it
    /// came, not copied through another call.
    #[inline(always)]
    pub(crate) fn peer(&self) -> Option<Rc<dyn DirectPeer>> {
        PEERS.with(|peers| peers.borrow().get(self).cloned())
    }
}

impl std::fmt::Debug for DirectLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DirectLink({}:{}.{})", self.thread, self.slot, self.generation)
    }
}

/// A session's entry in its thread's table, from which a realm routing on
/// that thread hands it messages by call ([`DirectLink`]). The session
/// keeps it while it takes deliveries this way; dropping it (on the
/// session's thread, as it cannot leave it) removes the entry, whatever
/// thread the realm that holds the link is on.
pub(crate) struct DirectEntry {
    link: DirectLink,
    /// The entry belongs to this thread's table.
    _thread: std::marker::PhantomData<Rc<()>>,
}

impl DirectEntry {
    /// Puts `peer` in the current thread's table.
    pub(crate) fn new(peer: Rc<dyn DirectPeer>) -> Self {
        let link = PEERS.with(|peers| peers.borrow_mut().insert(peer));
        DirectEntry { link, _thread: std::marker::PhantomData }
    }

    /// The link a realm keeps.
    pub(crate) fn link(&self) -> DirectLink {
        self.link
    }
}

impl Drop for DirectEntry {
    fn drop(&mut self) {
        // While the thread ends the table may be gone already. The peer is
        // dropped after the table is free again: dropping it may end its
        // session.
        let peer = PEERS.try_with(|peers| peers.try_borrow_mut().ok().and_then(|mut p| p.remove(&self.link)));
        drop(peer);
    }
}

impl std::fmt::Debug for DirectEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DirectEntry").field(&self.link).finish()
    }
}

/// One thread's sessions that take deliveries by call.
struct PeerTable {
    /// Tells this thread's links from other threads'.
    thread: u64,
    entries: Vec<PeerEntry>,
    /// Places whose entry was removed, to be used again.
    free: Vec<u32>,
}

struct PeerEntry {
    /// Moves on each time the place is emptied, so that a link to the
    /// entry before finds nothing.
    generation: u32,
    peer: Option<Rc<dyn DirectPeer>>,
}

/// Thread tags are unique in the process.
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

impl PeerTable {
    const fn new() -> Self {
        PeerTable { thread: 0, entries: Vec::new(), free: Vec::new() }
    }

    fn insert(&mut self, peer: Rc<dyn DirectPeer>) -> DirectLink {
        // Tagged when the first entry comes; 0 is no thread's tag.
        if self.thread == 0 {
            self.thread = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.entries.push(PeerEntry { generation: 0, peer: None });
                // A thread would run out of memory long before it held
                // 2^32 sessions.
                u32::try_from(self.entries.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let entry = &mut self.entries[slot as usize];
        entry.peer = Some(peer);
        DirectLink { thread: self.thread, slot, generation: entry.generation }
    }

    #[inline(always)]
    fn get(&self, link: &DirectLink) -> Option<&Rc<dyn DirectPeer>> {
        if link.thread != self.thread {
            return None;
        }
        let entry = self.entries.get(link.slot as usize)?;
        if entry.generation != link.generation {
            return None;
        }
        entry.peer.as_ref()
    }

    fn remove(&mut self, link: &DirectLink) -> Option<Rc<dyn DirectPeer>> {
        if link.thread != self.thread {
            return None;
        }
        let entry = self.entries.get_mut(link.slot as usize)?;
        if entry.generation != link.generation {
            return None;
        }
        let peer = entry.peer.take();
        // A place whose generation would wrap is not used again: a link
        // kept that long must not find a later session.
        if let Some(next) = entry.generation.checked_add(1) {
            entry.generation = next;
            self.free.push(link.slot);
        }
        peer
    }
}

thread_local! {
    static PEERS: RefCell<PeerTable> = const { RefCell::new(PeerTable::new()) };
}

/// How many sessions this thread's table holds.
#[cfg(test)]
pub(crate) fn entries_on_this_thread() -> usize {
    PEERS.with(|peers| peers.borrow().entries.iter().filter(|e| e.peer.is_some()).count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Dict;

    struct Counter(Cell<usize>);

    impl DirectPeer for Counter {
        fn deliver(&self, _message: WampMessage) -> Result<(), WampMessage> {
            self.0.set(self.0.get() + 1);
            Ok(())
        }
    }

    fn goodbye() -> WampMessage {
        WampMessage::Goodbye { details: Dict::new(), reason: "r".into() }
    }

    #[test]
    fn a_link_finds_its_peer_only_on_its_thread_and_only_while_the_entry_is_kept() {
        let first = Rc::new(Counter(Cell::new(0)));
        let entry = DirectEntry::new(first.clone());
        let link = entry.link();
        assert!(link.peer().is_some_and(|p| p.deliver(goodbye()).is_ok()));
        assert_eq!(first.0.get(), 1);
        // Another thread's table has no such entry, whatever it holds.
        std::thread::spawn(move || {
            let theirs = DirectEntry::new(Rc::new(Counter(Cell::new(0))));
            assert!(theirs.link().peer().is_some_and(|p| p.deliver(goodbye()).is_ok()));
            assert!(link.peer().is_none(), "not this thread's");
        })
        .join()
        .unwrap();
        let kept = PEERS.with(|peers| peers.borrow().entries.len());
        drop(entry);
        assert_eq!(Rc::strong_count(&first), 1, "dropping the entry let the peer go");
        assert!(link.peer().is_none(), "the link finds nothing");
        // The place is used again, under a new generation: the old link
        // still finds nothing.
        let second = Rc::new(Counter(Cell::new(0)));
        let entry = DirectEntry::new(second.clone());
        assert_eq!(PEERS.with(|peers| peers.borrow().entries.len()), kept, "no new place");
        assert_eq!(entry.link().slot, link.slot);
        assert!(link.peer().is_none());
        assert!(entry.link().peer().is_some_and(|p| p.deliver(goodbye()).is_ok()));
        assert_eq!((first.0.get(), second.0.get()), (1, 1));
    }

    #[test]
    fn an_entry_dropped_on_a_thread_that_did_not_make_it_changes_nothing_there() {
        // An entry cannot leave its thread (it is not `Send`); a link
        // can, and finds nothing elsewhere: checked above. Here, a table
        // that is not the thread's own, as after the thread's end.
        let mut table = PeerTable::new();
        let link = table.insert(Rc::new(Counter(Cell::new(0))));
        let before = entries_on_this_thread();
        drop(DirectEntry { link, _thread: std::marker::PhantomData });
        assert_eq!(entries_on_this_thread(), before);
        assert!(table.get(&link).is_some(), "its own table still holds it");
    }

    #[test]
    fn a_place_whose_generation_would_wrap_is_not_used_again() {
        let mut table = PeerTable::new();
        let link = table.insert(Rc::new(Counter(Cell::new(0))));
        table.entries[link.slot as usize].generation = u32::MAX;
        let last = DirectLink { thread: link.thread, slot: link.slot, generation: u32::MAX };
        assert!(table.remove(&last).is_some());
        assert!(table.free.is_empty(), "retired");
        let next = table.insert(Rc::new(Counter(Cell::new(0))));
        assert_ne!(next.slot, link.slot);
    }

    /// A realm whose second session (on this thread, taking deliveries
    /// by call) subscribed to `t`, and whose first session publishes
    /// there; its shared queue's sender.
    fn realm_with_a_subscriber(
        subscriber: &Rc<Events>,
    ) -> (Arc<Shared>, mpsc::UnboundedSender<RealmInput>, DirectEntry, Publisher) {
        use crate::router::actor::{lock, testing};
        let (shared, forward) = testing::realm();
        let entry = DirectEntry::new(subscriber.clone());
        let publisher = Publisher(testing::join(&shared, None));
        let session = testing::join(&shared, Some(entry.link()));
        let subscribe = WampMessage::Subscribe { request: 1, options: Dict::new(), topic: "t".into() };
        let mut routing = lock(&shared);
        routing.route(RealmInput::Inbound { session, message: subscribe, size: 0 });
        drop(deliver(&shared, routing));
        (shared, forward, entry, publisher)
    }

    /// The session that publishes.
    struct Publisher(crate::protocol::Id);

    impl Publisher {
        fn publish(&self, n: i64) -> RealmInput {
            let payload = crate::protocol::Payload::args(vec![crate::protocol::Value::from(n)]);
            let message =
                WampMessage::Publish { request: 10, options: Dict::new(), topic: "t".into(), payload };
            RealmInput::Inbound { session: self.0, message, size: 0 }
        }
    }

    /// A subscriber that notes the first argument of each event.
    #[derive(Default)]
    struct Events(RefCell<Vec<i64>>);

    impl DirectPeer for Events {
        fn deliver(&self, message: WampMessage) -> Result<(), WampMessage> {
            if let WampMessage::Event { payload, .. } = &message {
                let first = payload.args_list().first().and_then(crate::protocol::Value::as_i64);
                self.0.borrow_mut().push(first.unwrap_or(-1));
            }
            Ok(())
        }
    }

    #[test]
    fn each_thread_has_one_input_per_realm() {
        let subscriber = Rc::new(Events::default());
        let (shared, forward, _entry, _) = realm_with_a_subscriber(&subscriber);
        let here = LocalInput::of(&shared, &forward);
        assert!(Rc::ptr_eq(&LocalInput::of(&shared, &forward), &here), "one per thread");
        let (others, other_forward, _other_entry, _) = realm_with_a_subscriber(&subscriber);
        assert!(!Rc::ptr_eq(&LocalInput::of(&others, &other_forward), &here), "another realm's");
        let there = std::thread::spawn(move || {
            let there = LocalInput::of(&shared, &forward);
            Rc::as_ptr(&there) as usize
        })
        .join()
        .unwrap();
        assert_ne!(there, Rc::as_ptr(&here) as usize, "another thread's");
        let made = Rc::as_ptr(&here) as usize;
        drop(here);
        let (shared, forward, _entry, _) = realm_with_a_subscriber(&subscriber);
        let _again = LocalInput::of(&shared, &forward);
        assert!(
            INPUTS.with(|inputs| inputs.borrow().iter().all(|(_, i)| i.as_ptr() as usize != made)),
            "an input its sessions let go of leaves the thread's table"
        );
    }

    #[test]
    fn a_session_routes_at_once_after_what_it_queued_before() {
        let subscriber = Rc::new(Events::default());
        let (shared, forward, _entry, publisher) = realm_with_a_subscriber(&subscriber);
        let input = LocalInput::of(&shared, &forward);
        // While something else routes, what the session sends goes to the
        // shared queue.
        let held = crate::router::actor::lock(&shared);
        input.push(publisher.publish(1));
        input.flush();
        assert!(input.queue.borrow().is_empty(), "handed on, not kept");
        drop(held);
        assert!(subscriber.0.borrow().is_empty(), "not routed yet");
        // The state free, the session routes at once: what waited in the
        // shared queue first.
        input.push(publisher.publish(2));
        input.flush();
        assert_eq!(*subscriber.0.borrow(), [1, 2]);
        assert!(crate::router::actor::testing::shared_queue_is_empty(&shared), "nothing left there");
    }

    #[test]
    fn input_sent_inside_a_delivery_waits_for_the_pass() {
        let subscriber = Rc::new(Events::default());
        let (shared, forward, _entry, publisher) = realm_with_a_subscriber(&subscriber);
        let input = LocalInput::of(&shared, &forward);
        input.pump.set(PumpState::Unavailable);
        // Outside a pass, with no pump, `send` hands the input to the
        // shared queue...
        assert!(input.send(publisher.publish(1)));
        assert!(input.queue.borrow().is_empty());
        // ...inside one (a handler answering), to the pass.
        input.passing.set(true);
        assert!(input.send(publisher.publish(2)));
        assert_eq!(input.queue.borrow().len(), 1);
        input.passing.set(false);
        input.flush();
        assert_eq!(*subscriber.0.borrow(), [1, 2]);
    }

    #[test]
    fn a_stopped_realm_gets_what_is_sent_in_its_shared_queue() {
        let detached = LocalInput::detached();
        detached.input.push(RealmInput::Leave { session: 1 });
        detached.input.flush();
        assert!(detached.input.queue.borrow().is_empty());
        assert!(matches!(detached.next(), Some(RealmInput::Leave { session: 1 })));
    }

    #[test]
    fn the_pump_routes_what_is_sent_and_gives_the_thread_a_turn_after_a_run_of_calls() {
        actix::System::new().block_on(async {
            let subscriber = Rc::new(Events::default());
            let (shared, forward, _entry, publisher) = realm_with_a_subscriber(&subscriber);
            let input = LocalInput::of(&shared, &forward);
            // Sent outside a call: the pump routes it, on this thread, at
            // its next turn.
            assert!(input.send(publisher.publish(1)));
            assert!(subscriber.0.borrow().is_empty(), "never in the sender's call");
            tokio::task::yield_now().await;
            assert_eq!(*subscriber.0.borrow(), [1]);
            // Routed at once, up to ROUTED_AT_ONCE times in a row; then the
            // pump's turn comes first.
            for n in 0..ROUTED_AT_ONCE {
                input.push(publisher.publish(i64::from(n) + 2));
                input.flush();
            }
            assert_eq!(subscriber.0.borrow().len(), ROUTED_AT_ONCE as usize + 1);
            input.push(publisher.publish(100));
            input.flush();
            assert_eq!(subscriber.0.borrow().len(), ROUTED_AT_ONCE as usize + 1, "left for the pump");
            tokio::task::yield_now().await;
            assert_eq!(subscriber.0.borrow().last(), Some(&100));
            input.push(publisher.publish(101));
            input.flush();
            assert_eq!(subscriber.0.borrow().last(), Some(&101), "at once again");
            assert!(crate::router::actor::testing::shared_queue_is_empty(&shared), "all routed here");
            // What is left when the last session lets go of the input
            // goes to the realm's task; the pump ends with its input.
            assert!(input.send(RealmInput::Leave { session: publisher.0 }));
            let pump = Rc::downgrade(&input);
            drop(input);
            assert!(matches!(
                crate::router::actor::testing::take_shared(&shared),
                Some(RealmInput::Leave { session }) if session == publisher.0
            ));
            tokio::task::yield_now().await;
            assert!(pump.upgrade().is_none());
        });
    }
}
