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
