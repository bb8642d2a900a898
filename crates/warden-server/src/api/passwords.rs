//! `PUT /iam/v1/accounts/{accountId}/users/{email}/password`: an administrator sets a user's
//! console password ([`crate::service::passwords`] has the rules).

use axum::extract::State;
use axum::http::StatusCode;

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
pub use crate::service::passwords::{
    MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordInput, check_password,
};
use crate::service::{self, Authed};
use crate::state::AppState;
use warden_api::ErrorBody;

#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/users/{email}/password",
    tag = "users",
    operation_id = "users_set_password",
    summary = "Set a user's console password",
    description = "12–128 characters, argon2id; no escalation; 400 for a service user. Permission: `iam:users:write`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        ("email" = String, Path, description = "The user's email, uid or handle"),
    ),
    request_body = PasswordInput,
    responses(
        (status = 204, description = "Set", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such account, user or group", body = ErrorBody),
        (status = 409, description = "The change conflicts with the current state", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:users:write"))),
)]
pub async fn set_password(
    State(state): State<AppState>,
    authed: Authed,
    Path((acc, key)): Path<(String, String)>,
    Body(input): Body<PasswordInput>,
) -> ApiResult<Written<()>> {
    let revision = service::passwords::set_password(&state, &authed, &acc, &key, input).await?;
    Ok(Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    })
}
