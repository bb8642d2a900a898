//! Usage tracking: per principal and permission, the time of the last decision and of the last
//! ALLOW, and counts of ALLOWs and DENYs.
//!
//! Recording is on the decision path, so it is a few hash lookups under one of many small locks
//! (sharded by principal), never IO. A background task flushes the accumulated deltas to the store
//! every few seconds; the store adds them up, so replicas flushing concurrently lose nothing. A
//! crash loses at most the deltas of the last interval — never directory data, which is written
//! synchronously by the write pipeline.
//!
//! Decision requests name any permission they like, so what is kept is bounded: only well-formed
//! permission names ([`is_permission_name`]) are counted, at most [`MAX_PENDING`] pairs wait for a
//! flush (new pairs beyond it are dropped until the next one), and a flush writes only the
//! permissions of the catalogue.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rustc_hash::{FxBuildHasher, FxHashMap};
use warden_store::UsageDelta;

use crate::state::Inner;

const SHARDS: usize = 64;
const DAY_MS: i64 = 86_400_000;

/// (principal, permission) pairs held between two flushes at most.
pub const MAX_PENDING: usize = 100_000;

/// `segment:segment:segment`, each `[a-z0-9][a-z0-9._-]*` (SPEC §2), at most 200 bytes: the only
/// strings worth counting. Anything else (a NUL byte, a megabyte of text) is no permission.
pub fn is_permission_name(name: &str) -> bool {
    // One pass over the bytes, without splitting: this runs for every decision.
    if name.len() > 200 {
        return false;
    }
    let mut segments = 1;
    let mut segment_start = true;
    for b in name.bytes() {
        if b == b':' {
            if segment_start {
                return false;
            }
            segments += 1;
            segment_start = true;
        } else if b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || (!segment_start && matches!(b, b'.' | b'_' | b'-'))
        {
            segment_start = false;
        } else {
            return false;
        }
    }
    segments == 3 && !segment_start
}

#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    last_used: i64,
    last_allowed: i64,
    allows: i64,
    denies: i64,
}

type Shard = FxHashMap<Box<str>, FxHashMap<Box<str>, Counter>>;

/// Consecutive decisions of a batch for one principal and permission.
struct Run<'a> {
    permission: &'a str,
    allows: i64,
    denies: i64,
}

impl<'a> Run<'a> {
    fn new(permission: &'a str, allowed: bool) -> Self {
        let mut run = Run {
            permission,
            allows: 0,
            denies: 0,
        };
        run.add(allowed);
        run
    }

    fn add(&mut self, allowed: bool) {
        if allowed {
            self.allows += 1;
        } else {
            self.denies += 1;
        }
    }

    fn add_to(&self, counter: &mut Counter, now_ms: i64) {
        counter.last_used = counter.last_used.max(now_ms);
        counter.allows += self.allows;
        counter.denies += self.denies;
        if self.allows > 0 {
            counter.last_allowed = counter.last_allowed.max(now_ms);
        }
    }
}

#[derive(Debug)]
pub struct Usage {
    shards: Vec<Mutex<Shard>>,
    /// Pairs held (approximately: recorded and drained concurrently).
    pending: AtomicUsize,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            pending: AtomicUsize::new(0),
        }
    }
}

impl Usage {
    fn shard(&self, principal: &str) -> Option<&Mutex<Shard>> {
        let index = usize::try_from(FxBuildHasher.hash_one(principal) % SHARDS as u64).unwrap_or(0);
        self.shards.get(index)
    }

    /// Records one decision for a principal (by uid).
    pub fn record(&self, principal: &str, permission: &str, allowed: bool, now_ms: i64) {
        self.record_all([(principal, permission, allowed)], now_ms);
    }

    /// Records decisions made at `now_ms`, each `(principal uid, permission, allowed)`: the same
    /// as [`Usage::record`] for each, with less locking. A batch usually asks about one principal
    /// (or about one permission for many): consecutive decisions for the same principal take its
    /// shard's lock once, and consecutive ones for the same principal and permission update their
    /// counter once.
    pub fn record_all<'a>(
        &self,
        decisions: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
        now_ms: i64,
    ) {
        let mut decisions = decisions.into_iter().peekable();
        while let Some((principal, first, allowed)) = decisions.next() {
            let Some(shard) = self.shard(principal) else {
                continue;
            };
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            let mut run = Run::new(first, allowed);
            while let Some((_, permission, allowed)) =
                decisions.next_if(|(next, _, _)| *next == principal)
            {
                if permission == run.permission {
                    run.add(allowed);
                } else {
                    self.count(&mut shard, principal, &run, now_ms);
                    run = Run::new(permission, allowed);
                }
            }
            self.count(&mut shard, principal, &run, now_ms);
        }
    }

    /// Adds a run of decisions for one principal and permission to its counter.
    fn count(&self, shard: &mut Shard, principal: &str, run: &Run<'_>, now_ms: i64) {
        let permission = run.permission;
        // A pair already held passed the checks below when it was added: one lookup suffices.
        if let Some(counter) = shard
            .get_mut(principal)
            .and_then(|permissions| permissions.get_mut(permission))
        {
            run.add_to(counter, now_ms);
            return;
        }
        if !is_permission_name(permission) {
            return;
        }
        if self.pending.fetch_add(1, Ordering::Relaxed) >= MAX_PENDING {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let permissions = match shard.get_mut(principal) {
            Some(permissions) => permissions,
            None => shard.entry(principal.into()).or_default(),
        };
        run.add_to(permissions.entry(permission.into()).or_default(), now_ms);
    }

    /// Takes everything recorded since the last drain.
    pub fn drain(&self) -> Vec<UsageDelta> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            for (principal, permissions) in std::mem::take(&mut *shard) {
                let _ = self
                    .pending
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                        Some(n.saturating_sub(permissions.len()))
                    });
                for (permission, counter) in permissions {
                    out.push(UsageDelta {
                        principal: principal.to_string(),
                        permission: permission.to_string(),
                        last_used: counter.last_used,
                        last_allowed: counter.last_allowed,
                        allows: counter.allows,
                        denies: counter.denies,
                    });
                }
            }
        }
        out
    }

    /// Puts deltas back after a failed flush, so that the next flush carries them.
    pub fn restore(&self, deltas: Vec<UsageDelta>) {
        for delta in deltas {
            let Some(shard) = self.shard(&delta.principal) else {
                continue;
            };
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            let permissions = shard.entry(delta.principal.into()).or_default();
            if !permissions.contains_key(delta.permission.as_str()) {
                self.pending.fetch_add(1, Ordering::Relaxed);
            }
            let counter = permissions.entry(delta.permission.into()).or_default();
            counter.last_used = counter.last_used.max(delta.last_used);
            counter.last_allowed = counter.last_allowed.max(delta.last_allowed);
            counter.allows += delta.allows;
            counter.denies += delta.denies;
        }
    }
}

impl Inner {
    /// Writes the recorded usage to the store; on failure keeps it for the next attempt. Service
    /// users' last use is written for those not written in the last minute
    /// ([`crate::last_use`]).
    pub async fn flush_usage(&self) -> Result<(), warden_store::StoreError> {
        self.flush(false).await
    }

    /// [`Inner::flush_usage`], writing every service user's last use still held: the server stops.
    pub async fn flush_usage_at_shutdown(&self) -> Result<(), warden_store::StoreError> {
        self.flush(true).await
    }

    async fn flush(&self, shutdown: bool) -> Result<(), warden_store::StoreError> {
        let mut deltas = self.usage.drain();
        let snapshot = self.cell.load();
        deltas.retain(|d| snapshot.catalogue().permission(&d.permission).is_some());
        // A decision about a service user is a use of it.
        for delta in &deltas {
            if snapshot
                .directory()
                .principal(&delta.principal)
                .is_some_and(|p| p.kind == warden_engine::PrincipalKind::ServiceUser)
            {
                self.last_use.record(&delta.principal, delta.last_used);
            }
        }
        let samples = self.samples.drain(snapshot.catalogue());
        if !deltas.is_empty()
            && let Err(error) = self.store.add_usage(&deltas).await
        {
            self.usage.restore(deltas);
            self.samples.restore(samples);
            return Err(error);
        }
        let uses = self.last_use.take_due(self.clock.now_ms(), shutdown);
        if let Err(error) = self.store.touch_last_used(&uses).await {
            self.last_use.restore(uses);
            self.samples.restore(samples);
            return Err(error);
        }
        let keep_from = self
            .clock
            .now_ms()
            .saturating_sub(self.sample_retention_days.saturating_mul(DAY_MS));
        // The retention is applied on every flush, also one with nothing new to write.
        if let Err(error) = self
            .store
            .add_samples(&samples, crate::samples::MAX_VALUES as i64, keep_from)
            .await
        {
            self.samples.restore(samples);
            return Err(error);
        }
        Ok(())
    }
}

/// Flushes usage every `interval` until the server's state is dropped.
pub fn spawn_flusher(state: Weak<Inner>, interval: Duration) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(state) = state.upgrade() else { break };
            if let Err(error) = state.flush_usage().await {
                tracing::warn!(%error, "usage counters not flushed; kept for the next attempt");
            }
            drop::<Arc<Inner>>(state);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_drains_and_restores() {
        let usage = Usage::default();
        usage.record("u1", "a:b:c", true, 10);
        usage.record("u1", "a:b:c", false, 20);
        usage.record("u2", "a:b:c", false, 5);
        let mut deltas = usage.drain();
        deltas.sort_by(|a, b| a.principal.cmp(&b.principal));
        assert_eq!(deltas.len(), 2);
        assert_eq!(
            (
                deltas[0].allows,
                deltas[0].denies,
                deltas[0].last_used,
                deltas[0].last_allowed
            ),
            (1, 1, 20, 10)
        );
        assert!(usage.drain().is_empty(), "drained");
        usage.restore(deltas);
        usage.record("u1", "a:b:c", true, 30);
        let restored: Vec<UsageDelta> = usage
            .drain()
            .into_iter()
            .filter(|d| d.principal == "u1")
            .collect();
        assert_eq!((restored[0].allows, restored[0].last_allowed), (2, 30));
    }

    #[test]
    fn only_well_formed_permissions_are_counted_and_pending_pairs_are_bounded() {
        let usage = Usage::default();
        for junk in [
            "a:b",
            "a:b:c:d",
            "a:b:\0",
            "A:b:c",
            "a:b:c ",
            "",
            &"a:b:".repeat(100),
        ] {
            usage.record("u1", junk, true, 1);
        }
        assert!(usage.drain().is_empty());
        for i in 0..MAX_PENDING + 10 {
            usage.record("u1", &format!("a:b:c{i}"), true, 1);
        }
        usage.record("u1", "a:b:c0", true, 2);
        let deltas = usage.drain();
        assert_eq!(deltas.len(), MAX_PENDING);
        assert!(
            deltas
                .iter()
                .any(|d| d.permission == "a:b:c0" && d.allows == 2)
        );
        usage.record("u1", "a:b:c", true, 3);
        assert_eq!(usage.drain().len(), 1, "a drain makes room again");
    }

    #[test]
    fn the_one_pass_name_check_agrees_with_the_rule_as_written() {
        let rule = |name: &str| {
            let segment = |s: &str| {
                s.bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                    && s.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            };
            name.len() <= 200 && name.split(':').count() == 3 && name.split(':').all(segment)
        };
        // Every string of up to five bytes over an alphabet that hits each branch.
        let alphabet = ["a", "z", "0", "9", ":", ".", "_", "-", "A", " ", "\0", "é"];
        let mut names = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|prefix| alphabet.iter().map(move |c| format!("{prefix}{c}")))
                .collect();
            names.extend(last.iter().cloned());
        }
        names.push(format!("a:b:{}", "c".repeat(196)));
        names.push(format!("a:b:{}", "c".repeat(197)));
        for name in &names {
            assert_eq!(is_permission_name(name), rule(name), "{name:?}");
        }
    }

    #[test]
    fn recording_a_batch_counts_like_recording_each_decision() {
        let decisions = [
            ("u1", "a:b:c", true),
            ("u1", "a:b:c", false),
            ("u1", "a:b:c", true),
            ("u1", "a:b:d", false),
            ("u2", "a:b:c", true),
            ("u1", "a:b:c", false),
            ("u1", "Not:a:permission", true),
            ("u3", "a:b:e", false),
            ("u3", "a:b:e", false),
        ];
        let sorted = |mut deltas: Vec<UsageDelta>| {
            deltas
                .sort_by(|a, b| (&a.principal, &a.permission).cmp(&(&b.principal, &b.permission)));
            deltas
                .into_iter()
                .map(|d| {
                    (
                        d.principal,
                        d.permission,
                        d.allows,
                        d.denies,
                        d.last_used,
                        d.last_allowed,
                    )
                })
                .collect::<Vec<_>>()
        };
        let one_by_one = Usage::default();
        for (principal, permission, allowed) in decisions {
            one_by_one.record(principal, permission, allowed, 7);
        }
        let batched = Usage::default();
        batched.record_all(decisions, 7);
        let expected = sorted(one_by_one.drain());
        assert_eq!(expected.len(), 4);
        assert_eq!(sorted(batched.drain()), expected);
    }
}
