//! Usage tracking: per principal and permission, the time of the last decision and of the last
//! ALLOW, and counts of ALLOWs and DENYs.
//!
//! Recording is on the decision path, so it is a few hash lookups under one of many small locks
//! (sharded by principal), never IO. A background task flushes the accumulated deltas to the store
//! every few seconds; the store adds them up, so replicas flushing concurrently lose nothing. A
//! crash loses at most the deltas of the last interval — never directory data, which is written
//! synchronously by the write pipeline.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rustc_hash::{FxBuildHasher, FxHashMap};
use warden_store::UsageDelta;

use crate::state::Inner;

const SHARDS: usize = 64;

#[derive(Debug, Default, Clone, Copy)]
struct Counter {
    last_used: i64,
    last_allowed: i64,
    allows: i64,
    denies: i64,
}

type Shard = FxHashMap<Box<str>, FxHashMap<Box<str>, Counter>>;

#[derive(Debug)]
pub struct Usage {
    shards: Vec<Mutex<Shard>>,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
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
        let Some(shard) = self.shard(principal) else {
            return;
        };
        let Ok(mut shard) = shard.lock() else { return };
        let permissions = match shard.get_mut(principal) {
            Some(permissions) => permissions,
            None => shard.entry(principal.into()).or_default(),
        };
        let counter = match permissions.get_mut(permission) {
            Some(counter) => counter,
            None => permissions.entry(permission.into()).or_default(),
        };
        counter.last_used = counter.last_used.max(now_ms);
        if allowed {
            counter.allows += 1;
            counter.last_allowed = counter.last_allowed.max(now_ms);
        } else {
            counter.denies += 1;
        }
    }

    /// Takes everything recorded since the last drain.
    pub fn drain(&self) -> Vec<UsageDelta> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            for (principal, permissions) in std::mem::take(&mut *shard) {
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
            let counter = shard
                .entry(delta.principal.into())
                .or_default()
                .entry(delta.permission.into())
                .or_default();
            counter.last_used = counter.last_used.max(delta.last_used);
            counter.last_allowed = counter.last_allowed.max(delta.last_allowed);
            counter.allows += delta.allows;
            counter.denies += delta.denies;
        }
    }
}

impl Inner {
    /// Writes the recorded usage to the store; on failure keeps it for the next attempt.
    pub async fn flush_usage(&self) -> Result<(), warden_store::StoreError> {
        let deltas = self.usage.drain();
        if deltas.is_empty() {
            return Ok(());
        }
        match self.store.add_usage(&deltas).await {
            Ok(()) => Ok(()),
            Err(error) => {
                self.usage.restore(deltas);
                Err(error)
            }
        }
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
}
