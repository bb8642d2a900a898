//! `warden user create|list|get|delete|add-groups|remove-groups`: users and their groups. A user
//! is named by its email (any case) or uid; a group by its uuid or name.

use std::process::ExitCode;

use serde_json::{Value, json};

use warden_api::users::UserInput;
use warden_client::Answer;

use crate::command::client::{Client, Connection, written_answer};
use crate::command::group::principal_row;
use crate::command::resolve::{self, Named};
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
        /// Why: required when a service user joins a group bound to a policy granting an `iam:`
        /// write permission, or to a global Admin policy (kept in the audit log).
        #[arg(long, value_name = "TEXT")]
        justification: Option<String>,
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
    let api = client.typed();
    match args.command {
        UserCommand::Create {
            email,
            name,
            surname,
        } => {
            let input = UserInput {
                email,
                name: name.unwrap_or_default(),
                surname: surname.unwrap_or_default(),
                uid: String::new(),
            };
            let user = client
                .call(api.create_user(client.account()?, &input))?
                .body;
            if output.is_json() {
                output.json(&user);
            } else {
                output.line(&format!("created user `{}` ({})", user.email, user.uid));
            }
        }
        UserCommand::List => {
            let users = client.call(api.users(client.account()?, Some(false)))?.body;
            if output.is_json() {
                output.json(&users);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = users.items.iter().map(principal_row).collect();
            output.text(&table(&["EMAIL", "NAME", "KIND", "STATUS", "UID"], &rows));
            output.line(&plural(users.items.len(), "user"));
        }
        UserCommand::Get { email } => {
            let detail = client.call(api.user(client.account()?, &email))?.body;
            if output.is_json() {
                output.json(&detail);
                return Ok(ExitCode::SUCCESS);
            }
            let groups: Vec<String> = detail
                .groups
                .iter()
                .map(|g| format!("`{}`", g.group_name))
                .collect();
            let user = detail.user;
            output.text(&fields(&[
                ("email", user.email),
                ("uid", user.uid),
                (
                    "name",
                    format!("{} {}", user.name, user.surname).trim().to_owned(),
                ),
                ("status", user.user_status),
                ("groups", groups.join(", ")),
            ]));
        }
        UserCommand::Delete { email } => {
            let deleted = client.call(api.delete_user(client.account()?, &email))?;
            if output.is_json() {
                output.json(&written_answer(&deleted, json!({ "deleted": email })));
            } else {
                output.line(&format!("deleted user `{email}`"));
            }
        }
        UserCommand::AddGroups {
            email,
            groups,
            justification,
        } => {
            let groups = resolve_all(&client, &groups)?;
            let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
            let account = client.account()?;
            let added = match &justification {
                Some(text) => {
                    client.call(api.add_user_to_groups_justified(account, &email, &ids, text))?
                }
                None => client.call(api.add_user_to_groups(account, &email, &ids))?,
            };
            report(output, &added, &email, &groups, "added", "to");
        }
        UserCommand::RemoveGroups { email, groups } => {
            let groups = resolve_all(&client, &groups)?;
            let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
            let removed =
                client.call(api.remove_user_from_groups(client.account()?, &email, &ids))?;
            report(output, &removed, &email, &groups, "removed", "from");
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
    reply: &Answer<()>,
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
        output.json(&written_answer(reply, json!({ "user": email, verb: list })));
    } else {
        let names: Vec<String> = groups.iter().map(|g| format!("`{}`", g.name)).collect();
        let noun = if groups.len() == 1 { "group" } else { "groups" };
        output.line(&format!(
            "{verb} `{email}` {preposition} {noun} {}",
            names.join(", ")
        ));
    }
}
