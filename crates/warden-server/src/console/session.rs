//! Console sessions and request checks.
//!
//! - A session id is 256 random bits, sent only in the `warden_session` cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Path=/console`; over HTTPS `Secure` and named `__Host-warden_session`
//!   (`Path=/`), when the request came over HTTPS, as seen
//!   through a TLS proxy's `X-Forwarded-Proto: https` or `Forwarded: proto=https`). The server
//!   keeps sessions in memory, keyed by the SHA-256 of the id: a restart signs everyone out, and
//!   with several replicas a session lives on the replica that made it.
//! - A session ends after 30 minutes without a request, after 12 hours in any case (the server's
//!   clock), at sign-out, and as soon as its credential no longer holds: the token it signed in
//!   with is revoked, disabled or expired, the password it signed in with was changed, or its
//!   principal was deactivated or deleted.
//! - Every state-changing request carries the session's CSRF token (256 random bits, compared in
//!   constant time) in the form field `csrf`, and is refused when its `Origin` (or, without one,
//!   its `Referer`) names another host.
//! - A session acts as its principal, with the scopes of the token it signed in with.
//! - A principal has at most [`MAX_SESSIONS_PER_USER`] sessions: signing in once more ends its
//!   oldest one. There is no global cap, so that nobody's sign-ins can end anybody else's
//!   sessions; memory is bounded by the principals (at most 10,000 users) times the cap.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::html::hidden;
use super::{ConsoleState, Form, nav_items, redirect};
use crate::auth::{random_url_safe, request_id};
use crate::error::ApiError;
use crate::service::RequestContext;
use crate::service::{Authed, Caller, Scopes};
use crate::state::AppState;

pub const COOKIE: &str = "warden_session";
/// Sessions end after this long without a request.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// Sessions end this long after sign-in in any case.
pub const ABSOLUTE_MS: i64 = 12 * 60 * 60 * 1000;
/// Sessions of one principal kept at most; beyond, its oldest is ended. People sign in from a
/// few browsers and devices; ten is plenty, and small enough that all of them fit in memory.
pub const MAX_SESSIONS_PER_USER: usize = 10;

/// What a session signed in with, checked again at every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A platform or access token, by id.
    Token { id: String },
    /// A password, by a digest of the stored hash it matched.
    Password { fingerprint: String },
}

/// A message shown once on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `ok`, `warn` or `bad`.
    pub tone: &'static str,
    pub message: String,
}

/// A flash message of a tone (`ok`, `warn`, `bad`); a bad one is an alert, others a status.
pub fn flash(tone: &str, message: &str) -> Markup {
    let role = if tone == "bad" { "alert" } else { "status" };
    html! { p class={ "flash " (tone) } role=(role) { (message) } }
}

impl Flash {
    pub fn ok(message: impl Into<String>) -> Self {
        Flash {
            tone: "ok",
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        Flash {
            tone: "bad",
            message: message.into(),
        }
    }

    pub fn warn(message: impl Into<String>) -> Self {
        Flash {
            tone: "warn",
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub uid: String,
    pub credential: Credential,
    pub scopes: Scopes,
    pub csrf: String,
    pub created_ms: i64,
    pub seen_ms: i64,
    pub flash: Option<Flash>,
}

/// Why a session cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No cookie, or an unknown id.
    None,
    Idle,
    Expired,
    /// The credential it signed in with no longer holds.
    Revoked,
}

impl Ended {
    /// The `ended` query value of the sign-in page.
    pub fn code(self) -> &'static str {
        match self {
            Ended::None => "",
            Ended::Idle => "idle",
            Ended::Expired => "expired",
            Ended::Revoked => "revoked",
        }
    }
}

#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// The store key of a session id.
pub fn key_of(id: &str) -> String {
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores a new session and returns its id (for the cookie only).
    pub fn create(&self, session: Session, now: i64) -> Result<String, ApiError> {
        let id = random_url_safe(32)?;
        let mut map = self.lock();
        map.retain(|_, s| live(s, now).is_ok());
        let mut theirs: Vec<(i64, String)> = map
            .iter()
            .filter(|(_, s)| s.uid == session.uid)
            .map(|(k, s)| (s.created_ms, k.clone()))
            .collect();
        if theirs.len() >= MAX_SESSIONS_PER_USER {
            theirs.sort();
            let excess = theirs.len() + 1 - MAX_SESSIONS_PER_USER;
            for (_, key) in theirs.into_iter().take(excess) {
                map.remove(&key);
            }
        }
        map.insert(key_of(&id), session);
        Ok(id)
    }

    /// The session of a key, touched, or why there is none.
    pub fn touch(&self, key: &str, now: i64) -> Result<Session, Ended> {
        let mut map = self.lock();
        let Some(session) = map.get_mut(key) else {
            return Err(Ended::None);
        };
        if let Err(ended) = live(session, now) {
            map.remove(key);
            return Err(ended);
        }
        session.seen_ms = now;
        Ok(session.clone())
    }

    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    pub fn set_flash(&self, key: &str, flash: Flash) {
        if let Some(session) = self.lock().get_mut(key) {
            session.flash = Some(flash);
        }
    }

    pub fn take_flash(&self, key: &str) -> Option<Flash> {
        self.lock().get_mut(key).and_then(|s| s.flash.take())
    }

    /// How many sessions are stored (tests).
    pub fn count(&self) -> usize {
        self.lock().len()
    }
}

fn live(session: &Session, now: i64) -> Result<(), Ended> {
    if now - session.created_ms >= ABSOLUTE_MS {
        Err(Ended::Expired)
    } else if now - session.seen_ms >= IDLE_MS {
        Err(Ended::Idle)
    } else {
        Ok(())
    }
}

/// A cookie's value from the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether the request reached the TLS-terminating proxy in front of Warden over HTTPS.
pub fn is_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split([';', ','])
                .any(|p| p.trim().eq_ignore_ascii_case("proto=https"))
        });
    forwarded_proto || forwarded
}

/// A console cookie's name: over HTTPS with the `__Host-` prefix, which browsers accept only
/// `Secure`, for the whole host (`Path=/`) and without a `Domain` — no other site or subdomain,
/// nor plain HTTP, can set or overwrite it.
fn cookie_name(base: &str, https: bool) -> std::borrow::Cow<'_, str> {
    if https {
        format!("__Host-{base}").into()
    } else {
        base.into()
    }
}

/// A console cookie's value from the request, under the name the request's scheme gives it.
pub fn console_cookie<'a>(headers: &'a HeaderMap, base: &str) -> Option<&'a str> {
    cookie(headers, &cookie_name(base, is_https(headers)))
}

/// A `Set-Cookie` value for a console cookie; `max_age` 0 deletes it. Over plain HTTP it is
/// limited to `/console`; over HTTPS it is a `__Host-` cookie.
pub fn set_cookie(base: &str, value: &str, https: bool, max_age: Option<i64>) -> String {
    let name = cookie_name(base, https);
    let path = if https { "/" } else { "/console" };
    let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if https {
        cookie.push_str("; Secure");
    }
    cookie
}

/// `scheme://host[:port]…` → `host[:port]`.
fn authority(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    rest.split(['/', '?', '#']).next()
}

/// Whether a state-changing request comes from a page of this server: its `Origin` (or, when
/// absent, its `Referer`) names the host it was sent to. Requests with neither are accepted
/// (non-browser clients); the CSRF token is checked anyway.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .map(|v| v.to_str().unwrap_or("null"));
    match source {
        None => true,
        Some(source) => {
            authority(source).is_some_and(|a| !host.is_empty() && a.eq_ignore_ascii_case(host))
        }
    }
}

/// Equal in constant time (for CSRF tokens).
pub fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The signed-in principal of a console request.
#[derive(Debug, Clone)]
pub struct Cx {
    pub app: AppState,
    pub sessions: std::sync::Arc<Sessions>,
    /// The session's store key.
    pub key: String,
    pub authed: Authed,
    pub csrf: String,
    pub email: String,
    pub account: String,
    pub https: bool,
}

/// The sign-in page, with where to come back and why the session ended.
fn to_sign_in(parts: &Parts, ended: Ended) -> Response {
    let mut location = String::from("/console/sign-in");
    let mut query = Vec::new();
    if parts.method == Method::GET {
        let target = parts
            .uri
            .path_and_query()
            .map_or("/console", |p| p.as_str());
        query.push(format!("next={}", super::html::url(target)));
    }
    if ended != Ended::None {
        query.push(format!("ended={}", ended.code()));
    }
    if !query.is_empty() {
        location.push('?');
        location.push_str(&query.join("&"));
    }
    let mut response = redirect(&location);
    let https = is_https(&parts.headers);
    if let Ok(value) = HeaderValue::from_str(&set_cookie(COOKIE, "", https, Some(0))) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Whether the credential a session signed in with still holds.
async fn credential_holds(app: &AppState, session: &Session, now: i64) -> bool {
    let snapshot = app.snapshot();
    let active = snapshot
        .directory()
        .principal(&session.uid)
        .is_some_and(|p| p.active);
    if !active {
        return false;
    }
    match &session.credential {
        Credential::Token { id } => app.tokens.load().get(id).is_some_and(|t| {
            t.owner_uid == session.uid
                && t.status == "ACTIVE"
                && t.expires_at.is_none_or(|at| at > now)
        }),
        Credential::Password { fingerprint } => {
            let model = app.model.lock().await;
            model
                .principals
                .get(&session.uid)
                .and_then(|p| p.password_hash.as_deref())
                .is_some_and(|hash| key_of(hash) == *fingerprint)
        }
    }
}

impl FromRequestParts<ConsoleState> for Cx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        let now = state.app.now_ms();
        let Some(id) = console_cookie(&parts.headers, COOKIE).filter(|v| !v.is_empty()) else {
            return Err(to_sign_in(parts, Ended::None));
        };
        let key = key_of(id);
        let session = state
            .sessions
            .touch(&key, now)
            .map_err(|ended| to_sign_in(parts, ended))?;
        if !credential_holds(&state.app, &session, now).await {
            state.sessions.remove(&key);
            return Err(to_sign_in(parts, Ended::Revoked));
        }
        let snapshot = state.app.snapshot();
        let email = snapshot
            .directory()
            .principal(&session.uid)
            .map(|p| p.email.to_string())
            .unwrap_or_default();
        let token_id = match &session.credential {
            Credential::Token { id } => id.clone(),
            Credential::Password { .. } => "console-password".to_owned(),
        };
        if let Some(slot) = parts.extensions.get::<crate::access_log::CallerSlot>() {
            slot.record(&session.uid);
        }
        let authed = Authed {
            caller: Caller {
                uid: session.uid.clone(),
                token_id,
                scopes: session.scopes.clone(),
            },
            context: RequestContext {
                actor: session.uid.clone(),
                request_id: request_id(&parts.headers),
                now_ms: now,
            },
            system: false,
        };
        Ok(Cx {
            app: state.app.clone(),
            sessions: state.sessions.clone(),
            key,
            authed,
            csrf: session.csrf,
            email,
            account: snapshot.directory().account.to_string(),
            https: is_https(&parts.headers),
        })
    }
}

/// A signed-in, same-origin, CSRF-checked form submission.
#[derive(Debug)]
pub struct Post {
    pub cx: Cx,
    pub form: Form,
}

/// A page for a refused request, without the layout (the session may be unknown).
pub fn refusal(status: StatusCode, message: &str) -> Response {
    let body = html! {
        body.bare {
            main #main {
                h1 { "Request refused" }
                (flash("bad", message))
                p { a href="/console" { "Back to the console" } }
            }
        }
    };
    html_response(status, document("Refused", None, body))
}

/// A whole document: the head, then `body` (the `<body>` element). Pages of a session carry its
/// CSRF token and console.js; pages without one (sign-in, refusals) need no script.
pub fn document(title: &str, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(csrf) = csrf { meta name="csrf-token" content=(csrf); }
                title { (title) " · Warden" }
                link rel="stylesheet" href="/console/assets/console.css";
                @if csrf.is_some() { script src="/console/assets/console.js" defer {} }
            }
            (body)
        }
    }
}

/// An HTML response.
pub fn html_response(status: StatusCode, body: Markup) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body.into_string(),
    )
        .into_response()
}

impl FromRequest<ConsoleState> for Post {
    type Rejection = Response;

    async fn from_request(request: Request, state: &ConsoleState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        if !same_origin(&parts.headers) {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                "This form was sent from another site, so it was not processed.",
            ));
        }
        let cx = Cx::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, crate::extract::MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                refusal(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The form is larger than the server accepts.",
                )
            })?;
        let form =
            Form::parse(&bytes).map_err(|message| refusal(StatusCode::BAD_REQUEST, &message))?;
        if !same_secret(form.get("csrf"), &cx.csrf) {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this console. Reload the page and try again.",
            ));
        }
        Ok(Post { cx, form })
    }
}

impl Cx {
    /// Shows `flash` on the next page this session renders.
    pub fn flash(&self, flash: Flash) {
        self.sessions.set_flash(&self.key, flash);
    }

    /// A hidden CSRF field.
    pub fn csrf_field(&self) -> Markup {
        hidden("csrf", &self.csrf)
    }

    /// A full page: header, navigation, the pending flash message, then `body`.
    pub fn page(&self, title: &str, section: &str, body: Markup) -> Response {
        self.status_page_in(StatusCode::OK, title, section, body)
    }

    /// A full page with a status code.
    pub fn status_page(&self, status: StatusCode, title: &str, body: Markup) -> Response {
        self.status_page_in(status, title, "", body)
    }

    fn status_page_in(
        &self,
        status: StatusCode,
        title: &str,
        section: &str,
        body: Markup,
    ) -> Response {
        let flash = self.sessions.take_flash(&self.key);
        let page = html! {
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/console" { "Warden" }
                    span.who {
                        "Signed in as " strong { (self.email) }
                        span.account { " · account " code { (self.account) } }
                    }
                    form method="post" action="/console/sign-out" class="inline" {
                        (self.csrf_field())
                        button type="submit" class="secondary" { "Sign out" }
                    }
                }
                div.shell {
                    nav aria-label="Sections" {
                        ul {
                            @for item in nav_items(self) {
                                li {
                                    a href=(item.href) aria-current=[(item.key == section).then_some("page")] { (item.label) }
                                }
                            }
                        }
                    }
                    main #main tabindex="-1" {
                        h1 { (title) }
                        @if let Some(message) = flash { (self::flash(message.tone, &message.message)) }
                        (body)
                    }
                }
            }
        };
        html_response(status, document(title, Some(&self.csrf), page))
    }

    /// The page for a refused or failed API call, with the API's status and message.
    pub fn error_page(&self, error: &ApiError, back: &str) -> Response {
        let body = html! {
            (error_alert(error))
            p { a href=(back) { "Back" } }
        };
        let title = match error.status() {
            StatusCode::FORBIDDEN => "Not permitted",
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::CONFLICT => "Conflict",
            StatusCode::TOO_MANY_REQUESTS => "Too many requests",
            s if s.is_server_error() => "Server error",
            _ => "Not done",
        };
        self.status_page(error.status(), title, body)
    }
}

/// An API error as a page's alert: its message, then the details worth showing.
pub fn error_alert(error: &ApiError) -> Markup {
    html! {
        (flash("bad", &error.message))
        (details(error))
    }
}

/// A page that shows a refused form answers with the refusal's status, so that scripts and tests
/// see what the API said.
pub fn with_status(mut response: Response, failed: Option<&ApiError>) -> Response {
    if let Some(error) = failed {
        *response.status_mut() = error.status();
    }
    response
}

/// The parts of an API error's details worth showing: the permission, the rule, diagnostics.
pub fn details(error: &ApiError) -> Markup {
    let Some(details) = error.details.as_deref() else {
        return html! {};
    };
    let text = |key: &str| details.get(key).and_then(|v| v.as_str());
    let items = details
        .get("referrers")
        .or_else(|| details.get("bindings"))
        .and_then(|v| v.as_array());
    html! {
        @if let Some(permission) = text("permission") { p { "Missing permission: " code { (permission) } "." } }
        @if let Some(rule) = text("rule") { p { "Rule: " code { (rule) } "." } }
        @if let Some(help) = text("help") { p { (help) } }
        @if let Some(items) = items {
            ul { @for item in items { li { code { (item.to_string()) } } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn the_document_flash_and_error_alerts_escape_what_they_show() {
        let hostile = "<script>alert('x')</script> & \"y\"";
        let escaped = "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;y&quot;";
        let error = ApiError::invalid(hostile)
            .with_details(serde_json::json!({ "permission": hostile, "referrers": [hostile] }));
        let page = document(
            hostile,
            Some(hostile),
            html! { body { (flash("bad", hostile)) (error_alert(&error)) } },
        )
        .into_string();
        assert!(!page.contains("<script>alert"), "{page}");
        for part in [
            format!("<meta name=\"csrf-token\" content=\"{escaped}\">"),
            format!("<title>{escaped} · Warden</title>"),
            format!("<p class=\"flash bad\" role=\"alert\">{escaped}</p>"),
            format!("<p>Missing permission: <code>{escaped}</code>.</p>"),
            // A referrer is shown as its JSON text, escaped.
            "<li><code>&quot;&lt;script&gt;alert('x')&lt;/script&gt; &amp; \\&quot;y\\&quot;&quot;</code></li>".to_owned(),
        ] {
            assert!(page.contains(&part), "{part} in {page}");
        }
    }

    #[test]
    fn origins_must_name_the_host_the_request_was_sent_to() {
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "warden.example"),
            ("referer", "https://warden.example/console/groups")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "warden.example"),
            ("referer", "https://warden.example.evil/console")
        ])));
    }

    #[test]
    fn a_principal_keeps_its_newest_sessions_and_nobody_else_loses_any() {
        let sessions = Sessions::default();
        let session = |uid: &str, now| Session {
            uid: uid.into(),
            credential: Credential::Token { id: "t".into() },
            scopes: crate::service::Scopes::All,
            csrf: "c".into(),
            created_ms: now,
            seen_ms: now,
            flash: None,
        };
        let victim = key_of(&sessions.create(session("victim", 0), 0).unwrap());
        let first = key_of(&sessions.create(session("mallory", 1), 1).unwrap());
        for now in 2..10_050 {
            sessions.create(session("mallory", now), now).unwrap();
        }
        assert_eq!(sessions.count(), MAX_SESSIONS_PER_USER + 1);
        assert!(
            sessions.touch(&victim, 10_050).is_ok(),
            "another's session stays"
        );
        assert_eq!(sessions.touch(&first, 10_050).unwrap_err(), Ended::None);
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let sessions = Sessions::default();
        let session = |now| Session {
            uid: "u".into(),
            credential: Credential::Token { id: "t".into() },
            scopes: Scopes::All,
            csrf: "c".into(),
            created_ms: now,
            seen_ms: now,
            flash: None,
        };
        let id = sessions.create(session(0), 0).unwrap();
        let key = key_of(&id);
        assert!(sessions.touch(&key, IDLE_MS - 1).is_ok());
        assert_eq!(sessions.touch(&key, 2 * IDLE_MS).unwrap_err(), Ended::Idle);
        assert_eq!(sessions.touch(&key, 2 * IDLE_MS).unwrap_err(), Ended::None);
        let id = sessions.create(session(0), 0).unwrap();
        let key = key_of(&id);
        let mut now = 0;
        while now + IDLE_MS / 2 < ABSOLUTE_MS {
            now += IDLE_MS / 2;
            assert!(sessions.touch(&key, now).is_ok());
        }
        assert_eq!(
            sessions.touch(&key, ABSOLUTE_MS).unwrap_err(),
            Ended::Expired
        );
        assert!(is_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(is_https(&headers(&[(
            "forwarded",
            "for=1.2.3.4;proto=https"
        )])));
        assert!(!is_https(&headers(&[("x-forwarded-proto", "http")])));
    }
}
