//! `/iam/v1/repo/{levelType}/{levelId}/policies`: create, upsert, get, list, aggregate, delete
//! and validate policies. Every save validates the text against the catalogue (SPEC §2) and answers
//! every diagnostic with its location; a bound policy's change must stay within what the caller
//! holds (no escalation).

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::Level;

use crate::api::{Body, Path, Query, Written, level, level_parts};
use crate::error::{ApiError, ApiResult};
use crate::limits::check_id;
use crate::records::fold;
use crate::service::guard::attributes;
use crate::service::policies::{Located, dto, validated};
pub use crate::service::policies::{PolicyDto, PolicyInput};
use crate::service::{self, Authed};
use crate::state::AppState;

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
    let replace = uuid.is_some();
    let saved = service::policies::save(&state, &authed, &lt, &lid, uuid, input).await?;
    let status = if saved.created {
        StatusCode::CREATED
    } else if replace {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    };
    let body = (status != StatusCode::NO_CONTENT).then_some(saved.policy);
    Ok(Written {
        status,
        revision: saved.revision,
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
    let revision =
        service::policies::delete(&state, &authed, &lt, &lid, &uuid, query.force).await?;
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
