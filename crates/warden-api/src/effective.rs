//! Effective permissions on the wire: `GET /iam/v1/resolution/{levelType}/{levelId}/
//! effectivepermissions`, in Dynatrace's shape.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A condition as Dynatrace writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Condition {
    #[schema(example = "storage:bucket-name")]
    pub name: String,
    /// `EQ`, `NOT_EQ`, `LT`, `GT`, `IN`, `NOT_IN`, `STARTS_WITH`, `NOT_STARTS_WITH` or `MATCH`.
    #[schema(example = "STARTS_WITH")]
    pub operator: String,
    /// Placeholders (`${bindParam:…}`) as written.
    pub values: Vec<String>,
}

/// The policy a grant comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    pub uuid: String,
    pub name: String,
    pub statement_query: String,
    pub level_type: String,
    pub level_id: String,
}

/// The binding a grant comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingRef {
    pub group_uuid: String,
    pub level_type: String,
    pub level_id: String,
}

/// Where an effect comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EffectivePolicy {
    pub policy: PolicyRef,
    pub binding: BindingRef,
    /// The boundary that restricted the binding, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boundary: Option<String>,
}

/// One effect of a permission under one set of conditions (ANDed; none: unconditional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Effect {
    /// `ALLOW` or `DENY`.
    pub effect: String,
    pub conditions: Vec<Condition>,
    pub effective_policies: Vec<EffectivePolicy>,
}

/// A permission and its effects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EffectivePermission {
    pub permission: String,
    pub effects: Vec<Effect>,
}

/// A page of effective permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EffectivePermissionsPage {
    pub effective_permissions: Vec<EffectivePermission>,
    pub total_count: usize,
    pub page: usize,
    pub size: usize,
}

/// Whose effective permissions, and which page: `?entityType=&entityId=&services=&page=&size=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EffectiveQuery {
    /// `user` or `group`.
    #[param(example = "user")]
    pub entity_type: String,
    /// The user's uid (or email) or the group's uuid.
    pub entity_id: String,
    /// Comma-separated service names (`storage,settings`); all when absent.
    #[serde(default)]
    pub services: Option<String>,
    /// From 1 (the default).
    #[serde(default)]
    #[param(minimum = 1)]
    pub page: Option<usize>,
    /// 1–1000; 100 when absent.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub size: Option<usize>,
}
