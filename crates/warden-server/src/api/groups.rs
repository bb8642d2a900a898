//! `/iam/v1/accounts/{accountId}/groups`: groups and their members. Names are unique
//! case-insensitively; a service user's own group cannot be deleted apart from it.

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;
use warden_api::List;
use warden_api::groups::{GroupDto, GroupInput};
use warden_api::users::UserSummary;

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::Authed;
use crate::service::groups;
pub use crate::service::groups::{account, dto, iso};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/groups",
    tag = "groups",
    operation_id = "groups_list",
    summary = "Groups",
    description = "Every group of the account, by name. Permission: `iam:groups:read`.",
    params(("accountId" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The groups", body = List<GroupDto>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:groups:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<List<GroupDto>>> {
    groups::list(&state, &authed, &acc).await.map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/groups/{groupUuid}",
    tag = "groups",
    operation_id = "groups_get",
    summary = "One group",
    description = "Permission: `iam:groups:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    responses(
        (status = 200, description = "The group", body = GroupDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or group", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:groups:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, uuid)): Path<(String, String)>,
) -> ApiResult<axum::Json<GroupDto>> {
    groups::get(&state, &authed, &acc, &uuid)
        .await
        .map(axum::Json)
}

/// `POST …/groups` takes an array and creates all or none.
#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/groups",
    tag = "groups",
    operation_id = "groups_create",
    summary = "Create groups (an array; all or none)",
    description = "Permission: `iam:groups:write`.",
    params(("accountId" = String, Path, description = "The account")),
    request_body = Vec<GroupInput>,
    responses(
        (status = 201, description = "The groups created", body = Vec<GroupDto>,
            headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "A name already in use", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:groups:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(inputs): Body<Vec<GroupInput>>,
) -> ApiResult<Written<Vec<GroupDto>>> {
    let (out, revision) = groups::create(&state, &authed, &acc, inputs).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/groups/{groupUuid}",
    tag = "groups",
    operation_id = "groups_update",
    summary = "Update a group",
    description = "Permission: `iam:groups:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    request_body = GroupInput,
    responses(
        (status = 200, description = "The group changed", body = GroupDto,
            headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or group", body = ErrorBody),
        (status = 409, description = "A name already in use", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:groups:write"))),
)]
pub async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, uuid)): Path<(String, String)>,
    Body(input): Body<GroupInput>,
) -> ApiResult<Written<GroupDto>> {
    let (out, revision) = groups::update(&state, &authed, &acc, &uuid, input).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: Some(out),
    })
}

#[utoipa::path(
    delete,
    path = "/iam/v1/accounts/{accountId}/groups/{groupUuid}",
    tag = "groups",
    operation_id = "groups_delete",
    summary = "Delete a group with its bindings",
    description = "Its members leave it. A service user's own group goes with the service user \
        only (409). Permission: `iam:groups:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    responses(
        (status = 200, description = "Deleted",
            headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or group", body = ErrorBody),
        (status = 409, description = "A service user's own group, or the last administrators' group", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:groups:write"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, uuid)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let revision = groups::delete(&state, &authed, &acc, &uuid).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: None,
    })
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/groups/{groupUuid}/users",
    tag = "groups",
    operation_id = "groups_members",
    summary = "Members of a group",
    description = "By email. Permission: `iam:groups:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    responses(
        (status = 200, description = "The members", body = List<UserSummary>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or group", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:groups:read"))),
)]
pub async fn members(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, uuid)): Path<(String, String)>,
) -> ApiResult<axum::Json<List<UserSummary>>> {
    groups::members(&state, &authed, &acc, &uuid)
        .await
        .map(axum::Json)
}
