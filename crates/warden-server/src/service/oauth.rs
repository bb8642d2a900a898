//! The OAuth2 use cases (SPEC §8): issuing an access token for the client-credentials grant
//! (RFC 6749 §4.4), revoking one (RFC 7009) and introspecting one (RFC 7662). The HTTP layer
//! (`crate::api::oauth`) reads the form and the `Authorization` header and writes the answers;
//! everything decided lives here.
//!
//! Errors are [`OAuthError`]s: RFC 6749 §5.2's codes, never the API's own vocabulary. Clients
//! authenticate with HTTP Basic or the `client_id`/`client_secret` parameters (one of them). Bad
//! secrets are counted per source address, not per client id ([`crate::throttle`]): past
//! [`crate::secrets::MAX_FAILURES`] within a minute, that source gets `slow_down` (429) with a
//! retry time, and nobody else does. Secrets are checked in the bounded argon2id pool
//! ([`crate::hashing`]); when its queue is full the answer is `temporarily_unavailable` (503).
//! A client whose owner is deactivated fails to authenticate (`invalid_client`), like a wrong
//! secret.
//!
//! Access tokens are reference tokens (`wdn_at_<id>_<secret>`): a stored record with a keyed hash
//! of the secret, the client, the owner, the granted scopes and an expiry. Their rights are their
//! scopes ∩ their owner's permissions, decided at each use.

use base64::Engine as _;
use subtle::ConstantTimeEq;
use warden_api::oauth::{
    ClientCredentials, IntrospectForm, Introspection, RevokeForm, TokenForm, TokenResponse,
};
use warden_api::scopes::{UNSUPPORTED_SCOPES, coarse_scope};
use warden_engine::Level;

use crate::auth::{parse_token, secret_hash};
use crate::records::{OAuthClientBody, TokenBody};
use crate::secrets::{decoy_hash, is_client_id, parse_client_secret};
use crate::service::access_tokens;
use crate::service::guard::attributes;
use crate::service::{Authed, Caller, RequestContext, Scopes};
use crate::state::AppState;
use crate::throttle::Source;

/// The challenge of an `invalid_client` answer (RFC 6749 §5.2).
const BASIC_CHALLENGE: &str = "Basic realm=\"warden\", charset=\"UTF-8\"";

/// An OAuth error (RFC 6749 §5.2): its code, the HTTP status it answers with, what to tell the
/// client, and the headers it needs (`Retry-After`, `WWW-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
    pub retry_after: Option<u64>,
    pub challenge: Option<&'static str>,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
            challenge: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(400, "invalid_request", description)
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        OAuthError {
            challenge: Some(BASIC_CHALLENGE),
            ..OAuthError::new(401, "invalid_client", description)
        }
    }

    pub(crate) fn slow_down(description: impl Into<String>, retry_after: u64) -> Self {
        OAuthError {
            retry_after: Some(retry_after),
            ..OAuthError::new(429, "slow_down", description)
        }
    }

    fn temporarily_unavailable(busy: crate::hashing::Busy) -> Self {
        OAuthError {
            retry_after: Some(busy.retry_after),
            ..OAuthError::new(
                503,
                "temporarily_unavailable",
                "too many client authentications are waiting; retry shortly",
            )
        }
    }

    fn server_error() -> Self {
        OAuthError::new(
            500,
            "server_error",
            "the request could not be completed; nothing was changed, retry later",
        )
    }
}

pub type OAuthResult<T> = Result<T, OAuthError>;

/// How a request presents itself: the HTTP Basic credentials (base64, as sent), the bearer
/// token, where it comes from and its id for the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a> {
    pub basic: Option<&'a str>,
    pub bearer: Option<&'a str>,
    pub source: Source,
    pub request_id: &'a str,
}

/// Percent-decoding of the form-urlencoded client id and secret inside HTTP Basic (§2.3.1).
fn form_decode(text: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!(
        "v={}",
        text.replace('&', "%26").replace('=', "%3D")
    ))
    .ok()?;
    pairs.into_iter().next().map(|(_, v)| v)
}

/// Client credentials from HTTP Basic or the form: `Ok(None)` when there are none.
fn client_credentials(
    basic: Option<&str>,
    form: &ClientCredentials,
) -> OAuthResult<Option<(String, String)>> {
    let in_form = form.client_id.is_some() || form.client_secret.is_some();
    match (basic, in_form) {
        (Some(_), true) => Err(OAuthError::invalid_request(
            "use one client authentication method: HTTP Basic or the `client_id` and `client_secret` parameters, not both",
        )),
        (Some(encoded), false) => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| OAuthError::invalid_client("malformed HTTP Basic credentials"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::invalid_client("malformed HTTP Basic credentials"))?;
            match (form_decode(id), form_decode(secret)) {
                (Some(id), Some(secret)) => Ok(Some((id, secret))),
                _ => Err(OAuthError::invalid_client(
                    "malformed HTTP Basic credentials",
                )),
            }
        }
        (None, true) => match (&form.client_id, &form.client_secret) {
            (Some(id), Some(secret)) => Ok(Some((id.clone(), secret.clone()))),
            (Some(_), None) => Err(OAuthError::invalid_client(
                "`client_secret` is missing: every Warden client is confidential",
            )),
            _ => Err(OAuthError::invalid_request(
                "`client_secret` is given without `client_id`",
            )),
        },
        (None, false) => Ok(None),
    }
}

/// Authenticates a client: its secret (argon2id, off the async threads), the failure limit, and
/// an active owner.
async fn authenticate_client(
    state: &AppState,
    source: Source,
    client_id: &str,
    presented: &str,
) -> OAuthResult<OAuthClientBody> {
    let failed = || OAuthError::invalid_client("client authentication failed");
    if !is_client_id(client_id) {
        tracing::warn!(
            outcome = "malformed client id",
            "oauth client authentication failed"
        );
        return Err(failed());
    }
    let now = state.now_ms();
    if let Err(throttled) = state.client_failures.begin(source, now) {
        tracing::warn!(%source, %client_id, retry_after = throttled.retry_after, "oauth client authentication throttled after repeated bad secrets from one source");
        return Err(OAuthError::slow_down(
            format!(
                "too many failed client authentications from your address; retry after {} seconds",
                throttled.retry_after
            ),
            throttled.retry_after,
        ));
    }
    let client = state
        .model
        .lock()
        .await
        .oauth_clients
        .get(client_id)
        .cloned();
    let parsed = parse_client_secret(presented);
    let hash = client
        .as_ref()
        .zip(parsed)
        .and_then(|(c, (secret_id, _))| {
            c.secrets
                .iter()
                .find(|s| s.id == secret_id && s.revoked_at.is_none())
        })
        .map_or_else(|| decoy_hash().to_owned(), |s| s.hash.clone());
    let secret = parsed.map_or_else(String::new, |(_, s)| s.to_owned());
    let verified = match state.hashing.verify(secret, hash).await {
        Ok(verified) => verified,
        Err(busy) => {
            // Not checked, so neither a failure nor a success.
            state.client_failures.finish(source, true, state.now_ms());
            tracing::warn!(%source, %client_id, "oauth client authentication refused: the hashing queue is full");
            return Err(OAuthError::temporarily_unavailable(busy));
        }
    };
    let client = client.filter(|_| verified && parsed.is_some());
    state
        .client_failures
        .finish(source, client.is_some(), state.now_ms());
    let Some(client) = client else {
        tracing::warn!(%client_id, outcome = "bad secret", "oauth client authentication failed");
        return Err(failed());
    };
    let snapshot = state.snapshot();
    let owner = snapshot.directory().principal(&client.owner_uid);
    if client.status != "ACTIVE" || !owner.is_some_and(|p| p.active) {
        tracing::warn!(%client_id, outcome = "owner deactivated", "oauth client authentication failed");
        return Err(OAuthError::invalid_client(
            "the client is disabled: its owner is deactivated",
        ));
    }
    if owner.is_some_and(|p| p.kind == warden_engine::PrincipalKind::ServiceUser) {
        state.last_use.record(&client.owner_uid, state.now_ms());
    }
    Ok(client)
}

/// The client of a request that must authenticate one.
async fn required_client(
    state: &AppState,
    presented: &Presented<'_>,
    form: &ClientCredentials,
) -> OAuthResult<OAuthClientBody> {
    let (id, secret) = client_credentials(presented.basic, form)?.ok_or_else(|| {
        OAuthError::invalid_client(
            "client authentication is required: HTTP Basic or `client_id` and `client_secret`",
        )
    })?;
    authenticate_client(state, presented.source, &id, &secret).await
}

/// The scopes to grant: the requested ones (each one of the client's) or all of the client's. A
/// Dynatrace coarse scope (`account-idm-read`, …) stands for the permissions it maps to
/// ([`warden_api::scopes`]); of those, the client's are granted, and none is a refusal.
fn granted_scopes(client: &OAuthClientBody, requested: Option<&str>) -> OAuthResult<Vec<String>> {
    let Some(requested) = requested else {
        return Ok(client.scopes.clone());
    };
    let invalid_scope = |description: String| OAuthError::new(400, "invalid_scope", description);
    let mut out: Vec<String> = Vec::new();
    for scope in requested.split(' ').filter(|s| !s.is_empty()) {
        if let Some((_, why)) = UNSUPPORTED_SCOPES.iter().find(|(name, _)| *name == scope) {
            return Err(invalid_scope(format!(
                "scope `{scope}` is not supported: {why}"
            )));
        }
        if let Some(coarse) = coarse_scope(scope) {
            let held: Vec<&str> = coarse
                .permissions
                .iter()
                .copied()
                .filter(|p| client.scopes.iter().any(|s| s == p))
                .collect();
            if held.is_empty() {
                return Err(invalid_scope(format!(
                    "scope `{scope}` stands for {}; the client holds none of them ({})",
                    coarse.permissions.join(" "),
                    client.scopes.join(" ")
                )));
            }
            for permission in held {
                if !out.iter().any(|s| s == permission) {
                    out.push(permission.to_owned());
                }
            }
            continue;
        }
        if !client.scopes.iter().any(|s| s == scope) {
            return Err(invalid_scope(format!(
                "scope `{}` is not one of the client's scopes ({})",
                scope.chars().take(200).collect::<String>(),
                client.scopes.join(" ")
            )));
        }
        if !out.iter().any(|s| s == scope) {
            out.push(scope.to_owned());
        }
    }
    if out.is_empty() {
        return Err(OAuthError::new(
            400,
            "invalid_scope",
            "`scope` is empty; leave it out to get every scope of the client",
        ));
    }
    Ok(out)
}

fn context(state: &AppState, presented: &Presented<'_>, actor: &str) -> RequestContext {
    RequestContext {
        actor: actor.to_owned(),
        request_id: presented.request_id.to_owned(),
        now_ms: state.now_ms(),
    }
}

/// A client authenticated by its secret, acting for its owner within its scopes; recorded in
/// the audit log as the client.
fn client_actor(state: &AppState, presented: &Presented<'_>, client: &OAuthClientBody) -> Authed {
    Authed {
        caller: Caller {
            uid: client.owner_uid.clone(),
            token_id: client.client_id.clone(),
            scopes: Scopes::Only(client.scopes.clone()),
        },
        context: context(state, presented, &client.client_id),
        system: false,
    }
}

/// Issues an access token for the client-credentials grant.
pub async fn issue(
    state: &AppState,
    presented: &Presented<'_>,
    form: &TokenForm,
) -> OAuthResult<TokenResponse> {
    let client = required_client(state, presented, &form.client).await?;
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        None => {
            return Err(OAuthError::invalid_request(
                "`grant_type` is missing; use `client_credentials`",
            ));
        }
        Some(other) => {
            return Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                format!(
                    "grant type `{}` is not supported; use `client_credentials`",
                    other.chars().take(100).collect::<String>()
                ),
            ));
        }
    }
    let scopes = granted_scopes(&client, form.scope.as_deref())?;
    let actor = client_actor(state, presented, &client);
    let issued = access_tokens::issue(
        state,
        &actor,
        &client,
        scopes.clone(),
        form.resource.as_deref(),
    )
    .await
    .map_err(plan_error)?;
    tracing::info!(client_id = %client.client_id, token_id = %issued.id, "access token issued");
    Ok(TokenResponse {
        access_token: issued.token,
        token_type: "Bearer".to_owned(),
        expires_in: issued.expires_in_s,
        scope: scopes.join(" "),
        resource: issued.resource,
    })
}

/// An API error from the write pipeline, as an OAuth error.
fn plan_error(error: crate::service::ApiError) -> OAuthError {
    match error.wire_code() {
        code @ ("invalid_target" | "invalid_client" | "slow_down") => OAuthError {
            retry_after: error.retry_after,
            challenge: (code == "invalid_client").then_some(BASIC_CHALLENGE),
            ..OAuthError::new(error.code.status(), code, error.message)
        },
        _ if error.code == crate::service::ErrorCode::Unavailable => OAuthError {
            retry_after: error.retry_after,
            ..OAuthError::new(
                error.code.status(),
                "temporarily_unavailable",
                error.message,
            )
        },
        _ => OAuthError::server_error(),
    }
}

/// The stored access token a presented token string names, if its secret matches.
fn presented_record(state: &AppState, token: &str) -> Option<std::sync::Arc<TokenBody>> {
    let (id, secret) = parse_token(token)?;
    let record = state.tokens.load().get(id).cloned()?;
    let presented = secret_hash(&state.token_key, secret);
    bool::from(presented.as_bytes().ct_eq(record.secret_hash.as_bytes())).then_some(record)
}

/// Revokes an access token issued to the authenticating client (RFC 7009): an unknown token is
/// not an error; a token issued to another client is refused (`unauthorized_client`) and keeps
/// working.
pub async fn revoke(
    state: &AppState,
    presented: &Presented<'_>,
    form: &RevokeForm,
) -> OAuthResult<()> {
    let client = required_client(state, presented, &form.client).await?;
    let token = form
        .token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("`token` is missing"))?;
    let Some(record) = presented_record(state, token) else {
        return Ok(());
    };
    if record.client_id.as_deref() != Some(client.client_id.as_str()) {
        return Err(OAuthError::new(
            400,
            "unauthorized_client",
            format!("the token was not issued to client `{}`", client.client_id),
        ));
    }
    let actor = client_actor(state, presented, &client);
    access_tokens::revoke(state, &actor, &client, &record.id)
        .await
        .map_err(plan_error)?;
    tracing::info!(client_id = %client.client_id, token_id = %record.id, "access token revoked");
    Ok(())
}

/// Introspection (RFC 7662). The caller authenticates as a client (which may introspect the
/// tokens issued to it, or every token when its scopes include `iam:tokens:read` and its owner
/// holds it) or with a bearer token holding `iam:tokens:read`.
pub async fn introspect(
    state: &AppState,
    presented: &Presented<'_>,
    form: &IntrospectForm,
) -> OAuthResult<Introspection> {
    let (caller, own_client) = match presented.bearer {
        Some(token) => {
            let (caller, _) = state.check_token(token.trim()).map_err(|_| OAuthError {
                challenge: Some("Bearer error=\"invalid_token\""),
                ..OAuthError::new(
                    401,
                    "invalid_token",
                    "the bearer token is invalid, inactive or expired",
                )
            })?;
            (caller, None)
        }
        None => {
            let client = required_client(state, presented, &form.client).await?;
            let caller = Caller {
                uid: client.owner_uid.clone(),
                token_id: client.client_id.clone(),
                scopes: Scopes::Only(client.scopes.clone()),
            };
            (caller, Some(client.client_id))
        }
    };
    let authed = Authed {
        context: context(state, presented, &caller.uid),
        caller,
        system: false,
    };
    let broad = state
        .require(
            &authed,
            "iam:tokens:read",
            &Level::Account,
            &attributes(&[]),
        )
        .is_ok();
    if !broad && own_client.is_none() {
        return Err(OAuthError::new(
            403,
            "insufficient_scope",
            "permission `iam:tokens:read` is required to introspect tokens",
        ));
    }
    let token = form
        .token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("`token` is missing"))?;
    let inactive = Introspection::default();
    let Ok((_, record)) = state.check_token(token) else {
        return Ok(inactive);
    };
    if !broad && record.client_id != own_client {
        return Ok(inactive);
    }
    let owner = state
        .model
        .lock()
        .await
        .principals
        .get(&record.owner_uid)
        .map(|p| p.email.clone());
    Ok(Introspection {
        active: true,
        sub: Some(record.owner_uid.clone()),
        username: owner,
        iat: Some(record.created_at.div_euclid(1000)),
        exp: record.expires_at.map(|at| at.div_euclid(1000)),
        token_type: Some("Bearer".to_owned()),
        scope: (!record.scopes.is_empty()).then(|| record.scopes.join(" ")),
        client_id: record.client_id.clone(),
    })
}
