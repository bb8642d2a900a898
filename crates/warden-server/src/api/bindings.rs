//! `/iam/v1/repo/{levelType}/{levelId}/bindings…`: every binding variant of the public API
//! ([`crate::service::bindings`] has the rules).
//!
//! A binding is (level, policy, group, parameters, metadata) with boundaries. Writes need
//! `iam:bindings:write` with `iam:policyUuid`, `iam:levelType` and `iam:boundGroup` from the
//! request, so administration can be delegated per group; and no binding may grant what the
//! caller does not hold at that level (no escalation). Boundaries that leave a permission
//! unrestricted (SPEC §4 rule 4) are reported in the `Warden-Warnings` header.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use warden_api::ErrorBody;
use warden_api::bindings::{
    BindingFilterQuery, DescendantsPage, DetailsQuery, GroupBindings, GroupsBindingInput,
    LevelBindings, PolicyUuidsInput,
};
use warden_api::paging::NumberPageQuery;

use crate::api::{Body, Path, Query, Written};
use crate::error::{ApiError, ApiResult};
use crate::service::Authed;
pub use crate::service::bindings::BindingInput;
use crate::service::bindings::{self, BindingFilter};
use crate::state::AppState;

/// `parameters[k]=v`, `metadata[k]=v`, `forceMultiple`, `details` (and the `page`, `size` that
/// Dynatrace clients send along) from a raw query: the keys are the caller's, so no struct
/// reads them.
#[derive(Debug, Default)]
struct Filter {
    binding: BindingFilter,
    details: bool,
}

fn flag(key: &str, value: &str) -> ApiResult<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(ApiError::invalid(format!(
            "`{key}` is `true` or `false`, not `{other}`"
        ))),
    }
}

fn filter(query: Option<String>) -> ApiResult<Filter> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::invalid(super::rejection::query(&e.to_string())))?;
    let mut filter = Filter::default();
    for (key, value) in pairs {
        let field = |prefix: &str| {
            key.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(']'))
                .map(str::to_owned)
        };
        if let Some(name) = field("parameters[") {
            filter.binding.parameters.insert(name, value);
        } else if let Some(name) = field("metadata[") {
            filter.binding.metadata.insert(name, value);
        } else if key == "forceMultiple" {
            filter.binding.force_multiple = flag(&key, &value)?;
        } else if key == "details" {
            filter.details = flag(&key, &value)?;
        } else if key != "page" && key != "size" {
            return Err(ApiError::invalid(format!(
                "unknown query parameter `{key}`"
            )));
        }
    }
    Ok(filter)
}

/// 204 with any boundary warnings in `Warden-Warnings` (a JSON array).
fn no_content(revision: i64, warnings: &[String]) -> Response {
    crate::api::with_warnings(deleted(revision).into_response(), warnings)
}

fn deleted(revision: i64) -> Written<()> {
    Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    }
}

// ---- reads ----------------------------------------------------------------------------------

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings",
    tag = "bindings",
    operation_id = "bindings_list",
    summary = "Every binding at a level",
    description = "Grouped by policy, parameters, metadata and boundaries. Permission: `iam:bindings:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
    ),
    responses(
        (status = 200, description = "The bindings", body = LevelBindings),
        (status = 400, description = "An invalid level", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such level", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:read"))),
)]
pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<axum::Json<LevelBindings>> {
    bindings::at(&state, &authed, &lt, &lid, None, None)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}",
    tag = "bindings",
    operation_id = "bindings_of_policy",
    summary = "A policy's bindings at a level",
    description = "Permission: `iam:bindings:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("policyUuid" = String, Path, description = "The policy"),
    ),
    responses(
        (status = 200, description = "The bindings", body = LevelBindings),
        (status = 400, description = "An invalid level", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such level", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:read"))),
)]
pub async fn of_policy(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<LevelBindings>> {
    bindings::at(&state, &authed, &lt, &lid, Some(&policy), None)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
    tag = "bindings",
    operation_id = "bindings_get",
    summary = "The bindings of a policy to a group",
    description = "Permission: `iam:bindings:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("policyUuid" = String, Path, description = "The policy"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    responses(
        (status = 200, description = "The bindings", body = LevelBindings),
        (status = 400, description = "An invalid level", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such level", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:read"))),
)]
pub async fn of_policy_and_group(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
) -> ApiResult<axum::Json<LevelBindings>> {
    bindings::at(&state, &authed, &lt, &lid, Some(&policy), Some(&group))
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/groups/{groupUuid}",
    tag = "bindings",
    operation_id = "bindings_of_group",
    summary = "A group's bindings (`details=true` for parameters and boundaries)",
    description = "Permission: `iam:bindings:read`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("groupUuid" = String, Path, description = "The group"),
        DetailsQuery,
    ),
    responses(
        (status = 200, description = "The group's policies", body = GroupBindings),
        (status = 400, description = "An invalid level or query", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such level or group", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:read"))),
)]
pub async fn of_group(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, group)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<axum::Json<GroupBindings>> {
    let filter = filter(query)?;
    bindings::of_group(&state, &authed, &lt, &lid, &group, filter.details)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/iam/v1/repo/account/{levelId}/bindings/descendants/{policyUuid}",
    tag = "bindings",
    operation_id = "bindings_descendants",
    summary = "A policy's bindings in every environment of the account",
    description = "Environments where the caller may not read bindings are left out. Permission: `iam:bindings:read`.",
    params(
        ("levelId" = String, Path, description = "The account"),
        ("policyUuid" = String, Path, description = "The policy"),
        NumberPageQuery,
    ),
    responses(
        (status = 200, description = "A page of environments' bindings", body = DescendantsPage),
        (status = 400, description = "An invalid page or size (`size` is 1–1000)", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:read"))),
)]
pub async fn descendants(
    State(state): State<AppState>,
    authed: Authed,
    Path((lid, policy)): Path<(String, String)>,
    Query(page): Query<NumberPageQuery>,
) -> ApiResult<axum::Json<DescendantsPage>> {
    bindings::descendants(&state, &authed, &lid, &policy, page.page, page.size)
        .await
        .map(axum::Json)
}

// ---- writes ----------------------------------------------------------------------------------

#[utoipa::path(
    post,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}",
    tag = "bindings",
    operation_id = "bindings_add_groups",
    summary = "Bind a policy to groups",
    description = "Appended to the groups' bindings. Permission: `iam:bindings:write`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("policyUuid" = String, Path, description = "The policy"),
    ),
    request_body = GroupsBindingInput,
    responses(
        (status = 204, description = "Bound", headers(
            ("warden-revision" = i64, description = "The store revision of the change"),
            ("warden-warnings" = String, description = "Boundaries that leave a permission unrestricted (a JSON array), when any"))),
        (status = 400, description = "Invalid input, or the limit reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such level, policy, group or boundary", body = ErrorBody),
        (status = 409, description = "A legacy policy, or a conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn add_groups(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy)): Path<(String, String, String)>,
    Body(input): Body<GroupsBindingInput>,
) -> ApiResult<Response> {
    if input.groups.is_empty() {
        return Err(ApiError::invalid("`groups` must name at least one group"));
    }
    let inputs = input
        .groups
        .iter()
        .map(|g| {
            (
                g.clone(),
                BindingInput {
                    boundaries: input.boundaries.clone(),
                    ..BindingInput::default()
                },
            )
        })
        .collect();
    let bound = bindings::add(&state, &authed, &lt, &lid, &policy, inputs, None).await?;
    Ok(no_content(bound.revision, &bound.warnings))
}

#[utoipa::path(
    post,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
    tag = "bindings",
    operation_id = "bindings_add",
    summary = "Add a binding with parameters, metadata and boundaries",
    description = "Permission: `iam:bindings:write`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("policyUuid" = String, Path, description = "The policy"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    request_body = BindingInput,
    responses(
        (status = 204, description = "Bound", headers(
            ("warden-revision" = i64, description = "The store revision of the change"),
            ("warden-warnings" = String, description = "Boundaries that leave a permission unrestricted (a JSON array), when any"))),
        (status = 400, description = "Invalid input, or the limit reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such level, policy, group or boundary", body = ErrorBody),
        (status = 409, description = "A legacy policy, or a conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn add_one(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
    Body(input): Body<BindingInput>,
) -> ApiResult<Response> {
    let bound = bindings::add(
        &state,
        &authed,
        &lt,
        &lid,
        &policy,
        vec![(group, input)],
        None,
    )
    .await?;
    Ok(no_content(bound.revision, &bound.warnings))
}

#[utoipa::path(
    put,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
    tag = "bindings",
    operation_id = "bindings_put",
    summary = "Update or create the binding matching the query filter",
    description = "Permission: `iam:bindings:write`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("policyUuid" = String, Path, description = "The policy"),
        ("groupUuid" = String, Path, description = "The group"),
        BindingFilterQuery,
    ),
    request_body = BindingInput,
    responses(
        (status = 204, description = "Bound", headers(
            ("warden-revision" = i64, description = "The store revision of the change"),
            ("warden-warnings" = String, description = "Boundaries that leave a permission unrestricted (a JSON array), when any"))),
        (status = 400, description = "Invalid input, several bindings match, or the limit reached", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such level, policy, group or boundary", body = ErrorBody),
        (status = 409, description = "A legacy policy, or a conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn put_one(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
    RawQuery(query): RawQuery,
    Body(input): Body<BindingInput>,
) -> ApiResult<Response> {
    let filter = filter(query)?;
    let bound = bindings::add(
        &state,
        &authed,
        &lt,
        &lid,
        &policy,
        vec![(group, input)],
        Some(&filter.binding),
    )
    .await?;
    Ok(no_content(bound.revision, &bound.warnings))
}

#[utoipa::path(
    put,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/groups/{groupUuid}",
    tag = "bindings",
    operation_id = "bindings_set_group",
    summary = "Make a group's bindings exactly these policies",
    description = "Bindings of other policies are removed. Permission: `iam:bindings:write`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("groupUuid" = String, Path, description = "The group"),
    ),
    request_body = PolicyUuidsInput,
    responses(
        (status = 204, description = "Replaced", headers(
            ("warden-revision" = i64, description = "The store revision of the change"),
            ("warden-warnings" = String, description = "Boundaries that leave a permission unrestricted (a JSON array), when any"))),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or beyond what the caller holds", body = ErrorBody),
        (status = 404, description = "No such level, policy or group", body = ErrorBody),
        (status = 409, description = "A legacy policy, or a conflicting change", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn set_group_policies(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, group)): Path<(String, String, String)>,
    Body(input): Body<PolicyUuidsInput>,
) -> ApiResult<Response> {
    let bound =
        bindings::set_group_policies(&state, &authed, &lt, &lid, &group, &input.policy_uuids)
            .await?;
    Ok(no_content(bound.revision, &bound.warnings))
}

#[utoipa::path(
    delete,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings",
    tag = "bindings",
    operation_id = "bindings_delete_all",
    summary = "Delete every binding at a level",
    description = "Permission: `iam:bindings:write` for each binding.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
    ),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An invalid level", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or it would leave the account without an administrator", body = ErrorBody),
        (status = 404, description = "No such level, or no binding", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn delete_all(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let filter = BindingFilter {
        force_multiple: true,
        ..BindingFilter::default()
    };
    let revision = bindings::delete_where(&state, &authed, &lt, &lid, None, None, &filter).await?;
    Ok(deleted(revision))
}

#[utoipa::path(
    delete,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}",
    tag = "bindings",
    operation_id = "bindings_delete_of_policy",
    summary = "Delete a policy's bindings (filtered by `parameters[k]`, `metadata[k]`)",
    description = "Permission: `iam:bindings:write` for each binding.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("policyUuid" = String, Path, description = "The policy"),
        BindingFilterQuery,
    ),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An invalid level or query, or several bindings match", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or it would leave the account without an administrator", body = ErrorBody),
        (status = 404, description = "No such level, or no binding matches", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn delete_of_policy(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Written<()>> {
    let filter = filter(query)?;
    let revision = bindings::delete_where(
        &state,
        &authed,
        &lt,
        &lid,
        Some(&policy),
        None,
        &filter.binding,
    )
    .await?;
    Ok(deleted(revision))
}

#[utoipa::path(
    delete,
    path = "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
    tag = "bindings",
    operation_id = "bindings_delete",
    summary = "Delete the bindings of a policy to a group",
    description = "Permission: `iam:bindings:write`.",
    params(
        ("levelType" = String, Path, description = "`global`, `account` or `environment`"),
        ("levelId" = String, Path, description = "The level's id"),
        ("policyUuid" = String, Path, description = "The policy"),
        ("groupUuid" = String, Path, description = "The group"),
        BindingFilterQuery,
    ),
    responses(
        (status = 204, description = "Deleted", headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An invalid level or query, or several bindings match", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted, or it would leave the account without an administrator", body = ErrorBody),
        (status = 404, description = "No such level, or no binding matches", body = ErrorBody),
        (status = 409, description = "A conflicting change", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:bindings:write"))),
)]
pub async fn delete_one(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Written<()>> {
    let filter = filter(query)?;
    let revision = bindings::delete_where(
        &state,
        &authed,
        &lt,
        &lid,
        Some(&policy),
        Some(&group),
        &filter.binding,
    )
    .await?;
    Ok(deleted(revision))
}
