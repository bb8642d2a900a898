//! `/iam/v1/repo/{levelType}/{levelId}/bindings…`: every binding variant of the public API.
//!
//! A binding is (level, policy, group, parameters, metadata) with boundaries. Writes need
//! `iam:bindings:write` with `iam:policyUuid`, `iam:levelType` and `iam:boundGroup` from the
//! request, so administration can be delegated per group; and no binding may grant what the
//! caller does not hold at that level (no escalation). Boundaries that leave a permission
//! unrestricted (SPEC §4 rule 4) are reported in the `Warden-Warnings` header.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::compile::unrestricted_by_boundaries;
use warden_engine::{Binding, Level, ParamValue};

use crate::api::{Body, Path, Written, level, level_parts};
use crate::auth::Authed;
use crate::authz::{attributes, require_can_bind};
use crate::error::{ApiError, ApiResult};
use crate::limits::{MAX_BINDINGS_PER_LEVEL, limit_reached};
use crate::model::{Model, binding_record};
use crate::records::BindingBody;
use crate::state::{AppState, Plan};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BindingInput {
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamValue>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub boundaries: Vec<String>,
}

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
    parameters: BTreeMap<String, String>,
    metadata: BTreeMap<String, String>,
    force_multiple: bool,
    details: bool,
}

fn filter(query: Option<String>) -> ApiResult<Filter> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::invalid(format!("invalid query: {e}")))?;
    let mut filter = Filter::default();
    for (key, value) in pairs {
        let field = |prefix: &str| {
            key.strip_prefix(prefix)
                .and_then(|rest| rest.strip_suffix(']'))
                .map(str::to_owned)
        };
        if let Some(name) = field("parameters[") {
            filter.parameters.insert(name, value);
        } else if let Some(name) = field("metadata[") {
            filter.metadata.insert(name, value);
        } else if key == "forceMultiple" {
            filter.force_multiple = value == "true";
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

impl Filter {
    fn matches(&self, body: &BindingBody) -> bool {
        self.parameters.iter().all(|(k, v)| {
            body.parameters
                .get(k)
                .is_some_and(|p| p.values() == std::slice::from_ref(v))
        }) && self
            .metadata
            .iter()
            .all(|(k, v)| body.metadata.get(k) == Some(v))
    }
}

fn at_level(body: &BindingBody, model: &Model, level: &Level) -> bool {
    let (level_type, level_id) = level_parts(model, level);
    body.level_type == level_type && body.level_id == level_id
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

fn write_check(
    state: &AppState,
    authed: &Authed,
    level: &Level,
    policy: &str,
    group: Option<&str>,
) -> ApiResult<()> {
    let mut pairs = vec![
        ("iam:levelType", level.type_name()),
        ("iam:policyUuid", policy),
    ];
    pairs.extend(group.map(|g| ("iam:boundGroup", g)));
    state.require(authed, "iam:bindings:write", level, &attributes(&pairs))
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

// ---- writes -------------------------------------------------------------------------------------

/// Adds (or replaces, for an identical identity) bindings of one policy to groups; every check is
/// made before anything is written.
#[expect(
    clippy::too_many_arguments,
    reason = "the request's parts, passed through from four handlers"
)]
fn plan_add(
    state: &AppState,
    authed: &Authed,
    model: &Model,
    snapshot: &warden_engine::Snapshot,
    level: &Level,
    policy: &str,
    inputs: Vec<(String, BindingInput)>,
    replace: Option<&Filter>,
) -> ApiResult<Plan<Vec<String>>> {
    crate::api::writable(level, "bind policies")?;
    let (level_type, level_id) = level_parts(model, level);
    let mut directory = model.directory.clone();
    let mut affected = Vec::new();
    let mut ops = Vec::new();
    let mut added: Vec<BindingBody> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    for (group, input) in inputs {
        write_check(state, authed, level, policy, Some(&group))?;
        crate::limits::check_parameters(&input.parameters)?;
        if !model.groups.contains_key(&group) {
            return Err(ApiError::not_found("group", &group));
        }
        if let Some(filter) = replace {
            let matching: Vec<&BindingBody> = model
                .bindings
                .values()
                .filter(|b| {
                    b.level_type == level_type
                        && b.level_id == level_id
                        && b.policy_uuid == policy
                        && b.group_uuid == group
                        && filter.matches(b)
                })
                .collect();
            if matching.len() > 1 && !filter.force_multiple {
                return Err(ApiError::invalid(format!(
                    "{} bindings match; narrow the filter or pass `forceMultiple=true`",
                    matching.len()
                )));
            }
            for old in matching {
                let record = binding_record(old);
                affected.extend(directory.remove_bindings(&group, |b| *b == record)?);
                removed.push(old.key());
                ops.push(warden_store::Op::DeleteBinding { key: old.key() });
            }
        }
        let body = BindingBody {
            level_type: level_type.to_owned(),
            level_id: level_id.clone(),
            policy_uuid: policy.to_owned(),
            group_uuid: group.clone(),
            parameters: input.parameters,
            metadata: input.metadata,
            boundaries: input.boundaries,
            created_at: authed.context.now_ms,
        };
        let binding: Binding = binding_record(&body);
        directory.check_binding(&binding)?;
        if let Some(policy_record) = directory.policy(policy) {
            warden_engine::params::check_pattern_parameters(
                &policy_record.ast,
                &binding.parameters,
            )
            .map_err(ApiError::invalid)?;
        }
        require_can_bind(snapshot, &authed.caller.uid, &directory, &binding)?;
        if let Some(policy_record) = directory.policy(policy) {
            let boundaries: Vec<_> = binding
                .boundaries
                .iter()
                .filter_map(|b| directory.boundary(b).map(Arc::clone))
                .collect();
            for (boundary, permission) in
                unrestricted_by_boundaries(policy_record, &boundaries, snapshot.catalogue())
            {
                warnings.push(format!("boundary `{boundary}` does not restrict `{permission}`: under it the permission is granted without its conditions"));
            }
        }
        affected.extend(directory.add_binding(binding)?);
        ops.push(body.op());
        added.push(body);
    }
    let at_this_level = model
        .bindings
        .values()
        .filter(|b| b.level_type == level_type && b.level_id == level_id)
        .count();
    if at_this_level + added.len() > MAX_BINDINGS_PER_LEVEL + removed.len() {
        return Err(limit_reached("bindings per level", MAX_BINDINGS_PER_LEVEL));
    }
    let mut plan = Plan::new(
        "binding.create",
        format!("policy/{policy}/bindings"),
        warnings,
    );
    plan.before = (!removed.is_empty()).then(|| json!({ "removed": removed }));
    plan.after = Some(json!(added));
    plan.ops = ops;
    plan.directory = Some((directory, affected));
    plan.apply = Box::new(move |model: &mut Model| {
        for key in removed {
            model.bindings.remove(&key);
        }
        for body in added {
            model.bindings.insert(body.key(), body);
        }
    });
    Ok(plan)
}

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
    let (warnings, revision) = state
        .write(&authed.context, |model, snapshot| {
            let level = level(model, &lt, &lid)?;
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
            plan_add(
                &state, &authed, model, snapshot, &level, &policy, inputs, None,
            )
        })
        .await?;
    Ok(no_content(revision, &warnings))
}

pub async fn add_one(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
    Body(input): Body<BindingInput>,
) -> ApiResult<Response> {
    let (warnings, revision) = state
        .write(&authed.context, |model, snapshot| {
            let level = level(model, &lt, &lid)?;
            plan_add(
                &state,
                &authed,
                model,
                snapshot,
                &level,
                &policy,
                vec![(group.clone(), input)],
                None,
            )
        })
        .await?;
    Ok(no_content(revision, &warnings))
}

pub async fn put_one(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
    RawQuery(query): RawQuery,
    Body(input): Body<BindingInput>,
) -> ApiResult<Response> {
    let filter = filter(query)?;
    let (warnings, revision) = state
        .write(&authed.context, |model, snapshot| {
            let level = level(model, &lt, &lid)?;
            plan_add(
                &state,
                &authed,
                model,
                snapshot,
                &level,
                &policy,
                vec![(group.clone(), input)],
                Some(&filter),
            )
        })
        .await?;
    Ok(no_content(revision, &warnings))
}

/// Deletes the bindings `select` picks at the level; `policy` and `group` feed the permission check.
async fn delete_where(
    state: AppState,
    authed: Authed,
    lt: String,
    lid: String,
    policy: Option<String>,
    group: Option<String>,
    filter: Filter,
) -> ApiResult<Written<()>> {
    let ((), revision) = state
        .write(&authed.context, |model, _snapshot| {
            let level = level(model, &lt, &lid)?;
            crate::api::writable(&level, "delete bindings")?;
            let selected: Vec<BindingBody> = model
                .bindings
                .values()
                .filter(|b| at_level(b, model, &level))
                .filter(|b| {
                    policy.as_ref().is_none_or(|p| &b.policy_uuid == p)
                        && group.as_ref().is_none_or(|g| &b.group_uuid == g)
                })
                .filter(|b| filter.matches(b))
                .cloned()
                .collect();
            let mut pairs = vec![("iam:levelType", level.type_name())];
            pairs.extend(policy.as_deref().map(|p| ("iam:policyUuid", p)));
            if selected.is_empty() {
                pairs.extend(group.as_deref().map(|g| ("iam:boundGroup", g)));
                state.require(&authed, "iam:bindings:write", &level, &attributes(&pairs))?;
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    "no binding matches",
                ));
            }
            for body in &selected {
                let mut check = pairs.clone();
                check.push(("iam:policyUuid", &body.policy_uuid));
                check.push(("iam:boundGroup", &body.group_uuid));
                state.require(&authed, "iam:bindings:write", &level, &attributes(&check))?;
            }
            if policy.is_some() && selected.len() > 1 && !filter.force_multiple {
                return Err(ApiError::invalid(format!(
                    "{} bindings match; narrow the filter or pass `forceMultiple=true`",
                    selected.len()
                )));
            }
            let mut directory = model.directory.clone();
            let mut affected = Vec::new();
            for body in &selected {
                let record = binding_record(body);
                affected.extend(directory.remove_bindings(&body.group_uuid, |b| *b == record)?);
            }
            let keys: Vec<String> = selected.iter().map(BindingBody::key).collect();
            let mut plan = Plan::new("binding.delete", format!("{}/bindings", level), ());
            plan.before = Some(json!(selected));
            plan.ops = keys
                .iter()
                .map(|key| warden_store::Op::DeleteBinding { key: key.clone() })
                .collect();
            plan.directory = Some((directory, affected));
            plan.apply = Box::new(move |model: &mut Model| {
                for key in keys {
                    model.bindings.remove(&key);
                }
            });
            Ok(plan)
        })
        .await?;
    Ok(Written {
        status: StatusCode::NO_CONTENT,
        revision,
        body: None,
    })
}

pub async fn delete_all(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let filter = Filter {
        force_multiple: true,
        ..Filter::default()
    };
    delete_where(state, authed, lt, lid, None, None, filter).await
}

pub async fn delete_of_policy(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Written<()>> {
    let filter = filter(query)?;
    delete_where(state, authed, lt, lid, Some(policy), None, filter).await
}

pub async fn delete_one(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, policy, group)): Path<(String, String, String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Written<()>> {
    let filter = filter(query)?;
    delete_where(state, authed, lt, lid, Some(policy), Some(group), filter).await
}

/// `PUT …/bindings/groups/{group}`: the group's bindings at this level become exactly these
/// policies (without parameters); bindings of other policies are removed.
pub async fn set_group_policies(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, group)): Path<(String, String, String)>,
    Body(input): Body<PolicyUuidsInput>,
) -> ApiResult<Response> {
    let (warnings, revision) = state
        .write(&authed.context, |model, snapshot| {
            let level = level(model, &lt, &lid)?;
            crate::api::writable(&level, "bind policies")?;
            if !model.groups.contains_key(&group) {
                return Err(ApiError::not_found("group", &group));
            }
            let current: Vec<BindingBody> = model
                .bindings
                .values()
                .filter(|b| at_level(b, model, &level) && b.group_uuid == group)
                .cloned()
                .collect();
            let mut directory = model.directory.clone();
            let mut affected = Vec::new();
            let mut ops = Vec::new();
            let mut removed = Vec::new();
            for body in current
                .iter()
                .filter(|b| !input.policy_uuids.contains(&b.policy_uuid))
            {
                write_check(&state, &authed, &level, &body.policy_uuid, Some(&group))?;
                let record = binding_record(body);
                affected.extend(directory.remove_bindings(&group, |b| *b == record)?);
                ops.push(warden_store::Op::DeleteBinding { key: body.key() });
                removed.push(body.key());
            }
            let mut added = Vec::new();
            for policy in &input.policy_uuids {
                if current.iter().any(|b| &b.policy_uuid == policy)
                    || added.iter().any(|b: &BindingBody| &b.policy_uuid == policy)
                {
                    continue;
                }
                write_check(&state, &authed, &level, policy, Some(&group))?;
                let (level_type, level_id) = level_parts(model, &level);
                let body = BindingBody {
                    level_type: level_type.to_owned(),
                    level_id,
                    policy_uuid: policy.clone(),
                    group_uuid: group.clone(),
                    parameters: BTreeMap::new(),
                    metadata: BTreeMap::new(),
                    boundaries: Vec::new(),
                    created_at: authed.context.now_ms,
                };
                let binding = binding_record(&body);
                directory.check_binding(&binding)?;
                require_can_bind(snapshot, &authed.caller.uid, &directory, &binding)?;
                affected.extend(directory.add_binding(binding)?);
                ops.push(body.op());
                added.push(body);
            }
            let mut plan = Plan::new(
                "binding.set-group",
                format!("group/{group}/bindings"),
                Vec::<String>::new(),
            );
            plan.before = Some(json!(current));
            plan.after = Some(json!(added));
            plan.ops = ops;
            plan.directory = Some((directory, affected));
            plan.apply = Box::new(move |model: &mut Model| {
                for key in removed {
                    model.bindings.remove(&key);
                }
                for body in added {
                    model.bindings.insert(body.key(), body);
                }
            });
            Ok(plan)
        })
        .await?;
    Ok(no_content(revision, &warnings))
}
