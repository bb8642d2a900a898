//! `POST /iam/v1/accounts/{accountId}/batch`: several writes applied as one. The use case is
//! `crate::service::batch`.

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;
use warden_api::batch::{WriteBatch, WriteBatchResult};

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::{Authed, batch};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/iam/v1/accounts/{accountId}/batch",
    tag = "batch",
    operation_id = "batch_apply",
    summary = "Apply several writes as one",
    description = "Up to 1,000 writes, naming policies, groups and boundaries by name, users by email and service users by name, so that a write may use what an earlier one of the same batch creates. Each write is authorised, validated and checked for escalation as the single request it stands for, against the state the earlier writes of the batch left; the batch is committed in one transaction with one revision (an audit entry per write), or not at all: the first refused write's error names it in `details.write` (from 0) and `details.kind`, and nothing is changed. With `dryRun`, every check is made and nothing is stored. The permissions are those of each write.",
    params(("accountId" = String, Path, description = "The account")),
    request_body = WriteBatch,
    responses(
        (status = 200, description = "Every write applied (or, with `dryRun`, would be)", body = WriteBatchResult, headers(("warden-revision" = i64, description = "The store revision of the batch"))),
        (status = 400, description = "A write is invalid, or more than 1,000 writes", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "A write is not permitted, or would give access its author does not hold", body = ErrorBody),
        (status = 404, description = "No such account, or a write names what does not exist", body = ErrorBody),
        (status = 409, description = "A write conflicts with the state (a name taken, the last administrator), or another replica wrote meanwhile", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("each write's own (as its single request)"))),
)]
pub async fn apply(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Body(input): Body<WriteBatch>,
) -> ApiResult<Written<WriteBatchResult>> {
    let result = batch::apply(&state, &authed, &account, input).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision: result.revision,
        body: Some(result),
    })
}
