//! Policies: what a client sends to create, change or validate one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
