//! Bindings (SPEC §3–§5): binding policies to groups at a level, with parameters, metadata and
//! boundaries; replacing and removing them. Writes need `iam:bindings:write` with
//! `iam:policyUuid`, `iam:levelType` and `iam:boundGroup` from the request, so administration can
//! be delegated per group. Legacy default policies cannot be bound again (SPEC §6). What a
//! binding grants — or, removed, stops denying — is checked against the author by the commit
//! pipeline like every other change, and so is elevation: a binding that gives a service user an
//! `iam:` write permission or a global Admin policy carries a `justification` in its metadata
//! ([`crate::service::elevation`]). Reads need `iam:bindings:read` with the same attributes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use warden_engine::compile::unrestricted_by_boundaries;
use warden_engine::{Binding, Level, ParamValue};

use crate::limits::{MAX_BINDINGS_PER_LEVEL, limit_reached};
use crate::model::{Model, binding_record};
use crate::records::BindingBody;
use crate::service::elevation::JUSTIFICATION;
use crate::service::guard::{attributes, require_not_legacy};
use crate::service::levels::{level, level_parts, writable};
use crate::service::{ApiError, ApiResult, Authed, ErrorCode, Plan};
use crate::state::AppState;

pub use warden_api::bindings::{
    BindingDetail, BindingInput, DescendantsPage, GroupBindings, LevelBindings, ParameterValue,
    PolicyBinding,
};

/// A binding's parameters as the engine reads them.
pub fn engine_parameters(
    parameters: BTreeMap<String, ParameterValue>,
) -> BTreeMap<String, ParamValue> {
    parameters
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                ParameterValue::One(one) => ParamValue::One(one),
                ParameterValue::Many(many) => ParamValue::Many(many),
            };
            (name, value)
        })
        .collect()
}

/// The engine's parameters as the wire shows them.
pub fn wire_parameters(
    parameters: &BTreeMap<String, ParamValue>,
) -> BTreeMap<String, ParameterValue> {
    parameters
        .iter()
        .map(|(name, value)| {
            let value = match value {
                ParamValue::One(one) => ParameterValue::One(one.clone()),
                ParamValue::Many(many) => ParameterValue::Many(many.clone()),
            };
            (name.clone(), value)
        })
        .collect()
}

/// Which existing bindings a replacement or a removal is about: those whose parameters and
/// metadata include these values; more than one only with `force_multiple`.
#[derive(Debug, Default, Clone)]
pub struct BindingFilter {
    pub parameters: BTreeMap<String, String>,
    pub metadata: BTreeMap<String, String>,
    pub force_multiple: bool,
}

impl BindingFilter {
    pub fn matches(&self, body: &BindingBody) -> bool {
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

/// Whether a stored binding is at `level` (its type and id).
pub fn at_level(body: &BindingBody, model: &Model, level: &Level) -> bool {
    let (level_type, level_id) = level_parts(model, level);
    body.level_type == level_type && body.level_id == level_id
}

pub(crate) fn write_check(
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

/// A policy that may be bound at `level`: a global or account policy, or one of that very
/// environment. Any other is "not found" here, as reading it through this level's path would
/// be: its name and level are not this caller's to learn.
fn bindable_at(model: &Model, policy: &str, level: &Level) -> ApiResult<()> {
    let visible = model
        .directory
        .policy(policy)
        .is_some_and(|p| matches!(p.level, Level::Global | Level::Account) || p.level == *level);
    if visible {
        Ok(())
    } else {
        Err(ApiError::not_found("policy", policy))
    }
}

/// What a binding write did: the boundary warnings (SPEC §4 rule 4) and the revision.
#[derive(Debug)]
pub struct Bound {
    pub warnings: Vec<String>,
    pub revision: i64,
}

/// Binds `policy` to each group of `inputs` at the level; with `replace`, the group's bindings
/// of the policy that the filter picks are replaced. Every check is made before anything is
/// written.
pub async fn add(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    policy: &str,
    inputs: Vec<(String, BindingInput)>,
    replace: Option<&BindingFilter>,
) -> ApiResult<Bound> {
    let (warnings, revision) = state
        .write(authed, |model, snapshot| {
            let level = level(model, level_type, level_id)?;
            plan_add(
                state, authed, model, snapshot, &level, policy, inputs, replace,
            )
        })
        .await?;
    Ok(Bound { warnings, revision })
}

#[expect(
    clippy::too_many_arguments,
    reason = "the request's parts, passed through from the use case"
)]
fn plan_add(
    state: &AppState,
    authed: &Authed,
    model: &Model,
    snapshot: &warden_engine::Snapshot,
    level: &Level,
    policy: &str,
    inputs: Vec<(String, BindingInput)>,
    replace: Option<&BindingFilter>,
) -> ApiResult<Plan<Vec<String>>> {
    writable(level, "bind policies")?;
    let (level_type, level_id) = level_parts(model, level);
    let mut directory = model.directory.clone();
    let mut affected = Vec::new();
    let mut ops = Vec::new();
    let mut added: Vec<BindingBody> = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    let mut replaced_bodies: Vec<BindingBody> = Vec::new();
    let mut warnings = Vec::new();
    for (group, input) in inputs {
        write_check(state, authed, level, policy, Some(&group))?;
        bindable_at(model, policy, level)?;
        let parameters = engine_parameters(input.parameters);
        crate::limits::check_parameters(&parameters)?;
        if let Some(text) = input.metadata.get(JUSTIFICATION) {
            crate::limits::check_text(JUSTIFICATION, text, 0, 2000)?;
        }
        if !model.groups.contains_key(&group) {
            return Err(ApiError::not_found("group", &group));
        }
        let mut replaced = false;
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
                replaced_bodies.push(old.clone());
                ops.push(warden_store::Op::DeleteBinding { key: old.key() });
                replaced = true;
            }
        }
        // A binding that replaces an existing one of the same policy is not a new assignment.
        if !replaced {
            require_not_legacy(state, policy)?;
        }
        let body = BindingBody {
            level_type: level_type.to_owned(),
            level_id: level_id.clone(),
            policy_uuid: policy.to_owned(),
            group_uuid: group.clone(),
            parameters,
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
    // The audit entry: the bindings replaced before, the new ones after.
    plan.before = (!replaced_bodies.is_empty()).then(|| json!(replaced_bodies));
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

/// Deletes the bindings at the level of `policy` (any when `None`) to `group` (any when
/// `None`) that `filter` picks. Each one needs `iam:bindings:write` for its policy and group.
pub async fn delete_where(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    policy: Option<&str>,
    group: Option<&str>,
    filter: &BindingFilter,
) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, _snapshot| {
            let level = level(model, level_type, level_id)?;
            writable(&level, "delete bindings")?;
            let selected: Vec<BindingBody> = model
                .bindings
                .values()
                .filter(|b| at_level(b, model, &level))
                .filter(|b| {
                    policy.is_none_or(|p| b.policy_uuid == p)
                        && group.is_none_or(|g| b.group_uuid == g)
                })
                .filter(|b| filter.matches(b))
                .cloned()
                .collect();
            let mut pairs = vec![("iam:levelType", level.type_name())];
            pairs.extend(policy.map(|p| ("iam:policyUuid", p)));
            if selected.is_empty() {
                pairs.extend(group.map(|g| ("iam:boundGroup", g)));
                state.require(authed, "iam:bindings:write", &level, &attributes(&pairs))?;
                return Err(ApiError::new(ErrorCode::NotFound, "no binding matches"));
            }
            for body in &selected {
                let mut check = pairs.clone();
                check.push(("iam:policyUuid", &body.policy_uuid));
                check.push(("iam:boundGroup", &body.group_uuid));
                state.require(authed, "iam:bindings:write", &level, &attributes(&check))?;
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
            let mut plan = Plan::new("binding.delete", format!("{level}/bindings"), ());
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
    Ok(revision)
}

/// The group's bindings at the level become exactly these policies (without parameters);
/// bindings of other policies are removed.
pub async fn set_group_policies(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    group: &str,
    policy_uuids: &[String],
) -> ApiResult<Bound> {
    let (warnings, revision) = state
        .write(authed, |model, _snapshot| {
            let level = level(model, level_type, level_id)?;
            writable(&level, "bind policies")?;
            if !model.groups.contains_key(group) {
                return Err(ApiError::not_found("group", group));
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
            let mut removed_bodies = Vec::new();
            for body in current
                .iter()
                .filter(|b| !policy_uuids.contains(&b.policy_uuid))
            {
                write_check(state, authed, &level, &body.policy_uuid, Some(group))?;
                let record = binding_record(body);
                affected.extend(directory.remove_bindings(group, |b| *b == record)?);
                ops.push(warden_store::Op::DeleteBinding { key: body.key() });
                removed.push(body.key());
                removed_bodies.push(body.clone());
            }
            let mut added = Vec::new();
            for policy in policy_uuids {
                if current.iter().any(|b| &b.policy_uuid == policy)
                    || added.iter().any(|b: &BindingBody| &b.policy_uuid == policy)
                {
                    continue;
                }
                write_check(state, authed, &level, policy, Some(group))?;
                bindable_at(model, policy, &level)?;
                require_not_legacy(state, policy)?;
                let (level_type, level_id) = level_parts(model, &level);
                let body = BindingBody {
                    level_type: level_type.to_owned(),
                    level_id,
                    policy_uuid: policy.clone(),
                    group_uuid: group.to_owned(),
                    parameters: BTreeMap::new(),
                    metadata: BTreeMap::new(),
                    boundaries: Vec::new(),
                    created_at: authed.context.now_ms,
                };
                let binding = binding_record(&body);
                directory.check_binding(&binding)?;
                affected.extend(directory.add_binding(binding)?);
                ops.push(body.op());
                added.push(body);
            }
            let mut plan = Plan::new(
                "binding.set-group",
                format!("group/{group}/bindings"),
                Vec::<String>::new(),
            );
            // The audit entry: the bindings removed before, the ones added after.
            plan.before = Some(json!(removed_bodies));
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
    Ok(Bound { warnings, revision })
}

// ---- reads ----------------------------------------------------------------------------------

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

/// Dynatrace's shape: the bindings grouped by (policy, parameters, metadata, boundaries), each
/// group listing its groups.
fn level_bindings<'a>(
    model: &Model,
    level: &Level,
    bindings: impl Iterator<Item = &'a BindingBody>,
) -> LevelBindings {
    let mut grouped: Vec<PolicyBinding> = Vec::new();
    for body in bindings {
        let parameters = wire_parameters(&body.parameters);
        let same = grouped.iter_mut().find(|b| {
            b.policy_uuid == body.policy_uuid
                && b.parameters == parameters
                && b.metadata == body.metadata
                && b.boundaries == body.boundaries
        });
        match same {
            Some(binding) => binding.groups.push(body.group_uuid.clone()),
            None => grouped.push(PolicyBinding {
                policy_uuid: body.policy_uuid.clone(),
                groups: vec![body.group_uuid.clone()],
                parameters,
                metadata: body.metadata.clone(),
                boundaries: body.boundaries.clone(),
            }),
        }
    }
    // A stable order: by policy, then by what distinguishes the bindings.
    grouped.sort_by(|a, b| {
        (
            &a.policy_uuid,
            serde_json::to_string(&a.parameters).ok(),
            &a.metadata,
            &a.boundaries,
        )
            .cmp(&(
                &b.policy_uuid,
                serde_json::to_string(&b.parameters).ok(),
                &b.metadata,
                &b.boundaries,
            ))
    });
    let (level_type, level_id) = level_parts(model, level);
    LevelBindings {
        level_type: level_type.to_owned(),
        level_id,
        policy_bindings: grouped,
    }
}

/// The bindings at a level, of `policy` and to `group` when given.
pub async fn at(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    policy: Option<&str>,
    group: Option<&str>,
) -> ApiResult<LevelBindings> {
    let model = state.model.lock().await;
    let level = level(&model, level_type, level_id)?;
    read_check(state, authed, &level, policy, group)?;
    let bindings = model.bindings.values().filter(|b| {
        at_level(b, &model, &level)
            && policy.is_none_or(|p| b.policy_uuid == p)
            && group.is_none_or(|g| b.group_uuid == g)
    });
    Ok(level_bindings(&model, &level, bindings))
}

/// The policies bound to a group at a level; with `details`, every binding.
pub async fn of_group(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    group: &str,
    details: bool,
) -> ApiResult<GroupBindings> {
    let model = state.model.lock().await;
    let level = level(&model, level_type, level_id)?;
    read_check(state, authed, &level, None, Some(group))?;
    if !model.groups.contains_key(group) {
        return Err(ApiError::not_found("group", group));
    }
    let bindings: Vec<&BindingBody> = model
        .bindings
        .values()
        .filter(|b| at_level(b, &model, &level) && b.group_uuid == group)
        .collect();
    let mut policy_uuids: Vec<String> = bindings.iter().map(|b| b.policy_uuid.clone()).collect();
    policy_uuids.sort_unstable();
    policy_uuids.dedup();
    let bindings_details = details.then(|| {
        bindings
            .iter()
            .map(|b| BindingDetail {
                policy_uuid: b.policy_uuid.clone(),
                groups: vec![b.group_uuid.clone()],
                parameters: wire_parameters(&b.parameters),
                metadata: b.metadata.clone(),
                boundaries: b.boundaries.clone(),
                level_type: b.level_type.clone(),
                level_id: b.level_id.clone(),
            })
            .collect()
    });
    Ok(GroupBindings {
        policy_uuids,
        bindings_details,
    })
}

/// A policy's bindings in each environment of the account the caller may read them in, paged
/// (`page` from 1, `size` 1–1000, defaults 1 and 100).
pub async fn descendants(
    state: &AppState,
    authed: &Authed,
    account_id: &str,
    policy: &str,
    page: Option<usize>,
    size: Option<usize>,
) -> ApiResult<DescendantsPage> {
    let model = state.model.lock().await;
    level(&model, "account", account_id)?;
    let (page, size) = (page.unwrap_or(1), size.unwrap_or(100));
    if page == 0 || size == 0 || size > 1000 {
        return Err(ApiError::invalid("`page` starts at 1 and `size` is 1–1000"));
    }
    let mut content = Vec::new();
    for environment in model.environments.keys() {
        let level = Level::Environment(environment.as_str().into());
        // Environments the caller may not read bindings in are left out, not refused.
        if read_check(state, authed, &level, Some(policy), None).is_err() {
            continue;
        }
        let bindings: Vec<&BindingBody> = model
            .bindings
            .values()
            .filter(|b| at_level(b, &model, &level) && b.policy_uuid == policy)
            .collect();
        if !bindings.is_empty() {
            content.push(level_bindings(&model, &level, bindings.into_iter()));
        }
    }
    let total_count = content.len();
    let content = content
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .collect();
    Ok(DescendantsPage {
        page_size: size,
        page_number: page,
        total_count,
        content,
    })
}
