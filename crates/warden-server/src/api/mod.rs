//! The HTTP API: the router, and what every handler shares — extractors that turn bad input into
//! the API's error shape, level paths, and responses that carry the store revision.

pub mod audit;
pub mod authorize;
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
mod rejection;
pub mod resolution;
pub mod review;
pub mod routes;
pub mod service_users;
pub mod users;
pub mod workflows;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// The largest request body accepted (413 beyond).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let (typed, _) = routes::typed_routes().split_for_parts();
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", routes::document());
    let mut router = Router::new()
        .merge(crate::console::router(state.clone()))
        .merge(typed)
        .merge(docs);
    for (path, method_router) in routes::method_routers() {
        router = router.route(path, method_router);
    }
    router
        .fallback(not_found)
        .layer(middleware::from_fn(error_bodies))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::intake::read_body,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), health::count))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
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

/// A JSON body; malformed JSON, unknown fields and oversize bodies become API errors.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let text = rejection.body_text();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            ErrorCode::TooLarge,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        );
    }
    if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        );
    }
    let syntax = matches!(rejection, JsonRejection::JsonSyntaxError(_));
    let report = text
        .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        .trim_start_matches("Failed to parse the request body as JSON: ");
    ApiError::invalid(rejection::json_body(report, syntax))
}

/// A JSON body for a handler that decodes it itself, borrowing its text from the bytes (the
/// decision endpoints, where decoding is most of a request's cost), and that otherwise answers
/// exactly as [`Body<T>`] does: the same content types, size limit and refusals.
#[derive(Debug)]
pub enum JsonBody<T> {
    /// Sent as `Content-Type: application/json` and read whole: for the handler's decoder, which
    /// falls back on [`JsonBody::canonical`] for a body it refuses.
    Bytes(axum::body::Bytes),
    /// Sent with another JSON content type (`application/json; charset=utf-8`, `…+json`), or
    /// refused: [`Body<T>`] decided, by its own rules.
    Decoded(T),
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        // Only the plainest spelling is taken here; any other goes through `Body`, so that
        // which content types are JSON stays the extractor's decision.
        let plain = request
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes() == b"application/json");
        if !plain {
            return Body::<T>::from_request(request, state)
                .await
                .map(|Body(value)| JsonBody::Decoded(value));
        }
        match axum::body::Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(JsonBody::Bytes(bytes)),
            Err(rejection) => Err(json_rejection(JsonRejection::from(rejection))),
        }
    }
}

impl<T: DeserializeOwned> JsonBody<T> {
    /// The bytes decoded as [`Body<T>`] decodes them: the value, or the refusal it gives.
    pub fn canonical(bytes: &[u8]) -> ApiResult<T> {
        axum::Json::<T>::from_bytes(bytes)
            .map(|axum::Json(value)| value)
            .map_err(json_rejection)
    }
}

/// Query parameters.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|refused: QueryRejection| {
                ApiError::invalid(rejection::query(&refused.body_text()))
            })
    }
}

/// Path parameters.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|refused: PathRejection| {
                ApiError::invalid(rejection::path(&refused.body_text()))
            })
    }
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

/// Sets a field of a JSON object (no-op on anything else).
pub fn set(value: &mut serde_json::Value, key: &str, field: serde_json::Value) {
    if let Some(object) = value.as_object_mut() {
        object.insert(key.to_owned(), field);
    }
}

pub use crate::service::levels::new_uuid;
