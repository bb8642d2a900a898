//! Users: what a client sends to create one.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

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

/// A group a user is a member of.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub group_name: String,
    pub uuid: String,
    pub owner: String,
    #[serde(rename = "accountUUID")]
    pub account_uuid: String,
    pub account_name: String,
    pub description: String,
    pub created_at: String,
    pub updated_at: String,
}

/// One user with the groups it is a member of.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserSummary,
    pub groups: Vec<Membership>,
}

/// A user's new console password (12–128 characters).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordInput {
    #[schema(min_length = 12, max_length = 128)]
    pub password: String,
}

impl PasswordInput {
    pub fn new(password: String) -> Self {
        PasswordInput { password }
    }
}

/// `?justification=TEXT` on a membership change: why a service user joins a group bound to an
/// elevated policy (required then; kept in the audit log).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JustificationQuery {
    /// Why the elevation is needed (1–2000 characters).
    #[serde(default)]
    pub justification: Option<String>,
}
