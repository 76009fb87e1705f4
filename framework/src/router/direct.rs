//! Same-thread delivery: a realm hands messages to an in-process session
//! on its own thread with a function call instead of a queue.
//!
//! Every delivery through a queue costs a task wake-up of the receiver. A
//! component embedded beside its router usually runs on the realm's
//! thread, and for it the wake-up is pure overhead: the realm can run the
//! session's handling itself. Sessions still send to the realm through its
//! input queue, so a delivery never re-enters the realm.
//!
//! Actix messages must be `Send`, and a session's handle is not, so a
//! session does not send its handle with [`Join`](super::actor::Join). It
//! *offers* it on its own thread ([`DirectOffer::new`]) and sends the
//! offer's token. A realm on the same thread claims the handle; a realm on
//! another thread cannot see it and uses the session's queue. The session
//! withdraws the offer once the join is answered either way.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::actor::ToPeer;
use super::FastMap;

/// A session that takes its deliveries as calls on the realm's thread.
pub trait DirectPeer {
    /// Takes one delivery, in order. It may send to the realm (through the
    /// realm's input queue) but must not wait for it.
    fn deliver(&self, to_peer: ToPeer);
}

thread_local! {
    static OFFERS: RefCell<FastMap<u64, Rc<dyn DirectPeer>>> = RefCell::new(FastMap::default());
}

/// Tokens are unique across threads, so a claim on the wrong thread finds
/// nothing rather than someone else's session.
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

/// A session's offer to take deliveries directly, valid on the thread that
/// made it. Only the token crosses threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectOffer {
    token: u64,
}

impl DirectOffer {
    /// Offers `peer` on the current thread.
    pub fn new(peer: Rc<dyn DirectPeer>) -> Self {
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        OFFERS.with(|offers| offers.borrow_mut().insert(token, peer));
        DirectOffer { token }
    }

    /// The offered session, if it was offered on this thread and not yet
    /// claimed or withdrawn.
    pub fn claim(self) -> Option<Rc<dyn DirectPeer>> {
        OFFERS.with(|offers| offers.borrow_mut().remove(&self.token))
    }

    /// Withdraws the offer if nobody claimed it (call on the thread that
    /// made it).
    pub fn withdraw(self) {
        drop(self.claim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct Counter(Cell<usize>);

    impl DirectPeer for Counter {
        fn deliver(&self, _to_peer: ToPeer) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn an_offer_is_claimed_once_on_its_own_thread() {
        let peer = Rc::new(Counter(Cell::new(0)));
        let offer = DirectOffer::new(peer.clone());
        let claimed = offer.claim().expect("offered on this thread");
        claimed.deliver(ToPeer::Close { reason: "r", message: String::new() });
        assert_eq!(peer.0.get(), 1);
        assert!(offer.claim().is_none(), "a second claim finds nothing");
    }

    #[test]
    fn another_thread_cannot_claim_an_offer() {
        let offer = DirectOffer::new(Rc::new(Counter(Cell::new(0))));
        let elsewhere = std::thread::spawn(move || offer.claim().is_some()).join().unwrap();
        assert!(!elsewhere);
        assert!(offer.claim().is_some(), "still there for its own thread");
    }

    #[test]
    fn a_withdrawn_offer_cannot_be_claimed() {
        let offer = DirectOffer::new(Rc::new(Counter(Cell::new(0))));
        offer.withdraw();
        assert!(offer.claim().is_none());
    }
}
