//! Workflows and consent (SPEC §9): who may see, change and run a workflow, ownership and visibility, the actor rule, consent, and the
//! authorisation of each task as the workflow's actor.
//!
//! Private workflows are visible to their owner only (or the owning group's members); public ones
//! to everyone holding the matching `automation:workflows:read|write|run` for the workflow's
//! environment and type. Only the owner changes visibility or ownership. `adminAccess=true` needs
//! `automation:workflows:admin` and bypasses visibility and ownership. A workflow that is not
//! visible answers 404, as if it did not exist.

use serde_json::json;
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

pub use warden_api::workflows::{
    AdminQuery, Consent, ConsentInput, ConsentQuery, TaskDecision, TaskInput, WorkflowDto,
    WorkflowInput, WorkflowList, WorkflowUpdate,
};

/// A principal kind's wire name (`USER`, `SERVICE_USER`).
pub fn kind_name(kind: PrincipalKind) -> String {
    match kind {
        PrincipalKind::User => "USER",
        PrincipalKind::ServiceUser => "SERVICE_USER",
    }
    .to_owned()
}

pub fn dto(model: &Model, body: &WorkflowBody) -> WorkflowDto {
    let actor = model.principals.get(&body.actor);
    // For people: the owning user's email or the owning group's name.
    let owner_name = if body.owner_type == "GROUP" {
        model.groups.get(&body.owner).map(|g| g.name.clone())
    } else {
        model.principals.get(&body.owner).map(|p| p.email.clone())
    };
    WorkflowDto {
        id: body.id.clone(),
        title: body.title.clone(),
        environment: body.environment.clone(),
        owner: body.owner.clone(),
        owner_type: body.owner_type.clone(),
        owner_name,
        is_private: body.is_private,
        actor: body.actor.clone(),
        actor_email: actor.map(|a| a.email.clone()),
        actor_handle: actor.and_then(|a| a.handle.clone()),
        actor_type: actor.map(|a| kind_name(a.kind)),
        workflow_type: body.workflow_type.clone(),
        created_at: iso(body.created_at),
        created_by: body.created_by.clone(),
        updated_at: iso(body.updated_at),
        updated_by: body.updated_by.clone(),
    }
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
) -> ApiResult<(WorkflowDto, i64)> {
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
) -> Plan<WorkflowDto> {
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
) -> ApiResult<(WorkflowDto, i64)> {
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

/// Stores the caller's consent. Permissions must exist; consenting to one the caller does not
/// hold is allowed and never grants it.
pub async fn put_consent(
    state: &AppState,
    authed: &Authed,
    input: ConsentInput,
) -> ApiResult<(Consent, i64)> {
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
            let out = Consent {
                environment: body.environment.clone(),
                permissions: body.permissions.clone(),
            };
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

// ---- reads and task decisions -------------------------------------------------------------------

/// The workflows visible to the caller (all of them in admin mode), by title.
pub async fn list(
    state: &AppState,
    authed: &Authed,
    admin_access: bool,
) -> ApiResult<WorkflowList> {
    let admin_mode = admin(state, authed, None, admin_access)?;
    let snapshot = state.snapshot();
    let model = state.model.lock().await;
    let mut results: Vec<WorkflowDto> = model
        .workflows
        .values()
        .filter(|w| visible(state, authed, &snapshot, w, admin_mode).is_ok())
        .map(|w| dto(&model, w))
        .collect();
    results.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(WorkflowList {
        count: results.len(),
        results,
    })
}

/// One workflow, if visible to the caller.
pub async fn get(
    state: &AppState,
    authed: &Authed,
    id: &str,
    admin_access: bool,
) -> ApiResult<WorkflowDto> {
    let snapshot = state.snapshot();
    let model = state.model.lock().await;
    let body = model
        .workflows
        .get(id)
        .ok_or_else(|| ApiError::not_found("workflow", id))?;
    let admin_mode = admin(state, authed, Some(body), admin_access)?;
    visible(state, authed, &snapshot, body, admin_mode)?;
    Ok(dto(&model, body))
}

/// A serde name of an engine enum (`ALLOW`, `no-consent`, …), as the engine writes it.
fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Decides a task as the workflow's actor (its permissions ∩ consent for a human actor); every
/// check is recorded in the audit log. The caller must be able to run the workflow (or be in
/// admin mode).
pub async fn authorize_task(
    state: &AppState,
    authed: &Authed,
    id: &str,
    admin_access: bool,
    input: TaskInput,
) -> ApiResult<TaskDecision> {
    let attributes: warden_engine::Attributes = input
        .attributes
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                warden_api::workflows::TaskAttribute::One(one) => {
                    warden_engine::AttributeValue::One(one)
                }
                warden_api::workflows::TaskAttribute::Many(many) => {
                    warden_engine::AttributeValue::Many(many)
                }
            };
            (name, value)
        })
        .collect();
    crate::limits::check_decision_attributes(
        attributes
            .iter()
            .map(|(name, value)| (name.as_str(), value.values())),
    )?;
    let snapshot = state.snapshot();
    let (workflow, consent, actor) = {
        let model = state.model.lock().await;
        let workflow = model
            .workflows
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("workflow", id))?;
        let consent = model
            .consents
            .get(&(workflow.actor.clone(), workflow.environment.clone()))
            .map(|c| c.permissions.clone());
        // The actor as people name it (handle or email), so that explanations read well; the
        // engine resolves either to the same principal.
        let actor = model.principals.get(&workflow.actor).map_or_else(
            || workflow.actor.clone(),
            |p| p.handle.clone().unwrap_or_else(|| p.email.clone()),
        );
        (workflow, consent, actor)
    };
    let admin_mode = admin(state, authed, Some(&workflow), admin_access)?;
    visible(state, authed, &snapshot, &workflow, admin_mode)?;
    if !admin_mode {
        check_action(state, authed, &workflow, "run")?;
    }
    let task = warden_engine::workflow::Task {
        actor: &actor,
        permission: &input.permission,
        environment: Some(&workflow.environment),
        attributes: &attributes,
        time: authed.context.now_ms.div_euclid(1000),
    };
    let decision = snapshot.authorize_task(&task, consent.as_deref());
    state.usage.record(
        &workflow.actor,
        &input.permission,
        decision.decision.is_allowed(),
        authed.context.now_ms,
    );
    // A task's request is the actor's use, as a decision asked about it would be.
    if decision.decision.is_allowed() {
        state.samples.record(
            &workflow.actor,
            &input.permission,
            Some(&workflow.environment),
            authed.context.now_ms,
            |visit| {
                for (name, value) in &attributes {
                    visit(
                        name,
                        warden_engine::AttributeValues::Strings(value.values()),
                    );
                }
            },
        );
    }
    let record = json!({
        "workflow": workflow.id,
        "actor": workflow.actor,
        "caller": authed.caller.uid,
        "permission": input.permission,
        "decision": decision.decision.outcome,
        "reason": decision.decision.reason,
        "refusedBy": decision.refused_by,
    });
    let seq = state
        .record(
            authed,
            "workflow.authorize-task",
            &format!("workflow/{id}"),
            record,
        )
        .await?;
    Ok(TaskDecision {
        outcome: wire_name(&decision.decision.outcome),
        reason: wire_name(&decision.decision.reason),
        actor: decision.actor,
        actor_type: decision.actor_type.map(kind_name),
        refused_by: decision.refused_by.as_ref().map(wire_name),
        summary: decision.summary,
        explanation: serde_json::to_value(&decision.explanation).unwrap_or_default(),
        audit_seq: seq,
    })
}

/// The caller's consent for an environment (none until set).
pub async fn consent(state: &AppState, authed: &Authed, environment: &str) -> ApiResult<Consent> {
    let model = state.model.lock().await;
    if !model.environments.contains_key(environment) {
        return Err(ApiError::not_found("environment", environment));
    }
    let permissions = model
        .consents
        .get(&(authed.caller.uid.clone(), environment.to_owned()))
        .map(|c| c.permissions.clone())
        .unwrap_or_default();
    Ok(Consent {
        environment: environment.to_owned(),
        permissions,
    })
}
