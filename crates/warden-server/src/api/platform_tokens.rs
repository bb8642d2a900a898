//! `/iam/v1/accounts/{accountId}/platform-tokens…` (reference §3.8): long-lived, named tokens
//! ([`crate::service::platform_tokens`] has the rules).

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;

use crate::api::{Body, Path, Query, Written};
use crate::error::ApiResult;
use crate::service::Authed;
use crate::service::platform_tokens;
pub use crate::service::platform_tokens::{
    CreatedToken, ExpirationInput, StatusInput, TokenInput, TokenPage, TokenQuery, token_dto,
};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/platform-tokens",
    tag = "platform tokens",
    operation_id = "platform_tokens_list",
    summary = "Platform tokens (`searchTerm`, `status`, `page`, `size`)",
    description = "Oldest first, never their secrets. Permission: `iam:tokens:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        TokenQuery,
    ),
    responses(
        (status = 200, description = "A page of tokens", body = TokenPage),
        (status = 400, description = "An invalid query", body = ErrorBody),
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
    Query(query): Query<TokenQuery>,
) -> ApiResult<axum::Json<TokenPage>> {
    platform_tokens::list(&state, &authed, &acc, query)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/platform-tokens",
    tag = "platform tokens",
    operation_id = "platform_tokens_create",
    summary = "Create a token (shown once)",
    description = "For yourself or a service user you may use; at most 10 per user. Permission: `iam:tokens:write (+ iam:service-users:use for a service user)`.",
    params(
        ("accountId" = String, Path, description = "The account"),
    ),
    request_body = TokenInput,
    responses(
        (status = 200, description = "The token, shown this once", body = CreatedToken, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input, or the limit reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or owner", body = ErrorBody),
        (status = 409, description = "The change conflicts with the current state", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write (+ iam:service-users:use for a service user)"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<TokenInput>,
) -> ApiResult<Written<CreatedToken>> {
    let (out, revision) = platform_tokens::create(&state, &authed, &acc, input).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: Some(out),
    })
}

fn no_content(revision: i64) -> Written<()> {
    Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    }
}

#[utoipa::path(
    delete,
    path = "/iam/v1/accounts/{accountId}/platform-tokens/{tokenId}",
    tag = "platform tokens",
    operation_id = "platform_tokens_delete",
    summary = "Delete a platform token",
    description = "Permission: `iam:tokens:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("tokenId" = String, Path, description = "The token"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or token", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, id)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    Ok(no_content(
        platform_tokens::delete(&state, &authed, &acc, &id).await?,
    ))
}

/// `PUT …/{id}/expiration-date`: a later expiry widens the token.
#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/platform-tokens/{tokenId}/expiration-date",
    tag = "platform tokens",
    operation_id = "platform_tokens_expiration",
    summary = "Change the expiry date (204)",
    description = "A later date widens the token. Permission: `iam:tokens:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("tokenId" = String, Path, description = "The token"),
    ),
    request_body = ExpirationInput,
    responses(
        (status = 204, description = "Changed", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or token", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write"))),
)]
pub async fn set_expiration(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, id)): Path<(String, String)>,
    Body(input): Body<ExpirationInput>,
) -> ApiResult<Written<()>> {
    Ok(no_content(
        platform_tokens::set_expiration(&state, &authed, &acc, &id, input).await?,
    ))
}

/// `PUT …/{id}/status`: `INACTIVE` disables the token at once; `ACTIVE` enables it again.
#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/platform-tokens/{tokenId}/status",
    tag = "platform tokens",
    operation_id = "platform_tokens_status",
    summary = "`ACTIVE` or `INACTIVE` (204)",
    description = "A disabled token is refused at once. Permission: `iam:tokens:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("tokenId" = String, Path, description = "The token"),
    ),
    request_body = StatusInput,
    responses(
        (status = 204, description = "Changed", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account or token", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:tokens:write"))),
)]
pub async fn set_status(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, id)): Path<(String, String)>,
    Body(input): Body<StatusInput>,
) -> ApiResult<Written<()>> {
    Ok(no_content(
        platform_tokens::set_status(&state, &authed, &acc, &id, input).await?,
    ))
}
