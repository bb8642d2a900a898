//! `/automation/v1/workflows…` and `/automation/v1/authorization-settings` (SPEC §9); the rules
//! are in [`crate::service::workflows`].

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::Attributes;
use warden_engine::workflow::Task;

use crate::api::{Body, Path, Query, Written};
use crate::error::{ApiError, ApiResult};
use crate::service::Authed;
use crate::service::workflows::{self, admin, check_action, dto, visible};
pub use crate::service::workflows::{AdminQuery, ConsentInput, WorkflowInput, WorkflowUpdate};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<AdminQuery>,
) -> ApiResult<axum::Json<Value>> {
    let admin_mode = admin(&state, &authed, None, query.admin_access)?;
    let snapshot = state.snapshot();
    let model = state.model.lock().await;
    let mut items: Vec<Value> = model
        .workflows
        .values()
        .filter(|w| visible(&state, &authed, &snapshot, w, admin_mode).is_ok())
        .map(|w| dto(&model, w))
        .collect();
    items.sort_by(|a, b| a["title"].as_str().cmp(&b["title"].as_str()));
    Ok(axum::Json(
        json!({ "count": items.len(), "results": items }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(query): Query<AdminQuery>,
) -> ApiResult<axum::Json<Value>> {
    let snapshot = state.snapshot();
    let model = state.model.lock().await;
    let body = model
        .workflows
        .get(&id)
        .ok_or_else(|| ApiError::not_found("workflow", &id))?;
    let admin_mode = admin(&state, &authed, Some(body), query.admin_access)?;
    visible(&state, &authed, &snapshot, body, admin_mode)?;
    Ok(axum::Json(dto(&model, body)))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Body(input): Body<WorkflowInput>,
) -> ApiResult<Written<Value>> {
    let (out, revision) = workflows::create(&state, &authed, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

pub async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(query): Query<AdminQuery>,
    Body(input): Body<WorkflowUpdate>,
) -> ApiResult<Written<Value>> {
    let (out, revision) =
        workflows::update(&state, &authed, &id, query.admin_access, input).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: Some(out),
    })
}

pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(query): Query<AdminQuery>,
) -> ApiResult<Written<()>> {
    let revision = workflows::delete(&state, &authed, &id, query.admin_access).await?;
    Ok(Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    permission: String,
    #[serde(default)]
    attributes: Attributes,
}

/// Decides a task as the workflow's actor; every check is recorded in the audit log. The caller
/// must be able to run the workflow (or be in admin mode).
pub async fn authorize_task(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(query): Query<AdminQuery>,
    Body(input): Body<TaskInput>,
) -> ApiResult<axum::Json<Value>> {
    crate::limits::check_decision_attributes(
        input
            .attributes
            .iter()
            .map(|(name, value)| (name.as_str(), value.values())),
    )?;
    let snapshot = state.snapshot();
    let (workflow, consent, actor) = {
        let model = state.model.lock().await;
        let workflow = model
            .workflows
            .get(&id)
            .cloned()
            .ok_or_else(|| ApiError::not_found("workflow", &id))?;
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
    let admin_mode = admin(&state, &authed, Some(&workflow), query.admin_access)?;
    visible(&state, &authed, &snapshot, &workflow, admin_mode)?;
    if !admin_mode {
        check_action(&state, &authed, &workflow, "run")?;
    }
    let task = Task {
        actor: &actor,
        permission: &input.permission,
        environment: Some(&workflow.environment),
        attributes: &input.attributes,
        time: authed.context.now_ms.div_euclid(1000),
    };
    let decision = snapshot.authorize_task(&task, consent.as_deref());
    state.usage.record(
        &workflow.actor,
        &input.permission,
        decision.decision.is_allowed(),
        authed.context.now_ms,
    );
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
            &authed,
            "workflow.authorize-task",
            &format!("workflow/{id}"),
            record,
        )
        .await?;
    let mut out = serde_json::to_value(&decision).unwrap_or(Value::Null);
    crate::api::set(&mut out, "auditSeq", json!(seq));
    Ok(axum::Json(out))
}

// ---- consent ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentQuery {
    environment: String,
}

pub async fn get_consent(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ConsentQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    if !model.environments.contains_key(&query.environment) {
        return Err(ApiError::not_found("environment", &query.environment));
    }
    let permissions = model
        .consents
        .get(&(authed.caller.uid.clone(), query.environment.clone()))
        .map(|c| c.permissions.clone())
        .unwrap_or_default();
    Ok(axum::Json(
        json!({ "environment": query.environment, "permissions": permissions }),
    ))
}

/// Stores the caller's consent. Permissions must exist; consenting to one the caller does not
/// hold is allowed and never grants it. A scoped token changes it only within its scopes.
pub async fn put_consent(
    State(state): State<AppState>,
    authed: Authed,
    Body(input): Body<ConsentInput>,
) -> ApiResult<Written<Value>> {
    let (out, revision) = workflows::put_consent(&state, &authed, input).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: Some(out),
    })
}
