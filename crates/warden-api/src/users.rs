//! Users: what a client sends to create one.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub surname: String,
    /// Warden assigns the uid: clients that send an empty one (as Dynatrace's do) are accepted;
    /// any other value is refused.
    #[serde(default)]
    pub uid: String,
}

/// A user or service user as lists show them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSummary {
    pub uid: String,
    pub email: String,
    pub name: String,
    pub surname: String,
    /// `ACTIVE` or `INACTIVE`.
    pub user_status: String,
    pub emergency_contact: bool,
    pub service_user: bool,
}
