//! `/iam/v1/repo/{levelType}/{levelId}/bindings…`: every binding variant of the public API.
//!
//! A binding is (level, policy, group, parameters, metadata) with boundaries. Writes need
//! `iam:bindings:write` with `iam:policyUuid`, `iam:levelType` and `iam:boundGroup` from the
//! request, so administration can be delegated per group; and no binding may grant what the
//! caller does not hold at that level (no escalation). Boundaries that leave a permission
//! unrestricted (SPEC §4 rule 4) are reported in the `Warden-Warnings` header.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::Level;

use crate::api::{Body, Path, Written, level, level_parts};
use crate::error::{ApiError, ApiResult};
use crate::model::Model;
use crate::records::BindingBody;
use crate::service::Authed;
pub use crate::service::bindings::BindingInput;
use crate::service::bindings::{self, BindingFilter, at_level};
use crate::service::guard::attributes;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsInput {
    pub groups: Vec<String>,
    #[serde(default)]
    pub boundaries: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyUuidsInput {
    pub policy_uuids: Vec<String>,
}

/// `parameters[k]=v`, `metadata[k]=v`, `forceMultiple`, `details`, `page`, `size` from a raw query.
#[derive(Debug, Default)]
struct Filter {
    binding: BindingFilter,
    details: bool,
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
            filter.binding.force_multiple = value == "true";
        } else if key == "details" {
            filter.details = value == "true";
        } else if key != "page" && key != "size" {
            return Err(ApiError::invalid(format!(
                "unknown query parameter `{key}`"
            )));
        }
    }
    Ok(filter)
}

/// The public shape: bindings grouped by (policy, parameters, metadata, boundaries).
fn level_dto<'a>(
    model: &Model,
    level: &Level,
    bindings: impl Iterator<Item = &'a BindingBody>,
) -> Value {
    let mut grouped: BTreeMap<String, (Value, Vec<String>)> = BTreeMap::new();
    for body in bindings {
        let key = json!([
            body.policy_uuid,
            body.parameters,
            body.metadata,
            body.boundaries
        ])
        .to_string();
        let entry = grouped.entry(key).or_insert_with(|| {
            (json!({ "policyUuid": body.policy_uuid, "parameters": body.parameters, "metadata": body.metadata, "boundaries": body.boundaries }), Vec::new())
        });
        entry.1.push(body.group_uuid.clone());
    }
    let policy_bindings: Vec<Value> = grouped
        .into_values()
        .map(|(mut value, groups)| {
            crate::api::set(&mut value, "groups", json!(groups));
            value
        })
        .collect();
    let (level_type, level_id) = level_parts(model, level);
    json!({ "levelType": level_type, "levelId": level_id, "policyBindings": policy_bindings })
}

fn read_check(
    state: &AppState,
    authed: &Authed,
    level: &Level,
    policy: Option<&str>,
    group: Option<&str>,
) -> ApiResult<()> {
    let mut pairs = vec![("iam:levelType", level.type_name())];
    pairs.extend(policy.map(|p| ("iam:policyUuid", p)));
    pairs.extend(group.map(|g| ("iam:boundGroup", g)));
    state.require(authed, "iam:bindings:read", level, &attributes(&pairs))
}

// ---- reads ----------------------------------------------------------------------------------------

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    read_check(&state, &authed, &level, None, None)?;
    Ok(axum::Json(level_dto(
        &model,
        &level,
        model
            .bindings
            .values()
            .filter(|b| at_level(b, &model, &level)),
    )))
}

pub async fn of_policy(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    read_check(&state, &authed, &level, Some(&policy), None)?;
    let bindings = model
        .bindings
        .values()
        .filter(|b| at_level(b, &model, &level) && b.policy_uuid == policy);
    Ok(axum::Json(level_dto(&model, &level, bindings)))
}

pub async fn of_policy_and_group(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    read_check(&state, &authed, &level, Some(&policy), Some(&group))?;
    let bindings = model.bindings.values().filter(|b| {
        at_level(b, &model, &level) && b.policy_uuid == policy && b.group_uuid == group
    });
    Ok(axum::Json(level_dto(&model, &level, bindings)))
}

pub async fn of_group(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, group)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<axum::Json<Value>> {
    let filter = filter(query)?;
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    read_check(&state, &authed, &level, None, Some(&group))?;
    if !model.groups.contains_key(&group) {
        return Err(ApiError::not_found("group", &group));
    }
    let bindings: Vec<&BindingBody> = model
        .bindings
        .values()
        .filter(|b| at_level(b, &model, &level) && b.group_uuid == group)
        .collect();
    let mut policy_uuids: Vec<&str> = bindings.iter().map(|b| b.policy_uuid.as_str()).collect();
    policy_uuids.sort_unstable();
    policy_uuids.dedup();
    let mut out = json!({ "policyUuids": policy_uuids });
    if filter.details {
        crate::api::set(&mut out, "bindingsDetails", json!(bindings
            .iter()
            .map(|b| json!({ "policyUuid": b.policy_uuid, "groups": [b.group_uuid], "parameters": b.parameters, "metadata": b.metadata, "boundaries": b.boundaries, "levelType": b.level_type, "levelId": b.level_id }))
            .collect::<Vec<_>>()));
    }
    Ok(axum::Json(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default = "one")]
    page: usize,
    #[serde(default = "hundred")]
    size: usize,
}

fn one() -> usize {
    1
}

fn hundred() -> usize {
    100
}

pub async fn descendants(
    State(state): State<AppState>,
    authed: Authed,
    Path((lid, policy)): Path<(String, String)>,
    crate::api::Query(page): crate::api::Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    level(&model, "account", &lid)?;
    if page.page == 0 || page.size == 0 || page.size > 1000 {
        return Err(ApiError::invalid("`page` starts at 1 and `size` is 1–1000"));
    }
    let environments: Vec<Level> = model
        .environments
        .keys()
        .map(|e| Level::Environment(e.as_str().into()))
        .collect();
    let mut content = Vec::new();
    for level in &environments {
        if read_check(&state, &authed, level, Some(&policy), None).is_err() {
            continue;
        }
        let bindings: Vec<&BindingBody> = model
            .bindings
            .values()
            .filter(|b| at_level(b, &model, level) && b.policy_uuid == policy)
            .collect();
        if !bindings.is_empty() {
            content.push(level_dto(&model, level, bindings.into_iter()));
        }
    }
    let total = content.len();
    let page_content: Vec<Value> = content
        .into_iter()
        .skip((page.page - 1) * page.size)
        .take(page.size)
        .collect();
    Ok(axum::Json(
        json!({ "pageSize": page.size, "pageNumber": page.page, "totalCount": total, "content": page_content }),
    ))
}

// ---- writes ----------------------------------------------------------------------------------

/// 204 with any boundary warnings in `Warden-Warnings` (a JSON array).
fn no_content(revision: i64, warnings: &[String]) -> Response {
    let mut response = Written::<()> {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    }
    .into_response();
    if !warnings.is_empty()
        && let Ok(value) = HeaderValue::from_str(&json!(warnings).to_string())
    {
        response.headers_mut().insert("warden-warnings", value);
    }
    response
}

pub async fn add_groups(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy)): Path<(String, String, String)>,
    Body(input): Body<GroupsInput>,
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

fn deleted(revision: i64) -> Written<()> {
    Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    }
}

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

/// `PUT …/bindings/groups/{group}`: the group's bindings at this level become exactly these
/// policies (without parameters); bindings of other policies are removed.
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
