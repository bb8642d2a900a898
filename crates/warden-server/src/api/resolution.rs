//! `GET /iam/v1/resolution/{levelType}/{levelId}/effectivepermissions`: what a user or group may
//! do at a level, per permission, with the policies and bindings it comes from.

use axum::extract::State;
use serde::Deserialize;
use warden_api::effective::{
    BindingRef, Condition, Effect, EffectivePermission, EffectivePermissionsPage, EffectivePolicy,
    PolicyRef,
};
use warden_engine::{Entity, Level};

use crate::api::{Path, Query, level};
use crate::error::{ApiError, ApiResult};
use crate::service::Authed;
use crate::service::guard::attributes;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EffectiveQuery {
    entity_type: String,
    entity_id: String,
    /// Comma-separated service names.
    #[serde(default)]
    services: Option<String>,
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    size: Option<usize>,
}

pub async fn effective_permissions(
    State(state): State<AppState>,
    authed: Authed,
    Path((lt, lid)): Path<(String, String)>,
    Query(query): Query<EffectiveQuery>,
) -> ApiResult<axum::Json<EffectivePermissionsPage>> {
    let level = {
        let model = state.model.lock().await;
        level(&model, &lt, &lid)?
    };
    if level == Level::Global {
        return Err(ApiError::invalid(
            "effective permissions are resolved at account or environment level",
        ));
    }
    let entity = match query.entity_type.as_str() {
        "user" => Entity::User(&query.entity_id),
        "group" => Entity::Group(&query.entity_id),
        other => {
            return Err(ApiError::invalid(format!(
                "`entityType` is `user` or `group`, not `{other}`"
            )));
        }
    };
    state.require(
        &authed,
        "iam:effective-permissions:read",
        &level,
        &attributes(&[
            ("iam-param:entity-type", &query.entity_type),
            ("iam-param:entity-id", &query.entity_id),
        ]),
    )?;
    let (page, size) = (query.page.unwrap_or(1), query.size.unwrap_or(100));
    if page == 0 || size == 0 || size > 1000 {
        return Err(ApiError::invalid("`page` starts at 1 and `size` is 1–1000"));
    }
    let services: Vec<String> = query
        .services
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    let environment = match &level {
        Level::Environment(env) => Some(env.as_ref()),
        _ => None,
    };
    let resolved = state
        .snapshot()
        .effective_permissions(entity, environment, &services)?;
    let total = resolved.effective_permissions.len();
    let effective_permissions = resolved
        .effective_permissions
        .into_iter()
        .skip((page - 1).saturating_mul(size))
        .take(size)
        .map(permission)
        .collect();
    Ok(axum::Json(EffectivePermissionsPage {
        effective_permissions,
        total_count: total,
        page,
        size,
    }))
}

/// The engine's resolution of one permission, on the wire.
fn permission(resolved: warden_engine::effective::EffectivePermission) -> EffectivePermission {
    EffectivePermission {
        permission: resolved.permission,
        effects: resolved
            .effects
            .into_iter()
            .map(|variant| Effect {
                effect: variant.effect.to_string(),
                conditions: variant
                    .conditions
                    .into_iter()
                    .map(|c| Condition {
                        name: c.name,
                        operator: c.operator.to_owned(),
                        values: c.values,
                    })
                    .collect(),
                effective_policies: variant
                    .effective_policies
                    .into_iter()
                    .map(|from| EffectivePolicy {
                        policy: PolicyRef {
                            uuid: from.policy.uuid,
                            name: from.policy.name,
                            statement_query: from.policy.statement_query,
                            level_type: from.policy.level_type.to_owned(),
                            level_id: from.policy.level_id,
                        },
                        binding: BindingRef {
                            group_uuid: from.binding.group_uuid,
                            level_type: from.binding.level_type.to_owned(),
                            level_id: from.binding.level_id,
                        },
                        boundary: from.boundary,
                    })
                    .collect(),
            })
            .collect(),
    }
}
