//! Workflows and consent: what a client sends to create, change and run a workflow's tasks, and
//! what it reads back. These are Warden's model of workflow authorisation (owner, visibility,
//! actor, consent), under the AutomationEngine's paths.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::nullable::or_default;

/// `adminAccess=true`: act with `automation:workflows:admin`, past visibility and ownership.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminQuery {
    #[serde(default)]
    pub admin_access: bool,
}

/// A workflow to create.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkflowInput {
    pub title: String,
    /// The environment it runs in.
    pub environment: String,
    /// Private (the default) is visible to its owner only.
    #[serde(default)]
    pub is_private: Option<bool>,
    /// `STANDARD` (the default) or `SIMPLE`.
    #[serde(default)]
    pub workflow_type: Option<String>,
    /// As whom its tasks run: uid, email or handle; the caller when absent.
    #[serde(default)]
    pub actor: Option<String>,
    /// A user (uid or email) or a group (uuid or name); the caller when absent.
    #[serde(default)]
    pub owner: Option<String>,
    /// `USER` (the default) or `GROUP`.
    #[serde(default)]
    pub owner_type: Option<String>,
}

/// What to change in a workflow; fields left out (or `null`) keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkflowUpdate {
    #[serde(default)]
    pub title: Option<String>,
    /// Only the owner (or admin mode) changes it.
    #[serde(default)]
    pub is_private: Option<bool>,
    #[serde(default)]
    pub workflow_type: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    /// Only the owner (or admin mode) changes it.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_type: Option<String>,
}

/// A workflow as stored, with names for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowDto {
    pub id: String,
    pub title: String,
    pub environment: String,
    /// The owning user's uid or group's uuid.
    pub owner: String,
    /// `USER` or `GROUP`.
    pub owner_type: String,
    /// The owning user's email or group's name.
    pub owner_name: Option<String>,
    pub is_private: bool,
    /// The actor's uid.
    pub actor: String,
    pub actor_email: Option<String>,
    pub actor_handle: Option<String>,
    /// `USER` or `SERVICE_USER`.
    pub actor_type: Option<String>,
    /// `STANDARD` or `SIMPLE`.
    pub workflow_type: String,
    pub created_at: String,
    pub created_by: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// The workflows visible to the caller, by title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowList {
    pub count: usize,
    pub results: Vec<WorkflowDto>,
}

/// An attribute's value in a task: one string or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TaskAttribute {
    One(String),
    Many(Vec<String>),
}

/// `POST …/workflows/{workflowId}/authorize-task`: the permission a task needs, and the
/// attributes its conditions read (`null` is none).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    pub permission: String,
    #[serde(default, deserialize_with = "or_default")]
    pub attributes: BTreeMap<String, TaskAttribute>,
}

/// The decision on a task, made as the workflow's actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskDecision {
    /// `ALLOW` or `DENY`.
    pub outcome: String,
    /// Why, as a stable name (`allowed`, `no-matching-allow`, `no-consent`, …).
    pub reason: String,
    /// The actor's uid, when the actor exists.
    pub actor: Option<String>,
    /// `USER` or `SERVICE_USER`.
    pub actor_type: Option<String>,
    /// `actor-permissions` or `consent`, on a refusal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<String>,
    pub summary: String,
    /// The engine's explanation of the actor's own decision: the same shape as a decision's
    /// `explanation` with `explain=true`.
    #[schema(value_type = Object)]
    pub explanation: serde_json::Value,
    /// The audit-log entry that records the check.
    pub audit_seq: i64,
}

/// `GET /automation/v1/authorization-settings?environment=`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsentQuery {
    /// The environment whose consent to read.
    pub environment: String,
}

/// The caller's consent for an environment: the permissions its workflows' tasks may use as the
/// caller (`null` is none).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub environment: String,
    #[serde(deserialize_with = "or_default")]
    pub permissions: Vec<String>,
}

/// The caller's consent for an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    pub environment: String,
    pub permissions: Vec<String>,
}
