//! Effective permissions: what a user or group may do at a level, per permission, each effect
//! with its conditions (Dynatrace's `{name, operator, values}`) and the policies and bindings it
//! comes from.

use warden_api::effective::{
    BindingRef, Condition, Effect, EffectivePermission, EffectivePermissionsPage, EffectivePolicy,
    EffectiveQuery, PolicyRef,
};
use warden_engine::{Entity, Level};

use crate::service::guard::attributes;
use crate::service::levels::level;
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

/// What a user or group may do at an account or environment level, a page of permissions at a
/// time. Needs `iam:effective-permissions:read` for that entity at that level.
pub async fn effective_permissions(
    state: &AppState,
    authed: &Authed,
    level_type: &str,
    level_id: &str,
    query: EffectiveQuery,
) -> ApiResult<EffectivePermissionsPage> {
    let level = {
        let model = state.model.lock().await;
        level(&model, level_type, level_id)?
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
        authed,
        "iam:effective-permissions:read",
        &level,
        &attributes(&[
            ("iam-param:entity-type", &query.entity_type),
            ("iam-param:entity-id", &query.entity_id),
        ]),
    )?;
    let (page, size) = (query.page.unwrap_or(1), query.size.unwrap_or(100));
    if page == 0 || size == 0 || size > 1000 {
        return Err(ApiError::invalid(format!(
            "`page` starts at 1 and `size` is 1–1000, not page `{page}` of size `{size}`"
        )));
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
    Ok(EffectivePermissionsPage {
        effective_permissions,
        total_count: total,
        page,
        size,
    })
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
