//! Dynatrace's coarse OAuth scopes and the Warden permissions each one stands for. A token
//! request (or an OAuth client) may name a coarse scope instead of permissions; it is granted as
//! exactly these permissions, never more, and a token's rights stay its scopes ∩ its owner's
//! permissions.

/// A coarse scope: its name and the permissions it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoarseScope {
    pub name: &'static str,
    /// What Dynatrace calls it.
    pub description: &'static str,
    pub permissions: &'static [&'static str],
}

/// Every coarse scope Warden accepts.
pub const COARSE_SCOPES: &[CoarseScope] = &[
    CoarseScope {
        name: "account-idm-read",
        description: "read access for identity resources (users and groups)",
        permissions: &[
            "iam:users:read",
            "iam:groups:read",
            "iam:service-users:read",
        ],
    },
    CoarseScope {
        name: "account-idm-write",
        description: "write access for identity resources (users and groups)",
        permissions: &[
            "iam:users:write",
            "iam:groups:write",
            "iam:service-users:write",
        ],
    },
    CoarseScope {
        name: "iam-policies-management",
        description: "policy management: policies, bindings, boundaries and their resolution",
        permissions: &[
            "iam:policies:read",
            "iam:policies:write",
            "iam:bindings:read",
            "iam:bindings:write",
            "iam:boundaries:read",
            "iam:boundaries:write",
            "iam:effective-permissions:read",
            "iam:limits:read",
        ],
    },
    CoarseScope {
        name: "account-env-read",
        description: "read access for environment resources",
        permissions: &["iam:environments:read"],
    },
    CoarseScope {
        name: "account-env-write",
        description: "write access for environment resources",
        permissions: &["iam:environments:write"],
    },
];

/// The coarse scope of this name.
pub fn coarse_scope(name: &str) -> Option<&'static CoarseScope> {
    COARSE_SCOPES.iter().find(|scope| scope.name == name)
}

/// Dynatrace scopes Warden knows but has nothing to grant for, with why.
pub const UNSUPPORTED_SCOPES: &[(&str, &str)] = &[
    (
        "account-uac-read",
        "Warden keeps no usage or cost data; there is nothing this scope could read",
    ),
    (
        "account-uac-write",
        "Warden keeps no usage or cost data; there is nothing this scope could change",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_coarse_scope_maps_to_iam_permissions_only() {
        for scope in COARSE_SCOPES {
            assert!(!scope.permissions.is_empty(), "{}", scope.name);
            assert!(
                scope.permissions.iter().all(|p| p.starts_with("iam:")),
                "{}",
                scope.name
            );
        }
        assert_eq!(
            coarse_scope("account-env-read").map(|s| s.permissions),
            Some(&["iam:environments:read"][..])
        );
        assert_eq!(coarse_scope("iam:groups:read"), None);
    }
}
