//! Start-up: open the store, create the account on first start and the configured environments
//! (both written by [`crate::service::first_start`]), load everything, compile the first
//! snapshot, build the server's state.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;
use warden_engine::{Builtin, Snapshot, SnapshotCell};
use warden_store::Store;

use crate::model::{Model, catalogue_with};
use crate::state::{AppState, Clock, Inner};

/// The group the first start creates for the administrator, bound at account level to the
/// administrator policy; `warden admin recover` restores it.
pub const ADMINISTRATORS_GROUP: &str = "Warden Administrators";

/// The default of [`Config::max_connections`]: under the usual limit of 1,024 open files per
/// process, leaving room for the store, the log and the listener. Raise both together.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1_000;
/// The default of [`Config::bootstrap_token_ttl`].
pub const DEFAULT_BOOTSTRAP_TOKEN_TTL: std::time::Duration =
    std::time::Duration::from_secs(24 * 3600);
/// The default of [`Config::usage_sample_retention_days`].
pub const DEFAULT_SAMPLE_RETENTION_DAYS: i64 = 90;
/// The default of [`Config::read_timeout`].
pub const DEFAULT_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// How the server starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// `warden.db` (an SQLite file), `sqlite://…` or `postgres://…`.
    pub db: String,
    pub admin_email: String,
    /// Where the first start writes the administrator's token.
    pub token_file: PathBuf,
    /// The domain of service-user emails.
    pub domain: String,
    /// Environments that must exist (created when missing).
    pub environments: Vec<String>,
    /// Extra catalogue files `(origin, TOML)`.
    pub catalogue_files: Vec<(String, String)>,
    /// How often usage counters are written to the store.
    pub usage_flush_interval: std::time::Duration,
    /// Days the sample of allowed requests (for least-privilege suggestions) is kept (default 90).
    pub usage_sample_retention_days: i64,
    /// How long an OAuth access token lives (default 300 s).
    pub access_token_ttl: std::time::Duration,
    /// How this server follows other replicas' writes and how long it may serve a stale snapshot.
    pub replication: crate::replication::ReplicationConfig,
    /// How long a client may take to send a request's headers, and then its body (default 15 s).
    /// Slow headers close the connection (idle keep-alive connections too); a slow body gets 408.
    pub read_timeout: std::time::Duration,
    /// The argon2id pool's workers and queue ([`crate::hashing`]).
    pub hashing: crate::hashing::HashingConfig,
    /// How long the token made at the first start lives (default 24 hours): long enough to set
    /// up lasting credentials, short enough that a forgotten file stops mattering.
    pub bootstrap_token_ttl: std::time::Duration,
    /// Connections served at once; more are answered `503` and closed.
    pub max_connections: usize,
    /// Requests per source to the endpoints that answer without a token ([`crate::rate`]).
    pub unauthenticated_rate: crate::rate::RateConfig,
    /// A file `(origin, TOML)` replacing the built-in list of generic service-user names
    /// ([`crate::service::naming`]).
    pub service_user_names: Option<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            db: "warden.db".to_owned(),
            admin_email: "admin@warden.local".to_owned(),
            token_file: PathBuf::from("warden-admin-token"),
            domain: "warden.local".to_owned(),
            environments: Vec::new(),
            catalogue_files: Vec::new(),
            usage_flush_interval: std::time::Duration::from_secs(10),
            usage_sample_retention_days: DEFAULT_SAMPLE_RETENTION_DAYS,
            access_token_ttl: std::time::Duration::from_secs(300),
            replication: crate::replication::ReplicationConfig::default(),
            read_timeout: DEFAULT_READ_TIMEOUT,
            hashing: crate::hashing::HashingConfig::default(),
            bootstrap_token_ttl: DEFAULT_BOOTSTRAP_TOKEN_TTL,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            unauthenticated_rate: crate::rate::RateConfig::default(),
            service_user_names: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Store(#[from] warden_store::StoreError),
    #[error("the built-in data is invalid: {0}")]
    Builtin(String),
    #[error("{0}")]
    Model(#[from] crate::model::ModelError),
    #[error("cannot write the administrator token to `{path}`: {error}")]
    TokenFile { path: String, error: String },
    #[error("{0}")]
    Other(String),
}

/// What the first start created, for the operator.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub account: String,
    pub admin_email: String,
    pub token_file: PathBuf,
    /// When the token in the file stops working (epoch milliseconds).
    pub token_expires_at: i64,
}

/// Opens the store, bootstraps it on first start, and builds the server's state.
pub async fn start(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<(AppState, Option<Bootstrapped>), StartError> {
    let store = Store::open(&config.db).await?;
    let builtin = load_builtin(config)?;
    let mut bootstrapped = None;
    if store.meta("account").await?.is_none() {
        bootstrapped =
            crate::service::first_start::create_account(&store, &builtin, config, clock.now_ms())
                .await?;
    }
    crate::service::first_start::ensure_environments(&store, config, clock.now_ms()).await?;
    let state = build_state(store, builtin, config, clock).await?;
    crate::usage::spawn_flusher(Arc::downgrade(&state.0), config.usage_flush_interval);
    let listen_url =
        (state.store.backend() == warden_store::Backend::Postgres).then(|| config.db.clone());
    crate::replication::spawn(&state, listen_url);
    Ok((state, bootstrapped))
}

/// The built-in catalogue, policies and groups, with the configured catalogue files.
pub(crate) fn load_builtin(config: &Config) -> Result<Builtin, StartError> {
    Builtin::load(&config.catalogue_files).map_err(|errors| {
        StartError::Builtin(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })
}

/// Loads everything from a store that has an account and compiles the first snapshot; no
/// background task is started.
pub(crate) async fn build_state(
    store: Store,
    builtin: Builtin,
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<AppState, StartError> {
    let loaded = store.load().await?;
    let token_key = loaded
        .meta
        .get("token_key")
        .and_then(|hex| decode_hex(hex))
        .ok_or_else(|| StartError::Other("the store has no valid token key".to_owned()))?;
    let mut model_custom = std::collections::BTreeMap::new();
    for body in &loaded.custom_services {
        let file: warden_policy::ServiceFile = serde_json::from_str(body)
            .map_err(|e| StartError::Other(format!("custom service: {e}")))?;
        model_custom.insert(file.service.name.clone(), body.clone());
    }
    let catalogue = Arc::new(catalogue_with(&builtin, &model_custom)?);
    let model = Model::from_loaded(&loaded, &builtin, &catalogue)?;
    let revision = u64::try_from(loaded.revision).unwrap_or(0);
    let snapshot = Snapshot::build(model.directory.clone(), catalogue, revision);
    for issue in snapshot.issues() {
        tracing::warn!(group = %issue.group, policy = %issue.policy, message = %issue.message, "statement failed closed");
    }
    let naming = match &config.service_user_names {
        Some((origin, text)) => crate::service::naming::Naming::from_toml(origin, text),
        None => crate::service::naming::Naming::builtin(),
    }
    .map_err(StartError::Other)?;
    let tokens = ArcSwap::from_pointee(model.tokens.clone());
    let clock_now = clock.now_ms();
    let inner = Inner {
        store,
        builtin,
        cell: SnapshotCell::new(snapshot),
        model: Mutex::new(model),
        tokens,
        token_key,
        clock,
        domain: config.domain.clone(),
        metrics: crate::api::health::Metrics::default(),
        usage: crate::usage::Usage::default(),
        last_use: crate::last_use::LastUse::default(),
        samples: crate::samples::Samples::default(),
        sample_retention_days: config.usage_sample_retention_days,
        client_failures: crate::secrets::client_failures(),
        hashing: crate::hashing::Hashing::start(config.hashing),
        access_token_ttl_ms: i64::try_from(config.access_token_ttl.as_millis())
            .unwrap_or(i64::MAX)
            .max(1_000),
        fresh_at: std::sync::atomic::AtomicI64::new(clock_now),
        replication: config.replication,
        // Never zero: every request would time out.
        read_timeout: config.read_timeout.max(std::time::Duration::from_millis(1)),
        max_connections: config.max_connections.max(1),
        unauthenticated_rate: crate::rate::SourceRate::new(config.unauthenticated_rate),
        naming,
    };
    Ok(AppState(Arc::new(inner)))
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    hex.len()
        .is_multiple_of(2)
        .then(|| {
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}

/// Writes a secret to a new file readable only by its owner.
pub fn write_secret_file(path: &Path, secret: &str) -> Result<(), StartError> {
    let error = |e: std::io::Error| StartError::TokenFile {
        path: path.display().to_string(),
        error: e.to_string(),
    };
    let _ = std::fs::remove_file(path);
    create_secret_file(path, secret).map_err(error)
}

/// Writes a secret to a file that must not exist yet, readable only by its owner.
pub fn create_secret_file(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}
