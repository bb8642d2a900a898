//! Reading the hash-chained audit log: filtered pages of its entries (each with the objects
//! before and after the change as JSON objects and its time in RFC 3339), and the chain
//! recomputed. Reading needs `iam:audit:read` at the account.

use serde_json::Value;
use warden_api::audit::{AuditEntry, AuditPage, AuditQuery, AuditVerification, ChainProblem};
use warden_store::AuditFilter;

use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

/// Entries per page when the query gives no `limit`.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

async fn check(state: &AppState, authed: &Authed, acc: &str) -> ApiResult<()> {
    let level = {
        let model = state.model.lock().await;
        account(&model, acc)?
    };
    state.require(authed, "iam:audit:read", &level, &attributes(&[]))
}

/// A page of the log, oldest first; `nextAfterSeq` when there may be more.
pub async fn list(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    query: AuditQuery,
) -> ApiResult<AuditPage> {
    check(state, authed, acc).await?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "`limit` is 1–{MAX_LIMIT}, not `{limit}`; leave it out for {DEFAULT_LIMIT}"
        )));
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
    Ok(AuditPage {
        entries: entries.into_iter().map(entry).collect(),
        next_after_seq,
    })
}

/// An entry as the API shows it: the time in RFC 3339, the objects as JSON objects (the log
/// keeps them as the text its hashes cover). A text that is not JSON (none is written so) is
/// shown under `text`, so that the field is never a string to decode again.
fn entry(stored: warden_store::AuditEntry) -> AuditEntry {
    let object = |text: Option<String>| {
        text.map(|text| {
            serde_json::from_str::<Value>(&text)
                .unwrap_or_else(|_| serde_json::json!({ "text": text }))
        })
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

/// The hash chain recomputed; the first broken entry named.
pub async fn verify(state: &AppState, authed: &Authed, acc: &str) -> ApiResult<AuditVerification> {
    check(state, authed, acc).await?;
    let verification = state.store.verify_audit().await?;
    let problem = |p: warden_store::ChainProblem| ChainProblem {
        seq: p.seq,
        message: p.message,
    };
    Ok(AuditVerification {
        valid: verification.problem.is_none(),
        entries: verification.entries,
        problem: verification.problem.map(problem),
        problems: verification.problems.into_iter().map(problem).collect(),
    })
}
