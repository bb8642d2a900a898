//! OAuth2 clients for the client-credentials grant
//! (SPEC §8). Warden's own API (the public reference has none): a client belongs to a user or a
//! service user, carries scopes, and has one or more secrets — each shown once, stored as an
//! argon2id hash. Rotation adds a secret; the old one stays valid until it is revoked.
//!
//! Reading needs `iam:tokens:read`, changing `iam:tokens:write`; making or widening a client also
//! follows the owner and no-escalation rules of [`super::issuing`]; so does changing someone
//! else's client.

use serde_json::json;

use crate::limits::{
    MAX_ACTIVE_CLIENT_SECRETS, MAX_OAUTH_CLIENTS, MAX_REVOKED_CLIENT_SECRETS, check_text,
    limit_reached,
};
use crate::model::Model;
use crate::records::{ClientSecret, OAuthClientBody};
use crate::secrets::{new_client_id, new_client_secret};
use crate::service::Plan;
use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::issuing::{
    check_scopes, owner_dto, require_may_manage, require_within, resolve_owner,
};
use crate::service::{ApiError, ApiResult, Authed, Scopes};
use crate::state::AppState;

/// A client as the API shows it: never a secret or a hash.
pub fn client_dto(model: &Model, client: &OAuthClientBody) -> OAuthClient {
    let secrets = client
        .secrets
        .iter()
        .map(|s| SecretInfo {
            id: s.id.clone(),
            created_at: iso(s.created_at),
            revoked_at: s.revoked_at.map(iso),
            active: s.revoked_at.is_none(),
        })
        .collect();
    OAuthClient {
        client_id: client.client_id.clone(),
        name: client.name.clone(),
        owner: owner_dto(model, &client.owner_uid),
        scopes: client.scopes.clone(),
        status: client.status.clone(),
        secrets,
        created_at: iso(client.created_at),
        created_by: client.created_by.clone(),
    }
}

/// Every OAuth client of the account, oldest first.
pub async fn list(state: &AppState, authed: &Authed, acc: &str) -> ApiResult<List<OAuthClient>> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:tokens:read", &level, &attributes(&[]))?;
    let mut clients: Vec<&OAuthClientBody> = model.oauth_clients.values().collect();
    clients.sort_by(|a, b| (a.created_at, &a.client_id).cmp(&(b.created_at, &b.client_id)));
    Ok(List::from(
        clients
            .iter()
            .map(|c| client_dto(&model, c))
            .collect::<Vec<_>>(),
    ))
}

/// One OAuth client.
pub async fn get(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    client_id: &str,
) -> ApiResult<OAuthClient> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:tokens:read", &level, &attributes(&[]))?;
    Ok(client_dto(&model, find(&model, client_id)?))
}

pub fn find<'a>(model: &'a Model, client_id: &str) -> ApiResult<&'a OAuthClientBody> {
    model
        .oauth_clients
        .get(client_id)
        .ok_or_else(|| ApiError::not_found("OAuth client", client_id))
}

/// A new secret, hashed in the bounded pool (argon2id takes a while by design); 503 when full.
async fn mint_secret(state: &AppState) -> ApiResult<(String, String, String)> {
    new_client_secret(&state.hashing).await
}

use warden_api::List;
pub use warden_api::oauth_clients::{
    ClientInput, CreatedClient, CreatedSecret, OAuthClient, SecretInfo,
};

/// Creates a client for the caller or a service user it may use; answers with the first secret,
/// shown this once.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    input: ClientInput,
) -> ApiResult<(CreatedClient, i64)> {
    let (secret_id, secret, hash) = mint_secret(state).await?;
    let now = authed.context.now_ms;
    let (out, revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:tokens:write", &level, &attributes(&[]))?;
            check_text("name", &input.name, 1, 200)?;
            if model.oauth_clients.len() >= MAX_OAUTH_CLIENTS {
                return Err(limit_reached(
                    "OAuth clients per account",
                    MAX_OAUTH_CLIENTS,
                ));
            }
            let owner = resolve_owner(state, authed, model, input.owner.as_deref())?;
            let scopes = check_scopes(snapshot.catalogue(), "scopes", &input.scopes)?;
            require_within(snapshot, model, authed, &owner.uid, &scopes)?;
            let client = OAuthClientBody {
                client_id: new_client_id()?,
                name: input.name.trim().to_owned(),
                owner_uid: owner.uid.clone(),
                scopes,
                secrets: vec![ClientSecret {
                    id: secret_id.clone(),
                    hash: hash.clone(),
                    created_at: now,
                    revoked_at: None,
                }],
                status: "ACTIVE".into(),
                created_at: now,
                created_by: authed.caller.uid.clone(),
            };
            let shown = client_dto(model, &client);
            let out = CreatedClient {
                client: shown.clone(),
                client_secret: secret.clone(),
                secret_id: secret_id.clone(),
            };
            let mut plan = Plan::new(
                "oauth-client.create",
                format!("oauth-client/{}", client.client_id),
                out,
            );
            plan.after = Some(json!(shown));
            plan.ops = vec![client.op()];
            plan.apply = Box::new(move |model: &mut Model| {
                model.oauth_clients.insert(client.client_id.clone(), client);
            });
            Ok(plan)
        })
        .await?;
    Ok((out, revision))
}

/// The access tokens issued to a client.
fn tokens_of(model: &Model, client_id: &str) -> Vec<String> {
    model
        .tokens
        .iter()
        .filter(|(_, t)| t.client_id.as_deref() == Some(client_id))
        .map(|(id, _)| id.clone())
        .collect()
}

/// Deletes a client and the access tokens issued to it.
pub async fn delete(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    client_id: &str,
) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:tokens:write", &level, &attributes(&[]))?;
            let client = find(model, client_id)?.clone();
            require_may_manage(
                state,
                snapshot,
                model,
                authed,
                &client.owner_uid,
                &Scopes::Only(client.scopes.clone()),
            )?;
            let tokens = tokens_of(model, &client.client_id);
            let mut plan = Plan::new(
                "oauth-client.delete",
                format!("oauth-client/{}", client.client_id),
                (),
            );
            plan.before = Some(json!(client_dto(model, &client)));
            plan.ops = tokens
                .iter()
                .map(|id| warden_store::Op::DeleteToken { id: id.clone() })
                .chain(std::iter::once(warden_store::Op::DeleteOAuthClient {
                    client_id: client.client_id.clone(),
                }))
                .collect();
            plan.apply = Box::new(move |model: &mut Model| {
                model.oauth_clients.remove(&client.client_id);
                for id in tokens {
                    model.tokens.remove(&id);
                }
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}

/// `POST …/{clientId}/secrets`: a new secret beside the existing ones (rotation).
pub async fn add_secret(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    client_id: &str,
) -> ApiResult<(CreatedSecret, i64)> {
    let (secret_id, secret, hash) = mint_secret(state).await?;
    let now = authed.context.now_ms;
    let (out, revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:tokens:write", &level, &attributes(&[]))?;
            let previous = find(model, client_id)?.clone();
            let owner = resolve_owner(state, authed, model, Some(&previous.owner_uid))?;
            require_within(snapshot, model, authed, &owner.uid, &previous.scopes)?;
            let active = previous
                .secrets
                .iter()
                .filter(|s| s.revoked_at.is_none())
                .count();
            if active >= MAX_ACTIVE_CLIENT_SECRETS {
                return Err(limit_reached(
                    "active secrets per OAuth client",
                    MAX_ACTIVE_CLIENT_SECRETS,
                )
                .with_details(json!({
                    "limit": "active secrets per OAuth client",
                    "max": MAX_ACTIVE_CLIENT_SECRETS,
                    "help": "revoke a secret with `DELETE …/secrets/{secretId}` first"
                })));
            }
            let mut client = previous.clone();
            client.secrets.push(ClientSecret {
                id: secret_id.clone(),
                hash: hash.clone(),
                created_at: now,
                revoked_at: None,
            });
            let out = CreatedSecret {
                client_id: client.client_id.clone(),
                secret_id: secret_id.clone(),
                client_secret: secret.clone(),
                created_at: iso(now),
            };
            let mut plan = Plan::new(
                "oauth-client.secret.create",
                format!("oauth-client/{}", client.client_id),
                out,
            );
            plan.before = Some(json!(client_dto(model, &previous)));
            plan.after = Some(json!(client_dto(model, &client)));
            plan.ops = vec![client.op()];
            plan.apply = Box::new(move |model: &mut Model| {
                model.oauth_clients.insert(client.client_id.clone(), client);
            });
            Ok(plan)
        })
        .await?;
    Ok((out, revision))
}

/// `DELETE …/{clientId}/secrets/{secretId}`: the secret stops working at once. Its record stays
/// (without the hash); access tokens already issued run until they expire or are revoked.
pub async fn revoke_secret(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    client_id: &str,
    secret_id: &str,
) -> ApiResult<i64> {
    let now = authed.context.now_ms;
    let ((), revision) = state
        .write(authed, |model, snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:tokens:write", &level, &attributes(&[]))?;
            let previous = find(model, client_id)?.clone();
            require_may_manage(
                state,
                snapshot,
                model,
                authed,
                &previous.owner_uid,
                &Scopes::Only(previous.scopes.clone()),
            )?;
            let mut client = previous.clone();
            let secret = client
                .secrets
                .iter_mut()
                .find(|s| s.id == secret_id)
                .ok_or_else(|| ApiError::not_found("secret", secret_id))?;
            if let Some(at) = secret.revoked_at {
                return Err(ApiError::conflict(format!(
                    "secret `{secret_id}` was already revoked at {}",
                    iso(at)
                )));
            }
            secret.revoked_at = Some(now);
            secret.hash = String::new();
            let revoked: Vec<usize> = client
                .secrets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.revoked_at.is_some())
                .map(|(i, _)| i)
                .collect();
            if let Some(excess) = revoked.len().checked_sub(MAX_REVOKED_CLIENT_SECRETS) {
                let drop: Vec<usize> = revoked.into_iter().take(excess).collect();
                let mut index = 0;
                client.secrets.retain(|_| {
                    let keep = !drop.contains(&index);
                    index += 1;
                    keep
                });
            }
            let mut plan = Plan::new(
                "oauth-client.secret.revoke",
                format!("oauth-client/{}", client.client_id),
                (),
            );
            plan.before = Some(json!(client_dto(model, &previous)));
            plan.after = Some(json!(client_dto(model, &client)));
            plan.ops = vec![client.op()];
            plan.apply = Box::new(move |model: &mut Model| {
                model.oauth_clients.insert(client.client_id.clone(), client);
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}
