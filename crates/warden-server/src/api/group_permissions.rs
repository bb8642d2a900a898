//! `GET` and `PUT /iam/v1/accounts/{accountId}/groups/{groupUuid}/permissions`: Dynatrace's
//! group permissions, kept as bindings of default policies (`crate::service::group_permissions`).

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::group_permissions::{GroupPermission, GroupPermissions};

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::{Authed, group_permissions};
use crate::state::AppState;

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
