//! Environments: the levels environment bindings apply at.

use serde::Deserialize;
use serde_json::json;

use crate::limits::{check_id, check_text};
use crate::model::Model;
use crate::records::EnvironmentBody;
use crate::service::groups::account;
use crate::service::guard::attributes;
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentInput {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Creates an environment. Account-level bindings apply in it from the start: they were made
/// for every environment of the account, present and future.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    input: EnvironmentInput,
) -> ApiResult<(EnvironmentBody, i64)> {
    state
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
            plan.after = Some(json!(body));
            plan.ops = vec![body.op()];
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                model.environments.insert(body.id.clone(), body);
            });
            Ok(plan)
        })
        .await
}
