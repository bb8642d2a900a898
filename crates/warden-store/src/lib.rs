//! Warden's persistent store: an SQLite file by default, PostgreSQL for several replicas, behind
//! one interface.
//!
//! Every write is one transaction that bumps the monotonic store revision, applies its operations,
//! keeps them in the change log and appends one entry to the hash-chained audit log; it returns
//! only after the commit, so nothing acknowledged is ever lost. The revision row records the log's
//! last entry and each change-log row names its write's entry, so the log cannot be shortened or
//! rewritten without disagreeing with them ([`audit`]). The store knows rows, not rules: records arrive as JSON
//! bodies with their key columns, and the server decides what is valid before writing. Console
//! sessions are kept here too, outside the revision, so that every replica honours them
//! ([`SessionRow`]).
//!
//! An SQLite store holds the token key and every hash: its file is readable by its owner only.
//! [`Store::open`] creates a missing file with mode 0600 before SQLite writes a byte, and narrows
//! an existing file (and its `-wal` and `-shm` files) that others could read to 0600; SQLite
//! gives the `-wal` and `-shm` files it creates the database file's mode. A file whose mode cannot
//! be narrowed is not opened.

pub mod audit;
pub mod maintenance;
mod ops;
mod samples;
mod schema;
mod sessions;

use std::collections::BTreeMap;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection, Executor, Row};

pub use audit::{AuditEntry, ChainProblem, Verification};
pub use ops::Op;
pub use samples::{SampleKind, UsageSample};
pub use sessions::SessionRow;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached or failed; the write did not happen.
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness rule of the schema refused the write; nothing changed.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data that cannot be read back.
    #[error("the store holds invalid data: {0}")]
    Corrupt(String),
    #[error("cannot open the store: {0}")]
    Open(String),
    /// The store is at a newer revision than the writer expected: catch up and plan again.
    #[error("the store is at revision {current}, newer than expected")]
    Stale { current: i64 },
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.message().to_owned())
            }
            sqlx::Error::ColumnDecode { .. }
            | sqlx::Error::Decode(_)
            | sqlx::Error::ColumnNotFound(_) => StoreError::Corrupt(error.to_string()),
            _ => StoreError::Unavailable(error.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One write: its operations and what the audit log records about it.
#[derive(Debug, Clone, Default)]
pub struct Write {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: String,
    /// Milliseconds since the epoch (the caller reads the clock).
    pub at: i64,
    pub ops: Vec<Op>,
    /// The revision the writer's state is at; when the store has moved on (another replica
    /// wrote), the write is refused with [`StoreError::Stale`] and changes nothing.
    pub expected_revision: Option<i64>,
}

/// What a committed write produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Committed {
    pub revision: i64,
    pub seq: i64,
}

/// Everything the store holds, read in one consistent transaction.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub revision: i64,
    pub meta: BTreeMap<String, String>,
    pub environments: Vec<String>,
    pub principals: Vec<String>,
    pub memberships: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub policies: Vec<String>,
    pub boundaries: Vec<String>,
    pub bindings: Vec<String>,
    pub tokens: Vec<String>,
    pub custom_services: Vec<String>,
    pub oauth_clients: Vec<String>,
    pub workflows: Vec<String>,
    pub consents: Vec<String>,
}

/// Counts of decisions for one principal and permission since the last flush.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageDelta {
    pub principal: String,
    pub permission: String,
    /// Milliseconds since the epoch of the latest decision.
    pub last_used: i64,
    /// … of the latest ALLOW (0: none).
    pub last_allowed: i64,
    pub allows: i64,
    pub denies: i64,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub after_seq: Option<i64>,
    pub actor: Option<String>,
    pub action_prefix: Option<String>,
    pub target: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// `sqlite://…`, `postgres://…`, or a plain file path (an SQLite file, created when missing).
fn normalise_url(url: &str) -> (String, Backend) {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return (url.to_owned(), Backend::Postgres);
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let url = if path.contains('?') {
        format!("sqlite://{path}")
    } else {
        format!("sqlite://{path}?mode=rwc")
    };
    (url, Backend::Sqlite)
}

/// The file a store address names (a path, `sqlite://…`), unless it is PostgreSQL or in memory.
pub fn sqlite_path(address: &str) -> Option<std::path::PathBuf> {
    let (url, backend) = normalise_url(address);
    match backend {
        Backend::Sqlite => sqlite_file(&url),
        Backend::Postgres => None,
    }
}

/// The file of an SQLite URL (`sqlite://PATH?…`), unless the database lives in memory.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://")?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory =
        path.is_empty() || path == ":memory:" || query.split('&').any(|pair| pair == "mode=memory");
    (!in_memory).then(|| std::path::PathBuf::from(path))
}

/// Creates the store's file readable by its owner only (0600), or narrows an existing one (and
/// its `-wal` and `-shm` files) to that mode.
#[cfg(unix)]
fn owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let failed = |path: &std::path::Path, error: std::io::Error| {
        StoreError::Open(format!(
            "cannot make `{}` readable by its owner only: {error}; it holds the token key and password hashes (run `chmod 600 {}` as its owner, or use a file you own)",
            path.display(),
            path.display()
        ))
    };
    if !path.exists() {
        // Created empty here, with the mode, before SQLite writes anything to it.
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| failed(path, e))?;
    }
    let mut companions = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        companions.push(std::path::PathBuf::from(name));
    }
    for file in companions {
        let Ok(metadata) = std::fs::metadata(&file) else {
            continue;
        };
        if metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| failed(&file, e))?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_: &std::path::Path) -> Result<(), StoreError> {
    Ok(())
}

impl Store {
    /// Opens (and creates, for SQLite) the store and applies pending migrations. An SQLite file
    /// is created, or narrowed to, mode 0600 first (see the module's documentation).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the store as it is, without applying migrations (to report on it).
    pub async fn open_unmigrated(url: &str) -> Result<Store, StoreError> {
        Self::connect(url).await
    }

    async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, backend) = normalise_url(url);
        if backend == Backend::Sqlite
            && let Some(path) = sqlite_file(&url)
        {
            owner_only(&path)?;
        }
        let options =
            AnyConnectOptions::from_str(&url).map_err(|e| StoreError::Open(e.to_string()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 10 })
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL for concurrent readers; FULL so that a committed write survives power loss.
                        connection.execute("PRAGMA journal_mode = WAL").await?;
                        connection.execute("PRAGMA synchronous = FULL").await?;
                        connection.execute("PRAGMA busy_timeout = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(e.to_string()))?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        // Replicas starting together must not migrate at the same time.
        if self.backend == Backend::Postgres {
            connection
                .execute("SELECT pg_advisory_lock(7412001)")
                .await?;
        }
        let result = Self::run_migrations(&mut connection).await;
        if self.backend == Backend::Postgres {
            connection
                .execute("SELECT pg_advisory_unlock(7412001)")
                .await?;
        }
        result
    }

    async fn run_migrations(connection: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
        connection
            .execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .await?;
        for (version, statements) in schema::MIGRATIONS {
            let mut tx = Connection::begin(&mut *connection).await?;
            let applied: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                    .bind(*version)
                    .fetch_optional(&mut *tx)
                    .await?;
            if applied.is_some() {
                continue;
            }
            for statement in *statements {
                tx.execute(*statement).await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)")
                .bind(*version)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The current revision.
    pub async fn revision(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT value FROM store_revision WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Reads everything, consistently.
    pub async fn load(&self) -> Result<Loaded, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .await?;
        }
        let mut loaded = Loaded {
            revision: sqlx::query_scalar("SELECT value FROM store_revision WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?,
            ..Loaded::default()
        };
        for row in sqlx::query("SELECT key, value FROM meta")
            .fetch_all(&mut *tx)
            .await?
        {
            loaded.meta.insert(row.try_get(0)?, row.try_get(1)?);
        }
        loaded.environments = sqlx::query_scalar("SELECT body FROM environments ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.principals = sqlx::query_scalar("SELECT body FROM principals ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.groups = sqlx::query_scalar("SELECT body FROM user_groups ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.policies = sqlx::query_scalar("SELECT body FROM policies ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.boundaries = sqlx::query_scalar("SELECT body FROM boundaries ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.bindings = sqlx::query_scalar("SELECT body FROM bindings ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.tokens = sqlx::query_scalar("SELECT body FROM tokens ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.custom_services = sqlx::query_scalar("SELECT body FROM custom_services ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.oauth_clients = sqlx::query_scalar("SELECT body FROM oauth_clients ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.workflows = sqlx::query_scalar("SELECT body FROM workflows ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        loaded.consents = sqlx::query_scalar("SELECT body FROM consents ORDER BY 1")
            .fetch_all(&mut *tx)
            .await?;
        for row in sqlx::query("SELECT uid, group_uuid FROM memberships ORDER BY uid, group_uuid")
            .fetch_all(&mut *tx)
            .await?
        {
            loaded.memberships.push((row.try_get(0)?, row.try_get(1)?));
        }
        tx.commit().await?;
        Ok(loaded)
    }

    /// Commits a write: revision + 1, the operations, one audit entry — all or nothing.
    pub async fn write(&self, write: Write) -> Result<Committed, StoreError> {
        self.commit(vec![write], 1).await
    }

    /// Commits several writes as one: one revision, every write's operations in order, an audit
    /// entry per write (all of that revision; the change log names the first) — all or nothing.
    /// The first write's `expected_revision` guards the whole. `Committed::seq` is the last entry.
    pub async fn write_all(&self, writes: Vec<Write>) -> Result<Committed, StoreError> {
        if writes.is_empty() {
            return Err(StoreError::Corrupt("a batch of no writes".into()));
        }
        self.commit(writes, 1).await
    }

    /// Appends an audit entry that changes nothing else (e.g. a recorded authorization check).
    pub async fn record(&self, write: Write) -> Result<Committed, StoreError> {
        self.commit(
            vec![Write {
                ops: Vec::new(),
                ..write
            }],
            0,
        )
        .await
    }

    async fn commit(&self, writes: Vec<Write>, bump: i64) -> Result<Committed, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Updating the revision row first serializes every writer (a row lock in PostgreSQL, the
        // write lock in SQLite), so revisions and audit sequence numbers never interleave.
        let row = sqlx::query(
            "UPDATE store_revision SET value = value + $1 WHERE id = 1 \
             RETURNING value, audit_seq, audit_hash",
        )
        .bind(bump)
        .fetch_one(&mut *tx)
        .await?;
        let revision: i64 = row.try_get(0)?;
        // The entry chains onto the last one the revision row recorded, not onto the last row of
        // the log: entries removed from the end leave a gap that later writes cannot close.
        let mut seq: i64 = row.try_get(1)?;
        let mut prev_hash: String = row.try_get(2)?;
        if let Some(expected) = writes.first().and_then(|w| w.expected_revision)
            && revision - bump != expected
        {
            return Err(StoreError::Stale {
                current: revision - bump,
            });
        }
        let mut all_ops: Vec<Op> = Vec::new();
        let mut first: Option<(i64, String, i64)> = None;
        for write in writes {
            for op in &write.ops {
                op.apply(&mut tx).await?;
            }
            let mut entry = AuditEntry {
                seq: seq + 1,
                revision,
                at: write.at,
                actor: write.actor,
                action: write.action,
                target: write.target,
                before: write.before,
                after: write.after,
                request_id: write.request_id,
                prev_hash,
                hash: String::new(),
            };
            entry.hash = audit::entry_hash(&entry);
            insert_entry(&mut tx, &entry).await?;
            first.get_or_insert_with(|| (entry.seq, entry.hash.clone(), entry.at));
            all_ops.extend(write.ops);
            seq = entry.seq;
            prev_hash = entry.hash;
        }
        if bump > 0
            && let Some((first_seq, first_hash, at)) = &first
        {
            let ops =
                serde_json::to_string(&all_ops).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO changes (revision, at, ops, audit_seq, audit_hash) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(revision)
            .bind(at)
            .bind(ops)
            .bind(first_seq)
            .bind(first_hash)
            .execute(&mut *tx)
            .await?;
            if self.backend == Backend::Postgres {
                // Delivered to listeners when (and only if) the transaction commits.
                sqlx::query("SELECT pg_notify('warden_changes', $1)")
                    .bind(revision.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        sqlx::query("UPDATE store_revision SET audit_seq = $1, audit_hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(&prev_hash)
            .execute(&mut *tx)
            .await?;
        ops::put_meta(&mut tx, "audit_head", &format!("{seq}:{prev_hash}")).await?;
        tx.commit().await?;
        Ok(Committed { revision, seq })
    }

    /// The operations of every write after `revision`, in order. `None` when the log no longer
    /// reaches back that far (the caller then reloads everything).
    pub async fn changes_since(
        &self,
        revision: i64,
    ) -> Result<Option<Vec<(i64, Vec<Op>)>>, StoreError> {
        let rows =
            sqlx::query("SELECT revision, ops FROM changes WHERE revision > $1 ORDER BY revision")
                .bind(revision)
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(rows.len());
        for (expected, row) in (revision + 1..).zip(rows) {
            let at: i64 = row.try_get(0)?;
            if at != expected {
                return Ok(None);
            }
            let text: String = row.try_get(1)?;
            let ops: Vec<Op> = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("change {at}: {e}")))?;
            out.push((at, ops));
        }
        Ok(Some(out))
    }

    /// Audit entries in `seq` order, filtered.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, revision, at, actor, action, target, before_state, after_state, request_id, prev_hash, hash \
             FROM audit_log WHERE seq > $1 AND ($2 = '' OR actor = $2) AND ($3 = '' OR action LIKE $4) \
             AND ($5 = '' OR target = $5) ORDER BY seq LIMIT $6",
        )
        .bind(filter.after_seq.unwrap_or(0))
        .bind(filter.actor.clone().unwrap_or_default())
        .bind(filter.action_prefix.clone().unwrap_or_default())
        .bind(format!("{}%", filter.action_prefix.clone().unwrap_or_default().replace(['%', '_'], "")))
        .bind(filter.target.clone().unwrap_or_default())
        .bind(if filter.limit > 0 { filter.limit } else { i64::MAX })
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_row).collect()
    }

    /// Recomputes the whole hash chain and checks it against the revision row, the audit head
    /// and the change log, all read in one consistent transaction.
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                .await?;
        }
        let rows = sqlx::query(
            "SELECT seq, revision, at, actor, action, target, before_state, after_state, request_id, prev_hash, hash \
             FROM audit_log ORDER BY seq",
        )
        .fetch_all(&mut *tx)
        .await?;
        let entries: Vec<AuditEntry> = rows.iter().map(audit_row).collect::<Result<_, _>>()?;
        let row = sqlx::query(
            "SELECT value, tied_from, audit_seq, audit_hash FROM store_revision WHERE id = 1",
        )
        .fetch_one(&mut *tx)
        .await?;
        let (revision, tied_from, last_seq, last_hash): (i64, i64, i64, String) = (
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        );
        let head: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'audit_head'")
                .fetch_optional(&mut *tx)
                .await?;
        let mut changes = Vec::new();
        for row in
            sqlx::query("SELECT revision, at, audit_seq, audit_hash FROM changes ORDER BY revision")
                .fetch_all(&mut *tx)
                .await?
        {
            let seq: Option<i64> = row.try_get(2)?;
            let hash: Option<String> = row.try_get(3)?;
            changes.push(audit::ChangeStamp {
                revision: row.try_get(0)?,
                at: row.try_get(1)?,
                audit: seq.zip(hash),
            });
        }
        tx.commit().await?;
        Ok(audit::verify(
            &entries,
            &audit::Anchors {
                revision,
                tied_from,
                last: (last_seq, &last_hash),
                head: head.as_deref(),
                changes: &changes,
            },
        ))
    }

    /// Adds usage counters (one transaction; no revision, no audit entry: this is telemetry).
    pub async fn add_usage(&self, deltas: &[UsageDelta]) -> Result<(), StoreError> {
        if deltas.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for delta in deltas {
            sqlx::query(
                "INSERT INTO usage_counters (principal, permission, last_used, last_allowed, allows, denies) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (principal, permission) DO UPDATE SET \
                 last_used = CASE WHEN excluded.last_used > usage_counters.last_used THEN excluded.last_used ELSE usage_counters.last_used END, \
                 last_allowed = CASE WHEN excluded.last_allowed > usage_counters.last_allowed THEN excluded.last_allowed \
                 ELSE usage_counters.last_allowed END, \
                 allows = usage_counters.allows + excluded.allows, denies = usage_counters.denies + excluded.denies",
            )
            .bind(&delta.principal)
            .bind(&delta.permission)
            .bind(delta.last_used)
            .bind(delta.last_allowed)
            .bind(delta.allows)
            .bind(delta.denies)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Stored usage counters, for one principal or (with `None`) all.
    pub async fn usage(&self, principal: Option<&str>) -> Result<Vec<UsageDelta>, StoreError> {
        let rows = sqlx::query(
            "SELECT principal, permission, last_used, last_allowed, allows, denies FROM usage_counters \
             WHERE ($1 = '' OR principal = $1) ORDER BY principal, permission",
        )
        .bind(principal.unwrap_or_default().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageDelta {
                    principal: row.try_get(0)?,
                    permission: row.try_get(1)?,
                    last_used: row.try_get(2)?,
                    last_allowed: row.try_get(3)?,
                    allows: row.try_get(4)?,
                    denies: row.try_get(5)?,
                })
            })
            .collect()
    }

    /// Moves principals' last use forward to the given instants (milliseconds since the epoch);
    /// an earlier instant than the stored one changes nothing, so replicas writing concurrently
    /// keep the latest. One transaction; no revision, no audit entry: this is telemetry.
    pub async fn touch_last_used(&self, uses: &[(String, i64)]) -> Result<(), StoreError> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for (principal, at) in uses {
            sqlx::query(
                "INSERT INTO last_used (principal, at) VALUES ($1, $2) ON CONFLICT (principal) DO UPDATE SET \
                 at = CASE WHEN excluded.at > last_used.at THEN excluded.at ELSE last_used.at END",
            )
            .bind(principal)
            .bind(*at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored last use of one principal or (with `None`) of all, by principal.
    pub async fn last_used(
        &self,
        principal: Option<&str>,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT principal, at FROM last_used WHERE ($1 = '' OR principal = $1) ORDER BY principal",
        )
        .bind(principal.unwrap_or_default().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }

    /// A meta value (account id, settings) — written through `Op::PutMeta`.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Runs raw SQL (tests use it to tamper with the audit log).
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: String) -> Result<u64, StoreError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}

fn audit_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: row.try_get(0)?,
        revision: row.try_get(1)?,
        at: row.try_get(2)?,
        actor: row.try_get(3)?,
        action: row.try_get(4)?,
        target: row.try_get(5)?,
        before: row.try_get(6)?,
        after: row.try_get(7)?,
        request_id: row.try_get(8)?,
        prev_hash: row.try_get(9)?,
        hash: row.try_get(10)?,
    })
}

/// Appends one audit entry inside a write's transaction.
async fn insert_entry(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    entry: &AuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (seq, revision, at, actor, action, target, before_state, after_state, request_id, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(entry.seq)
    .bind(entry.revision)
    .bind(entry.at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.target)
    .bind(&entry.before)
    .bind(&entry.after)
    .bind(&entry.request_id)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
