//! `/iam/v1/accounts/{accountId}/service-users…`: service users (SPEC §7), their lifecycle and
//! the review report ([`crate::service::service_users`] has the rules), and least-privilege
//! suggestions ([`crate::service::suggestions`]). Path keys accept the
//! uid, the email or the handle.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use warden_api::ErrorBody;
use warden_api::paging::KeyPageQuery;

use crate::api::{Body, Path, Query, Written, with_warnings};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::service::service_users::{
    self, DeactivateInput, ReactivateInput, ReviewInput, ReviewQuery, ReviewReport, ServiceUserDto,
    ServiceUserInput, ServiceUserPage, ServiceUserUpdate,
};
use crate::service::suggestions::{self, SuggestQuery, SuggestedPolicy};
use crate::service::{Authed, review};
use crate::state::AppState;
use warden_api::service_users::{HistoryPage, HistoryQuery};

fn written(status: StatusCode, (out, revision): (ServiceUserDto, i64)) -> Written<ServiceUserDto> {
    Written {
        status,
        revision,
        body: Some(out),
    }
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/service-users",
    tag = "service users",
    operation_id = "service_users_list",
    summary = "Service users, by handle, paged by key",
    description = "Permission: `iam:service-users:read`.",
    params(("accountId" = String, Path, description = "The account"), KeyPageQuery),
    responses(
        (status = 200, description = "A page of service users", body = ServiceUserPage),
        (status = 400, description = "An invalid page size or key", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Query(query): Query<KeyPageQuery>,
) -> ApiResult<axum::Json<ServiceUserPage>> {
    service_users::list(
        &state,
        &authed,
        &acc,
        query.page_size,
        query.next_page_key.as_deref(),
        query.page,
    )
    .await
    .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/service-users/review",
    tag = "service users",
    operation_id = "service_users_review",
    summary = "Service users that need attention, and workflows run by a person",
    description = "Service users unused, unreviewed, without an owner or a purpose, whose owner is deactivated, with unused permissions or memberships, or with credentials due for rotation; and the workflows the caller may see that run as a person or as someone deactivated. Permission: `iam:service-users:read`.",
    params(("accountId" = String, Path, description = "The account"), ReviewQuery),
    responses(
        (status = 200, description = "The report", body = ReviewReport),
        (status = 400, description = "A window outside 1–36500 days", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:read"))),
)]
pub async fn report(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Query(query): Query<ReviewQuery>,
) -> ApiResult<axum::Json<ReviewReport>> {
    review::report(&state, &authed, &acc, &query)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/service-users",
    tag = "service users",
    operation_id = "service_users_create",
    summary = "Create a service user with its own group",
    description = "Permission: `iam:service-users:write`.",
    params(("accountId" = String, Path, description = "The account")),
    request_body = ServiceUserInput,
    responses(
        (status = 201, description = "The service user created", body = ServiceUserDto, headers(("warden-revision" = i64, description = "The store revision of the change"), ("warden-warnings" = String, description = "A JSON array of warnings about the name, when it is generic"))),
        (status = 400, description = "Invalid input, or the limit reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<ServiceUserInput>,
) -> ApiResult<Response> {
    let warnings = service_users::name_warnings(&state, Some(&input.name));
    let created = service_users::create(&state, &authed, &acc, input).await?;
    Ok(with_warnings(
        written(StatusCode::CREATED, created).into_response(),
        &warnings,
    ))
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}",
    tag = "service users",
    operation_id = "service_users_get",
    summary = "One service user",
    description = "Permission: `iam:service-users:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
    ),
    responses(
        (status = 200, description = "The service user", body = ServiceUserDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
) -> ApiResult<axum::Json<ServiceUserDto>> {
    service_users::get(&state, &authed, &acc, &key)
        .await
        .map(axum::Json)
}

/// Fields left out keep their value; `owner: null` removes the owner. Immutable fields may be
/// sent back unchanged (a GET body round-trips).
#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}",
    tag = "service users",
    operation_id = "service_users_update",
    summary = "Update name, description, owner or purpose; a changed immutable field is a 400 saying why",
    description = "Permission: `iam:service-users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
    ),
    request_body = ServiceUserUpdate,
    responses(
        (status = 200, description = "The service user changed", body = ServiceUserDto, headers(("warden-revision" = i64, description = "The store revision of the change"), ("warden-warnings" = String, description = "A JSON array of warnings about the name, when it is generic"))),
        (status = 400, description = "Invalid input, or an immutable field changed", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:write"))),
)]
pub async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Body(input): Body<ServiceUserUpdate>,
) -> ApiResult<Response> {
    let warnings = service_users::name_warnings(&state, input.name.as_deref());
    let updated = service_users::update(&state, &authed, &acc, &key, input).await?;
    Ok(with_warnings(
        written(StatusCode::OK, updated).into_response(),
        &warnings,
    ))
}

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}/deactivate",
    tag = "service users",
    operation_id = "service_users_deactivate",
    summary = "Deactivate with a reason: every decision for it is DENY and its tokens stop at once",
    description = "Permission: `iam:service-users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
    ),
    request_body = DeactivateInput,
    responses(
        (status = 200, description = "The service user, deactivated", body = ServiceUserDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
        (status = 409, description = "Already deactivated", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:write"))),
)]
pub async fn deactivate(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Body(input): Body<DeactivateInput>,
) -> ApiResult<Written<ServiceUserDto>> {
    let changed = service_users::deactivate(&state, &authed, &acc, &key, input).await?;
    Ok(written(StatusCode::OK, changed))
}

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}/reactivate",
    tag = "service users",
    operation_id = "service_users_reactivate",
    summary = "Reactivate a deactivated service user, optionally with `{reason}`",
    description = "It gets back everything it holds, so the caller must hold that too. Permission: `iam:service-users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
    ),
    request_body(content = Option<ReactivateInput>, description = "Optional"),
    responses(
        (status = 200, description = "The service user, active", body = ServiceUserDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
        (status = 409, description = "Not deactivated", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:write"))),
)]
pub async fn reactivate(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Written<ServiceUserDto>> {
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        ReactivateInput::default()
    } else {
        JsonBody::<ReactivateInput>::canonical(&body)?
    };
    let changed = service_users::reactivate(&state, &authed, &acc, &key, input).await?;
    Ok(written(StatusCode::OK, changed))
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}/history",
    tag = "service users",
    operation_id = "service_users_history",
    summary = "Its history from the audit log: who changed what (old → new), when, and why",
    description = "Its own changes, its memberships, and bindings added to or removed from a group it was in. Paged like the audit log. Permissions: `iam:service-users:read` and `iam:audit:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
        HistoryQuery,
    ),
    responses(
        (status = 200, description = "A page of its records, oldest first", body = HistoryPage),
        (status = 400, description = "Invalid query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:read"))),
)]
pub async fn history(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Query(query): Query<HistoryQuery>,
) -> ApiResult<axum::Json<HistoryPage>> {
    crate::service::history::history(&state, &authed, &acc, &key, query)
        .await
        .map(axum::Json)
}

/// The body is optional: nothing (or only white space) is a review without a note.
#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}/review",
    tag = "service users",
    operation_id = "service_users_mark_reviewed",
    summary = "Record a review (`lastReviewedAt`), optionally with `{note}`",
    description = "Permission: `iam:service-users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
    ),
    request_body(content = Option<ReviewInput>, description = "Optional"),
    responses(
        (status = 200, description = "The service user, reviewed now", body = ServiceUserDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:write"))),
)]
pub async fn review(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Written<ServiceUserDto>> {
    let input = if body.iter().all(u8::is_ascii_whitespace) {
        ReviewInput::default()
    } else {
        JsonBody::<ReviewInput>::canonical(&body)?
    };
    let changed = service_users::review(&state, &authed, &acc, &key, input).await?;
    Ok(written(StatusCode::OK, changed))
}

#[utoipa::path(
    delete,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}",
    tag = "service users",
    operation_id = "service_users_delete",
    summary = "Delete a service user; 409 listing its OAuth clients, platform tokens and workflows while any exist",
    description = "Its own group and that group's bindings go with it. Permission: `iam:service-users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
    ),
    responses(
        (status = 200, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
        (status = 409, description = "Still used by OAuth clients, platform tokens or workflows (`details.referrers`)", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:write"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let revision = service_users::delete(&state, &authed, &acc, &key).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: None,
    })
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/service-users/{uid}/suggested-policy",
    tag = "service users",
    operation_id = "service_users_suggested_policy",
    summary = "The smallest policy that allows every request the service user made, its diff and impact",
    description = "Permission: `iam:service-users:read`, and `iam:effective-permissions:read` for the service user (`iam-param:entity-type` `user`, `iam-param:entity-id` its uid). The impact lists other principals only when the caller may read their effective permissions. Nothing is changed.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("uid" = String, Path, description = "The service user's uid, email or handle"),
        SuggestQuery
    ),
    responses(
        (status = 200, description = "The suggestion", body = SuggestedPolicy),
        (status = 400, description = "A window outside 1–36500 days", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or service user", body = ErrorBody),
        (status = 409, description = "The observed use needs more statements than a policy holds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:service-users:read"))),
)]
pub async fn suggested_policy(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Query(query): Query<SuggestQuery>,
) -> ApiResult<axum::Json<SuggestedPolicy>> {
    suggestions::suggested_policy(&state, &authed, &acc, &key, &query)
        .await
        .map(axum::Json)
}
