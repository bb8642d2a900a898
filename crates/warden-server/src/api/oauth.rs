//! The OAuth2 endpoints (SPEC §8): `POST /sso/oauth2/token` (client credentials, RFC 6749 §4.4),
//! `POST /sso/oauth2/revoke` (RFC 7009) and `POST /sso/oauth2/introspect` (RFC 7662);
//! [`crate::service::oauth`] decides.
//!
//! This module reads the requests — form-encoded parameters, each at most once, unknown ones
//! ignored (RFC 6749 §3.2), and the `Authorization` header — and writes the answers: errors as
//! `{error, error_description}` (RFC 6749 §5.2), never the API's own error shape, with
//! `WWW-Authenticate` and `Retry-After` where they apply; every answer carries
//! `Cache-Control: no-store`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use warden_api::oauth::{
    ClientCredentials, IntrospectForm, Introspection, OAuthErrorBody, RevokeForm, TokenForm,
    TokenResponse,
};

use crate::auth::request_id;
pub use crate::service::oauth::OAuthError;
use crate::service::oauth::{self, OAuthResult, Presented};
use crate::state::AppState;
use crate::throttle::Source;

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody {
            error: self.error.to_owned(),
            error_description: crate::secrets::redact(&self.description).into_owned(),
        };
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = no_store((status, axum::Json(body)).into_response());
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

/// A successful OAuth answer: JSON (or an empty 200), never cached.
#[derive(Debug)]
pub struct NoStore<T>(pub Option<T>);

impl<T: serde::Serialize> IntoResponse for NoStore<T> {
    fn into_response(self) -> Response {
        no_store(match self.0 {
            Some(body) => axum::Json(body).into_response(),
            None => StatusCode::OK.into_response(),
        })
    }
}

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

/// The client credentials given as form parameters.
fn credentials(form: &mut BTreeMap<String, String>) -> ClientCredentials {
    ClientCredentials {
        client_id: form.remove("client_id"),
        client_secret: form.remove("client_secret"),
    }
}

/// The text after `scheme ` in the `Authorization` header (the scheme in either case usage has).
fn authorization<'a>(headers: &'a HeaderMap, scheme: &str) -> Option<&'a str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (given, rest) = value.split_once(' ')?;
    let lower = scheme.to_ascii_lowercase();
    (given == scheme || given == lower).then_some(rest)
}

/// How the request presents itself to the use cases.
fn presented<'a>(headers: &'a HeaderMap, source: Source, id: &'a str) -> Presented<'a> {
    Presented {
        basic: authorization(headers, "Basic"),
        bearer: authorization(headers, "Bearer"),
        source,
        request_id: id,
    }
}

#[utoipa::path(
    post,
    path = "/sso/oauth2/token",
    tag = "oauth2",
    operation_id = "oauth_token",
    summary = "Client credentials grant (RFC 6749 §4.4)",
    description = "Form-encoded; the client authenticates with HTTP Basic or `client_id`/`client_secret` (one of them). Errors are `{error, error_description}` (RFC 6749 §5.2): `invalid_request` (400), `unsupported_grant_type` (400), `invalid_scope` (400), `invalid_target` (400, a `resource` other than this account), `invalid_client` (401, with `WWW-Authenticate: Basic`), `slow_down` (429 after repeated bad secrets from one address, with `Retry-After`), `temporarily_unavailable` (503, with `Retry-After`). Every answer carries `Cache-Control: no-store`.",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The access token", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type`, `invalid_scope` or `invalid_target`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`: no, malformed or wrong client credentials, or a disabled client", body = OAuthErrorBody, headers(("WWW-Authenticate" = String, description = "`Basic realm=\"warden\"`"))),
        (status = 413, description = "A body larger than 1 MiB", body = warden_api::ErrorBody),
        (status = 429, description = "`slow_down`: too many bad secrets from this address", body = OAuthErrorBody, headers(("Retry-After" = u64, description = "Seconds"))),
        (status = 500, description = "`server_error`: nothing was changed", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`: too many authentications waiting", body = OAuthErrorBody, headers(("Retry-After" = u64, description = "Seconds"))),
    ),
    security(("clientBasic" = [])),
    extensions(("x-warden-permission" = json!("OAuth client authentication (HTTP Basic or `client_id`/`client_secret`)"))),
)]
pub async fn token(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    body: Bytes,
) -> OAuthResult<NoStore<TokenResponse>> {
    let mut form = form(&headers, &body)?;
    let form = TokenForm {
        grant_type: form.remove("grant_type"),
        scope: form.remove("scope"),
        resource: form.remove("resource"),
        client: credentials(&mut form),
    };
    let id = request_id(&headers);
    oauth::issue(&state, &presented(&headers, source, &id), &form)
        .await
        .map(|issued| NoStore(Some(issued)))
}

#[utoipa::path(
    post,
    path = "/sso/oauth2/revoke",
    tag = "oauth2",
    operation_id = "oauth_revoke",
    summary = "Revoke an access token issued to the client (RFC 7009)",
    description = "Form-encoded, with the client's authentication as for `/sso/oauth2/token`. An unknown token is 200 (RFC 7009 §2.2); a token issued to another client is `unauthorized_client` (400) and keeps working. Errors are `{error, error_description}` (RFC 6749 §5.2).",
    request_body(content = RevokeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or not a token of this client's"),
        (status = 400, description = "`invalid_request` or `unauthorized_client`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody, headers(("WWW-Authenticate" = String, description = "`Basic realm=\"warden\"`"))),
        (status = 413, description = "A body larger than 1 MiB", body = warden_api::ErrorBody),
        (status = 429, description = "`slow_down`", body = OAuthErrorBody, headers(("Retry-After" = u64, description = "Seconds"))),
        (status = 500, description = "`server_error`: nothing was changed", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = OAuthErrorBody, headers(("Retry-After" = u64, description = "Seconds"))),
    ),
    security(("clientBasic" = [])),
    extensions(("x-warden-permission" = json!("OAuth client authentication"))),
)]
pub async fn revoke(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    body: Bytes,
) -> OAuthResult<NoStore<()>> {
    let mut form = form(&headers, &body)?;
    let form = RevokeForm {
        token: form.remove("token"),
        token_type_hint: form.remove("token_type_hint"),
        client: credentials(&mut form),
    };
    let id = request_id(&headers);
    oauth::revoke(&state, &presented(&headers, source, &id), &form).await?;
    Ok(NoStore(None))
}

#[utoipa::path(
    post,
    path = "/sso/oauth2/introspect",
    tag = "oauth2",
    operation_id = "oauth_introspect",
    summary = "Introspect a token (RFC 7662)",
    description = "Form-encoded. The caller authenticates as a client (which may introspect the tokens issued to it, or every token when its scopes and owner hold `iam:tokens:read`) or with a bearer token holding `iam:tokens:read`. Anything not valid, or not visible to the caller, is `{\"active\": false}`. Errors are `{error, error_description}` (RFC 6749 §5.2).",
    request_body(content = IntrospectForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the token is", body = Introspection),
        (status = 400, description = "`invalid_request`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`, or `invalid_token` for a bearer token", body = OAuthErrorBody, headers(("WWW-Authenticate" = String, description = "The challenge"))),
        (status = 403, description = "`insufficient_scope`: a bearer token without `iam:tokens:read`", body = OAuthErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = warden_api::ErrorBody),
        (status = 429, description = "`slow_down`", body = OAuthErrorBody, headers(("Retry-After" = u64, description = "Seconds"))),
        (status = 503, description = "`temporarily_unavailable`", body = OAuthErrorBody, headers(("Retry-After" = u64, description = "Seconds"))),
    ),
    security(("clientBasic" = []), ("bearer" = [])),
    extensions(("x-warden-permission" = json!("OAuth client authentication, or a bearer token with iam:tokens:read"))),
)]
pub async fn introspect(
    State(state): State<AppState>,
    source: Source,
    headers: HeaderMap,
    body: Bytes,
) -> OAuthResult<NoStore<Introspection>> {
    let mut form = form(&headers, &body)?;
    let form = IntrospectForm {
        token: form.remove("token"),
        token_type_hint: form.remove("token_type_hint"),
        client: credentials(&mut form),
    };
    let id = request_id(&headers);
    oauth::introspect(&state, &presented(&headers, source, &id), &form)
        .await
        .map(|found| NoStore(Some(found)))
}
