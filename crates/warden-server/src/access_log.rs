//! The access log and the request id: every request gets an id (the caller's `X-Request-Id` when
//! it is a short printable token, a fresh UUID otherwise), echoed in the answer's `X-Request-Id`,
//! recorded in audit entries, and written in one log line per request — method, route template,
//! status, latency, caller and request id. The line never carries a token, a query string or a
//! body: the route is the template (`/iam/v1/accounts/{accountId}/groups`), not the path.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Where the authentication of a request leaves the caller's id for the log line.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(Arc<OnceLock<String>>);

impl CallerSlot {
    /// Records who made the request (the first caller found wins).
    pub fn record(&self, caller: &str) {
        let _ = self.0.set(caller.to_owned());
    }

    fn caller(&self) -> &str {
        self.0.get().map_or("-", String::as_str)
    }
}

/// The caller's request id when it is acceptable, a fresh one otherwise.
pub fn request_id(given: Option<&HeaderValue>) -> String {
    given
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty() && value.len() <= 128 && value.chars().all(|c| c.is_ascii_graphic())
        })
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The outermost layer: settles the request id (so that everything inside reads the same one),
/// times the request and logs it.
pub async fn log(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(request.headers().get(&REQUEST_ID));
    let header = HeaderValue::from_str(&id).ok();
    if let Some(value) = &header {
        request.headers_mut().insert(REQUEST_ID, value.clone());
    }
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |path| path.as_str().to_owned());
    // The span of the request: traced when an OTLP endpoint is configured.
    let span = tracing::info_span!(
        target: "warden::request",
        "request",
        method = %method,
        route = %route,
        request_id = %id,
        status = tracing::field::Empty,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    span.record("status", response.status().as_u16());
    if let Some(value) = header {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: "warden::access",
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_us,
        caller = slot.caller(),
        request_id = %id,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_callers_request_id_is_kept_only_when_short_and_printable() {
        let given = HeaderValue::from_static("trace-42");
        assert_eq!(request_id(Some(&given)), "trace-42");
        let spaced = HeaderValue::from_static("two words");
        assert_ne!(request_id(Some(&spaced)), "two words");
        let long = HeaderValue::from_str(&"x".repeat(129)).unwrap();
        assert_eq!(request_id(Some(&long)).len(), 36);
        assert_eq!(request_id(None).len(), 36);
    }
}
