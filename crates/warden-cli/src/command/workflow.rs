//! `warden workflow list|get|create|update|delete|authorize-task|consent`: workflows on a server
//! (SPEC §9) — who owns each, who sees it, as whom its tasks run — the decision for one task, and
//! the caller's consent (`/automation/v1/authorization-settings`).
//!
//! A workflow is named by its id or by its title (any case). `--admin` asks for admin mode
//! (`adminAccess=true`, which needs `automation:workflows:admin`). Exit codes of `authorize-task`:
//! 0 ALLOW, 3 DENY, like `warden authorize`.

use std::process::ExitCode;

use serde_json::{Value, json};
use warden_client::Answer;
use warden_client::pending::{Consent, TaskInput, Workflow, WorkflowInput, WorkflowUpdate};

use crate::command::authorize::{DENY_EXIT, print_statements, sentence};
use crate::command::client::{Client, Connection, written_answer};
use crate::command::resolve::{self, Named};
use crate::command::values::{field, key_value, pairs_map, text};
use crate::output::{CliError, Output, fields, plural, table};

#[derive(Debug, clap::Args)]
pub struct WorkflowArgs {
    #[command(flatten)]
    connection: Connection,
    #[command(subcommand)]
    command: WorkflowCommand,
}

#[derive(Debug, clap::Subcommand)]
enum WorkflowCommand {
    /// List the workflows visible to you.
    List {
        /// Admin mode: every workflow of the account.
        #[arg(long)]
        admin: bool,
    },
    /// Show one workflow.
    Get {
        /// The id or title.
        workflow: String,
        /// Admin mode: also a workflow that is not visible to you.
        #[arg(long)]
        admin: bool,
    },
    /// Create a workflow: private, owned by you and run as you unless told otherwise.
    Create {
        title: String,
        /// The environment its tasks run in.
        #[arg(long = "env", value_name = "ENV")]
        environment: String,
        /// Visible to everyone with the matching `automation:workflows:*` permission.
        #[arg(long)]
        public: bool,
        /// As whom its tasks run: you, or a service user you may use (handle, email or uid).
        #[arg(long)]
        actor: Option<String>,
        /// The owning user (email or uid; default: you).
        #[arg(long, value_name = "USER", conflicts_with = "owner_group")]
        owner_user: Option<String>,
        /// The owning group (name or uuid): its members are owners.
        #[arg(long, value_name = "GROUP")]
        owner_group: Option<String>,
        /// `STANDARD` (the default) or `SIMPLE`.
        #[arg(long = "type", value_name = "TYPE")]
        workflow_type: Option<String>,
    },
    /// Change title, visibility, actor, owner or type. Unless in admin mode or run as a service
    /// user, the workflow then runs as you.
    Update {
        /// The id or title.
        workflow: String,
        #[arg(long)]
        title: Option<String>,
        /// Make it visible to everyone with the matching permission (owner only).
        #[arg(long, conflicts_with = "private")]
        public: bool,
        /// Make it visible to its owner only (owner only).
        #[arg(long)]
        private: bool,
        /// As whom its tasks run: you, or a service user you may use (handle, email or uid).
        #[arg(long)]
        actor: Option<String>,
        /// Transfer it to a user (email or uid; owner only).
        #[arg(long, value_name = "USER", conflicts_with = "owner_group")]
        owner_user: Option<String>,
        /// Transfer it to a group (name or uuid; owner only).
        #[arg(long, value_name = "GROUP")]
        owner_group: Option<String>,
        /// `STANDARD` or `SIMPLE`.
        #[arg(long = "type", value_name = "TYPE")]
        workflow_type: Option<String>,
        /// Admin mode: bypasses visibility and ownership, and keeps the actor.
        #[arg(long)]
        admin: bool,
    },
    /// Delete a workflow.
    Delete {
        /// The id or title.
        workflow: String,
        /// Admin mode: also a workflow that is not visible to you.
        #[arg(long)]
        admin: bool,
    },
    /// Decide a task as the workflow's actor: ALLOW or DENY and which side refused (exit 0
    /// ALLOW, 3 DENY).
    AuthorizeTask {
        /// The id or title.
        workflow: String,
        /// The permission the task needs, e.g. `settings:objects:write`.
        permission: String,
        /// A request attribute `name=value`; repeat a name to give a list.
        #[arg(long = "attr", value_name = "NAME=VALUE", value_parser = key_value)]
        attributes: Vec<(String, String)>,
        /// Add the actor's deciding statements, or the nearest misses of a deny.
        #[arg(long)]
        explain: bool,
        /// Admin mode: run checks for a workflow you could not run yourself.
        #[arg(long)]
        admin: bool,
    },
    /// Your consent: the permissions the automation engine may use as you, per environment.
    #[command(subcommand)]
    Consent(ConsentCommand),
}

#[derive(Debug, clap::Subcommand)]
enum ConsentCommand {
    /// Show what you consented to in an environment.
    Get {
        #[arg(long = "env", value_name = "ENV")]
        environment: String,
    },
    /// Replace what you consented to in an environment (no permission: withdraw all).
    Set {
        #[arg(long = "env", value_name = "ENV")]
        environment: String,
        /// The permissions tasks run as you may use there.
        permissions: Vec<String>,
    },
}

pub fn run(args: WorkflowArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let client = Client::connect(&args.connection)?;
    let api = client.typed();
    match args.command {
        WorkflowCommand::List { admin } => {
            let list = client.call(api.workflows(admin))?.body;
            if output.is_json() {
                output.json(&list);
                return Ok(ExitCode::SUCCESS);
            }
            let rows: Vec<Vec<String>> = list
                .results
                .iter()
                .map(|w| {
                    vec![
                        w.title.clone(),
                        w.environment.clone(),
                        visibility(w).to_owned(),
                        owner(w),
                        actor(w),
                        w.id.clone(),
                    ]
                })
                .collect();
            output.text(&table(
                &["TITLE", "ENVIRONMENT", "VISIBILITY", "OWNER", "ACTOR", "ID"],
                &rows,
            ));
            output.line(&plural(list.results.len(), "workflow"));
        }
        WorkflowCommand::Get { workflow, admin } => {
            let id = workflow_id(&client, &workflow, admin)?;
            let w = client.call(api.workflow(&id, admin))?.body;
            if output.is_json() {
                output.json(&w);
                return Ok(ExitCode::SUCCESS);
            }
            let mut actor = actor(&w);
            if w.actor_type.as_deref() == Some("SERVICE_USER") {
                actor.push_str(" (service user)");
            }
            output.text(&fields(&[
                ("title", w.title.clone()),
                ("id", w.id.clone()),
                ("environment", w.environment.clone()),
                ("visibility", visibility(&w).to_owned()),
                ("owner", owner(&w)),
                ("actor", actor),
                ("type", w.workflow_type.clone()),
                ("created", w.created_at.clone()),
                ("updated", w.updated_at.clone()),
            ]));
        }
        WorkflowCommand::Create {
            title,
            environment,
            public,
            actor,
            owner_user,
            owner_group,
            workflow_type,
        } => {
            let (owner, owner_type) = owner_input(owner_user, owner_group);
            let input = WorkflowInput {
                title,
                environment,
                is_private: Some(!public),
                workflow_type,
                actor,
                owner,
                owner_type,
            };
            let reply = client.call(api.create_workflow(&input))?;
            report(output, &reply, "created");
        }
        WorkflowCommand::Update {
            workflow,
            title,
            public,
            private,
            actor,
            owner_user,
            owner_group,
            workflow_type,
            admin,
        } => {
            let id = workflow_id(&client, &workflow, admin)?;
            let (owner, owner_type) = owner_input(owner_user, owner_group);
            let update = WorkflowUpdate {
                title,
                is_private: (public || private).then_some(private),
                workflow_type,
                actor,
                owner,
                owner_type,
            };
            let reply = client.call(api.update_workflow(&id, &update, admin))?;
            report(output, &reply, "updated");
        }
        WorkflowCommand::Delete { workflow, admin } => {
            let id = workflow_id(&client, &workflow, admin)?;
            let deleted = client.call(api.delete_workflow(&id, admin))?;
            if output.is_json() {
                output.json(&written_answer(&deleted, json!({ "deleted": id })));
            } else {
                output.line(&format!("deleted workflow `{workflow}`"));
            }
        }
        WorkflowCommand::AuthorizeTask {
            workflow,
            permission,
            attributes,
            explain,
            admin,
        } => {
            let id = workflow_id(&client, &workflow, admin)?;
            let task = TaskInput {
                permission,
                attributes: pairs_map(&attributes),
            };
            let decided = client.call(api.authorize_task(&id, &task, admin))?.body;
            let decided = serde_json::to_value(&decided).unwrap_or(Value::Null);
            return Ok(decision(&decided, explain, output));
        }
        WorkflowCommand::Consent(command) => consent(&client, command, output)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether a workflow argument is an id (a UUID) rather than a title.
fn looks_like_id(given: &str) -> bool {
    given.len() == 36
        && given.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The id of a workflow given by id or by title (among those listed to the caller).
fn workflow_id(client: &Client, given: &str, admin: bool) -> Result<String, CliError> {
    if looks_like_id(given) {
        return Ok(given.to_owned());
    }
    let list = client.call(client.typed().workflows(admin))?.body;
    let all: Vec<Named> = list
        .results
        .iter()
        .map(|w| Named {
            id: w.id.clone(),
            name: w.title.clone(),
            value: Value::Null,
        })
        .collect();
    resolve::pick("workflow", given, &all, "warden workflow list").map(|w| w.id)
}

/// `(owner, ownerType)` of a workflow from `--owner-user` or `--owner-group`.
fn owner_input(user: Option<String>, group: Option<String>) -> (Option<String>, Option<String>) {
    match (user, group) {
        (Some(user), _) => (Some(user), Some("USER".to_owned())),
        (None, Some(group)) => (Some(group), Some("GROUP".to_owned())),
        (None, None) => (None, None),
    }
}

fn visibility(workflow: &Workflow) -> &'static str {
    if workflow.is_private {
        "private"
    } else {
        "public"
    }
}

/// `user alice@example.com` or `group devs` (the id when the name is unknown).
fn owner(workflow: &Workflow) -> String {
    let name = workflow
        .owner_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| workflow.owner.clone());
    format!("{} {name}", workflow.owner_type.to_lowercase())
}

/// The actor's handle (a service user) or email (a user), else its uid.
fn actor(workflow: &Workflow) -> String {
    [&workflow.actor_handle, &workflow.actor_email]
        .into_iter()
        .flatten()
        .find(|value| !value.is_empty())
        .cloned()
        .unwrap_or_else(|| workflow.actor.clone())
}

/// `created workflow `T` (id) in `env-prod`: private, owned by user a@example.com, run as `…``.
fn report(output: &mut Output, reply: &Answer<Workflow>, done: &str) {
    if output.is_json() {
        let shown = serde_json::to_value(&reply.body).unwrap_or(Value::Null);
        output.json(&written_answer(reply, shown));
        return;
    }
    let w = &reply.body;
    output.line(&format!(
        "{done} workflow `{}` ({}) in `{}`: {}, owned by {}, run as `{}`",
        w.title,
        w.id,
        w.environment,
        visibility(w),
        owner(w),
        actor(w)
    ));
}

/// Prints a task decision; the exit code is 0 for ALLOW, 3 for DENY.
fn decision(decision: &Value, explain: bool, output: &mut Output) -> ExitCode {
    let allowed = text(decision, "outcome") == "ALLOW";
    if output.is_json() {
        output.json(decision);
    } else {
        let reason = text(decision, "reason");
        let summary = text(decision, "summary");
        let (headline, detail) = match text(decision, "refusedBy").as_str() {
            "consent" => (
                "refused by consent".to_owned(),
                summary.strip_prefix("refused by consent: "),
            ),
            "actor-permissions" => (
                "refused by the actor's permissions".to_owned(),
                summary.strip_prefix("refused by the actor's permissions: "),
            ),
            _ if allowed && text(decision, "actorType") == "SERVICE_USER" => (
                "the service-user actor may do it".to_owned(),
                summary.strip_prefix("allowed: "),
            ),
            _ if allowed => (
                "the actor may do it and consented to it".to_owned(),
                summary.strip_prefix("allowed: "),
            ),
            _ => (sentence(&reason).to_owned(), None),
        };
        output.line(&format!(
            "{}: {headline} ({reason})",
            if allowed { "ALLOW" } else { "DENY" }
        ));
        output.line(&format!("  {}", detail.unwrap_or(&summary)));
        if explain {
            print_statements(field(decision, "explanation"), output);
        }
    }
    if allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(DENY_EXIT)
    }
}

fn consent(client: &Client, command: ConsentCommand, output: &mut Output) -> Result<(), CliError> {
    match command {
        ConsentCommand::Get { environment } => {
            let consent = client.call(client.typed().consent(&environment))?.body;
            if output.is_json() {
                output.json(&consent);
                return Ok(());
            }
            for permission in &consent.permissions {
                output.line(permission);
            }
            if consent.permissions.is_empty() {
                output.line(&format!(
                    "no consent in `{environment}`: tasks that run as you may do nothing there"
                ));
            } else {
                output.line(&format!(
                    "{} consented to in `{environment}`",
                    plural(consent.permissions.len(), "permission")
                ));
            }
        }
        ConsentCommand::Set {
            environment,
            permissions,
        } => {
            let input = Consent {
                environment: environment.clone(),
                permissions,
            };
            let reply = client.call(client.typed().set_consent(&input))?;
            if output.is_json() {
                let shown = serde_json::to_value(&reply.body).unwrap_or(Value::Null);
                output.json(&written_answer(&reply, shown));
                return Ok(());
            }
            let permissions = &reply.body.permissions;
            if permissions.is_empty() {
                output.line(&format!(
                    "withdrew consent in `{environment}`: tasks that run as you may do nothing there"
                ));
            } else {
                let list: Vec<String> = permissions.iter().map(|p| format!("`{p}`")).collect();
                output.line(&format!(
                    "consented to {} in `{environment}`: {}",
                    plural(permissions.len(), "permission"),
                    list.join(", ")
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids_and_anything_else_a_title() {
        assert!(looks_like_id("0b7e3f4c-9a1d-4c2e-8f00-123456789abc"));
        assert!(!looks_like_id("Nightly"));
        assert!(!looks_like_id("0b7e3f4c-9a1d-4c2e-8f00-123456789abz"));
        assert!(!looks_like_id("0b7e3f4c99a1d-4c2e-8f00-123456789abc"));
    }

    #[test]
    fn owners_and_actors_read_as_names() {
        let workflow: Workflow = serde_json::from_value(json!({
            "id": "w-1", "title": "T", "environment": "env-prod", "isPrivate": true,
            "owner": "g-1", "ownerType": "GROUP", "ownerName": "devs",
            "actor": "u-1", "actorEmail": "x@service.warden.local", "actorHandle": "pipeline@service",
            "actorType": "SERVICE_USER", "workflowType": "STANDARD", "createdAt": "", "createdBy": "",
            "updatedAt": "", "updatedBy": "",
        }))
        .unwrap();
        assert_eq!(owner(&workflow), "group devs");
        assert_eq!(actor(&workflow), "pipeline@service");
        let bare = Workflow {
            owner: "u-2".to_owned(),
            owner_type: "USER".to_owned(),
            owner_name: None,
            actor: "u-2".to_owned(),
            actor_email: None,
            actor_handle: None,
            ..workflow
        };
        assert_eq!(owner(&bare), "user u-2");
        assert_eq!(actor(&bare), "u-2");
    }
}
