//! Policies: what a client sends to create, change or validate one, and what it gets back (a
//! policy with its parsed statements and located diagnostics, the lists, a validation answer).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::nullable::or_default;

/// A policy's name, description, tags and statements.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyInput {
    pub name: String,
    /// `null` is none.
    #[serde(default, deserialize_with = "or_default")]
    pub description: String,
    /// `null` is none.
    #[serde(default, deserialize_with = "or_default")]
    pub tags: Vec<String>,
    pub statement_query: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// The query of a policy list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PolicyListQuery {
    /// Keeps the policies whose name contains this (case-insensitive).
    #[serde(default)]
    pub name: Option<String>,
}

/// The query of a policy's deletion.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PolicyDeleteQuery {
    /// Deletes the policy's bindings too, instead of refusing while it is bound.
    #[serde(default)]
    pub force: bool,
}

/// A 1-based line and column of a policy text (columns count characters).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct TextPosition {
    pub line: usize,
    pub column: usize,
}

/// A half-open byte range `start..end` of a policy text.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct TextSpan {
    pub start: usize,
    pub end: usize,
}

/// One finding of the policy checker, located in the text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyDiagnostic {
    /// `error` or `warning`.
    pub severity: String,
    /// A stable identifier of the finding, such as `unknown-permission`.
    pub code: String,
    pub message: String,
    pub start: TextPosition,
    pub end: TextPosition,
    pub span: TextSpan,
    /// The offending text.
    pub text: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// One condition of a statement, as parsed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatementCondition {
    pub name: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// One statement of a policy, as parsed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyStatement {
    /// `ALLOW` or `DENY`.
    pub effect: String,
    /// The service of the first permission.
    pub service: String,
    pub permissions: Vec<String>,
    pub conditions: Vec<StatementCondition>,
}

/// A policy as stored, with its parsed statements; after a save, the warnings of its text.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyDto {
    pub uuid: String,
    pub name: String,
    pub tags: Vec<String>,
    pub description: String,
    pub statement_query: String,
    pub statements: Vec<PolicyStatement>,
    pub level_type: String,
    pub level_id: String,
    /// Absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<PolicyDiagnostic>,
    /// Diagnostics found beyond those shown; absent when none were left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub truncated: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A policy of a list: its id, name and description.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicySummary {
    pub uuid: String,
    pub name: String,
    pub description: String,
}

/// The policies of one level, by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyList {
    pub policies: Vec<PolicySummary>,
}

/// A policy of the aggregate, with the level it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyOverview {
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub level_type: String,
    pub level_id: String,
}

/// The policies that apply at a level (the global ones, the account's, the level's), by level
/// type, then name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyOverviewList {
    pub policy_overview_list: Vec<PolicyOverview>,
}

/// A text that validates: its warnings, located and as `line:column: message` lines.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PolicyValidation {
    pub diagnostics: Vec<PolicyDiagnostic>,
    /// Diagnostics found beyond those shown; absent when none were left out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub truncated: usize,
    pub warnings: Vec<String>,
}
