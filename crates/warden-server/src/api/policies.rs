//! `/iam/v1/repo/{levelType}/{levelId}/policies`: create, upsert, get, list, aggregate, delete
//! and validate policies. Every save validates the text against the catalogue (SPEC §2) and answers
//! every diagnostic with its location; a bound policy's change must stay within what the caller
//! holds (no escalation).

use axum::extract::State;
use axum::http::StatusCode;
use warden_api::ErrorBody;
use warden_api::policies::{PolicyDeleteQuery, PolicyListQuery};

use crate::api::{Body, Path, Query, Written};
use crate::error::ApiResult;
use crate::limits::check_id;
use crate::service::Authed;
use crate::service::policies;
pub use crate::service::policies::{
    PolicyDto, PolicyInput, PolicyList, PolicyOverviewList, PolicyValidation,
};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies",
    tag = "policies",
    operation_id = "policies_list",
    summary = "Policies defined at a level",
    description = "By name. Permission: `iam:policies:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "`global`, the account or the environment"),
        PolicyListQuery,
    ),
    responses(
        (status = 200, description = "The level's policies", body = PolicyList),
        (status = 400, description = "An unknown level type or query parameter", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or environment", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
    Query(query): Query<PolicyListQuery>,
) -> ApiResult<axum::Json<PolicyList>> {
    policies::list(&state, &authed, &lt, &lid, query.name.as_deref())
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies/aggregate",
    tag = "policies",
    operation_id = "policies_aggregate",
    summary = "Policies of a level including inherited ones",
    description = "The global policies, the account's and the level's; not at the global level. \
        Permission: `iam:policies:read`.",
    params(
        ("levelType" = String, Path, description = "`account` or `environment`"),
        ("levelId" = String, Path, description = "The account or the environment"),
    ),
    responses(
        (status = 200, description = "The policies that apply at the level", body = PolicyOverviewList),
        (status = 400, description = "An unknown level type, or the global level", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or environment", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:read"))),
)]
pub async fn aggregate(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<axum::Json<PolicyOverviewList>> {
    policies::aggregate(&state, &authed, &lt, &lid)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies/{policyUuid}",
    tag = "policies",
    operation_id = "policies_get",
    summary = "One policy with its parsed statements",
    description = "Permission: `iam:policies:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "`global`, the account or the environment"),
        ("policyUuid" = String, Path, description = "The policy"),
    ),
    responses(
        (status = 200, description = "The policy", body = PolicyDto),
        (status = 400, description = "An unknown level type", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account, environment or policy at the level", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:read"))),
)]
pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, uuid)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<PolicyDto>> {
    policies::get(&state, &authed, &lt, &lid, &uuid)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies",
    tag = "policies",
    operation_id = "policies_create",
    summary = "Create a policy (validated)",
    description = "A text that does not validate is refused with its located diagnostics: at \
        most 100, errors first, `truncated` counting the rest. Not at the global level. \
        Permission: `iam:policies:write`.",
    params(
        ("levelType" = String, Path, description = "`account` or `environment`"),
        ("levelId" = String, Path, description = "The account or the environment"),
    ),
    request_body = PolicyInput,
    responses(
        (status = 201, description = "The policy created, with its warnings", body = PolicyDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input, a text that does not validate, the global level or the limit of policies reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or environment", body = ErrorBody),
        (status = 409, description = "A name already in use at the level", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:write"))),
)]
pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<Written<PolicyDto>> {
    save(state, authed, lt, lid, None, input).await
}

#[utoipa::path(
    put,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies/{policyUuid}",
    tag = "policies",
    operation_id = "policies_upsert",
    summary = "Create (201) or update (204) a policy",
    description = "Validated like a creation; a bound policy's change must stay within what the \
        caller holds, and must still fit its bindings' parameters. \
        Permission: `iam:policies:write`.",
    params(
        ("levelType" = String, Path, description = "`account` or `environment`"),
        ("levelId" = String, Path, description = "The account or the environment"),
        ("policyUuid" = String, Path, description = "The policy"),
    ),
    request_body = PolicyInput,
    responses(
        (status = 201, description = "The policy created, with its warnings", body = PolicyDto, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 204, description = "The policy updated", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "Invalid input, a text that does not validate, the global level, a global policy or the limit of policies reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or environment", body = ErrorBody),
        (status = 409, description = "A name already in use, a policy of another level, or a binding the change no longer fits", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:write"))),
)]
pub async fn upsert(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, uuid)): Path<(String, String, String)>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<Written<PolicyDto>> {
    check_id("policy uuid", &uuid)?;
    save(state, authed, lt, lid, Some(uuid), input).await
}

async fn save(
    state: AppState,
    authed: Authed,
    lt: String,
    lid: String,
    uuid: Option<String>,
    input: PolicyInput,
) -> ApiResult<Written<PolicyDto>> {
    let replace = uuid.is_some();
    let saved = policies::save(&state, &authed, &lt, &lid, uuid, input).await?;
    let status = if saved.created || !replace {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    };
    let body = (status != StatusCode::NO_CONTENT).then_some(saved.policy);
    Ok(Written {
        status,
        revision: saved.revision,
        body,
    })
}

#[utoipa::path(
    delete,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies/{policyUuid}",
    tag = "policies",
    operation_id = "policies_delete",
    summary = "Delete a policy; 409 while bound unless `force=true`",
    description = "Permission: `iam:policies:write`.",
    params(
        ("levelType" = String, Path, description = "`account` or `environment`"),
        ("levelId" = String, Path, description = "The account or the environment"),
        ("policyUuid" = String, Path, description = "The policy"),
        PolicyDeleteQuery,
    ),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An unknown level type or query parameter, or the global level", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account, environment or policy at the level", body = ErrorBody),
        (status = 409, description = "Bindings use the policy (and `force` was not given)", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:write"))),
)]
pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, uuid)): Path<(String, String, String)>,
    Query(query): Query<PolicyDeleteQuery>,
) -> ApiResult<Written<()>> {
    let revision = policies::delete(&state, &authed, &lt, &lid, &uuid, query.force).await?;
    Ok(Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    })
}

#[utoipa::path(
    post,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies/validation",
    tag = "policies",
    operation_id = "policies_validate",
    summary = "Validate a policy without saving it",
    description = "Deprecated by Dynatrace; kept for its clients. Permission: `iam:policies:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "`global`, the account or the environment"),
    ),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "The text validates; its warnings", body = PolicyValidation),
        (status = 400, description = "Invalid input, or a text that does not validate (its located diagnostics)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or environment", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:read"))),
)]
pub async fn validate(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<axum::Json<PolicyValidation>> {
    policies::validate(&state, &authed, &lt, &lid, &input)
        .await
        .map(axum::Json)
}

/// The same answer as [`validate`]: the policy named in the path plays no part in it.
#[utoipa::path(
    post,
    path = "/iam/v1/repo/{levelType}/{levelId}/policies/validation/{policyUuid}",
    tag = "policies",
    operation_id = "policies_validate_existing",
    summary = "Validate a change of a policy without saving it",
    description = "Deprecated by Dynatrace; kept for its clients. Permission: `iam:policies:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "`global`, the account or the environment"),
        ("policyUuid" = String, Path, description = "The policy"),
    ),
    request_body = PolicyInput,
    responses(
        (status = 200, description = "The text validates; its warnings", body = PolicyValidation),
        (status = 400, description = "Invalid input, or a text that does not validate (its located diagnostics)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account or environment", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:policies:read"))),
)]
pub async fn validate_existing(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, _uuid)): Path<(String, String, String)>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<axum::Json<PolicyValidation>> {
    policies::validate(&state, &authed, &lt, &lid, &input)
        .await
        .map(axum::Json)
}
