//! Justified elevation: a change that gives a service user elevated access must say why.
//!
//! A binding is *elevated* when its policy grants an `iam:` permission whose action (the part
//! after the last `:`) is anything but `read` — `iam:bindings:write`, `iam:service-users:use`, …,
//! in any `ALLOW` statement, conditions or not — or when the policy is a global one whose name
//! has the word `admin` in it (`Account Admin`, `AppEngine - Admin`).
//!
//! Every change is checked the same way, after it is planned and whatever path it came by (the
//! bindings API, Dynatrace's bindings endpoints, memberships, a policy edit, the console): each
//! (service user, elevated binding of one of its groups) pair the change creates — or whose
//! elevated permissions it widens — needs a justification given with this very change. A new
//! binding carries it in its metadata (`justification`); a membership change carries it as the
//! request's `justification`; a change with no place for one (a policy edit, `PUT
//! …/bindings/groups/{groupUuid}`) is refused. Without it the change is a 400 naming the
//! elevated permissions. A justification given earlier for another pair does not count: adding a
//! second service user to a group bound to an admin policy is a new elevation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use warden_engine::{Binding, Directory, Level, PrincipalKind};
use warden_policy::ast::Effect;

use crate::service::{ApiError, ApiResult};

/// The metadata key of a binding's justification.
pub const JUSTIFICATION: &str = "justification";

/// Why a binding is elevated: the `iam:` write permissions its policy grants (sorted), and
/// whether it is a global Admin policy. `None` when it is not elevated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elevated {
    pub permissions: BTreeSet<String>,
    pub admin: bool,
}

/// Whether `permission` is an `iam:` permission that changes something.
pub fn is_iam_write(permission: &str) -> bool {
    permission.starts_with("iam:") && permission.rsplit(':').next() != Some("read")
}

/// Whether a policy's name makes it an Admin policy: the word `admin`, in any case.
fn admin_name(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| word.eq_ignore_ascii_case("admin"))
}

/// What makes the policy `id` elevated in `directory`, if anything does.
pub fn elevated(directory: &Directory, id: &str) -> Option<Elevated> {
    let policy = directory.policy(id)?;
    let permissions: BTreeSet<String> = policy
        .ast
        .statements
        .iter()
        .filter(|s| s.effect.node == Effect::Allow)
        .flat_map(|s| s.permissions.iter())
        .map(|p| p.node.clone())
        .filter(|p| is_iam_write(p))
        .collect();
    let admin = policy.level == Level::Global && admin_name(&policy.name);
    (admin || !permissions.is_empty()).then_some(Elevated { permissions, admin })
}

/// A justification worth the name: some visible text.
fn given(text: Option<&str>) -> bool {
    text.is_some_and(|t| !t.trim().is_empty())
}

/// The binding's own justification.
pub fn justification_of(binding: &Binding) -> Option<&str> {
    binding
        .metadata
        .get(JUSTIFICATION)
        .map(String::as_str)
        .filter(|t| !t.trim().is_empty())
}

/// Whether `before` already gave this service user this binding with at least these elevated
/// permissions.
fn held_before(before: &Directory, uid: &str, binding: &Binding, now: &Elevated) -> bool {
    let member = before
        .principal(uid)
        .is_some_and(|p| p.groups.contains(&binding.group));
    let bound = before
        .bindings_of(&binding.group)
        .iter()
        .any(|b| **b == *binding);
    member
        && bound
        && elevated(before, &binding.policy).is_some_and(|was| {
            (was.admin || !now.admin) && now.permissions.is_subset(&was.permissions)
        })
}

/// The fix a refusal names, by the kind of change (its audit action).
fn fix(action: &str) -> &'static str {
    match action {
        "binding.create" => {
            "say why in the binding's metadata as `justification` (`POST …/bindings/{policyUuid}/{groupUuid}` with `metadata.justification`, `warden bind … --justification TEXT`, or the console's Justification field)"
        }
        "user.memberships" => {
            "say why with the request's `justification` (`?justification=TEXT`, `warden user add-groups … --justification TEXT`, or the console's Justification field)"
        }
        _ => {
            "this kind of change cannot carry a justification: take the service user out of the group first, then add it back with a `justification`, or bind the policy with one"
        }
    }
}

/// What a refusal calls the change.
fn what(action: &str) -> &'static str {
    match action.split('.').next().unwrap_or_default() {
        "binding" => "this binding",
        "policy" => "this policy change",
        "user" => "this membership change",
        "service-user" => "this service-user change",
        "group" => "this group change",
        _ => "this change",
    }
}

/// Refuses the change from `before` to `after` when it elevates a service user without a
/// justification; `justification` is the one the request gave (memberships), new bindings
/// carry theirs.
pub fn check(
    before: &Directory,
    after: &Directory,
    justification: Option<&str>,
    action: &str,
) -> ApiResult<()> {
    if given(justification) {
        return Ok(());
    }
    let mut cache: BTreeMap<&str, Option<Elevated>> = BTreeMap::new();
    for principal in after
        .principals()
        .filter(|p| p.kind == PrincipalKind::ServiceUser)
    {
        for group in principal.groups.iter() {
            for binding in after.bindings_of(group) {
                let Some(now) = cache
                    .entry(binding.policy.as_ref())
                    .or_insert_with(|| elevated(after, &binding.policy))
                    .clone()
                else {
                    continue;
                };
                if held_before(before, &principal.uid, binding, &now) {
                    continue;
                }
                let new_binding = !before
                    .bindings_of(&binding.group)
                    .iter()
                    .any(|b| **b == **binding);
                if new_binding && justification_of(binding).is_some() {
                    continue;
                }
                return Err(refusal(after, principal, binding, &now, action));
            }
        }
    }
    Ok(())
}

fn refusal(
    after: &Directory,
    principal: &warden_engine::directory::Principal,
    binding: &Binding,
    elevated: &Elevated,
    action: &str,
) -> ApiError {
    let who = principal
        .handle
        .as_ref()
        .map_or_else(|| principal.name.clone(), ToString::to_string);
    let policy = after
        .policy(&binding.policy)
        .map_or_else(|| binding.policy.to_string(), |p| p.name.clone());
    let group = after
        .group(&binding.group)
        .map_or_else(|| binding.group.to_string(), |g| g.name.clone());
    let kind = if elevated.admin {
        " (a global Admin policy)"
    } else {
        ""
    };
    let grants = if elevated.permissions.is_empty() {
        format!("is bound to group `{group}`")
    } else {
        let listed: Vec<String> = elevated
            .permissions
            .iter()
            .map(|p| format!("`{p}`"))
            .collect();
        format!("grants {} to group `{group}`", listed.join(", "))
    };
    ApiError::invalid(format!(
        "{} would give service user `{who}` elevated access without a justification: policy `{policy}`{kind} {grants}; {}",
        what(action),
        fix(action)
    ))
    .with_details(json!({
        "rule": "justification-required",
        "serviceUser": principal.uid.to_string(),
        "policy": binding.policy.to_string(),
        "group": binding.group.to_string(),
        "level": binding.level.to_string(),
        "elevatedPermissions": elevated.permissions,
        "adminPolicy": elevated.admin,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_writes_are_every_action_but_read() {
        for write in [
            "iam:bindings:write",
            "iam:service-users:use",
            "iam:tokens:write",
            "iam:catalogue:write",
        ] {
            assert!(is_iam_write(write), "{write}");
        }
        for not in [
            "iam:bindings:read",
            "iam:effective-permissions:read",
            "settings:objects:write",
            "document:documents:admin",
        ] {
            assert!(!is_iam_write(not), "{not}");
        }
    }

    #[test]
    fn admin_is_a_word_of_the_name() {
        for admin in [
            "Account Admin",
            "AppEngine - Admin",
            "admin",
            "Extensions - Admin access",
        ] {
            assert!(admin_name(admin), "{admin}");
        }
        for not in ["Administrators' viewer", "Badminton", "Standard User"] {
            assert!(!admin_name(not), "{not}");
        }
    }
}
