//! `/iam/v1/accounts/{accountId}/environments` (the levels environment bindings apply at), the
//! same list in Dynatrace's shape (`/env/v2/accounts/{accountId}/environments`) and
//! `/iam/v1/repo/{levelType}/{levelId}/limits`; [`crate::service::environments`] has the rules.

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;
use warden_api::environments::{DynatraceEnvironmentList, Environment, EnvironmentList};
use warden_api::limits::Limits;

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::Authed;
use crate::service::environments;
pub use crate::service::environments::EnvironmentInput;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/environments",
    tag = "environments",
    operation_id = "environments_list",
    summary = "Environments of the account",
    description = "By id; `createdAt` in RFC 3339. Permission: `iam:environments:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
    ),
    responses(
        (status = 200, description = "The environments", body = EnvironmentList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:environments:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<EnvironmentList>> {
    environments::list(&state, &authed, &acc)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/env/v2/accounts/{accountId}/environments",
    tag = "environments",
    operation_id = "environments_list_dynatrace",
    summary = "The environments in Dynatrace's shape (`data: [{id, name, active, url}]`)",
    description = "Every environment is active; `url` is its level in this API. Permission: `iam:environments:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
    ),
    responses(
        (status = 200, description = "The environments", body = DynatraceEnvironmentList),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:environments:read"))),
)]
pub async fn list_dynatrace(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<DynatraceEnvironmentList>> {
    environments::list_dynatrace(&state, &authed, &acc)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/environments",
    tag = "environments",
    operation_id = "environments_create",
    summary = "Create an environment",
    description = "Account-level bindings apply in it from the start. Permission: `iam:environments:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
    ),
    request_body = EnvironmentInput,
    responses(
        (status = 201, description = "The environment", body = Environment, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "An environment with this id exists", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:environments:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<EnvironmentInput>,
) -> ApiResult<Written<Environment>> {
    let (out, revision) = environments::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/limits",
    tag = "limits",
    operation_id = "limits",
    summary = "Counts and limits",
    description = "Permission: `iam:limits:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "`global`, the account's id or an environment's id"),
    ),
    responses(
        (status = 200, description = "The counts and limits at the level", body = Limits),
        (status = 400, description = "An unknown level type", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such level", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:limits:read"))),
)]
pub async fn limits(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<axum::Json<Limits>> {
    environments::limits(&state, &authed, &lt, &lid)
        .await
        .map(axum::Json)
}
