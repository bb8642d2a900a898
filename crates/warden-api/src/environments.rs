//! Environments on the wire: Warden's list (`/iam/v1/accounts/{accountId}/environments`) and
//! Dynatrace's (`/env/v2/accounts/{accountId}/environments`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An environment: a level that bindings and policies can live at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub id: String,
    pub name: String,
    /// RFC 3339 (UTC).
    #[schema(example = "2026-05-04T10:00:00Z")]
    pub created_at: String,
}

/// `GET /iam/v1/accounts/{accountId}/environments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentList {
    pub count: usize,
    pub items: Vec<Environment>,
}

/// An environment as Dynatrace's environment-management API (v2) lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DynatraceEnvironment {
    pub id: String,
    pub name: String,
    /// Always `true`: Warden has no inactive environments.
    pub active: bool,
    /// Where the environment's level lives in this API (Warden serves no environment UI).
    #[schema(example = "/iam/v1/repo/environment/env-prod")]
    pub url: String,
}

/// `GET /env/v2/accounts/{accountId}/environments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DynatraceEnvironmentList {
    pub data: Vec<DynatraceEnvironment>,
}

/// An environment to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentInput {
    /// 1–64 letters, digits, `.`, `_`, `@` and `-`; unique in the account.
    #[schema(example = "env-prod")]
    pub id: String,
    /// The id when absent.
    #[serde(default)]
    pub name: Option<String>,
}
