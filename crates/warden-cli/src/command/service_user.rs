//! `warden service-user create|list|get|delete|review`: service users (SPEC §7), each with a group
//! of its own, and the review report; `update|deactivate|reactivate|mark-reviewed` are in
//! [`super::service_user_lifecycle`]. A service user is named by its uid, handle (`name@service`)
//! or email.

use std::process::ExitCode;

use serde_json::{Value, json};

use crate::command::client::{Client, Connection, with_query, written};
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
    /// The service users that need attention: unused, unreviewed, without an owner, or holding
    /// permissions they have not used.
    Review {
        /// Unused: no decision for it in this many days (also the window for unused permissions).
        #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = days())]
        unused_days: i64,
        /// Unreviewed: no review recorded in this many days.
        #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = days())]
        unreviewed_days: i64,
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
        ServiceUserCommand::Review {
            unused_days,
            unreviewed_days,
        } => {
            let url = with_query(
                client.accounts(&["service-users", "review"])?,
                &[
                    ("unusedDays", &unused_days.to_string()),
                    ("unreviewedDays", &unreviewed_days.to_string()),
                ],
            );
            let reply = client.get(url)?;
            if output.is_json() {
                output.json(&reply.body);
                return Ok(ExitCode::SUCCESS);
            }
            review(&reply.body, unused_days, unreviewed_days, output);
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

/// A number of days the review report accepts: 1 to 36500 (a century).
fn days() -> clap::builder::RangedI64ValueParser<i64> {
    clap::value_parser!(i64).range(1..=36_500)
}

/// The review report as a table, then what it looked for.
fn review(report: &Value, unused_days: i64, unreviewed_days: i64, output: &mut Output) {
    let looked_for = format!(
        "unused for {unused_days} days, unreviewed for {unreviewed_days} days, without an owner, or with unused permissions"
    );
    let users = items(report, "serviceUsers");
    if users.is_empty() {
        output.line(&format!("no service user to review ({looked_for})"));
        return;
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            let findings: Vec<String> = items(u, "findings")
                .iter()
                .filter_map(Value::as_str)
                .map(|finding| match finding {
                    "no-owner" => "no owner".to_owned(),
                    "unused-permissions" => format!(
                        "{} unused",
                        plural(items(u, "unusedPermissions").len(), "permission")
                    ),
                    other => other.to_owned(),
                })
                .collect();
            let or_never = |key: &str| Some(text(u, key)).filter(|t| !t.is_empty());
            vec![
                text(u, "handle"),
                text(u, "name"),
                status(u).to_owned(),
                crate::command::service_user_lifecycle::owner_line(u),
                or_never("lastUsedAt").unwrap_or_else(|| "never".to_owned()),
                or_never("lastReviewedAt").unwrap_or_else(|| "never".to_owned()),
                findings.join(", "),
            ]
        })
        .collect();
    output.text(&table(
        &[
            "HANDLE",
            "NAME",
            "STATUS",
            "OWNER",
            "LAST USED",
            "LAST REVIEWED",
            "FINDINGS",
        ],
        &rows,
    ));
    output.line(&format!(
        "{} to review ({looked_for})",
        plural(users.len(), "service user")
    ));
}

fn status(user: &Value) -> &'static str {
    if field(user, "active").as_bool() == Some(false) {
        "INACTIVE"
    } else {
        "ACTIVE"
    }
}
