//! `/iam/v1/accounts/{accountId}/oauth-clients…`: OAuth2 clients for the client-credentials grant
//! (SPEC §8; [`crate::service::oauth_clients`] has the rules).

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api::groups::account;
use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::records::OAuthClientBody;
use crate::service::Authed;
use crate::service::guard::attributes;
use crate::service::oauth_clients::{self, find};
pub use crate::service::oauth_clients::{ClientInput, client_dto};
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<ClientInput>,
) -> ApiResult<Written<Value>> {
    let (out, revision) = oauth_clients::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:tokens:read", &level, &attributes(&[]))?;
    let mut clients: Vec<&OAuthClientBody> = model.oauth_clients.values().collect();
    clients.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
    let items: Vec<Value> = clients.iter().map(|c| client_dto(&model, c)).collect();
    Ok(axum::Json(json!({ "count": items.len(), "items": items })))
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, client_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:tokens:read", &level, &attributes(&[]))?;
    Ok(axum::Json(client_dto(&model, find(&model, &client_id)?)))
}

pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, client_id)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let revision = oauth_clients::delete(&state, &authed, &acc, &client_id).await?;
    Ok(Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    })
}

/// `POST …/{clientId}/secrets`: a new secret beside the existing ones (rotation).
pub async fn add_secret(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, client_id)): Path<(String, String)>,
) -> ApiResult<Written<Value>> {
    let (out, revision) = oauth_clients::add_secret(&state, &authed, &acc, &client_id).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

/// `DELETE …/{clientId}/secrets/{secretId}`: the secret stops working at once.
pub async fn revoke_secret(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, client_id, secret_id)): Path<(String, String, String)>,
) -> ApiResult<Written<()>> {
    let revision =
        oauth_clients::revoke_secret(&state, &authed, &acc, &client_id, &secret_id).await?;
    Ok(Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    })
}
