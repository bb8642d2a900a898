//! `/iam/v1/accounts/{accountId}/oauth-clients…`: OAuth2 clients for the client-credentials grant
//! (SPEC §8; [`crate::service::oauth_clients`] has the rules).

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::{ErrorBody, List};

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::Authed;
use crate::service::oauth_clients;
pub use crate::service::oauth_clients::{
    ClientInput, CreatedClient, CreatedSecret, OAuthClient, client_dto,
};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/oauth-clients",
    tag = "oauth clients",
    operation_id = "oauth_clients_create",
    summary = "Create a client; the secret is shown once",
    description = "For yourself or a service user you may use. Permission: `iam:tokens:write (+ iam:service-users:use for a service user)`.",
    params(
        ("accountId" = String, Path, description = "The account"),
    ),
    request_body = ClientInput,
    responses(
        (status = 201, description = "The client with its first secret", body = CreatedClient, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input, or the limit reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or owner", body = ErrorBody),
        (status = 503, description = "Too many secrets being hashed; retry", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write (+ iam:service-users:use for a service user)"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<ClientInput>,
) -> ApiResult<Written<CreatedClient>> {
    let (out, revision) = oauth_clients::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/oauth-clients",
    tag = "oauth clients",
    operation_id = "oauth_clients_list",
    summary = "OAuth clients (never their secrets)",
    description = "Oldest first. Permission: `iam:tokens:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
    ),
    responses(
        (status = 200, description = "The clients", body = List<OAuthClient>),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
) -> ApiResult<axum::Json<List<OAuthClient>>> {
    oauth_clients::list(&state, &authed, &acc)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/oauth-clients/{clientId}",
    tag = "oauth clients",
    operation_id = "oauth_clients_get",
    summary = "One OAuth client",
    description = "Permission: `iam:tokens:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("clientId" = String, Path, description = "The client"),
    ),
    responses(
        (status = 200, description = "The client", body = OAuthClient),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or client", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, client_id)): Path<(String, String)>,
) -> ApiResult<axum::Json<OAuthClient>> {
    oauth_clients::get(&state, &authed, &acc, &client_id)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    delete,
    path = "/iam/v1/accounts/{accountId}/oauth-clients/{clientId}",
    tag = "oauth clients",
    operation_id = "oauth_clients_delete",
    summary = "Delete a client and its access tokens",
    description = "Permission: `iam:tokens:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("clientId" = String, Path, description = "The client"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or client", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write"))),
)]
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
#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/oauth-clients/{clientId}/secrets",
    tag = "oauth clients",
    operation_id = "oauth_clients_add_secret",
    summary = "Rotation: a new secret (shown once)",
    description = "The others stay valid until revoked. Permission: `iam:tokens:write (+ iam:service-users:use for a service user)`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("clientId" = String, Path, description = "The client"),
    ),
    responses(
        (status = 201, description = "The new secret, shown this once", body = CreatedSecret, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Too many active secrets", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or client", body = ErrorBody),
        (status = 503, description = "Too many secrets being hashed; retry", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write (+ iam:service-users:use for a service user)"))),
)]
pub async fn add_secret(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, client_id)): Path<(String, String)>,
) -> ApiResult<Written<CreatedSecret>> {
    let (out, revision) = oauth_clients::add_secret(&state, &authed, &acc, &client_id).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}

/// `DELETE …/{clientId}/secrets/{secretId}`: the secret stops working at once.
#[utoipa::path(
    delete,
    path = "/iam/v1/accounts/{accountId}/oauth-clients/{clientId}/secrets/{secretId}",
    tag = "oauth clients",
    operation_id = "oauth_clients_revoke_secret",
    summary = "Revoke one secret at once",
    description = "Permission: `iam:tokens:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("clientId" = String, Path, description = "The client"),
        ("secretId" = String, Path, description = "The secret"),
    ),
    responses(
        (status = 204, description = "Revoked", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account, client or secret", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write"))),
)]
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
