//! `/iam/v1/catalogue`: the permission catalogue (read), and the registration of a platform's own
//! services ([`crate::service::catalogue`] has the rules).

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::Authed;
use crate::service::catalogue::{
    self, CatalogueDto, PermissionDetail, Registered, ServiceDefinition,
};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/catalogue",
    tag = "catalogue",
    operation_id = "catalogue_list",
    summary = "Services, permissions, conditions and operators",
    description = "Permission: `iam:catalogue:read`.",
    responses(
        (status = 200, description = "The catalogue", body = CatalogueDto),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:catalogue:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
) -> ApiResult<axum::Json<CatalogueDto>> {
    catalogue::list(&state, &authed).map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/catalogue/permissions/{permission}",
    tag = "catalogue",
    operation_id = "catalogue_permission",
    summary = "One permission",
    description = "With the permissions that imply it. Permission: `iam:catalogue:read`.",
    params(("permission" = String, Path, description = "The permission, e.g. `storage:logs:read`")),
    responses(
        (status = 200, description = "The permission", body = PermissionDetail),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such permission (`details.didYouMean` names the closest)", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:catalogue:read"))),
)]
pub async fn permission(
    State(state): State<AppState>,
    authed: Authed,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<PermissionDetail>> {
    catalogue::permission(&state, &authed, &name).map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/iam/v1/catalogue/services",
    tag = "catalogue",
    operation_id = "catalogue_register",
    summary = "Register a custom service",
    description = "Validated as a whole; only new services. Permission: `iam:catalogue:write`.",
    request_body = ServiceDefinition,
    responses(
        (status = 201, description = "The service registered", body = Registered, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An invalid definition", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 409, description = "The service is already registered", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:catalogue:write"))),
)]
pub async fn register(
    State(state): State<AppState>,
    authed: Authed,
    Body(definition): Body<ServiceDefinition>,
) -> ApiResult<Written<Registered>> {
    let (out, revision) = catalogue::register(&state, &authed, definition).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}
