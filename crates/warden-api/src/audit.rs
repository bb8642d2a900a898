//! The audit log on the wire: `GET /iam/v1/accounts/{accountId}/audit-log`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

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
    /// The object before the change, as the API showed it; `null` for a creation.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The object after the change; `null` for a deletion.
    #[schema(value_type = Option<Object>)]
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
