//! `warden service-user create|list|get|history|delete|review`: service users (SPEC §7), each
//! with a group of its own, their history from the audit log, and the review report; `update|deactivate|reactivate|mark-reviewed` are in
//! [`super::service_user_lifecycle`]. A service user is named by its uid, handle (`name@service`)
//! or email.

use std::process::ExitCode;

use serde_json::{Value, json};

use warden_api::paging::KeyPageQuery;
use warden_api::service_users::{HistoryQuery, ReviewQuery};
use warden_client::pending::{OwnerInput, ReviewEntry, ServiceUserInput, ServiceUserReview};

use crate::command::client::{Client, Connection, written_answer};
use crate::command::values::{field, items, text};
use crate::output::{CliError, Output, OutputFormat, fields, plural, table};

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
    /// The service users that need attention (unused, unreviewed, without an owner or purpose,
    /// an owner deactivated, unused permissions or memberships, credentials due for rotation) and
    /// the workflows run by a person; `--format csv` for spreadsheets.
    Review {
        /// Unused: no use in this many days (also the window for unused permissions and
        /// memberships).
        #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = days())]
        unused_days: i64,
        /// Unreviewed: no review recorded in this many days.
        #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = days())]
        unreviewed_days: i64,
        /// Rotation due: platform tokens and OAuth client secrets older than this many days.
        #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = days())]
        rotation_days: i64,
    },
    #[command(flatten)]
    Lifecycle(crate::command::service_user_lifecycle::LifecycleCommand),
}

impl ServiceUserArgs {
    /// Whether this is `warden service-user review` (the one command with a CSV form).
    pub fn is_review(&self) -> bool {
        matches!(self.command, ServiceUserCommand::Review { .. })
    }
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
                        Some(text(u, "lastUsedAt"))
                            .filter(|t| !t.is_empty())
                            .unwrap_or_else(|| "never".to_owned()),
                        text(u, "uid"),
                    ]
                })
                .collect();
            output.text(&table(
                &["HANDLE", "NAME", "STATUS", "LAST USED", "UID"],
                &rows,
            ));
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
                (
                    "last used",
                    Some(text(user, "lastUsedAt"))
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| "never".to_owned()),
                ),
                ("last reviewed", text(user, "lastReviewedAt")),
                ("deactivated", text(field(user, "deactivation"), "reason")),
            ]));
        }
        ServiceUserCommand::Review {
            unused_days,
            unreviewed_days,
            rotation_days,
        } => {
            let windows = ReviewQuery {
                unused_days: Some(unused_days),
                unreviewed_days: Some(unreviewed_days),
                rotation_days: Some(rotation_days),
            };
            let report = client
                .call(api.service_user_review(client.account()?, &windows))?
                .body;
            match output.format {
                OutputFormat::Json => output.json(&report),
                OutputFormat::Csv => output.text(&report.csv()),
                OutputFormat::Human | OutputFormat::Sql => review(&report, output),
            }
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

/// The review report as text: a table of the service users with their findings, what it looked
/// for, the details of memberships and credentials, then the workflows run by a person.
fn review(report: &ServiceUserReview, output: &mut Output) {
    let looked_for = format!(
        "unused for {} days, unreviewed for {} days, credentials older than {} days, without an owner or a purpose, an owner deactivated, or unused permissions or memberships",
        report.unused_days, report.unreviewed_days, report.rotation_days
    );
    let users = &report.service_users;
    if users.is_empty() {
        output.line(&format!("no service user to review ({looked_for})"));
    } else {
        let rows: Vec<Vec<String>> = users
            .iter()
            .map(|u| {
                let owner = u.owner.as_ref().map_or_else(
                    || "none".to_owned(),
                    |o| {
                        let name = o.name.as_deref().unwrap_or("(deleted)");
                        format!("{} {name}", o.kind.to_lowercase())
                    },
                );
                vec![
                    u.handle.clone().unwrap_or_default(),
                    u.name.clone(),
                    if u.active { "ACTIVE" } else { "INACTIVE" }.to_owned(),
                    owner,
                    u.last_used_at.clone().unwrap_or_else(|| "never".to_owned()),
                    u.last_reviewed_at
                        .clone()
                        .unwrap_or_else(|| "never".to_owned()),
                    u.findings
                        .iter()
                        .map(|f| finding_words(u, f))
                        .collect::<Vec<_>>()
                        .join(", "),
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
        let handle = |u: &ReviewEntry| u.handle.clone().unwrap_or_else(|| u.uid.clone());
        let memberships: Vec<&ReviewEntry> = users
            .iter()
            .filter(|u| !u.unused_memberships.is_empty())
            .collect();
        if !memberships.is_empty() {
            output.line("");
            output.line(&format!(
                "Memberships none of whose permissions were used in {} days (leave them with `warden user remove-groups`):",
                report.unused_days
            ));
            for u in memberships {
                let names: Vec<String> = u
                    .unused_memberships
                    .iter()
                    .map(|g| format!("`{}`", g.name))
                    .collect();
                output.line(&format!("  {}: {}", handle(u), names.join(", ")));
            }
        }
        let due: Vec<&ReviewEntry> = users
            .iter()
            .filter(|u| !u.rotation_due.is_empty())
            .collect();
        if !due.is_empty() {
            output.line("");
            output.line(&format!(
                "Credentials older than {} days (rotate them: `warden oauth-client rotate`, a new `warden token create`):",
                report.rotation_days
            ));
            for u in due {
                for credential in &u.rotation_due {
                    output.line(&format!("  {}: {}", handle(u), credential.line()));
                }
            }
        }
    }
    output.line("");
    if report.workflows.is_empty() {
        output.line("no workflow runs as a person or as someone deactivated");
        return;
    }
    let rows: Vec<Vec<String>> = report
        .workflows
        .iter()
        .map(|w| {
            let actor = match (&w.actor_handle, &w.actor_email) {
                (Some(handle), _) | (None, Some(handle)) if w.actor_active => handle.clone(),
                (Some(handle), _) | (None, Some(handle)) => format!("{handle} (deactivated)"),
                (None, None) => "a deleted user".to_owned(),
            };
            vec![
                w.title.clone(),
                w.environment.clone(),
                actor,
                w.findings
                    .iter()
                    .map(|f| match f.as_str() {
                        "workflows-run-by-person" => "run by a person".to_owned(),
                        "actor-deactivated" => "actor deactivated".to_owned(),
                        other => other.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                w.id.clone(),
            ]
        })
        .collect();
    output.text(&table(
        &["WORKFLOW", "ENVIRONMENT", "ACTOR", "FINDINGS", "ID"],
        &rows,
    ));
    output.line(&format!(
        "{} to move to a service user: `warden workflow update ID --actor SERVICE_USER`",
        plural(report.workflows.len(), "workflow")
    ));
}

/// A finding as the table says it.
fn finding_words(user: &ReviewEntry, finding: &str) -> String {
    match finding {
        "no-owner" => "no owner".to_owned(),
        "owner-deactivated" => "owner deactivated".to_owned(),
        "no-purpose" => "no purpose".to_owned(),
        "unused-permissions" => format!(
            "{} unused",
            plural(user.unused_permissions.len(), "permission")
        ),
        "unused-membership" => format!(
            "{} unused",
            plural(user.unused_memberships.len(), "membership")
        ),
        "rotation-due" => format!(
            "{} to rotate",
            plural(user.rotation_due.len(), "credential")
        ),
        other => other.to_owned(),
    }
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
