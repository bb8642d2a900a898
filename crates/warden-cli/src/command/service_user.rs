//! `warden service-user create|list|get|history|delete|review`: service users (SPEC §7), each
//! with a group of its own, their history from the audit log, and the review report; `update|deactivate|reactivate|mark-reviewed` are in
//! [`super::service_user_lifecycle`]. A service user is named by its uid, handle (`name@service`)
//! or email.

use std::process::ExitCode;

use serde_json::{Value, json};

use warden_api::paging::KeyPageQuery;
use warden_api::service_users::HistoryQuery;
use warden_client::pending::{OwnerInput, ServiceUserInput};

use crate::command::client::{Client, Connection, written_answer};
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
        /// Why it is created (kept in the audit log, shown in the history).
        #[arg(long)]
        reason: Option<String>,
    },
    /// List the account's service users.
    List,
    /// Show one service user.
    Get {
        /// The uid, handle or email.
        uid: String,
    },
    /// Its history from the audit log: when, who, what changed (old → new), why.
    History {
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
    let api = client.typed();
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
            reason,
        } => {
            let owner = match (owner_user, owner_group) {
                (Some(user), _) => Some(OwnerInput {
                    kind: "USER".to_owned(),
                    id: user,
                }),
                (None, Some(group)) => Some(OwnerInput {
                    kind: "GROUP".to_owned(),
                    id: group,
                }),
                (None, None) => None,
            };
            let input = ServiceUserInput {
                name,
                description: description.unwrap_or_default(),
                owner,
                purpose: purpose.unwrap_or_default(),
                reason: reason.unwrap_or_default(),
            };
            let answer = client.call(api.create_service_user(client.account()?, &input))?;
            let (user, warnings) = (answer.body, answer.warnings);
            if output.is_json() {
                let mut shown = serde_json::to_value(&user).unwrap_or(Value::Null);
                if !warnings.is_empty()
                    && let Some(fields) = shown.as_object_mut()
                {
                    fields.insert("warnings".to_owned(), serde_json::json!(warnings));
                }
                output.json(&shown);
            } else {
                output.line(&format!(
                    "created service user `{}` as `{}` ({})",
                    user.name,
                    user.handle.unwrap_or_default(),
                    user.uid
                ));
                for warning in &warnings {
                    output.warning(warning);
                }
            }
        }
        ServiceUserCommand::History { uid } => {
            return history(&client, &uid, output);
        }
        ServiceUserCommand::List => {
            let page = client
                .call(api.service_users(client.account()?, &KeyPageQuery::default()))?
                .body;
            if output.is_json() {
                output.json(&page);
                return Ok(ExitCode::SUCCESS);
            }
            let page = serde_json::to_value(&page).unwrap_or(Value::Null);
            let users = items(&page, "results");
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
            let found = client.call(api.service_user(client.account()?, &uid))?.body;
            if output.is_json() {
                output.json(&found);
                return Ok(ExitCode::SUCCESS);
            }
            let user = &serde_json::to_value(&found).unwrap_or(Value::Null);
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
            let report = client
                .call(api.service_user_review(
                    client.account()?,
                    Some(unused_days),
                    Some(unreviewed_days),
                ))?
                .body;
            if output.is_json() {
                output.json(&report);
                return Ok(ExitCode::SUCCESS);
            }
            let report = serde_json::to_value(&report).unwrap_or(Value::Null);
            review(&report, unused_days, unreviewed_days, output);
        }
        ServiceUserCommand::Delete { uid } => {
            let deleted = client.call(api.delete_service_user(client.account()?, &uid))?;
            if output.is_json() {
                output.json(&written_answer(&deleted, json!({ "deleted": uid })));
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

/// Every page of a service user's history, as JSON or as a table (when, who, what, changes, why).
fn history(client: &Client, uid: &str, output: &mut Output) -> Result<ExitCode, CliError> {
    let api = client.typed();
    let account = client.account()?;
    let mut query = HistoryQuery {
        after_seq: None,
        limit: Some(1000),
    };
    let mut records = Vec::new();
    let mut shown_uid: String;
    loop {
        let page = client
            .call(api.service_user_history(account, uid, &query))?
            .body;
        shown_uid = page.uid;
        records.extend(page.records);
        match page.next_after_seq {
            Some(next) => query.after_seq = Some(next),
            None => break,
        }
    }
    if output.is_json() {
        output.json(&serde_json::json!({ "uid": shown_uid, "records": records }));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            let changes: Vec<String> = r
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "{}: {} → {}",
                        c.field,
                        c.old.as_deref().unwrap_or("-"),
                        c.new.as_deref().unwrap_or("-")
                    )
                })
                .collect();
            vec![
                r.at.clone(),
                r.actor_name.clone().unwrap_or_else(|| r.actor.clone()),
                r.action.clone(),
                changes.join("; "),
                r.reason.clone().unwrap_or_default(),
            ]
        })
        .collect();
    output.text(&table(&["WHEN", "WHO", "WHAT", "CHANGES", "WHY"], &rows));
    output.line(&plural(rows.len(), "record"));
    Ok(ExitCode::SUCCESS)
}
