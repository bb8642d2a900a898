//! The service endpoints: liveness, and who the caller is.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /health`: the server is up, at this snapshot revision, on this store.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
    pub revision: u64,
    /// `sqlite` or `postgres`.
    pub store: String,
}

/// `GET /iam/v1/me`: the caller and the token it used.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub uid: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub account: String,
    pub token_id: String,
    /// The token's scopes; empty for a token limited by none.
    pub scopes: Vec<String>,
    /// Whether the token acts with all of the caller's permissions.
    pub unrestricted: bool,
}

/// `GET /ready`: whether this replica should get traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Ready {
    /// `ready` or `not ready`.
    pub status: String,
    /// The revision of the snapshot serving decisions.
    pub revision: u64,
    /// The store's revision; absent when the store did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_revision: Option<u64>,
    /// Why the replica is not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
