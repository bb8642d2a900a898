//! The server's shared state: the store, the model and the current snapshot, the clock, and the
//! per-process machinery (usage counters, failure limits, metrics). Writes go through the
//! service layer's pipeline (`crate::service::commit`).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use arc_swap::ArcSwap;
use tokio::sync::Mutex;
use warden_engine::cowmap::CowMap;
use warden_engine::{Builtin, Snapshot, SnapshotCell};
use warden_store::Store;

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
    /// Service users' last use, written to the store at a bounded rate.
    pub last_use: crate::last_use::LastUse,
    /// The sample of allowed requests, for least-privilege suggestions.
    pub samples: crate::samples::Samples,
    /// Days the sample is kept in the store.
    pub sample_retention_days: i64,
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
    /// Connections served at once.
    pub max_connections: usize,
    /// Requests per source to the endpoints that answer without a token.
    pub unauthenticated_rate: crate::rate::SourceRate,
    /// Which service-user names deserve a warning.
    pub naming: crate::service::naming::Naming,
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
    /// The current snapshot; inside a batch, the batch's working one
    /// ([`crate::service::batch`]).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        crate::service::batch::working_snapshot().unwrap_or_else(|| self.cell.load())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
