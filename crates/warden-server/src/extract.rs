//! The extractors every handler (API and console) shares: they turn bad input — malformed JSON,
//! unknown fields, oversize bodies, bad paths and queries — into the API's error shape, with
//! messages for people (`rejection`).

pub(crate) mod rejection;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult, ErrorCode};

/// The largest request body accepted (413 beyond).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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
