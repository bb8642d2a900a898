//! Console sessions as the browser sees them, and request checks.
//!
//! - A session id is 256 random bits, sent only in the `warden_session` cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Path=/console`; over HTTPS `Secure` and named `__Host-warden_session`
//!   (`Path=/`), when the request came over HTTPS, as seen
//!   through a TLS proxy's `X-Forwarded-Proto: https` or `Forwarded: proto=https`). The sessions
//!   themselves are in the store, found by the SHA-256 of the id, and every replica honours them
//!   (`crate::service::sessions` owns their lifetime: idle time, expiry, the per-user cap, the
//!   credential check).
//! - Every state-changing request carries the session's CSRF token (derived from the session id,
//!   compared in constant time) in the form field `csrf`, and is refused when its `Origin` (or,
//!   without one, its `Referer`) names another host.
//! - A session acts as its principal, with the scopes of the token it signed in with.
//! - A message for the next page ([`Flash`]) is kept with the session in the store, so the page
//!   after a form shows it whichever replica serves it ([`FlashSlot`]).

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use subtle::ConstantTimeEq;

use super::html::hidden;
use super::{ConsoleState, Form, nav_items, redirect};
use crate::auth::request_id;
use crate::error::ApiError;
use crate::service::RequestContext;
use crate::service::sessions::csrf_of;
use crate::service::{Authed, Caller};
use crate::state::AppState;

pub const COOKIE: &str = "warden_session";
pub use crate::service::sessions::{
    ABSOLUTE_MS, Credential, Ended, Flash, IDLE_MS, MAX_SESSIONS_PER_USER, key_of,
};

/// A flash message of a tone (`ok`, `warn`, `bad`); a bad one is an alert, others a status.
pub fn flash(tone: &str, message: &str) -> Markup {
    let role = if tone == "bad" { "alert" } else { "status" };
    html! { p class={ "flash " (tone) } role=(role) { (message) } }
}

/// The message of a request's session: read with the session, shown by the page rendered, set
/// by a form for the next page. [`keep_flash`] stores what changed once the response is made,
/// so that pages and forms set and show messages without waiting on the store themselves.
#[derive(Debug, Clone, Default)]
pub struct FlashSlot(Arc<Mutex<FlashState>>);

#[derive(Debug, Default)]
struct FlashState {
    /// The session's store key, once the request's session is known.
    key: Option<String>,
    pending: Option<Flash>,
    changed: bool,
}

impl FlashSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, FlashState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin(&self, key: &str, pending: Option<Flash>) {
        let mut state = self.lock();
        state.key = Some(key.to_owned());
        state.pending = pending;
        state.changed = false;
    }

    fn set(&self, flash: Flash) {
        let mut state = self.lock();
        state.pending = Some(flash);
        state.changed = true;
    }

    fn take(&self) -> Option<Flash> {
        let mut state = self.lock();
        let taken = state.pending.take();
        if taken.is_some() {
            state.changed = true;
        }
        taken
    }
}

/// Gives each console request a [`FlashSlot`], and stores its session's message when the
/// request set or showed one (a failure only loses the message).
pub async fn keep_flash(
    State(state): State<ConsoleState>,
    mut request: Request,
    next: Next,
) -> Response {
    let slot = FlashSlot::default();
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let (key, pending) = {
        let state = slot.lock();
        match (&state.key, state.changed) {
            (Some(key), true) => (key.clone(), state.pending.clone()),
            _ => return response,
        }
    };
    if let Err(error) = state.app.save_flash(&key, pending.as_ref()).await {
        tracing::warn!(message = %error.message, "console message not stored");
    }
    response
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
    /// The session's message for this or the next page.
    pub flash: FlashSlot,
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
        let session = match state.app.find_session(id, now).await {
            Ok(Ok(session)) => session,
            Ok(Err(ended)) => return Err(to_sign_in(parts, ended)),
            // The session may well be valid: keep the cookie, and say to come back.
            Err(error) => return Err(unavailable(&error)),
        };
        let slot = parts
            .extensions
            .get::<FlashSlot>()
            .cloned()
            .unwrap_or_default();
        slot.begin(&session.key, session.flash.clone());
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
            flash: slot,
            key: session.key,
            authed,
            csrf: csrf_of(id),
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

/// The page for a request whose session could not be read: 503 with `Retry-After`.
pub fn unavailable(error: &ApiError) -> Response {
    let mut response = refusal(error.status(), &error.message);
    if let Some(seconds) = error.retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
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
        self.flash.set(flash);
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
        let flash = self.flash.take();
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
    fn https_is_seen_through_the_proxys_headers() {
        assert!(is_https(&headers(&[("x-forwarded-proto", "https")])));
        assert!(is_https(&headers(&[(
            "forwarded",
            "for=1.2.3.4;proto=https"
        )])));
        assert!(!is_https(&headers(&[("x-forwarded-proto", "http")])));
    }
}
