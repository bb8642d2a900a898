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
