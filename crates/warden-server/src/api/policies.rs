//! `/iam/v1/repo/{levelType}/{levelId}/policies`: create, upsert, get, list, aggregate, delete
//! and validate policies. Every save validates the text against the catalogue (SPEC §2) and answers
//! its diagnostics with their locations — at most [`warden_policy::diagnostic::MAX_DIAGNOSTICS`],
//! errors first, and `truncated`: how many more there were, when there were more; a bound
//! policy's change must stay within what the caller holds (no escalation).

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use warden_engine::{Level, PolicyRecord, Snapshot};
use warden_policy::diagnostic::locate;
use warden_policy::{Diagnostic, LocatedDiagnostic, check_policy};

use crate::api::{Body, Path, Query, Written, level, level_parts, new_uuid, writable};
use crate::auth::Authed;
use crate::authz::{attributes, require_can_rebind};
use crate::error::{ApiError, ApiResult};
use crate::limits::{MAX_POLICIES, check_id, check_name, check_text, limit_reached};
use crate::model::{Model, policy_record};
use crate::records::{PolicyBody, fold};
use crate::state::{AppState, Plan};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub statement_query: String,
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDto {
    pub uuid: String,
    pub name: String,
    pub tags: Vec<String>,
    pub description: String,
    pub statement_query: String,
    pub statements: Vec<Value>,
    pub level_type: &'static str,
    pub level_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<LocatedDiagnostic>,
    /// Diagnostics found beyond those shown.
    #[serde(skip_serializing_if = "is_zero")]
    pub truncated: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A text's diagnostics as the API shows them: at most
/// [`warden_policy::diagnostic::MAX_DIAGNOSTICS`] located ones, errors first, and the count of
/// the others.
#[derive(Debug, Default)]
pub struct Located {
    pub diagnostics: Vec<LocatedDiagnostic>,
    pub truncated: usize,
}

impl Located {
    /// `{"diagnostics": […]}`, with `"truncated": N` when some were left out.
    pub fn details(&self) -> Value {
        let mut details = json!({ "diagnostics": self.diagnostics });
        if self.truncated > 0 {
            crate::api::set(&mut details, "truncated", json!(self.truncated));
        }
        details
    }
}

/// The parsed form of a policy, as the API returns it.
fn statements(record: &PolicyRecord) -> Vec<Value> {
    record
        .ast
        .statements
        .iter()
        .map(|statement| {
            let permissions: Vec<&str> = statement.permissions.iter().map(|p| p.node.as_str()).collect();
            let service = permissions.first().and_then(|p| p.split(':').next()).unwrap_or_default();
            let conditions: Vec<Value> = statement
                .conditions
                .iter()
                .map(|c| {
                    let values: Vec<String> = c.value.strings().iter().map(|s| s.display_text()).collect();
                    json!({ "name": c.name.node, "operator": c.operator.node.api_name(), "values": values })
                })
                .collect();
            json!({ "effect": statement.effect.node, "service": service, "permissions": permissions, "conditions": conditions })
        })
        .collect()
}

fn dto(
    model: &Model,
    record: &PolicyRecord,
    body: Option<&PolicyBody>,
    located: Located,
) -> PolicyDto {
    let (level_type, level_id) = level_parts(model, &record.level);
    PolicyDto {
        uuid: record.id.to_string(),
        name: record.name.clone(),
        tags: body.map(|b| b.tags.clone()).unwrap_or_default(),
        description: record.description.clone(),
        statement_query: record.text.to_string(),
        statements: statements(record),
        level_type,
        level_id,
        diagnostics: located.diagnostics,
        truncated: located.truncated,
    }
}

/// Validates the text; errors refuse with the diagnostics located, warnings come back.
fn validated(
    snapshot: &Snapshot,
    input: &PolicyInput,
) -> ApiResult<(warden_policy::Policy, Located)> {
    check_name(&input.name)?;
    check_text("description", &input.description, 0, 2000)?;
    let checked = check_policy(&input.statement_query, snapshot.catalogue());
    let located = Located {
        diagnostics: locate(&checked.diagnostics, &input.statement_query),
        truncated: checked.omitted.total(),
    };
    if checked.diagnostics.iter().any(Diagnostic::is_error) {
        let errors = located
            .diagnostics
            .iter()
            .filter(|d| d.severity == warden_policy::Severity::Error)
            .count()
            + checked.omitted.errors;
        let first = located
            .diagnostics
            .iter()
            .find(|d| d.severity == warden_policy::Severity::Error);
        let summary = first.map_or_else(String::new, |d| {
            format!(": {}:{}: {}", d.start.line, d.start.column, d.message)
        });
        return Err(
            ApiError::invalid(format!("the policy has {errors} error(s){summary}"))
                .with_details(located.details()),
        );
    }
    Ok((checked.ast, located))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    name: Option<String>,
}

pub async fn list(
    State(state): axum::extract::State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    state.require(
        &authed,
        "iam:policies:read",
        &level,
        &attributes(&[("iam:levelType", level.type_name())]),
    )?;
    let snapshot = state.snapshot();
    let wanted = query.name.map(|n| fold(&n));
    let mut policies: Vec<Value> = snapshot
        .directory()
        .policies()
        .filter(|p| p.level == level)
        .filter(|p| {
            wanted
                .as_ref()
                .is_none_or(|w| fold(&p.name).contains(w.as_str()))
        })
        .map(|p| json!({ "uuid": p.id, "name": p.name, "description": p.description }))
        .collect();
    policies.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    Ok(axum::Json(json!({ "policies": policies })))
}

use axum::extract::State;

pub async fn aggregate(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    if level == Level::Global {
        return Err(ApiError::invalid(
            "aggregate is not available at the global level; list the global policies instead",
        ));
    }
    state.require(
        &authed,
        "iam:policies:read",
        &level,
        &attributes(&[("iam:levelType", level.type_name())]),
    )?;
    let snapshot = state.snapshot();
    let visible = |p: &Level| *p == Level::Global || *p == Level::Account || *p == level;
    let mut list: Vec<Value> = snapshot
        .directory()
        .policies()
        .filter(|p| visible(&p.level))
        .map(|p| {
            let (level_type, level_id) = level_parts(&model, &p.level);
            json!({ "uuid": p.id, "name": p.name, "description": p.description, "levelType": level_type, "levelId": level_id })
        })
        .collect();
    list.sort_by(|a, b| {
        (a["levelType"].as_str(), a["name"].as_str())
            .cmp(&(b["levelType"].as_str(), b["name"].as_str()))
    });
    Ok(axum::Json(json!({ "policyOverviewList": list })))
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, uuid)): Path<(String, String, String)>,
) -> ApiResult<axum::Json<PolicyDto>> {
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    state.require(
        &authed,
        "iam:policies:read",
        &level,
        &attributes(&[
            ("iam:policyUuid", &uuid),
            ("iam:levelType", level.type_name()),
        ]),
    )?;
    let snapshot = state.snapshot();
    let record = snapshot
        .directory()
        .policy(&uuid)
        .filter(|p| p.level == level)
        .ok_or_else(|| ApiError::not_found("policy", &uuid))?;
    Ok(axum::Json(dto(
        &model,
        record,
        model.policies.get(&uuid),
        Located::default(),
    )))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<Written<PolicyDto>> {
    save(state, authed, lt, lid, None, input).await
}

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
    let caller = authed.caller.uid.clone();
    let now = authed.context.now_ms;
    let ((dto, created), revision) = state
        .write(&authed.context, |model, snapshot| {
            let level = level(model, &lt, &lid)?;
            let policy_uuid = uuid.clone().unwrap_or_else(new_uuid);
            state.require(
                &authed,
                "iam:policies:write",
                &level,
                &attributes(&[
                    ("iam:policyUuid", &policy_uuid),
                    ("iam:levelType", level.type_name()),
                ]),
            )?;
            writable(&level, "create or change policies")?;
            let (_, diagnostics) = validated(snapshot, &input)?;
            let previous = model.policies.get(&policy_uuid).cloned();
            if previous.is_none() && snapshot.directory().policy(&policy_uuid).is_some() {
                return Err(ApiError::invalid(format!(
                    "policy `{policy_uuid}` is a global policy and cannot be changed"
                )));
            }
            if let Some(previous) = &previous
                && (previous.level_type != level.type_name()
                    || previous.level_id != level_parts(model, &level).1)
            {
                return Err(ApiError::conflict(format!(
                    "policy `{policy_uuid}` belongs to another level"
                )));
            }
            let (level_type, level_id) = level_parts(model, &level);
            if let Some(other) = model.policies.values().find(|p| {
                p.uuid != policy_uuid
                    && p.level_type == level_type
                    && p.level_id == level_id
                    && fold(&p.name) == fold(&input.name)
            }) {
                return Err(ApiError::conflict(format!(
                    "a policy named `{}` already exists at this level ({})",
                    other.name, other.uuid
                )));
            }
            if previous.is_none() && model.policies.len() >= MAX_POLICIES {
                return Err(limit_reached("policies per account", MAX_POLICIES));
            }
            let body = PolicyBody {
                uuid: policy_uuid.clone(),
                name: input.name.trim().to_owned(),
                description: input.description.clone(),
                tags: input.tags.clone(),
                category: input.category.clone(),
                level_type: level_type.to_owned(),
                level_id,
                statement_query: input.statement_query.clone(),
                created_at: previous.as_ref().map_or(now, |p| p.created_at),
                updated_at: now,
            };
            let record = policy_record(&body).map_err(ApiError::invalid)?;
            let mut directory = model.directory.clone();
            let affected = directory.upsert_policy(record.clone())?;
            let bound: Vec<_> = directory
                .bindings()
                .filter(|b| b.policy.as_ref() == policy_uuid)
                .cloned()
                .collect();
            for binding in &bound {
                warden_engine::params::check_pattern_parameters(&record.ast, &binding.parameters)
                    .map_err(|e| {
                    ApiError::conflict(format!(
                        "the policy is bound, and a binding no longer fits it: {e}"
                    ))
                })?;
            }
            require_can_rebind(
                snapshot,
                &caller,
                &directory,
                bound.iter().map(|b| b.as_ref()),
                "this policy change",
            )?;
            let created = previous.is_none();
            let dto = dto(model, &record, Some(&body), diagnostics);
            let mut plan = Plan::new(
                if created {
                    "policy.create"
                } else {
                    "policy.update"
                },
                format!("policy/{policy_uuid}"),
                (dto, created),
            );
            plan.before = previous.as_ref().map(|p| json!(p));
            plan.after = Some(json!(body));
            plan.ops = vec![body.op()];
            plan.directory = Some((directory, affected));
            plan.apply = Box::new(move |model: &mut Model| {
                model.policies.insert(body.uuid.clone(), body);
            });
            Ok(plan)
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else if uuid.is_some() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    };
    let body = (status != StatusCode::NO_CONTENT).then_some(dto);
    Ok(Written {
        status,
        revision,
        body,
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    #[serde(default)]
    force: bool,
}

pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid, uuid)): Path<(String, String, String)>,
    Query(query): Query<DeleteQuery>,
) -> ApiResult<Written<()>> {
    let ((), revision) = state
        .write(&authed.context, |model, _snapshot| {
            let level = level(model, &lt, &lid)?;
            state.require(&authed, "iam:policies:write", &level, &attributes(&[("iam:policyUuid", &uuid), ("iam:levelType", level.type_name())]))?;
            writable(&level, "delete policies")?;
            let body = model.policies.get(&uuid).filter(|p| p.level_type == level.type_name()).cloned().ok_or_else(|| ApiError::not_found("policy", &uuid))?;
            let referrers: Vec<Value> = model
                .bindings
                .values()
                .filter(|b| b.policy_uuid == uuid)
                .map(|b| json!({ "groupUuid": b.group_uuid, "levelType": b.level_type, "levelId": b.level_id }))
                .collect();
            if !referrers.is_empty() && !query.force {
                return Err(ApiError::conflict(format!("policy `{}` is used by {} binding(s); delete them first or pass `force=true`", body.name, referrers.len()))
                    .with_details(json!({ "bindings": referrers })));
            }
            let mut directory = model.directory.clone();
            let affected = directory.remove_policy(&uuid, true)?;
            let mut plan = Plan::new("policy.delete", format!("policy/{uuid}"), ());
            plan.before = Some(json!({ "policy": body, "bindings": referrers }));
            plan.ops = vec![warden_store::Op::DeletePolicy { uuid: uuid.clone() }];
            plan.directory = Some((directory, affected));
            let id = uuid.clone();
            plan.apply = Box::new(move |model: &mut Model| {
                model.policies.remove(&id);
                model.bindings.retain(|_, b| b.policy_uuid != id);
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

/// The deprecated validation endpoint: 200 with warnings, or 400 with the errors.
pub async fn validate(
    State(state): State<AppState>,
    authed: Authed,
    Path(path): Path<Vec<String>>,
    Body(input): Body<PolicyInput>,
) -> ApiResult<axum::Json<Value>> {
    let (lt, lid) = (
        path.first().cloned().unwrap_or_default(),
        path.get(1).cloned().unwrap_or_default(),
    );
    let model = state.model.lock().await;
    let level = level(&model, &lt, &lid)?;
    state.require(
        &authed,
        "iam:policies:read",
        &level,
        &attributes(&[("iam:levelType", level.type_name())]),
    )?;
    drop(model);
    let (_, located) = validated(&state.snapshot(), &input)?;
    let warnings: Vec<String> = located
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.start.line, d.start.column, d.message))
        .collect();
    let mut out = located.details();
    crate::api::set(&mut out, "warnings", json!(warnings));
    Ok(axum::Json(out))
}
