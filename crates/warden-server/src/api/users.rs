//! `/iam/v1/accounts/{accountId}/users…`: users and the memberships of every principal (service
//! users too, by their email). Emails are normalised (trimmed, lower-cased) and unique; joining a
//! group must stay within what the caller holds (no escalation). Service users themselves are in
//! [`crate::api::service_users`].

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use warden_api::users::{JustificationQuery, UserDetail, UserSummary};
use warden_api::{ErrorBody, List};

use crate::api::{Body, Path, Query, Written};
use crate::error::{ApiError, ApiResult};
use crate::service::Authed;
use crate::service::users::{self, Change};
pub use crate::service::users::{UserInput, check_email, find, user_summary};
use crate::state::AppState;

/// `GET …/users?service-users=true|false`: only one kind of principal.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `true` for service users only, `false` for people only; both when absent.
    #[serde(rename = "service-users", default)]
    #[param(rename = "service-users")]
    service_users: Option<bool>,
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/users",
    tag = "users",
    operation_id = "users_list",
    summary = "Users (`service-users=true|false`)",
    description = "By email. Permission: `iam:users:read`.",
    params(("accountId" = String, Path, description = "The account"), ListQuery),
    responses(
        (status = 200, description = "The users", body = List<UserSummary>),
        (status = 400, description = "An invalid query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<List<UserSummary>>> {
    users::list(&state, &authed, &acc, query.service_users)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/users",
    tag = "users",
    operation_id = "users_create",
    summary = "Create a user",
    description = "A person, in no group. Permission: `iam:users:write`.",
    params(("accountId" = String, Path, description = "The account")),
    request_body = UserInput,
    responses(
        (status = 201, description = "The user created", body = UserSummary,
            headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "The email already in use", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<UserInput>,
) -> ApiResult<Written<UserSummary>> {
    let (out, revision) = users::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/users/{email}",
    tag = "users",
    operation_id = "users_get",
    summary = "One user with its groups",
    description = "By email, uid or handle. Permission: `iam:users:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("email" = String, Path, description = "The user's email, uid or handle"),
    ),
    responses(
        (status = 200, description = "The user", body = UserDetail),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or user", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
) -> ApiResult<axum::Json<UserDetail>> {
    users::get(&state, &authed, &acc, &key)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    delete,
    path = "/iam/v1/accounts/{accountId}/users/{email}",
    tag = "users",
    operation_id = "users_delete",
    summary = "Remove a user",
    description = "Its tokens and memberships go with it. Permission: `iam:users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("email" = String, Path, description = "The user's email, uid or handle"),
    ),
    responses(
        (status = 200, description = "Removed", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account, user or group", body = ErrorBody),
        (status = 409, description = "The change conflicts with the current state", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:write"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let revision = users::delete(&state, &authed, &acc, &key).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: None,
    })
}

async fn change_memberships(
    state: AppState,
    authed: Authed,
    acc: String,
    key: String,
    change: Change,
    justification: Option<String>,
) -> ApiResult<Written<()>> {
    let status = match change {
        Change::Add(_) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    let revision =
        users::change_memberships(&state, &authed, &acc, &key, change, justification).await?;
    Ok(Written {
        status,
        revision,
        body: None,
    })
}

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/users/{email}",
    tag = "users",
    operation_id = "users_add_groups",
    summary = "Add the user to groups (no escalation)",
    description = "The body lists group uuids. A service user joining a group bound to an elevated policy (an `iam:` write permission, or a global Admin policy) needs `justification`. Permission: `iam:users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("email" = String, Path, description = "The user's email, uid or handle"),
        JustificationQuery,
    ),
    request_body = Vec<String>,
    responses(
        (status = 201, description = "Added", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account, user or group", body = ErrorBody),
        (status = 409, description = "The change conflicts with the current state", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:write"))),
)]
pub async fn add_groups(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Query(query): Query<JustificationQuery>,
    Body(groups): Body<Vec<String>>,
) -> ApiResult<Written<()>> {
    change_memberships(
        state,
        authed,
        acc,
        key,
        Change::Add(groups),
        query.justification,
    )
    .await
}

#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/users/{email}/groups",
    tag = "users",
    operation_id = "users_replace_groups",
    summary = "Replace the user's groups (no escalation)",
    description = "The body lists group uuids. A service user joining a group bound to an elevated policy (an `iam:` write permission, or a global Admin policy) needs `justification`. Permission: `iam:users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("email" = String, Path, description = "The user's email, uid or handle"),
        JustificationQuery,
    ),
    request_body = Vec<String>,
    responses(
        (status = 200, description = "Replaced", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account, user or group", body = ErrorBody),
        (status = 409, description = "The change conflicts with the current state", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:write"))),
)]
pub async fn replace_groups(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Query(query): Query<JustificationQuery>,
    Body(groups): Body<Vec<String>>,
) -> ApiResult<Written<()>> {
    change_memberships(
        state,
        authed,
        acc,
        key,
        Change::Replace(groups),
        query.justification,
    )
    .await
}

#[utoipa::path(
    delete,
    path = "/iam/v1/accounts/{accountId}/users/{email}/groups",
    tag = "users",
    operation_id = "users_remove_groups",
    summary = "Remove the user from groups (`group-uuid=…`)",
    description = "Permission: `iam:users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("email" = String, Path, description = "The user's email, uid or handle"),
        ("group-uuid" = Vec<String>, Query, description = "A group to leave; repeated for several"),
    ),
    responses(
        (status = 200, description = "Removed", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account, user or group", body = ErrorBody),
        (status = 409, description = "The change conflicts with the current state", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:write"))),
)]
pub async fn remove_groups(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Written<()>> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::invalid(super::rejection::query(&e.to_string())))?;
    let mut groups = Vec::new();
    for (name, value) in pairs {
        if name != "group-uuid" {
            return Err(ApiError::invalid(format!(
                "unknown query parameter `{name}`; use `group-uuid=…`"
            )));
        }
        groups.push(value);
    }
    change_memberships(state, authed, acc, key, Change::Remove(groups), None).await
}
