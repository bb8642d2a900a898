//! Timing decisions in batches, and reading the process's peak memory.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Per-decision latencies of one engine on one workload.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// Nanoseconds per decision.
    pub p50: f64,
    pub p99: f64,
    pub per_second: f64,
    pub samples: usize,
    pub batch: usize,
}

/// How long to measure.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Decisions per timing sample.
    pub batch: usize,
    pub samples: usize,
    /// Stop early (after at least `min_samples`) once this much time has been measured.
    pub budget: Duration,
    pub min_samples: usize,
}

/// Times `decide` over the request sequence `0, 1, …, count-1, 0, 1, …`: a warm-up pass over every
/// request, then `plan.samples` samples of `plan.batch` consecutive decisions each. Every engine
/// measured with the same `count` walks the same sequence from the same start.
pub fn measure(count: usize, plan: Plan, mut decide: impl FnMut(usize) -> bool) -> Stats {
    let count = count.max(1);
    let batch = plan.batch.max(1);
    for i in 0..count {
        black_box(decide(black_box(i)));
    }
    let mut per_decision: Vec<f64> = Vec::with_capacity(plan.samples);
    let mut total = Duration::ZERO;
    let mut next = 0usize;
    for _ in 0..plan.samples {
        let start = Instant::now();
        for _ in 0..batch {
            black_box(decide(black_box(next)));
            next += 1;
            if next == count {
                next = 0;
            }
        }
        let elapsed = start.elapsed();
        total += elapsed;
        per_decision.push(elapsed.as_nanos() as f64 / batch as f64);
        if total > plan.budget && per_decision.len() >= plan.min_samples {
            break;
        }
    }
    per_decision.sort_by(f64::total_cmp);
    let decisions = (per_decision.len() * batch) as f64;
    Stats {
        p50: percentile(&per_decision, 0.50),
        p99: percentile(&per_decision, 0.99),
        per_second: decisions / total.as_secs_f64().max(f64::MIN_POSITIVE),
        samples: per_decision.len(),
        batch,
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
        .unwrap_or(0.0)
}

/// The process's peak resident set size (VmHWM), in bytes, when /proc tells it.
pub fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    kilobytes(&status, "VmHWM:")
}

/// A `Name:   123 kB` line of a /proc file, in bytes.
pub fn kilobytes(text: &str, key: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(key))?;
    let value: u64 = line
        .get(key.len()..)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(value * 1024)
}

/// `1.23 µs`, `456 ns`, `7.8 ms`.
pub fn duration(nanos: f64) -> String {
    if nanos >= 1e9 {
        format!("{:.2} s", nanos / 1e9)
    } else if nanos >= 1e6 {
        format!("{:.2} ms", nanos / 1e6)
    } else if nanos >= 1e3 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{nanos:.0} ns")
    }
}

/// `1.2 GiB`, `345 MiB`.
pub fn bytes(value: u64) -> String {
    let mib = value as f64 / (1024.0 * 1024.0);
    if mib >= 1024.0 {
        format!("{:.2} GiB", mib / 1024.0)
    } else {
        format!("{mib:.0} MiB")
    }
}

/// `3.1M/s`, `19.2k/s`.
pub fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2}M/s", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1}k/s", per_second / 1e3)
    } else {
        format!("{per_second:.0}/s")
    }
}
