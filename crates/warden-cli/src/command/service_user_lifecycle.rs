//! `warden service-user update|deactivate|reactivate|mark-reviewed`: the lifecycle of a service
//! user (SPEC §7), flattened into `warden service-user`. A service user is named by its uid,
//! handle or email.

use std::process::ExitCode;

use serde_json::Value;
use warden_client::pending::{OwnerInput, ServiceUserUpdate};

use crate::command::client::{Client, written_answer};
use crate::command::values::{field, text};
use crate::output::{CliError, Output};

#[derive(Debug, clap::Subcommand)]
pub enum LifecycleCommand {
    /// Change name, description, owner or purpose (the email and handle never change).
    Update {
        /// The uid, handle or email.
        uid: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        purpose: Option<String>,
        /// The person accountable for it (email or uid).
        #[arg(long, value_name = "USER", conflicts_with_all = ["owner_group", "no_owner"])]
        owner_user: Option<String>,
        /// The group accountable for it (name or uuid).
        #[arg(long, value_name = "GROUP", conflicts_with = "no_owner")]
        owner_group: Option<String>,
        /// Remove the owner.
        #[arg(long)]
        no_owner: bool,
        /// Why (an owner transfer too): kept in the audit log, shown in the history.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Deactivate: every decision for it is DENY and its tokens stop at once.
    Deactivate {
        /// The uid, handle or email.
        uid: String,
        /// Why (kept with the service user and in the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Reactivate a deactivated service user.
    Reactivate {
        /// The uid, handle or email.
        uid: String,
        /// Why (kept in the audit log, shown in the history).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record that the service user was reviewed now.
    MarkReviewed {
        /// The uid, handle or email.
        uid: String,
        /// What the review found (kept in the audit log).
        #[arg(long)]
        note: Option<String>,
    },
}

/// The owner of a service user as one line: `group ops`, `user a@example.com`, or `none`.
pub fn owner_line(user: &Value) -> String {
    let owner = field(user, "owner");
    if owner.is_null() {
        return "none".to_owned();
    }
    let name = text(owner, "name");
    let shown = if name.is_empty() {
        text(owner, "id")
    } else {
        name
    };
    format!("{} {shown}", text(owner, "type").to_lowercase())
}

pub fn run(
    client: &Client,
    command: LifecycleCommand,
    output: &mut Output,
) -> Result<ExitCode, CliError> {
    let api = client.typed();
    let account = client.account()?;
    let (uid, reply, done) = match command {
        LifecycleCommand::Update {
            uid,
            name,
            description,
            purpose,
            owner_user,
            owner_group,
            no_owner,
            reason,
        } => {
            let owner = match (owner_user, owner_group) {
                (Some(user), _) => Some(Some(OwnerInput {
                    kind: "USER".to_owned(),
                    id: user,
                })),
                (None, Some(group)) => Some(Some(OwnerInput {
                    kind: "GROUP".to_owned(),
                    id: group,
                })),
                (None, None) => no_owner.then_some(None),
            };
            let update = ServiceUserUpdate {
                name,
                description,
                owner,
                purpose,
                reason,
            };
            let reply = client.call(api.update_service_user(account, &uid, &update))?;
            (uid, reply, "updated")
        }
        LifecycleCommand::Deactivate { uid, reason } => {
            let reply = client.call(api.deactivate_service_user(account, &uid, &reason))?;
            (uid, reply, "deactivated")
        }
        LifecycleCommand::Reactivate { uid, reason } => {
            let reply =
                client.call(api.reactivate_service_user(account, &uid, reason.as_deref()))?;
            (uid, reply, "reactivated")
        }
        LifecycleCommand::MarkReviewed { uid, note } => {
            let reply =
                client.call(api.mark_service_user_reviewed(account, &uid, note.as_deref()))?;
            (uid, reply, "recorded a review of")
        }
    };
    if output.is_json() {
        let shown = serde_json::to_value(&reply.body).unwrap_or(Value::Null);
        output.json(&written_answer(&reply, shown));
        return Ok(ExitCode::SUCCESS);
    }
    let handle = reply.body.handle.clone().unwrap_or_default();
    output.line(&format!(
        "{done} service user `{}`",
        if handle.is_empty() { uid } else { handle }
    ));
    for warning in &reply.warnings {
        output.warning(warning);
    }
    Ok(ExitCode::SUCCESS)
}
