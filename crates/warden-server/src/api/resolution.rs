//! `GET /iam/v1/resolution/{levelType}/{levelId}/effectivepermissions`: what a user or group may
//! do at a level, per permission, with the policies and bindings it comes from
//! ([`crate::service::effective`]).

use axum::extract::State;
use warden_api::ErrorBody;
use warden_api::effective::{EffectivePermissionsPage, EffectiveQuery};

use crate::api::{Path, Query};
use crate::error::ApiResult;
use crate::service::{Authed, effective};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/resolution/{levelType}/{levelId}/effectivepermissions",
    tag = "resolution",
    operation_id = "effective_permissions",
    summary = "Effective permissions of a user or group, with provenance",
    description = "At account or environment level; conditions as `{name, operator, values}`. Permission: `iam:effective-permissions:read` for the entity.",
    params(
        ("levelType" = String, Path, description = "`account` or `environment`"),
        ("levelId" = String, Path, description = "The account's id or an environment's id"),
        EffectiveQuery,
    ),
    responses(
        (status = 200, description = "A page of permissions", body = EffectivePermissionsPage),
        (status = 400, description = "The global level, an `entityType` other than `user` or `group`, a bad page, or a missing parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such level, user or group", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read"))),
)]
pub async fn effective_permissions(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
    Query(query): Query<EffectiveQuery>,
) -> ApiResult<axum::Json<EffectivePermissionsPage>> {
    effective::effective_permissions(&state, &authed, &lt, &lid, query)
        .await
        .map(axum::Json)
}
