//! The administrators' console: server-rendered HTML under `/console`, served by `warden serve`
//! itself (docs/console.md).
//!
//! The console is a second front end of the service layer's use cases: pages read and forms write
//! through them (some pages still through the API's handler functions, thin wrappers of the same
//! use cases), with an [`Authed`] built from the session, so self-authorisation
//! (`AppState::require`), no-escalation and validation apply unchanged. The console never reaches
//! into the model to change it. It decides which actions to *offer* with a dry run of the same
//! decision ([`Cx::may`]); the use cases refuse anyway.
//!
//! What this module does not own: sessions and CSRF ([`session`]), signing in ([`sign_in`]), the
//! pages (one module per page group), the markup components ([`html`]).

pub mod assets;
pub mod audit;
pub mod bindings;
pub mod boundaries;
pub mod credentials;
pub mod diff;
pub mod groups;
pub mod html;
pub mod impact;
pub mod least_privilege;
pub mod policies;
pub mod service_users;
pub mod session;
pub mod sign_in;
pub mod simulator;
pub mod users;
pub mod workflows;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;
use serde::de::DeserializeOwned;
use serde_json::Value;
use warden_engine::{Level, Request};

use crate::error::{ApiError, ApiResult};
use crate::service::Authed;
use crate::service::guard::attributes;
use crate::state::AppState;
pub use session::{Cx, Post};

/// What every console handler shares.
#[derive(Debug, Clone)]
pub struct ConsoleState {
    pub app: AppState,
    pub sign_in: Arc<sign_in::Guard>,
}

/// The console's routes; [`crate::app`] joins them with the API's.
pub fn router(app: AppState) -> Router<AppState> {
    let console = ConsoleState {
        app,
        sign_in: Arc::new(sign_in::Guard::default()),
    };
    Router::new()
        // Whoever opens the server's address in a browser lands on the console.
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/console") }),
        )
        .route("/console", get(home))
        .route("/console/", get(home))
        .route("/console/assets/{file}", get(assets::serve))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/check", post(policies::check_fragment))
        .route("/console/groups", get(groups::list).post(groups::create))
        .route(
            "/console/groups/{id}",
            get(groups::show).post(groups::update),
        )
        .route("/console/groups/{id}/members", post(groups::add_member))
        .route(
            "/console/groups/{id}/members/remove",
            post(groups::remove_member),
        )
        .route("/console/groups/{id}/delete", post(groups::delete))
        .route("/console/users", get(users::list).post(users::create))
        .route("/console/users/{id}", get(users::show))
        .route("/console/users/{id}/groups", post(users::set_groups))
        .route("/console/users/{id}/password", post(users::set_password))
        .route("/console/users/{id}/delete", post(users::delete))
        .route(
            "/console/service-users",
            get(service_users::list).post(service_users::create),
        )
        .route("/console/service-users/new", get(service_users::new_page))
        .route(
            "/console/service-users/handle",
            get(service_users::handle_preview),
        )
        .route("/console/service-users/review", get(service_users::review))
        .route(
            "/console/service-users/review.csv",
            get(service_users::review_csv),
        )
        .route(
            "/console/service-users/{id}",
            get(service_users::edit).post(service_users::update),
        )
        .route(
            "/console/service-users/{id}/groups",
            post(service_users::set_groups),
        )
        .route(
            "/console/service-users/{id}/lifecycle",
            post(service_users::lifecycle),
        )
        .route(
            "/console/service-users/{id}/delete",
            post(service_users::delete),
        )
        .route(
            "/console/service-users/{id}/history",
            get(service_users::history),
        )
        .route(
            "/console/service-users/{id}/least-privilege",
            get(least_privilege::page),
        )
        .route(
            "/console/policies",
            get(policies::list).post(policies::create),
        )
        .route("/console/policies/new", get(policies::new_page))
        .route(
            "/console/policies/{level}/{id}",
            get(policies::edit).post(policies::update),
        )
        .route(
            "/console/policies/{level}/{id}/delete",
            post(policies::delete),
        )
        .route("/console/bindings", get(bindings::list).post(bindings::add))
        .route("/console/bindings/remove", post(bindings::remove))
        .route(
            "/console/boundaries",
            get(boundaries::list).post(boundaries::create),
        )
        .route("/console/boundaries/new", get(boundaries::new_page))
        .route(
            "/console/boundaries/{id}",
            get(boundaries::edit).post(boundaries::update),
        )
        .route("/console/boundaries/{id}/delete", post(boundaries::delete))
        .route(
            "/console/oauth-clients",
            get(credentials::clients).post(credentials::create_client),
        )
        .route(
            "/console/oauth-clients/{id}/secrets",
            post(credentials::add_secret),
        )
        .route(
            "/console/oauth-clients/{id}/secrets/{secret}/revoke",
            post(credentials::revoke_secret),
        )
        .route(
            "/console/oauth-clients/{id}/delete",
            post(credentials::delete_client),
        )
        .route(
            "/console/tokens",
            get(credentials::tokens).post(credentials::create_token),
        )
        .route(
            "/console/tokens/{id}/status",
            post(credentials::token_status),
        )
        .route(
            "/console/tokens/{id}/delete",
            post(credentials::delete_token),
        )
        .route(
            "/console/workflows",
            get(workflows::list).post(workflows::create),
        )
        .route("/console/workflows/{id}/delete", post(workflows::delete))
        .route("/console/audit", get(audit::list))
        .route("/console/simulator", get(simulator::page))
        .route("/console/{*rest}", get(not_found))
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            session::keep_flash,
        ))
        .layer(axum::middleware::map_response(headers))
        .with_state(console)
}

/// Security headers on every console response: no framing, no inline script or style, no
/// caching of pages (they show data; some show a secret once).
async fn headers(mut response: Response) -> Response {
    let set = |response: &mut Response, name: header::HeaderName, value: &'static str| {
        response
            .headers_mut()
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    };
    set(
        &mut response,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    );
    set(&mut response, header::X_FRAME_OPTIONS, "DENY");
    set(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(&mut response, header::REFERRER_POLICY, "same-origin");
    set(&mut response, header::CACHE_CONTROL, "no-store");
    response
}

async fn home(cx: Cx) -> Response {
    let body = html! {
        p { "Warden's console: manage who may do what in this account. Choose a section." }
        ul.cards {
            @for item in nav_items(&cx) {
                li {
                    a href=(item.href) { strong { (item.label) } }
                    span { (item.blurb) }
                }
            }
        }
    };
    cx.page("Overview", "home", body)
}

async fn not_found(cx: Cx) -> Response {
    cx.status_page(
        StatusCode::NOT_FOUND,
        "Not found",
        html! { p { "There is no such page. Use the sections on the left." } },
    )
}

/// One entry of the navigation.
#[derive(Debug)]
pub struct NavItem {
    pub key: &'static str,
    pub href: &'static str,
    pub label: &'static str,
    pub blurb: &'static str,
}

const fn nav(
    key: &'static str,
    href: &'static str,
    label: &'static str,
    blurb: &'static str,
) -> NavItem {
    NavItem {
        key,
        href,
        label,
        blurb,
    }
}

/// The sections the signed-in principal may read.
pub fn nav_items(cx: &Cx) -> Vec<NavItem> {
    let account = Level::Account;
    let level_type = [("iam:levelType", "account")];
    let mut items = Vec::new();
    let mut add = |allowed: bool, item: NavItem| {
        if allowed {
            items.push(item);
        }
    };
    add(
        cx.may("iam:groups:read", &account, &[]),
        nav(
            "groups",
            "/console/groups",
            "Groups",
            "members and bindings",
        ),
    );
    add(
        cx.may("iam:users:read", &account, &[]),
        nav(
            "users",
            "/console/users",
            "Users",
            "groups, effective permissions, passwords",
        ),
    );
    add(
        cx.may("iam:service-users:read", &account, &[]),
        nav(
            "service-users",
            "/console/service-users",
            "Service users",
            "non-interactive principals, owners, reviews",
        ),
    );
    add(
        cx.may("iam:policies:read", &account, &level_type),
        nav(
            "policies",
            "/console/policies",
            "Policies",
            "statements, validation, impact",
        ),
    );
    add(
        cx.may("iam:bindings:read", &account, &level_type),
        nav(
            "bindings",
            "/console/bindings",
            "Bindings",
            "policies granted to groups",
        ),
    );
    add(
        cx.may("iam:boundaries:read", &account, &[]),
        nav(
            "boundaries",
            "/console/boundaries",
            "Boundaries",
            "limits on bindings",
        ),
    );
    let tokens = cx.may("iam:tokens:read", &account, &[]);
    add(
        tokens,
        nav(
            "oauth-clients",
            "/console/oauth-clients",
            "OAuth clients",
            "client credentials",
        ),
    );
    add(
        tokens,
        nav(
            "tokens",
            "/console/tokens",
            "Platform tokens",
            "long-lived tokens",
        ),
    );
    let workflows = cx.environments().iter().any(|env| {
        let level = Level::Environment(env.as_str().into());
        ["STANDARD", "SIMPLE"].iter().any(|t| {
            cx.may(
                "automation:workflows:read",
                &level,
                &[("automation:workflow-type", t)],
            )
        })
    });
    add(
        workflows,
        nav(
            "workflows",
            "/console/workflows",
            "Workflows",
            "owners, actors, visibility",
        ),
    );
    add(
        cx.may("iam:audit:read", &account, &[]),
        nav(
            "audit",
            "/console/audit",
            "Audit log",
            "every write; verify the chain",
        ),
    );
    add(
        true,
        nav(
            "simulator",
            "/console/simulator",
            "Access simulator",
            "decisions and their explanations",
        ),
    );
    items
}

impl Cx {
    /// Whether the signed-in principal holds `permission`: the decision `AppState::require`
    /// makes (the session's scopes, then the engine), without recording it as a use. Used only
    /// to decide what to offer; the handlers check again.
    pub fn may(&self, permission: &str, level: &Level, pairs: &[(&str, &str)]) -> bool {
        let caller = &self.authed.caller;
        if !caller.scopes.allow(permission) {
            return false;
        }
        let environment = match level {
            Level::Environment(env) => Some(env.as_ref()),
            _ => None,
        };
        let attributes = attributes(pairs);
        let request = Request {
            principal: &caller.uid,
            permission,
            environment,
            attributes: &attributes,
            time: self.authed.context.now_ms.div_euclid(1000),
        };
        self.app.snapshot().decide(&request).is_allowed()
    }

    /// The account's environments, sorted.
    pub fn environments(&self) -> Vec<String> {
        self.app
            .snapshot()
            .directory()
            .environments()
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    /// A copy of the request's identity for a handler call.
    pub fn authed(&self) -> Authed {
        self.authed.clone()
    }
}

/// Builds a handler's input the way the JSON API does: through its `Deserialize` (unknown fields
/// refused, defaults applied).
pub fn input<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_json::from_value(value).map_err(|e| ApiError::invalid(format!("invalid input: {e}")))
}

/// The fields of a posted form, in order; a name may repeat (checkboxes).
#[derive(Debug, Default, Clone)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    pub fn parse(bytes: &[u8]) -> Result<Form, String> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
            .map(Form)
            .map_err(|e| format!("the form could not be read: {e}"))
    }

    /// The first value of a field, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// A text field's value, trimmed, or `None` when it is empty or absent.
    pub fn text(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `name=value` lines of a text field, a name given twice making a list.
    pub fn pairs(&self, name: &str) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (n, line) in self.get(name).lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                return Err(format!(
                    "line {} of {name}: write `name=value`, not `{line}`",
                    n + 1
                ));
            };
            out.push((key.trim().to_owned(), value.trim().to_owned()));
        }
        Ok(out)
    }
}

/// `303 See Other` to a console page.
/// Items of a service-layer answer as the pages read them.
pub fn values<T: serde::Serialize>(items: &[T]) -> Vec<Value> {
    items.iter().map(|item| serde_json::json!(item)).collect()
}

pub fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A key of a JSON value, as a string list.
pub fn strings(value: &Value, key: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
