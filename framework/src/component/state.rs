//! [`StateLock`]: the lock around a component's state.
//!
//! A component lives on its session's thread, so its lock needs no
//! atomics: `&self` handlers share it, `&mut self` handlers take it alone,
//! and an `async` handler may hold it across `.await`. Waiters are served
//! first come, first served, so a stream of readers cannot starve a
//! writer. The common case, a free lock, is a counter check.
//!
//! The value sits in a `RefCell`; the lock decides *when* a borrow may be
//! taken and never asks for one that could conflict, so the cell's own
//! check never fails.
//!
//! A writer may lend the value out ([`WriteGuard::lend`]), to a worker
//! thread for a `blocking` handler: the lock stays held until the value
//! is back, so no guard ever finds the cell empty. A value that never
//! comes back leaves the lock held for good.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::collections::VecDeque;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A single-threaded, fair, asynchronous read/write lock.
pub struct StateLock<T> {
    /// `None` only while lent out, under the lock.
    value: RefCell<Option<T>>,
    /// Readers holding (or granted) the lock.
    readers: Cell<usize>,
    /// Whether a writer holds (or was granted) the lock.
    writer: Cell<bool>,
    queue: RefCell<VecDeque<Rc<Waiter>>>,
}

struct Waiter {
    write: bool,
    granted: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl<T> StateLock<T> {
    /// A free lock around `value`.
    pub fn new(value: T) -> Self {
        StateLock {
            value: RefCell::new(Some(value)),
            readers: Cell::new(0),
            writer: Cell::new(false),
            queue: RefCell::new(VecDeque::new()),
        }
    }

    /// Whether `&self` methods hold the lock now.
    pub fn read_held(&self) -> bool {
        self.readers.get() > 0
    }

    /// Read access now if no writer holds the lock, even if one waits for
    /// it: for a `&self` method that a `&self` method holding the lock is
    /// waiting for (a component calling its own procedure), which would
    /// otherwise wait behind the writer, which waits for the holder.
    pub fn try_read_past_waiting_writers(&self) -> Option<ReadGuard<'_, T>> {
        if self.writer.get() {
            return None;
        }
        self.readers.set(self.readers.get() + 1);
        Some(ReadGuard::new(self))
    }

    /// Read access now, if no writer holds the lock or waits for it.
    pub fn try_read(&self) -> Option<ReadGuard<'_, T>> {
        if self.writer.get() || !self.queue.borrow().is_empty() {
            return None;
        }
        self.readers.set(self.readers.get() + 1);
        Some(ReadGuard::new(self))
    }

    /// Exclusive access now, if nobody holds the lock or waits for it.
    pub fn try_write(&self) -> Option<WriteGuard<'_, T>> {
        if self.writer.get() || self.readers.get() > 0 || !self.queue.borrow().is_empty() {
            return None;
        }
        self.writer.set(true);
        Some(WriteGuard::new(self))
    }

    /// Read access, once every writer ahead has finished.
    pub fn read(&self) -> Acquire<'_, T, false> {
        Acquire { lock: self, waiter: None }
    }

    /// Exclusive access, once everyone ahead has finished.
    pub fn write(&self) -> Acquire<'_, T, true> {
        Acquire { lock: self, waiter: None }
    }

    /// Exclusive access, its place in the queue taken now, before anyone
    /// awaits it: for a run handed to another task, which must come before
    /// the readers and writers that arrive meanwhile.
    pub fn queue_write(self: &Rc<Self>) -> WriteTicket<T> {
        let waiter = self.take_or_queue(true, None).unwrap_or_else(|| {
            // Taken at once: a waiter already granted.
            Rc::new(Waiter { write: true, granted: Cell::new(true), waker: RefCell::new(None) })
        });
        WriteTicket { lock: Rc::clone(self), waiter: Some(waiter) }
    }

    /// Gives a released lock to the waiters at the front of the queue: one
    /// writer, or every reader up to the next writer.
    fn hand_over(&self) {
        let mut queue = self.queue.borrow_mut();
        while let Some(front) = queue.front() {
            if front.write {
                if self.writer.get() || self.readers.get() > 0 {
                    break;
                }
                self.writer.set(true);
            } else {
                if self.writer.get() {
                    break;
                }
                self.readers.set(self.readers.get() + 1);
            }
            let Some(waiter) = queue.pop_front() else { break };
            waiter.granted.set(true);
            if let Some(waker) = waiter.waker.take() {
                waker.wake();
            }
            if waiter.write {
                break;
            }
        }
    }

    /// Takes the lock now if it is free and nobody waits for it
    /// (`None`), else queues a waiter, woken by `waker` once granted.
    fn take_or_queue(&self, write: bool, waker: Option<Waker>) -> Option<Rc<Waiter>> {
        let free =
            !self.writer.get() && (!write || self.readers.get() == 0) && self.queue.borrow().is_empty();
        if free {
            if write {
                self.writer.set(true);
            } else {
                self.readers.set(self.readers.get() + 1);
            }
            return None;
        }
        let waiter = Rc::new(Waiter { write, granted: Cell::new(false), waker: RefCell::new(waker) });
        self.queue.borrow_mut().push_back(Rc::clone(&waiter));
        Some(waiter)
    }

    fn release(&self, write: bool) {
        if write {
            self.writer.set(false);
        } else {
            self.readers.set(self.readers.get() - 1);
        }
        self.hand_over();
    }
}

impl<T: Default> Default for StateLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> std::fmt::Debug for StateLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateLock")
            .field("readers", &self.readers.get())
            .field("writer", &self.writer.get())
            .field("waiting", &self.queue.borrow().len())
            .finish()
    }
}

/// Waits for the lock: a reader (`WRITE = false`) or a writer.
pub struct Acquire<'a, T, const WRITE: bool> {
    lock: &'a StateLock<T>,
    waiter: Option<Rc<Waiter>>,
}

impl<'a, T, const WRITE: bool> Acquire<'a, T, WRITE> {
    /// Polls for the lock; `true` once it is held for this waiter.
    fn poll_granted(&mut self, cx: &mut Context<'_>) -> bool {
        match &self.waiter {
            Some(waiter) if waiter.granted.get() => {
                self.waiter = None;
                true
            }
            Some(waiter) => {
                *waiter.waker.borrow_mut() = Some(cx.waker().clone());
                false
            }
            None => match self.lock.take_or_queue(WRITE, Some(cx.waker().clone())) {
                None => true,
                Some(waiter) => {
                    self.waiter = Some(waiter);
                    false
                }
            },
        }
    }
}

impl<'a, T> Future for Acquire<'a, T, false> {
    type Output = ReadGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ReadGuard<'a, T>> {
        if self.poll_granted(cx) {
            let lock = self.lock;
            Poll::Ready(ReadGuard::new(lock))
        } else {
            Poll::Pending
        }
    }
}

impl<'a, T> Future for Acquire<'a, T, true> {
    type Output = WriteGuard<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WriteGuard<'a, T>> {
        if self.poll_granted(cx) {
            let lock = self.lock;
            Poll::Ready(WriteGuard::new(lock))
        } else {
            Poll::Pending
        }
    }
}

impl<T, const WRITE: bool> Drop for Acquire<'_, T, WRITE> {
    fn drop(&mut self) {
        // A waiter given up: return the lock if it was already granted,
        // else leave the queue (which may free the ones behind it).
        if let Some(waiter) = self.waiter.take() {
            if waiter.granted.get() {
                self.lock.release(WRITE);
            } else {
                self.lock.queue.borrow_mut().retain(|w| !Rc::ptr_eq(w, &waiter));
                self.lock.hand_over();
            }
        }
    }
}

/// A place in a [`StateLock`]'s queue for exclusive access
/// ([`StateLock::queue_write`]); given up if dropped unused.
pub struct WriteTicket<T> {
    lock: Rc<StateLock<T>>,
    waiter: Option<Rc<Waiter>>,
}

impl<T> WriteTicket<T> {
    /// Waits for the access the ticket stands for.
    pub fn write(&mut self) -> Acquire<'_, T, true> {
        Acquire { lock: &self.lock, waiter: self.waiter.take() }
    }
}

impl<T> Drop for WriteTicket<T> {
    fn drop(&mut self) {
        // Unused: leave the queue, or release the lock if already granted.
        drop(self.write());
    }
}

/// Read access to a [`StateLock`]'s value.
pub struct ReadGuard<'a, T> {
    // Fields drop in order: the borrow ends before the lock is released.
    value: Ref<'a, T>,
    _held: Held<'a, T>,
}

impl<'a, T> ReadGuard<'a, T> {
    /// The guard of a read hold just taken.
    fn new(lock: &'a StateLock<T>) -> Self {
        ReadGuard { value: Ref::map(lock.value.borrow(), present), _held: Held { lock, write: false } }
    }
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// Exclusive access to a [`StateLock`]'s value.
pub struct WriteGuard<'a, T> {
    value: RefMut<'a, Option<T>>,
    held: Held<'a, T>,
}

impl<'a, T> WriteGuard<'a, T> {
    /// The guard of a write hold just taken.
    fn new(lock: &'a StateLock<T>) -> Self {
        WriteGuard { value: lock.value.borrow_mut(), held: Held { lock, write: true } }
    }

    /// Takes the value out, keeping the lock held until it is given back
    /// ([`Lent::give_back`]); if it never is, the lock stays held.
    pub fn lend(self) -> (T, Lent<'a, T>) {
        let WriteGuard { mut value, held } = self;
        let taken = value.take();
        drop(value);
        match taken {
            Some(taken) => (taken, Lent { held: Some(held) }),
            None => lent_twice(),
        }
    }
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        present(&self.value)
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match self.value.as_mut() {
            Some(value) => value,
            None => lent_twice(),
        }
    }
}

/// A [`StateLock`] held while its value is away (see [`WriteGuard::lend`]).
pub struct Lent<'a, T> {
    held: Option<Held<'a, T>>,
}

impl<T> Lent<'_, T> {
    /// Puts the value back and releases the lock.
    pub fn give_back(mut self, value: T) {
        if let Some(held) = self.held.take() {
            *held.lock.value.borrow_mut() = Some(value);
        }
    }
}

impl<T> Drop for Lent<'_, T> {
    fn drop(&mut self) {
        // Never given back: nobody may find the cell empty, so the lock
        // stays held.
        if let Some(held) = self.held.take() {
            std::mem::forget(held);
        }
    }
}

/// The value of a cell that the lock's holder may read: present, as only
/// a lent value is away, and the lock is held while it is.
fn present<T>(value: &Option<T>) -> &T {
    match value {
        Some(value) => value,
        None => lent_twice(),
    }
}

#[cold]
fn lent_twice() -> ! {
    unreachable!(
        "a component's state is reached only under its lock, which stays held while the state is lent"
    )
}

/// A hold on the lock, released when dropped.
struct Held<'a, T> {
    lock: &'a StateLock<T>,
    write: bool,
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        self.lock.release(self.write);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;
    use std::task::Poll;

    fn poll<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
        f.poll_unpin(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn readers_share_and_a_writer_waits_for_them() {
        let lock = StateLock::new(0);
        let r1 = lock.try_read().unwrap();
        let r2 = lock.try_read().unwrap();
        let mut w = lock.write();
        assert!(poll(&mut w).is_pending());
        drop(r1);
        assert!(poll(&mut w).is_pending(), "one reader is still in");
        drop(r2);
        let Poll::Ready(mut guard) = poll(&mut w) else { panic!("the writer is next") };
        *guard = 7;
        drop(guard);
        assert_eq!(*lock.try_read().unwrap(), 7);
    }

    #[test]
    fn a_waiting_writer_keeps_later_readers_out() {
        let lock = StateLock::new(());
        let r = lock.try_read().unwrap();
        let mut w = lock.write();
        assert!(poll(&mut w).is_pending());
        assert!(lock.try_read().is_none(), "first come, first served");
        let mut late = lock.read();
        assert!(poll(&mut late).is_pending());
        drop(r);
        let Poll::Ready(guard) = poll(&mut w) else { panic!("the writer is next") };
        assert!(poll(&mut late).is_pending());
        drop(guard);
        assert!(poll(&mut late).is_ready());
    }

    #[test]
    fn every_reader_up_to_the_next_writer_goes_together() {
        let lock = StateLock::new(());
        let w = lock.try_write().unwrap();
        let (mut r1, mut r2, mut w2, mut r3) = (lock.read(), lock.read(), lock.write(), lock.read());
        // Queued in this order: r1, r2, w2, r3.
        assert!(poll(&mut r1).is_pending());
        assert!(poll(&mut r2).is_pending());
        assert!(poll(&mut w2).is_pending());
        assert!(poll(&mut r3).is_pending());
        drop(w);
        let (Poll::Ready(g1), Poll::Ready(g2)) = (poll(&mut r1), poll(&mut r2)) else {
            panic!("both readers before the writer")
        };
        assert!(poll(&mut w2).is_pending());
        assert!(poll(&mut r3).is_pending(), "behind the writer");
        drop((g1, g2));
        let Poll::Ready(g) = poll(&mut w2) else { panic!("the writer is next") };
        drop(g);
        assert!(poll(&mut r3).is_ready());
    }

    #[test]
    fn a_waiter_that_gives_up_frees_those_behind_it() {
        let lock = StateLock::new(());
        let r = lock.try_read().unwrap();
        let mut w = lock.write();
        assert!(poll(&mut w).is_pending());
        let mut reader = lock.read();
        assert!(poll(&mut reader).is_pending());
        drop(w);
        assert!(poll(&mut reader).is_ready(), "nothing is ahead now");
        drop(r);
    }

    #[test]
    fn a_granted_waiter_that_gives_up_returns_the_lock() {
        let lock = StateLock::new(());
        let r = lock.try_read().unwrap();
        let mut w = lock.write();
        assert!(poll(&mut w).is_pending());
        drop(r);
        drop(w);
        assert!(lock.try_write().is_some());
    }

    #[test]
    fn a_release_wakes_the_waiter() {
        let (wakes, waker) = crate::test_support::WakeCounter::new();
        let lock = StateLock::new(());
        let w = lock.try_write().unwrap();
        let mut r = lock.read();
        assert!(r.poll_unpin(&mut Context::from_waker(&waker)).is_pending());
        assert_eq!(wakes.count(), 0);
        drop(w);
        assert_eq!(wakes.count(), 1);
    }

    #[test]
    fn a_lent_value_keeps_the_lock_held_until_it_is_back() {
        let lock = StateLock::new(String::from("state"));
        let (mut value, lent) = lock.try_write().unwrap().lend();
        assert!(lock.try_read().is_none() && lock.try_write().is_none(), "held while away");
        let mut reader = lock.read();
        assert!(poll(&mut reader).is_pending());
        value.push_str(", changed away");
        lent.give_back(value);
        match poll(&mut reader) {
            Poll::Ready(guard) => assert_eq!(*guard, "state, changed away"),
            Poll::Pending => panic!("the lock is free again"),
        };
    }

    #[test]
    fn a_queued_write_comes_before_later_readers_and_an_unused_ticket_gives_way() {
        let lock = Rc::new(StateLock::new(0));
        let first = lock.try_read().unwrap();
        let mut ticket = lock.queue_write();
        assert!(lock.try_read().is_none(), "a writer waits");
        let mut later = lock.read();
        assert!(poll(&mut later).is_pending());
        drop(first);
        {
            let mut write = ticket.write();
            let Poll::Ready(mut guard) = poll(&mut write) else { panic!("the ticket's turn") };
            *guard += 1;
            assert!(poll(&mut later).is_pending(), "the reader comes after");
        }
        match poll(&mut later) {
            Poll::Ready(guard) => assert_eq!(*guard, 1),
            Poll::Pending => panic!("the writer is done"),
        };
        drop(later);

        // Taken at once on a free lock, given back unused.
        let ticket = lock.queue_write();
        assert!(lock.try_read().is_none(), "held by the ticket");
        drop(ticket);
        // Queued, given up unused: the reader behind it goes in.
        let reader = lock.try_read().unwrap();
        let ticket = lock.queue_write();
        let mut behind = lock.read();
        assert!(poll(&mut behind).is_pending());
        drop(ticket);
        assert!(poll(&mut behind).is_ready(), "the queue moved on");
        drop(reader);
    }

    #[test]
    fn a_value_that_never_comes_back_leaves_the_lock_held() {
        let lock = StateLock::new(String::from("state"));
        let (value, lent) = lock.try_write().unwrap().lend();
        drop(lent);
        drop(value);
        assert!(lock.try_read().is_none() && lock.try_write().is_none(), "nobody finds it away");
    }
}
