//! Start-up: open the store, create the account on first start, load everything, compile the
//! first snapshot.
//!
//! First start (SPEC §6, issue "The Warden server"): the account, the default groups bound to
//! their global policies, the "Warden Administrators" group bound to the administrator policy
//! (every permission of the catalogue), an administrator user in Account Admins and Warden
//! Administrators, and a platform token for it — written to a file only its owner can read. The
//! token itself is never logged. All of it is one write (revision 1); a restart loads it back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde_json::json;
use tokio::sync::Mutex;
use warden_engine::builtin::ADMINISTRATOR_POLICY_ID;
use warden_engine::{Builtin, PrincipalKind, Snapshot, SnapshotCell};
use warden_store::{Op, Store, Write};

use crate::api::new_uuid;
use crate::auth::{new_token, random_bytes};
use crate::model::{Model, catalogue_with};
use crate::records::{BindingBody, EnvironmentBody, GroupBody, PrincipalBody, TokenBody};
use crate::state::{AppState, Clock, Inner};

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
    /// How long an OAuth access token lives (default 300 s).
    pub access_token_ttl: std::time::Duration,
    /// How this server follows other replicas' writes and how long it may serve a stale snapshot.
    pub replication: crate::replication::ReplicationConfig,
    /// How long a client may take to send a request's headers, and then its body (default 15 s).
    /// Slow headers close the connection (idle keep-alive connections too); a slow body gets 408.
    pub read_timeout: std::time::Duration,
    /// The argon2id pool's workers and queue ([`crate::hashing`]).
    pub hashing: crate::hashing::HashingConfig,
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
            access_token_ttl: std::time::Duration::from_secs(300),
            replication: crate::replication::ReplicationConfig::default(),
            read_timeout: DEFAULT_READ_TIMEOUT,
            hashing: crate::hashing::HashingConfig::default(),
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
}

/// Opens the store, bootstraps it on first start, and builds the server's state.
pub async fn start(
    config: &Config,
    clock: Arc<dyn Clock>,
) -> Result<(AppState, Option<Bootstrapped>), StartError> {
    let store = Store::open(&config.db).await?;
    let builtin = Builtin::load(&config.catalogue_files).map_err(|errors| {
        StartError::Builtin(
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let mut bootstrapped = None;
    if store.meta("account").await?.is_none() {
        bootstrapped = bootstrap(&store, &builtin, config, clock.now_ms()).await?;
    }
    ensure_environments(&store, config, clock.now_ms()).await?;
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
        client_failures: crate::secrets::client_failures(),
        hashing: crate::hashing::Hashing::start(config.hashing),
        access_token_ttl_ms: i64::try_from(config.access_token_ttl.as_millis())
            .unwrap_or(i64::MAX)
            .max(1_000),
        fresh_at: std::sync::atomic::AtomicI64::new(clock_now),
        replication: config.replication,
        // Never zero: every request would time out.
        read_timeout: config.read_timeout.max(std::time::Duration::from_millis(1)),
    };
    let state = AppState(Arc::new(inner));
    crate::usage::spawn_flusher(Arc::downgrade(&state.0), config.usage_flush_interval);
    let listen_url =
        (state.store.backend() == warden_store::Backend::Postgres).then(|| config.db.clone());
    crate::replication::spawn(&state, listen_url);
    Ok((state, bootstrapped))
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

async fn bootstrap(
    store: &Store,
    builtin: &Builtin,
    config: &Config,
    now: i64,
) -> Result<Option<Bootstrapped>, StartError> {
    let account = new_uuid();
    let key = random_bytes(32).map_err(|e| StartError::Other(e.message))?;
    let key_hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut ops = vec![
        Op::PutMeta {
            key: "account".into(),
            value: account.clone(),
        },
        Op::PutMeta {
            key: "token_key".into(),
            value: key_hex,
        },
    ];
    for id in &config.environments {
        check_environment_id(id)?;
        ops.push(
            EnvironmentBody {
                id: id.clone(),
                name: id.clone(),
                created_at: now,
            }
            .op(),
        );
    }
    let group = |name: &str, description: &str| GroupBody {
        uuid: new_uuid(),
        name: name.to_owned(),
        description: description.to_owned(),
        federated_attribute_values: Vec::new(),
        owner: "LOCAL".to_owned(),
        created_at: now,
        updated_at: now,
    };
    let bind = |group: &GroupBody, policy: String| BindingBody {
        level_type: "account".into(),
        level_id: account.clone(),
        policy_uuid: policy,
        group_uuid: group.uuid.clone(),
        parameters: Default::default(),
        metadata: Default::default(),
        boundaries: Vec::new(),
        created_at: now,
    };
    let mut admin_groups = Vec::new();
    for default in &builtin.groups {
        let body = group(&default.name, &default.description);
        for name in &default.policies {
            let policy = builtin
                .policy(name)
                .ok_or_else(|| StartError::Builtin(format!("no global policy `{name}`")))?;
            ops.push(bind(&body, policy.id()).op());
        }
        if default.name == "Account Admins" {
            admin_groups.push(body.uuid.clone());
        }
        ops.push(body.op());
    }
    let administrators = group(
        "Warden Administrators",
        "Holds every permission of the catalogue. Created at the first start.",
    );
    ops.push(bind(&administrators, ADMINISTRATOR_POLICY_ID.to_owned()).op());
    admin_groups.push(administrators.uuid.clone());
    ops.push(administrators.op());

    let admin = PrincipalBody {
        uid: new_uuid(),
        kind: PrincipalKind::User,
        email: warden_engine::directory::normalise_email(&config.admin_email),
        handle: None,
        name: "Administrator".to_owned(),
        surname: String::new(),
        description: "Created at the first start.".to_owned(),
        owner: None,
        purpose: String::new(),
        group_uuid: None,
        deactivation: None,
        created_at: now,
        created_by: "bootstrap".to_owned(),
        last_reviewed_at: None,
        last_used_at: None,
        password_hash: None,
    };
    ops.push(admin.op());
    ops.push(Op::SetMemberships {
        uid: admin.uid.clone(),
        groups: admin_groups,
    });
    let (id, token, hash) = new_token("pt", &key).map_err(|e| StartError::Other(e.message))?;
    let token_body = TokenBody {
        id,
        kind: "platform".into(),
        owner_uid: admin.uid.clone(),
        name: "bootstrap administrator token".into(),
        secret_hash: hash,
        scopes: Vec::new(),
        status: "ACTIVE".into(),
        expires_at: None,
        created_at: now,
        created_by: "bootstrap".into(),
        last_used_at: None,
        client_id: None,
    };
    ops.push(token_body.op());

    // The file first: if the commit fails it is removed, and no token exists without its file.
    write_secret_file(&config.token_file, &token)?;
    let write = Write {
        actor: "bootstrap".into(),
        action: "account.bootstrap".into(),
        target: format!("account/{account}"),
        before: None,
        after: Some(
            json!({ "account": account, "admin": admin.email, "token": token_body.id }).to_string(),
        ),
        request_id: new_uuid(),
        at: now,
        ops,
        // Only into an empty store: replicas starting together create one account, not two.
        expected_revision: Some(0),
    };
    match store.write(write).await {
        Ok(_) => {}
        Err(warden_store::StoreError::Stale { .. }) => {
            let _ = std::fs::remove_file(&config.token_file);
            return Ok(None);
        }
        Err(error) => {
            let _ = std::fs::remove_file(&config.token_file);
            return Err(error.into());
        }
    }
    Ok(Some(Bootstrapped {
        account,
        admin_email: admin.email,
        token_file: config.token_file.clone(),
    }))
}

/// Writes a secret to a new file readable only by its owner.
pub fn write_secret_file(path: &Path, secret: &str) -> Result<(), StartError> {
    use std::io::Write as _;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let error = |e: std::io::Error| StartError::TokenFile {
        path: path.display().to_string(),
        error: e.to_string(),
    };
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).map_err(error)?;
    file.write_all(secret.as_bytes()).map_err(error)?;
    file.write_all(b"\n").map_err(error)?;
    file.sync_all().map_err(error)
}

fn check_environment_id(id: &str) -> Result<(), StartError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(StartError::Other(format!(
            "environment id `{id}` must be 1–64 characters of letters, digits, `-` and `_`"
        )))
    }
}

async fn ensure_environments(store: &Store, config: &Config, now: i64) -> Result<(), StartError> {
    let loaded = store.load().await?;
    let existing: Vec<EnvironmentBody> = loaded
        .environments
        .iter()
        .filter_map(|b| serde_json::from_str(b).ok())
        .collect();
    let missing: Vec<&String> = config
        .environments
        .iter()
        .filter(|e| !existing.iter().any(|x| &x.id == *e))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    for id in &missing {
        check_environment_id(id)?;
    }
    let ops = missing
        .iter()
        .map(|id| {
            EnvironmentBody {
                id: (*id).clone(),
                name: (*id).clone(),
                created_at: now,
            }
            .op()
        })
        .collect();
    let write = Write {
        actor: "configuration".into(),
        action: "environment.create".into(),
        target: format!(
            "environments/{}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
        ),
        before: None,
        after: None,
        request_id: new_uuid(),
        at: now,
        ops,
        expected_revision: None,
    };
    store.write(write).await?;
    Ok(())
}
