//! `POST /iam/v1/accounts/{accountUuid}/batch`: several writes made as one — each authorised,
//! validated and checked for escalation like the single request it stands for, against the
//! state as the batch's earlier writes left it, and committed in one transaction or not at all.
//! Writes name what they touch by name, because a write may refer to what an earlier write of
//! the same batch creates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::authzen::Mapping;
use crate::bindings::ParameterValue;

/// The most writes one batch may hold: the batch holds the account's write lock throughout.
pub const MAX_BATCH_WRITES: usize = 1000;

/// The request body.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WriteBatch {
    /// In order; at most 1000.
    pub writes: Vec<BatchWrite>,
    /// Check every write (permissions, validation, no escalation) and answer as if applied,
    /// without storing anything.
    #[serde(default)]
    pub dry_run: bool,
}

/// One write, naming policies, groups and boundaries by name (case-insensitively), users by
/// email and service users by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(
    tag = "write",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum BatchWrite {
    /// The account's AuthZEN mapping becomes this one.
    SetAuthzen {
        mapping: Mapping,
    },
    CreateEnvironment {
        id: String,
        #[serde(default)]
        name: Option<String>,
    },
    /// Creates the boundary, or replaces the text of the one with this name.
    PutBoundary {
        name: String,
        boundary_query: String,
    },
    /// Creates the account policy, or replaces the text of the one with this name.
    PutPolicy {
        name: String,
        statement_query: String,
        #[serde(default)]
        description: String,
    },
    CreateGroup {
        name: String,
        #[serde(default)]
        description: String,
    },
    /// Binds the policy to the group at the account (or `environment`) once per entry of
    /// `bindings`; with `replace`, the group's bindings of the policy there give way to the
    /// first in the same write.
    Bind {
        group: String,
        policy: String,
        /// The policy is a global one.
        #[serde(default)]
        global: bool,
        #[serde(default)]
        environment: Option<String>,
        #[serde(default)]
        replace: bool,
        bindings: Vec<BatchBinding>,
    },
    /// Removes every binding of the policy to the group at the level.
    Unbind {
        group: String,
        policy: String,
        #[serde(default)]
        global: bool,
        #[serde(default)]
        environment: Option<String>,
    },
    /// Creates the user, then (when `groups` is not empty) makes those its groups.
    CreateUser {
        email: String,
        #[serde(default)]
        groups: Vec<String>,
    },
    /// Creates the service user, then (when `groups` is not empty) adds those groups to its own
    /// (`justification`: why, when that gives it an elevated binding).
    CreateServiceUser {
        name: String,
        #[serde(default)]
        groups: Vec<String>,
        #[serde(default)]
        justification: Option<String>,
    },
    /// The user's groups become `groups` (each a name or a uuid).
    SetUserGroups {
        email: String,
        groups: Vec<String>,
        #[serde(default)]
        justification: Option<String>,
    },
    /// The service user's groups become its own group and `groups` (each a name or a uuid;
    /// `justification`: why, when that gives it an elevated binding).
    SetServiceUserGroups {
        name: String,
        groups: Vec<String>,
        #[serde(default)]
        justification: Option<String>,
    },
    DeleteUser {
        email: String,
    },
    DeleteServiceUser {
        name: String,
    },
    DeleteGroup {
        name: String,
    },
    DeletePolicy {
        name: String,
    },
    DeleteBoundary {
        name: String,
    },
}

impl BatchWrite {
    /// The write's kind, as the wire spells it.
    pub fn kind(&self) -> &'static str {
        match self {
            BatchWrite::SetAuthzen { .. } => "setAuthzen",
            BatchWrite::CreateEnvironment { .. } => "createEnvironment",
            BatchWrite::PutBoundary { .. } => "putBoundary",
            BatchWrite::PutPolicy { .. } => "putPolicy",
            BatchWrite::CreateGroup { .. } => "createGroup",
            BatchWrite::Bind { .. } => "bind",
            BatchWrite::Unbind { .. } => "unbind",
            BatchWrite::CreateUser { .. } => "createUser",
            BatchWrite::CreateServiceUser { .. } => "createServiceUser",
            BatchWrite::SetUserGroups { .. } => "setUserGroups",
            BatchWrite::SetServiceUserGroups { .. } => "setServiceUserGroups",
            BatchWrite::DeleteUser { .. } => "deleteUser",
            BatchWrite::DeleteServiceUser { .. } => "deleteServiceUser",
            BatchWrite::DeleteGroup { .. } => "deleteGroup",
            BatchWrite::DeletePolicy { .. } => "deletePolicy",
            BatchWrite::DeleteBoundary { .. } => "deleteBoundary",
        }
    }
}

/// One binding of a `bind` write.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchBinding {
    #[serde(default)]
    pub parameters: BTreeMap<String, ParameterValue>,
    /// Names of the boundaries that narrow the binding.
    #[serde(default)]
    pub boundaries: Vec<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// The answer: what each write did, and the one revision they made.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteBatchResult {
    /// The revision of the whole batch (with `dryRun`, the revision it would have been).
    pub revision: i64,
    pub dry_run: bool,
    pub writes: Vec<WriteOutcome>,
}

/// What one write did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteOutcome {
    /// The write's kind (`createGroup`, `bind`, …).
    pub write: String,
    /// The id of what it created or changed, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Advice that does not refuse the write (boundary or naming warnings).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
