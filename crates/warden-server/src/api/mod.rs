//! The HTTP API: its routes, what every request passes through (error bodies, body limits), and
//! what its handlers share — level paths and responses that carry the store revision. The
//! extractors live in [`crate::extract`] (the console uses them too); the router that joins the
//! API and the console in [`crate::app`].

pub mod audit;
pub mod authorize;
pub mod authzen;
pub mod batch;
pub mod bindings;
pub mod boundaries;
pub mod catalogue;
mod decision_body;
pub mod environments;
pub mod group_permissions;
pub mod groups;
pub mod health;
pub mod oauth;
pub mod oauth_clients;
pub mod passwords;
pub mod platform_tokens;
pub mod policies;
pub mod resolution;
pub mod routes;
pub mod service_users;
pub mod users;
pub mod workflows;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

pub(crate) use crate::extract::rejection;
pub use crate::extract::{Body, JsonBody, MAX_BODY_BYTES, Path, Query};

/// The API's routes: the operations (declared with their handlers) and Swagger UI at `/docs`. [`crate::app`] adds the console and what every request passes
/// through.
pub fn routes() -> Router<AppState> {
    let (typed, _) = routes::typed_routes().split_for_parts();
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", routes::document());
    Router::new().merge(typed).merge(docs)
}

/// The whole server's router: the API and the console (see [`crate::app::router`]).
pub fn router(state: AppState) -> Router {
    crate::app::router(state)
}

/// What every request passes through: the access log and request id, rates per source on the
/// endpoints without a token, bodies read within the time and size limits, request
/// counts, error bodies on every error status, and the API's answer to an unknown path.
pub(crate) fn layered(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(not_found)
        .layer(middleware::from_fn(error_bodies))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::intake::read_body,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), health::count))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::rate::limit,
        ))
        .layer(middleware::from_fn(crate::access_log::log))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, NO_SUCH_ENDPOINT)
}

const NO_SUCH_ENDPOINT: &str = "no such endpoint; `/openapi.json` lists them";

/// Gives every error answer that left its handler without a body (axum's 405, a bare status)
/// the API's error body; the answer's own headers are kept.
async fn error_bodies(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let message = match status {
        // axum adds `Allow` outside this layer, so the message points at it.
        StatusCode::METHOD_NOT_ALLOWED => format!(
            "`{method}` is not allowed on this path; the `Allow` header lists the methods it answers"
        ),
        StatusCode::NOT_FOUND => NO_SUCH_ENDPOINT.to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("the request body is larger than {MAX_BODY_BYTES} bytes")
        }
        status => format!(
            "the request was refused: {}",
            status.canonical_reason().unwrap_or("no reason given")
        ),
    };
    let (mut parts, _) = response.into_parts();
    let (error_parts, body) = ApiError::new(crate::error::code_of(status), message)
        .into_response()
        .into_parts();
    parts.headers.extend(error_parts.headers);
    Response::from_parts(parts, body)
}

/// A response to a write: the status, the body, and `Warden-Revision`.
#[derive(Debug)]
pub struct Written<T> {
    pub status: StatusCode,
    pub revision: i64,
    pub body: Option<T>,
}

impl<T: serde::Serialize> IntoResponse for Written<T> {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            Some(body) => (self.status, axum::Json(body)).into_response(),
            None => self.status.into_response(),
        };
        if let Ok(value) = HeaderValue::from_str(&self.revision.to_string()) {
            response.headers_mut().insert("warden-revision", value);
        }
        response
    }
}

pub use crate::service::levels::{level, level_parts, writable};

/// `response` with `Warden-Warnings` (a JSON array) when there are warnings about the write.
pub(crate) fn with_warnings(mut response: Response, warnings: &[String]) -> Response {
    if !warnings.is_empty()
        && let Ok(text) = serde_json::to_string(warnings)
        && let Ok(value) = HeaderValue::from_str(&ascii(&text))
    {
        response.headers_mut().insert("warden-warnings", value);
    }
    response
}

/// JSON text with every non-ASCII character as a `\u` escape, so that a name in any script
/// survives in a header (the structure of the JSON is ASCII; only strings change).
fn ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

pub use crate::service::levels::new_uuid;

#[cfg(test)]
mod warning_tests {
    #[test]
    fn warnings_in_any_script_survive_a_header_as_the_same_json() {
        let warnings = vec!["boundary `Zöne 🌍` leaves it open".to_owned()];
        let text = super::ascii(&serde_json::to_string(&warnings).unwrap_or_default());
        assert!(text.is_ascii(), "{text}");
        assert_eq!(
            serde_json::from_str::<Vec<String>>(&text).ok(),
            Some(warnings)
        );
    }
}
