//! `POST /iam/v1/authorize` and `/authorize/batch`: decisions for the platform's services, with
//! `explain=true` for the reasons and `minRevision` for read-your-writes (SPEC §10).
//!
//! A caller may always ask about itself; asking about another principal needs
//! `iam:effective-permissions:read` for that user (`iam-param:entity-type = "user"`,
//! `iam-param:entity-id` = the principal as given). Instead of a principal, a request may give a
//! `token`: the decision is then for its owner within its scopes — how a platform service asks
//! "may the holder of this token do X".

use std::time::Duration;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_engine::{Attributes, Level, Outcome, Reason, Request, Snapshot};
use warden_policy::temporal::parse_date_time;

use crate::api::{Body, Query};
use crate::auth::{Authed, TokenProblem};
use crate::authz::attributes;
use crate::error::{ApiError, ApiResult};
use crate::limits::MAX_BATCH;
use crate::state::AppState;

/// How long a decision waits for the snapshot to reach `minRevision`.
const REVISION_WAIT: Duration = Duration::from_secs(1);

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
        let min = u64::try_from(min).unwrap_or(0);
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

fn decide_one(
    state: &AppState,
    authed: &Authed,
    snapshot: &Snapshot,
    request: &DecisionRequest,
    explain: bool,
    trusted: bool,
) -> ApiResult<DecisionResponse> {
    let principal = match (&request.principal, &request.token) {
        (Some(principal), None) if crate::secrets::holds_secret(principal) => {
            return Err(ApiError::invalid(
                "`principal` holds a token; send it as `token` to decide for its owner",
            ));
        }
        (Some(principal), None) => {
            require_may_ask(state, authed, snapshot, principal, trusted)?;
            principal.clone()
        }
        (None, Some(_)) => match token_subject(state, authed, snapshot, request, explain)? {
            Ok(owner) => owner,
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
        None => authed.context.now_ms.div_euclid(1000),
    };
    let engine_request = Request {
        principal: &principal,
        permission: &request.permission,
        environment: request.environment.as_deref(),
        attributes: &request.attributes,
        time,
    };
    let (decision, explanation) = if explain {
        let explanation = snapshot.explain(&engine_request);
        (
            explanation.decision,
            Some(serde_json::to_value(&explanation).unwrap_or(Value::Null)),
        )
    } else {
        (snapshot.decide(&engine_request), None)
    };
    state.metrics.decision(decision.is_allowed());
    if let Some(principal) = snapshot.directory().find_principal(&principal) {
        state.usage.record(
            &principal.uid,
            &request.permission,
            decision.is_allowed(),
            authed.context.now_ms,
        );
    }
    Ok(DecisionResponse {
        decision: decision.outcome,
        reason: decision.reason,
        revision: snapshot.revision,
        stale: false,
        explanation,
    })
}

/// A caller may always ask about itself; about another principal with
/// `iam:effective-permissions:read` for it.
/// Whether the caller may ask about every principal: it holds `iam:effective-permissions:read`
/// at account level without conditions and is denied it nowhere (so every per-principal check
/// would pass). Computed once per batch instead of once per request.
fn may_ask_about_anyone(authed: &Authed, snapshot: &Snapshot) -> bool {
    const PERMISSION: &str = "iam:effective-permissions:read";
    let caller = &authed.caller;
    if !caller.scopes.is_empty() && !caller.scopes.iter().any(|s| s == PERMISSION) {
        return false;
    }
    let wanted = [warden_engine::delegation::Granted {
        permission: PERMISSION.to_owned(),
        effect: warden_policy::Effect::Allow,
        clauses: Default::default(),
    }];
    let held = snapshot.held(&caller.uid, None);
    warden_engine::delegation::first_not_held(&held, &wanted, snapshot.catalogue()).is_none()
}

fn require_may_ask(
    state: &AppState,
    authed: &Authed,
    snapshot: &Snapshot,
    principal: &str,
    trusted: bool,
) -> ApiResult<()> {
    if trusted || principal == authed.caller.uid {
        return Ok(());
    }
    let is_self = snapshot
        .directory()
        .find_principal(principal)
        .is_some_and(|p| *p.uid == *authed.caller.uid);
    if is_self {
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

/// The owner of a request's token, or the DENY that the token itself decides. Holding a token is
/// enough to ask what it may do; the explanation (which shows the owner's policies) needs what
/// asking about the owner needs.
fn token_subject(
    state: &AppState,
    authed: &Authed,
    snapshot: &Snapshot,
    request: &DecisionRequest,
    explain: bool,
) -> ApiResult<Result<String, DecisionResponse>> {
    let token = request.token.as_deref().unwrap_or_default();
    let deny = |reason: Reason, summary: String| {
        state.metrics.decision(false);
        DecisionResponse {
            decision: Outcome::Deny,
            reason,
            revision: snapshot.revision,
            stale: false,
            explanation: explain.then(|| {
                serde_json::json!({ "decision": Outcome::Deny, "reason": reason, "summary": summary, "deciding": [] })
            }),
        }
    };
    let (owner, _) = match state.check_token(token.trim()) {
        Ok(found) => found,
        Err(TokenProblem::OwnerDeactivated) => {
            return Ok(Err(deny(
                Reason::InactivePrincipal,
                "denied: the token's owner is deactivated".to_owned(),
            )));
        }
        Err(_) => {
            return Ok(Err(deny(
                Reason::InvalidToken,
                "denied: the token is unknown, revoked, inactive or expired".to_owned(),
            )));
        }
    };
    if explain {
        require_may_ask(state, authed, snapshot, &owner.uid, false)?;
    }
    if !owner.scopes.is_empty() && !owner.scopes.contains(&request.permission) {
        state.usage.record(
            &owner.uid,
            &request.permission,
            false,
            authed.context.now_ms,
        );
        return Ok(Err(deny(
            Reason::OutOfScope,
            format!(
                "denied: `{}` is outside the token's scopes",
                request.permission
            ),
        )));
    }
    Ok(Ok(owner.uid))
}

pub async fn authorize(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ExplainQuery>,
    Body(request): Body<DecisionRequest>,
) -> ApiResult<axum::Json<DecisionResponse>> {
    let (snapshot, stale) = state
        .snapshot_at_least(request.min_revision.or(query.min_revision))
        .await?;
    let mut response = decide_one(&state, &authed, &snapshot, &request, query.explain, false)?;
    response.stale = stale;
    Ok(axum::Json(response))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchRequest {
    pub requests: Vec<DecisionRequest>,
    #[serde(default)]
    pub min_revision: Option<i64>,
}

pub async fn authorize_batch(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ExplainQuery>,
    Body(batch): Body<BatchRequest>,
) -> ApiResult<axum::Json<Value>> {
    if batch.requests.len() > MAX_BATCH {
        return Err(crate::limits::limit_reached(
            "requests per batch",
            MAX_BATCH,
        ));
    }
    let min = batch
        .requests
        .iter()
        .filter_map(|r| r.min_revision)
        .chain(batch.min_revision)
        .chain(query.min_revision)
        .max();
    let (snapshot, stale) = state.snapshot_at_least(min).await?;
    let trusted = batch.requests.len() > 1 && may_ask_about_anyone(&authed, &snapshot);
    let mut results = Vec::with_capacity(batch.requests.len());
    for request in &batch.requests {
        let mut response = decide_one(&state, &authed, &snapshot, request, query.explain, trusted)?;
        response.stale = stale;
        results.push(response);
    }
    Ok(axum::Json(
        serde_json::json!({ "revision": snapshot.revision, "stale": stale, "results": results }),
    ))
}
