//! Policies (SPEC §2): saving one (create or replace) and deleting one, at the account level or
//! an environment's. Every save validates the text against the catalogue and answers its
//! diagnostics with their locations — at most [`warden_policy::diagnostic::MAX_DIAGNOSTICS`],
//! errors first, and `truncated`: how many more there were, when there were more; a policy
//! belongs to one level, and a request through another level's path neither sees nor changes it.

use serde_json::{Value, json};
use warden_engine::{Level, PolicyRecord, Snapshot};
use warden_policy::diagnostic::locate;
use warden_policy::{Diagnostic, LocatedDiagnostic, check_policy};

use crate::limits::{MAX_POLICIES, check_name, check_text, limit_reached};
use crate::model::{Model, policy_record};
use crate::records::{PolicyBody, fold};
use crate::service::guard::attributes;
use crate::service::levels::{level, level_parts, new_uuid, writable};
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

use warden_api::policies::{
    PolicyDiagnostic, PolicyOverview, PolicyStatement, PolicySummary, StatementCondition,
    TextPosition, TextSpan,
};
pub use warden_api::policies::{
    PolicyDto, PolicyInput, PolicyList, PolicyOverviewList, PolicyValidation,
};

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
        if self.truncated > 0
            && let Some(object) = details.as_object_mut()
        {
            object.insert("truncated".to_owned(), json!(self.truncated));
        }
        details
    }
}

/// The parsed form of a policy, as the API returns it.
pub fn statements(record: &PolicyRecord) -> Vec<PolicyStatement> {
    record
        .ast
        .statements
        .iter()
        .map(|statement| {
            let permissions: Vec<String> = statement
                .permissions
                .iter()
                .map(|p| p.node.clone())
                .collect();
            let service = permissions
                .first()
                .and_then(|p| p.split(':').next())
                .unwrap_or_default()
                .to_owned();
            let conditions = statement
                .conditions
                .iter()
                .map(|c| StatementCondition {
                    name: c.name.node.clone(),
                    operator: c.operator.node.api_name().to_owned(),
                    values: c.value.strings().iter().map(|s| s.display_text()).collect(),
                })
                .collect();
            PolicyStatement {
                effect: statement.effect.node.as_str().to_owned(),
                service,
                permissions,
                conditions,
            }
        })
        .collect()
}

/// A located diagnostic on the wire.
pub fn wire_diagnostic(d: &LocatedDiagnostic) -> PolicyDiagnostic {
    PolicyDiagnostic {
        severity: d.severity.as_str().to_owned(),
        code: d.code.as_str().to_owned(),
        message: d.message.clone(),
        start: TextPosition {
            line: d.start.line,
            column: d.start.column,
        },
        end: TextPosition {
            line: d.end.line,
            column: d.end.column,
        },
        span: TextSpan {
            start: d.span.start,
            end: d.span.end,
        },
        text: d.text.clone(),
        label: d.label.clone(),
        help: d.help.clone(),
    }
}

pub fn dto(
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
        level_type: level_type.to_owned(),
        level_id,
        diagnostics: located.diagnostics.iter().map(wire_diagnostic).collect(),
        truncated: located.truncated,
    }
}

/// The policies of a level, by name; `name` keeps those whose name contains it (case-folded).
pub async fn list(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    name: Option<&str>,
) -> ApiResult<PolicyList> {
    let model = state.model.lock().await;
    let level = level(&model, level_type, level_id)?;
    may_read(state, authed, &level)?;
    let snapshot = state.snapshot();
    let wanted = name.map(fold);
    let mut policies: Vec<PolicySummary> = snapshot
        .directory()
        .policies()
        .filter(|p| p.level == level)
        .filter(|p| {
            wanted
                .as_ref()
                .is_none_or(|w| fold(&p.name).contains(w.as_str()))
        })
        .map(|p| PolicySummary {
            uuid: p.id.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
        })
        .collect();
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(PolicyList { policies })
}

/// The policies that apply at a level below the global one: the global policies, the account's
/// and the level's, by level type, then name.
pub async fn aggregate(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
) -> ApiResult<PolicyOverviewList> {
    let model = state.model.lock().await;
    let level = level(&model, level_type, level_id)?;
    if level == Level::Global {
        return Err(ApiError::invalid(
            "aggregate is not available at the global level; list the global policies instead",
        ));
    }
    may_read(state, authed, &level)?;
    let snapshot = state.snapshot();
    let visible = |p: &Level| *p == Level::Global || *p == Level::Account || *p == level;
    let mut list: Vec<PolicyOverview> = snapshot
        .directory()
        .policies()
        .filter(|p| visible(&p.level))
        .map(|p| {
            let (level_type, level_id) = level_parts(&model, &p.level);
            PolicyOverview {
                uuid: p.id.to_string(),
                name: p.name.clone(),
                description: p.description.clone(),
                level_type: level_type.to_owned(),
                level_id,
            }
        })
        .collect();
    list.sort_by(|a, b| (&a.level_type, &a.name).cmp(&(&b.level_type, &b.name)));
    Ok(PolicyOverviewList {
        policy_overview_list: list,
    })
}

/// The policy `uuid` of the level, with its parsed statements.
pub async fn get(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    uuid: &str,
) -> ApiResult<PolicyDto> {
    let model = state.model.lock().await;
    let level = level(&model, level_type, level_id)?;
    state.require(
        authed,
        "iam:policies:read",
        &level,
        &attributes(&[
            ("iam:policyUuid", uuid),
            ("iam:levelType", level.type_name()),
        ]),
    )?;
    let snapshot = state.snapshot();
    let record = snapshot
        .directory()
        .policy(uuid)
        .filter(|p| p.level == level)
        .ok_or_else(|| ApiError::not_found("policy", uuid))?;
    Ok(dto(
        &model,
        record,
        model.policies.get(uuid),
        Located::default(),
    ))
}

/// Validates a text without saving it: its warnings, or a refusal with its errors.
pub async fn validate(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    input: &PolicyInput,
) -> ApiResult<PolicyValidation> {
    {
        let model = state.model.lock().await;
        may_read(state, authed, &level(&model, level_type, level_id)?)?;
    }
    let (_, located) = validated(&state.snapshot(), input)?;
    let warnings = located
        .diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.start.line, d.start.column, d.message))
        .collect();
    Ok(PolicyValidation {
        diagnostics: located.diagnostics.iter().map(wire_diagnostic).collect(),
        truncated: located.truncated,
        warnings,
    })
}

/// Refuses a caller who may not read the level's policies.
fn may_read(state: &AppState, authed: &Authed, level: &Level) -> ApiResult<()> {
    state.require(
        authed,
        "iam:policies:read",
        level,
        &attributes(&[("iam:levelType", level.type_name())]),
    )
}

/// Validates the text; errors refuse with the diagnostics located, warnings come back.
pub fn validated(
    snapshot: &Snapshot,
    input: &PolicyInput,
) -> ApiResult<(warden_policy::Policy, Located)> {
    check_name(&input.name)?;
    check_text("description", &input.description, 0, 2000)?;
    if input.statement_query.trim().is_empty() {
        return Err(ApiError::invalid(
            "`statementQuery` is empty; a policy needs at least one statement, such as `ALLOW storage:logs:read;`",
        ));
    }
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

/// What a save did.
#[derive(Debug)]
pub struct Saved {
    pub policy: PolicyDto,
    pub created: bool,
    pub revision: i64,
}

/// Creates a policy (`uuid` `None`: a new id) or creates or replaces the one with `uuid`, at the
/// level `level_type`/`level_id`.
pub async fn save(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    uuid: Option<String>,
    input: PolicyInput,
) -> ApiResult<Saved> {
    let now = authed.context.now_ms;
    let ((policy, created), revision) = state
        .write(authed, |model, snapshot| {
            let level = level(model, level_type, level_id)?;
            let policy_uuid = uuid.clone().unwrap_or_else(new_uuid);
            state.require(
                authed,
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
            let (level_type, level_id) = level_parts(model, &level);
            if let Some(previous) = &previous
                && (previous.level_type != level_type || previous.level_id != level_id)
            {
                return Err(ApiError::conflict(format!(
                    "policy `{policy_uuid}` belongs to another level"
                )));
            }
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
            for binding in directory
                .bindings()
                .filter(|b| b.policy.as_ref() == policy_uuid)
            {
                warden_engine::params::check_pattern_parameters(&record.ast, &binding.parameters)
                    .map_err(|e| {
                    ApiError::conflict(format!(
                        "the policy is bound, and a binding no longer fits it: {e}"
                    ))
                })?;
            }
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
    Ok(Saved {
        policy,
        created,
        revision,
    })
}

/// Deletes the policy `uuid` of the level; with `force`, its bindings too (otherwise a bound
/// policy is a conflict naming them). Returns the revision.
pub async fn delete(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    uuid: &str,
    force: bool,
) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, _snapshot| {
            let level = level(model, level_type, level_id)?;
            state.require(
                authed,
                "iam:policies:write",
                &level,
                &attributes(&[
                    ("iam:policyUuid", uuid),
                    ("iam:levelType", level.type_name()),
                ]),
            )?;
            writable(&level, "delete policies")?;
            // The level's type *and* id: a policy of another environment is not found here.
            let (level_type, level_id) = level_parts(model, &level);
            let body = model
                .policies
                .get(uuid)
                .filter(|p| p.level_type == level_type && p.level_id == level_id)
                .cloned()
                .ok_or_else(|| ApiError::not_found("policy", uuid))?;
            let referrers: Vec<Value> = model
                .bindings
                .values()
                .filter(|b| b.policy_uuid == uuid)
                .map(|b| json!({ "groupUuid": b.group_uuid, "levelType": b.level_type, "levelId": b.level_id }))
                .collect();
            if !referrers.is_empty() && !force {
                return Err(ApiError::conflict(format!(
                    "policy `{}` is used by {} binding(s); delete them first or pass `force=true`",
                    body.name,
                    referrers.len()
                ))
                .with_details(json!({ "bindings": referrers })));
            }
            let mut directory = model.directory.clone();
            let affected = directory.remove_policy(uuid, true)?;
            let mut plan = Plan::new("policy.delete", format!("policy/{uuid}"), ());
            plan.before = Some(json!({ "policy": body, "bindings": referrers }));
            plan.ops = vec![warden_store::Op::DeletePolicy {
                uuid: uuid.to_owned(),
            }];
            plan.directory = Some((directory, affected));
            let id = uuid.to_owned();
            plan.apply = Box::new(move |model: &mut Model| {
                model.policies.remove(&id);
                model.bindings.retain(|_, b| b.policy_uuid != id);
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}
