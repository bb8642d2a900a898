//! `GET /iam/v1/accounts/{accountId}/audit-log` (filtered pages of the hash-chained log) and
//! `…/audit-log/verify` (recomputes the chain and names the first broken entry);
//! [`crate::service::audit`] reads them.

use axum::extract::State;
use warden_api::ErrorBody;
use warden_api::audit::{AuditPage, AuditQuery, AuditVerification};

use crate::api::{Path, Query};
use crate::error::ApiResult;
use crate::service::{Authed, audit};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/audit-log",
    tag = "audit",
    operation_id = "audit_list",
    summary = "The audit log, filtered and paged",
    description = "Oldest first; `before` and `after` are the objects as the API showed them, `at` is RFC 3339. Permission: `iam:audit:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
        AuditQuery,
    ),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "A `limit` outside 1–1000, or an unknown parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:audit:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Query(query): Query<AuditQuery>,
) -> ApiResult<axum::Json<AuditPage>> {
    audit::list(&state, &authed, &account, query)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/audit-log/verify",
    tag = "audit",
    operation_id = "audit_verify",
    summary = "Recompute the audit hash chain",
    description = "Permission: `iam:audit:read`.",
    params(
        ("accountId" = String, Path, description = "The account"),
    ),
    responses(
        (status = 200, description = "Whether the chain holds, and where it breaks", body = AuditVerification),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 503, description = "The store is unavailable; retry", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:audit:read"))),
)]
pub async fn verify(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
) -> ApiResult<axum::Json<AuditVerification>> {
    audit::verify(&state, &authed, &account)
        .await
        .map(axum::Json)
}
