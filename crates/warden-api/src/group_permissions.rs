//! Dynatrace's group permissions (`/iam/v1/accounts/{accountId}/groups/{groupUuid}/permissions`)
//! on the wire, and the table that maps each permission name onto the Warden policy a group is
//! bound to for it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One permission of a group, as Dynatrace's permission-management API writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupPermission {
    #[schema(example = "tenant-viewer")]
    pub permission_name: String,
    /// The account's id (`scopeType: account`) or an environment's id (`tenant`).
    pub scope: String,
    /// `account` or `tenant` (`management-zone` is refused).
    #[schema(example = "tenant")]
    pub scope_type: String,
}

/// A permission as `GET` answers it: with the binding's creation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupPermissionDto {
    pub permission_name: String,
    pub scope: String,
    pub scope_type: String,
    /// RFC 3339 (UTC).
    pub created_at: String,
    /// RFC 3339 (UTC); bindings are not edited in place, so the creation time.
    pub updated_at: String,
}

/// `GET …/groups/{groupUuid}/permissions`: the group and its permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupPermissions {
    pub uuid: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub created_at: String,
    pub updated_at: String,
    pub permissions: Vec<GroupPermissionDto>,
}

/// A Dynatrace permission name and the Warden policy (by name) that stands for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PermissionMapping {
    pub permission_name: &'static str,
    /// `account` or `tenant`: where the permission may be given.
    pub scope_type: &'static str,
    pub policy_name: &'static str,
}

/// The permission names Warden maps; the others are refused, naming these.
pub const PERMISSION_MAPPINGS: &[PermissionMapping] = &[
    PermissionMapping {
        permission_name: "account-viewer",
        scope_type: "account",
        policy_name: "Account Viewer",
    },
    PermissionMapping {
        permission_name: "account-user-management",
        scope_type: "account",
        policy_name: "Account Admin",
    },
    PermissionMapping {
        permission_name: "tenant-viewer",
        scope_type: "tenant",
        policy_name: "Standard User",
    },
    PermissionMapping {
        permission_name: "tenant-logviewer",
        scope_type: "tenant",
        policy_name: "Storage Logs Read",
    },
];
