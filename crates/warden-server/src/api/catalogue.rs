//! `/iam/v1/catalogue`: the permission catalogue (read), and the registration of a platform's own
//! services. A registration is validated as a whole, stored, and rebuilds the snapshot; the
//! administrator policy grows with the catalogue.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use warden_engine::Level;
use warden_policy::ServiceFile;

use crate::api::{Body, Path, Written};
use crate::error::{ApiError, ApiResult};
use crate::service::guard::attributes;
use crate::service::{self, Authed};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, authed: Authed) -> ApiResult<axum::Json<Value>> {
    state.require(
        &authed,
        "iam:catalogue:read",
        &Level::Account,
        &attributes(&[]),
    )?;
    let snapshot = state.snapshot();
    let catalogue = snapshot.catalogue();
    let services: Vec<Value> = catalogue
        .services()
        .map(|service| {
            let permissions: Vec<Value> =
                service.permissions.iter().filter_map(|p| catalogue.permission(p)).map(|p| json!(p)).collect();
            json!({ "name": service.name, "title": service.title, "custom": service.custom, "permissions": permissions })
        })
        .collect();
    let global: Vec<Value> = catalogue.global_conditions().map(|c| json!(c)).collect();
    Ok(axum::Json(
        json!({ "services": services, "globalConditions": global }),
    ))
}

pub async fn permission(
    State(state): State<AppState>,
    authed: Authed,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    state.require(
        &authed,
        "iam:catalogue:read",
        &Level::Account,
        &attributes(&[]),
    )?;
    let snapshot = state.snapshot();
    let catalogue = snapshot.catalogue();
    let permission = catalogue.permission(&name).ok_or_else(|| {
        let help = catalogue
            .suggest_permission(&name)
            .map(|s| json!({ "didYouMean": s }));
        let error = ApiError::not_found("permission", &name);
        match help {
            Some(help) => error.with_details(help),
            None => error,
        }
    })?;
    Ok(axum::Json(
        json!({ "permission": permission, "impliedBy": catalogue.implied_by(&name) }),
    ))
}

pub async fn register(
    State(state): State<AppState>,
    authed: Authed,
    Body(file): Body<ServiceFile>,
) -> ApiResult<Written<Value>> {
    let (out, revision) = service::catalogue::register(&state, &authed, file).await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}
