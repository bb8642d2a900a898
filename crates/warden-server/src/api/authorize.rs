//! `POST /iam/v1/authorize` and `/authorize/batch`: decisions for the platform's services, with
//! `explain=true` for the reasons and `minRevision` for read-your-writes (SPEC §10).
//!
//! A caller may always ask about itself; asking about another principal needs
//! `iam:effective-permissions:read` for that user (`iam-param:entity-type = "user"`,
//! `iam-param:entity-id` = the principal as given). Instead of a principal, a request may give a
//! `token`: the decision is then for its owner within its scopes — how a platform service asks
//! "may the holder of this token do X".
//!
//! Decisions are the hot path: a body's text is borrowed rather than copied
//! ([`decision_body`]); a batch looks each distinct principal up once, checks once whether its
//! caller may ask about anyone, counts usage and metrics once, and writes its answer straight
//! into one buffer.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_engine::{Attributes, Level, Outcome, Principal, Reason, Request, Snapshot};
use warden_policy::temporal::parse_date_time;

use crate::api::decision_body::{self, DecisionInput};
use crate::api::{Body, JsonBody, Query};
use crate::auth::TokenProblem;
use crate::error::{ApiError, ApiResult};
use crate::limits::MAX_BATCH;
use crate::service::Authed;
use crate::service::guard::attributes;
use crate::state::AppState;

/// How long a decision waits for the snapshot to reach `minRevision`.
const REVISION_WAIT: Duration = Duration::from_secs(1);

/// The body of `POST /iam/v1/authorize`, and each request of a batch.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecisionRequest {
    /// uid, email or service-user handle; or give `token`.
    #[serde(default)]
    pub principal: Option<String>,
    /// An access or platform token instead of `principal`: the decision is for the token's owner,
    /// DENY (`out-of-scope`) for a permission outside the token's scopes, and DENY
    /// (`invalid-token`) for a token that is unknown, revoked, inactive or expired.
    #[serde(default)]
    pub token: Option<String>,
    pub permission: String,
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub attributes: Attributes,
    /// RFC 3339; the time of the decision when absent.
    #[serde(default)]
    pub time: Option<String>,
    #[serde(default)]
    pub min_revision: Option<i64>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExplainQuery {
    #[serde(default)]
    pub explain: bool,
    #[serde(default)]
    pub min_revision: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionResponse {
    pub decision: warden_engine::Outcome,
    pub reason: warden_engine::Reason,
    pub revision: u64,
    pub stale: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Value>,
}

/// The body of `POST /iam/v1/authorize/batch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchRequest {
    pub requests: Vec<DecisionRequest>,
    #[serde(default)]
    pub min_revision: Option<i64>,
}

impl AppState {
    /// The current snapshot once it is at least `min_revision`, or 503 after a bounded wait;
    /// also 503 when the store has been unreachable for longer than the staleness bound. The flag
    /// says whether the answer comes from a snapshot that may be stale.
    pub async fn snapshot_at_least(
        &self,
        min_revision: Option<i64>,
    ) -> ApiResult<(std::sync::Arc<Snapshot>, bool)> {
        let stale = self.freshness()? == crate::replication::Freshness::Stale;
        let Some(min) = min_revision else {
            return Ok((self.snapshot(), stale));
        };
        let min = revision(min)?;
        let deadline = tokio::time::Instant::now() + REVISION_WAIT;
        let mut asked = false;
        loop {
            let snapshot = self.snapshot();
            if snapshot.revision >= min {
                return Ok((snapshot, stale));
            }
            if !asked {
                // Do not wait for the next notification or poll: look now.
                asked = true;
                let _ = self.catch_up().await;
                continue;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::unavailable(
                    format!(
                        "this server has not yet reached revision {min} (it is at {}); retry shortly",
                        snapshot.revision
                    ),
                    1,
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A `minRevision` as a revision: 0 or more.
fn revision(min_revision: i64) -> ApiResult<u64> {
    u64::try_from(min_revision).map_err(|_| {
        ApiError::invalid(format!(
            "`minRevision` is a store revision (0 or more), not `{min_revision}`; leave it out to decide on the current snapshot"
        ))
    })
}

/// The refusal of a permission the catalogue does not know, naming the closest one it knows:
/// a misspelt permission is the caller's mistake, not a DENY to act on.
fn unknown_permission(snapshot: &Snapshot, permission: &str) -> Option<ApiError> {
    let catalogue = snapshot.catalogue();
    if catalogue.permission(permission).is_some() {
        return None;
    }
    let suggestion = catalogue.suggest_permission(permission);
    let hint = match suggestion {
        Some(near) => format!("did you mean `{near}`?"),
        None => "`GET /iam/v1/catalogue` lists the permissions".to_owned(),
    };
    Some(
        ApiError::invalid(format!("unknown permission `{permission}`; {hint}")).with_details(
            serde_json::json!({ "permission": permission, "suggestion": suggestion }),
        ),
    )
}

/// The decisions of one HTTP request, and what they share: the caller, the snapshot, the
/// principals already looked up, and the usage and metrics, counted once at the end.
struct Decider<'a> {
    state: &'a AppState,
    authed: &'a Authed,
    snapshot: &'a Snapshot,
    explain: bool,
    /// The caller may ask about anyone ([`may_ask_about_anyone`]), checked once for a batch.
    trusted: bool,
    /// For a batch: each distinct principal as given, and what it resolved to.
    found: Option<FxHashMap<&'a str, Option<&'a Arc<Principal>>>>,
    /// `(principal uid, permission, allowed)` of each decision, for [`crate::usage::Usage`].
    used: Vec<(&'a str, &'a str, bool)>,
    allowed: u64,
    denied: u64,
}

impl<'a> Decider<'a> {
    fn new(
        state: &'a AppState,
        authed: &'a Authed,
        snapshot: &'a Snapshot,
        explain: bool,
        trusted: bool,
        decisions: usize,
    ) -> Self {
        Decider {
            state,
            authed,
            snapshot,
            explain,
            trusted,
            // Sized once: a batch often names as many principals as it has requests.
            found: (decisions > 1)
                .then(|| FxHashMap::with_capacity_and_hasher(decisions, Default::default())),
            used: Vec::with_capacity(decisions),
            allowed: 0,
            denied: 0,
        }
    }

    /// The principal named `key` in the snapshot, looked up once per batch.
    fn find(&mut self, key: &'a str) -> Option<&'a Arc<Principal>> {
        let directory = self.snapshot.directory();
        match &mut self.found {
            Some(found) => *found
                .entry(key)
                .or_insert_with(|| directory.find_principal(key)),
            None => directory.find_principal(key),
        }
    }

    fn count(&mut self, allowed: bool) {
        if allowed {
            self.allowed += 1;
        } else {
            self.denied += 1;
        }
    }

    /// Counts the decisions made: in metrics, and in usage, one update per run of decisions for
    /// the same principal. Called also when a later request of the batch was refused, so that the
    /// decisions made before it count, as they did when each was counted as it was made.
    fn finish(self) {
        self.state.metrics.decisions(self.allowed, self.denied);
        self.state
            .usage
            .record_all(self.used, self.authed.context.now_ms);
    }

    fn decide(&mut self, request: &'a DecisionInput<'_>) -> ApiResult<DecisionResponse> {
        request.attributes.check_limits()?;
        if let Some(unknown) = unknown_permission(self.snapshot, &request.permission) {
            return Err(unknown);
        }
        let owner: String;
        let (principal, found) = match (&request.principal, &request.token) {
            (Some(principal), None) if crate::secrets::holds_secret(principal) => {
                return Err(ApiError::invalid(
                    "`principal` holds a token; send it as `token` to decide for its owner",
                ));
            }
            (Some(principal), None) => {
                let found = self.find(principal);
                require_may_ask(self.state, self.authed, principal, found, self.trusted)?;
                (&**principal, found)
            }
            (None, Some(token)) => match self.token_subject(token, request)? {
                Ok(uid) => {
                    owner = uid;
                    (
                        owner.as_str(),
                        self.snapshot.directory().find_principal(&owner),
                    )
                }
                Err(denied) => return Ok(denied),
            },
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid("give `principal` or `token`, not both"));
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    "give `principal` (a uid, email or handle) or `token` (an access or platform token)",
                ));
            }
        };
        let time = match &request.time {
            Some(text) => {
                parse_date_time(text).map_err(|e| ApiError::invalid(format!("`time`: {e}")))?
            }
            None => self.authed.context.now_ms.div_euclid(1000),
        };
        let engine_request = Request {
            principal,
            permission: &request.permission,
            environment: request.environment.as_deref(),
            attributes: &request.attributes,
            time,
        };
        let (decision, explanation) = if self.explain {
            let explanation = self.snapshot.explain(&engine_request);
            (
                explanation.decision,
                Some(serde_json::to_value(&explanation).unwrap_or(Value::Null)),
            )
        } else {
            (self.snapshot.decide_found(found, &engine_request), None)
        };
        self.count(decision.is_allowed());
        if let Some(principal) = found {
            self.used
                .push((&*principal.uid, &*request.permission, decision.is_allowed()));
        }
        Ok(DecisionResponse {
            decision: decision.outcome,
            reason: decision.reason,
            revision: self.snapshot.revision,
            stale: false,
            explanation,
        })
    }

    /// The owner of a request's token, or the DENY that the token itself decides. Holding a
    /// token is enough to ask what it may do; the explanation (which shows the owner's policies)
    /// needs what asking about the owner needs.
    fn token_subject(
        &mut self,
        token: &str,
        request: &DecisionInput<'_>,
    ) -> ApiResult<Result<String, DecisionResponse>> {
        let (owner, _) = match self.state.check_token(token.trim()) {
            Ok(found) => found,
            Err(TokenProblem::OwnerDeactivated) => {
                return Ok(Err(self.token_denial(
                    Reason::InactivePrincipal,
                    "denied: the token's owner is deactivated".to_owned(),
                )));
            }
            Err(_) => {
                return Ok(Err(self.token_denial(
                    Reason::InvalidToken,
                    "denied: the token is unknown, revoked, inactive or expired".to_owned(),
                )));
            }
        };
        if self.explain {
            let found = self.snapshot.directory().find_principal(&owner.uid);
            require_may_ask(self.state, self.authed, &owner.uid, found, false)?;
        }
        let permission: &str = &request.permission;
        if !owner.scopes.allow(permission) {
            self.state
                .usage
                .record(&owner.uid, permission, false, self.authed.context.now_ms);
            return Ok(Err(self.token_denial(
                Reason::OutOfScope,
                format!("denied: `{permission}` is outside the token's scopes"),
            )));
        }
        Ok(Ok(owner.uid))
    }

    fn token_denial(&mut self, reason: Reason, summary: String) -> DecisionResponse {
        self.count(false);
        DecisionResponse {
            decision: Outcome::Deny,
            reason,
            revision: self.snapshot.revision,
            stale: false,
            explanation: self.explain.then(|| {
                serde_json::json!({ "decision": Outcome::Deny, "reason": reason, "summary": summary, "deciding": [] })
            }),
        }
    }
}

/// Whether the caller may ask about every principal: it holds `iam:effective-permissions:read`
/// at account level without conditions and is denied it nowhere (so every per-principal check
/// would pass). Computed once per batch instead of once per request.
fn may_ask_about_anyone(authed: &Authed, snapshot: &Snapshot) -> bool {
    let author = warden_engine::escalation::Author {
        principal: &authed.caller.uid,
        scopes: authed.caller.scopes.limit(),
    };
    warden_engine::escalation::holds_unconditionally(
        snapshot,
        &author,
        "iam:effective-permissions:read",
        None,
    )
}

/// A caller may always ask about itself; about another principal with
/// `iam:effective-permissions:read` for it. `found` is the principal as the snapshot resolves it.
fn require_may_ask(
    state: &AppState,
    authed: &Authed,
    principal: &str,
    found: Option<&Arc<Principal>>,
    trusted: bool,
) -> ApiResult<()> {
    if trusted || principal == authed.caller.uid {
        return Ok(());
    }
    if found.is_some_and(|p| *p.uid == *authed.caller.uid) {
        return Ok(());
    }
    state.require(
        authed,
        "iam:effective-permissions:read",
        &Level::Account,
        &attributes(&[
            ("iam-param:entity-type", "user"),
            ("iam-param:entity-id", principal),
        ]),
    )
}

/// One decision, for a caller that wants it as a value (the console's access simulator).
pub async fn authorize(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ExplainQuery>,
    Body(request): Body<DecisionRequest>,
) -> ApiResult<axum::Json<DecisionResponse>> {
    decide_single(&state, &authed, &query, &DecisionInput::borrowing(&request))
        .await
        .map(axum::Json)
}

/// `POST /iam/v1/authorize`.
pub async fn authorize_http(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ExplainQuery>,
    body: JsonBody<DecisionRequest>,
) -> ApiResult<Response> {
    let request = decision_body::decision(&body)?;
    let response = decide_single(&state, &authed, &query, &request).await?;
    let mut out = Vec::with_capacity(128);
    write_decision(&mut out, &response);
    Ok(json_response(out))
}

async fn decide_single(
    state: &AppState,
    authed: &Authed,
    query: &ExplainQuery,
    request: &DecisionInput<'_>,
) -> ApiResult<DecisionResponse> {
    let (snapshot, stale) = state
        .snapshot_at_least(request.min_revision.or(query.min_revision))
        .await?;
    // A span per decision for the trace exporter; with no subscriber interested it costs one
    // check. Nothing is awaited while it is entered.
    let _span = tracing::info_span!("decision", revision = snapshot.revision).entered();
    let mut decider = Decider::new(state, authed, &snapshot, query.explain, false, 1);
    let decided = decider.decide(request);
    decider.finish();
    let mut response = decided?;
    response.stale = stale;
    Ok(response)
}

/// `POST /iam/v1/authorize/batch`: up to [`MAX_BATCH`] decisions from one snapshot.
pub async fn authorize_batch(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ExplainQuery>,
    body: JsonBody<BatchRequest>,
) -> ApiResult<Response> {
    let batch = decision_body::batch(&body)?;
    if batch.requests.len() > MAX_BATCH {
        return Err(crate::limits::limit_reached(
            "requests per batch",
            MAX_BATCH,
        ));
    }
    let mut min = None;
    for asked in batch
        .requests
        .iter()
        .filter_map(|r| r.min_revision)
        .chain(batch.min_revision)
        .chain(query.min_revision)
    {
        revision(asked)?;
        min = min.max(Some(asked));
    }
    let (snapshot, stale) = state.snapshot_at_least(min).await?;
    let _span = tracing::info_span!(
        "decision",
        revision = snapshot.revision,
        batch = batch.requests.len()
    )
    .entered();
    let trusted = batch.requests.len() > 1 && may_ask_about_anyone(&authed, &snapshot);
    let mut decider = Decider::new(
        &state,
        &authed,
        &snapshot,
        query.explain,
        trusted,
        batch.requests.len(),
    );
    // About 80 bytes per decision without explanations.
    let mut out = Vec::with_capacity(64 + 96 * batch.requests.len());
    out.extend_from_slice(b"{\"revision\":");
    push_u64(&mut out, snapshot.revision);
    out.extend_from_slice(if stale {
        b",\"stale\":true,\"results\":["
    } else {
        b",\"stale\":false,\"results\":["
    });
    let mut answered = Ok(());
    for (i, request) in batch.requests.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // An unknown permission is one request's mistake: its slot says so, the others are
        // answered. Any other refusal refuses the batch.
        if let Some(unknown) = unknown_permission(&snapshot, &request.permission) {
            let text = serde_json::to_string(&unknown.body()).unwrap_or_default();
            out.extend_from_slice(crate::secrets::redact(&text).as_bytes());
            continue;
        }
        match decider.decide(request) {
            Ok(mut response) => {
                response.stale = stale;
                write_decision(&mut out, &response);
            }
            Err(error) => {
                answered = Err(error);
                break;
            }
        }
    }
    decider.finish();
    answered?;
    out.extend_from_slice(b"]}");
    Ok(json_response(out))
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
    out.extend_from_slice(outcome_name(response.decision).as_bytes());
    out.extend_from_slice(b"\",\"reason\":\"");
    out.extend_from_slice(reason_name(response.reason).as_bytes());
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

/// The names serde gives the outcomes (`SCREAMING_SNAKE_CASE`).
fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allow => "ALLOW",
        Outcome::Deny => "DENY",
    }
}

/// The names serde gives the reasons (`kebab-case`).
fn reason_name(reason: Reason) -> &'static str {
    match reason {
        Reason::Allowed => "allowed",
        Reason::DeniedByStatement => "denied-by-statement",
        Reason::NoMatchingAllow => "no-matching-allow",
        Reason::UnknownPrincipal => "unknown-principal",
        Reason::InactivePrincipal => "inactive-principal",
        Reason::UnknownPermission => "unknown-permission",
        Reason::UnknownEnvironment => "unknown-environment",
        Reason::NoConsent => "no-consent",
        Reason::OutOfScope => "out-of-scope",
        Reason::InvalidToken => "invalid-token",
    }
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
    fn numbers_are_written_in_decimal() {
        for n in [0, 1, 9, 10, 99, 100, 4_294_967_296, u64::MAX - 1, u64::MAX] {
            let mut out = b"x".to_vec();
            push_u64(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }
}
