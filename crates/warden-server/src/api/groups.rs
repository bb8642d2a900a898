//! `/iam/v1/accounts/{accountId}/groups`: groups and their members. Names are unique
//! case-insensitively; a service user's own group cannot be deleted apart from it.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::{Body, Path, Written};
use crate::error::{ApiError, ApiResult};
use crate::records::fold;
use crate::service::Authed;
use crate::service::groups;
pub use crate::service::groups::{GroupDto, GroupInput, account, dto, iso};
use crate::service::guard::attributes;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:groups:read", &level, &attributes(&[]))?;
    let mut items: Vec<GroupDto> = model.groups.values().map(dto).collect();
    items.sort_by_key(|g| fold(&g.name));
    Ok(axum::Json(json!({ "count": items.len(), "items": items })))
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, uuid)): Path<(String, String)>,
) -> ApiResult<axum::Json<GroupDto>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:groups:read", &level, &attributes(&[]))?;
    let body = model
        .groups
        .get(&uuid)
        .ok_or_else(|| ApiError::not_found("group", &uuid))?;
    Ok(axum::Json(dto(body)))
}

/// `POST …/groups` takes an array and creates all or none.
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

pub async fn members(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, uuid)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:groups:read", &level, &attributes(&[]))?;
    if !model.groups.contains_key(&uuid) {
        return Err(ApiError::not_found("group", &uuid));
    }
    let mut items: Vec<Value> = model
        .directory
        .principals()
        .filter(|p| p.groups.iter().any(|g| **g == *uuid))
        .filter_map(|p| model.principals.get(p.uid.as_ref()))
        .map(crate::api::users::user_summary)
        .collect();
    items.sort_by(|a, b| a["email"].as_str().cmp(&b["email"].as_str()));
    Ok(axum::Json(json!({ "count": items.len(), "items": items })))
}
