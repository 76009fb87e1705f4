//! Naming the handler that holds its thread.
//!
//! A handler that is not `async` runs to completion on its session's
//! thread, and so does every poll of an `async` one. For an embedded
//! component that thread is the realm's: while a handler runs, the realm
//! routes nothing. That is the price of delivering to an in-process
//! session by a direct call (docs/architecture.md), and a handler that
//! takes long has to say so (`blocking = true`, or `async` with the slow
//! part awaited). When one does not, the log names it.
//!
//! Timing every run would take two clock reads per call on the in-process
//! path, a sizeable part of what a call costs there. Instead each thread
//! has a counter that the start and the end of a run move (odd while a
//! handler runs), and one watchdog thread per process looks at the
//! counters a few times per threshold: a counter that is odd and has not
//! moved for the threshold means one run has held the thread that long.
//! The watchdog marks it; the run, when it ends, sees the mark and logs
//! its handler's name with how long it held the thread (at least). A run
//! that is never marked costs two thread-local stores and a load.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The threshold until a host sets one: 50 ms.
pub const DEFAULT_SLOW_HANDLER_MS: u64 = 50;

/// Milliseconds a run may hold its thread before it is logged; 0: never.
static THRESHOLD_MS: AtomicU64 = AtomicU64::new(DEFAULT_SLOW_HANDLER_MS);

/// Sets how long a handler may hold its thread before it is logged, for the
/// whole process (0 turns the warning off).
pub(crate) fn set_threshold(ms: u64) {
    THRESHOLD_MS.store(ms, Relaxed);
}

/// How long a handler may hold its thread before it is logged; `None`
/// when the warning is off.
pub(crate) fn threshold() -> Option<Duration> {
    match THRESHOLD_MS.load(Relaxed) {
        0 => None,
        ms => Some(Duration::from_millis(ms)),
    }
}

/// One thread's counter, shared with the watchdog.
#[derive(Default)]
struct Beat {
    /// Moved by 1 when a run starts and when it ends: odd while one runs.
    ticks: AtomicU64,
    /// Set by the watchdog for a run that held the thread past the
    /// threshold: milliseconds since [`epoch`] when the watchdog first saw
    /// it running, plus one (0: not marked).
    marked: AtomicU64,
}

/// What a thread keeps: its counter, and the runs in progress on it (a
/// handler may run another).
struct Local {
    beat: Arc<Beat>,
    depth: Cell<u32>,
}

thread_local! {
    static LOCAL: Local = Local { beat: watch_this_thread(), depth: Cell::new(0) };
}

/// The threads the watchdog looks at (each gone with its thread).
static WATCHED: Mutex<Vec<Weak<Beat>>> = Mutex::new(Vec::new());

/// The watchdog's clock.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

fn watch_this_thread() -> Arc<Beat> {
    static START: Once = Once::new();
    START.call_once(|| {
        epoch();
        let spawned = std::thread::Builder::new().name("wamp-watchdog".into()).spawn(watchdog);
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no watchdog thread: handlers that hold their thread are not reported");
        }
    });
    let beat = Arc::new(Beat::default());
    WATCHED.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::downgrade(&beat));
    beat
}

/// Looks at every watched thread four times per threshold.
fn watchdog() {
    // Per watched thread: the counter last seen and when it was first
    // seen at that value.
    let mut seen: Vec<(Weak<Beat>, u64, u64)> = Vec::new();
    loop {
        let threshold = THRESHOLD_MS.load(Relaxed);
        std::thread::sleep(Duration::from_millis((threshold / 4).clamp(5, 1_000)));
        if threshold == 0 {
            continue;
        }
        {
            let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
            watched.retain(|beat| beat.strong_count() > 0);
            seen.retain(|(beat, _, _)| beat.strong_count() > 0);
            for beat in watched.iter() {
                if !seen.iter().any(|(known, _, _)| known.ptr_eq(beat)) {
                    seen.push((beat.clone(), 0, 0));
                }
            }
        }
        let now = now_ms();
        for (beat, last, since) in &mut seen {
            let Some(beat) = beat.upgrade() else { continue };
            let ticks = beat.ticks.load(Relaxed);
            if ticks != *last {
                (*last, *since) = (ticks, now);
            } else if ticks % 2 == 1 && now.saturating_sub(*since) >= threshold {
                // Only the first mark of a run counts: it has the earliest time.
                let _ = beat.marked.compare_exchange(0, *since + 1, Relaxed, Relaxed);
            }
        }
    }
}

/// Marks the start of a run on this thread; the end comes when the guard
/// is dropped (a panic included).
struct Running<'a> {
    name: &'a dyn fmt::Display,
}

impl<'a> Running<'a> {
    #[inline]
    fn start(name: &'a dyn fmt::Display) -> Self {
        LOCAL.with(|local| {
            if local.depth.replace(local.depth.get() + 1) == 0 {
                local.beat.tick();
            }
        });
        Running { name }
    }
}

impl Beat {
    #[inline]
    fn tick(&self) {
        // Only this thread writes the counter: no read-modify-write needed.
        self.ticks.store(self.ticks.load(Relaxed).wrapping_add(1), Relaxed);
    }
}

impl Drop for Running<'_> {
    #[inline]
    fn drop(&mut self) {
        let marked = LOCAL.with(|local| {
            let depth = local.depth.get().saturating_sub(1);
            local.depth.set(depth);
            if depth > 0 {
                return 0;
            }
            local.beat.tick();
            match local.beat.marked.load(Relaxed) {
                0 => 0,
                marked => {
                    local.beat.marked.store(0, Relaxed);
                    marked
                }
            }
        });
        if marked > 0 {
            let now = now_ms();
            report(&self.name.to_string(), now, now.saturating_sub(marked - 1));
        }
    }
}

/// Warnings about one handler: the first few at once, then one per
/// [`REFILL_MS`], so a handler that is always slow does not flood the log.
/// The runs left out are counted in the next warning.
#[derive(Debug, Default, PartialEq)]
struct Reports {
    /// Warnings that may go out now.
    tokens: u32,
    /// When `tokens` was last topped up (milliseconds since [`epoch`]).
    refilled_ms: Option<u64>,
    /// Runs not reported since the last warning, and the longest of them.
    left_out: u32,
    longest_left_out_ms: u64,
}

/// Warnings a handler may send in a row.
const BURST: u32 = 3;
/// Milliseconds for one more warning once the burst is spent.
const REFILL_MS: u64 = 10_000;

impl Reports {
    /// Whether a run that held its thread `held_ms` is reported at `now`;
    /// if so, the runs left out before it (count, longest).
    fn admit(&mut self, now: u64, held_ms: u64) -> Option<(u32, u64)> {
        match self.refilled_ms {
            None => (self.tokens, self.refilled_ms) = (BURST, Some(now)),
            Some(at) => {
                let earned = now.saturating_sub(at) / REFILL_MS;
                if earned > 0 {
                    let earned = u32::try_from(earned).unwrap_or(u32::MAX);
                    self.tokens = self.tokens.saturating_add(earned).min(BURST);
                    self.refilled_ms = Some(at + u64::from(earned) * REFILL_MS);
                }
            }
        }
        if self.tokens == 0 {
            self.left_out += 1;
            self.longest_left_out_ms = self.longest_left_out_ms.max(held_ms);
            return None;
        }
        self.tokens -= 1;
        let left_out = (self.left_out, self.longest_left_out_ms);
        (self.left_out, self.longest_left_out_ms) = (0, 0);
        Some(left_out)
    }
}

thread_local! {
    /// Per handler name: the warnings sent from this thread.
    static REPORTS: RefCell<HashMap<String, Reports>> = RefCell::new(HashMap::new());
}

fn report(name: &str, now: u64, held_ms: u64) {
    let admitted = REPORTS.with(|reports| {
        let mut reports = reports.borrow_mut();
        match reports.get_mut(name) {
            Some(reports) => reports.admit(now, held_ms),
            None => reports.entry(name.to_owned()).or_default().admit(now, held_ms),
        }
    });
    let Some((left_out, longest_left_out_ms)) = admitted else { return };
    tracing::warn!(
        handler = %name,
        held_ms,
        left_out,
        longest_left_out_ms,
        "the handler held its thread for {held_ms} ms or more; nothing else on that thread ran meanwhile \
         (for an embedded component: the host's other components; the realm goes on). Make it `async` and await the slow part, \
         mark it `blocking = true`, or run its component on a thread of its own (`own_thread`){}",
        if left_out > 0 { " (more runs held it since the last warning: see left_out)" } else { "" }
    );
}

/// Runs `run`, a handler named `name` (formatted only for a warning), on
/// this thread, watched.
#[inline]
pub(crate) fn watched<T>(name: &dyn fmt::Display, run: impl FnOnce() -> T) -> T {
    let _running = Running::start(name);
    run()
}

/// Whether the run in progress on this thread has held it past the
/// threshold (the watchdog marked it). A handler that can move to the
/// blocking pool asks this when it returns (`component::blocking`).
#[inline]
pub(crate) fn run_held_too_long() -> bool {
    LOCAL.with(|local| local.beat.marked.load(Relaxed) != 0)
}

/// A handler's future, each poll watched.
pub(crate) struct Watched<N, F: ?Sized> {
    name: N,
    future: Pin<Box<F>>,
}

impl<N, F: ?Sized> Watched<N, F> {
    pub(crate) fn new(name: N, future: Pin<Box<F>>) -> Self {
        Watched { name, future }
    }
}

impl<N: fmt::Display + Unpin, F: Future + ?Sized> Future for Watched<N, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        let _running = Running::start(&this.name);
        this.future.as_mut().poll(cx)
    }
}

/// The name of a component's own handler (of a message, or a closure given
/// to its handle), formatted only for a warning.
pub(crate) struct OwnHandler {
    /// The component's name.
    pub(crate) component: &'static str,
    /// What runs: the message's type, or the handle's method.
    pub(crate) what: &'static str,
}

impl fmt::Display for OwnHandler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.component, self.what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_always_slow_handler_is_reported_a_few_times_then_every_ten_seconds() {
        let mut reports = Reports::default();
        for at in 0..BURST {
            assert_eq!(reports.admit(u64::from(at), 60), Some((0, 0)), "the first {BURST} at once");
        }
        assert_eq!(reports.admit(100, 70), None);
        assert_eq!(reports.admit(200, 90), None);
        assert_eq!(reports.admit(REFILL_MS - 1, 80), None);
        // Ten seconds after the first: one more, with what was left out.
        assert_eq!(reports.admit(REFILL_MS, 60), Some((3, 90)));
        assert_eq!(reports.admit(REFILL_MS + 1, 60), None);
        // A long quiet spell earns the whole burst back, no more.
        let later = 100 * REFILL_MS;
        for at in 0..BURST {
            assert!(reports.admit(later + u64::from(at), 60).is_some());
        }
        assert_eq!(reports.admit(later + 10, 60), None);
    }

    #[test]
    fn a_run_past_the_threshold_is_marked_and_a_short_one_is_not() {
        set_threshold(40);
        watched(&"short", || std::thread::sleep(Duration::from_millis(1)));
        assert_eq!(LOCAL.with(|local| local.beat.marked.load(Relaxed)), 0);
        let marked = watched(&"slow", || {
            std::thread::sleep(Duration::from_millis(150));
            LOCAL.with(|local| local.beat.marked.load(Relaxed))
        });
        assert!(marked > 0, "the watchdog marks a run that holds its thread");
        assert!(watched(&"slow again", || {
            std::thread::sleep(Duration::from_millis(150));
            run_held_too_long()
        }));
        assert!(!watched(&"short again", run_held_too_long));
        // The mark went with the end of the run.
        assert_eq!(LOCAL.with(|local| local.beat.marked.load(Relaxed)), 0);
        // A run inside a run does not end the outer one.
        let outer = watched(&"outer", || {
            watched(&"inner", || {});
            std::thread::sleep(Duration::from_millis(150));
            LOCAL.with(|local| local.beat.marked.load(Relaxed))
        });
        assert!(outer > 0);
        assert_eq!(LOCAL.with(|local| local.beat.ticks.load(Relaxed)) % 2, 0, "no run in progress");
    }
}
