//! What the running code holds of its session's component state, so that
//! a call which could never be answered fails at once instead of waiting
//! for its timeout.
//!
//! A component's procedures take its state through a lock. A method that
//! holds the state exclusively (`&mut self`) and calls a procedure of the
//! same component waits for an answer that needs the very lock it holds;
//! so does a `&self` method calling a `&mut self` procedure of its own.
//! The code `#[wamp::component]` generates marks every method it runs with
//! [`holding`] (or wraps its future in [`Holding`]), and
//! [`Session::call`](super::Session::call) checks the mark before sending.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use super::Session;

/// How a method uses its component's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateAccess {
    /// `&self`: shared with other `&self` methods.
    Read,
    /// `&mut self`: alone.
    Write,
}

impl StateAccess {
    /// Whether code holding `self` waits for a method needing `other`
    /// forever if it waits for that method's answer.
    pub fn excludes(self, other: StateAccess) -> bool {
        self == StateAccess::Write || other == StateAccess::Write
    }

    /// As written in the method's signature.
    pub fn receiver(self) -> &'static str {
        match self {
            StateAccess::Read => "&self",
            StateAccess::Write => "&mut self",
        }
    }
}

thread_local! {
    /// The session (by its shared state's address) whose component method
    /// is running on this thread right now, and how it holds the state.
    static HOLDING: Cell<Option<(usize, StateAccess)>> = const { Cell::new(None) };
}

/// The mark of a running method, taken off when dropped (also when the
/// method panics), restoring the mark of the code around it.
struct Mark {
    previous: Option<(usize, StateAccess)>,
}

impl Mark {
    fn set(ctx: &Session, access: StateAccess) -> Self {
        Mark { previous: HOLDING.with(|h| h.replace(Some((ctx.identity(), access)))) }
    }
}

impl Drop for Mark {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(self.previous));
    }
}

/// How the code running now holds `session`'s component state, if it is a
/// method of that component.
pub(crate) fn held_by(session: &Session) -> Option<StateAccess> {
    held_by_session(session.identity())
}

/// [`held_by`] for a session known by its identity
/// ([`Session::identity`]).
pub(crate) fn held_by_session(identity: usize) -> Option<StateAccess> {
    HOLDING.with(|h| h.get()).and_then(|(holder, access)| (holder == identity).then_some(access))
}

/// Runs a method that is not `async` as one holding `session`'s state.
pub fn holding<T>(session: &Session, access: StateAccess, run: impl FnOnce() -> T) -> T {
    let _mark = Mark::set(session, access);
    run()
}

pin_project_lite::pin_project! {
    /// The future of an `async` method, marked as holding its session's
    /// state whenever it is polled.
    pub struct Holding<F> {
        #[pin]
        future: F,
        ctx: Session,
        access: StateAccess,
    }
}

impl<F> Holding<F> {
    /// Marks `future`.
    pub fn new(ctx: &Session, access: StateAccess, future: F) -> Self {
        Holding { future, ctx: ctx.clone(), access }
    }
}

impl<F: Future> Future for Holding<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _mark = Mark::set(this.ctx, *this.access);
        this.future.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;

    #[test]
    fn the_mark_covers_the_method_and_its_session_only() {
        let (ctx, other) = (Session::detached(), Session::detached());
        assert_eq!(held_by(&ctx), None);
        holding(&ctx, StateAccess::Write, || {
            assert_eq!(held_by(&ctx), Some(StateAccess::Write));
            assert_eq!(held_by(&other), None, "another session's state is not held");
            holding(&other, StateAccess::Read, || assert_eq!(held_by(&ctx), None));
            assert_eq!(held_by(&ctx), Some(StateAccess::Write), "restored after a nested method");
        });
        assert_eq!(held_by(&ctx), None);
    }

    #[test]
    fn a_panicking_method_leaves_no_mark() {
        let ctx = Session::detached();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            holding(&ctx, StateAccess::Write, || panic!("in the method"))
        }));
        assert!(panicked.is_err());
        assert_eq!(held_by(&ctx), None);
    }

    #[test]
    fn an_async_method_is_marked_while_polled() {
        let ctx = Session::detached();
        let inner = ctx.clone();
        let future = Holding::new(&ctx, StateAccess::Read, async move { held_by(&inner) });
        assert_eq!(future.now_or_never(), Some(Some(StateAccess::Read)));
        assert_eq!(held_by(&ctx), None);
    }

    #[test]
    fn only_write_access_on_either_side_excludes() {
        use StateAccess::*;
        assert!(!Read.excludes(Read));
        assert!(Read.excludes(Write));
        assert!(Write.excludes(Read));
        assert!(Write.excludes(Write));
    }
}
