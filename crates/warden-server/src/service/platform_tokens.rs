//! Platform tokens (reference §3.8): long-lived, named tokens
//! with scopes, an expiry date and a status (`ACTIVE`/`INACTIVE`), at most 10 per user. The token
//! (`wdn_pt_<id>_<secret>`) is shown once; only a keyed hash is stored. An expired token is
//! refused with 403, a disabled one with 401, at the next request.
//!
//! Reading needs `iam:tokens:read`, changing `iam:tokens:write`. Creating a token, moving its
//! expiry later or re-enabling it also follows the owner and no-escalation rules of
//! [`super::issuing`]; changing someone else's token in any way is acting for its owner.

use std::sync::Arc;

use serde_json::json;
use warden_policy::temporal::parse_date_time;

use crate::auth::new_token;
use crate::limits::{MAX_PLATFORM_TOKENS_PER_USER, check_text, limit_reached};
use crate::model::Model;
use crate::records::TokenBody;
use crate::service::Plan;
use crate::service::groups::{account, iso};
use crate::service::guard::{attributes, require_acting_as};
use crate::service::issuing::{check_scopes, require_may_manage, require_within, resolve_owner};
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

pub const KIND: &str = "platform";

pub fn token_dto(model: &Model, token: &TokenBody, now: i64) -> PlatformToken {
    let owner = model.principals.get(&token.owner_uid);
    PlatformToken {
        token_id: token.id.clone(),
        name: token.name.clone(),
        user_uuid: token.owner_uid.clone(),
        user_email: owner.map(|p| p.email.clone()),
        user_handle: owner.and_then(|p| p.handle.clone()),
        scope: token.scopes.clone(),
        status: token.status.clone(),
        expiration_date: token.expires_at.map(iso),
        expired: token.expires_at.is_some_and(|at| at <= now),
        created_at: iso(token.created_at),
        created_by: token.created_by.clone(),
        last_used_at: token.last_used_at.map(iso),
    }
}

/// Platform tokens, oldest first: those whose name or owner's email contains `search_term`
/// (ignoring case), with `status` if given; `page` from 1, `size` 1–500 (50 when absent).
pub async fn list(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    query: TokenQuery,
) -> ApiResult<TokenPage> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:tokens:read", &level, &attributes(&[]))?;
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
    let total_count = tokens.len();
    let items = tokens
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|t| token_dto(&model, t, now))
        .collect();
    Ok(TokenPage {
        total_count,
        page,
        size,
        items,
    })
}

/// An RFC 3339 date-time in the future, in milliseconds. A fraction of a second is cut off
/// (never rounded up: an expiry may only move earlier).
pub fn expiry(text: &str, now: i64) -> ApiResult<i64> {
    let whole = match text.split_once('.') {
        Some((head, rest)) => {
            let zone = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("{head}{zone}")
        }
        None => text.to_owned(),
    };
    let seconds = parse_date_time(&whole).map_err(|_| {
        ApiError::invalid(format!(
            "`expirationDate` `{text}` is not an RFC 3339 date-time such as `2027-01-31T00:00:00Z`"
        ))
    })?;
    let at = seconds.saturating_mul(1000);
    if at <= now {
        return Err(ApiError::invalid(format!(
            "`expirationDate` `{text}` is not in the future"
        )));
    }
    Ok(at)
}

pub fn find<'a>(model: &'a Model, id: &str) -> ApiResult<&'a Arc<TokenBody>> {
    model
        .tokens
        .get(id)
        .filter(|t| t.kind == KIND)
        .ok_or_else(|| ApiError::not_found("platform token", id))
}

pub use warden_api::platform_tokens::{
    CreatedToken, ExpirationInput, PlatformToken, StatusInput, TokenInput, TokenPage, TokenQuery,
};

/// Creates a platform token for the caller or a service user it may use; answers with the
/// token, shown this once.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    input: TokenInput,
) -> ApiResult<(CreatedToken, i64)> {
    let now = authed.context.now_ms;
    let (out, revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:tokens:write", &level, &attributes(&[]))?;
            check_text("name", &input.name, 1, 255)?;
            let expected = format!("urn:dtaccount:{}", model.account);
            if let Some(other) = input.resource.iter().find(|r| **r != expected) {
                return Err(ApiError::invalid(format!(
                    "resource `{other}` is not supported: platform tokens are valid for the whole account; leave `resource` out or give `{expected}`"
                )));
            }
            let expires_at = expiry(&input.expiration_date, now)?;
            let owner = resolve_owner(state, authed, model, input.user_uuid.as_deref())?;
            let scopes = check_scopes(snapshot.catalogue(), "scope", &input.scope)?;
            require_within(snapshot, model, authed, &owner.uid, &scopes)?;
            let held = model
                .tokens
                .values()
                .filter(|t| t.kind == KIND && t.owner_uid == owner.uid)
                .count();
            if held >= MAX_PLATFORM_TOKENS_PER_USER {
                return Err(limit_reached("platform tokens per user", MAX_PLATFORM_TOKENS_PER_USER)
                    .with_details(json!({
                        "limit": "platform tokens per user",
                        "max": MAX_PLATFORM_TOKENS_PER_USER,
                        "user": owner.email,
                        "help": "delete tokens that are expired or no longer used"
                    })));
            }
            let (id, token, hash) = new_token("pt", &state.token_key)?;
            let body = TokenBody {
                id: id.clone(),
                kind: KIND.into(),
                owner_uid: owner.uid.clone(),
                name: input.name.trim().to_owned(),
                secret_hash: hash,
                scopes,
                unrestricted: None,
                status: "ACTIVE".into(),
                expires_at: Some(expires_at),
                created_at: now,
                created_by: authed.caller.uid.clone(),
                last_used_at: None,
                client_id: None,
            };
            let out = CreatedToken {
                name: body.name.clone(),
                token_id: id.clone(),
                token,
            };
            let mut plan = Plan::new("platform-token.create", format!("platform-token/{id}"), out);
            plan.after = Some(json!(token_dto(model, &body, now)));
            plan.ops = vec![body.op()];
            plan.apply = Box::new(move |model: &mut Model| {
                model.tokens.insert(body.id.clone(), Arc::new(body));
            });
            Ok(plan)
        })
        .await?;
    Ok((out, revision))
}

/// Deletes a platform token.
pub async fn delete(state: &AppState, authed: &Authed, acc: &str, id: &str) -> ApiResult<i64> {
    let now = authed.context.now_ms;
    let ((), revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:tokens:write", &level, &attributes(&[]))?;
            let token = find(model, id)?.clone();
            require_may_manage(
                state,
                snapshot,
                model,
                authed,
                &token.owner_uid,
                &token.scope_limit(),
            )?;
            let mut plan = Plan::new("platform-token.delete", format!("platform-token/{id}"), ());
            plan.before = Some(json!(token_dto(model, &token, now)));
            plan.ops = vec![warden_store::Op::DeleteToken { id: id.to_owned() }];
            plan.apply = Box::new(move |model: &mut Model| {
                model.tokens.remove(&token.id);
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}

/// A change of one token; `widens` says whether it needs the issuing rules.
async fn change(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    id: &str,
    action: &'static str,
    change: impl FnOnce(&mut TokenBody, i64) -> ApiResult<bool> + Send,
) -> ApiResult<i64> {
    let now = authed.context.now_ms;
    let ((), revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:tokens:write", &level, &attributes(&[]))?;
            let previous = find(model, id)?.clone();
            require_may_manage(
                state,
                snapshot,
                model,
                authed,
                &previous.owner_uid,
                &previous.scope_limit(),
            )?;
            let mut token = TokenBody::clone(&previous);
            if change(&mut token, now)? {
                // Widening gives the token's rights again: all of them, for an unrestricted one.
                let owner = resolve_owner(state, authed, model, Some(&token.owner_uid))?;
                require_acting_as(
                    snapshot,
                    model,
                    authed,
                    &owner.uid,
                    token.scope_limit().limit(),
                    "this credential",
                )?;
            }
            let mut plan = Plan::new(action, format!("platform-token/{id}"), ());
            plan.before = Some(json!(token_dto(model, &previous, now)));
            plan.after = Some(json!(token_dto(model, &token, now)));
            plan.ops = vec![token.op()];
            plan.apply = Box::new(move |model: &mut Model| {
                model.tokens.insert(token.id.clone(), Arc::new(token));
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}

/// `PUT …/{id}/expiration-date`: a later expiry widens the token.
pub async fn set_expiration(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    id: &str,
    input: ExpirationInput,
) -> ApiResult<i64> {
    change(
        state,
        authed,
        acc,
        id,
        "platform-token.expiration",
        move |token, now| {
            let at = expiry(&input.expiration_date, now)?;
            // A token without an expiry only gets shorter.
            let widens = token.expires_at.is_some_and(|previous| at > previous);
            token.expires_at = Some(at);
            Ok(widens)
        },
    )
    .await
}

/// `PUT …/{id}/status`: `INACTIVE` disables the token at once; `ACTIVE` enables it again.
pub async fn set_status(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    id: &str,
    input: StatusInput,
) -> ApiResult<i64> {
    change(
        state,
        authed,
        acc,
        id,
        "platform-token.status",
        move |token, _| {
            if input.status != "ACTIVE" && input.status != "INACTIVE" {
                return Err(ApiError::invalid(format!(
                    "`status` `{}` is not `ACTIVE` or `INACTIVE`",
                    input.status
                )));
            }
            let widens = input.status == "ACTIVE" && token.status != "ACTIVE";
            token.status = input.status;
            Ok(widens)
        },
    )
    .await
}
