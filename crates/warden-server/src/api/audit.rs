//! `GET /iam/v1/accounts/{accountId}/audit-log` (filtered pages of the hash-chained log) and
//! `…/audit-log/verify` (recomputes the chain and names the first broken entry).

use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use warden_api::audit::{AuditEntry, AuditPage};
use warden_store::AuditFilter;

use crate::api::{Path, Query, level};
use crate::error::{ApiError, ApiResult};
use crate::service::Authed;
use crate::service::groups::iso;
use crate::service::guard::attributes;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuditQuery {
    #[serde(default)]
    after_seq: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    target: Option<String>,
}

async fn check(state: &AppState, authed: &Authed, account: &str) -> ApiResult<()> {
    let level = {
        let model = state.model.lock().await;
        level(&model, "account", account)?
    };
    state.require(authed, "iam:audit:read", &level, &attributes(&[]))
}

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<axum::Json<AuditPage>> {
    check(&state, &authed, &account).await?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("`limit` is 1–1000"));
    }
    let filter = AuditFilter {
        after_seq: query.after_seq,
        actor: query.actor,
        action_prefix: query.action,
        target: query.target,
        limit,
    };
    let entries = state.store.audit(&filter).await?;
    let next_after_seq = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    Ok(axum::Json(AuditPage {
        entries: entries.into_iter().map(entry).collect(),
        next_after_seq,
    }))
}

/// An entry as the API shows it: the time in RFC 3339, the objects as JSON objects (the log
/// keeps them as the text its hashes cover).
fn entry(stored: warden_store::AuditEntry) -> AuditEntry {
    let object = |text: Option<String>| {
        text.map(|text| serde_json::from_str(&text).unwrap_or(Value::String(text)))
    };
    AuditEntry {
        seq: stored.seq,
        revision: stored.revision,
        at: iso(stored.at),
        actor: stored.actor,
        action: stored.action,
        target: stored.target,
        before: object(stored.before),
        after: object(stored.after),
        request_id: stored.request_id,
        prev_hash: stored.prev_hash,
        hash: stored.hash,
    }
}

pub async fn verify(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    check(&state, &authed, &account).await?;
    let verification = state.store.verify_audit().await?;
    Ok(axum::Json(
        json!({ "valid": verification.problem.is_none(), "entries": verification.entries, "problem": verification.problem, "problems": verification.problems }),
    ))
}
