//! What every request's body goes through before a handler sees it: at most
//! [`MAX_BODY_BYTES`](crate::api::MAX_BODY_BYTES) (413 beyond, before reading it when the length
//! is declared), read completely within the server's read timeout (408 after it, and the
//! connection is closed), or refused as unreadable (400). Handlers then get the body whole, so
//! that no extractor of the API or the console waits on a slow client, and every refusal has the
//! API's error shape.
//!
//! The headers' own deadline is the connection's (see [`crate::serve`]).

use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::api::MAX_BODY_BYTES;
use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Why a body was not read.
#[derive(Debug)]
enum Unread {
    TooLarge,
    Broken(String),
}

/// Reads the body of `request` (within the size limit and the read timeout) before passing it on.
pub async fn read_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    if body.size_hint().exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return refuse(too_large());
    }
    let timeout = state.read_timeout;
    let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
    match tokio::time::timeout(timeout, collect(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(Unread::TooLarge)) => refuse(too_large()),
        Ok(Err(Unread::Broken(error))) => refuse(ApiError::invalid(format!(
            "the request body could not be read: {error}"
        ))),
        Err(_) => refuse(
            ApiError::new(
                ErrorCode::Timeout,
                format!("the request body did not arrive within {timeout_ms} ms; send it at once"),
            )
            .with_details(json!({ "readTimeoutMs": timeout_ms })),
        ),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        ErrorCode::TooLarge,
        format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
    )
    .with_details(json!({ "maxBytes": MAX_BODY_BYTES }))
}

/// The error, and the connection closed: the rest of the body is never read.
fn refuse(error: ApiError) -> Response {
    let mut response = error.into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The whole body, or why not; one chunk is passed on without a copy.
async fn collect(mut body: Body, limit: usize) -> Result<Bytes, Unread> {
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut length = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|e| Unread::Broken(e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        length = length.saturating_add(data.len());
        if length > limit {
            return Err(Unread::TooLarge);
        }
        chunks.push(data);
    }
    Ok(match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop().unwrap_or_default(),
        _ => Bytes::from(chunks.concat()),
    })
}
