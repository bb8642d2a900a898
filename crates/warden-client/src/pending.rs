//! Bodies the client still spells itself, being replaced by `warden-api`'s types: those that
//! already are the wire crate's own are re-exported here under their old names; the structs that
//! remain differ from the server's types in a way the CLI relies on (attribute values written as
//! parameters, a workflow's optional fields, a service user's shape) and go when the CLI is moved
//! onto the wire crate's types.
//!
//! Parts of an answer whose shape belongs to the engine and is free-form by design (a decision's
//! explanation, a catalogue permission's conditions) are kept as JSON values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use warden_api::bindings::ParameterValue;

pub use warden_api::bindings::BindingDetail;
pub use warden_api::bindings::GroupBindings;
pub use warden_api::bindings::LevelBindings;
pub use warden_api::bindings::PolicyBinding;
pub use warden_api::bindings::PolicyUuidsInput;
pub use warden_api::environments::EnvironmentInput;
pub use warden_api::limits::Limit;
pub use warden_api::limits::Limits;
pub use warden_api::limits::Usage;
pub use warden_api::service_users::DeactivateInput;
pub use warden_api::service_users::OwnerInput;
pub use warden_api::service_users::ReviewEntry;
pub use warden_api::service_users::ReviewReport as ServiceUserReview;
pub use warden_api::service_users::ReviewWorkflow;
pub use warden_api::service_users::RotationDue;
pub use warden_api::service_users::ServiceUserInput;
pub use warden_api::workflows::Consent;
pub use warden_api::workflows::TaskDecision;
pub use warden_api::workflows::WorkflowInput;
pub use warden_api::workflows::WorkflowUpdate;

// ---- bindings -----------------------------------------------------------------------------------

/// To be replaced by `warden-api`'s type: a page of a policy's bindings in every environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingsPage {
    pub page_size: usize,
    pub page_number: usize,
    pub total_count: usize,
    pub content: Vec<LevelBindings>,
}

/// To be replaced by `warden-api`'s type: a policy bound to several groups at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupsInput {
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boundaries: Vec<String>,
}

/// Which bindings of a policy (and group) a replacement or deletion is about: those with these
/// parameters and metadata; `force_multiple` when several may match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindingFilter {
    pub parameters: BTreeMap<String, String>,
    pub metadata: BTreeMap<String, String>,
    pub force_multiple: bool,
}

impl BindingFilter {
    /// As query pairs: `parameters[name]=value`, `metadata[name]=value`, `forceMultiple=true`.
    pub(crate) fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = self
            .parameters
            .iter()
            .map(|(k, v)| (format!("parameters[{k}]"), v.clone()))
            .chain(
                self.metadata
                    .iter()
                    .map(|(k, v)| (format!("metadata[{k}]"), v.clone())),
            )
            .collect();
        if self.force_multiple {
            pairs.push(("forceMultiple".to_owned(), "true".to_owned()));
        }
        pairs
    }
}

// ---- service users ------------------------------------------------------------------------------

/// To be replaced by `warden-api`'s type: the fields of a service user to change; `None` keeps
/// a field, `owner: Some(None)` removes the owner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceUserUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Option<OwnerInput>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Why (kept in the audit log, shown in the history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// To be replaced by `warden-api`'s type: a service user's owner with its name (an email or a
/// group's name; `null` when it no longer exists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: Option<String>,
}

/// To be replaced by `warden-api`'s type: why, when and by whom a service user was deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deactivation {
    pub reason: String,
    pub at: String,
    pub by: String,
}

/// To be replaced by `warden-api`'s type: a service user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUser {
    pub uid: String,
    pub email: String,
    pub handle: Option<String>,
    pub name: String,
    pub surname: String,
    pub description: String,
    pub owner: Option<Owner>,
    pub purpose: String,
    pub group_uuid: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub last_reviewed_at: Option<String>,
    pub last_used_at: Option<String>,
    pub active: bool,
    pub deactivation: Option<Deactivation>,
}

/// To be replaced by `warden-api`'s type: a page of service users, by handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUserPage {
    pub total_count: usize,
    pub results: Vec<ServiceUser>,
    pub next_page_key: Option<String>,
}

/// To be replaced by `warden-api`'s type: a review's note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewNote {
    pub note: String,
}

// ---- workflows ----------------------------------------------------------------------------------

/// To be replaced by `warden-api`'s type: a workflow as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    pub id: String,
    pub title: String,
    pub environment: String,
    pub owner: String,
    pub owner_type: String,
    pub owner_name: Option<String>,
    pub is_private: bool,
    pub actor: String,
    pub actor_email: Option<String>,
    pub actor_handle: Option<String>,
    pub actor_type: Option<String>,
    pub workflow_type: String,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// To be replaced by `warden-api`'s type: the workflows the caller may see, by title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowList {
    pub count: usize,
    pub results: Vec<Workflow>,
}

/// To be replaced by `warden-api`'s type: a task of a workflow run to authorise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskInput {
    pub permission: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, ParameterValue>,
}

// ---- decisions ----------------------------------------------------------------------------------

/// To be replaced by `warden-api`'s type: a decision to make.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRequest {
    /// uid, email or handle; or give `token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// A token whose owner (within its scopes) the decision is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub permission: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, ParameterValue>,
    /// RFC 3339; now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_revision: Option<i64>,
}

/// To be replaced by `warden-api`'s type: a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `ALLOW` or `DENY`.
    pub decision: String,
    /// `allowed`, `denied-by-statement`, `no-matching-allow`, …
    pub reason: String,
    pub revision: u64,
    pub stale: bool,
    /// With `explain`: why (free-form by design).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Value>,
}

/// To be replaced by `warden-api`'s type: decisions made from one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRequest {
    pub requests: Vec<DecisionRequest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_revision: Option<i64>,
}

/// To be replaced by `warden-api`'s type: one slot of a batch's answer — a decision, or the
/// error of that one request (an unknown permission).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchSlot {
    Decision(Decision),
    Error(warden_api::ErrorBody),
}

/// To be replaced by `warden-api`'s type: a batch's answer, in the order asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchDecisions {
    pub revision: u64,
    pub stale: bool,
    pub results: Vec<BatchSlot>,
}

/// Whose effective permissions to resolve, and which page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EffectiveQuery {
    /// `user` or `group`.
    pub entity_type: String,
    pub entity_id: String,
    /// Only these services.
    pub services: Vec<String>,
    pub page: Option<usize>,
    pub size: Option<usize>,
}

// ---- catalogue ----------------------------------------------------------------------------------

/// To be replaced by `warden-api`'s type: a service of the catalogue with its permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueService {
    pub name: String,
    pub title: String,
    pub custom: bool,
    pub permissions: Vec<CataloguePermission>,
}

/// To be replaced by `warden-api`'s type: a permission of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CataloguePermission {
    pub name: String,
    pub service: String,
    pub description: String,
    pub source: String,
    pub conditions: Vec<ConditionSpec>,
    pub implies: Vec<String>,
}

/// To be replaced by `warden-api`'s type: a condition a permission (or every one) takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionSpec {
    pub name: String,
    pub description: String,
    pub operators: Vec<String>,
}

/// To be replaced by `warden-api`'s type: `GET /iam/v1/catalogue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalogue {
    pub services: Vec<CatalogueService>,
    pub global_conditions: Vec<ConditionSpec>,
}

/// To be replaced by `warden-api`'s type: one permission and those that imply it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionEntry {
    pub permission: CataloguePermission,
    pub implied_by: Vec<String>,
}

/// To be replaced by `warden-api`'s type: a custom service registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisteredService {
    pub service: String,
    pub permissions: Vec<String>,
}

// ---- audit, environments ------------------------------------------------------------------------

/// Which audit entries to read: after a sequence number, by actor, action prefix or target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub after_seq: Option<i64>,
    /// 1–1000; 100 when absent.
    pub limit: Option<i64>,
    pub actor: Option<String>,
    /// A prefix of the action (`policy.`).
    pub action: Option<String>,
    pub target: Option<String>,
}

/// To be replaced by `warden-api`'s type: whether the audit log's hash chain holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditVerification {
    pub valid: bool,
    pub entries: i64,
    pub problem: Option<Value>,
    #[serde(default)]
    pub problems: Vec<Value>,
}

// ---- OAuth --------------------------------------------------------------------------------------

/// To be replaced by `warden-api`'s type: what the token endpoint is asked for (the client
/// credentials grant).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    /// Space-separated; the client's scopes when absent.
    pub scope: Option<String>,
    /// `urn:dtaccount:<account>`.
    pub resource: Option<String>,
}

/// To be replaced by `warden-api`'s type: an access token issued (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: u64,
    pub scope: String,
    pub resource: Option<String>,
}
