//! `/iam/v1/accounts/{accountId}/environments` (the levels environment bindings apply at), the
//! same list in Dynatrace's shape (`/env/v2/accounts/{accountId}/environments`) and
//! `/iam/v1/repo/{levelType}/{levelId}/limits`.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use warden_api::environments::{
    DynatraceEnvironment, DynatraceEnvironmentList, Environment, EnvironmentList,
};

use crate::api::groups::account;
use crate::api::{Body, Path, Written, level, level_parts};
use crate::error::ApiResult;
use crate::limits::{MAX_BINDINGS_PER_LEVEL, MAX_BOUNDARIES, MAX_GROUPS, MAX_POLICIES, MAX_USERS};
use crate::records::EnvironmentBody;
use crate::service::Authed;
use crate::service::environments;
pub use crate::service::environments::EnvironmentInput;
use crate::service::groups::iso;
use crate::service::guard::attributes;
use crate::state::AppState;

/// An environment as the API shows it.
fn environment(body: &EnvironmentBody) -> Environment {
    Environment {
        id: body.id.clone(),
        name: body.name.clone(),
        created_at: iso(body.created_at),
    }
}

/// The account's environments, once the caller may read them.
async fn readable(state: &AppState, authed: &Authed, acc: &str) -> ApiResult<Vec<Environment>> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:environments:read", &level, &attributes(&[]))?;
    Ok(model.environments.values().map(environment).collect())
}

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<EnvironmentList>> {
    let items = readable(&state, &authed, &acc).await?;
    Ok(axum::Json(EnvironmentList {
        count: items.len(),
        items,
    }))
}

/// `GET /env/v2/accounts/{accountId}/environments`: Dynatrace's shape. Every environment is
/// active; `url` is the environment's level in this API, since Warden serves no environment.
pub async fn list_dynatrace(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<DynatraceEnvironmentList>> {
    let data = readable(&state, &authed, &acc)
        .await?
        .into_iter()
        .map(|env| DynatraceEnvironment {
            url: format!("/iam/v1/repo/environment/{}", env.id),
            id: env.id,
            name: env.name,
            active: true,
        })
        .collect();
    Ok(axum::Json(DynatraceEnvironmentList { data }))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<EnvironmentInput>,
) -> ApiResult<Written<Environment>> {
    let (out, revision) = environments::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(environment(&out)),
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
