//! Platform tokens: what a client sends to create one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::nullable::or_default;

/// A platform token to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenInput {
    pub name: String,
    pub scope: Vec<String>,
    pub expiration_date: String,
    /// uid, email or handle; the caller when absent.
    #[serde(default)]
    pub user_uuid: Option<String>,
    /// Only this account (`urn:dtaccount:<account>`) is supported; `null` is none.
    #[serde(default, deserialize_with = "or_default")]
    pub resource: Vec<String>,
    /// Accepted for compatibility with Dynatrace clients and not stored: Warden does not tag
    /// tokens.
    #[serde(default, deserialize_with = "or_default")]
    pub tags: Vec<String>,
}
