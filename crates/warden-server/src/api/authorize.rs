//! `POST /iam/v1/authorize` and `/authorize/batch`: decisions for the platform's services
//! (SPEC §10; [`crate::service::decisions`] answers them); `/authorize/residual`: the condition
//! on the attributes a request leaves free ([`crate::service::residuals`]). This module reads the bodies — through
//! the decoder that borrows their text ([`decision_body`]) — and writes the answers: by hand,
//! as serde writes [`DecisionResponse`] and [`BatchResponse`] (a unit test compares them), since a
//! batch's answer is most of what it costs.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use warden_api::ErrorBody;
pub use warden_api::decisions::{
    BatchRequest, BatchResponse, BatchResult, DecisionQuery, DecisionRequest, DecisionResponse,
};
pub use warden_api::residuals::{ResidualRequest, ResidualResponse};

use crate::api::decision_body;
use crate::api::{Body, JsonBody, Query};
use crate::error::ApiResult;
use crate::service::{Authed, decisions, residuals};
use crate::state::AppState;

/// A decision, or a batch of them, written as JSON.
#[derive(Debug)]
pub struct Decided<T>(pub T);

impl IntoResponse for Decided<DecisionResponse> {
    fn into_response(self) -> Response {
        let mut out = Vec::with_capacity(128);
        write_decision(&mut out, &self.0);
        json_response(out)
    }
}

impl IntoResponse for Decided<BatchResponse> {
    fn into_response(self) -> Response {
        let batch = self.0;
        // About 80 bytes per decision without explanations.
        let mut out = Vec::with_capacity(64 + 96 * batch.results.len());
        out.extend_from_slice(b"{\"revision\":");
        push_u64(&mut out, batch.revision);
        out.extend_from_slice(if batch.stale {
            b",\"stale\":true,\"results\":["
        } else {
            b",\"stale\":false,\"results\":["
        });
        for (i, result) in batch.results.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match result {
                BatchResult::Decision(response) => write_decision(&mut out, response),
                BatchResult::Error(error) => {
                    // Errors quote their input; a credential given as a permission is not
                    // repeated.
                    let text = serde_json::to_string(error).unwrap_or_default();
                    out.extend_from_slice(crate::secrets::redact(&text).as_bytes());
                }
            }
        }
        out.extend_from_slice(b"]}");
        json_response(out)
    }
}

#[utoipa::path(
    post,
    path = "/iam/v1/authorize",
    tag = "decisions",
    operation_id = "authorize",
    summary = "One decision; `explain=true` for the reasons; `minRevision` for read-your-writes",
    description = "A caller may always ask about itself (or give a `token` to ask about its owner within its scopes). Permission: `iam:effective-permissions:read` for another principal. A permission the catalogue does not know is a 400 whose `details` name it and the closest known one (`suggestion`); a negative `minRevision`, or one ahead of the store, is a 400.",
    params(DecisionQuery),
    request_body = DecisionRequest,
    responses(
        (status = 200, description = "The decision (DENY is an answer, not an error)", body = DecisionResponse),
        (status = 400, description = "Invalid input: an unknown permission, a negative `minRevision` or one ahead of the store, neither or both of `principal` and `token`, a bad `time`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Asking about another principal without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 503, description = "`minRevision` not reached within a second, or the store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read (for another principal)"))),
)]
pub async fn authorize(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<DecisionQuery>,
    body: JsonBody<DecisionRequest>,
) -> ApiResult<Decided<DecisionResponse>> {
    let request = decision_body::decision(&body)?;
    decisions::decide(&state, &authed, query.explain, query.min_revision, &request)
        .await
        .map(Decided)
}

#[utoipa::path(
    post,
    path = "/iam/v1/authorize/batch",
    tag = "decisions",
    operation_id = "authorize_batch",
    summary = "Up to 1,000 decisions from one snapshot",
    description = "Each slot of `results` is a decision or, for a request naming a permission the catalogue does not know, that request's error (`{\"error\": …}`); any other refusal refuses the batch. Permission: `iam:effective-permissions:read` for another principal.",
    params(DecisionQuery),
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One slot per request, in order", body = BatchResponse),
        (status = 400, description = "Invalid input: more than 1,000 requests, a negative `minRevision` or one ahead of the store, a request without `principal` or `token`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Asking about another principal without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 503, description = "`minRevision` not reached within a second, or the store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read (for another principal)"))),
)]
pub async fn authorize_batch(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<DecisionQuery>,
    body: JsonBody<BatchRequest>,
) -> ApiResult<Decided<BatchResponse>> {
    let batch = decision_body::batch(&body)?;
    decisions::decide_batch(&state, &authed, query.explain, query.min_revision, &batch)
        .await
        .map(Decided)
}

#[utoipa::path(
    post,
    path = "/iam/v1/authorize/residual",
    tag = "decisions",
    operation_id = "authorize_residual",
    summary = "The condition the free attributes must meet: a residual policy for filtering records",
    description = "For one principal and one permission, with some attributes fixed, the predicate over the others that holds exactly when `/iam/v1/authorize` with the same request would answer ALLOW (`docs/residuals.md`). `decision` is `ALLOW` when the residual is `true`, `DENY` when `false`, `CONDITIONAL` otherwise. Who may ask is who may ask for the decision: a caller about itself; about another principal with `iam:effective-permissions:read`; with `token`, about its owner within its scopes (`false` outside them or for a token that no longer works). A permission the catalogue does not know is a 400 naming the closest one; a residual of more than 10,000 terms is a 400 (`details.limit` = `residual terms`) asking to fix more attributes.",
    request_body = ResidualRequest,
    responses(
        (status = 200, description = "The residual", body = ResidualResponse),
        (status = 400, description = "Invalid input: an unknown permission, a negative `minRevision` or one ahead of the store, neither or both of `principal` and `token`, a bad `time`, a residual larger than 10,000 terms", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Asking about another principal without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 503, description = "`minRevision` not reached within a second, or the store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read (for another principal)"))),
)]
pub async fn authorize_residual(
    State(state): State<AppState>,
    authed: Authed,
    Body(request): Body<ResidualRequest>,
) -> ApiResult<Json<ResidualResponse>> {
    residuals::residual(&state, &authed, &request)
        .await
        .map(Json)
}

fn json_response(body: Vec<u8>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Appends a decision as JSON, as serde writes [`DecisionResponse`] (a unit test compares them):
/// written by hand because this is most of a batch's answer.
fn write_decision(out: &mut Vec<u8>, response: &DecisionResponse) {
    out.extend_from_slice(b"{\"decision\":\"");
    out.extend_from_slice(response.decision.as_str().as_bytes());
    out.extend_from_slice(b"\",\"reason\":\"");
    out.extend_from_slice(response.reason.as_str().as_bytes());
    out.extend_from_slice(b"\",\"revision\":");
    push_u64(out, response.revision);
    out.extend_from_slice(if response.stale {
        b",\"stale\":true"
    } else {
        b",\"stale\":false"
    });
    if let Some(explanation) = &response.explanation {
        out.extend_from_slice(b",\"explanation\":");
        if serde_json::to_writer(&mut *out, explanation).is_err() {
            out.extend_from_slice(b"null");
        }
    }
    out.push(b'}');
}

/// Appends `n` in decimal.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(digit) = digits.get_mut(start) {
            *digit = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_api::decisions::{Outcome, Reason};

    const OUTCOMES: [Outcome; 2] = [Outcome::Allow, Outcome::Deny];
    const REASONS: [Reason; 10] = [
        Reason::Allowed,
        Reason::DeniedByStatement,
        Reason::NoMatchingAllow,
        Reason::UnknownPrincipal,
        Reason::InactivePrincipal,
        Reason::UnknownPermission,
        Reason::UnknownEnvironment,
        Reason::NoConsent,
        Reason::OutOfScope,
        Reason::InvalidToken,
    ];

    #[test]
    fn decisions_are_written_as_serde_writes_them() {
        let explanations = [
            None,
            Some(
                serde_json::json!({ "summary": "a \"quoted\" line\n", "deciding": [1, 2.5, null] }),
            ),
        ];
        for decision in OUTCOMES {
            for reason in REASONS {
                for revision in [0, 7, 10, 1_234_567_890, u64::MAX] {
                    for stale in [false, true] {
                        for explanation in &explanations {
                            let response = DecisionResponse {
                                decision,
                                reason,
                                revision,
                                stale,
                                explanation: explanation.clone(),
                            };
                            let mut written = Vec::new();
                            write_decision(&mut written, &response);
                            assert_eq!(
                                String::from_utf8(written).unwrap(),
                                serde_json::to_string(&response).unwrap()
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn batches_are_written_as_serde_writes_them() {
        let decision = DecisionResponse {
            decision: Outcome::Deny,
            reason: Reason::NoMatchingAllow,
            revision: 12,
            stale: false,
            explanation: None,
        };
        let error = crate::error::ApiError::invalid("unknown permission `x`")
            .with_details(serde_json::json!({ "permission": "x", "suggestion": null }));
        for results in [
            vec![],
            vec![BatchResult::Decision(decision.clone())],
            vec![
                BatchResult::Decision(decision.clone()),
                BatchResult::Error(error.body()),
                BatchResult::Decision(decision),
            ],
        ] {
            for stale in [false, true] {
                let batch = BatchResponse {
                    revision: 12,
                    stale,
                    results: results.clone(),
                };
                let expected = serde_json::to_string(&batch).unwrap();
                let response = Decided(batch).into_response();
                let body = futures_body(response);
                assert_eq!(body, expected);
            }
        }
    }

    fn futures_body(response: Response) -> String {
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 1, 9, 10, 99, 100, 4_294_967_296, u64::MAX - 1, u64::MAX] {
            let mut out = b"x".to_vec();
            push_u64(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }
}
