//! Same-thread delivery: a realm and an in-process session hand each
//! other messages with function calls and plain queues, on the session's
//! thread.
//!
//! Every delivery through a synchronised queue costs atomic operations
//! and a task wake-up of the receiver. For a component embedded beside
//! its router that is pure overhead. So whoever routes on a session's
//! thread delivers to it by calling it ([`DirectPeer`]), and the session
//! sends to the realm through its thread's input ([`LocalInput`], one per
//! thread and realm). A delivery never re-enters the realm: the session's
//! answer waits in the input until the delivery returns. The realm's
//! routing state is released while the session handles the message (see
//! [`deliver`](super::actor::deliver)), so no handler runs while it is
//! held.
//!
//! A session that sends routes its input itself when the realm's state is
//! free ([`LocalInput::flush`]), on its own thread, whichever thread the
//! realm's task runs on: a callee on the same thread runs, its answer is
//! routed in the same pass, and the caller finds it before it waits, with
//! no task switch. Within limits that keep it safe (never inside a
//! delivery) and, on the realm's thread, fair (a turn for the realm's
//! task every [`ROUTED_AT_ONCE`] calls). Otherwise the input waits for the
//! realm's task: in the input of the realm's thread, polled by that task,
//! or, from any other thread, in the realm's shared queue, which whoever
//! routes takes first, so that a session's input is routed in the order
//! it was sent.
//!
//! A WebSocket connection sends through the same input, without routing
//! at once; its deliveries go through its outbound queue, which it takes
//! from as its socket has room.
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

use super::actor::{deliver, route_shared, try_lock, RealmInput, Shared};
use super::slot_queue::SlotQueue;
use crate::protocol::WampMessage;

/// A session that takes its deliveries as calls on the realm's thread.
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
/// [`LocalInput::flush`]) before the realm's task has had a turn: a
/// session that never waits for its calls would otherwise keep the thread
/// to itself, and the realm's other inputs (from other threads, timers)
/// would wait.
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
/// has at most one per realm ([`LocalInput::of`]), shared by the
/// realm's sessions there.
///
/// On the realm's own thread the realm's task polls it ([`LocalInput::home`]).
/// On any other thread nothing polls it: what a session sends there is
/// routed at once under the realm's lock ([`LocalInput::flush`]) or goes
/// to the realm's shared queue, so it never waits in it beyond the pass
/// that routes it.
pub struct LocalInput {
    queue: RefCell<SlotQueue<RealmInput>>,
    /// The realm's routing, to route a session's input at once.
    shared: Arc<Shared>,
    /// Away from the realm's thread: the realm's shared queue, for what
    /// cannot be routed at once. `None` on the realm's thread, whose task
    /// polls `queue`.
    forward: Option<mpsc::UnboundedSender<RealmInput>>,
    /// The realm's task, kept between polls (on the realm's thread).
    waker: RefCell<Option<Waker>>,
    /// Whether the realm waits for input. While it works it reads the
    /// queue again before it waits, so a send then needs no wake-up.
    waiting: Cell<bool>,
    /// Inputs routed at once since the realm's task last looked (on the
    /// realm's thread).
    routed_at_once: Cell<u32>,
    /// A pass of this realm runs on this thread: what handlers send
    /// during its deliveries waits in `queue` for it.
    passing: Cell<bool>,
}

thread_local! {
    /// Each thread's inputs, by realm serial; the sessions that send
    /// through one keep it.
    static INPUTS: RefCell<Vec<(u64, Weak<LocalInput>)>> = const { RefCell::new(Vec::new()) };
}

impl LocalInput {
    fn new(shared: Arc<Shared>, forward: Option<mpsc::UnboundedSender<RealmInput>>) -> Rc<Self> {
        let input = Rc::new(LocalInput {
            queue: RefCell::default(),
            shared,
            forward,
            waker: RefCell::default(),
            waiting: Cell::new(false),
            routed_at_once: Cell::new(0),
            passing: Cell::new(false),
        });
        let serial = input.shared.serial();
        INPUTS.with(|inputs| {
            let mut inputs = inputs.borrow_mut();
            inputs.retain(|(_, input)| input.strong_count() > 0);
            inputs.push((serial, Rc::downgrade(&input)));
        });
        input
    }

    /// The input of the realm's own thread, which the realm's task polls.
    pub(crate) fn home(shared: Arc<Shared>) -> Rc<Self> {
        Self::new(shared, None)
    }

    /// This thread's input to the realm of `shared`: its own thread's, or
    /// one that routes at once or forwards to `forward`, the realm's
    /// shared queue.
    pub(crate) fn of(shared: &Arc<Shared>, forward: &mpsc::UnboundedSender<RealmInput>) -> Rc<Self> {
        let serial = shared.serial();
        let found = INPUTS.with(|inputs| {
            inputs.borrow().iter().find(|(s, _)| *s == serial).and_then(|(_, input)| input.upgrade())
        });
        found.unwrap_or_else(|| Self::new(shared.clone(), Some(forward.clone())))
    }

    /// Whether the realm's task polls this input (it is on the realm's
    /// thread).
    pub(crate) fn is_home(&self) -> bool {
        self.forward.is_none()
    }

    /// Sends an input to the realm, to be routed after whatever routing
    /// runs now; `false` if the realm is gone. On the realm's thread it
    /// waits in the queue for the realm's task; elsewhere in the queue of
    /// the pass that runs on this thread, if any, else in the realm's
    /// shared queue.
    pub fn send(&self, input: RealmInput) -> bool {
        match &self.forward {
            None => {
                self.queue.borrow_mut().push_back(input);
                self.wake();
                true
            }
            Some(_) if self.passing.get() => {
                self.queue.borrow_mut().push_back(input);
                true
            }
            Some(forward) => forward.send(input).is_ok(),
        }
    }

    fn wake(&self) {
        if self.waiting.replace(false) {
            if let Some(waker) = &*self.waker.borrow() {
                waker.wake_by_ref();
            }
        }
    }

    /// Queues an input without waking the realm: [`LocalInput::flush`]
    /// must follow.
    pub(crate) fn push(&self, input: RealmInput) {
        self.queue.borrow_mut().push_back(input);
    }

    /// Routes what is queued at once, when the realm's state is free: no
    /// delivery is under way on this thread (the sender is not inside a
    /// handler), nothing else holds the realm's lock, and, on the realm's
    /// thread, fewer than [`ROUTED_AT_ONCE`] inputs went this way since
    /// the realm's task last had a turn. Otherwise the realm's task routes
    /// it: woken on its thread, or given it through the shared queue from
    /// elsewhere (unless a pass on this thread takes it).
    ///
    /// A call sent this way is answered before its sender waits, when its
    /// callee is on this thread: an in-process call costs no task switch,
    /// where a queued input costs the realm's task a wake-up and a turn,
    /// and its sender another.
    pub fn flush(&self) {
        if self.route_queued() {
            return;
        }
        match &self.forward {
            None => self.wake(),
            Some(_) if self.passing.get() => {}
            Some(forward) => loop {
                let next = self.queue.borrow_mut().pop_front();
                let Some(input) = next else { break };
                // The realm is gone: its sessions are told through their
                // queues.
                let _ = forward.send(input);
            },
        }
    }

    fn route_queued(&self) -> bool {
        let home = self.is_home();
        if DELIVERING.with(Cell::get) > 0 || (home && self.routed_at_once.get() >= ROUTED_AT_ONCE) {
            return false;
        }
        let cell = &*self.shared;
        let Some(mut routing) = try_lock(cell) else { return false };
        if routing.stopped {
            return false;
        }
        if home {
            self.routed_at_once.set(self.routed_at_once.get() + 1);
        }
        // What handlers send meanwhile is routed here too, without waking
        // the realm's task for it.
        let waiting = self.waiting.replace(false);
        self.passing.set(true);
        routing.forget_clock();
        if !home {
            routing = route_shared(cell, routing);
        }
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some(input) = next else { break };
            routing.route(input);
            routing = deliver(cell, routing);
        }
        let chores = routing.has_chores();
        drop(routing);
        self.passing.set(false);
        self.waiting.set(waiting);
        if chores {
            self.shared.chores_due();
        }
        true
    }

    /// The realm's task takes a turn: sessions may route at once again.
    #[inline]
    pub(crate) fn realm_turn(&self) {
        self.routed_at_once.set(0);
    }

    /// The next input, or `Pending` (waking the realm's task on the next
    /// send).
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<RealmInput> {
        match self.queue.borrow_mut().pop_front() {
            Some(input) => {
                self.waiting.set(false);
                Poll::Ready(input)
            }
            None => {
                let mut waker = self.waker.borrow_mut();
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
                self.waiting.set(true);
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
impl LocalInput {
    /// The input of a realm of its own that routes nothing at once (it is
    /// marked stopped): what is sent waits in it, for tests to take with
    /// [`LocalInput::poll_next`].
    pub(crate) fn detached() -> Rc<Self> {
        let (shared, _) = crate::router::actor::testing::realm();
        crate::router::actor::lock(&shared).stopped = true;
        Self::home(shared)
    }
}

impl std::fmt::Debug for LocalInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalInput")
            .field("realm", &self.shared.serial())
            .field("home", &self.is_home())
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
        let home = LocalInput::home(shared.clone());
        assert!(home.is_home());
        assert!(Rc::ptr_eq(&LocalInput::of(&shared, &forward), &home), "the realm's own thread's");
        let (others, other_forward, _other_entry, _) = realm_with_a_subscriber(&subscriber);
        assert!(!Rc::ptr_eq(&LocalInput::of(&others, &other_forward), &home), "another realm's");
        let shared_there = shared.clone();
        std::thread::spawn(move || {
            let there = LocalInput::of(&shared_there, &forward);
            assert!(!there.is_home(), "nothing polls it there");
            assert!(Rc::ptr_eq(&LocalInput::of(&shared_there, &forward), &there), "one per thread");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn away_from_its_realm_a_session_routes_at_once_after_what_it_queued_before() {
        let subscriber = Rc::new(Events::default());
        let (shared, forward, _entry, publisher) = realm_with_a_subscriber(&subscriber);
        let input = LocalInput::of(&shared, &forward);
        assert!(!input.is_home(), "the realm's task runs nowhere here");
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
    fn away_from_its_realm_input_sent_inside_a_delivery_waits_for_the_pass() {
        let subscriber = Rc::new(Events::default());
        let (shared, forward, _entry, publisher) = realm_with_a_subscriber(&subscriber);
        let input = LocalInput::of(&shared, &forward);
        // Outside a pass, `send` hands the input to the shared queue...
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
    fn a_stopped_realm_routes_nothing_at_once() {
        let input = LocalInput::detached();
        input.push(RealmInput::Leave { session: 1 });
        input.flush();
        assert_eq!(input.queue.borrow().len(), 1, "left for the realm's task, which is gone");
    }

    #[test]
    fn local_input_keeps_order_and_wakes_only_a_waiting_realm() {
        let (counter, waker) = crate::test_support::WakeCounter::new();
        let wakes = || counter.count();
        let mut cx = Context::from_waker(&waker);
        let input = LocalInput::detached();
        assert!(input.poll_next(&mut cx).is_pending());
        input.send(RealmInput::Leave { session: 1 });
        assert_eq!(wakes(), 1, "the waiting realm is woken");
        let Poll::Ready(RealmInput::Leave { session: 1 }) = input.poll_next(&mut cx) else {
            panic!("1 first")
        };
        // The realm is working: a send while it works needs no wake-up.
        input.send(RealmInput::Leave { session: 2 });
        assert_eq!(wakes(), 1);
        let Poll::Ready(RealmInput::Leave { session: 2 }) = input.poll_next(&mut cx) else {
            panic!("then 2")
        };
        assert!(input.poll_next(&mut cx).is_pending());
    }
}
