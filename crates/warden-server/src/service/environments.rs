//! Environments: the levels environment bindings apply at — listed in Warden's shape and in
//! Dynatrace's, and created; and the counts and limits that apply at a level.

use serde_json::json;
pub use warden_api::environments::EnvironmentInput;
use warden_api::environments::{
    DynatraceEnvironment, DynatraceEnvironmentList, Environment, EnvironmentList,
};
use warden_api::limits::{Limit, Limits, Usage};

use crate::limits::{
    MAX_BINDINGS_PER_LEVEL, MAX_BOUNDARIES, MAX_GROUPS, MAX_OAUTH_CLIENTS,
    MAX_PLATFORM_TOKENS_PER_USER, MAX_POLICIES, MAX_USERS, check_id, check_text,
};
use crate::model::Model;
use crate::records::EnvironmentBody;
use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::levels::{level, level_parts};
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

/// An environment as the API shows it.
pub fn environment(body: &EnvironmentBody) -> Environment {
    Environment {
        id: body.id.clone(),
        name: body.name.clone(),
        created_at: iso(body.created_at),
    }
}

/// The account's environments, once the caller may read them (`iam:environments:read`).
async fn readable(state: &AppState, authed: &Authed, acc: &str) -> ApiResult<Vec<Environment>> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:environments:read", &level, &attributes(&[]))?;
    Ok(model.environments.values().map(environment).collect())
}

/// The account's environments, by id.
pub async fn list(state: &AppState, authed: &Authed, acc: &str) -> ApiResult<EnvironmentList> {
    let items = readable(state, authed, acc).await?;
    Ok(EnvironmentList {
        count: items.len(),
        items,
    })
}

/// The same list in Dynatrace's shape. Every environment is active; `url` is the environment's
/// level in this API, since Warden serves no environment.
pub async fn list_dynatrace(
    state: &AppState,
    authed: &Authed,
    acc: &str,
) -> ApiResult<DynatraceEnvironmentList> {
    let data = readable(state, authed, acc)
        .await?
        .into_iter()
        .map(|env| DynatraceEnvironment {
            url: format!("/iam/v1/repo/environment/{}", env.id),
            id: env.id,
            name: env.name,
            active: true,
        })
        .collect();
    Ok(DynatraceEnvironmentList { data })
}

/// The counts and limits at a level (`iam:limits:read` there).
pub async fn limits(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
) -> ApiResult<Limits> {
    let model = state.model.lock().await;
    let level = level(&model, level_type, level_id)?;
    state.require(authed, "iam:limits:read", &level, &attributes(&[]))?;
    let (level_type, level_id) = level_parts(&model, &level);
    let bindings = model
        .bindings
        .values()
        .filter(|b| b.level_type == level_type && b.level_id == level_id)
        .count();
    let usage = |count, limit| Usage { count, limit };
    Ok(Limits {
        policies: usage(model.policies.len(), MAX_POLICIES),
        bindings: usage(bindings, MAX_BINDINGS_PER_LEVEL),
        boundaries: usage(model.boundaries.len(), MAX_BOUNDARIES),
        users: usage(model.principals.len(), MAX_USERS),
        groups: usage(model.groups.len(), MAX_GROUPS),
        oauth_clients: usage(model.oauth_clients.len(), MAX_OAUTH_CLIENTS),
        platform_tokens_per_user: Limit {
            limit: MAX_PLATFORM_TOKENS_PER_USER,
        },
    })
}

/// Creates an environment. Account-level bindings apply in it from the start: they were made
/// for every environment of the account, present and future.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    input: EnvironmentInput,
) -> ApiResult<(Environment, i64)> {
    let (body, revision) = state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:environments:write", &level, &attributes(&[]))?;
            check_id("id", &input.id)?;
            let name = input.name.clone().unwrap_or_else(|| input.id.clone());
            check_text("name", &name, 1, 200)?;
            if model.environments.contains_key(&input.id) {
                return Err(ApiError::conflict(format!(
                    "environment `{}` already exists",
                    input.id
                )));
            }
            let body = EnvironmentBody {
                id: input.id.clone(),
                name,
                created_at: authed.context.now_ms,
            };
            let mut directory = model.directory.clone();
            directory.add_environment(body.id.as_str());
            let mut plan = Plan::new(
                "environment.create",
                format!("environment/{}", body.id),
                body.clone(),
            );
            // As the API shows it (the time in RFC 3339), like every audited object.
            plan.after = Some(json!(environment(&body)));
            plan.ops = vec![body.op()];
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                model.environments.insert(body.id.clone(), body);
            });
            Ok(plan)
        })
        .await?;
    Ok((environment(&body), revision))
}
