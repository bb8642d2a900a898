//! `warden audit verify`: recomputes the audit log's hash chain straight from the store and names
//! the first changed or missing entry (exit 1), or confirms the chain (exit 0).

use std::process::ExitCode;

use crate::output::{CliError, Output};

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain of the audit log.
    Verify {
        /// The store: an SQLite file path, `sqlite://…`, or `postgres://…`.
        #[arg(long, env = "WARDEN_DB", default_value = "warden.db")]
        db: String,
    },
}

pub fn run(command: AuditCommand, output: &mut Output) -> Result<ExitCode, CliError> {
    let AuditCommand::Verify { db } = command;
    if !db.contains("://") && !std::path::Path::new(&db).exists() {
        return Err(CliError::new("io", format!("there is no store at `{db}`"))
            .with_help("give the store with `--db`"));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    let verification = runtime.block_on(async {
        let store = warden_store::Store::open(&db)
            .await
            .map_err(|e| CliError::new("store", e.to_string()))?;
        let result = store
            .verify_audit()
            .await
            .map_err(|e| CliError::new("store", e.to_string()));
        store.close().await;
        result
    })?;
    if output.is_json() {
        output.json(&serde_json::json!({ "valid": verification.problem.is_none(), "entries": verification.entries, "problem": verification.problem }));
    } else {
        match &verification.problem {
            None => output.line(&format!(
                "audit log verified: {} entries, the chain is intact",
                verification.entries
            )),
            Some(problem) => output.line(&format!(
                "audit log broken at entry {}: {}",
                problem.seq, problem.message
            )),
        }
    }
    Ok(if verification.problem.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
