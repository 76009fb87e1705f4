//! Handlers marked `blocking = true`: a method that is not `async`, run on
//! the blocking thread pool so that the component's thread (for an
//! embedded component, the router's) goes on routing meanwhile.
//!
//! The state moves to the worker thread for the run and back, in safe
//! code: the component is `Send`, and its lock lends the value out
//! ([`WriteGuard::lend`](super::state::WriteGuard::lend)). A task on the
//! component's thread holds the state's write lock from before the state
//! leaves until it is back, whether or not the handler still waits for
//! the answer, so no other handler ever finds it away. A blocking handler
//! therefore has the state to itself while it runs, also when it takes
//! `&self`. A job the pool drops without running it (its runtime shutting
//! down) sends the state back as it drops.
//!
//! A handler that is not `async` and not marked runs on the component's
//! thread, inside the realm's turn for an embedded component. If one of
//! its runs holds that thread past `slow_handler_ms` (the watchdog marks
//! the run), its later runs go the way of a `blocking` handler, when it
//! can: the component is `Send` (`MovesToWorker`), its arguments and
//! result are `Send + 'static`, and it takes no `Session` or details.
//! Whether it can is decided at compile time by [`Mover`]: the generated
//! code calls
//! `(&&Mover::<Self, Args, Result>::new()).movable()`, which finds
//! [`MoveToPool`] on `&Mover` when its bounds hold and falls back to
//! [`StayOnThread`] on `Mover` otherwise (method lookup tries `&&Mover`
//! before `&Mover`). A handler that cannot move stays on its thread and
//! is reported by the watchdog at each slow run, as before.

use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use futures_util::future::LocalBoxFuture;

use super::state::StateLock;
use crate::client::driver::effects::panicked;
use crate::protocol::errors;
use crate::Error;

/// What a component needs for `blocking = true` handlers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run `blocking` handlers: it must be `Send`",
    label = "`{Self}` moves to a worker thread for this handler",
    note = "the state moves to a worker thread for the run and back; keep its fields `Send` (an `Arc` \
            instead of an `Rc`), or make the method `async` and call \
            `actix_web::rt::task::spawn_blocking` in it with the data it needs"
)]
pub trait MovesToWorker: Send + 'static {}

impl<T: Send + 'static> MovesToWorker for T {}

/// The state on its way to a worker thread: sent back if the job is
/// dropped before it runs.
struct Carried<T> {
    value: Option<T>,
    back: std::sync::mpsc::Sender<T>,
}

impl<T> Drop for Carried<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            let _ = self.back.send(value);
        }
    }
}

/// Checks, where the option is written, that `T` can run `blocking`
/// handlers.
pub fn moves_to_worker<T: MovesToWorker>() {}

/// Runs `f` with the state on the blocking pool; see the module docs.
pub async fn blocking<T, R>(
    state: &Rc<StateLock<T>>,
    f: impl FnOnce(&mut T) -> R + Send + 'static,
) -> Result<R, Error>
where
    T: MovesToWorker,
    R: Send + 'static,
{
    let state = Rc::clone(state);
    let (tx, rx) = tokio::sync::oneshot::channel();
    actix::spawn(async move {
        let guard = state.write().await;
        if tx.is_closed() {
            // Nobody waits for the answer any more (the call was canceled).
            return;
        }
        let (value, lent) = guard.lend();
        let (back, returned) = std::sync::mpsc::channel();
        let carried = Carried { value: Some(value), back };
        let job = tokio::task::spawn_blocking(move || {
            let mut carried = carried;
            let mut value = carried.value.take()?;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut value)));
            Some((value, outcome))
        });
        let result = match job.await {
            Ok(Some((value, outcome))) => {
                lent.give_back(value);
                outcome.map_err(panicked)
            }
            failed => {
                // The job did not run: the state came back as it dropped.
                if let Ok(value) = returned.try_recv() {
                    lent.give_back(value);
                }
                let why = match failed {
                    Err(e) => e.to_string(),
                    Ok(_) => "it had nothing to run on".to_owned(),
                };
                Err(Error::new(errors::RUNTIME_ERROR, format!("the blocking handler did not finish: {why}")))
            }
        };
        let _ = tx.send(result);
    });
    rx.await
        .unwrap_or_else(|_| Err(Error::new(errors::CANCELED, "the component stopped while the handler ran")))
}

/// Whether a handler of `S` taking the arguments `A` (a tuple) and
/// returning `R` may move to the blocking pool; see the module docs.
pub struct Mover<S, A, R>(PhantomData<Probed<S, A, R>>);

/// The types a [`Mover`] stands for (as a function pointer, so that the
/// probe is `Send` and owns none of them).
type Probed<S, A, R> = fn() -> (S, A, R);

impl<S, A, R> Mover<S, A, R> {
    /// The probe for one handler's types.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Mover(PhantomData)
    }
}

/// Found for a handler that can move to the blocking pool.
pub trait MoveToPool {
    /// The component.
    type State;
    /// The method's return value.
    type Output;
    /// Whether the handler can move: `true` here.
    fn movable(&self) -> bool;
    /// Runs `f` on the blocking pool with the state, as a `blocking`
    /// handler runs.
    fn offload<F>(
        &self,
        state: &Rc<StateLock<Self::State>>,
        f: F,
    ) -> LocalBoxFuture<'static, Result<Self::Output, Error>>
    where
        F: FnOnce(&mut Self::State) -> Self::Output + Send + 'static;
}

impl<S: MovesToWorker, A: Send + 'static, R: Send + 'static> MoveToPool for &Mover<S, A, R> {
    type State = S;
    type Output = R;

    fn movable(&self) -> bool {
        true
    }

    #[inline(never)]
    fn offload<F>(&self, state: &Rc<StateLock<S>>, f: F) -> LocalBoxFuture<'static, Result<R, Error>>
    where
        F: FnOnce(&mut S) -> R + Send + 'static,
    {
        let state = Rc::clone(state);
        Box::pin(async move { blocking(&state, f).await })
    }
}

/// Found for a handler that cannot move: it stays on its thread.
pub trait StayOnThread {
    /// The component.
    type State;
    /// The method's return value.
    type Output;
    /// Whether the handler can move: `false` here.
    fn movable(&self) -> bool;
    /// Never called for a handler that cannot move (the generated code
    /// moves only handlers that are [`movable`](Self::movable)); answers
    /// an error if it were.
    fn offload<F>(
        &self,
        state: &Rc<StateLock<Self::State>>,
        f: F,
    ) -> LocalBoxFuture<'static, Result<Self::Output, Error>>
    where
        F: FnOnce(&mut Self::State) -> Self::Output + 'static;
}

impl<S, A, R: 'static> StayOnThread for Mover<S, A, R> {
    type State = S;
    type Output = R;

    fn movable(&self) -> bool {
        false
    }

    fn offload<F>(&self, _state: &Rc<StateLock<S>>, _f: F) -> LocalBoxFuture<'static, Result<R, Error>>
    where
        F: FnOnce(&mut S) -> R + 'static,
    {
        Box::pin(std::future::ready(Err(Error::new(
            errors::RUNTIME_ERROR,
            "this handler cannot run on the blocking pool",
        ))))
    }
}

/// Called by a handler that can move when it returns: if this run held
/// its thread past `slow_handler_ms`, its later runs go to the blocking
/// pool (`moved` is set), and the log says so once. A run that was not
/// slow costs a flag and a thread-local load.
#[inline]
pub fn note_run(moved: &Cell<bool>, handler: &str) {
    if !moved.get() && crate::client::watchdog::run_held_too_long() {
        move_now(moved, handler);
    }
}

/// [`note_run`] for a message handler, whose flag is shared by every
/// component of its type.
#[inline]
pub fn note_run_shared(moved: &AtomicBool, handler: &str) {
    if !moved.load(Relaxed) && crate::client::watchdog::run_held_too_long() {
        moved.store(true, Relaxed);
        log_move(handler);
    }
}

#[cold]
#[inline(never)]
fn move_now(moved: &Cell<bool>, handler: &str) {
    moved.set(true);
    log_move(handler);
}

#[cold]
#[inline(never)]
fn log_move(handler: &str) {
    tracing::warn!(
        handler = %handler,
        "the handler held its thread past slow_handler_ms; its later runs go to the blocking \
         thread pool (one at a time, with the component's state to themselves), so that its \
         thread (for an embedded component: the realm's) goes on meanwhile"
    );
}

/// The run of a handler that moved: `offloaded` (its method on the
/// blocking pool), then `finish` with its result, or `failed` with the
/// error of a run that could not be carried out. Out of line, so that the
/// handler's usual path stays as small as it was.
#[cold]
#[inline(never)]
pub fn run_moved<R: 'static, O: 'static>(
    offloaded: LocalBoxFuture<'static, Result<R, Error>>,
    finish: impl FnOnce(R) -> O + 'static,
    failed: impl FnOnce(Error) -> O + 'static,
) -> crate::client::session::Completion<O> {
    crate::client::session::Completion::Later(Box::pin(async move {
        match offloaded.await {
            Ok(value) => finish(value),
            Err(error) => failed(error),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_dropped_before_it_runs_sends_the_state_back() {
        let (back, returned) = std::sync::mpsc::channel();
        drop(Carried { value: Some(String::from("state")), back });
        assert_eq!(returned.try_recv().as_deref(), Ok("state"));
        let (back, returned) = std::sync::mpsc::channel::<String>();
        drop(Carried { value: None, back });
        assert!(returned.try_recv().is_err(), "a job that ran took it");
    }
}
