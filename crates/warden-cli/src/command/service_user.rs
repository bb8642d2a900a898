//! `warden service-user create|list|get|delete`: service users (SPEC §7), each with a group of its
//! own; `update|deactivate|reactivate|mark-reviewed` are in [`super::service_user_lifecycle`]. A
//! service user is named by its uid, handle (`name@service`) or email.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::command::client::{Client, Connection, written};
use crate::command::values::{field, items, text};
use crate::output::{CliError, Output, fields, plural, table};

#[derive(Debug, clap::Args)]
pub struct ServiceUserArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: ServiceUserCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ServiceUserCommand {
    /// Create a service user (and its own group).
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// What it is for.
        #[arg(long)]
        purpose: Option<String>,
        /// The person accountable for it (email or uid).
        #[arg(long, value_name = "USER", conflicts_with = "owner_group")]
        owner_user: Option<String>,
        /// The group accountable for it (name or uuid).
        #[arg(long, value_name = "GROUP")]
        owner_group: Option<String>,
    },
    /// List the account's service users.
    List,
    /// Show one service user.
    Get {
        /// The uid, handle or email.
        uid: String,
    },
    /// Delete a service user with its group and bindings.
    Delete {
        /// The uid, handle or email.
        uid: String,
    },
    #[command(flatten)]
    Lifecycle(crate::command::service_user_lifecycle::LifecycleCommand),
}

pub fn run(args: ServiceUserArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    match args.command {
        ServiceUserCommand::Lifecycle(command) => {
            return crate::command::service_user_lifecycle::run(&client, command, output);
        }
        ServiceUserCommand::Create {
            name,
            description,
            purpose,
            owner_user,
            owner_group,
        } => {
            let owner = match (owner_user, owner_group) {
                (Some(user), _) => json!({ "type": "USER", "id": user }),
                (None, Some(group)) => json!({ "type": "GROUP", "id": group }),
                (None, None) => Value::Null,
            };
            let body = json!({
                "name": name,
                "description": description.unwrap_or_default(),
                "purpose": purpose.unwrap_or_default(),
                "owner": owner,
            });
            let reply = client.post(client.accounts(&["service-users"])?, &body)?;
            if output.is_json() {
                output.json(&reply.body);
            } else {
                let user = &reply.body;
                output.line(&format!(
                    "created service user `{}` as `{}` ({})",
                    text(user, "name"),
                    text(user, "handle"),
                    text(user, "uid")
                ));
            }
        }
        ServiceUserCommand::List => {
            let reply = client.get(client.accounts(&["service-users"])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let users = items(&reply.body, "results");
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| {
                    vec![
                        text(u, "handle"),
                        text(u, "name"),
                        status(u).to_owned(),
                        text(u, "uid"),
                    ]
                })
                .collect();
            output.text(&table(&["HANDLE", "NAME", "STATUS", "UID"], &rows));
            output.line(&plural(users.len(), "service user"));
        }
        ServiceUserCommand::Get { uid } => {
            let reply = client.get(client.accounts(&["service-users", &uid])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let user = &reply.body;
            output.text(&fields(&[
                ("name", text(user, "name")),
                ("handle", text(user, "handle")),
                ("uid", text(user, "uid")),
                ("email", text(user, "email")),
                ("status", status(user).to_owned()),
                ("group", text(user, "groupUuid")),
                ("description", text(user, "description")),
                (
                    "owner",
                    crate::command::service_user_lifecycle::owner_line(user),
                ),
                ("purpose", text(user, "purpose")),
                ("created", text(user, "createdAt")),
                ("last reviewed", text(user, "lastReviewedAt")),
                ("deactivated", text(field(user, "deactivation"), "reason")),
            ]));
        }
        ServiceUserCommand::Delete { uid } => {
            let reply = client.delete(client.accounts(&["service-users", &uid])?)?;
            if output.is_json() {
                output.json(&written(&reply, json!({ "deleted": uid })));
            } else {
                output.line(&format!("deleted service user `{uid}`"));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status(user: &Value) -> &'static str {
    if field(user, "active").as_bool() == Some(false) {
        "INACTIVE"
    } else {
        "ACTIVE"
    }
}
