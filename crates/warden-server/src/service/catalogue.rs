//! Custom services (SPEC §6): a platform registers its own permissions and conditions. A
//! registration is validated as a whole, stored, and rebuilds the snapshot; the administrator
//! policy grows with the catalogue (administrators hold every permission by design). Only new
//! services are registered, so no existing statement changes meaning. Reading the catalogue
//! needs `iam:catalogue:read`.

use std::sync::Arc;

use serde_json::json;
use warden_engine::Level;
use warden_policy::ServiceFile;
use warden_policy::catalogue::{
    ConditionFile, ConditionOverride, ConditionRef, ConditionSpec, Permission, PermissionFile,
    ServiceHeader,
};

pub use warden_api::catalogue::{
    CatalogueDto, ConditionDto, PermissionDetail, PermissionDto, Registered, ServiceDefinition,
    ServiceDto,
};

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
    definition: ServiceDefinition,
) -> ApiResult<(Registered, i64)> {
    let file = service_file(definition);
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
                Registered {
                    service: name.clone(),
                    permissions,
                },
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

/// The wire definition as the catalogue reads it.
fn service_file(definition: ServiceDefinition) -> ServiceFile {
    ServiceFile {
        service: ServiceHeader {
            name: definition.service.name,
            title: definition.service.title,
            source: definition.service.source,
        },
        conditions: definition
            .conditions
            .into_iter()
            .map(|(name, c)| {
                let condition = ConditionFile {
                    description: c.description,
                    operators: c.operators,
                };
                (name, condition)
            })
            .collect(),
        permissions: definition
            .permissions
            .into_iter()
            .map(|p| PermissionFile {
                name: p.name,
                description: p.description,
                source: p.source,
                conditions: p
                    .conditions
                    .into_iter()
                    .map(|c| match c {
                        warden_api::catalogue::ConditionRef::Name(name) => ConditionRef::Name(name),
                        warden_api::catalogue::ConditionRef::Override(o) => {
                            ConditionRef::Override(ConditionOverride {
                                name: o.name,
                                description: o.description,
                                operators: o.operators,
                            })
                        }
                    })
                    .collect(),
                implies: p.implies,
            })
            .collect(),
    }
}

fn condition_dto(condition: &ConditionSpec) -> ConditionDto {
    ConditionDto {
        name: condition.name.clone(),
        description: condition.description.clone(),
        operators: condition
            .operators
            .iter()
            .map(|o| o.as_str().to_owned())
            .collect(),
    }
}

fn permission_dto(permission: &Permission) -> PermissionDto {
    PermissionDto {
        name: permission.name.clone(),
        service: permission.service.clone(),
        description: permission.description.clone(),
        source: permission.source.clone(),
        conditions: permission.conditions.iter().map(condition_dto).collect(),
        implies: permission.implies.clone(),
    }
}

/// Every service with its permissions, and the global conditions.
pub fn list(state: &AppState, authed: &Authed) -> ApiResult<CatalogueDto> {
    state.require(
        authed,
        "iam:catalogue:read",
        &Level::Account,
        &attributes(&[]),
    )?;
    let snapshot = state.snapshot();
    let catalogue = snapshot.catalogue();
    let services = catalogue
        .services()
        .map(|service| ServiceDto {
            name: service.name.clone(),
            title: service.title.clone(),
            custom: service.custom,
            permissions: service
                .permissions
                .iter()
                .filter_map(|p| catalogue.permission(p))
                .map(permission_dto)
                .collect(),
        })
        .collect();
    Ok(CatalogueDto {
        services,
        global_conditions: catalogue.global_conditions().map(condition_dto).collect(),
    })
}

/// One permission and the permissions that imply it; an unknown one is a 404 naming the
/// closest (`details.didYouMean`).
pub fn permission(state: &AppState, authed: &Authed, name: &str) -> ApiResult<PermissionDetail> {
    state.require(
        authed,
        "iam:catalogue:read",
        &Level::Account,
        &attributes(&[]),
    )?;
    let snapshot = state.snapshot();
    let catalogue = snapshot.catalogue();
    let Some(permission) = catalogue.permission(name) else {
        let error = ApiError::not_found("permission", name);
        return Err(match catalogue.suggest_permission(name) {
            Some(suggestion) => error.with_details(json!({ "didYouMean": suggestion })),
            None => error,
        });
    };
    Ok(PermissionDetail {
        permission: permission_dto(permission),
        implied_by: catalogue.implied_by(name).to_vec(),
    })
}
