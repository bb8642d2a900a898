//! Custom services (SPEC §6): a platform registers its own permissions and conditions. A
//! registration is validated as a whole, stored, and rebuilds the snapshot; the administrator
//! policy grows with the catalogue (administrators hold every permission by design). Only new
//! services are registered, so no existing statement changes meaning.

use std::sync::Arc;

use serde_json::{Value, json};
use warden_engine::Level;
use warden_policy::ServiceFile;

use crate::model::{Model, catalogue_with, install_global_policies};
use crate::records::json as to_json;
use crate::service::guard::attributes;
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

/// Registers a custom service (SPEC §6). Only new services: their permissions are named by no
/// statement yet, so registering one grants nothing.
pub async fn register(
    state: &AppState,
    authed: &Authed,
    file: ServiceFile,
) -> ApiResult<(Value, i64)> {
    let name = file.service.name.clone();
    state
        .write(authed, |model, _| {
            state.require(
                authed,
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
        .await
}
