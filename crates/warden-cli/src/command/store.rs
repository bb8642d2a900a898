//! The operator's commands on the store itself (`--db`, no server needed): `warden backup` (an
//! online, consistent copy of an SQLite store, checked once written), `warden restore` (a backup
//! checked — audit chain intact — then put in place, migrated if it comes from an older release),
//! and `warden migrate status` (schema migrations applied and pending, rows per table).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use warden_store::Store;
use warden_store::maintenance::Status;

use crate::output::{CliError, Output, table};

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The store to back up: an SQLite file path or `sqlite://…`.
    #[arg(long, env = "WARDEN_DB", default_value = "warden.db")]
    db: String,
    /// The backup file to write (must not exist).
    out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file (written by `warden backup`).
    backup: PathBuf,
    /// Where to restore it: an SQLite file path or `sqlite://…`.
    #[arg(long, env = "WARDEN_DB", default_value = "warden.db")]
    db: String,
    /// Replace an existing store (stop every server using it first).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum MigrateCommand {
    /// The schema migrations this build knows, which the store has, and its rows per table.
    Status {
        /// The store: an SQLite file path, `sqlite://…`, or `postgres://…`.
        #[arg(long, env = "WARDEN_DB", default_value = "warden.db")]
        db: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("runtime", format!("cannot start the async runtime: {e}")))
}

fn store_error(error: warden_store::StoreError) -> CliError {
    CliError::new("store", error.to_string())
}

/// The file of an SQLite store address that must already exist.
fn existing_sqlite(db: &str, what: &str) -> Result<PathBuf, CliError> {
    let path = warden_store::sqlite_path(db).ok_or_else(|| {
        CliError::new("usage", format!("`{what}` works on SQLite stores only")).with_help(
            "for PostgreSQL use `pg_dump --format=custom` and `pg_restore` (docs/operations.md)",
        )
    })?;
    if !path.exists() {
        return Err(
            CliError::new("io", format!("there is no store at `{}`", path.display()))
                .with_help("give the store with `--db`"),
        );
    }
    Ok(path)
}

pub fn backup(args: BackupArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let source = existing_sqlite(&args.db, "warden backup")?;
    let out = args.out;
    if out.exists() {
        return Err(
            CliError::new("io", format!("`{}` already exists", out.display()))
                .with_help("give a new file name: a backup never overwrites a file"),
        );
    }
    let (revision, entries) = runtime()?.block_on(async {
        let store = Store::open_unmigrated(&args.db)
            .await
            .map_err(store_error)?;
        let copied = store.backup_into(&out).await.map_err(store_error);
        store.close().await;
        copied?;
        check_copy(&out).await
    })?;
    if output.is_json() {
        output.json(&serde_json::json!({
            "store": source.display().to_string(),
            "backup": out.display().to_string(),
            "revision": revision,
            "auditEntries": entries,
        }));
    } else {
        output.line(&format!(
            "backed up `{}` to `{}`: revision {revision}, {}, chain intact",
            source.display(),
            out.display(),
            entries_text(entries)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The revision of a copied store and its audit entries, once its chain is verified.
async fn check_copy(path: &Path) -> Result<(i64, i64), CliError> {
    let address = path.display().to_string();
    let store = Store::open_unmigrated(&address)
        .await
        .map_err(store_error)?;
    let result = async {
        let revision = store.revision().await.map_err(store_error)?;
        let verification = store.verify_audit().await.map_err(store_error)?;
        match verification.problem {
            Some(problem) => Err(CliError::new(
                "audit",
                format!(
                    "the audit log of `{address}` does not verify at entry {}: {}",
                    problem.seq, problem.message
                ),
            )
            .with_help("keep the file for investigation; restore an earlier backup")
            .with_exit(1)),
            None => Ok((revision, verification.entries)),
        }
    }
    .await;
    store.close().await;
    result
}

pub fn restore(args: RestoreArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    if !args.backup.is_file() {
        return Err(CliError::new(
            "io",
            format!("there is no backup at `{}`", args.backup.display()),
        ));
    }
    let target = warden_store::sqlite_path(&args.db).ok_or_else(|| {
        CliError::new("usage", "`warden restore` restores SQLite stores only")
            .with_help("restore PostgreSQL with `pg_restore` (docs/operations.md)")
    })?;
    if target.exists() && !args.force {
        return Err(CliError::new(
            "io",
            format!("there is already a store at `{}`", target.display()),
        )
        .with_help("stop every server using it, then pass `--force` to replace it"));
    }
    let staging = sibling(&target, ".restoring");
    discard(&staging);
    copy_owner_only(&args.backup, &staging)?;
    let checked = runtime()?.block_on(async {
        // Opening migrates a backup of an older release to this one's schema.
        let address = staging.display().to_string();
        let store = Store::open(&address).await.map_err(store_error)?;
        let status = store.status().await.map_err(store_error);
        store.checkpoint().await.map_err(store_error)?;
        store.close().await;
        let status = status?;
        let (revision, entries) = check_copy(&staging).await?;
        Ok::<_, CliError>((status, revision, entries))
    });
    let (status, revision, entries) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            discard(&staging);
            return Err(error);
        }
    };
    // The old store's write-ahead log must not be replayed into the restored file.
    remove_companions(&target);
    std::fs::rename(&staging, &target).map_err(|e| {
        CliError::new(
            "io",
            format!(
                "cannot move the restored store into `{}`: {e}",
                target.display()
            ),
        )
    })?;
    remove_companions(&staging);
    if output.is_json() {
        output.json(&serde_json::json!({
            "store": target.display().to_string(),
            "revision": revision,
            "auditEntries": entries,
            "tables": status.tables,
        }));
    } else {
        output.line(&format!(
            "restored `{}` to `{}`: revision {revision}, {}, chain intact",
            args.backup.display(),
            target.display(),
            entries_text(entries)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn entries_text(entries: i64) -> String {
    if entries == 1 {
        "1 audit entry".to_owned()
    } else {
        format!("{entries} audit entries")
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes an SQLite file's `-wal` and `-shm` companions.
fn remove_companions(path: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sibling(path, suffix));
    }
}

/// Removes a staging file and its companions.
fn discard(path: &Path) {
    remove_companions(path);
    let _ = std::fs::remove_file(path);
}

fn copy_owner_only(from: &Path, to: &Path) -> Result<(), CliError> {
    let failed = |e: std::io::Error| {
        CliError::new(
            "io",
            format!(
                "cannot copy `{}` to `{}`: {e}",
                from.display(),
                to.display()
            ),
        )
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut target = options.open(to).map_err(failed)?;
    let mut source = std::fs::File::open(from).map_err(failed)?;
    std::io::copy(&mut source, &mut target).map_err(failed)?;
    target.sync_all().map_err(failed)
}

pub fn migrate(command: MigrateCommand, output: &mut Output) -> Result<ExitCode, CliError> {
    let MigrateCommand::Status { db } = command;
    if warden_store::sqlite_path(&db).is_some() {
        existing_sqlite(&db, "warden migrate status")?;
    }
    let status: Status = runtime()?.block_on(async {
        let store = Store::open_unmigrated(&db).await.map_err(store_error)?;
        let status = store.status().await.map_err(store_error);
        store.close().await;
        status
    })?;
    if output.is_json() {
        output.json(&status);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = status
        .migrations
        .iter()
        .map(|m| {
            vec![
                m.version.to_string(),
                if m.applied { "applied" } else { "pending" }.to_owned(),
            ]
        })
        .collect();
    output.text(&table(&["MIGRATION", "STATE"], &rows));
    let pending = status.pending();
    output.line(&if pending == 0 {
        "the schema is current".to_owned()
    } else {
        format!("{pending} pending: the next `warden serve` applies them")
    });
    let rows: Vec<Vec<String>> = status
        .tables
        .iter()
        .map(|t| {
            vec![
                t.table.to_owned(),
                t.rows.map_or("absent".to_owned(), |n| n.to_string()),
            ]
        })
        .collect();
    output.text(&table(&["TABLE", "ROWS"], &rows));
    Ok(ExitCode::SUCCESS)
}
