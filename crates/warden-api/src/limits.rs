//! Counts and limits on the wire: `GET /iam/v1/repo/{levelType}/{levelId}/limits`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How many there are of a kind, and how many Warden allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Usage {
    pub count: usize,
    pub limit: usize,
}

/// A limit without a count (it applies per owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Limit {
    pub limit: usize,
}

/// The counts and limits that apply at a level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// Every policy of the account and the global ones.
    pub policies: Usage,
    /// The bindings at this level.
    pub bindings: Usage,
    pub boundaries: Usage,
    pub users: Usage,
    pub groups: Usage,
    pub oauth_clients: Usage,
    pub platform_tokens_per_user: Limit,
}
