//! Boundaries (SPEC §4): saving one validates its text; a boundary in use cannot be deleted
//! (409, naming the bindings). A looser boundary widens the bindings that use it: the commit
//! pipeline checks that against the author like every other change.

use serde_json::{Value, json};
use warden_engine::Level;
use warden_policy::{Severity, check_boundary};

use crate::limits::{MAX_BOUNDARIES, check_id, check_name, limit_reached};
use crate::model::{Model, boundary_record};
use crate::records::{BoundaryBody, fold};
use crate::service::guard::attributes;
use crate::service::levels::{level, new_uuid};
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

pub use warden_api::boundaries::{BoundaryCondition, BoundaryDto, BoundaryInput, BoundaryPage};

pub fn dto(model: &Model, body: &BoundaryBody) -> BoundaryDto {
    let conditions = warden_policy::parse_boundary(&body.boundary_query)
        .ast
        .conditions
        .iter()
        .map(|c| {
            let values: Vec<String> = c.value.strings().iter().map(|s| s.display_text()).collect();
            BoundaryCondition {
                name: c.name.node.to_string(),
                operator: c.operator.node.api_name().to_owned(),
                values,
            }
        })
        .collect();
    BoundaryDto {
        uuid: body.uuid.clone(),
        level_type: "account".to_owned(),
        level_id: model.account.clone(),
        name: body.name.clone(),
        boundary_query: body.boundary_query.clone(),
        boundary_conditions: conditions,
        metadata: body.metadata.clone(),
    }
}

/// A page of the boundaries, by name; `page` counts from 1, `size` is 1–1000 (100 when absent).
/// The largest page of boundaries.
const MAX_PAGE_SIZE: usize = 1000;

pub async fn list(
    state: &AppState,
    authed: &Authed,
    account: &str,
    page: Option<usize>,
    size: Option<usize>,
) -> ApiResult<BoundaryPage> {
    let model = state.model.lock().await;
    let level = account_level(&model, account)?;
    state.require(authed, "iam:boundaries:read", &level, &attributes(&[]))?;
    let (page, size) = (page.unwrap_or(1), size.unwrap_or(100));
    if page == 0 || size == 0 {
        return Err(ApiError::invalid("`page` starts at 1 and `size` at 1"));
    }
    // A larger `size` is taken as the largest page: Dynatrace clients that ask for every
    // boundary at once expect an answer rather than a refusal; `pageSize` says what was taken.
    let size = size.min(MAX_PAGE_SIZE);
    let mut all: Vec<&BoundaryBody> = model.boundaries.values().collect();
    all.sort_by_key(|b| fold(&b.name));
    let content: Vec<BoundaryDto> = all
        .iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(|b| dto(&model, b))
        .collect();
    Ok(BoundaryPage {
        page_size: size,
        page_number: page,
        total_count: all.len(),
        content,
    })
}

/// One boundary.
pub async fn get(
    state: &AppState,
    authed: &Authed,
    account: &str,
    uuid: &str,
) -> ApiResult<BoundaryDto> {
    let model = state.model.lock().await;
    let level = account_level(&model, account)?;
    state.require(authed, "iam:boundaries:read", &level, &attributes(&[]))?;
    model
        .boundaries
        .get(uuid)
        .map(|body| dto(&model, body))
        .ok_or_else(|| ApiError::not_found("boundary", uuid))
}

pub fn account_level(model: &Model, account: &str) -> ApiResult<Level> {
    level(model, "account", account)
}

/// What a save did.
#[derive(Debug)]
pub struct Saved {
    pub boundary: BoundaryDto,
    pub created: bool,
    pub revision: i64,
}

/// Creates a boundary (`uuid` `None`: a new id) or creates or replaces the one with `uuid`.
pub async fn save(
    state: &AppState,
    authed: &Authed,
    account: &str,
    uuid: Option<String>,
    input: BoundaryInput,
) -> ApiResult<Saved> {
    if let Some(uuid) = &uuid {
        check_id("boundary uuid", uuid)?;
    }
    let now = authed.context.now_ms;
    let ((boundary, created), revision) = state
        .write(authed, |model, snapshot| {
            let level = account_level(model, account)?;
            state.require(authed, "iam:boundaries:write", &level, &attributes(&[]))?;
            check_name(&input.name)?;
            let checked = check_boundary(&input.boundary_query, snapshot.catalogue());
            if checked.diagnostics.iter().any(|d| d.is_error()) {
                let located =
                    warden_policy::diagnostic::locate(&checked.diagnostics, &input.boundary_query);
                let first = located.iter().find(|d| d.severity == Severity::Error);
                let summary = first.map_or_else(String::new, |d| {
                    format!(": {}:{}: {}", d.start.line, d.start.column, d.message)
                });
                return Err(
                    ApiError::invalid(format!("the boundary is invalid{summary}"))
                        .with_details(json!({ "diagnostics": located })),
                );
            }
            let id = uuid.clone().unwrap_or_else(new_uuid);
            let previous = model.boundaries.get(&id).cloned();
            if let Some(other) = model
                .boundaries
                .values()
                .find(|b| b.uuid != id && fold(&b.name) == fold(&input.name))
            {
                return Err(ApiError::conflict(format!(
                    "a boundary named `{}` already exists ({})",
                    other.name, other.uuid
                )));
            }
            if previous.is_none() && model.boundaries.len() >= MAX_BOUNDARIES {
                return Err(limit_reached("boundaries per account", MAX_BOUNDARIES));
            }
            let body = BoundaryBody {
                uuid: id.clone(),
                name: input.name.trim().to_owned(),
                boundary_query: input.boundary_query.clone(),
                metadata: input.metadata.clone(),
                created_at: previous.as_ref().map_or(now, |b| b.created_at),
                updated_at: now,
            };
            let mut directory = model.directory.clone();
            let affected =
                directory.upsert_boundary(boundary_record(&body).map_err(ApiError::invalid)?)?;
            let created = previous.is_none();
            let out = dto(model, &body);
            let mut plan = Plan::new(
                if created {
                    "boundary.create"
                } else {
                    "boundary.update"
                },
                format!("boundary/{id}"),
                (out, created),
            );
            plan.before = previous.map(|p| json!(p));
            plan.after = Some(json!(body));
            plan.ops = vec![body.op()];
            plan.directory = Some((directory, affected));
            plan.apply = Box::new(move |model: &mut Model| {
                model.boundaries.insert(body.uuid.clone(), body);
            });
            Ok(plan)
        })
        .await?;
    Ok(Saved {
        boundary,
        created,
        revision,
    })
}

/// Deletes an unused boundary (one that bindings use is a conflict naming them).
pub async fn delete(
    state: &AppState,
    authed: &Authed,
    account: &str,
    uuid: &str,
) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, _| {
            let level = account_level(model, account)?;
            state.require(authed, "iam:boundaries:write", &level, &attributes(&[]))?;
            let body = model.boundaries.get(uuid).cloned().ok_or_else(|| ApiError::not_found("boundary", uuid))?;
            let users: Vec<Value> = model
                .bindings
                .values()
                .filter(|b| b.boundaries.iter().any(|x| x == uuid))
                .map(|b| json!({ "policyUuid": b.policy_uuid, "groupUuid": b.group_uuid, "levelType": b.level_type, "levelId": b.level_id }))
                .collect();
            if !users.is_empty() {
                return Err(ApiError::conflict(format!("boundary `{}` is used by {} binding(s); change those bindings first", body.name, users.len()))
                    .with_details(json!({ "bindings": users })));
            }
            let mut directory = model.directory.clone();
            let affected = directory.remove_boundary(uuid)?;
            let mut plan = Plan::new("boundary.delete", format!("boundary/{uuid}"), ());
            plan.before = Some(json!(body));
            plan.ops = vec![warden_store::Op::DeleteBoundary { uuid: uuid.to_owned() }];
            plan.directory = Some((directory, affected));
            let id = uuid.to_owned();
            plan.apply = Box::new(move |model: &mut Model| {
                model.boundaries.remove(&id);
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}
