//! `/iam/v1/accounts/{accountId}/users…`: users and the memberships of every principal (service
//! users too, by their email). Emails are normalised (trimmed, lower-cased) and unique; joining a
//! group must stay within what the caller holds (no escalation). Service users themselves are in
//! [`crate::api::service_users`].

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::PrincipalKind;

use crate::api::groups::{account, iso};
use crate::api::{Body, Path, Query, Written};
use crate::error::{ApiError, ApiResult};
use crate::model::Model;
use crate::records::{GroupBody, PrincipalBody};
use crate::service::Authed;
use crate::service::guard::attributes;
use crate::service::users::{self, Change};
pub use crate::service::users::{UserInput, check_email, find, user_summary};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(rename = "service-users", default)]
    service_users: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:users:read", &level, &attributes(&[]))?;
    let wanted = |p: &&PrincipalBody| match query.service_users {
        Some(true) => p.kind == PrincipalKind::ServiceUser,
        Some(false) => p.kind == PrincipalKind::User,
        None => true,
    };
    let mut items: Vec<Value> = model
        .principals
        .values()
        .filter(wanted)
        .map(user_summary)
        .collect();
    items.sort_by(|a, b| a["email"].as_str().cmp(&b["email"].as_str()));
    Ok(axum::Json(json!({ "count": items.len(), "items": items })))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<UserInput>,
) -> ApiResult<Written<Value>> {
    let (out, revision) = users::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:users:read", &level, &attributes(&[]))?;
    let body = find(&model, &key)?;
    let mut out = user_summary(body);
    let groups: Vec<Value> = model
        .directory
        .principal(&body.uid)
        .map(|p| {
            p.groups
                .iter()
                .filter_map(|g| model.groups.get(g.as_ref()))
                .map(|g| membership_dto(&model, g))
                .collect()
        })
        .unwrap_or_default();
    crate::api::set(&mut out, "groups", json!(groups));
    Ok(axum::Json(out))
}

fn membership_dto(model: &Model, group: &GroupBody) -> Value {
    json!({
        "groupName": group.name,
        "uuid": group.uuid,
        "owner": group.owner,
        "accountUUID": model.account,
        "accountName": model.account,
        "description": group.description,
        "createdAt": iso(group.created_at),
        "updatedAt": iso(group.updated_at),
    })
}

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
) -> ApiResult<Written<()>> {
    let status = match change {
        Change::Add(_) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    let revision = users::change_memberships(&state, &authed, &acc, &key, change).await?;
    Ok(Written {
        status,
        revision,
        body: None,
    })
}

pub async fn add_groups(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Body(groups): Body<Vec<String>>,
) -> ApiResult<Written<()>> {
    change_memberships(state, authed, acc, key, Change::Add(groups)).await
}

pub async fn replace_groups(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Body(groups): Body<Vec<String>>,
) -> ApiResult<Written<()>> {
    change_memberships(state, authed, acc, key, Change::Replace(groups)).await
}

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
    change_memberships(state, authed, acc, key, Change::Remove(groups)).await
}
