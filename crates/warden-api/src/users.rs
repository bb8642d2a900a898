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
