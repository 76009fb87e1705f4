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
//! A handler that is not `async` and not marked starts on the pool too,
//! on trial, when it can move: the component is `Send`
//! (`MovesToWorker`), its arguments and result are `Send + 'static`, and
//! it does not take the `Session` (call details go as a copy whose control
//! reaches the call through a relay, `client::pool_call`). Whether it can
//! is decided at
//! compile time by [`Mover`]: the generated code calls
//! `(&&Mover::<Self, Args, Result>::new()).movable()`, which finds
//! [`MoveToPool`] on `&Mover` when its bounds hold and falls back to
//! [`StayOnThread`] on `Mover` otherwise (method lookup tries `&&Mover`
//! before `&Mover`). A handler that cannot move runs on its thread, and
//! is reported by the watchdog at each slow run.
//!
//! The pool times each run. After [`BACK_AFTER`] runs that each took
//! less than half of `slow_handler_ms`, the handler is trusted and runs
//! on its thread, inside the routing pass for an embedded component; one
//! slow run on trial keeps it on the pool. A trusted handler whose run
//! holds its thread past `slow_handler_ms` (the watchdog marks the run)
//! goes to the pool for its later runs. A slow run may be the machine's
//! fault (a pause of the host) or a first run's (a cache filled, a
//! connection opened), and a handler on the pool pays two thread
//! hand-overs per run. So a moved handler whose last [`BACK_AFTER`] runs
//! on the pool each took less than half of `slow_handler_ms` goes back to
//! its thread. One that is slow there again moves for good: an unmarked
//! handler holds its thread too long at most twice, and never before its
//! trial is over ([`Placement`]).
//!
//! On the pool a handler has the state to itself. A moved `&self` handler
//! therefore runs on its thread after all while `&self` methods hold the
//! state (the generated code asks [`StateLock::read_held`]): one of them
//! may be a method of the component waiting for this very run, which
//! would wait forever for the state to be free.

use std::marker::PhantomData;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::{Duration, Instant};

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

/// Runs `f` with the state on the blocking pool; see the module docs.
pub fn blocking<T, R>(
    state: &Rc<StateLock<T>>,
    f: impl FnOnce(&mut T) -> R + Send + 'static,
) -> impl std::future::Future<Output = Result<R, Error>> + 'static
where
    T: MovesToWorker,
    R: Send + 'static,
{
    let run = on_pool(state, f);
    async move { run.await.map(|(value, _)| value) }
}

/// [`blocking`], also answering how long `f` ran on its worker thread.
///
/// The run's place in the state's queue is taken when this is called,
/// not when the answer is first awaited: a `&self` method that arrives in
/// between waits behind the run, instead of holding it up for as long as
/// it holds the state (the caller checked that nobody held it).
fn on_pool<T, R>(
    state: &Rc<StateLock<T>>,
    f: impl FnOnce(&mut T) -> R + Send + 'static,
) -> impl std::future::Future<Output = Result<(R, Duration), Error>> + 'static
where
    T: MovesToWorker,
    R: Send + 'static,
{
    let mut ticket = state.queue_write();
    let (tx, rx) = tokio::sync::oneshot::channel();
    actix::spawn(async move {
        let guard = ticket.write().await;
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
            let began = Instant::now();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut value)));
            Some((value, outcome, began.elapsed()))
        });
        let result = match job.await {
            Ok(Some((value, outcome, took))) => {
                lent.give_back(value);
                outcome.map(|output| (output, took)).map_err(panicked)
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
    async move {
        rx.await.unwrap_or_else(|_| {
            Err(Error::new(errors::CANCELED, "the component stopped while the handler ran"))
        })
    }
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
    /// handler runs, and tells `placement` how long it took (`handler`
    /// names it in the log).
    fn offload<F, P>(
        &self,
        state: &Rc<StateLock<Self::State>>,
        placement: P,
        handler: &'static str,
        f: F,
    ) -> LocalBoxFuture<'static, Result<Self::Output, Error>>
    where
        F: FnOnce(&mut Self::State) -> Self::Output + Send + 'static,
        P: Deref<Target = Placement> + 'static;
}

impl<S: MovesToWorker, A: Send + 'static, R: Send + 'static> MoveToPool for &Mover<S, A, R> {
    type State = S;
    type Output = R;

    fn movable(&self) -> bool {
        true
    }

    #[inline(never)]
    fn offload<F, P>(
        &self,
        state: &Rc<StateLock<S>>,
        placement: P,
        handler: &'static str,
        f: F,
    ) -> LocalBoxFuture<'static, Result<R, Error>>
    where
        F: FnOnce(&mut S) -> R + Send + 'static,
        P: Deref<Target = Placement> + 'static,
    {
        let run = on_pool(state, f);
        Box::pin(async move {
            let (value, took) = run.await?;
            placement.note_pool_run(took, handler);
            Ok(value)
        })
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
    fn offload<F, P>(
        &self,
        state: &Rc<StateLock<Self::State>>,
        placement: P,
        handler: &'static str,
        f: F,
    ) -> LocalBoxFuture<'static, Result<Self::Output, Error>>
    where
        F: FnOnce(&mut Self::State) -> Self::Output + 'static,
        P: Deref<Target = Placement> + 'static;
}

impl<S, A, R: 'static> StayOnThread for Mover<S, A, R> {
    type State = S;
    type Output = R;

    fn movable(&self) -> bool {
        false
    }

    fn offload<F, P>(
        &self,
        _state: &Rc<StateLock<S>>,
        _placement: P,
        _handler: &'static str,
        _f: F,
    ) -> LocalBoxFuture<'static, Result<R, Error>>
    where
        F: FnOnce(&mut S) -> R + 'static,
        P: Deref<Target = Placement> + 'static,
    {
        Box::pin(std::future::ready(Err(Error::new(
            errors::RUNTIME_ERROR,
            "this handler cannot run on the blocking pool",
        ))))
    }
}

/// How many runs in a row on the pool, each quick, bring a handler on
/// trial or a moved one to its thread.
pub const BACK_AFTER: u32 = 32;

/// How many times a handler moves to the pool: after the second it stays.
const MOVES_AT_MOST: u32 = 2;

/// Where a handler that can move runs, and how it got there.
///
/// Packed into one atomic word, so that a message handler's placement can
/// be a `static` shared by every component of its type (on any thread)
/// and a procedure's or event handler's is the same type: bit 0 says the
/// handler runs on the pool, bits 1-2 count its moves, bit 3 says its
/// first run has placed it, bit 4 that it is on trial, bits 8 and up
/// count the quick runs in a row on the pool. Reading it is one relaxed
/// load, the only cost on a handler's usual path.
#[derive(Debug, Default)]
pub struct Placement(AtomicU32);

const ON_POOL: u32 = 1;
const MOVE: u32 = 1 << 1;
const MOVES: u32 = 0b11 << 1;
const STARTED: u32 = 1 << 3;
const TRIAL: u32 = 1 << 4;
const QUICK: u32 = 1 << 8;

/// What a run changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    Stays,
    ToPool,
    BackToThread,
    /// A run on trial was slow: the handler stays on the pool, as moved.
    SlowOnTrial,
    /// The trial's runs were quick: the handler runs on its thread.
    Trusted,
}

/// Where a handler's first run places it: a handler that can move starts
/// on the pool, on trial, while slow runs are looked for at all.
fn first_placement(movable: bool, watched: bool) -> u32 {
    if movable && watched {
        STARTED | ON_POOL | TRIAL
    } else {
        STARTED
    }
}

/// After a run on the handler's thread that held it too long.
fn after_slow_run(word: u32) -> (u32, Turn) {
    if word & ON_POOL != 0 {
        return (word, Turn::Stays);
    }
    // The move count saturates at its limit (it reaches it only here).
    let moves = (word & MOVES).saturating_add(MOVE).min(MOVES_AT_MOST * MOVE);
    (STARTED | moves | ON_POOL, Turn::ToPool)
}

/// After a run on the pool; `quick`: it took less than half the threshold.
fn after_pool_run(word: u32, quick: bool) -> (u32, Turn) {
    let moves = word & MOVES;
    if word & ON_POOL == 0 || moves >= MOVES_AT_MOST * MOVE {
        return (word, Turn::Stays);
    }
    let trial = word & TRIAL != 0;
    if !quick {
        return match trial {
            // Slow from the start: it stays, and counts as moved once.
            true => (STARTED | MOVE | ON_POOL, Turn::SlowOnTrial),
            false => (STARTED | moves | ON_POOL, Turn::Stays),
        };
    }
    let streak = word / QUICK + 1;
    if streak >= BACK_AFTER {
        (STARTED | moves, if trial { Turn::Trusted } else { Turn::BackToThread })
    } else {
        ((streak * QUICK) | (word & TRIAL) | STARTED | moves | ON_POOL, Turn::Stays)
    }
}

impl Placement {
    /// Not placed yet: its first run places it.
    pub const fn new() -> Self {
        Placement(AtomicU32::new(0))
    }

    /// Whether the handler's next run goes to the blocking pool; its first
    /// call places it (`movable`: whether it can move at all).
    #[inline]
    pub fn on_pool(&self, movable: bool) -> bool {
        let word = self.0.load(Relaxed);
        if word & STARTED != 0 {
            word & ON_POOL != 0
        } else {
            self.start(movable)
        }
    }

    #[cold]
    #[inline(never)]
    fn start(&self, movable: bool) -> bool {
        let first = first_placement(movable, crate::client::watchdog::threshold().is_some());
        // Two threads may start one message handler at once: the first wins.
        let word = match self.0.compare_exchange(0, first, Relaxed, Relaxed) {
            Ok(_) => first,
            Err(placed) => placed,
        };
        word & ON_POOL != 0
    }

    /// Whether the handler runs on the blocking pool now.
    #[inline]
    pub fn moved(&self) -> bool {
        self.0.load(Relaxed) & ON_POOL != 0
    }

    /// Called by a handler that can move when a run on its thread
    /// returns: if the run held the thread past `slow_handler_ms`, later
    /// runs go to the blocking pool, and the log says so. A run that was
    /// not slow costs two loads.
    #[inline]
    pub fn note_run(&self, handler: &str) {
        if !self.moved() && crate::client::watchdog::run_held_too_long() {
            self.turn(handler, Duration::ZERO, after_slow_run);
        }
    }

    /// Called when a run on the pool is done, with how long it took.
    pub fn note_pool_run(&self, took: Duration, handler: &str) {
        let quick = crate::client::watchdog::threshold().is_some_and(|limit| took < limit / 2);
        self.turn(handler, took, |word| after_pool_run(word, quick));
    }

    #[cold]
    #[inline(never)]
    fn turn(&self, handler: &str, took: Duration, step: impl Fn(u32) -> (u32, Turn)) {
        let mut turn = Turn::Stays;
        // Two threads may note runs of one message handler at once.
        let _ = self.0.fetch_update(Relaxed, Relaxed, |word| {
            let (next, taken) = step(word);
            turn = taken;
            (next != word).then_some(next)
        });
        match turn {
            Turn::Stays => {}
            Turn::ToPool => log_move(handler, self.0.load(Relaxed) & MOVES >= MOVES_AT_MOST * MOVE),
            Turn::BackToThread => tracing::info!(
                handler = %handler,
                "the handler's last {BACK_AFTER} runs on the blocking thread pool were quick; it runs on \
                 its own thread again (if it holds it too long once more, it moves for good)"
            ),
            Turn::SlowOnTrial => tracing::warn!(
                handler = %handler,
                took_ms = took.as_millis(),
                "a run of the handler on trial took longer than slow_handler_ms / 2; its runs stay on the \
                 blocking thread pool (one at a time, with the component's state to themselves), so that \
                 its thread (for an embedded component: the host's other components) goes on meanwhile"
            ),
            Turn::Trusted => tracing::debug!(
                handler = %handler,
                "the handler's first {BACK_AFTER} runs, on the blocking thread pool, were quick; it runs \
                 on its own thread from now on"
            ),
        }
    }
}

#[cold]
#[inline(never)]
fn log_move(handler: &str, for_good: bool) {
    if for_good {
        tracing::warn!(
            handler = %handler,
            "the handler held its thread past slow_handler_ms again; its runs go to the blocking \
             thread pool from now on (one at a time, with the component's state to themselves)"
        );
    } else {
        tracing::warn!(
            handler = %handler,
            "the handler held its thread past slow_handler_ms; its later runs go to the blocking \
             thread pool (one at a time, with the component's state to themselves), so that its \
             thread (for an embedded component: the host's other components) goes on meanwhile"
        );
    }
}

/// The run of a handler that moved: `offloaded` (its method on the
/// blocking pool), then `finish` with its result, or `failed` with the
/// error of a run that could not be carried out. Out of line, so that the
/// handler's usual path stays as small as it was.
#[cold]
#[inline(never)]
pub fn run_moved<R: 'static, O: 'static>(
    offloaded: impl std::future::Future<Output = Result<R, Error>> + 'static,
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

    /// `runs` runs on the pool from `word`, each quick.
    fn quick_runs(mut word: u32, runs: u32) -> (u32, Vec<Turn>) {
        let mut turns = Vec::new();
        for _ in 0..runs {
            let (next, turn) = after_pool_run(word, true);
            word = next;
            turns.push(turn);
        }
        (word, turns)
    }

    #[test]
    fn a_moved_handler_comes_back_after_quick_runs_and_moves_for_good_the_second_time() {
        let on_pool = |word: u32| word & ON_POOL != 0;
        let (word, turn) = after_slow_run(0);
        assert_eq!(turn, Turn::ToPool);
        assert!(on_pool(word));
        assert_eq!(after_slow_run(word), (word, Turn::Stays), "already there");

        // A slow run on the pool starts the count again.
        let (word, turns) = quick_runs(word, BACK_AFTER - 1);
        assert!(turns.iter().all(|t| *t == Turn::Stays));
        let (word, turn) = after_pool_run(word, false);
        assert_eq!(turn, Turn::Stays);
        let (word, turns) = quick_runs(word, BACK_AFTER);
        assert_eq!(turns.last(), Some(&Turn::BackToThread));
        assert!(turns[..turns.len() - 1].iter().all(|t| *t == Turn::Stays));
        assert!(!on_pool(word));
        assert_eq!(after_pool_run(word, true), (word, Turn::Stays), "a late answer from the pool");

        // Slow on its thread once more: it stays on the pool.
        let (word, turn) = after_slow_run(word);
        assert_eq!(turn, Turn::ToPool);
        let (word, turns) = quick_runs(word, 4 * BACK_AFTER);
        assert!(turns.iter().all(|t| *t == Turn::Stays));
        assert!(on_pool(word));
    }

    #[test]
    fn a_placement_reads_as_moved_only_on_the_pool() {
        let placement = Placement::new();
        assert!(!placement.on_pool(false), "cannot move: placed on its thread");
        placement.turn("h", Duration::ZERO, after_slow_run);
        assert!(placement.moved());
        for _ in 0..BACK_AFTER {
            placement.turn("h", Duration::ZERO, |word| after_pool_run(word, true));
        }
        assert!(!placement.moved());
        assert!(!placement.on_pool(true), "placed once, by its first run");
    }

    #[test]
    fn a_handler_that_can_move_starts_on_trial_on_the_pool() {
        assert_eq!(first_placement(false, true) & ON_POOL, 0, "cannot move");
        assert_eq!(first_placement(true, false) & ON_POOL, 0, "slow runs are not looked for");
        let word = first_placement(true, true);
        assert_ne!(word & ON_POOL, 0);

        // Quick throughout: trusted, back on its thread, never moved.
        let (trusted, turns) = quick_runs(word, BACK_AFTER);
        assert_eq!(turns.last(), Some(&Turn::Trusted));
        assert!(turns[..turns.len() - 1].iter().all(|t| *t == Turn::Stays));
        assert_eq!(trusted & (ON_POOL | TRIAL | MOVES), 0);
        // Slow later on its thread: moved, then back, then for good.
        let (word, turn) = after_slow_run(trusted);
        assert_eq!(turn, Turn::ToPool);
        let (word, _) = quick_runs(word, BACK_AFTER);
        assert_eq!(word & ON_POOL, 0);
        let (word, _) = after_slow_run(word);
        let (word, _) = quick_runs(word, 4 * BACK_AFTER);
        assert_ne!(word & ON_POOL, 0, "the second move is for good");

        // Slow on trial, even after quick runs: stays on the pool, moved once.
        let (word, _) = quick_runs(first_placement(true, true), BACK_AFTER - 1);
        let (word, turn) = after_pool_run(word, false);
        assert_eq!(turn, Turn::SlowOnTrial);
        assert_eq!(word & (ON_POOL | TRIAL | MOVES), ON_POOL | MOVE);
        let (word, turns) = quick_runs(word, BACK_AFTER);
        assert_eq!(turns.last(), Some(&Turn::BackToThread), "a moved handler's way back");
        let (word, turn) = after_slow_run(word);
        assert_eq!(turn, Turn::ToPool);
        let (word, _) = quick_runs(word, 4 * BACK_AFTER);
        assert_ne!(word & ON_POOL, 0, "slow from the start, then once more: for good");
    }

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
