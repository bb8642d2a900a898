//! The no-escalation rule (SPEC §6): a principal cannot make a binding (or a membership, a policy
//! or boundary change, a token) that grants a permission it does not hold itself at that level.
//!
//! "Holds" is decided conservatively, so that an ambiguous case refuses: the grantor holds an
//! ALLOW of permission `p` under conditions `C` when one of its own ALLOW statements for `p` (or a
//! permission implying `p`) at that level has a subset of `C`'s conditions, and no DENY statement
//! of its own for `p` (or a permission implying it) exists at that level at all.

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
    /// (a wanted permission and the ones implying it), without rendering every other statement
    /// the principal holds — for an administrator, that is the whole catalogue.
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
            let granting: Vec<&str> = std::iter::once(w.permission.as_str())
                .chain(
                    catalogue
                        .implied_by(&w.permission)
                        .iter()
                        .map(String::as_str),
                )
                .collect();
            let relevant = |g: &&Granted| granting.contains(&g.permission.as_str());
            let denied = held
                .iter()
                .filter(relevant)
                .any(|g| g.effect == Effect::Deny);
            let allowed = held
                .iter()
                .filter(relevant)
                .any(|g| g.effect == Effect::Allow && g.clauses.is_subset(&w.clauses));
            (denied || !allowed).then_some(w.permission.as_str())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let deny_only = vec![granted("hub:catalog:read", Effect::Deny, &[])];
        assert_eq!(
            first_not_held(&held, &deny_only, &catalogue),
            None,
            "granting a DENY grants nothing"
        );
    }
}
