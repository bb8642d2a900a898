//! OAuth access tokens (SPEC §8): issuing one to a client and revoking one. How a client proves
//! who it is (its secret, the failure limits) belongs to the OAuth endpoints; these are the
//! writes, made as the client acting for its owner within its scopes. Refusals carry the RFC 6749
//! codes (`invalid_target`, `invalid_client`, `slow_down`) for the endpoint to answer with.

use serde_json::json;

use crate::auth::new_token;
use crate::limits::MAX_LIVE_ACCESS_TOKENS_PER_CLIENT;
use crate::model::Model;
use crate::records::{OAuthClientBody, TokenBody};
use crate::service::{ApiError, ApiResult, Authed, ErrorCode, Plan};
use crate::state::AppState;

/// An access token just issued: shown once.
#[derive(Debug)]
pub struct Issued {
    pub id: String,
    pub token: String,
    pub resource: String,
    pub expires_in_s: i64,
}

/// The resource a token is for: this account (`urn:dtaccount:<account>`), the default.
fn check_resource(account: &str, resource: Option<&str>) -> ApiResult<String> {
    let expected = format!("urn:dtaccount:{account}");
    match resource {
        None => Ok(expected),
        Some(given) if given == expected => Ok(expected),
        Some(given) => {
            let given: String = given.chars().take(200).collect();
            let description = if given.starts_with("urn:dtaccount:") {
                format!("resource `{given}` is not this server's account; use `{expected}`")
            } else {
                format!("resource `{given}` is not supported; use `{expected}` or leave it out")
            };
            Err(ApiError::invalid(description).with_code("invalid_target"))
        }
    }
}

/// Issues an access token to `client` with `scopes` (already checked against the client's),
/// for `resource` when given; purges the client's expired tokens on the way.
pub async fn issue(
    state: &AppState,
    actor: &Authed,
    client: &OAuthClientBody,
    scopes: Vec<String>,
    resource: Option<&str>,
) -> ApiResult<Issued> {
    let now = actor.context.now_ms;
    let ttl = state.access_token_ttl_ms;
    let (id, token, hash) = new_token("at", &state.token_key)?;
    let issued = state
        .write(actor, |model, _| {
            let resource = check_resource(&model.account, resource)?;
            if !model.oauth_clients.contains_key(&client.client_id) {
                return Err(ApiError::new(ErrorCode::Unauthenticated, "client authentication failed")
                    .with_code("invalid_client"));
            }
            let mine: Vec<&TokenBody> = model
                .tokens
                .values()
                .filter(|t| t.client_id.as_deref() == Some(client.client_id.as_str()))
                .map(AsRef::as_ref)
                .collect();
            let expired: Vec<String> = mine
                .iter()
                .filter(|t| t.expires_at.is_some_and(|at| at <= now))
                .map(|t| t.id.clone())
                .collect();
            let live: Vec<i64> = mine.iter().filter_map(|t| t.expires_at).filter(|at| *at > now).collect();
            if live.len() >= MAX_LIVE_ACCESS_TOKENS_PER_CLIENT {
                let first_free = live.iter().min().copied().unwrap_or(now) - now;
                let wait = u64::try_from(first_free.max(1)).unwrap_or(1).div_ceil(1000);
                return Err(ApiError::new(
                    ErrorCode::RateLimited,
                    format!(
                        "client `{}` holds {MAX_LIVE_ACCESS_TOKENS_PER_CLIENT} unexpired access tokens; reuse them, revoke some, or retry after {wait} seconds",
                        client.client_id
                    ),
                )
                .with_code("slow_down")
                .with_retry_after(wait));
            }
            let body = TokenBody {
                id: id.clone(),
                kind: "oauth".into(),
                owner_uid: client.owner_uid.clone(),
                name: client.name.clone(),
                secret_hash: hash.clone(),
                scopes: scopes.clone(),
                unrestricted: None,
                status: "ACTIVE".into(),
                expires_at: Some(now + ttl),
                created_at: now,
                created_by: client.client_id.clone(),
                last_used_at: None,
                client_id: Some(client.client_id.clone()),
            };
            let mut plan = Plan::new(
                "oauth.token.issue",
                format!("oauth-client/{}", client.client_id),
                resource,
            );
            plan.after = Some(json!({
                "tokenId": body.id,
                "owner": body.owner_uid,
                "scopes": body.scopes,
                "expiresAt": body.expires_at,
                "purgedExpired": expired.len(),
            }));
            plan.ops = expired
                .iter()
                .map(|id| warden_store::Op::DeleteToken { id: id.clone() })
                .chain(std::iter::once(body.op()))
                .collect();
            plan.apply = Box::new(move |model: &mut Model| {
                for id in expired {
                    model.tokens.remove(&id);
                }
                model.tokens.insert(body.id.clone(), std::sync::Arc::new(body));
            });
            Ok(plan)
        })
        .await;
    let (resource, _) = issued?;
    Ok(Issued {
        id,
        token,
        resource,
        expires_in_s: ttl / 1000,
    })
}

/// Revokes the access token `token_id` of `client` (nothing when it is already gone).
pub async fn revoke(
    state: &AppState,
    actor: &Authed,
    client: &OAuthClientBody,
    token_id: &str,
) -> ApiResult<()> {
    let id = token_id.to_owned();
    state
        .write(actor, |model, _| {
            let mut plan = Plan::new(
                "oauth.token.revoke",
                format!("oauth-client/{}", client.client_id),
                (),
            );
            if !model.tokens.contains_key(&id) {
                return Ok(plan);
            }
            plan.before = Some(json!({ "tokenId": id }));
            plan.ops = vec![warden_store::Op::DeleteToken { id: id.clone() }];
            let id = id.clone();
            plan.apply = Box::new(move |model: &mut Model| {
                model.tokens.remove(&id);
            });
            Ok(plan)
        })
        .await?;
    Ok(())
}
