//! `/iam/v1/catalogue`: the permission catalogue (read), and the registration of a platform's own
//! services. A registration is validated as a whole, stored, and rebuilds the snapshot; the
//! administrator policy grows with the catalogue.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use warden_engine::Level;
use warden_policy::ServiceFile;

use crate::api::{Body, Path, Written};
use crate::error::{ApiError, ApiResult};
use crate::model::{Model, catalogue_with, install_global_policies};
use crate::records::json as to_json;
use crate::service::Authed;
use crate::service::Plan;
use crate::service::guard::attributes;
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
    let name = file.service.name.clone();
    let (out, revision) = state
        .write(&authed, |model, _| {
            state.require(
                &authed,
                "iam:catalogue:write",
                &Level::Account,
                &attributes(&[]),
            )?;
            if model.custom_services.contains_key(&name) {
                return Err(ApiError::conflict(format!(
                    "service `{name}` is already registered"
                )));
            }
            let body = to_json(&file);
            let mut custom = model.custom_services.clone();
            custom.insert(name.clone(), body.clone());
            let catalogue = catalogue_with(&state.builtin, &custom).map_err(|e| {
                ApiError::invalid(format!("the service definition is invalid: {}", e.0))
                    .with_details(json!({ "service": name }))
            })?;
            let mut directory = model.directory.clone();
            install_global_policies(&mut directory, &state.builtin, &catalogue)
                .map_err(|e| ApiError::internal(e.0))?;
            let permissions = catalogue
                .service(&name)
                .map(|s| s.permissions.clone())
                .unwrap_or_default();
            let mut plan = Plan::new(
                "catalogue.register",
                format!("service/{name}"),
                json!({ "service": name, "permissions": permissions }),
            );
            plan.after = Some(json!(file));
            plan.ops = vec![warden_store::Op::PutCustomService {
                name: name.clone(),
                body: body.clone(),
            }];
            plan.directory = Some((directory, Vec::new()));
            plan.catalogue = Some(Arc::new(catalogue));
            let service = name.clone();
            plan.apply = Box::new(move |model: &mut Model| {
                model.custom_services.insert(service, body);
            });
            Ok(plan)
        })
        .await?;
    Ok(Written {
        status: StatusCode::CREATED,
        revision,
        body: Some(out),
    })
}
