//! The operator's view of a store: which schema migrations it has, how many rows each table
//! holds (to compare before and after an upgrade or a restore), and an online backup of an
//! SQLite store — a consistent copy taken while servers keep writing.

use std::path::Path;

use sqlx::Executor;

use crate::{Backend, Store, StoreError, schema};

/// One migration and whether the store has it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    pub version: i64,
    pub applied: bool,
}

/// A table and its row count (`None`: the table does not exist in this store yet).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableRows {
    pub table: &'static str,
    pub rows: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    pub migrations: Vec<Migration>,
    pub tables: Vec<TableRows>,
}

impl Status {
    pub fn pending(&self) -> usize {
        self.migrations.iter().filter(|m| !m.applied).count()
    }
}

impl Store {
    /// The migrations this build knows and which the store has; the rows of every table.
    pub async fn status(&self) -> Result<Status, StoreError> {
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
            .fetch_all(&self.pool)
            .await
            .unwrap_or_default();
        let migrations = schema::MIGRATIONS
            .iter()
            .map(|(version, _)| Migration {
                version: *version,
                applied: applied.contains(version),
            })
            .collect();
        let mut tables = Vec::new();
        for table in schema::TABLES {
            // The names are this crate's constants, never input.
            let count = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
            let rows: Option<i64> = sqlx::query_scalar(count).fetch_one(&self.pool).await.ok();
            tables.push(TableRows { table, rows });
        }
        Ok(Status { migrations, tables })
    }

    /// Moves everything in an SQLite store's write-ahead log into the file itself, so that the
    /// file alone is the whole store (before it is moved or copied); nothing on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            self.pool.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }

    /// Writes a consistent copy of an SQLite store to `out` (which must not exist) while the
    /// store stays online: SQLite's `VACUUM INTO` reads one snapshot of the database, so writes
    /// committed before it began are in the copy and later ones are not. The copy is created
    /// readable by its owner only, before a byte is written to it.
    pub async fn backup_into(&self, out: &Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Open(
                "only an SQLite store is backed up by `warden backup`; back up PostgreSQL with `pg_dump --format=custom` (docs/operations.md)".to_owned(),
            ));
        }
        create_owner_only(out)?;
        let path = out
            .to_str()
            .ok_or_else(|| StoreError::Open(format!("`{}` is not a UTF-8 path", out.display())))?;
        let result = self
            .pool
            .execute(sqlx::query("VACUUM INTO $1").bind(path))
            .await;
        if let Err(error) = result {
            let _ = std::fs::remove_file(out);
            return Err(error.into());
        }
        Ok(())
    }
}

/// Creates `path` empty with mode 0600; refuses an existing file.
fn create_owner_only(path: &Path) -> Result<(), StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .map_err(|error| StoreError::Open(format!("cannot create `{}`: {error}", path.display())))
}
