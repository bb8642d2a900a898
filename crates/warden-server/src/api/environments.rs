//! `/iam/v1/accounts/{accountId}/environments` (the levels environment bindings apply at) and
//! `/iam/v1/repo/{levelType}/{levelId}/limits`.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::groups::account;
use crate::api::{Body, Path, Written, level, level_parts};
use crate::error::ApiResult;
use crate::limits::{MAX_BINDINGS_PER_LEVEL, MAX_BOUNDARIES, MAX_GROUPS, MAX_POLICIES, MAX_USERS};
use crate::records::EnvironmentBody;
use crate::service::Authed;
use crate::service::environments;
pub use crate::service::environments::EnvironmentInput;
use crate::service::guard::attributes;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:environments:read", &level, &attributes(&[]))?;
    let items: Vec<&EnvironmentBody> = model.environments.values().collect();
    Ok(axum::Json(json!({ "count": items.len(), "items": items })))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<EnvironmentInput>,
) -> ApiResult<Written<EnvironmentBody>> {
    let (out, revision) = environments::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

pub async fn limits(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    state.require(&authed, "iam:limits:read", &level, &attributes(&[]))?;
    let (level_type, level_id) = level_parts(&model, &level);
    let bindings = model
        .bindings
        .values()
        .filter(|b| b.level_type == level_type && b.level_id == level_id)
        .count();
    Ok(axum::Json(json!({
        "policies": { "count": model.policies.len(), "limit": MAX_POLICIES },
        "bindings": { "count": bindings, "limit": MAX_BINDINGS_PER_LEVEL },
        "boundaries": { "count": model.boundaries.len(), "limit": MAX_BOUNDARIES },
        "users": { "count": model.principals.len(), "limit": MAX_USERS },
        "groups": { "count": model.groups.len(), "limit": MAX_GROUPS },
        "oauthClients": { "count": model.oauth_clients.len(), "limit": crate::limits::MAX_OAUTH_CLIENTS },
        "platformTokensPerUser": { "limit": crate::limits::MAX_PLATFORM_TOKENS_PER_USER },
    })))
}
