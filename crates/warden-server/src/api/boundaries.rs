//! `/iam/v1/repo/account/{accountId}/boundaries`: policy boundaries (SPEC §4). Saving validates
//! the text; changing a boundary that bindings use must stay within what the caller holds (a
//! looser boundary widens those bindings); a boundary in use cannot be deleted (409, naming the
//! bindings).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use warden_engine::Level;
use warden_policy::{Severity, check_boundary};

use crate::api::{Body, Path, Query, Written, level, new_uuid};
use crate::auth::Authed;
use crate::authz::{attributes, require_can_rebind};
use crate::error::{ApiError, ApiResult};
use crate::limits::{MAX_BOUNDARIES, check_id, check_name, limit_reached};
use crate::model::{Model, boundary_record};
use crate::records::{BoundaryBody, fold};
use crate::state::{AppState, Plan};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BoundaryInput {
    pub name: String,
    pub boundary_query: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoundaryDto {
    pub uuid: String,
    pub level_type: &'static str,
    pub level_id: String,
    pub name: String,
    pub boundary_query: String,
    pub boundary_conditions: Vec<Value>,
    pub metadata: BTreeMap<String, String>,
}

fn dto(model: &Model, body: &BoundaryBody) -> BoundaryDto {
    let conditions = warden_policy::parse_boundary(&body.boundary_query)
        .ast
        .conditions
        .iter()
        .map(|c| {
            let values: Vec<String> = c.value.strings().iter().map(|s| s.display_text()).collect();
            json!({ "name": c.name.node, "operator": c.operator.node.api_name(), "values": values })
        })
        .collect();
    BoundaryDto {
        uuid: body.uuid.clone(),
        level_type: "account",
        level_id: model.account.clone(),
        name: body.name.clone(),
        boundary_query: body.boundary_query.clone(),
        boundary_conditions: conditions,
        metadata: body.metadata.clone(),
    }
}

fn account_level(model: &Model, account: &str) -> ApiResult<Level> {
    level(model, "account", account)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    size: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<axum::Json<Value>> {
    let model = state.model.lock().await;
    let level = account_level(&model, &account)?;
    state.require(&authed, "iam:boundaries:read", &level, &attributes(&[]))?;
    let (page, size) = (page.page.unwrap_or(1), page.size.unwrap_or(100));
    if page == 0 || size == 0 || size > 1000 {
        return Err(ApiError::invalid("`page` starts at 1 and `size` is 1–1000"));
    }
    let mut all: Vec<&BoundaryBody> = model.boundaries.values().collect();
    all.sort_by_key(|b| fold(&b.name));
    let content: Vec<BoundaryDto> = all
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|b| dto(&model, b))
        .collect();
    Ok(axum::Json(
        json!({ "pageSize": size, "pageNumber": page, "totalCount": all.len(), "content": content }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
) -> ApiResult<axum::Json<BoundaryDto>> {
    let model = state.model.lock().await;
    let level = account_level(&model, &account)?;
    state.require(&authed, "iam:boundaries:read", &level, &attributes(&[]))?;
    let body = model
        .boundaries
        .get(&uuid)
        .ok_or_else(|| ApiError::not_found("boundary", &uuid))?;
    Ok(axum::Json(dto(&model, body)))
}

pub async fn create(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Body(input): Body<BoundaryInput>,
) -> ApiResult<Written<BoundaryDto>> {
    save(state, authed, account, None, input).await
}

pub async fn upsert(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
    Body(input): Body<BoundaryInput>,
) -> ApiResult<Written<BoundaryDto>> {
    check_id("boundary uuid", &uuid)?;
    save(state, authed, account, Some(uuid), input).await
}

async fn save(
    state: AppState,
    authed: Authed,
    account: String,
    uuid: Option<String>,
    input: BoundaryInput,
) -> ApiResult<Written<BoundaryDto>> {
    let now = authed.context.now_ms;
    let given = uuid.is_some();
    let ((dto, created), revision) = state
        .write(&authed.context, |model, snapshot| {
            let level = account_level(model, &account)?;
            state.require(&authed, "iam:boundaries:write", &level, &attributes(&[]))?;
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
            let users: Vec<_> = directory
                .bindings()
                .filter(|b| b.boundaries.iter().any(|x| x.as_ref() == id))
                .cloned()
                .collect();
            require_can_rebind(
                snapshot,
                &authed.caller.uid,
                &directory,
                users.iter().map(|b| b.as_ref()),
                "this boundary change",
            )?;
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
    let status = if !created {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    };
    let body = (created || !given).then_some(dto);
    Ok(Written {
        status,
        revision,
        body,
    })
}

pub async fn delete(
    State(state): State<AppState>,
    authed: Authed,
    Path((account, uuid)): Path<(String, String)>,
) -> ApiResult<Written<()>> {
    let ((), revision) = state
        .write(&authed.context, |model, _| {
            let level = account_level(model, &account)?;
            state.require(&authed, "iam:boundaries:write", &level, &attributes(&[]))?;
            let body = model.boundaries.get(&uuid).cloned().ok_or_else(|| ApiError::not_found("boundary", &uuid))?;
            let users: Vec<Value> = model
                .bindings
                .values()
                .filter(|b| b.boundaries.contains(&uuid))
                .map(|b| json!({ "policyUuid": b.policy_uuid, "groupUuid": b.group_uuid, "levelType": b.level_type, "levelId": b.level_id }))
                .collect();
            if !users.is_empty() {
                return Err(ApiError::conflict(format!("boundary `{}` is used by {} binding(s); change those bindings first", body.name, users.len()))
                    .with_details(json!({ "bindings": users })));
            }
            let mut directory = model.directory.clone();
            let affected = directory.remove_boundary(&uuid)?;
            let mut plan = Plan::new("boundary.delete", format!("boundary/{uuid}"), ());
            plan.before = Some(json!(body));
            plan.ops = vec![warden_store::Op::DeleteBoundary { uuid: uuid.clone() }];
            plan.directory = Some((directory, affected));
            let id = uuid.clone();
            plan.apply = Box::new(move |model: &mut Model| {
                model.boundaries.remove(&id);
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
