//! `POST /iam/v1/authorize` and `/authorize/batch`: decisions for the platform's services, with
//! `explain=true` for the reasons and `minRevision` for read-your-writes (SPEC §10).
//!
//! A caller may always ask about itself; asking about another principal needs
//! `iam:effective-permissions:read` for that user (`iam-param:entity-type = "user"`,
//! `iam-param:entity-id` = the principal as given).

use std::time::Duration;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_engine::{Attributes, Level, Request, Snapshot};
use warden_policy::temporal::parse_date_time;

use crate::api::{Body, Query};
use crate::auth::Authed;
use crate::authz::attributes;
use crate::error::{ApiError, ApiResult};
use crate::limits::MAX_BATCH;
use crate::state::AppState;

/// How long a decision waits for the snapshot to reach `minRevision`.
const REVISION_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecisionRequest {
    /// uid, email or service-user handle.
    pub principal: String,
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
    /// The current snapshot once it is at least `min_revision`, or 503 after a bounded wait.
    pub async fn snapshot_at_least(
        &self,
        min_revision: Option<i64>,
    ) -> ApiResult<std::sync::Arc<Snapshot>> {
        let Some(min) = min_revision else {
            return Ok(self.snapshot());
        };
        let min = u64::try_from(min).unwrap_or(0);
        let deadline = tokio::time::Instant::now() + REVISION_WAIT;
        loop {
            let snapshot = self.snapshot();
            if snapshot.revision >= min {
                return Ok(snapshot);
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
) -> ApiResult<DecisionResponse> {
    if request.principal != authed.caller.uid {
        let is_self = snapshot
            .directory()
            .find_principal(&request.principal)
            .is_some_and(|p| *p.uid == *authed.caller.uid);
        if !is_self {
            state.require(
                authed,
                "iam:effective-permissions:read",
                &Level::Account,
                &attributes(&[
                    ("iam-param:entity-type", "user"),
                    ("iam-param:entity-id", &request.principal),
                ]),
            )?;
        }
    }
    let time = match &request.time {
        Some(text) => {
            parse_date_time(text).map_err(|e| ApiError::invalid(format!("`time`: {e}")))?
        }
        None => authed.context.now_ms.div_euclid(1000),
    };
    let engine_request = Request {
        principal: &request.principal,
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
    if let Some(principal) = snapshot.directory().find_principal(&request.principal) {
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

pub async fn authorize(
    State(state): State<AppState>,
    authed: Authed,
    Query(query): Query<ExplainQuery>,
    Body(request): Body<DecisionRequest>,
) -> ApiResult<axum::Json<DecisionResponse>> {
    let snapshot = state
        .snapshot_at_least(request.min_revision.or(query.min_revision))
        .await?;
    Ok(axum::Json(decide_one(
        &state,
        &authed,
        &snapshot,
        &request,
        query.explain,
    )?))
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
    let snapshot = state.snapshot_at_least(min).await?;
    let mut results = Vec::with_capacity(batch.requests.len());
    for request in &batch.requests {
        results.push(decide_one(
            &state,
            &authed,
            &snapshot,
            request,
            query.explain,
        )?);
    }
    Ok(axum::Json(
        serde_json::json!({ "revision": snapshot.revision, "results": results }),
    ))
}
