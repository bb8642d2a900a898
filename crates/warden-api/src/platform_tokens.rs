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

/// A platform token as listed (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformToken {
    pub token_id: String,
    pub name: String,
    /// The owner's uid.
    pub user_uuid: String,
    pub user_email: Option<String>,
    pub user_handle: Option<String>,
    pub scope: Vec<String>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub expiration_date: Option<String>,
    pub expired: bool,
    pub created_at: String,
    pub created_by: String,
    pub last_used_at: Option<String>,
}

/// A page of platform tokens, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPage {
    pub total_count: usize,
    pub page: usize,
    pub size: usize,
    pub items: Vec<PlatformToken>,
}

/// A token just created: the only answer that shows the token itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedToken {
    pub name: String,
    pub token_id: String,
    /// `wdn_pt_…`; shown this once.
    pub token: String,
}

/// A token's new expiry date (RFC 3339, in the future).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpirationInput {
    pub expiration_date: String,
}

/// A token's new status: `ACTIVE` or `INACTIVE`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    pub status: String,
}

/// Which platform tokens a list shows: `?searchTerm=&status=&page=&size=`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    /// Part of the token's name or of its owner's email, in any case.
    #[serde(default)]
    pub search_term: Option<String>,
    /// `ACTIVE` or `INACTIVE`.
    #[serde(default)]
    pub status: Option<String>,
    /// From 1 (the default).
    #[serde(default)]
    pub page: Option<usize>,
    /// 1–500; 50 when absent.
    #[serde(default)]
    pub size: Option<usize>,
}
