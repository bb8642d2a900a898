//! Groups: what a client sends to create or change one, and what it reads back.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::nullable::or_default;

/// A group to create, or a group's new name, description and federated attribute values.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GroupInput {
    pub name: String,
    /// `null` is none.
    #[serde(default, deserialize_with = "or_default")]
    pub description: String,
    /// SAML attribute values that make a federated user a member; `null` is none.
    #[serde(default, deserialize_with = "or_default")]
    pub federated_attribute_values: Vec<String>,
}

/// A group as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupDto {
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub federated_attribute_values: Vec<String>,
    /// `LOCAL`, or `SAML` for a group with federated attribute values.
    pub owner: String,
    pub created_at: String,
    pub updated_at: String,
}
