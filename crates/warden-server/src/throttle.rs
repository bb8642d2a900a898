//! Failure limits per source: who sent a request ([`Source`]: the client's IP address, an IPv6
//! address by its /64) and how many of its credential checks failed lately ([`SourceLimiter`]).
//!
//! Limits count failures per source, never per target: counting per client id or per email let
//! anyone lock out a client or a user they did not own, by sending five wrong secrets in its
//! name. A source that spent its budget is refused (429) until its window ends, even with the
//! right credential, so that guessing from it cannot go on; every other source is unaffected.
//!
//! The map of sources is bounded ([`SourceLimiter::capacity`]): when it is full, the source
//! tracked longest is forgotten to make room. A full map never refuses anyone.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// Where a request came from, as failure limits count it: an IPv4 address, or the /64 network of
/// an IPv6 address (one host usually has a whole /64 to choose from). An IPv4 address mapped
/// into IPv6 counts as the IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Source(SourceKey);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum SourceKey {
    V4([u8; 4]),
    V6Net([u8; 8]),
    /// A request that did not come over a connection (one handler calling another).
    Local,
}

impl Source {
    pub fn of(ip: IpAddr) -> Source {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            v4 => v4,
        };
        Source(match ip {
            IpAddr::V4(v4) => SourceKey::V4(v4.octets()),
            IpAddr::V6(v6) => {
                let mut net = [0u8; 8];
                for (to, from) in net.iter_mut().zip(v6.octets()) {
                    *to = from;
                }
                SourceKey::V6Net(net)
            }
        })
    }

    /// For requests that did not come over a connection.
    pub fn local() -> Source {
        Source(SourceKey::Local)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            SourceKey::V4(octets) => write!(f, "{}", std::net::Ipv4Addr::from(octets)),
            SourceKey::V6Net(net) => {
                let mut octets = [0u8; 16];
                for (to, from) in octets.iter_mut().zip(net) {
                    *to = from;
                }
                write!(f, "{}/64", std::net::Ipv6Addr::from(octets))
            }
            SourceKey::Local => f.write_str("local"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(Source::local, |ConnectInfo(address)| {
                Source::of(address.ip())
            }))
    }
}

/// A refused attempt: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: u64,
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    window_start: i64,
    failures: u32,
    in_flight: u32,
    /// The entry's place in [`Tracked::order`].
    order: u64,
}

#[derive(Debug, Default)]
struct Tracked {
    entries: HashMap<Source, Attempts>,
    /// Entries by when they were (re)started, oldest first: the next to forget.
    order: BTreeMap<u64, Source>,
    next: u64,
}

impl Tracked {
    fn remove(&mut self, source: &Source) {
        if let Some(entry) = self.entries.remove(source) {
            self.order.remove(&entry.order);
        }
    }

    /// The entry of `source`, created (and placed last) when missing; the oldest entries are
    /// forgotten to keep at most `capacity`.
    fn entry(&mut self, source: Source, now: i64, capacity: usize) -> &mut Attempts {
        let order = self.next;
        if !self.entries.contains_key(&source) {
            while self.entries.len() >= capacity.max(1) {
                let Some((_, oldest)) = self.order.pop_first() else {
                    break;
                };
                self.entries.remove(&oldest);
            }
            self.next += 1;
            self.order.insert(order, source);
        }
        self.entries.entry(source).or_insert(Attempts {
            window_start: now,
            failures: 0,
            in_flight: 0,
            order,
        })
    }
}

/// Counts failed credential checks per [`Source`] (in memory, per server).
///
/// [`SourceLimiter::begin`] before a check and [`SourceLimiter::finish`] after it: attempts in
/// flight count against the budget, so concurrent guesses cannot overrun it.
#[derive(Debug)]
pub struct SourceLimiter {
    max_failures: u32,
    window_ms: i64,
    capacity: usize,
    tracked: Mutex<Tracked>,
    /// Failed checks and refused attempts since start, for the metrics.
    failed: AtomicU64,
    refused: AtomicU64,
}

impl SourceLimiter {
    /// At most `max_failures` failures per source within `window_ms` (from its first failure),
    /// `capacity` sources tracked.
    pub fn new(max_failures: u32, window_ms: i64, capacity: usize) -> Self {
        SourceLimiter {
            max_failures: max_failures.max(1),
            window_ms: window_ms.max(1),
            capacity: capacity.max(1),
            tracked: Mutex::new(Tracked::default()),
            failed: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    pub fn max_failures(&self) -> u32 {
        self.max_failures
    }

    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tracked> {
        self.tracked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts an attempt from `source`, or refuses it while the source's budget is spent.
    pub fn begin(&self, source: Source, now: i64) -> Result<(), Throttled> {
        let mut tracked = self.lock();
        let (max, window) = (self.max_failures, self.window_ms);
        let entry = tracked.entry(source, now, self.capacity);
        if entry.failures > 0 && now >= entry.window_start + window {
            entry.failures = 0;
        }
        if entry.failures >= max || entry.failures + entry.in_flight >= max {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        if entry.failures >= max {
            let left = entry.window_start + window - now;
            let retry_after = u64::try_from(left.max(1)).unwrap_or(1).div_ceil(1000);
            return Err(Throttled { retry_after });
        }
        if entry.failures + entry.in_flight >= max {
            return Err(Throttled { retry_after: 1 });
        }
        entry.in_flight += 1;
        Ok(())
    }

    /// Ends an attempt begun with [`SourceLimiter::begin`]; a failure counts in the window. A
    /// success does not clear earlier failures: otherwise one valid credential of their own
    /// would let a source guess others' for ever.
    pub fn finish(&self, source: Source, succeeded: bool, now: i64) {
        let mut tracked = self.lock();
        let Some(entry) = tracked.entries.get_mut(&source) else {
            return;
        };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if !succeeded {
            self.failed.fetch_add(1, Ordering::Relaxed);
            if entry.failures == 0 {
                entry.window_start = now;
            }
            entry.failures += 1;
        }
        if entry.failures == 0 && entry.in_flight == 0 {
            tracked.remove(&source);
        }
    }

    /// Failed checks since start.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Attempts refused since start because their source had spent its budget.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// How many sources are tracked.
    pub fn tracked(&self) -> usize {
        self.lock().entries.len()
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn v4(last: u8) -> Source {
        Source::of(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)))
    }

    #[test]
    fn ipv6_addresses_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a: Ipv6Addr = "2001:db8:1:2::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Source::of(a.into()), Source::of(b.into()));
        assert_ne!(Source::of(a.into()), Source::of(c.into()));
        assert_eq!(Source::of(a.into()).to_string(), "2001:db8:1:2::/64");
        let mapped: Ipv6Addr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(Source::of(mapped.into()), v4(7));
        assert_eq!(v4(7).to_string(), "192.0.2.7");
    }

    #[test]
    fn a_source_that_spent_its_budget_waits_and_no_other_source_does() {
        let limiter = SourceLimiter::new(5, 60_000, 100);
        for i in 0..5 {
            limiter.begin(v4(1), 1_000 + i).unwrap();
            limiter.finish(v4(1), false, 1_000 + i);
        }
        assert_eq!(
            limiter.begin(v4(1), 2_000),
            Err(Throttled { retry_after: 59 })
        );
        assert_eq!(limiter.begin(v4(2), 2_000), Ok(()));
        limiter.finish(v4(2), true, 2_000);
        assert!(limiter.begin(v4(1), 61_000).is_ok(), "the window ended");
    }

    #[test]
    fn attempts_in_flight_count_and_successes_do_not_clear_failures() {
        let limiter = SourceLimiter::new(5, 60_000, 100);
        for _ in 0..5 {
            limiter.begin(v4(1), 0).unwrap();
        }
        assert_eq!(limiter.begin(v4(1), 0), Err(Throttled { retry_after: 1 }));
        limiter.finish(v4(1), true, 0);
        assert!(limiter.begin(v4(1), 0).is_ok());
        for _ in 0..5 {
            limiter.finish(v4(1), false, 0);
        }
        limiter.begin(v4(1), 0).unwrap_err();
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn a_full_map_forgets_its_oldest_sources_and_refuses_nobody() {
        let limiter = SourceLimiter::new(1, 60_000, 3);
        for last in 1..=3 {
            limiter.begin(v4(last), 0).unwrap();
            limiter.finish(v4(last), false, 0);
        }
        limiter.begin(v4(1), 1).unwrap_err();
        // A fourth source is tracked; the oldest (192.0.2.1) is forgotten to make room.
        limiter.begin(v4(4), 2).unwrap();
        limiter.finish(v4(4), false, 2);
        assert_eq!(limiter.tracked(), 3);
        assert!(limiter.begin(v4(1), 3).is_ok(), "forgotten, so not refused");
        limiter.begin(v4(4), 3).unwrap_err();
    }
}
