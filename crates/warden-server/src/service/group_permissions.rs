//! Dynatrace's group permissions (`…/groups/{groupUuid}/permissions`) on Warden's model: a
//! permission name stands for a global policy ([`PERMISSION_MAPPINGS`]); giving it to a group
//! binds that policy to the group, without parameters or boundaries, at account level
//! (`scopeType: account`) or at the environment named by `scope` (`tenant`). Reading shows those
//! bindings; setting makes them exactly the ones asked for, through the write path every binding
//! takes (permission to bind, no escalation, the audit log). Other bindings of the group are not
//! permissions in this sense and are left alone.

use std::collections::BTreeMap;

use serde_json::json;
use warden_api::group_permissions::{
    GroupPermission, GroupPermissionDto, GroupPermissions, PERMISSION_MAPPINGS, PermissionMapping,
};
use warden_engine::Level;

use crate::model::{Model, binding_record};
use crate::records::BindingBody;
use crate::service::bindings::write_check;
use crate::service::groups::iso;
use crate::service::guard::attributes;
use crate::service::levels::level_parts;
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

/// A permission as a binding: the mapped policy's id at a level.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    policy: String,
    level: Level,
    permission: GroupPermission,
}

/// The id of the global policy named `name`.
fn policy_id(model: &Model, name: &str) -> ApiResult<String> {
    model
        .directory
        .policies()
        .find(|p| p.level == Level::Global && p.name == name)
        .map(|p| p.id.to_string())
        .ok_or_else(|| ApiError::internal(format!("the default policy `{name}` is missing")))
}

/// The permission a binding stands for, if it is one: a mapped policy, bound plainly.
fn as_permission(model: &Model, body: &BindingBody) -> Option<GroupPermissionDto> {
    if !body.parameters.is_empty() || !body.metadata.is_empty() || !body.boundaries.is_empty() {
        return None;
    }
    let policy = model.directory.policy(&body.policy_uuid)?;
    let mapping = PERMISSION_MAPPINGS
        .iter()
        .find(|m| m.policy_name == policy.name)?;
    let scope_type = match body.level_type.as_str() {
        "account" => "account",
        "environment" => "tenant",
        _ => return None,
    };
    (scope_type == mapping.scope_type).then(|| GroupPermissionDto {
        permission_name: mapping.permission_name.to_owned(),
        scope: body.level_id.clone(),
        scope_type: scope_type.to_owned(),
        created_at: iso(body.created_at),
        updated_at: iso(body.created_at),
    })
}

/// `GET`: the group and its permissions.
pub async fn read(
    state: &AppState,
    authed: &Authed,
    account: &str,
    group: &str,
) -> ApiResult<GroupPermissions> {
    let model = state.model.lock().await;
    let level = crate::service::groups::account(&model, account)?;
    state.require(authed, "iam:groups:read", &level, &attributes(&[]))?;
    state.require(authed, "iam:bindings:read", &level, &attributes(&[]))?;
    let body = model
        .groups
        .get(group)
        .ok_or_else(|| ApiError::not_found("group", group))?;
    let mut permissions: Vec<GroupPermissionDto> = model
        .bindings
        .values()
        .filter(|b| b.group_uuid == group)
        .filter_map(|b| as_permission(&model, b))
        .collect();
    permissions.sort_by(|a, b| (&a.permission_name, &a.scope).cmp(&(&b.permission_name, &b.scope)));
    let dto = crate::service::groups::dto(body);
    Ok(GroupPermissions {
        uuid: dto.uuid,
        name: dto.name,
        description: dto.description,
        owner: dto.owner,
        created_at: dto.created_at,
        updated_at: dto.updated_at,
        permissions,
    })
}

/// What one asked-for permission means: its mapping and its level.
fn wanted(model: &Model, asked: &GroupPermission) -> ApiResult<Wanted> {
    let mapping: &PermissionMapping = PERMISSION_MAPPINGS
        .iter()
        .find(|m| m.permission_name == asked.permission_name)
        .ok_or_else(|| {
            let known: Vec<String> = PERMISSION_MAPPINGS
                .iter()
                .map(|m| format!("`{}`", m.permission_name))
                .collect();
            ApiError::invalid(format!(
                "permission `{}` has no equivalent in Warden; the supported ones are {}, and any other access is given by binding a policy",
                asked.permission_name,
                known.join(", ")
            ))
        })?;
    if asked.scope_type != mapping.scope_type {
        return Err(ApiError::invalid(format!(
            "permission `{}` is given with `scopeType: {}`, not `{}`",
            asked.permission_name, mapping.scope_type, asked.scope_type
        )));
    }
    let level = match mapping.scope_type {
        "account" if asked.scope == model.account => Level::Account,
        "account" => {
            return Err(ApiError::invalid(format!(
                "`scope` of an account permission is this account's id `{}`, not `{}`",
                model.account, asked.scope
            )));
        }
        _ if model.environments.contains_key(&asked.scope) => {
            Level::Environment(asked.scope.as_str().into())
        }
        _ => return Err(ApiError::not_found("environment", &asked.scope)),
    };
    Ok(Wanted {
        policy: policy_id(model, mapping.policy_name)?,
        level,
        permission: asked.clone(),
    })
}

/// `PUT`: the group's permissions become exactly `asked`.
pub async fn set(
    state: &AppState,
    authed: &Authed,
    account: &str,
    group: &str,
    asked: Vec<GroupPermission>,
) -> ApiResult<i64> {
    let (_, revision) = state
        .write(authed, |model, _snapshot| {
            crate::service::groups::account(model, account)?;
            if !model.groups.contains_key(group) {
                return Err(ApiError::not_found("group", group));
            }
            let mut wanted_all: Vec<Wanted> = Vec::new();
            for asked in &asked {
                let one = wanted(model, asked)?;
                if !wanted_all
                    .iter()
                    .any(|w| w.policy == one.policy && w.level == one.level)
                {
                    wanted_all.push(one);
                }
            }
            let current: Vec<BindingBody> = model
                .bindings
                .values()
                .filter(|b| b.group_uuid == group && as_permission(model, b).is_some())
                .cloned()
                .collect();
            let mut directory = model.directory.clone();
            let mut affected = Vec::new();
            let mut ops = Vec::new();
            let mut removed = Vec::new();
            for body in &current {
                let level = body.level();
                if wanted_all
                    .iter()
                    .any(|w| w.policy == body.policy_uuid && w.level == level)
                {
                    continue;
                }
                write_check(state, authed, &level, &body.policy_uuid, Some(group))?;
                let record = binding_record(body);
                affected.extend(directory.remove_bindings(group, |b| *b == record)?);
                ops.push(warden_store::Op::DeleteBinding { key: body.key() });
                removed.push(body.key());
            }
            let mut added = Vec::new();
            for want in &wanted_all {
                if current
                    .iter()
                    .any(|b| b.policy_uuid == want.policy && b.level() == want.level)
                {
                    continue;
                }
                write_check(state, authed, &want.level, &want.policy, Some(group))?;
                let (level_type, level_id) = level_parts(model, &want.level);
                let body = BindingBody {
                    level_type: level_type.to_owned(),
                    level_id,
                    policy_uuid: want.policy.clone(),
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
                "group.permissions",
                format!("group/{group}/permissions"),
                (),
            );
            plan.before = Some(json!(current));
            plan.after = Some(json!(
                wanted_all.iter().map(|w| &w.permission).collect::<Vec<_>>()
            ));
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
    Ok(revision)
}
