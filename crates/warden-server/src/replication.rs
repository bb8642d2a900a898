//! Scale-out: several replicas on one PostgreSQL. Decisions come from each replica's in-memory
//! snapshot; writes go to the shared store. A replica learns of other replicas' writes from
//! PostgreSQL notifications and, as a fallback after a missed notification or a reconnect, from
//! polling; either way it replays the store's change log onto its model, write by write.
//!
//! Freshness: every successful look at the store (even one that finds nothing new) records the
//! time. Decisions served while the store cannot be reached are marked `stale`, and refused (503)
//! once the last successful look is older than the configured bound — a replica never serves an
//! old snapshot indefinitely.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use warden_engine::Snapshot;

use crate::error::{ApiError, ApiResult};
use crate::model::{Model, catalogue_with};
use crate::state::{AppState, Inner};

/// How decisions relate to the store's reachability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// The store was not reachable lately; the answer comes from the last snapshot.
    Stale,
}

impl Inner {
    /// Brings the model and the snapshot up to the store's revision. Returns the new revision.
    pub async fn catch_up(&self) -> Result<u64, String> {
        let mut model = self.model.lock().await;
        let local = self.cell.load().revision;
        let changes = self
            .store
            .changes_since(i64::try_from(local).unwrap_or(i64::MAX))
            .await
            .map_err(|e| e.to_string())?;
        let revision = match changes {
            Some(changes) => {
                let mut revision = local;
                for (at, ops) in changes {
                    let replayed = model
                        .apply_ops(&ops, &self.builtin)
                        .map_err(|e| e.to_string());
                    let replayed = match replayed {
                        Ok(replayed) => replayed,
                        Err(error) => {
                            tracing::warn!(%error, revision = at, "replay failed; reloading everything");
                            drop(model);
                            return self.reload().await;
                        }
                    };
                    revision = u64::try_from(at).unwrap_or(0);
                    let current = self.cell.load();
                    let next = match replayed.catalogue {
                        Some(catalogue) => {
                            Snapshot::build(model.directory.clone(), catalogue, revision)
                        }
                        None => {
                            current.apply(model.directory.clone(), &replayed.affected, revision)
                        }
                    };
                    self.cell.store(next);
                }
                self.tokens.store(Arc::new(model.tokens.clone()));
                revision
            }
            None => {
                drop(model);
                return self.reload().await;
            }
        };
        self.fresh_at.store(self.clock.now_ms(), Ordering::SeqCst);
        Ok(revision)
    }

    /// Reloads everything from the store (when the change log no longer reaches back far enough).
    async fn reload(&self) -> Result<u64, String> {
        let mut model = self.model.lock().await;
        let loaded = self.store.load().await.map_err(|e| e.to_string())?;
        let mut custom = std::collections::BTreeMap::new();
        for body in &loaded.custom_services {
            let file: warden_policy::ServiceFile =
                serde_json::from_str(body).map_err(|e| e.to_string())?;
            custom.insert(file.service.name.clone(), body.clone());
        }
        let catalogue = Arc::new(catalogue_with(&self.builtin, &custom).map_err(|e| e.0)?);
        let fresh = Model::from_loaded(&loaded, &self.builtin, &catalogue).map_err(|e| e.0)?;
        let revision = u64::try_from(loaded.revision).unwrap_or(0);
        self.cell.store(Snapshot::build(
            fresh.directory.clone(),
            catalogue,
            revision,
        ));
        self.tokens.store(Arc::new(fresh.tokens.clone()));
        *model = fresh;
        self.fresh_at.store(self.clock.now_ms(), Ordering::SeqCst);
        Ok(revision)
    }

    /// Whether decisions may be served now, and how fresh they are.
    pub fn freshness(&self) -> ApiResult<Freshness> {
        let age = self.clock.now_ms() - self.fresh_at.load(Ordering::SeqCst);
        if age <= self.replication.stale_after_ms {
            Ok(Freshness::Fresh)
        } else if age <= self.replication.max_stale_ms {
            Ok(Freshness::Stale)
        } else {
            Err(ApiError::unavailable(
                format!(
                    "the store has not been reachable for {} s; decisions are refused until it is",
                    age / 1000
                ),
                1,
            ))
        }
    }
}

/// Settings of the replication loop.
#[derive(Debug, Clone, Copy)]
pub struct ReplicationConfig {
    /// How often the store is polled.
    pub poll_interval: Duration,
    /// Beyond this age of the last successful look at the store, decisions are marked stale.
    pub stale_after_ms: i64,
    /// Beyond this age, decisions are refused (503).
    pub max_stale_ms: i64,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        ReplicationConfig {
            poll_interval: Duration::from_millis(500),
            stale_after_ms: 3_000,
            max_stale_ms: 60_000,
        }
    }
}

/// Starts the poller and, on PostgreSQL, the notification listener; both stop when the state is
/// dropped.
pub fn spawn(state: &AppState, database_url: Option<String>) {
    let weak = Arc::downgrade(&state.0);
    let interval = state.replication.poll_interval;
    tokio::spawn(poll(weak.clone(), interval));
    if let Some(url) = database_url {
        tokio::spawn(listen(weak, url));
    }
}

async fn poll(state: Weak<Inner>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        let Some(state) = state.upgrade() else { break };
        if let Err(error) = state.catch_up().await {
            tracing::warn!(%error, "cannot catch up with the store; serving the last snapshot");
        }
    }
}

/// Listens for `warden_changes`; reconnects with back-off; catches up on every notification and
/// after every reconnect (a notification may have been missed meanwhile).
async fn listen(state: Weak<Inner>, url: String) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if state.upgrade().is_none() {
            break;
        }
        match sqlx::postgres::PgListener::connect(&url).await {
            Ok(mut listener) => {
                if listener.listen("warden_changes").await.is_ok() {
                    backoff = Duration::from_millis(100);
                    if let Some(state) = state.upgrade() {
                        let _ = state.catch_up().await;
                    }
                    while let Ok(notification) = listener.recv().await {
                        let Some(state) = state.upgrade() else { return };
                        let behind = notification
                            .payload()
                            .parse::<u64>()
                            .map_or(true, |revision| revision > state.cell.load().revision);
                        if behind && let Err(error) = state.catch_up().await {
                            tracing::warn!(%error, "cannot catch up after a notification");
                        }
                    }
                }
            }
            Err(error) => tracing::debug!(%error, "notification listener cannot connect"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}
