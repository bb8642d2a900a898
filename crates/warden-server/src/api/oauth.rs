//! The OAuth2 endpoints (SPEC §8): `POST /sso/oauth2/token` (client credentials, RFC 6749 §4.4),
//! `POST /sso/oauth2/revoke` (RFC 7009) and `POST /sso/oauth2/introspect` (RFC 7662).
//!
//! Requests are form-encoded; errors are `{error, error_description}` (RFC 6749 §5.2), never the
//! API's own error shape, and every answer carries `Cache-Control: no-store`. Clients
//! authenticate with HTTP Basic or the `client_id`/`client_secret` parameters (one of them). Bad
//! secrets are counted per source address, not per client id ([`crate::throttle`]): past
//! [`crate::secrets::MAX_FAILURES`] within a minute, that source gets 429 (`slow_down`) with
//! `Retry-After`, and nobody else does. Secrets are checked in the bounded argon2id pool
//! ([`crate::hashing`]); when its queue is full the answer is 503 (`temporarily_unavailable`)
//! with `Retry-After`, still in the OAuth error shape. A client whose owner is deactivated fails
//! to authenticate (`invalid_client`), like a wrong secret.
//!
//! Access tokens are reference tokens (`wdn_at_<id>_<secret>`): a stored record with a keyed hash
//! of the secret, the client, the owner, the granted scopes and an expiry. Their rights are their
//! scopes ∩ their owner's permissions, decided at each use.

use std::collections::BTreeMap;
use warden_api::scopes::{UNSUPPORTED_SCOPES, coarse_scope};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use warden_engine::Level;

use crate::auth::{parse_token, request_id, secret_hash};
use crate::records::{OAuthClientBody, TokenBody};
use crate::secrets::{decoy_hash, is_client_id, parse_client_secret};
use crate::service::access_tokens;
use crate::service::guard::attributes;
use crate::service::{Authed, Caller, RequestContext, Scopes};
use crate::state::AppState;
use crate::throttle::Source;

/// An OAuth error response (RFC 6749 §5.2).
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
    challenge: Option<&'static str>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
            challenge: None,
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_client(description: impl Into<String>) -> Self {
        OAuthError {
            challenge: Some("Basic realm=\"warden\", charset=\"UTF-8\""),
            ..OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", description)
        }
    }

    pub(crate) fn slow_down(description: impl Into<String>, retry_after: u64) -> Self {
        OAuthError {
            retry_after: Some(retry_after),
            ..OAuthError::new(StatusCode::TOO_MANY_REQUESTS, "slow_down", description)
        }
    }

    fn temporarily_unavailable(busy: crate::hashing::Busy) -> Self {
        OAuthError {
            retry_after: Some(busy.retry_after),
            ..OAuthError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too many client authentications are waiting; retry shortly",
            )
        }
    }

    fn server_error() -> Self {
        OAuthError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the request could not be completed; nothing was changed, retry later",
        )
    }
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let description = crate::secrets::redact(&self.description).into_owned();
        let body = json!({ "error": self.error, "error_description": description });
        let mut response = no_store((self.status, axum::Json(body)).into_response());
        if let Some(challenge) = self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

type OAuthResult<T> = Result<T, OAuthError>;

/// The form parameters; each at most once (RFC 6749 §3.2).
fn form(headers: &HeaderMap, body: &[u8]) -> OAuthResult<BTreeMap<String, String>> {
    if body.is_empty() {
        return Ok(BTreeMap::new());
    }
    let form_encoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_encoded {
        return Err(OAuthError::invalid_request(
            "send the parameters form-encoded, with `Content-Type: application/x-www-form-urlencoded`",
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::invalid_request("the body is not valid form encoding"))?;
    let mut out = BTreeMap::new();
    for (name, value) in pairs {
        if out.contains_key(&name) {
            return Err(OAuthError::invalid_request(format!(
                "parameter `{}` is given more than once",
                name.chars().take(64).collect::<String>()
            )));
        }
        out.insert(name, value);
    }
    Ok(out)
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
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
) -> OAuthResult<Option<(String, String)>> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    let in_form = form.contains_key("client_id") || form.contains_key("client_secret");
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
        (None, true) => match (form.get("client_id"), form.get("client_secret")) {
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
    let owner_active = state
        .snapshot()
        .directory()
        .principal(&client.owner_uid)
        .is_some_and(|p| p.active);
    if client.status != "ACTIVE" || !owner_active {
        tracing::warn!(%client_id, outcome = "owner deactivated", "oauth client authentication failed");
        return Err(OAuthError::invalid_client(
            "the client is disabled: its owner is deactivated",
        ));
    }
    Ok(client)
}

/// The client of a request that must authenticate one.
async fn required_client(
    state: &AppState,
    source: Source,
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
) -> OAuthResult<OAuthClientBody> {
    let (id, secret) = client_credentials(headers, form)?.ok_or_else(|| {
        OAuthError::invalid_client(
            "client authentication is required: HTTP Basic or `client_id` and `client_secret`",
        )
    })?;
    authenticate_client(state, source, &id, &secret).await
}

/// The scopes to grant: the requested ones (each one of the client's) or all of the client's. A
/// Dynatrace coarse scope (`account-idm-read`, …) stands for the permissions it maps to
/// ([`warden_api::scopes`]); of those, the client's are granted, and none is a refusal.
fn granted_scopes(
    client: &OAuthClientBody,
    requested: Option<&String>,
) -> OAuthResult<Vec<String>> {
    let Some(requested) = requested else {
        return Ok(client.scopes.clone());
    };
    let invalid_scope = |description: String| {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", description)
    };
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
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "`scope` is empty; leave it out to get every scope of the client",
        ));
    }
    Ok(out)
}

fn context(state: &AppState, headers: &HeaderMap, actor: &str) -> RequestContext {
    RequestContext {
        actor: actor.to_owned(),
        request_id: request_id(headers),
        now_ms: state.now_ms(),
    }
}

/// A client authenticated by its secret, acting for its owner within its scopes; recorded in
/// the audit log as the client.
fn client_actor(state: &AppState, headers: &HeaderMap, client: &OAuthClientBody) -> Authed {
    Authed {
        caller: Caller {
            uid: client.owner_uid.clone(),
            token_id: client.client_id.clone(),
            scopes: Scopes::Only(client.scopes.clone()),
        },
        context: context(state, headers, &client.client_id),
        system: false,
    }
}

/// `POST /sso/oauth2/token`.
pub async fn token(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match issue(&state, source, &headers, &body).await {
        Ok(value) => no_store(axum::Json(value).into_response()),
        Err(error) => error.into_response(),
    }
}

async fn issue(
    state: &AppState,
    source: Source,
    headers: &HeaderMap,
    body: &[u8],
) -> OAuthResult<Value> {
    let form = form(headers, body)?;
    let client = required_client(state, source, headers, &form).await?;
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        None => {
            return Err(OAuthError::invalid_request(
                "`grant_type` is missing; use `client_credentials`",
            ));
        }
        Some(other) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "grant type `{}` is not supported; use `client_credentials`",
                    other.chars().take(100).collect::<String>()
                ),
            ));
        }
    }
    let scopes = granted_scopes(&client, form.get("scope"))?;
    let actor = client_actor(state, headers, &client);
    let issued = access_tokens::issue(
        state,
        &actor,
        &client,
        scopes.clone(),
        form.get("resource").map(String::as_str),
    )
    .await
    .map_err(plan_error)?;
    tracing::info!(client_id = %client.client_id, token_id = %issued.id, "access token issued");
    Ok(json!({
        "access_token": issued.token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in_s,
        "scope": scopes.join(" "),
        "resource": issued.resource,
    }))
}

/// An API error from the write pipeline, as an OAuth error.
fn plan_error(error: crate::error::ApiError) -> OAuthError {
    match error.wire_code() {
        code @ ("invalid_target" | "invalid_client" | "slow_down") => OAuthError {
            retry_after: error.retry_after,
            challenge: (code == "invalid_client")
                .then_some("Basic realm=\"warden\", charset=\"UTF-8\""),
            ..OAuthError::new(error.status(), code, error.message)
        },
        _ if error.status() == StatusCode::SERVICE_UNAVAILABLE => OAuthError {
            retry_after: error.retry_after,
            ..OAuthError::new(error.status(), "temporarily_unavailable", error.message)
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

/// `POST /sso/oauth2/revoke` (RFC 7009): 200 for unknown tokens; a token issued to another
/// client is refused with `unauthorized_client` and keeps working.
pub async fn revoke(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match revoke_token(&state, source, &headers, &body).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(error) => error.into_response(),
    }
}

async fn revoke_token(
    state: &AppState,
    source: Source,
    headers: &HeaderMap,
    body: &[u8],
) -> OAuthResult<()> {
    let form = form(headers, body)?;
    let client = required_client(state, source, headers, &form).await?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("`token` is missing"))?;
    let Some(record) = presented_record(state, token) else {
        return Ok(());
    };
    if record.client_id.as_deref() != Some(client.client_id.as_str()) {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            format!("the token was not issued to client `{}`", client.client_id),
        ));
    }
    let actor = client_actor(state, headers, &client);
    access_tokens::revoke(state, &actor, &client, &record.id)
        .await
        .map_err(plan_error)?;
    tracing::info!(client_id = %client.client_id, token_id = %record.id, "access token revoked");
    Ok(())
}

/// `POST /sso/oauth2/introspect` (RFC 7662). The caller authenticates as a client (which may
/// introspect the tokens issued to it, or every token when its scopes include `iam:tokens:read`
/// and its owner holds it) or with a bearer token holding `iam:tokens:read`.
pub async fn introspect(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match introspection(&state, source, &headers, &body).await {
        Ok(value) => no_store(axum::Json(value).into_response()),
        Err(error) => error.into_response(),
    }
}

async fn introspection(
    state: &AppState,
    source: Source,
    headers: &HeaderMap,
    body: &[u8],
) -> OAuthResult<Value> {
    let form = form(headers, body)?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let (caller, own_client) = match bearer {
        Some(token) => {
            let (caller, _) = state.check_token(token.trim()).map_err(|_| OAuthError {
                challenge: Some("Bearer error=\"invalid_token\""),
                ..OAuthError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the bearer token is invalid, inactive or expired",
                )
            })?;
            (caller, None)
        }
        None => {
            let client = required_client(state, source, headers, &form).await?;
            let caller = Caller {
                uid: client.owner_uid.clone(),
                token_id: client.client_id.clone(),
                scopes: Scopes::Only(client.scopes.clone()),
            };
            (caller, Some(client.client_id))
        }
    };
    let authed = Authed {
        context: context(state, headers, &caller.uid),
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
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "permission `iam:tokens:read` is required to introspect tokens",
        ));
    }
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("`token` is missing"))?;
    let inactive = json!({ "active": false });
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
    let mut out = json!({
        "active": true,
        "sub": record.owner_uid,
        "username": owner,
        "iat": record.created_at.div_euclid(1000),
        "token_type": "Bearer",
    });
    if !record.scopes.is_empty() {
        crate::api::set(&mut out, "scope", json!(record.scopes.join(" ")));
    }
    if let Some(client_id) = &record.client_id {
        crate::api::set(&mut out, "client_id", json!(client_id));
    }
    if let Some(at) = record.expires_at {
        crate::api::set(&mut out, "exp", json!(at.div_euclid(1000)));
    }
    Ok(out)
}
