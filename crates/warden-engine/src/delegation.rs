//! The no-escalation rule (SPEC §6): a principal cannot make a binding (or a membership, a policy
//! or boundary change, a token) that grants a permission it does not hold itself at that level.
//!
//! "Holds" is decided conservatively, so that an ambiguous case refuses: the grantor holds an
//! ALLOW of permission `p` under conditions `C` when one of its own ALLOW statements for `p` (or a
//! permission implying `p`) at that level has a subset of `C`'s conditions, and no DENY statement
//! of its own for `p` (or a permission `p` implies) exists at that level at all. Implication
//! counts as in a decision (SPEC §3 step 4): a DENY of the viewer role takes every role away, a
//! DENY of one role leaves the viewer role held.

use std::collections::BTreeSet;
use std::sync::Arc;

use warden_policy::{Catalogue, Effect};

use crate::compile::{GroupGrants, PermissionIndex, compile_group};
use crate::condition::Clause;
use crate::directory::{Binding, Directory, DirectoryError, Group, Level, PolicyRecord};
use crate::snapshot::Snapshot;

/// One statement as granted to someone: permission, effect, and its conditions as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Granted {
    pub permission: String,
    pub effect: Effect,
    pub clauses: BTreeSet<String>,
}

/// The statements one binding would grant, as compiled (parameters substituted, boundaries
/// applied), given the policy and boundary versions in `directory` (which may be a draft).
pub fn binding_grants(
    directory: &Directory,
    catalogue: &Catalogue,
    binding: &Binding,
) -> Result<Vec<Granted>, DirectoryError> {
    let policy = directory
        .policy(&binding.policy)
        .ok_or_else(|| DirectoryError::NotFound {
            kind: "policy",
            id: binding.policy.to_string(),
        })?;
    let mut scratch = Directory::new(Arc::clone(&directory.account));
    if let Level::Environment(env) = &binding.level {
        scratch.add_environment(Arc::clone(env));
    }
    scratch.upsert_policy(PolicyRecord::clone(policy))?;
    for id in &binding.boundaries {
        let boundary = directory
            .boundary(id)
            .ok_or_else(|| DirectoryError::NotFound {
                kind: "boundary",
                id: id.to_string(),
            })?;
        scratch.upsert_boundary(boundary.as_ref().clone())?;
    }
    scratch.upsert_group(Group::new(&binding.group, "grant"))?;
    scratch.add_binding(binding.clone())?;
    let permissions = PermissionIndex::new(catalogue);
    let grants = compile_group(&scratch, catalogue, &permissions, &binding.group);
    let all = grants
        .account
        .iter()
        .chain(grants.environments.values().flat_map(|g| g.iter()));
    Ok(all
        .map(|grant| Granted {
            permission: permissions.name(grant.permission).to_owned(),
            effect: grant.statement.effect,
            clauses: grant.statement.clauses.iter().map(Clause::render).collect(),
        })
        .collect())
}

impl Snapshot {
    /// Every statement bound to the principal that applies at a level (account grants, plus the
    /// environment's when one is named).
    pub fn held(&self, principal: &str, environment: Option<&str>) -> Vec<Granted> {
        let Some(principal) = self.directory().find_principal(principal) else {
            return Vec::new();
        };
        if !principal.active {
            return Vec::new();
        }
        let mut out = Vec::new();
        for group in principal.groups.iter() {
            let Some(grants) = self.group_grants(group) else {
                continue;
            };
            for level in grants.at(environment) {
                for grant in level {
                    out.push(Granted {
                        permission: self.permissions().name(grant.permission).to_owned(),
                        effect: grant.statement.effect,
                        clauses: grant.statement.clauses.iter().map(Clause::render).collect(),
                    });
                }
            }
        }
        out
    }

    /// [`Snapshot::held`] restricted to the statements filed under `permissions` (by name), in
    /// the same order: all that [`first_not_held`] looks at when it checks for those permissions
    /// (for each wanted permission, [`deciding_permissions`]), without rendering every other
    /// statement the principal holds — for an administrator, that is the whole catalogue.
    pub fn held_of(
        &self,
        principal: &str,
        environment: Option<&str>,
        permissions: &[&str],
    ) -> Vec<Granted> {
        let Some(principal) = self.directory().find_principal(principal) else {
            return Vec::new();
        };
        if !principal.active {
            return Vec::new();
        }
        // Grants are sorted by permission id: visiting the ids in order keeps `held`'s order.
        let mut ids: Vec<u32> = permissions
            .iter()
            .filter_map(|name| self.permissions().id(name))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out = Vec::new();
        for group in principal.groups.iter() {
            let Some(grants) = self.group_grants(group) else {
                continue;
            };
            for level in grants.at(environment) {
                for &id in &ids {
                    for grant in GroupGrants::for_permission(level, id) {
                        out.push(Granted {
                            permission: self.permissions().name(grant.permission).to_owned(),
                            effect: grant.statement.effect,
                            clauses: grant.statement.clauses.iter().map(Clause::render).collect(),
                        });
                    }
                }
            }
        }
        out
    }
}

/// The permissions whose statements decide whether `permission` is held (SPEC §3 step 4): itself,
/// those implying it (their ALLOW statements grant it) and those it implies (their DENY
/// statements deny it). The names to give [`Snapshot::held_of`] before [`first_not_held`].
pub fn deciding_permissions<'c>(catalogue: &'c Catalogue, permission: &'c str) -> Vec<&'c str> {
    let implied = catalogue
        .permission(permission)
        .map(|p| p.implies.as_slice())
        .unwrap_or_default();
    let mut names: Vec<&str> = std::iter::once(permission)
        .chain(catalogue.implied_by(permission).iter().map(String::as_str))
        .chain(implied.iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The first ALLOW of `wanted` that `held` does not cover, by permission name.
pub fn first_not_held<'a>(
    held: &[Granted],
    wanted: &'a [Granted],
    catalogue: &Catalogue,
) -> Option<&'a str> {
    wanted
        .iter()
        .filter(|w| w.effect == Effect::Allow)
        .find_map(|w| {
            let wanted_permission = w.permission.as_str();
            // An ALLOW of the permission or of one implying it grants it; a DENY of the
            // permission or of one it implies denies it.
            let granting = |name: &str| {
                name == wanted_permission
                    || catalogue
                        .implied_by(wanted_permission)
                        .iter()
                        .any(|implying| implying == name)
            };
            let denying = |name: &str| {
                name == wanted_permission
                    || catalogue
                        .permission(wanted_permission)
                        .is_some_and(|p| p.implies.iter().any(|implied| implied == name))
            };
            let denied = held
                .iter()
                .any(|g| g.effect == Effect::Deny && denying(&g.permission));
            let allowed = held.iter().any(|g| {
                g.effect == Effect::Allow
                    && granting(&g.permission)
                    && g.clauses.is_subset(&w.clauses)
            });
            (denied || !allowed).then_some(wanted_permission)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permissions_that_decide_holding_follow_implication_both_ways() {
        let catalogue = crate::Builtin::load(&[]).unwrap().catalogue;
        assert_eq!(
            deciding_permissions(&catalogue, "environment:roles:manage-settings"),
            [
                "environment:roles:manage-settings",
                "environment:roles:viewer"
            ]
        );
        let viewer = deciding_permissions(&catalogue, "environment:roles:viewer");
        assert_eq!(viewer.len(), 10, "{viewer:?}");
        assert_eq!(
            deciding_permissions(&catalogue, "iam:effective-permissions:read"),
            ["iam:effective-permissions:read"]
        );
    }

    fn granted(permission: &str, effect: Effect, clauses: &[&str]) -> Granted {
        Granted {
            permission: permission.to_owned(),
            effect,
            clauses: clauses.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn holding_needs_an_allow_with_fewer_conditions_and_no_deny() {
        let catalogue = crate::Builtin::load(&[]).unwrap().catalogue;
        let held = vec![
            granted("storage:logs:read", Effect::Allow, &["a = \"1\""]),
            granted("settings:objects:read", Effect::Allow, &[]),
            granted("settings:objects:write", Effect::Allow, &[]),
            granted("settings:objects:write", Effect::Deny, &["x = \"y\""]),
            granted("environment:roles:manage-settings", Effect::Allow, &[]),
        ];
        let wanted = |p: &str, c: &[&str]| vec![granted(p, Effect::Allow, c)];
        assert_eq!(
            first_not_held(
                &held,
                &wanted("storage:logs:read", &["a = \"1\"", "b = \"2\""]),
                &catalogue
            ),
            None
        );
        assert_eq!(
            first_not_held(&held, &wanted("storage:logs:read", &[]), &catalogue),
            Some("storage:logs:read")
        );
        assert_eq!(
            first_not_held(
                &held,
                &wanted("settings:objects:read", &["z = \"1\""]),
                &catalogue
            ),
            None
        );
        assert_eq!(
            first_not_held(&held, &wanted("settings:objects:write", &[]), &catalogue),
            Some("settings:objects:write")
        );
        assert_eq!(
            first_not_held(&held, &wanted("environment:roles:viewer", &[]), &catalogue),
            None,
            "implied"
        );
        // A DENY of one role leaves the viewer role held; a DENY of the viewer role takes every
        // role away.
        let mut denied_role = held.clone();
        denied_role.push(granted(
            "environment:roles:manage-settings",
            Effect::Deny,
            &["z = \"1\""],
        ));
        assert_eq!(
            first_not_held(
                &denied_role,
                &wanted("environment:roles:viewer", &[]),
                &catalogue
            ),
            None
        );
        assert_eq!(
            first_not_held(
                &denied_role,
                &wanted("environment:roles:manage-settings", &[]),
                &catalogue
            ),
            Some("environment:roles:manage-settings")
        );
        let mut denied_viewer = held.clone();
        denied_viewer.push(granted(
            "environment:roles:viewer",
            Effect::Deny,
            &["z = \"1\""],
        ));
        assert_eq!(
            first_not_held(
                &denied_viewer,
                &wanted("environment:roles:manage-settings", &[]),
                &catalogue
            ),
            Some("environment:roles:manage-settings"),
            "a DENY of the viewer role denies every role"
        );
        let deny_only = vec![granted("hub:catalog:read", Effect::Deny, &[])];
        assert_eq!(
            first_not_held(&held, &deny_only, &catalogue),
            None,
            "granting a DENY grants nothing"
        );
    }
}
