//! `GET` and `PUT /iam/v1/accounts/{accountId}/groups/{groupUuid}/permissions`: Dynatrace's
//! group permissions, kept as bindings of default policies (`crate::service::group_permissions`).

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;
use warden_api::group_permissions::{GroupPermission, GroupPermissions};

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::{Authed, group_permissions};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/groups/{groupUuid}/permissions",
    tag = "groups",
    operation_id = "group_permissions_get",
    summary = "Dynatrace's group permissions: the group's bindings of the default policies they map to",
    description = "Permission: `iam:groups:read` and `iam:bindings:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    responses(
        (status = 200, description = "The group and its permissions", body = GroupPermissions),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or group", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:groups:read and iam:bindings:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, group)): Path<(String, String)>,
) -> ApiResult<axum::Json<GroupPermissions>> {
    group_permissions::read(&state, &authed, &acc, &group)
        .await
        .map(axum::Json)
}

/// Replaces the group's permissions; 200 without a body, as Dynatrace answers.
#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/groups/{groupUuid}/permissions",
    tag = "groups",
    operation_id = "group_permissions_set",
    summary = "Set the group's Dynatrace permissions (bindings of the mapped default policies)",
    description = "Makes the group's permissions exactly these; its other bindings are left alone. Permission: `iam:bindings:write` (and no escalation).",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    request_body = Vec<GroupPermission>,
    responses(
        (status = 200, description = "Set; no body, as Dynatrace answers", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An unknown permission name or scope type, or a scope that does not fit it", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account, group or environment", body = ErrorBody),
        (status = 409, description = "The change conflicts with the current state", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn set(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, group)): Path<(String, String)>,
    Body(permissions): Body<Vec<GroupPermission>>,
) -> ApiResult<Written<()>> {
    let revision = group_permissions::set(&state, &authed, &acc, &group, permissions).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: None,
    })
}
