//! Work a session runs besides its handlers: spawned futures, delayed work
//! and intervals ([`Session::spawn`], [`Session::run_later`],
//! [`Session::run_interval`]).
//!
//! They run on the session's thread and live as long as the session's
//! actor: across reconnects, and no longer. When the actor stops (the
//! session left for good, the host shut down) every task still running is
//! dropped where it waits, as an actor's own futures and timers are.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures_util::future::{AbortHandle, Abortable};
use futures_util::FutureExt as _;

use super::Session;

/// A task started by a session: cancel it with [`TaskHandle::cancel`].
/// Dropping the handle leaves the task running. `Send`, so work elsewhere
/// can stop it.
#[derive(Clone, Debug)]
pub struct TaskHandle {
    abort: AbortHandle,
}

impl TaskHandle {
    /// Stops the task where it waits; a run of an interval that has begun
    /// is dropped at its next `.await`. Does nothing if it has finished.
    pub fn cancel(&self) {
        self.abort.abort();
    }

    /// Whether [`cancel`](Self::cancel) was called, or the session's actor
    /// stopped.
    pub fn is_canceled(&self) -> bool {
        self.abort.is_aborted()
    }
}

/// The tasks a session runs, stopped together when its actor stops.
#[derive(Default)]
pub(crate) struct Tasks {
    next: Cell<u64>,
    running: RefCell<crate::router::FastMap<u64, AbortHandle>>,
    stopped: Cell<bool>,
}

impl Tasks {
    /// How many tasks are running (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.running.borrow().len()
    }

    /// Cancels every task, and any started from now on.
    pub(crate) fn stop_all(&self) {
        self.stopped.set(true);
        let running: Vec<AbortHandle> = self.running.borrow_mut().drain().map(|(_, a)| a).collect();
        for task in running {
            task.abort();
        }
    }

    fn forget(&self, id: u64) {
        self.running.borrow_mut().remove(&id);
    }
}

impl Session {
    /// Runs `future` on the session's thread for as long as the session's
    /// actor runs, across reconnects, and no longer: work a handler starts and
    /// does not wait for. A panic in it is logged and ends only the task.
    ///
    /// ```no_run
    /// # fn demo(session: &wamp::Session) {
    /// let session2 = session.clone();
    /// session.spawn(async move {
    ///     let _ = session2.publish("com.example.started", ()).await;
    /// });
    /// # }
    /// ```
    pub fn spawn(&self, future: impl Future<Output = ()> + 'static) -> TaskHandle {
        let (abort, registration) = AbortHandle::new_pair();
        let tasks: &Tasks = &self.shared.tasks;
        if tasks.stopped.get() {
            abort.abort();
            return TaskHandle { abort };
        }
        let id = tasks.next.get();
        tasks.next.set(id + 1);
        tasks.running.borrow_mut().insert(id, abort.clone());
        let shared: Weak<_> = Rc::downgrade(&self.shared);
        let session_id = self.session_id();
        actix::spawn(async move {
            let run = std::panic::AssertUnwindSafe(Abortable::new(future, registration)).catch_unwind();
            if let Err(panic) = run.await {
                let error = super::driver::effects::panicked(panic);
                tracing::error!(session = session_id, %error, "a task of the session panicked");
            }
            if let Some(shared) = shared.upgrade() {
                shared.tasks.forget(id);
            }
        });
        TaskHandle { abort }
    }

    /// Runs `f` once, after `delay`, unless canceled first or the session's
    /// actor has stopped by then.
    ///
    /// ```no_run
    /// # fn demo(session: &wamp::Session) {
    /// use std::time::Duration;
    /// session.run_later(Duration::from_secs(30), |session| async move {
    ///     let _ = session.publish("com.example.reminder", ()).await;
    /// });
    /// # }
    /// ```
    pub fn run_later<F, Fut>(&self, delay: Duration, f: F) -> TaskHandle
    where
        F: FnOnce(Session) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let session = self.clone();
        self.spawn(async move {
            tokio::time::sleep(delay).await;
            f(session).await;
        })
    }

    /// Runs `f` every `period`, the first time one `period` from now, until
    /// canceled or the session's actor stops. Runs never overlap: a run
    /// that takes longer than `period` delays the next (ticks missed
    /// meanwhile are not made up). A zero `period` counts as one
    /// millisecond.
    ///
    /// ```no_run
    /// # fn demo(session: &wamp::Session) {
    /// use std::time::Duration;
    /// let ticker = session.run_interval(Duration::from_secs(1), |session| async move {
    ///     let _ = session.publish("com.example.tick", ()).await;
    /// });
    /// // Later:
    /// ticker.cancel();
    /// # }
    /// ```
    pub fn run_interval<F, Fut>(&self, period: Duration, mut f: F) -> TaskHandle
    where
        F: FnMut(Session) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let period = period.max(Duration::from_millis(1));
        let session = self.clone();
        self.spawn(async move {
            let start = tokio::time::Instant::now() + period;
            let mut ticks = tokio::time::interval_at(start, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                f(session.clone()).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<F: Future<Output = ()>>(test: impl FnOnce() -> F) {
        actix::System::new().block_on(async move {
            tokio::time::pause();
            test().await;
        });
    }

    #[test]
    fn an_interval_runs_until_canceled_and_never_overlaps() {
        run(|| async {
            let session = Session::detached();
            let runs = Rc::new(Cell::new(0));
            let seen = runs.clone();
            let ticker = session.run_interval(Duration::from_secs(1), move |_| {
                let seen = seen.clone();
                async move {
                    seen.set(seen.get() + 1);
                    // Longer than the period: the next run waits for this one.
                    tokio::time::sleep(Duration::from_millis(1500)).await;
                }
            });
            tokio::time::sleep(Duration::from_millis(999)).await;
            assert_eq!(runs.get(), 0, "the first run comes one period from now");
            tokio::time::sleep(Duration::from_millis(2)).await;
            assert_eq!(runs.get(), 1);
            tokio::time::sleep(Duration::from_millis(1000)).await;
            assert_eq!(runs.get(), 1, "the first run is still going");
            tokio::time::sleep(Duration::from_millis(600)).await;
            assert_eq!(runs.get(), 2);
            ticker.cancel();
            assert!(ticker.is_canceled());
            tokio::time::sleep(Duration::from_secs(10)).await;
            assert_eq!(runs.get(), 2, "nothing runs after cancel");
            assert_eq!(session.shared.tasks.len(), 0, "a finished task is forgotten");
        });
    }

    #[test]
    fn stopping_the_session_stops_its_tasks_and_any_started_later() {
        run(|| async {
            let session = Session::detached();
            let fired = Rc::new(Cell::new(false));
            let flag = fired.clone();
            session.run_later(Duration::from_secs(5), move |_| async move { flag.set(true) });
            assert_eq!(session.shared.tasks.len(), 1);
            session.shared.tasks.stop_all();
            tokio::time::sleep(Duration::from_secs(10)).await;
            assert!(!fired.get(), "a delayed run of a stopped session never comes");
            let late = session.spawn(async {});
            assert!(late.is_canceled(), "nothing starts once the session's actor stopped");
        });
    }

    #[test]
    fn a_panicking_task_ends_alone() {
        run(|| async {
            let session = Session::detached();
            session.spawn(async { panic!("in a task") });
            let done = Rc::new(Cell::new(false));
            let flag = done.clone();
            session.run_later(Duration::from_millis(10), move |_| async move { flag.set(true) });
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(done.get(), "the other task ran");
            assert_eq!(session.shared.tasks.len(), 0, "both are forgotten");
        });
    }
}
