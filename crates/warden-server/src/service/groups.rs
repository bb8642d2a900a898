//! Groups: creating, renaming and deleting them. Names are unique case-insensitively; a service
//! user's own group cannot be deleted apart from it.

use serde_json::json;
use warden_engine::Level;
use warden_policy::temporal::format_date_time;

use crate::limits::{MAX_GROUPS, check_name, check_text, limit_reached};
use crate::model::{Model, group_record};
use crate::records::{GroupBody, fold};
use crate::service::guard::attributes;
use crate::service::levels::{level, new_uuid};
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

use warden_api::List;
pub use warden_api::groups::{GroupDto, GroupInput};
use warden_api::users::UserSummary;

pub fn iso(ms: i64) -> String {
    format_date_time(ms.div_euclid(1000))
}

pub fn dto(body: &GroupBody) -> GroupDto {
    GroupDto {
        uuid: body.uuid.clone(),
        name: body.name.clone(),
        description: body.description.clone(),
        federated_attribute_values: body.federated_attribute_values.clone(),
        owner: body.owner.clone(),
        created_at: iso(body.created_at),
        updated_at: iso(body.updated_at),
    }
}

pub fn account(model: &Model, account: &str) -> ApiResult<Level> {
    level(model, "account", account)
}

/// Every group of the account, by name.
pub async fn list(state: &AppState, authed: &Authed, acc: &str) -> ApiResult<List<GroupDto>> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:groups:read", &level, &attributes(&[]))?;
    let mut items: Vec<GroupDto> = model.groups.values().map(dto).collect();
    items.sort_by_key(|g| fold(&g.name));
    Ok(List::from(items))
}

/// One group.
pub async fn get(state: &AppState, authed: &Authed, acc: &str, uuid: &str) -> ApiResult<GroupDto> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:groups:read", &level, &attributes(&[]))?;
    model
        .groups
        .get(uuid)
        .map(dto)
        .ok_or_else(|| ApiError::not_found("group", uuid))
}

/// The members of a group, by email.
pub async fn members(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    uuid: &str,
) -> ApiResult<List<UserSummary>> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:groups:read", &level, &attributes(&[]))?;
    if !model.groups.contains_key(uuid) {
        return Err(ApiError::not_found("group", uuid));
    }
    let mut items: Vec<UserSummary> = model
        .directory
        .principals()
        .filter(|p| p.groups.iter().any(|g| **g == *uuid))
        .filter_map(|p| model.principals.get(p.uid.as_ref()))
        .map(crate::service::users::summary)
        .collect();
    items.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(List::from(items))
}

fn check_input(model: &Model, input: &GroupInput, except: Option<&str>) -> ApiResult<()> {
    check_name(&input.name)?;
    check_text("description", &input.description, 0, 255)?;
    if let Some(other) = model
        .groups
        .values()
        .find(|g| Some(g.uuid.as_str()) != except && fold(&g.name) == fold(&input.name))
    {
        return Err(ApiError::conflict(format!(
            "a group named `{}` already exists ({})",
            other.name, other.uuid
        )));
    }
    Ok(())
}

/// Creates all the groups or none.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    inputs: Vec<GroupInput>,
) -> ApiResult<(Vec<GroupDto>, i64)> {
    let now = authed.context.now_ms;
    state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:groups:write", &level, &attributes(&[]))?;
            if inputs.is_empty() {
                return Err(ApiError::invalid("give at least one group"));
            }
            if model.groups.len() + inputs.len() > MAX_GROUPS {
                return Err(limit_reached("groups per account", MAX_GROUPS));
            }
            let mut directory = model.directory.clone();
            let mut bodies: Vec<GroupBody> = Vec::new();
            for input in &inputs {
                check_input(model, input, None)?;
                if bodies.iter().any(|b| fold(&b.name) == fold(&input.name)) {
                    return Err(ApiError::conflict(format!(
                        "the group `{}` is given twice",
                        input.name
                    )));
                }
                let body = GroupBody {
                    uuid: new_uuid(),
                    name: input.name.trim().to_owned(),
                    description: input.description.clone(),
                    federated_attribute_values: input.federated_attribute_values.clone(),
                    owner: if input.federated_attribute_values.is_empty() {
                        "LOCAL".into()
                    } else {
                        "SAML".into()
                    },
                    created_at: now,
                    updated_at: now,
                };
                directory.upsert_group(group_record(&body))?;
                bodies.push(body);
            }
            let out: Vec<GroupDto> = bodies.iter().map(dto).collect();
            let mut plan = Plan::new("group.create", "groups", out);
            plan.after = Some(json!(bodies));
            plan.ops = bodies.iter().map(GroupBody::op).collect();
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                for body in bodies {
                    model.groups.insert(body.uuid.to_owned(), body);
                }
            });
            Ok(plan)
        })
        .await
}

/// Renames or redescribes a group.
pub async fn update(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    uuid: &str,
    input: GroupInput,
) -> ApiResult<(GroupDto, i64)> {
    let now = authed.context.now_ms;
    state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:groups:write", &level, &attributes(&[]))?;
            let previous = model
                .groups
                .get(uuid)
                .cloned()
                .ok_or_else(|| ApiError::not_found("group", uuid))?;
            check_input(model, &input, Some(uuid))?;
            let body = GroupBody {
                name: input.name.trim().to_owned(),
                description: input.description.clone(),
                federated_attribute_values: input.federated_attribute_values.clone(),
                updated_at: now,
                ..previous.clone()
            };
            let mut directory = model.directory.clone();
            directory.upsert_group(group_record(&body))?;
            let out = dto(&body);
            let mut plan = Plan::new("group.update", format!("group/{uuid}"), out);
            plan.before = Some(json!(previous));
            plan.after = Some(json!(body));
            plan.ops = vec![body.op()];
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                model.groups.insert(body.uuid.to_owned(), body);
            });
            Ok(plan)
        })
        .await
}

/// Deletes a group with its bindings; its members leave it. A service user's own group goes
/// with the service user only. Deleting the last group that makes someone an administrator is
/// refused by the commit pipeline.
pub async fn delete(state: &AppState, authed: &Authed, acc: &str, uuid: &str) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:groups:write", &level, &attributes(&[]))?;
            let body = model.groups.get(uuid).cloned().ok_or_else(|| ApiError::not_found("group", uuid))?;
            if let Some(owner) = model.principals.values().find(|p| p.group_uuid.as_deref() == Some(uuid)) {
                return Err(ApiError::conflict(format!("group `{}` is the own group of service user `{}`; delete the service user instead", body.name, owner.name)));
            }
            let mut directory = model.directory.clone();
            let affected = directory.remove_group(uuid)?;
            let members: Vec<String> = model.directory.principals().filter(|p| p.groups.iter().any(|g| **g == *uuid)).map(|p| p.uid.to_string()).collect();
            for uid in &members {
                let remaining: Vec<_> = directory.principal(uid).map(|p| p.groups.iter().filter(|g| ***g != *uuid).cloned().collect()).unwrap_or_default();
                directory.set_memberships(uid, remaining)?;
            }
            let bindings: Vec<String> = model.bindings.iter().filter(|(_, b)| b.group_uuid == uuid).map(|(k, _)| k.clone()).collect();
            let mut plan = Plan::new("group.delete", format!("group/{uuid}"), ());
            plan.before = Some(json!({ "group": body, "members": members, "bindings": bindings.len() }));
            plan.ops = vec![warden_store::Op::DeleteGroup { uuid: uuid.to_owned() }];
            plan.directory = Some((directory, affected));
            let id = uuid.to_owned();
            plan.apply = Box::new(move |model: &mut Model| {
                model.groups.remove(&id);
                for key in bindings {
                    model.bindings.remove(&key);
                }
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}
