//! Signing in and out.
//!
//! `POST /console/sign-in` takes a Warden token (`token`), or an email and a password that an
//! administrator set (`PUT …/users/{email}/password`). The form is protected against login CSRF
//! by a double-submitted value: the sign-in page sets the `warden_sign_in` cookie and puts the
//! same random value in the form.
//!
//! Passwords (ASVS 5.0 V6):
//! - every failure gets the same answer, whether the email is unknown, belongs to a service user,
//!   has no password or the password is wrong; unknown emails are checked against a decoy hash so
//!   that they take as long as a wrong password;
//! - at most [`MAX_FAILURES`] failed attempts per source address (not per email: anyone could
//!   then lock out a user they do not own) per [`WINDOW_MS`]; then 429 with `Retry-After` for
//!   that source until the window ends ([`crate::throttle`]). An attempt counts from the moment
//!   it starts, so concurrent guesses cannot overrun the budget; a success does not clear it;
//! - the argon2id verification runs in the bounded pool of [`crate::hashing`]: 503 with
//!   `Retry-After` when its queue is full, and a check whose client has gone is never started.
//!
//! Successful sign-ins and sign-outs are written to the audit log (`console.sign-in`,
//! `console.sign-out`); failures go to the server log.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::json;
use warden_engine::PrincipalKind;
use warden_engine::directory::normalise_email;

use super::html::{Attrs, hidden, input, url};
use super::session::{
    COOKIE, Credential, Post, console_cookie, document, flash, html_response, is_https, refusal,
    same_origin, same_secret, set_cookie,
};
use super::{ConsoleState, Form, redirect};
use crate::auth::random_url_safe;
use crate::secrets::decoy_hash;
use crate::service::{Authed, Caller, RequestContext, Scopes};
use crate::throttle::{Source, SourceLimiter};

/// The cookie that carries the sign-in form's anti-CSRF value.
pub const SIGN_IN_COOKIE: &str = "warden_sign_in";
/// Failed password sign-ins tolerated per source address and window: enough for the people of
/// an office behind one address to mistype now and then, few enough that guessing from one
/// address gets 40 tries an hour.
pub const MAX_FAILURES: u32 = 10;
/// The window in which failures are counted, from the first one.
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
/// Sources tracked at most; beyond, the oldest are forgotten (a full map refuses nobody).
pub const TRACKED_SOURCES: usize = 10_000;

/// The failure counts of password sign-ins, per source.
#[derive(Debug)]
pub struct Guard {
    failures: SourceLimiter,
}

impl Default for Guard {
    fn default() -> Self {
        Guard {
            failures: SourceLimiter::new(MAX_FAILURES, WINDOW_MS, TRACKED_SOURCES),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    ended: Option<String>,
}

/// Only console paths are followed after sign-in (no open redirect).
fn safe_next(next: &str) -> &str {
    let valid = (next == "/console" || next.starts_with("/console/"))
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if valid { next } else { "/console" }
}

fn ended_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "idle" => "You were signed out after 30 minutes without activity.",
        "expired" => "Your session reached its 12-hour limit. Sign in again.",
        "revoked" => {
            "Your session ended: its token or password changed, or your account was deactivated."
        }
        "signed-out" => "You are signed out.",
        _ => return None,
    })
}

fn render(
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    email: &str,
    message: Option<(&str, &str)>,
) -> Response {
    let value = console_cookie(headers, SIGN_IN_COOKIE)
        .filter(|v| v.len() == 43)
        .map(str::to_owned)
        .or_else(|| random_url_safe(32).ok())
        .unwrap_or_default();
    let common = html! { (hidden("csrf", &value)) (hidden("next", next)) };
    let body = html! {
        body.bare {
            main #main.sign-in {
                h1 { "Sign in to Warden" }
                @if let Some((tone, text)) = message {
                    (flash(tone, text))
                }
                section aria-labelledby="with-password" {
                    h2 #with-password { "With your email and password" }
                    form method="post" action="/console/sign-in" {
                        (common)
                        (input("email", "Email", "email", email, Attrs::new().kind("email").autocomplete("username").max_length(254), ""))
                        (input("password", "Password", "password", "", Attrs::new().kind("password").autocomplete("current-password").max_length(1024), "Set by an administrator. Service users cannot sign in with a password."))
                        button type="submit" { "Sign in" }
                    }
                }
                section aria-labelledby="with-token" {
                    h2 #with-token { "With a Warden token" }
                    form method="post" action="/console/sign-in" {
                        (common)
                        (input("token", "Token", "token", "", Attrs::new().kind("password").autocomplete("off"), "A platform token (wdn_pt_…), an access token, or the administrator token that the first start wrote to warden-admin-token. The session has the token's scopes."))
                        button type="submit" class="secondary" { "Sign in with the token" }
                    }
                }
            }
        }
    };
    let mut response = html_response(status, document("Sign in", None, body));
    let https = is_https(headers);
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SIGN_IN_COOKIE, &value, https, Some(3600))) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

pub async fn page(headers: HeaderMap, Query(query): Query<SignInQuery>) -> Response {
    let next = safe_next(query.next.as_deref().unwrap_or("/console"));
    let message = query
        .ended
        .as_deref()
        .and_then(ended_message)
        .map(|m| ("ok", m));
    render(&headers, StatusCode::OK, next, "", message)
}

pub async fn submit(
    State(state): State<ConsoleState>,
    source: Source,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !same_origin(&headers) {
        return refusal(
            StatusCode::FORBIDDEN,
            "This form was sent from another site, so it was not processed.",
        );
    }
    let form = match Form::parse(&body) {
        Ok(form) => form,
        Err(message) => return refusal(StatusCode::BAD_REQUEST, &message),
    };
    let next = safe_next(form.get("next")).to_owned();
    let expected = console_cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !same_secret(form.get("csrf"), expected) {
        return render(
            &headers,
            StatusCode::FORBIDDEN,
            &next,
            "",
            Some((
                "bad",
                "The sign-in form expired. It has been reloaded: please sign in again.",
            )),
        );
    }
    let now = state.app.now_ms();
    let token = form.get("token").trim();
    let signed_in = if token.is_empty() {
        password_sign_in(&state, &form, source, now).await
    } else {
        token_sign_in(&state, token)
    };
    let (uid, credential, scopes) = match signed_in {
        Ok(found) => found,
        Err(refused) => {
            state
                .app
                .metrics
                .sign_in_refused(refused.status == StatusCode::TOO_MANY_REQUESTS);
            let mut response = render(
                &headers,
                refused.status,
                &next,
                form.get("email"),
                Some(("bad", refused.message)),
            );
            if let Some(seconds) = refused.retry_after
                && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
    };
    let id = match state
        .app
        .open_session(&uid, &credential, &scopes, now)
        .await
    {
        Ok(id) => id,
        Err(e) => return super::session::unavailable(&e),
    };
    let how = match &credential {
        Credential::Token { id } => json!({ "with": "token", "tokenId": id }),
        Credential::Password { .. } => json!({ "with": "password" }),
    };
    let actor = Authed {
        caller: Caller {
            uid: uid.clone(),
            token_id: String::new(),
            scopes: Scopes::Only(Vec::new()),
        },
        context: RequestContext {
            actor: uid.clone(),
            request_id: crate::auth::request_id(&headers),
            now_ms: now,
        },
        system: false,
    };
    if let Err(error) = state
        .app
        .record(&actor, "console.sign-in", &format!("user/{uid}"), how)
        .await
    {
        tracing::warn!(message = %error.message, "console sign-in not recorded in the audit log");
    }
    tracing::info!(uid = %uid, "console sign-in");
    let mut response = redirect(&next);
    let https = is_https(&headers);
    let headers_out = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(COOKIE, &id, https, None)) {
        headers_out.append(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SIGN_IN_COOKIE, "", https, Some(0))) {
        headers_out.append(header::SET_COOKIE, v);
    }
    response
}

/// Why a sign-in was refused.
#[derive(Debug)]
struct Refused {
    status: StatusCode,
    message: &'static str,
    retry_after: Option<u64>,
}

fn refused(status: StatusCode, message: &'static str) -> Refused {
    Refused {
        status,
        message,
        retry_after: None,
    }
}

type SignedIn = Result<(String, Credential, Scopes), Refused>;

fn token_sign_in(state: &ConsoleState, token: &str) -> SignedIn {
    match state.app.check_token(token) {
        Ok((caller, record)) => Ok((
            caller.uid,
            Credential::Token {
                id: record.id.clone(),
            },
            caller.scopes,
        )),
        Err(problem) => {
            tracing::info!(?problem, "console sign-in with a token refused");
            Err(refused(
                StatusCode::UNAUTHORIZED,
                "The token was not accepted: it is unknown, revoked, disabled or expired, or its owner is deactivated.",
            ))
        }
    }
}

const WRONG: &str = "The email or password is not correct.";

async fn password_sign_in(state: &ConsoleState, form: &Form, source: Source, now: i64) -> SignedIn {
    let email = normalise_email(form.get("email"));
    let password = form.get("password").to_owned();
    if email.is_empty() || password.is_empty() {
        return Err(refused(
            StatusCode::BAD_REQUEST,
            "Enter your email and password, or a token.",
        ));
    }
    if email.len() > 254 || password.len() > 1024 {
        return Err(refused(StatusCode::UNAUTHORIZED, WRONG));
    }
    let failures = &state.sign_in.failures;
    if let Err(throttled) = failures.begin(source, now) {
        tracing::warn!(%source, "console sign-in refused: too many failures from this source");
        return Err(Refused {
            retry_after: Some(throttled.retry_after),
            ..refused(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins from your address. Wait up to 15 minutes, or sign in with a token.",
            )
        });
    }
    let stored = {
        let model = state.app.model.lock().await;
        state
            .app
            .snapshot()
            .directory()
            .find_principal(&email)
            .filter(|p| p.kind == PrincipalKind::User && p.active)
            .and_then(|p| model.principals.get(p.uid.as_ref()))
            .and_then(|p| Some((p.uid.clone(), p.password_hash.clone()?)))
    };
    let hash = stored
        .as_ref()
        .map_or_else(|| decoy_hash().to_owned(), |(_, hash)| hash.clone());
    let verified = match state.app.hashing.verify(password, hash).await {
        Ok(verified) => verified,
        Err(busy) => {
            // Not checked: neither a failure nor a success.
            failures.finish(source, true, state.app.now_ms());
            tracing::warn!(%source, "console sign-in refused: the hashing queue is full");
            return Err(Refused {
                retry_after: Some(busy.retry_after),
                ..refused(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Too many sign-ins are being checked right now. Try again in a moment.",
                )
            });
        }
    };
    let signed_in = stored.is_some() && verified;
    failures.finish(source, signed_in, state.app.now_ms());
    match stored {
        Some((uid, hash)) if verified => Ok((uid, Credential::password(&hash), Scopes::All)),
        _ => {
            tracing::info!(email = ?email, %source, "console sign-in with a password refused");
            Err(refused(StatusCode::UNAUTHORIZED, WRONG))
        }
    }
}

pub async fn sign_out(State(state): State<ConsoleState>, post: Post) -> Response {
    let cx = post.cx;
    // Ended in the store: every replica refuses it from now on. If the store cannot be reached
    // the session is not ended, and the person is told so rather than shown as signed out.
    if let Err(error) = state.app.end_session(&cx.key).await {
        return super::session::unavailable(&error);
    }
    if let Err(error) = cx
        .app
        .record(
            &cx.authed,
            "console.sign-out",
            &format!("user/{}", cx.authed.caller.uid),
            json!({}),
        )
        .await
    {
        tracing::warn!(message = %error.message, "console sign-out not recorded in the audit log");
    }
    let mut response = redirect(&format!(
        "/console/sign-in?ended=signed-out&next={}",
        url("/console")
    ));
    if let Ok(v) = HeaderValue::from_str(&set_cookie(COOKIE, "", cx.https, Some(0))) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_limited_per_source_and_a_full_map_refuses_nobody() {
        let guard = Guard::default();
        let source = |n: u32| Source::of(std::net::Ipv4Addr::from(0x0a00_0000 + n).into());
        for _ in 0..MAX_FAILURES {
            guard.failures.begin(source(0), 0).unwrap();
            guard.failures.finish(source(0), false, 0);
        }
        assert!(guard.failures.begin(source(0), 1).is_err());
        assert!(guard.failures.begin(source(1), 1).is_ok(), "per source");
        guard.failures.finish(source(1), true, 1);
        assert!(
            guard.failures.begin(source(0), WINDOW_MS).is_ok(),
            "a new window"
        );
        // More failing sources than the map holds: the newest are tracked, nobody is refused for
        // the map being full.
        for n in 2..(TRACKED_SOURCES as u32 + 500) {
            guard.failures.begin(source(n), 2).unwrap();
            guard.failures.finish(source(n), false, 2);
        }
        assert_eq!(guard.failures.tracked(), TRACKED_SOURCES);
        let fresh = source(TRACKED_SOURCES as u32 + 1_000);
        assert!(guard.failures.begin(fresh, 3).is_ok());
    }

    #[test]
    fn only_console_paths_are_followed() {
        assert_eq!(safe_next("/console/groups?x=1"), "/console/groups?x=1");
        assert_eq!(safe_next("https://evil.example"), "/console");
        assert_eq!(safe_next("//evil.example/console"), "/console");
        assert_eq!(safe_next("/console//evil.example"), "/console");
        assert_eq!(safe_next("/consolex"), "/console");
    }
}
