//! Same-thread delivery: a realm and an in-process session on the same
//! thread hand each other messages with function calls and plain queues.
//!
//! Every delivery through a synchronised queue costs atomic operations
//! and a task wake-up of the receiver. A component embedded beside its
//! router usually runs on the realm's thread, and for it that is pure
//! overhead. So the realm delivers to such a session by calling it
//! ([`DirectPeer`]), and the session sends to the realm through a queue of
//! the realm's thread ([`LocalInput`]), which the realm drains in the same
//! turn. A delivery never re-enters the realm: the session's answer waits
//! in the queue until the delivery returns. The realm's routing state is
//! released while the session handles the message (see
//! [`deliver`](super::actor::deliver)), so no handler runs while it is
//! held.
//!
//! Even so, a queued call costs two task switches: the realm's task wakes
//! to route it, and the caller's to take the answer. A session on the
//! realm's thread that makes a call therefore routes it itself when the
//! realm's state is free ([`LocalInput::flush`]): the callee runs, its
//! answer is routed in the same pass, and the caller finds it before it
//! waits. Within limits that keep it safe (never inside a delivery) and
//! fair (a turn for the realm's task every [`ROUTED_AT_ONCE`] calls).
//!
//! A WebSocket connection on the realm's thread gains the same way on its
//! way in: it offers no peer ([`DirectOffer::input_only`]) and sends
//! through the realm's [`LocalInput`]; its deliveries still go through its
//! outbound queue, which it takes from as its socket has room.
//!
//! Actix messages must be `Send`, and these handles are not, so they never
//! travel with [`Join`](super::actor::Join). The session puts its handle
//! in a table of its own thread ([`DirectEntry`]) and sends a link to it
//! ([`DirectLink`], plain data) in its offer ([`DirectOffer::new`]), with a
//! token for its input side. The realm keeps the link, which finds the
//! handle only when the realm routes on the session's thread. A realm on
//! the same thread also claims the token and leaves its input queue in
//! exchange; a realm on another thread cannot see the offer and the
//! session sends through its ordinary queue. Once the join is answered the session
//! takes the exchange ([`DirectOffer::finish`]), which also withdraws an
//! unclaimed offer.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::actor::{deliver, try_lock, RealmInput, Shared};
use super::slot_queue::SlotQueue;
use super::IdMap;
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

/// What sessions on the realm's thread send it, in order.
#[derive(Default)]
pub struct LocalInput {
    queue: RefCell<SlotQueue<RealmInput>>,
    /// The realm's task, kept between polls.
    waker: RefCell<Option<Waker>>,
    /// Whether the realm waits for input. While it works it reads the
    /// queue again before it waits, so a send then needs no wake-up.
    waiting: Cell<bool>,
    /// The realm's routing, to route a session's input at once.
    routing: OnceCell<Arc<Shared>>,
    /// Inputs routed at once since the realm's task last looked.
    routed_at_once: Cell<u32>,
    /// Routing done at once left chores for the realm's task.
    chores: Cell<bool>,
    /// The realm's task, waiting for chores.
    chores_waker: RefCell<Option<Waker>>,
}

impl LocalInput {
    /// Queues an input for the realm.
    pub fn send(&self, input: RealmInput) {
        self.queue.borrow_mut().push_back(input);
        self.wake();
    }

    fn wake(&self) {
        if self.waiting.replace(false) {
            if let Some(waker) = &*self.waker.borrow() {
                waker.wake_by_ref();
            }
        }
    }

    /// The realm's routing, which [`LocalInput::flush`] uses.
    pub(crate) fn attach(&self, routing: Arc<Shared>) {
        let _ = self.routing.set(routing);
    }

    /// Queues an input without waking the realm: [`LocalInput::flush`]
    /// must follow.
    pub(crate) fn push(&self, input: RealmInput) {
        self.queue.borrow_mut().push_back(input);
    }

    /// Routes what is queued at once, when the realm's state is free: no
    /// delivery is under way on this thread (the sender is not inside a
    /// handler), the realm is not routing, and fewer than
    /// [`ROUTED_AT_ONCE`] inputs went this way since the realm's task last
    /// had a turn. Otherwise wakes the realm's task for it, as
    /// [`LocalInput::send`] does.
    ///
    /// A call sent this way is answered before its sender waits: an
    /// in-process call costs no task switch, where a queued input costs
    /// the realm's task a wake-up and a turn, and its sender another.
    pub fn flush(&self) {
        if !self.route_queued() {
            self.wake();
        }
    }

    fn route_queued(&self) -> bool {
        if DELIVERING.with(Cell::get) > 0 || self.routed_at_once.get() >= ROUTED_AT_ONCE {
            return false;
        }
        let Some(cell) = self.routing.get() else { return false };
        let Some(mut routing) = try_lock(cell) else { return false };
        if routing.stopped {
            return false;
        }
        self.routed_at_once.set(self.routed_at_once.get() + 1);
        // What handlers send meanwhile is routed here too, without waking
        // the realm's task for it.
        let waiting = self.waiting.replace(false);
        routing.forget_clock();
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some(input) = next else { break };
            routing.route(input);
            routing = deliver(cell, routing);
        }
        let chores = routing.has_chores();
        drop(routing);
        self.waiting.set(waiting);
        if chores && !self.chores.replace(true) {
            if let Some(waker) = self.chores_waker.borrow_mut().take() {
                waker.wake();
            }
        }
        true
    }

    /// The realm's task takes a turn: sessions may route at once again.
    #[inline]
    pub(crate) fn realm_turn(&self) {
        self.routed_at_once.set(0);
    }

    /// Ready when routing done at once left the realm chores (timers to
    /// arm, an idle check), which only its task can do.
    pub(crate) fn poll_chores(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.chores.replace(false) {
            return Poll::Ready(());
        }
        let mut waker = self.chores_waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        Poll::Pending
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

impl std::fmt::Debug for LocalInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalInput").field("queued", &self.queue.borrow().len()).finish()
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

enum Exchange {
    /// A session offers its input side.
    Offered,
    Claimed(Rc<LocalInput>),
}

thread_local! {
    static OFFERS: RefCell<IdMap<Exchange>> = RefCell::new(IdMap::default());
}

/// Tokens are unique across threads, so a claim on the wrong thread finds
/// nothing rather than someone else's session.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A session's offer to exchange messages directly: the link to its
/// entry, if it takes deliveries by call, and its input side, valid on
/// the thread that made the offer. Only plain data crosses threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectOffer {
    token: u64,
    link: Option<DirectLink>,
}

impl DirectOffer {
    /// Offers the session of `entry` on the current thread.
    pub(crate) fn new(entry: &DirectEntry) -> Self {
        Self::offer(Some(entry.link()))
    }

    /// Offers only to send through the realm's input, if the realm is on
    /// the current thread; deliveries still go through the session's
    /// queue.
    pub fn input_only() -> Self {
        Self::offer(None)
    }

    fn offer(link: Option<DirectLink>) -> Self {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        OFFERS.with(|offers| offers.borrow_mut().insert(token, Exchange::Offered));
        DirectOffer { token, link }
    }

    /// The link to the session, for a realm to hand it messages by call
    /// when it routes on the session's thread.
    pub(crate) fn link(&self) -> Option<DirectLink> {
        self.link
    }

    /// Claims the offer for a realm on this thread, leaving the realm's
    /// input in exchange. `false` if the offer was made on another
    /// thread, or already claimed or withdrawn.
    pub(crate) fn claim(&self, input: &Rc<LocalInput>) -> bool {
        OFFERS.with(|offers| {
            let mut offers = offers.borrow_mut();
            let Some(Exchange::Offered) = offers.get(&self.token) else { return false };
            offers.insert(self.token, Exchange::Claimed(input.clone()));
            true
        })
    }

    /// Ends the offer (on the thread that made it): the realm's input if a
    /// realm claimed it, else `None` and the offer is withdrawn.
    pub fn finish(self) -> Option<Rc<LocalInput>> {
        match OFFERS.with(|offers| offers.borrow_mut().remove(&self.token)) {
            Some(Exchange::Claimed(input)) => Some(input),
            Some(Exchange::Offered) | None => None,
        }
    }
}

/// How many sessions this thread's table holds.
#[cfg(test)]
pub(crate) fn entries_on_this_thread() -> usize {
    PEERS.with(|peers| peers.borrow().entries.iter().filter(|e| e.peer.is_some()).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(Cell<usize>);

    impl DirectPeer for Counter {
        fn deliver(&self, _message: WampMessage) -> Result<(), WampMessage> {
            self.0.set(self.0.get() + 1);
            Ok(())
        }
    }

    fn goodbye() -> WampMessage {
        WampMessage::Goodbye { details: crate::protocol::Dict::new(), reason: "r".into() }
    }

    #[test]
    fn an_offer_is_claimed_once_on_its_own_thread_and_answered_with_the_input() {
        let peer = Rc::new(Counter(Cell::new(0)));
        let input = Rc::new(LocalInput::default());
        let entry = DirectEntry::new(peer.clone());
        let offer = DirectOffer::new(&entry);
        assert!(offer.claim(&input));
        let link = offer.link().expect("a link to the session");
        assert!(link.peer().expect("on this thread").deliver(goodbye()).is_ok());
        assert_eq!(peer.0.get(), 1);
        assert!(!offer.claim(&input), "a second claim finds nothing");
        let answered = offer.finish().expect("the realm left its input");
        assert!(Rc::ptr_eq(&answered, &input));
        assert!(offer.finish().is_none(), "finished once");
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

    #[test]
    fn an_input_only_offer_leaves_the_input_and_no_peer() {
        let input = Rc::new(LocalInput::default());
        let offer = DirectOffer::input_only();
        assert!(offer.link().is_none(), "no peer to deliver to");
        assert!(offer.claim(&input));
        let answered = offer.finish().expect("the realm left its input");
        assert!(Rc::ptr_eq(&answered, &input));
        let elsewhere = DirectOffer::input_only();
        std::thread::spawn(move || assert!(!elsewhere.claim(&Rc::new(LocalInput::default()))))
            .join()
            .unwrap();
        assert!(elsewhere.finish().is_none(), "a realm on another thread cannot take it");
    }

    #[test]
    fn another_thread_cannot_claim_an_offer_but_keeps_its_link() {
        let entry = DirectEntry::new(Rc::new(Counter(Cell::new(0))));
        let offer = DirectOffer::new(&entry);
        let link = std::thread::spawn(move || {
            assert!(!offer.claim(&Rc::new(LocalInput::default())));
            let link = offer.link().expect("the link travels with the offer");
            assert!(link.peer().is_none(), "and finds nothing there");
            link
        })
        .join()
        .unwrap();
        assert!(link.peer().is_some(), "but does on the session's thread");
        assert!(offer.finish().is_none(), "unclaimed: withdrawn");
        assert!(!offer.claim(&Rc::new(LocalInput::default())), "and gone");
    }

    #[test]
    fn local_input_keeps_order_and_wakes_only_a_waiting_realm() {
        let (counter, waker) = crate::test_support::WakeCounter::new();
        let wakes = || counter.count();
        let mut cx = Context::from_waker(&waker);
        let input = LocalInput::default();
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
