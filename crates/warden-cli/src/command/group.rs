//! `warden group create|list|get|delete|members`: the account's groups. A group is named by its
//! uuid or its name (any case).

use std::process::ExitCode;

use serde_json::json;

use warden_api::groups::GroupInput;
use warden_api::users::UserSummary;

use crate::command::client::{Client, Connection, written_answer};
use crate::command::resolve;
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
    let api = client.typed();
    match args.command {
        GroupCommand::Create { name, description } => {
            let input = GroupInput {
                name,
                description: description.unwrap_or_default(),
                federated_attribute_values: Vec::new(),
            };
            let created = client.call(api.create_groups(client.account()?, &[input]))?;
            if output.is_json() {
                output.json(&created.body);
            } else {
                for group in &created.body {
                    output.line(&format!("created group `{}` ({})", group.name, group.uuid));
                }
            }
        }
        GroupCommand::List => {
            let groups = client.call(api.groups(client.account()?))?.body;
            if output.is_json() {
                output.json(&groups);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = groups
                .items
                .iter()
                .map(|g| {
                    vec![
                        g.name.clone(),
                        g.uuid.clone(),
                        g.owner.clone(),
                        truncate(&g.description, 60),
                    ]
                })
                .collect();
            output.text(&table(&["NAME", "UUID", "OWNER", "DESCRIPTION"], &rows));
        }
        GroupCommand::Get { group } => {
            let id = resolve::group(&client, &group)?.id;
            let g = client.call(api.group(client.account()?, &id))?.body;
            if output.is_json() {
                output.json(&g);
                return Ok(ExitCode::SUCCESS);
            }
            output.text(&fields(&[
                ("name", g.name),
                ("uuid", g.uuid),
                ("owner", g.owner),
                ("description", g.description),
                ("created", g.created_at),
                ("updated", g.updated_at),
            ]));
        }
        GroupCommand::Delete { group } => {
            let found = resolve::group(&client, &group)?;
            let deleted = client.call(api.delete_group(client.account()?, &found.id))?;
            if output.is_json() {
                output.json(&written_answer(
                    &deleted,
                    json!({ "deleted": { "uuid": found.id, "name": found.name } }),
                ));
            } else {
                output.line(&format!("deleted group `{}` ({})", found.name, found.id));
            }
        }
        GroupCommand::Members { group } => {
            let found = resolve::group(&client, &group)?;
            let members = client
                .call(api.group_members(client.account()?, &found.id))?
                .body;
            if output.is_json() {
                output.json(&members);
                return Ok(ExitCode::SUCCESS);
            }
            if members.items.is_empty() {
                output.line(&format!("group `{}` has no members", found.name));
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = members.items.iter().map(principal_row).collect();
            output.text(&table(&["EMAIL", "NAME", "KIND", "STATUS", "UID"], &rows));
            output.line(&plural(members.items.len(), "member"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A user summary as a table row: email, name, kind, status, uid.
pub fn principal_row(user: &UserSummary) -> Vec<String> {
    let kind = if user.service_user {
        "service user"
    } else {
        "user"
    };
    vec![
        user.email.clone(),
        user.name.clone(),
        kind.to_owned(),
        user.user_status.clone(),
        user.uid.clone(),
    ]
}
