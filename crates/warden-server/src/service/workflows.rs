//! Workflows and consent (SPEC §9): who may see, change and run a workflow, ownership and visibility, the actor rule, consent, and the
//! authorisation of each task as the workflow's actor.
//!
//! Private workflows are visible to their owner only (or the owning group's members); public ones
//! to everyone holding the matching `automation:workflows:read|write|run` for the workflow's
//! environment and type. Only the owner changes visibility or ownership. `adminAccess=true` needs
//! `automation:workflows:admin` and bypasses visibility and ownership. A workflow that is not
//! visible answers 404, as if it did not exist.

use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::workflow::Owner;
use warden_engine::{Level, PrincipalKind, Snapshot};

use crate::limits::check_text;
use crate::model::Model;
use crate::records::{ConsentBody, WorkflowBody};
use crate::service::groups::iso;
use crate::service::guard::attributes;
use crate::service::levels::new_uuid;
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminQuery {
    #[serde(default)]
    pub admin_access: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkflowInput {
    pub title: String,
    pub environment: String,
    #[serde(default)]
    pub is_private: Option<bool>,
    #[serde(default)]
    pub workflow_type: Option<String>,
    /// uid, email or handle; default the caller.
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkflowUpdate {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub is_private: Option<bool>,
    #[serde(default)]
    pub workflow_type: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_type: Option<String>,
}

pub fn dto(model: &Model, body: &WorkflowBody) -> Value {
    let actor = model.principals.get(&body.actor);
    // For people: the owning user's email or the owning group's name.
    let owner_name = if body.owner_type == "GROUP" {
        model.groups.get(&body.owner).map(|g| g.name.clone())
    } else {
        model.principals.get(&body.owner).map(|p| p.email.clone())
    };
    json!({
        "id": body.id,
        "title": body.title,
        "environment": body.environment,
        "owner": body.owner,
        "ownerType": body.owner_type,
        "ownerName": owner_name,
        "isPrivate": body.is_private,
        "actor": body.actor,
        "actorEmail": actor.map(|a| a.email.clone()),
        "actorHandle": actor.and_then(|a| a.handle.clone()),
        "actorType": actor.map(|a| a.kind),
        "workflowType": body.workflow_type,
        "createdAt": iso(body.created_at),
        "createdBy": body.created_by,
        "updatedAt": iso(body.updated_at),
        "updatedBy": body.updated_by,
    })
}

pub fn owner_of(body: &WorkflowBody) -> Owner<'_> {
    if body.owner_type == "GROUP" {
        Owner::Group(&body.owner)
    } else {
        Owner::User(&body.owner)
    }
}

pub fn check_type(workflow_type: &str) -> ApiResult<()> {
    if workflow_type == "SIMPLE" || workflow_type == "STANDARD" {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "`workflowType` is `SIMPLE` or `STANDARD`, not `{workflow_type}`"
        )))
    }
}

/// `read`, `write` or `run` on this workflow, with its type as the condition.
pub fn check_action(
    state: &AppState,
    authed: &Authed,
    body: &WorkflowBody,
    action: &str,
) -> ApiResult<()> {
    let level = Level::Environment(body.environment.as_str().into());
    state.require(
        authed,
        &format!("automation:workflows:{action}"),
        &level,
        &attributes(&[("automation:workflow-type", &body.workflow_type)]),
    )
}

pub fn admin(
    state: &AppState,
    authed: &Authed,
    body: Option<&WorkflowBody>,
    requested: bool,
) -> ApiResult<bool> {
    if !requested {
        return Ok(false);
    }
    let level = body.map_or(Level::Account, |b| {
        Level::Environment(b.environment.as_str().into())
    });
    state.require(
        authed,
        "automation:workflows:admin",
        &level,
        &attributes(&[]),
    )?;
    Ok(true)
}

/// Visible: admin mode, or the caller may read workflows (of this environment and type) and owns
/// it or it is public. 404 otherwise, as if it did not exist.
pub fn visible(
    state: &AppState,
    authed: &Authed,
    snapshot: &Snapshot,
    body: &WorkflowBody,
    admin_mode: bool,
) -> ApiResult<()> {
    if admin_mode {
        return Ok(());
    }
    let reachable = !body.is_private || snapshot.is_owner(&authed.caller.uid, &owner_of(body));
    if reachable && check_action(state, authed, body, "read").is_ok() {
        return Ok(());
    }
    Err(ApiError::not_found("workflow", &body.id))
}

/// Resolves an actor; a service-user actor needs `iam:service-users:use` for its email, and a
/// human actor can only be the caller (nobody sets another person as the actor of their work).
pub fn resolve_actor(
    state: &AppState,
    authed: &Authed,
    model: &Model,
    key: &str,
) -> ApiResult<String> {
    let principal = model
        .directory
        .find_principal(key)
        .ok_or_else(|| ApiError::not_found("actor", key))?;
    match principal.kind {
        PrincipalKind::ServiceUser => {
            state.require(
                authed,
                "iam:service-users:use",
                &Level::Account,
                &attributes(&[("iam:service-user-email", &principal.email)]),
            )?;
        }
        PrincipalKind::User if *principal.uid != *authed.caller.uid => {
            return Err(ApiError::forbidden(
                "iam:service-users:use",
                "the actor of a workflow is you or a service user you may use, never another person",
            ));
        }
        PrincipalKind::User => {}
    }
    if !principal.active {
        return Err(ApiError::invalid(format!("actor `{key}` is deactivated")));
    }
    Ok(principal.uid.to_string())
}

pub fn resolve_owner(model: &Model, owner: &str, owner_type: &str) -> ApiResult<String> {
    match owner_type {
        "USER" => model
            .directory
            .find_principal(owner)
            .map(|p| p.uid.to_string())
            .ok_or_else(|| ApiError::not_found("user", owner)),
        "GROUP" => model
            .directory
            .find_group(owner)
            .map(|g| g.id.to_string())
            .ok_or_else(|| ApiError::not_found("group", owner)),
        other => Err(ApiError::invalid(format!(
            "`ownerType` is `USER` or `GROUP`, not `{other}`"
        ))),
    }
}

/// Creates a workflow; its actor is the caller unless a service user it may use is named.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    input: WorkflowInput,
) -> ApiResult<(Value, i64)> {
    let now = authed.context.now_ms;
    state
        .write(authed, |model, _| {
            check_text("title", &input.title, 1, 200)?;
            if !model.environments.contains_key(&input.environment) {
                return Err(ApiError::not_found("environment", &input.environment));
            }
            let workflow_type = input
                .workflow_type
                .clone()
                .unwrap_or_else(|| "STANDARD".to_owned());
            check_type(&workflow_type)?;
            let owner_type = input
                .owner_type
                .clone()
                .unwrap_or_else(|| "USER".to_owned());
            let owner = match &input.owner {
                Some(owner) => resolve_owner(model, owner, &owner_type)?,
                None if owner_type == "USER" => authed.caller.uid.clone(),
                None => {
                    return Err(ApiError::invalid(
                        "a group owner must be named with `owner`",
                    ));
                }
            };
            let actor = resolve_actor(
                state,
                authed,
                model,
                input.actor.as_deref().unwrap_or(&authed.caller.uid),
            )?;
            let body = WorkflowBody {
                id: new_uuid(),
                title: input.title.trim().to_owned(),
                environment: input.environment.clone(),
                owner_type,
                owner,
                is_private: input.is_private.unwrap_or(true),
                actor,
                workflow_type,
                created_at: now,
                created_by: authed.caller.uid.clone(),
                updated_at: now,
                updated_by: authed.caller.uid.clone(),
            };
            check_action(state, authed, &body, "write")?;
            Ok(saving(model, "workflow.create", None, body))
        })
        .await
}

/// The plan that stores `body` (created or replacing `previous`), answering with its DTO.
fn saving(
    model: &Model,
    action: &'static str,
    previous: Option<&WorkflowBody>,
    body: WorkflowBody,
) -> Plan<Value> {
    let out = dto(model, &body);
    let mut plan = Plan::new(action, format!("workflow/{}", body.id), out);
    plan.before = previous.map(|p| json!(p));
    plan.after = Some(json!(body));
    plan.ops = vec![body.op()];
    plan.apply = Box::new(move |model: &mut Model| {
        model.workflows.insert(body.id.clone(), body);
    });
    plan
}

/// Changes a workflow: title and type by anyone who may write it, visibility and ownership by
/// its owner (or in admin mode); the updater becomes the actor (SPEC §9).
pub async fn update(
    state: &AppState,
    authed: &Authed,
    id: &str,
    admin_access: bool,
    input: WorkflowUpdate,
) -> ApiResult<(Value, i64)> {
    let now = authed.context.now_ms;
    state
        .write(authed, |model, snapshot| {
            let previous = model
                .workflows
                .get(id)
                .cloned()
                .ok_or_else(|| ApiError::not_found("workflow", id))?;
            let admin_mode = admin(state, authed, Some(&previous), admin_access)?;
            visible(state, authed, snapshot, &previous, admin_mode)?;
            if !admin_mode {
                check_action(state, authed, &previous, "write")?;
            }
            let is_owner = snapshot.is_owner(&authed.caller.uid, &owner_of(&previous));
            let changes_visibility = input.is_private.is_some_and(|p| p != previous.is_private);
            let changes_owner = input.owner.is_some() || input.owner_type.is_some();
            if (changes_visibility || changes_owner) && !is_owner && !admin_mode {
                let what = if changes_visibility {
                    "visibility"
                } else {
                    "ownership"
                };
                return Err(ApiError::forbidden(
                    "automation:workflows:admin",
                    format!(
                        "only the owner of a workflow can change its {what}, even when it is public"
                    ),
                ));
            }
            let mut body = previous.clone();
            if let Some(title) = &input.title {
                check_text("title", title, 1, 200)?;
                body.title = title.trim().to_owned();
            }
            if let Some(workflow_type) = &input.workflow_type {
                check_type(workflow_type)?;
                body.workflow_type = workflow_type.clone();
            }
            if let Some(private) = input.is_private {
                body.is_private = private;
            }
            if changes_owner {
                let owner_type = input
                    .owner_type
                    .clone()
                    .unwrap_or_else(|| previous.owner_type.clone());
                let owner = input
                    .owner
                    .clone()
                    .unwrap_or_else(|| previous.owner.clone());
                body.owner = resolve_owner(model, &owner, &owner_type)?;
                body.owner_type = owner_type;
            }
            // The actor rule: the updater becomes the actor, unless in admin mode or the actor is a
            // service user; setting a service user as actor needs `iam:service-users:use`.
            let current_actor_is_service = model
                .principals
                .get(&previous.actor)
                .is_some_and(|a| a.kind == PrincipalKind::ServiceUser);
            body.actor = match &input.actor {
                Some(actor) => resolve_actor(state, authed, model, actor)?,
                None if admin_mode || current_actor_is_service => previous.actor.clone(),
                None => authed.caller.uid.clone(),
            };
            if body.workflow_type != previous.workflow_type && !admin_mode {
                check_action(state, authed, &body, "write")?;
            }
            body.updated_at = now;
            body.updated_by = authed.caller.uid.clone();
            Ok(saving(model, "workflow.update", Some(&previous), body))
        })
        .await
}

/// Deletes a workflow the caller may write (or in admin mode).
pub async fn delete(
    state: &AppState,
    authed: &Authed,
    id: &str,
    admin_access: bool,
) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, snapshot| {
            let previous = model
                .workflows
                .get(id)
                .cloned()
                .ok_or_else(|| ApiError::not_found("workflow", id))?;
            let admin_mode = admin(state, authed, Some(&previous), admin_access)?;
            visible(state, authed, snapshot, &previous, admin_mode)?;
            if !admin_mode {
                check_action(state, authed, &previous, "write")?;
            }
            let mut plan = Plan::new("workflow.delete", format!("workflow/{id}"), ());
            plan.before = Some(json!(previous));
            plan.ops = vec![warden_store::Op::DeleteWorkflow { id: id.to_owned() }];
            let key = id.to_owned();
            plan.apply = Box::new(move |model: &mut Model| {
                model.workflows.remove(&key);
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}

// ---- consent ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub environment: String,
    pub permissions: Vec<String>,
}

/// Stores the caller's consent. Permissions must exist; consenting to one the caller does not
/// hold is allowed and never grants it.
pub async fn put_consent(
    state: &AppState,
    authed: &Authed,
    input: ConsentInput,
) -> ApiResult<(Value, i64)> {
    state
        .write(authed, |model, snapshot| {
            if !model.environments.contains_key(&input.environment) {
                return Err(ApiError::not_found("environment", &input.environment));
            }
            let mut permissions: Vec<String> = Vec::new();
            for permission in &input.permissions {
                if snapshot.catalogue().permission(permission).is_none() {
                    let help = snapshot
                        .catalogue()
                        .suggest_permission(permission)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    return Err(ApiError::invalid(format!(
                        "unknown permission `{permission}`{help}"
                    )));
                }
                if !permissions.contains(permission) {
                    permissions.push(permission.clone());
                }
            }
            let previous = model
                .consents
                .get(&(authed.caller.uid.clone(), input.environment.clone()))
                .cloned();
            // A scoped token acts only within its scopes: it may not change what the automation
            // engine may use as its owner beyond them (adding or taking away).
            let before: &[String] = previous.as_ref().map_or(&[], |p| &p.permissions);
            if let Some(outside) = permissions
                .iter()
                .filter(|p| !before.contains(p))
                .chain(before.iter().filter(|p| !permissions.contains(p)))
                .find(|p| !authed.caller.scopes.allow(p))
            {
                return Err(ApiError::forbidden(
                    outside,
                    format!(
                        "the token you are using does not include `{outside}`, so it cannot change your consent for it; change it from the console or with a token that includes it"
                    ),
                )
                .with_details(json!({ "permission": outside, "rule": "token-scopes" })));
            }
            let body = ConsentBody {
                uid: authed.caller.uid.clone(),
                environment: input.environment.clone(),
                permissions,
                updated_at: authed.context.now_ms,
            };
            let out = json!({ "environment": body.environment, "permissions": body.permissions });
            let mut plan = Plan::new(
                "consent.update",
                format!("consent/{}/{}", body.uid, body.environment),
                out,
            );
            plan.before = previous.map(|p| json!(p));
            plan.after = Some(json!(body));
            plan.ops = vec![body.op()];
            plan.apply = Box::new(move |model: &mut Model| {
                model
                    .consents
                    .insert((body.uid.clone(), body.environment.clone()), body);
            });
            Ok(plan)
        })
        .await
}
