//! `/iam/v1/accounts/{accountId}/platform-tokens…` (reference §3.8): long-lived, named tokens
//! ([`crate::service::platform_tokens`] has the rules).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::groups::account;
use crate::api::{Body, Path, Query, Written};
use crate::error::{ApiError, ApiResult};
use crate::records::TokenBody;
use crate::service::Authed;
use crate::service::guard::attributes;
use crate::service::platform_tokens::{self, KIND};
pub use crate::service::platform_tokens::{ExpirationInput, StatusInput, TokenInput, token_dto};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(default)]
    search_term: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    size: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account(&model, &acc)?;
    state.require(&authed, "iam:tokens:read", &level, &attributes(&[]))?;
    if let Some(status) = &query.status
        && status != "ACTIVE"
        && status != "INACTIVE"
    {
        return Err(ApiError::invalid(format!(
            "`status` `{status}` is not `ACTIVE` or `INACTIVE`"
        )));
    }
    let page = query.page.unwrap_or(1);
    let size = query.size.unwrap_or(50);
    if page == 0 || !(1..=500).contains(&size) {
        return Err(ApiError::invalid("`page` starts at 1 and `size` is 1–500"));
    }
    let term = query.search_term.as_deref().map(str::to_lowercase);
    let now = authed.context.now_ms;
    let mut tokens: Vec<&Arc<TokenBody>> = model
        .tokens
        .values()
        .filter(|t| t.kind == KIND)
        .filter(|t| query.status.as_ref().is_none_or(|s| *s == t.status))
        .filter(|t| {
            term.as_ref().is_none_or(|term| {
                t.name.to_lowercase().contains(term)
                    || model
                        .principals
                        .get(&t.owner_uid)
                        .is_some_and(|p| p.email.contains(term.as_str()))
            })
        })
        .collect();
    tokens.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    let total = tokens.len();
    let items: Vec<Value> = tokens
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|t| token_dto(&model, t, now))
        .collect();
    Ok(axum::Json(
        json!({ "totalCount": total, "page": page, "size": size, "items": items }),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(acc): Path<String>,
    Body(input): Body<TokenInput>,
) -> ApiResult<Written<Value>> {
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
