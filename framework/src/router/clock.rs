//! The realm's clock: monotonic time since the realm started, cheap to
//! read.
//!
//! A realm reads the time for every call that can time out (its deadline)
//! and to expire calls. Deadlines are kept to a tenth of a second, so the
//! clock needs millisecond precision, not nanoseconds; but an in-process
//! call is routed in well under a microsecond, and a precise clock read
//! (`Instant::now`, which reads the processor's time-stamp counter, often
//! through the hypervisor) costs about 25 ns of it on a virtual machine.
//! On Linux the realm therefore reads the kernel's coarse monotonic clock,
//! which is the time of the last scheduler tick (1-10 ms old) and costs a
//! few nanoseconds. Elsewhere it reads `Instant`.
//!
//! Either way the difference between two readings is within
//! [`Clock::resolution`] of the time that passed between them, more or
//! less: a timeout that must never end early adds the resolution to its
//! deadline (see
//! [`RealmCore::set_clock_resolution`](super::realm::RealmCore::set_clock_resolution)).

use std::time::Duration;

/// A monotonic clock counting from its creation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    origin: Duration,
    resolution: Duration,
}

impl Clock {
    /// A clock reading zero now.
    pub(crate) fn start() -> Self {
        Clock { origin: source::now(), resolution: source::resolution() }
    }

    /// The time since [`Clock::start`], give or take
    /// [`Clock::resolution`].
    #[inline]
    pub(crate) fn now(&self) -> Duration {
        source::now().saturating_sub(self.origin)
    }

    /// How far the difference between two readings may be from the time
    /// that passed between them: the period of the coarse clock's updates
    /// (zero for `Instant`).
    pub(crate) fn resolution(&self) -> Duration {
        self.resolution
    }
}

#[cfg(target_os = "linux")]
mod source {
    use rustix::time::{clock_getres, clock_gettime, ClockId, Timespec};
    use std::time::Duration;

    fn duration(t: Timespec) -> Duration {
        let secs = u64::try_from(t.tv_sec).unwrap_or(0);
        let nanos = u32::try_from(t.tv_nsec).unwrap_or(0);
        Duration::new(secs, nanos)
    }

    #[inline]
    pub(super) fn now() -> Duration {
        duration(clock_gettime(ClockId::MonotonicCoarse))
    }

    pub(super) fn resolution() -> Duration {
        duration(clock_getres(ClockId::MonotonicCoarse))
    }
}

#[cfg(not(target_os = "linux"))]
mod source {
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    static ORIGIN: OnceLock<Instant> = OnceLock::new();

    pub(super) fn now() -> Duration {
        ORIGIN.get_or_init(Instant::now).elapsed()
    }

    pub(super) fn resolution() -> Duration {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn readings_follow_the_true_time_within_the_resolution() {
        let clock = Clock::start();
        let resolution = clock.resolution();
        assert!(resolution <= Duration::from_millis(20), "a coarse clock of {resolution:?}");
        // Each reading of the clock between two of `Instant`, so that the
        // time that passed between the two readings is known to lie
        // between `shortest` and `longest` however the thread is
        // scheduled.
        let t0 = Instant::now();
        let first = clock.now();
        let t1 = Instant::now();
        let mut last = first;
        while t1.elapsed() < Duration::from_millis(60) {
            let now = clock.now();
            assert!(now >= last, "monotonic");
            last = now;
        }
        let t2 = Instant::now();
        let read = clock.now() - first;
        let t3 = Instant::now();
        let (shortest, longest) = (t2 - t1, t3 - t0);
        // The kernel updates the coarse clock on its tick, give or take
        // a little: a millisecond of slack.
        let slack = Duration::from_millis(1);
        assert!(read + resolution + slack >= shortest, "{read:?} read, at least {shortest:?} passed");
        assert!(read <= longest + resolution + slack, "{read:?} read, at most {longest:?} passed");
    }
}
