//! `/iam/v1/repo/account/{accountId}/boundaries`: policy boundaries (SPEC §4). Saving validates
//! the text; changing a boundary that bindings use must stay within what the caller holds (a
//! looser boundary widens those bindings); a boundary in use cannot be deleted (409, naming the
//! bindings).

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;

use crate::api::{Body, Path, Query, Written};
use crate::error::ApiResult;
use crate::service::Authed;
use crate::service::boundaries;
pub use crate::service::boundaries::{BoundaryDto, BoundaryInput, BoundaryPage};
use crate::state::AppState;

pub use warden_api::paging::NumberPageQuery as PageQuery;

#[utoipa::path(
    get,
    path = "/iam/v1/repo/account/{accountId}/boundaries",
    tag = "boundaries",
    operation_id = "boundaries_list",
    summary = "Boundaries, paged",
    description = "By name. Permission: `iam:boundaries:read`.",
    params(("accountId" = String, Path, description = "The account"), PageQuery),
    responses(
        (status = 200, description = "A page of boundaries", body = BoundaryPage),
        (status = 400, description = "An invalid page or size", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:boundaries:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<BoundaryPage>> {
    boundaries::list(&state, &authed, &account, page.page, page.size)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/account/{accountId}/boundaries/{boundaryUuid}",
    tag = "boundaries",
    operation_id = "boundaries_get",
    summary = "One boundary",
    description = "Permission: `iam:boundaries:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("boundaryUuid" = String, Path, description = "The boundary"),
    ),
    responses(
        (status = 200, description = "The boundary", body = BoundaryDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or boundary", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:boundaries:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
) -> ApiResult<axum::Json<BoundaryDto>> {
    boundaries::get(&state, &authed, &account, &uuid)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/iam/v1/repo/account/{accountId}/boundaries",
    tag = "boundaries",
    operation_id = "boundaries_create",
    summary = "Create a boundary (validated)",
    description = "Permission: `iam:boundaries:write`.",
    params(("accountId" = String, Path, description = "The account")),
    request_body = BoundaryInput,
    responses(
        (status = 201, description = "The boundary created", body = BoundaryDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input, or a query that does not validate", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "A name already in use", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:boundaries:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Body(input): Body<BoundaryInput>,
) -> ApiResult<Written<BoundaryDto>> {
    save(state, authed, account, None, input).await
}

#[utoipa::path(
    put,
    path = "/iam/v1/repo/account/{accountId}/boundaries/{boundaryUuid}",
    tag = "boundaries",
    operation_id = "boundaries_upsert",
    summary = "Create (201) or update (204) a boundary",
    description = "Changing a boundary that bindings use must stay within what the caller holds. \
        Permission: `iam:boundaries:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("boundaryUuid" = String, Path, description = "The boundary"),
    ),
    request_body = BoundaryInput,
    responses(
        (status = 201, description = "The boundary created", body = BoundaryDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 204, description = "The boundary updated", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input, or a query that does not validate", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "A name already in use", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:boundaries:write"))),
)]
pub async fn upsert(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
    Body(input): Body<BoundaryInput>,
) -> ApiResult<Written<BoundaryDto>> {
    save(state, authed, account, Some(uuid), input).await
}

async fn save(
    state: AppState,
    authed: Authed,
    account: String,
    uuid: Option<String>,
    input: BoundaryInput,
) -> ApiResult<Written<BoundaryDto>> {
    let given = uuid.is_some();
    let saved = boundaries::save(&state, &authed, &account, uuid, input).await?;
    let status = if saved.created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    let body = (saved.created || !given).then_some(saved.boundary);
    Ok(Written {
        status,
        revision: saved.revision,
        body,
    })
}

#[utoipa::path(
    delete,
    path = "/iam/v1/repo/account/{accountId}/boundaries/{boundaryUuid}",
    tag = "boundaries",
    operation_id = "boundaries_delete",
    summary = "Delete a boundary; 409 while bindings use it",
    description = "Permission: `iam:boundaries:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("boundaryUuid" = String, Path, description = "The boundary"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or boundary", body = ErrorBody),
        (status = 409, description = "Bindings use the boundary", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:boundaries:write"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let revision = boundaries::delete(&state, &authed, &account, &uuid).await?;
    Ok(Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    })
}
