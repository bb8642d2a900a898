//! `warden user create|list|get|delete|add-groups|remove-groups`: users and their groups. A user
//! is named by its email (any case) or uid; a group by its uuid or name.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::command::client::{Client, Connection, with_query, written};
use crate::command::group::principal_row;
use crate::command::resolve::{self, Named};
use crate::command::values::{items, text};
use crate::output::{CliError, Output, fields, plural, table};

#[derive(Debug, clap::Args)]
pub struct UserArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: UserCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UserCommand {
    /// Create a user.
    Create {
        email: String,
        /// First name (default: the email).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        surname: Option<String>,
    },
    /// List the account's users (service users: `warden service-user list`).
    List,
    /// Show a user and its groups.
    Get { email: String },
    /// Remove a user.
    Delete { email: String },
    /// Add a user to groups (uuids or names).
    AddGroups {
        email: String,
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Remove a user from groups (uuids or names).
    RemoveGroups {
        email: String,
        #[arg(required = true)]
        groups: Vec<String>,
    },
}

pub fn run(args: UserArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    match args.command {
        UserCommand::Create {
            email,
            name,
            surname,
        } => {
            let body = json!({ "email": email, "name": name.unwrap_or_default(), "surname": surname.unwrap_or_default() });
            let reply = client.post(client.accounts(&["users"])?, &body)?;
            if output.is_json() {
                output.json(&reply.body);
            } else {
                output.line(&format!(
                    "created user `{}` ({})",
                    text(&reply.body, "email"),
                    text(&reply.body, "uid")
                ));
            }
        }
        UserCommand::List => {
            let url = with_query(client.accounts(&["users"])?, &[("service-users", "false")]);
            let reply = client.get(url)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let users = items(&reply.body, "items");
            let rows: Vec<Vec<String>> = users.iter().map(principal_row).collect();
            output.text(&table(&["EMAIL", "NAME", "KIND", "STATUS", "UID"], &rows));
            output.line(&plural(users.len(), "user"));
        }
        UserCommand::Get { email } => {
            let reply = client.get(client.accounts(&["users", &email])?)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            let user = &reply.body;
            let groups: Vec<String> = items(user, "groups")
                .iter()
                .map(|g| format!("`{}`", text(g, "groupName")))
                .collect();
            output.text(&fields(&[
                ("email", text(user, "email")),
                ("uid", text(user, "uid")),
                (
                    "name",
                    format!("{} {}", text(user, "name"), text(user, "surname"))
                        .trim()
                        .to_owned(),
                ),
                ("status", text(user, "userStatus")),
                ("groups", groups.join(", ")),
            ]));
        }
        UserCommand::Delete { email } => {
            let reply = client.delete(client.accounts(&["users", &email])?)?;
            if output.is_json() {
                output.json(&written(&reply, json!({ "deleted": email })));
            } else {
                output.line(&format!("deleted user `{email}`"));
            }
        }
        UserCommand::AddGroups { email, groups } => {
            let groups = resolve_all(&client, &groups)?;
            let ids: Vec<&str> = groups.iter().map(|g| g.id.as_str()).collect();
            let reply = client.post(client.accounts(&["users", &email])?, &json!(ids))?;
            report(output, &reply, &email, &groups, "added", "to");
        }
        UserCommand::RemoveGroups { email, groups } => {
            let groups = resolve_all(&client, &groups)?;
            let pairs: Vec<(&str, &str)> = groups
                .iter()
                .map(|g| ("group-uuid", g.id.as_str()))
                .collect();
            let url = with_query(client.accounts(&["users", &email, "groups"])?, &pairs);
            let reply = client.delete(url)?;
            report(output, &reply, &email, &groups, "removed", "from");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Groups by uuid or name, from one listing.
fn resolve_all(client: &Client, wanted: &[String]) -> Result<Vec<Named>, CliError> {
    let all = resolve::groups(client)?;
    wanted
        .iter()
        .map(|w| resolve::pick("group", w, &all, "warden group list"))
        .collect()
}

fn report(
    output: &mut Output,
    reply: &crate::command::client::Reply,
    email: &str,
    groups: &[Named],
    verb: &str,
    preposition: &str,
) {
    if output.is_json() {
        let list: Vec<Value> = groups
            .iter()
            .map(|g| json!({ "uuid": g.id, "name": g.name }))
            .collect();
        output.json(&written(reply, json!({ "user": email, verb: list })));
    } else {
        let names: Vec<String> = groups.iter().map(|g| format!("`{}`", g.name)).collect();
        let noun = if groups.len() == 1 { "group" } else { "groups" };
        output.line(&format!(
            "{verb} `{email}` {preposition} {noun} {}",
            names.join(", ")
        ));
    }
}
