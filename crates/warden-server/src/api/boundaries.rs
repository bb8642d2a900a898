//! `/iam/v1/repo/account/{accountId}/boundaries`: policy boundaries (SPEC §4). Saving validates
//! the text; changing a boundary that bindings use must stay within what the caller holds (a
//! looser boundary widens those bindings); a boundary in use cannot be deleted (409, naming the
//! bindings).

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::{Body, Path, Query, Written};
use crate::error::{ApiError, ApiResult};
use crate::limits::check_id;
use crate::records::{BoundaryBody, fold};
use crate::service::Authed;
use crate::service::boundaries::{self, account_level, dto};
pub use crate::service::boundaries::{BoundaryDto, BoundaryInput};
use crate::service::guard::attributes;
use crate::state::AppState;

pub use warden_api::paging::NumberPageQuery as PageQuery;

/// The largest page of boundaries; a larger `size` is taken as this, as Dynatrace clients
/// that ask for every boundary at once expect an answer rather than a refusal.
const MAX_PAGE_SIZE: usize = 1000;

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account_level(&model, &account)?;
    state.require(&authed, "iam:boundaries:read", &level, &attributes(&[]))?;
    let (page, size) = (page.page.unwrap_or(1), page.size.unwrap_or(100));
    if page == 0 || size == 0 {
        return Err(ApiError::invalid("`page` starts at 1 and `size` at 1"));
    }
    let size = size.min(MAX_PAGE_SIZE);
    let mut all: Vec<&BoundaryBody> = model.boundaries.values().collect();
    all.sort_by_key(|b| fold(&b.name));
    let content: Vec<BoundaryDto> = all
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|b| dto(&model, b))
        .collect();
    Ok(axum::Json(
        json!({ "pageSize": size, "pageNumber": page, "totalCount": all.len(), "content": content }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
) -> ApiResult<axum::Json<BoundaryDto>> {
    let model = state.model.lock().await;
    let level = account_level(&model, &account)?;
    state.require(&authed, "iam:boundaries:read", &level, &attributes(&[]))?;
    let body = model
        .boundaries
        .get(&uuid)
        .ok_or_else(|| ApiError::not_found("boundary", &uuid))?;
    Ok(axum::Json(dto(&model, body)))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Body(input): Body<BoundaryInput>,
) -> ApiResult<Written<BoundaryDto>> {
    save(state, authed, account, None, input).await
}

pub async fn upsert(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
    Body(input): Body<BoundaryInput>,
) -> ApiResult<Written<BoundaryDto>> {
    check_id("boundary uuid", &uuid)?;
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
