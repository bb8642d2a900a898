//! The server's shared state and its write pipeline.
//!
//! Every write runs the same way: take the write lock; let the handler plan the change against the
//! current model (validation, escalation checks, the draft directory); commit the plan's
//! operations and audit entry to the store in one transaction; only then apply the plan to the
//! model and publish a new snapshot. A write that fails anywhere before the commit changes nothing;
//! a write is visible to the next decision once its response is sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwap;
use serde_json::Value;
use tokio::sync::Mutex;
use warden_engine::cowmap::CowMap;
use warden_engine::directory::Affected;
use warden_engine::{Builtin, Directory, Snapshot, SnapshotCell};
use warden_policy::Catalogue;
use warden_store::{Op, Store, Write};

use crate::error::{ApiError, ApiResult};
use crate::model::Model;
use crate::records::TokenBody;

/// The time, read at the edge and passed in everywhere else.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the epoch.
    fn now_ms(&self) -> i64;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now_ms: i64) -> Self {
        ManualClock(AtomicI64::new(now_ms))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// What a handler plans to change; committed by [`AppState::write`].
pub struct Plan<T> {
    pub action: String,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub ops: Vec<Op>,
    /// The changed directory and the groups to recompile.
    pub directory: Option<(Directory, Affected)>,
    /// A changed catalogue (custom services): the snapshot is rebuilt in full.
    pub catalogue: Option<Arc<Catalogue>>,
    /// Applies the change to the model's bodies after the commit; must not fail.
    pub apply: Box<dyn FnOnce(&mut Model) + Send>,
    pub output: T,
}

impl<T> std::fmt::Debug for Plan<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("action", &self.action)
            .field("target", &self.target)
            .field("ops", &self.ops.len())
            .finish()
    }
}

impl<T> Plan<T> {
    pub fn new(action: impl Into<String>, target: impl Into<String>, output: T) -> Self {
        Plan {
            action: action.into(),
            target: target.into(),
            before: None,
            after: None,
            ops: Vec::new(),
            directory: None,
            catalogue: None,
            apply: Box::new(|_| {}),
            output,
        }
    }
}

/// Who made a request and how it is traced.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub actor: String,
    pub request_id: String,
    pub now_ms: i64,
}

#[derive(Debug)]
pub struct Inner {
    pub store: Store,
    pub builtin: Builtin,
    pub cell: SnapshotCell,
    pub model: Mutex<Model>,
    /// Tokens by id, readable without the model lock (authentication is on every request).
    pub tokens: ArcSwap<CowMap<String, Arc<TokenBody>>>,
    pub token_key: Vec<u8>,
    pub clock: Arc<dyn Clock>,
    pub domain: String,
    pub metrics: crate::api::health::Metrics,
    pub usage: crate::usage::Usage,
    /// Bad OAuth client secrets per source (rate limiting).
    pub client_failures: crate::throttle::SourceLimiter,
    /// Every argon2id computation (client secrets, passwords), bounded.
    pub hashing: crate::hashing::Hashing,
    /// How long an OAuth access token lives.
    pub access_token_ttl_ms: i64,
    /// When this server last saw the store (milliseconds since the epoch).
    pub fresh_at: std::sync::atomic::AtomicI64,
    pub replication: crate::replication::ReplicationConfig,
    /// How long a client may take to send a request's headers, and then its body.
    pub read_timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.cell.load()
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Plans, commits and publishes one write; returns the plan's output and the new revision.
    pub async fn write<T>(
        &self,
        context: &RequestContext,
        plan: impl FnOnce(&Model, &Snapshot) -> ApiResult<Plan<T>>,
    ) -> ApiResult<(T, i64)> {
        // Another replica may have written since: plan against the store's latest state.
        self.catch_up().await.map_err(|error| {
            tracing::warn!(%error, "cannot catch up before a write");
            ApiError::unavailable(
                "the store is unavailable; nothing was changed, retry later",
                5,
            )
        })?;
        let mut model = self.model.lock().await;
        let snapshot = self.snapshot();
        let plan = plan(&model, &snapshot)?;
        let write = Write {
            actor: context.actor.clone(),
            action: plan.action,
            target: plan.target,
            before: plan.before.map(|v| v.to_string()),
            after: plan.after.map(|v| v.to_string()),
            request_id: context.request_id.clone(),
            at: context.now_ms,
            ops: plan.ops,
            expected_revision: Some(i64::try_from(snapshot.revision).unwrap_or(i64::MAX)),
        };
        let committed = match self.store.write(write).await {
            Ok(committed) => committed,
            Err(warden_store::StoreError::Stale { current }) => {
                drop(model);
                let _ = self.catch_up().await;
                return Err(ApiError::conflict(format!(
                    "another replica wrote revision {current} while this request was planned; nothing was changed, retry it"
                )));
            }
            Err(error) => return Err(error.into()),
        };
        let revision = u64::try_from(committed.revision)
            .map_err(|_| ApiError::internal("negative revision"))?;
        (plan.apply)(&mut model);
        let next = match (plan.directory, plan.catalogue) {
            (Some((directory, _)), Some(catalogue)) => {
                model.directory = directory.clone();
                Snapshot::build(directory, catalogue, revision)
            }
            (Some((directory, affected)), None) => {
                model.directory = directory.clone();
                snapshot.apply(directory, &affected, revision)
            }
            (None, Some(catalogue)) => {
                Snapshot::build(model.directory.clone(), catalogue, revision)
            }
            (None, None) => snapshot.apply(model.directory.clone(), &[], revision),
        };
        self.cell.store(next);
        self.tokens.store(Arc::new(model.tokens.clone()));
        Ok((plan.output, committed.revision))
    }

    /// Appends an audit entry that changes nothing (a recorded check).
    pub async fn record(
        &self,
        context: &RequestContext,
        action: &str,
        target: &str,
        after: Value,
    ) -> ApiResult<i64> {
        let write = Write {
            actor: context.actor.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            before: None,
            after: Some(after.to_string()),
            request_id: context.request_id.clone(),
            at: context.now_ms,
            ops: Vec::new(),
            expected_revision: None,
        };
        Ok(self.store.record(write).await?.seq)
    }
}
