//! Boundaries: what a client sends to create or change one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::nullable::or_default;

/// A boundary's name, query and metadata.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BoundaryInput {
    pub name: String,
    pub boundary_query: String,
    /// `null` is none.
    #[serde(default, deserialize_with = "or_default")]
    pub metadata: BTreeMap<String, String>,
}

/// One condition of a boundary, as parsed from its query.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BoundaryCondition {
    pub name: String,
    pub operator: String,
    pub values: Vec<String>,
}

/// A boundary as stored, with its parsed conditions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoundaryDto {
    pub uuid: String,
    /// Always `account`.
    pub level_type: String,
    pub level_id: String,
    pub name: String,
    pub boundary_query: String,
    pub boundary_conditions: Vec<BoundaryCondition>,
    pub metadata: BTreeMap<String, String>,
}

/// A page of boundaries, by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BoundaryPage {
    pub page_size: usize,
    pub page_number: usize,
    pub total_count: usize,
    pub content: Vec<BoundaryDto>,
}
