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
    use std::sync::Arc;

    use warden_engine::directory::{Group, PolicyRecord, Principal};

    use super::*;

    fn policy(id: &str, name: &str, level: Level, text: &str) -> PolicyRecord {
        PolicyRecord {
            id: id.into(),
            name: name.to_owned(),
            description: String::new(),
            level,
            text: text.into(),
            ast: Arc::new(warden_policy::parse_policy(text).ast),
        }
    }

    /// A service user `bot` in group `g`, and a person `ann` in group `h`; the policies `p`
    /// (`text`), `q` (nothing elevated) and the global `Admin User`.
    fn directory(text: &str) -> Directory {
        let mut d = Directory::new("acc");
        for (id, name) in [("g", "ops"), ("h", "people")] {
            d.upsert_group(Group::new(id, name)).unwrap();
        }
        d.upsert_policy(policy("p", "P", Level::Account, text))
            .unwrap();
        d.upsert_policy(policy("q", "Q", Level::Account, "ALLOW iam:groups:read;"))
            .unwrap();
        d.upsert_policy(policy(
            "a",
            "Admin User",
            Level::Global,
            "ALLOW settings:objects:read;",
        ))
        .unwrap();
        d.upsert_principal(Principal {
            groups: Arc::new(["g".into()]),
            ..Principal::service_user("bot", "bot@service.x", "bot@service", "Bot")
        })
        .unwrap();
        d.upsert_principal(Principal {
            groups: Arc::new(["h".into()]),
            ..Principal::user("ann", "ann@example.com")
        })
        .unwrap();
        d
    }

    fn bound(mut d: Directory, policy: &str, group: &str, why: Option<&str>) -> Directory {
        let mut binding = Binding::new(Level::Account, policy, group);
        if let Some(why) = why {
            binding
                .metadata
                .insert(JUSTIFICATION.to_owned(), why.to_owned());
        }
        d.add_binding(binding).unwrap();
        d
    }

    #[test]
    fn new_elevated_pairs_need_a_justification_given_with_the_change() {
        let before = directory("ALLOW iam:groups:write WHERE iam:boundGroup = \"x\";");
        // A conditional grant is elevated too; a binding's own justification covers it.
        let refused = check(
            &before,
            &bound(before.clone(), "p", "g", None),
            None,
            "binding.create",
        );
        let error = refused.unwrap_err();
        assert!(error.message.starts_with("this binding would give service user `bot@service` elevated access without a justification: policy `P` grants `iam:groups:write` to group `ops`;"), "{}", error.message);
        assert!(
            check(
                &before,
                &bound(before.clone(), "p", "g", Some("why")),
                None,
                "binding.create"
            )
            .is_ok()
        );
        assert!(
            check(
                &before,
                &bound(before.clone(), "p", "g", None),
                Some("why"),
                "binding.create"
            )
            .is_ok()
        );
        assert!(
            check(
                &before,
                &bound(before.clone(), "p", "g", None),
                Some("  "),
                "binding.create"
            )
            .is_err()
        );
        // Not elevated, or nobody elevated: nothing asked.
        assert!(
            check(
                &before,
                &bound(before.clone(), "q", "g", None),
                None,
                "binding.create"
            )
            .is_ok()
        );
        assert!(
            check(
                &before,
                &bound(before.clone(), "p", "h", None),
                None,
                "binding.create"
            )
            .is_ok()
        );
        // A global Admin policy, whatever it grants.
        let admin = check(
            &before,
            &bound(before.clone(), "a", "g", None),
            None,
            "binding.create",
        );
        assert!(
            admin
                .unwrap_err()
                .message
                .contains("policy `Admin User` (a global Admin policy) is bound to group `ops`")
        );
    }

    #[test]
    fn an_existing_justified_binding_does_not_cover_a_new_member_or_a_wider_grant() {
        let with = bound(
            directory("ALLOW iam:groups:write;"),
            "p",
            "h",
            Some("for people"),
        );
        // Ann's group gets the service user: a membership, with no justification of its own.
        let mut joined = with.clone();
        joined
            .set_memberships("bot", vec!["g".into(), "h".into()])
            .unwrap();
        let error = check(&with, &joined, None, "user.memberships").unwrap_err();
        assert!(
            error
                .message
                .starts_with("this membership change would give"),
            "{}",
            error.message
        );
        assert!(check(&with, &joined, Some("rota"), "user.memberships").is_ok());
        // Already held: another change leaves it alone.
        assert!(check(&joined, &joined.clone(), None, "group.update").is_ok());
        // The bound policy widened: a new elevation; narrowed: none.
        let mut wider = joined.clone();
        wider
            .upsert_policy(policy(
                "p",
                "P",
                Level::Account,
                "ALLOW iam:groups:write, iam:tokens:write;",
            ))
            .unwrap();
        let error = check(&joined, &wider, None, "policy.update").unwrap_err();
        assert!(
            error
                .message
                .contains("grants `iam:groups:write`, `iam:tokens:write`"),
            "{}",
            error.message
        );
        assert!(check(&wider, &joined, None, "policy.update").is_ok());
    }

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
