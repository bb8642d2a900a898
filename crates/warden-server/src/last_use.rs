//! When each service user was last used, kept current at a bounded write rate.
//!
//! A service user is *used* when one of its credentials is accepted (a platform token or an OAuth
//! access token authenticates a request or is checked by a decision or introspection request; one
//! of its OAuth clients authenticates with a secret) and when it is the principal of a decision
//! (recorded in the usage counters, [`crate::usage`], and handed over here when they are flushed).
//! Uses are recorded in memory (a few hash lookups under one of many small locks, never IO) and
//! written to the store's `last_used` table by the usage flush: at most once per service user per
//! [`WRITE_EVERY_MS`], and everything still held when the server shuts down. What is read back is
//! the later of the stored instant and the one held here, so an answer never lags a write.

use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use rustc_hash::{FxBuildHasher, FxHashMap};

/// At most one store write per service user in this many milliseconds.
pub const WRITE_EVERY_MS: i64 = 60_000;

const SHARDS: usize = 16;

#[derive(Debug, Default, Clone, Copy)]
struct Entry {
    /// The latest use not yet written.
    pending: Option<i64>,
    /// When (by the server's clock) this server last wrote the principal's last use.
    written_at: Option<i64>,
}

type Shard = FxHashMap<Box<str>, Entry>;

#[derive(Debug)]
pub struct LastUse {
    shards: Vec<Mutex<Shard>>,
}

impl Default for LastUse {
    fn default() -> Self {
        LastUse {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }
}

impl LastUse {
    fn shard(&self, uid: &str) -> Option<&Mutex<Shard>> {
        let index = usize::try_from(FxBuildHasher.hash_one(uid) % SHARDS as u64).unwrap_or(0);
        self.shards.get(index)
    }

    /// Records a use of `uid` at `at` (milliseconds since the epoch).
    pub fn record(&self, uid: &str, at: i64) {
        let Some(shard) = self.shard(uid) else { return };
        let Ok(mut shard) = shard.lock() else { return };
        let entry = match shard.get_mut(uid) {
            Some(entry) => entry,
            None => shard.entry(uid.into()).or_default(),
        };
        entry.pending = Some(entry.pending.map_or(at, |p| p.max(at)));
    }

    /// The latest use of `uid` not yet written.
    pub fn pending(&self, uid: &str) -> Option<i64> {
        let shard = self.shard(uid)?.lock().ok()?;
        shard.get(uid).and_then(|entry| entry.pending)
    }

    /// Every use not yet written, by principal.
    pub fn all_pending(&self) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for shard in &self.shards {
            let Ok(shard) = shard.lock() else { continue };
            for (uid, entry) in shard.iter() {
                if let Some(at) = entry.pending {
                    out.insert(uid.to_string(), at);
                }
            }
        }
        out
    }

    /// Takes the uses to write at `now`: those of principals not written in the last
    /// [`WRITE_EVERY_MS`], or every one with `all` (shutdown). They count as written at `now`;
    /// a failed write gives them back with [`LastUse::restore`].
    pub fn take_due(&self, now: i64, all: bool) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            for (uid, entry) in shard.iter_mut() {
                let due = all || entry.written_at.is_none_or(|w| now - w >= WRITE_EVERY_MS);
                if let Some(at) = entry.pending.filter(|_| due) {
                    out.push((uid.to_string(), at));
                    entry.pending = None;
                    entry.written_at = Some(now);
                }
            }
            // A principal written more than a minute ago with nothing new is forgotten: the map
            // holds only recently used service users.
            shard.retain(|_, entry| {
                entry.pending.is_some()
                    || entry.written_at.is_some_and(|w| now - w < WRITE_EVERY_MS)
            });
        }
        out.sort();
        out
    }

    /// Gives back uses whose write failed: they are written at the next flush.
    pub fn restore(&self, uses: Vec<(String, i64)>) {
        for (uid, at) in uses {
            let Some(shard) = self.shard(&uid) else {
                continue;
            };
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            let entry = shard.entry(uid.into()).or_default();
            entry.pending = Some(entry.pending.map_or(at, |p| p.max(at)));
            entry.written_at = None;
        }
    }
}

impl crate::state::Inner {
    /// One principal's last use: the later of the stored instant and the one not yet written.
    pub async fn last_used_at(&self, uid: &str) -> Result<Option<i64>, warden_store::StoreError> {
        let stored = self.store.last_used(Some(uid)).await?.get(uid).copied();
        Ok(stored.max(self.last_use.pending(uid)))
    }

    /// [`Inner::last_used_at`] of every principal used, by uid.
    pub async fn last_used_all(&self) -> Result<BTreeMap<String, i64>, warden_store::StoreError> {
        let mut all = self.store.last_used(None).await?;
        for (uid, at) in self.last_use.all_pending() {
            let kept = all.entry(uid).or_insert(at);
            *kept = (*kept).max(at);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_is_written_at_most_once_a_minute_and_everything_at_shutdown() {
        let uses = LastUse::default();
        uses.record("u1", 1_000);
        uses.record("u1", 900);
        assert_eq!(uses.pending("u1"), Some(1_000), "the latest use is kept");
        assert_eq!(uses.take_due(1_000, false), [("u1".to_owned(), 1_000)]);
        assert_eq!(uses.pending("u1"), None);
        uses.record("u1", 20_000);
        uses.record("u2", 20_000);
        assert_eq!(
            uses.take_due(20_000, false),
            [("u2".to_owned(), 20_000)],
            "u1 was written 19 s ago"
        );
        assert_eq!(uses.all_pending().get("u1"), Some(&20_000));
        assert_eq!(uses.take_due(61_000, false), [("u1".to_owned(), 20_000)]);
        uses.record("u1", 62_000);
        assert!(uses.take_due(62_000, false).is_empty());
        assert_eq!(uses.take_due(62_000, true), [("u1".to_owned(), 62_000)]);
    }

    #[test]
    fn a_failed_write_is_retried_and_quiet_principals_are_forgotten() {
        let uses = LastUse::default();
        uses.record("u1", 5);
        let taken = uses.take_due(5, false);
        uses.restore(taken);
        uses.record("u1", 3);
        assert_eq!(uses.take_due(6, false), [("u1".to_owned(), 5)]);
        assert!(uses.take_due(60_006, false).is_empty());
        let held: usize = uses.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert_eq!(held, 0);
    }
}
