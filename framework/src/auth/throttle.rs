//! Slowing down password guessing: a peer address that fails to
//! authenticate `max_failures` times within a window is refused until the
//! window has passed, with no further check of what it sends. A success
//! does not clear the count: a peer holding one account could otherwise
//! log in with it between guesses at another's secret.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most this many addresses are tracked; beyond it, addresses whose
/// window has passed are forgotten first, then new addresses are not
/// tracked (and logged).
const MAX_TRACKED: usize = 100_000;

/// Failed authentications per peer address, within a window.
#[derive(Debug)]
pub struct FailureLimit {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    /// When the first failure of the window happened.
    since: Instant,
}

impl FailureLimit {
    /// At most `max_failures` failures per `window` from one address; 0
    /// turns the limit off.
    pub fn new(max_failures: u32, window: Duration) -> Self {
        FailureLimit { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` if `address` may not try now.
    pub fn check(&self, address: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let Some(address) = address.filter(|_| self.max_failures > 0) else { return Ok(()) };
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        match failures.get(&address) {
            Some(f) if f.count >= self.max_failures && now < f.since + self.window => {
                let left = (f.since + self.window).saturating_duration_since(now);
                Err(left.as_secs().max(1))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failure of `address`.
    pub fn failed(&self, address: Option<IpAddr>, now: Instant) {
        let Some(address) = address.filter(|_| self.max_failures > 0) else { return };
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= MAX_TRACKED && !failures.contains_key(&address) {
            let window = self.window;
            failures.retain(|_, f| now < f.since + window);
            if failures.len() >= MAX_TRACKED {
                tracing::warn!(%address, "too many addresses failing to authenticate to track them all");
                return;
            }
        }
        let entry = failures.entry(address).or_insert(Failures { count: 0, since: now });
        if now >= entry.since + self.window {
            *entry = Failures { count: 0, since: now };
        }
        entry.count = entry.count.saturating_add(1);
    }

    /// How many addresses have failures on record.
    #[cfg(test)]
    pub fn tracked(&self) -> usize {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_passes() {
        let limit = FailureLimit::new(3, Duration::from_secs(60));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.check(Some(a), t0), Ok(()));
            limit.failed(Some(a), t0);
        }
        assert_eq!(limit.check(Some(a), t0 + Duration::from_secs(10)), Err(50));
        assert_eq!(limit.check(Some(b), t0), Ok(()), "other addresses are not affected");
        assert_eq!(limit.check(Some(a), t0 + Duration::from_secs(60)), Ok(()));
        limit.failed(Some(a), t0 + Duration::from_secs(61));
        assert_eq!(limit.check(Some(a), t0 + Duration::from_secs(61)), Ok(()), "a new window");
        let off = FailureLimit::new(0, Duration::from_secs(60));
        for _ in 0..10 {
            off.failed(Some(a), t0);
        }
        assert_eq!(off.check(Some(a), t0), Ok(()));
        assert_eq!(off.tracked(), 0);
    }
}
