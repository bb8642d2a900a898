//! `/iam/v1/accounts/{accountId}/service-users…`: service users (SPEC §7) and their lifecycle
//! ([`crate::service::service_users`] has the rules). Path keys accept the uid, the email or the
//! handle.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use warden_engine::PrincipalKind;

use crate::api::groups::account;
use crate::api::{Body, Path, Query, Written};
use crate::error::{ApiError, ApiResult};
use crate::records::PrincipalBody;
use crate::service::Authed;
use crate::service::guard::attributes;
use crate::service::service_users::{self, service_user};
pub use crate::service::service_users::{
    CreateInput, DeactivateInput, OwnerInput, owner_dto, referrers, service_user_dto,
};
use crate::state::AppState;

fn written(status: StatusCode, (out, revision): (Value, i64)) -> Written<Value> {
    Written {
        status,
        revision,
        body: Some(out),
    }
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<CreateInput>,
) -> ApiResult<Written<Value>> {
    let created = service_users::create(&state, &authed, &acc, input).await?;
    Ok(written(StatusCode::CREATED, created))
}

pub use warden_api::paging::KeyPageQuery as ListQuery;

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:service-users:read", &level, &attributes(&[]))?;
    let size = query.page_size.unwrap_or(100);
    if !(1..=1000).contains(&size) {
        return Err(ApiError::invalid(format!(
            "`pageSize` is 1–1000, not {size}"
        )));
    }
    let start: usize = match (&query.next_page_key, query.page) {
        (Some(key), _) => key.parse().map_err(|_| {
            ApiError::invalid(format!(
                "`nextPageKey` `{key}` is not a key this server gave; send the one of the previous answer"
            ))
        })?,
        (None, Some(0)) => return Err(ApiError::invalid("`page` starts at 1")),
        (None, Some(page)) => (page - 1).saturating_mul(size),
        (None, None) => 0,
    };
    let mut all: Vec<&PrincipalBody> = model
        .principals
        .values()
        .filter(|p| p.kind == PrincipalKind::ServiceUser)
        .collect();
    all.sort_by(|a, b| a.handle.cmp(&b.handle));
    let results: Vec<Value> = all
        .iter()
        .skip(start)
        .take(size)
        .map(|p| service_user_dto(&model, p))
        .collect();
    let next = (start.saturating_add(size) < all.len()).then(|| (start + size).to_string());
    Ok(axum::Json(
        json!({ "totalCount": all.len(), "results": results, "nextPageKey": next }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:service-users:read", &level, &attributes(&[]))?;
    Ok(axum::Json(service_user_dto(
        &model,
        service_user(&model, &key)?,
    )))
}

/// `PUT …/{uid}`: name, description, owner, purpose. Fields left out keep their value; `owner:
/// null` removes the owner. Immutable fields may be sent back unchanged (a GET body round-trips).
pub async fn update(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Body(input): Body<Map<String, Value>>,
) -> ApiResult<Written<Value>> {
    let updated = service_users::update(&state, &authed, &acc, &key, input).await?;
    Ok(written(StatusCode::OK, updated))
}

/// `POST …/{uid}/deactivate {reason}`: every decision for it is DENY and its tokens stop at once.
pub async fn deactivate(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Body(input): Body<DeactivateInput>,
) -> ApiResult<Written<Value>> {
    let changed = service_users::deactivate(&state, &authed, &acc, &key, input).await?;
    Ok(written(StatusCode::OK, changed))
}

/// `POST …/{uid}/reactivate`: gives back everything it holds, so the caller must hold that too.
pub async fn reactivate(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
) -> ApiResult<Written<Value>> {
    let changed = service_users::reactivate(&state, &authed, &acc, &key).await?;
    Ok(written(StatusCode::OK, changed))
}

/// `POST …/{uid}/review`, optionally `{note}`: records that the service user was reviewed now.
pub async fn review(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Written<Value>> {
    let changed = service_users::review(&state, &authed, &acc, &key, &body).await?;
    Ok(written(StatusCode::OK, changed))
}

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
