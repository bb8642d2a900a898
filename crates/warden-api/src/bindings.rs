//! Bindings: the parameters, metadata and boundaries of a binding of a policy to a group.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    #[serde(default, deserialize_with = "or_default")]
    pub metadata: BTreeMap<String, String>,
    /// Uuids of the boundaries that narrow the binding.
    #[serde(default, deserialize_with = "or_default")]
    pub boundaries: Vec<String>,
}
