//! The audit log on the wire: `GET /iam/v1/accounts/{accountId}/audit-log` (its entries, paged)
//! and `…/audit-log/verify` (the hash chain recomputed).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// One entry of the hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub seq: i64,
    /// The store revision the write produced (the current one for entries that changed nothing).
    pub revision: i64,
    /// When, in RFC 3339 (UTC).
    #[schema(example = "2026-05-04T10:00:00Z")]
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The object before the change, as the API showed it (a JSON object, or a list of them for
    /// a change of several); `null` for a creation.
    pub before: Option<Value>,
    /// The object after the change, likewise; `null` for a deletion.
    pub after: Option<Value>,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A page of the audit log, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// `afterSeq` for the next page; `null` on the last one.
    pub next_after_seq: Option<i64>,
}

/// Which entries a page of the audit log shows: `?afterSeq=&limit=&actor=&action=&target=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// The entries after this sequence number (the previous page's `nextAfterSeq`).
    #[serde(default)]
    pub after_seq: Option<i64>,
    /// 1–1000; 100 when absent.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// The entries of this actor (a uid, or an OAuth client's id).
    #[serde(default)]
    pub actor: Option<String>,
    /// The entries whose action starts with this (`policy.`, `service-user.create`, …).
    #[serde(default)]
    pub action: Option<String>,
    /// The entries of this target (`policy/<uuid>`, …).
    #[serde(default)]
    pub target: Option<String>,
}

/// An entry whose hash does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainProblem {
    pub seq: i64,
    pub message: String,
}

/// `GET …/audit-log/verify`: the hash chain recomputed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerification {
    /// No problem found.
    pub valid: bool,
    /// How many entries were checked.
    pub entries: i64,
    /// The first problem; `null` when the chain is intact.
    pub problem: Option<ChainProblem>,
    /// Every problem, the first one included.
    pub problems: Vec<ChainProblem>,
}
