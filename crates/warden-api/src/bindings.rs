//! Bindings: the parameters, metadata and boundaries of a binding of a policy to a group, and the
//! shapes Dynatrace's bindings endpoints answer with (`LevelPolicyBindingDto` and friends).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::nullable::or_default;

/// A bind parameter's value: one string, or a list that expands into list items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ParameterValue {
    One(String),
    Many(Vec<String>),
}

/// What a binding carries besides its policy and group; `null` for any field is none.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingInput {
    #[serde(default, deserialize_with = "or_default")]
    pub parameters: BTreeMap<String, ParameterValue>,
    /// Free-form pairs kept with the binding. `justification`: why it is needed — required
    /// (1–2000 characters) when the binding gives a service user an `iam:` write permission or a
    /// global Admin policy.
    #[serde(default, deserialize_with = "or_default")]
    pub metadata: BTreeMap<String, String>,
    /// Uuids of the boundaries that narrow the binding.
    #[serde(default, deserialize_with = "or_default")]
    pub boundaries: Vec<String>,
}

/// `POST …/bindings/{policyUuid}`: bind the policy to these groups (appended to their
/// bindings), each narrowed by these boundaries.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupsBindingInput {
    /// The groups' uuids; at least one. `null` is none (and refused as such).
    #[serde(deserialize_with = "or_default")]
    pub groups: Vec<String>,
    /// Uuids of boundaries; `null` is none.
    #[serde(default, deserialize_with = "or_default")]
    pub boundaries: Vec<String>,
}

/// `PUT …/bindings/groups/{groupUuid}`: the group's bindings at the level become exactly these
/// policies; `null` is none (every binding of the group at the level is removed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyUuidsInput {
    #[serde(deserialize_with = "or_default")]
    pub policy_uuids: Vec<String>,
}

/// The bindings of one policy that share parameters, metadata and boundaries, with their groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBinding {
    pub policy_uuid: String,
    pub groups: Vec<String>,
    pub parameters: BTreeMap<String, ParameterValue>,
    pub metadata: BTreeMap<String, String>,
    pub boundaries: Vec<String>,
}

/// Dynatrace's `LevelPolicyBindingDto`: the bindings at a level, grouped by policy, parameters,
/// metadata and boundaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LevelBindings {
    /// `global`, `account` or `environment`.
    pub level_type: String,
    pub level_id: String,
    pub policy_bindings: Vec<PolicyBinding>,
}

/// One binding of a group, with where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingDetail {
    pub policy_uuid: String,
    /// The one group, as a list (Dynatrace's shape).
    pub groups: Vec<String>,
    pub parameters: BTreeMap<String, ParameterValue>,
    pub metadata: BTreeMap<String, String>,
    pub boundaries: Vec<String>,
    pub level_type: String,
    pub level_id: String,
}

/// `GET …/bindings/groups/{groupUuid}`: the policies bound to a group at a level, and with
/// `details=true` every binding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupBindings {
    pub policy_uuids: Vec<String>,
    /// Only with `details=true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindings_details: Option<Vec<BindingDetail>>,
}

/// `GET /iam/v1/repo/account/{levelId}/bindings/descendants/{policyUuid}`: a page of the
/// environments' bindings of a policy, one entry per environment with any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DescendantsPage {
    pub page_size: usize,
    pub page_number: usize,
    pub total_count: usize,
    pub content: Vec<LevelBindings>,
}

/// The query that picks bindings to replace or delete: `parameters[name]=value` and
/// `metadata[key]=value` pairs the bindings must carry, and whether more than one may match.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct BindingFilterQuery {
    /// `parameters[name]=value`: bindings whose parameter `name` is exactly `value`.
    #[param(style = DeepObject, explode)]
    #[serde(default)]
    pub parameters: Option<BTreeMap<String, String>>,
    /// `metadata[key]=value`: bindings whose metadata `key` is `value`.
    #[param(style = DeepObject, explode)]
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// More than one binding may match (otherwise that is a 400).
    #[serde(default)]
    pub force_multiple: Option<bool>,
}

/// `details=true` adds every binding of the group to the answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DetailsQuery {
    #[serde(default)]
    pub details: Option<bool>,
}
