//! `/automation/v1/workflows…` and `/automation/v1/authorization-settings` (SPEC §9); the rules
//! are in [`crate::service::workflows`].

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;

use crate::api::{Body, Path, Query, Written};
use crate::error::ApiResult;
use crate::service::Authed;
use crate::service::workflows::{
    self, AdminQuery, Consent, ConsentInput, ConsentQuery, TaskDecision, TaskInput, WorkflowDto,
    WorkflowInput, WorkflowList, WorkflowUpdate,
};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/automation/v1/workflows",
    tag = "workflows",
    operation_id = "workflows_list",
    summary = "Workflows visible to the caller (`adminAccess=true` for all)",
    description = "By title. Permission: `automation:workflows:read` (`automation:workflows:admin` with `adminAccess=true`).",
    params(AdminQuery),
    responses(
        (status = 200, description = "The workflows", body = WorkflowList),
        (status = 400, description = "An invalid query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "`adminAccess=true` without `automation:workflows:admin`", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("automation:workflows:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<AdminQuery>,
) -> ApiResult<axum::Json<WorkflowList>> {
    workflows::list(&state, &authed, query.admin_access)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/automation/v1/workflows/{workflowId}",
    tag = "workflows",
    operation_id = "workflows_get",
    summary = "One workflow, if visible",
    description = "A workflow the caller may not see is a 404. Permission: `automation:workflows:read`.",
    params(("workflowId" = String, Path, description = "The workflow"), AdminQuery),
    responses(
        (status = 200, description = "The workflow", body = WorkflowDto),
        (status = 400, description = "An invalid query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "`adminAccess=true` without `automation:workflows:admin`", body = ErrorBody),
        (status = 404, description = "No such workflow visible to the caller", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("automation:workflows:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(query): Query<AdminQuery>,
) -> ApiResult<axum::Json<WorkflowDto>> {
    workflows::get(&state, &authed, &id, query.admin_access)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/automation/v1/workflows",
    tag = "workflows",
    operation_id = "workflows_create",
    summary = "Create a workflow record (owner, visibility, actor)",
    description = "Permission: `automation:workflows:write` (+ `iam:service-users:use` for a service-user actor).",
    request_body = WorkflowInput,
    responses(
        (status = 201, description = "The workflow created", body = WorkflowDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such environment, owner or actor", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("automation:workflows:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Body(input): Body<WorkflowInput>,
) -> ApiResult<Written<WorkflowDto>> {
    let (out, revision) = workflows::create(&state, &authed, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

#[utoipa::path(
    put,
    path = "/automation/v1/workflows/{workflowId}",
    tag = "workflows",
    operation_id = "workflows_update",
    summary = "Update; only the owner changes visibility or ownership; the updater becomes the actor",
    description = "Permission: `automation:workflows:write`.",
    params(("workflowId" = String, Path, description = "The workflow"), AdminQuery),
    request_body = WorkflowUpdate,
    responses(
        (status = 200, description = "The workflow changed", body = WorkflowDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or not the owner", body = ErrorBody),
        (status = 404, description = "No such workflow visible to the caller, owner or actor", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("automation:workflows:write"))),
)]
pub async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(query): Query<AdminQuery>,
    Body(input): Body<WorkflowUpdate>,
) -> ApiResult<Written<WorkflowDto>> {
    let (out, revision) =
        workflows::update(&state, &authed, &id, query.admin_access, input).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: Some(out),
    })
}

#[utoipa::path(
    delete,
    path = "/automation/v1/workflows/{workflowId}",
    tag = "workflows",
    operation_id = "workflows_delete",
    summary = "Delete a workflow record",
    description = "Permission: `automation:workflows:write`.",
    params(("workflowId" = String, Path, description = "The workflow"), AdminQuery),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An invalid query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such workflow visible to the caller", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("automation:workflows:write"))),
)]
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

#[utoipa::path(
    post,
    path = "/automation/v1/workflows/{workflowId}/authorize-task",
    tag = "workflows",
    operation_id = "workflows_authorize_task",
    summary = "Decide a task as the workflow's actor (permissions ∩ consent for a human actor)",
    description = "Recorded in the audit log. Permission: `automation:workflows:run`.",
    params(("workflowId" = String, Path, description = "The workflow"), AdminQuery),
    request_body = TaskInput,
    responses(
        (status = 200, description = "The decision", body = TaskDecision),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted to run it", body = ErrorBody),
        (status = 404, description = "No such workflow visible to the caller", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("automation:workflows:run"))),
)]
pub async fn authorize_task(
    State(state): State<AppState>,
    authed: Authed,
    Path(id): Path<String>,
    Query(query): Query<AdminQuery>,
    Body(input): Body<TaskInput>,
) -> ApiResult<axum::Json<TaskDecision>> {
    workflows::authorize_task(&state, &authed, &id, query.admin_access, input)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/automation/v1/authorization-settings",
    tag = "workflows",
    operation_id = "consent_get",
    summary = "The caller's consent for an environment",
    description = "Permission: any valid token.",
    params(ConsentQuery),
    responses(
        (status = 200, description = "The consent (none until set)", body = Consent),
        (status = 400, description = "An invalid query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such environment", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("any valid token"))),
)]
pub async fn get_consent(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ConsentQuery>,
) -> ApiResult<axum::Json<Consent>> {
    workflows::consent(&state, &authed, &query.environment)
        .await
        .map(axum::Json)
}

/// Permissions must exist; consenting to one the caller does not hold is allowed and never
/// grants it. A scoped token changes it only within its scopes.
#[utoipa::path(
    put,
    path = "/automation/v1/authorization-settings",
    tag = "workflows",
    operation_id = "consent_put",
    summary = "Set the caller's consent for an environment",
    description = "Permission: any valid token (a scoped token only within its scopes).",
    request_body = ConsentInput,
    responses(
        (status = 200, description = "The consent stored", body = Consent, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input, or an unknown permission", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A permission outside the token's scopes", body = ErrorBody),
        (status = 404, description = "No such environment", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("any valid token"))),
)]
pub async fn put_consent(
    State(state): State<AppState>,
    authed: Authed,
    Body(input): Body<ConsentInput>,
) -> ApiResult<Written<Consent>> {
    let (out, revision) = workflows::put_consent(&state, &authed, input).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: Some(out),
    })
}
