//! The permission catalogue as the API shows it (services, permissions, conditions and their
//! operators), and the definition of a custom service to register (the format of
//! `docs/catalogue-format.md`, as JSON).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A condition a permission supports, with the operators it allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConditionDto {
    pub name: String,
    pub description: String,
    /// The operators, as policies write them.
    pub operators: Vec<String>,
}

/// One permission of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PermissionDto {
    pub name: String,
    pub service: String,
    pub description: String,
    /// Where the name and description come from.
    pub source: String,
    pub conditions: Vec<ConditionDto>,
    /// The permissions holding this one also grants.
    pub implies: Vec<String>,
}

/// A service with its permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServiceDto {
    pub name: String,
    pub title: String,
    /// Registered through the API (not built in).
    pub custom: bool,
    pub permissions: Vec<PermissionDto>,
}

/// `GET /iam/v1/catalogue`: every service, and the conditions every permission supports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CatalogueDto {
    pub services: Vec<ServiceDto>,
    pub global_conditions: Vec<ConditionDto>,
}

/// `GET /iam/v1/catalogue/permissions/{permission}`: one permission and what implies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionDetail {
    pub permission: PermissionDto,
    pub implied_by: Vec<String>,
}

/// The service a definition adds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceHeader {
    /// Lower case, the first part of its permissions' names.
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub source: String,
}

/// A condition a definition's permissions may use.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionDefinition {
    #[serde(default)]
    pub description: String,
    pub operators: Vec<String>,
}

/// A permission's condition: by name, or by name with its own description or operators.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConditionRef {
    Name(String),
    Override(ConditionOverride),
}

/// A condition named with a description or operators of its own for this permission.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionOverride {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub operators: Option<Vec<String>>,
}

/// A permission a definition adds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionDefinition {
    /// `<service>:<resource>:<action>`.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub conditions: Vec<ConditionRef>,
    #[serde(default)]
    pub implies: Vec<String>,
}

/// `POST /iam/v1/catalogue/services`: a custom service, validated as a whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDefinition {
    pub service: ServiceHeader,
    /// The service's own conditions, by name.
    #[serde(default)]
    pub conditions: BTreeMap<String, ConditionDefinition>,
    #[serde(default)]
    pub permissions: Vec<PermissionDefinition>,
}

/// The service registered and its permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Registered {
    pub service: String,
    pub permissions: Vec<String>,
}
