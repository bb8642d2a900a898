//! `warden group create|list|get|delete|members`: the account's groups. A group is named by its
//! uuid or its name (any case).

use std::process::ExitCode;

use serde_json::json;

use crate::command::client::{Client, Connection, written};
use crate::command::resolve;
use crate::command::values::{field, items, text};
use crate::output::{CliError, Output, fields, plural, table, truncate};

#[derive(Debug, clap::Args)]
pub struct GroupArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: GroupCommand,
}

#[derive(Debug, clap::Subcommand)]
enum GroupCommand {
    /// Create a group.
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
    },
    /// List the account's groups.
    List,
    /// Show one group.
    Get {
        /// The group's uuid or name.
        group: String,
    },
    /// Delete a group with its bindings.
    Delete {
        /// The group's uuid or name.
        group: String,
    },
    /// List the members of a group.
    Members {
        /// The group's uuid or name.
        group: String,
    },
}

pub fn run(args: GroupArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    match args.command {
        GroupCommand::Create { name, description } => {
            let body = json!([{ "name": name, "description": description.unwrap_or_default() }]);
            let reply = client.post(client.accounts(&["groups"])?, &body)?;
            if output.is_json() {
                output.json(&reply.body);
            } else {
                for group in reply.body.as_array().map_or(&[][..], Vec::as_slice) {
                    output.line(&format!(
                        "created group `{}` ({})",
                        text(group, "name"),
                        text(group, "uuid")
                    ));
                }
            }
        }
        GroupCommand::List => {
            let reply = client.get(client.accounts(&["groups"])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = items(&reply.body, "items")
                .iter()
                .map(|g| {
                    vec![
                        text(g, "name"),
                        text(g, "uuid"),
                        text(g, "owner"),
                        truncate(&text(g, "description"), 60),
                    ]
                })
                .collect();
            output.text(&table(&["NAME", "UUID", "OWNER", "DESCRIPTION"], &rows));
        }
        GroupCommand::Get { group } => {
            let id = resolve::group(&client, &group)?.id;
            let reply = client.get(client.accounts(&["groups", &id])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let g = &reply.body;
            output.text(&fields(&[
                ("name", text(g, "name")),
                ("uuid", text(g, "uuid")),
                ("owner", text(g, "owner")),
                ("description", text(g, "description")),
                ("created", text(g, "createdAt")),
                ("updated", text(g, "updatedAt")),
            ]));
        }
        GroupCommand::Delete { group } => {
            let found = resolve::group(&client, &group)?;
            let reply = client.delete(client.accounts(&["groups", &found.id])?)?;
            if output.is_json() {
                output.json(&written(
                    &reply,
                    json!({ "deleted": { "uuid": found.id, "name": found.name } }),
                ));
            } else {
                output.line(&format!("deleted group `{}` ({})", found.name, found.id));
            }
        }
        GroupCommand::Members { group } => {
            let found = resolve::group(&client, &group)?;
            let reply = client.get(client.accounts(&["groups", &found.id, "users"])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let members = items(&reply.body, "items");
            if members.is_empty() {
                output.line(&format!("group `{}` has no members", found.name));
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = members.iter().map(principal_row).collect();
            output.text(&table(&["EMAIL", "NAME", "KIND", "STATUS", "UID"], &rows));
            output.line(&plural(members.len(), "member"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A user summary as a table row: email, name, kind, status, uid.
pub fn principal_row(user: &serde_json::Value) -> Vec<String> {
    let kind = if field(user, "serviceUser").as_bool() == Some(true) {
        "service user"
    } else {
        "user"
    };
    vec![
        text(user, "email"),
        text(user, "name"),
        kind.to_owned(),
        text(user, "userStatus"),
        text(user, "uid"),
    ]
}
