//! `warden audit verify`: recomputes the audit log's hash chain straight from the store, checks it
//! against the store's revision, audit head and change log, and names what is wrong — a changed
//! or missing entry, a removed end, a missing or unreadable head, a revision without its entry —
//! (exit 1), or confirms the log (exit 0).
//! `warden audit list`: the log's entries from a server, oldest first, a page at a time.

use std::process::ExitCode;

use warden_client::pending::AuditQuery;

use crate::command::client::{Client, Connection};
use crate::output::{CliError, Output, table};

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Verify the hash chain of the audit log.
    Verify {
        /// The store: an SQLite file path, `sqlite://…`, or `postgres://…`.
        #[arg(long, env = "WARDEN_DB", default_value = "warden.db")]
        db: String,
    },
    /// List audit entries from a server, oldest first.
    List {
        /// At most this many entries (1–1000).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Only actions starting with this, e.g. `policy.` or `binding.create`.
        #[arg(long, value_name = "PREFIX")]
        action: Option<String>,
        /// Only entries after this sequence number (the next page).
        #[arg(long, value_name = "SEQ")]
        after: Option<i64>,
        #[command(flatten)]
        connection: Connection,
    },
}

pub fn run(command: AuditCommand, output: &mut Output) -> Result<ExitCode, CliError> {
    let db = match command {
        AuditCommand::Verify { db } => db,
        AuditCommand::List {
            limit,
            action,
            after,
            connection,
        } => return list(limit, action, after, &connection, output),
    };
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
        output.json(&serde_json::json!({
            "valid": verification.problem.is_none(),
            "entries": verification.entries,
            "problem": verification.problem,
            "problems": verification.problems,
        }));
    } else if verification.problems.is_empty() {
        output.line(&format!(
            "audit log verified: {} entries, the chain is intact and matches the store's revision \
             and change log",
            verification.entries
        ));
    } else {
        for problem in &verification.problems {
            output.line(&format!(
                "audit log broken at entry {}: {}",
                problem.seq, problem.message
            ));
        }
    }
    Ok(if verification.problem.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn list(
    limit: u32,
    action: Option<String>,
    after: Option<i64>,
    connection: &Connection,
    output: &mut Output,
) -> Result<ExitCode, CliError> {
    let client = Client::connect(connection)?;
    let query = AuditQuery {
        after_seq: after,
        limit: Some(i64::from(limit)),
        action: action.clone(),
        ..AuditQuery::default()
    };
    let page = client
        .call(client.typed().audit_log(client.account()?, &query))?
        .body;
    if output.is_json() {
        output.json(&page);
        return Ok(ExitCode::SUCCESS);
    }
    if page.entries.is_empty() {
        output.line("no audit entries");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = page
        .entries
        .iter()
        .map(|e| {
            vec![
                e.seq.to_string(),
                e.at.clone(),
                e.actor.clone(),
                e.action.clone(),
                e.target.clone(),
            ]
        })
        .collect();
    output.text(&table(&["SEQ", "TIME", "ACTOR", "ACTION", "TARGET"], &rows));
    if let Some(next) = page.next_after_seq {
        let filter = action.map_or_else(String::new, |a| format!(" --action {a}"));
        output.line(&format!("more: `warden audit list --after {next}{filter}`"));
    }
    Ok(ExitCode::SUCCESS)
}
