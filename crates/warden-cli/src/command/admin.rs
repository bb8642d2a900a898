//! `warden admin recover`: the operator restores an administrator straight on the store when the
//! account has none left (SPEC §6). No server needs to run; one that does picks the change up
//! like any other write. The work itself is `warden_server::recovery`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use warden_server::recovery::{ACTION, OPERATOR, RecoverError, Recovered, Recovery, UserChange};
use warden_server::{Config, SystemClock};

use crate::output::{CliError, Output};

#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Restore an administrator on the store: the user (created or reactivated), the group
    /// `Warden Administrators` bound to every permission, the membership, and a new token.
    Recover(RecoverArgs),
}

#[derive(Debug, clap::Args)]
pub struct RecoverArgs {
    /// The store: an SQLite file path, `sqlite://…`, or `postgres://…`.
    #[arg(long, env = "WARDEN_DB", default_value = "warden.db")]
    db: String,
    /// Email of the user to make an administrator (created when missing, reactivated when
    /// deactivated).
    #[arg(long)]
    email: String,
    /// Where to write the new token (readable only by you).
    #[arg(long, default_value = "warden-admin-token")]
    token_file: PathBuf,
    /// Replace the token file when it exists.
    #[arg(long)]
    force: bool,
}

pub fn run(command: AdminCommand, output: &mut Output) -> Result<ExitCode, CliError> {
    let AdminCommand::Recover(args) = command;
    if !args.db.contains("://") && !std::path::Path::new(&args.db).exists() {
        return Err(
            CliError::new("io", format!("there is no store at `{}`", args.db))
                .with_help("give the store with `--db`"),
        );
    }
    let config = Config {
        db: args.db.clone(),
        ..Config::default()
    };
    let recovery = Recovery {
        email: args.email.clone(),
        token_file: args.token_file.clone(),
        force: args.force,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    let recovered = runtime
        .block_on(warden_server::recovery::recover(
            &config,
            &recovery,
            Arc::new(SystemClock),
        ))
        .map_err(|e| error(e, &args))?;
    if output.is_json() {
        output.json(&serde_json::json!({
            "recovered": recovered,
            "audit": { "actor": OPERATOR, "action": ACTION },
        }));
    } else {
        report(&recovered, output);
    }
    for permission in &recovered.still_denied {
        output.warning(&format!(
            "`{}` is still denied `{permission}` at account level: a DENY statement of another of \
             its groups applies; remove the user from that group",
            recovered.email
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn report(recovered: &Recovered, output: &mut Output) {
    let user = match recovered.user {
        UserChange::Created => "created",
        UserChange::Reactivated => "reactivated",
        UserChange::Unchanged => "exists and is active",
    };
    let group = if recovered.group_created {
        "recreated"
    } else {
        "exists"
    };
    let binding = if recovered.binding_restored {
        "restored"
    } else {
        "in place"
    };
    let membership = if recovered.membership_added {
        "added"
    } else {
        "already a member"
    };
    output.line(&format!(
        "recovered an administrator of account {} (revision {}):",
        recovered.account, recovered.revision
    ));
    output.line(&format!(
        "  user `{}` ({}): {user}",
        recovered.email, recovered.uid
    ));
    output.line(&format!(
        "  group `{}` ({}): {group}",
        recovered.group_name, recovered.group_uuid
    ));
    output.line(&format!(
        "  binding to `Warden Administrator` at account level: {binding}"
    ));
    output.line(&format!("  membership: {membership}"));
    output.line(&format!(
        "  token {}: written to `{}` (readable only by you)",
        recovered.token_id,
        recovered.token_file.display()
    ));
    output.line(&format!(
        "audited as `{ACTION}` by `{OPERATOR}`; a running server picks it up like any other write"
    ));
}

fn error(error: RecoverError, args: &RecoverArgs) -> CliError {
    let message = error.to_string();
    match error {
        RecoverError::NoAccount => CliError::new("store", message).with_help(format!(
            "start `warden serve --db {}` once: the first start creates the account and an \
             administrator",
            args.db
        )),
        RecoverError::TokenFileExists(_) => CliError::new("io", message).with_help(
            "give another `--token-file`, or `--force` to replace it (nothing was changed)",
        ),
        RecoverError::TokenFile { .. } => CliError::new("io", message)
            .with_help("check the directory of `--token-file` and its permissions"),
        RecoverError::Refused(_) => CliError::new("refused", message)
            .with_help("give the email of a user with `--email`")
            .with_exit(1),
        RecoverError::Start(_) | RecoverError::Failed(_) => CliError::new("store", message)
            .with_help("check `--db` and that the store is reachable; nothing was changed"),
    }
}
