//! Compiling a group's bindings into indexed grants: each bound policy instantiated with the
//! binding's parameters, its ALLOW statements narrowed by the binding's boundaries (SPEC §4), and
//! every statement filed under each permission it names, at the binding's level.
//!
//! Anything that cannot be compiled fails closed and is reported as a [`CompileIssue`]: an ALLOW
//! statement is dropped, a DENY statement applies without its conditions. Validation at save and
//! bind time keeps this from happening; the rule is here so that it can never widen access.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use warden_policy::{Catalogue, Effect};

use crate::condition::{Clause, CompiledCondition};
use crate::directory::{Binding, BoundaryRecord, Directory, Id, Level, PolicyRecord};

/// Dense ids of the catalogue's permissions, and for each the permissions whose statements decide
/// it (SPEC §3 step 4): ALLOW statements of itself or of a permission implying it, DENY statements
/// of itself or of a permission it implies.
#[derive(Debug, Clone, Default)]
pub struct PermissionIndex {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    granting: Vec<Box<[u32]>>,
    decides: Vec<Box<[Decides]>>,
}

/// One permission whose statements decide another, and which of its statements do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decides {
    pub permission: u32,
    /// Its ALLOW statements count (it is the permission, or implies it).
    pub allow: bool,
    /// Its DENY statements count (it is the permission, or is implied by it).
    pub deny: bool,
}

impl Decides {
    /// Whether a statement of this effect, filed under [`Decides::permission`], counts.
    pub fn counts(&self, effect: Effect) -> bool {
        match effect {
            Effect::Allow => self.allow,
            Effect::Deny => self.deny,
        }
    }
}

impl PermissionIndex {
    pub fn new(catalogue: &Catalogue) -> Self {
        let names: Vec<Box<str>> = catalogue
            .permissions()
            .map(|p| p.name.as_str().into())
            .collect();
        let ids: FxHashMap<Box<str>, u32> = names
            .iter()
            .enumerate()
            .filter_map(|(i, n)| Some((n.clone(), u32::try_from(i).ok()?)))
            .collect();
        let granting: Vec<Box<[u32]>> = names
            .iter()
            .map(|name| {
                let mut set: Vec<u32> = std::iter::once(&**name)
                    .chain(catalogue.implied_by(name).iter().map(String::as_str))
                    .filter_map(|n| ids.get(n).copied())
                    .collect();
                set.sort_unstable();
                set.into()
            })
            .collect();
        let decides = names
            .iter()
            .zip(granting.iter())
            .map(|(name, granting)| {
                let denying: Vec<u32> = catalogue
                    .permission(name)
                    .map(|p| p.implies.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|n| ids.get(n.as_str()).copied())
                    .collect();
                let mut all: Vec<u32> = granting.iter().chain(&denying).copied().collect();
                all.sort_unstable();
                all.dedup();
                let own = ids.get(name).copied();
                all.into_iter()
                    .map(|permission| Decides {
                        permission,
                        allow: granting.contains(&permission),
                        deny: own == Some(permission) || denying.contains(&permission),
                    })
                    .collect()
            })
            .collect();
        PermissionIndex {
            ids,
            names,
            granting,
            decides,
        }
    }

    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |n| n)
    }

    /// The permissions whose ALLOW statements grant `id`: itself and those implying it.
    pub fn granting(&self, id: u32) -> &[u32] {
        self.granting.get(id as usize).map_or(&[], |g| g)
    }

    /// The permissions whose statements decide a request for `id`, each with the effects that
    /// count (SPEC §3 step 4), sorted by permission.
    pub fn decides(&self, id: u32) -> &[Decides] {
        self.decides.get(id as usize).map_or(&[], |d| d)
    }
}

/// Where a compiled statement came from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub policy: Arc<PolicyRecord>,
    /// Index of the statement in the policy.
    pub statement: u16,
    /// The boundary that narrowed it, for an ALLOW statement of a binding with boundaries.
    pub boundary: Option<Arc<BoundaryRecord>>,
}

#[derive(Debug, Clone)]
pub struct CompiledStatement {
    pub effect: Effect,
    /// ANDed.
    pub clauses: Box<[Clause]>,
    pub origin: Origin,
}

/// One statement filed under one permission, with the binding that brought it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub permission: u32,
    pub statement: Arc<CompiledStatement>,
    pub binding: Arc<Binding>,
}

/// A group's grants, sorted by permission, at account level and per environment.
#[derive(Debug, Clone, Default)]
pub struct GroupGrants {
    pub account: Box<[Grant]>,
    pub environments: FxHashMap<Id, Box<[Grant]>>,
    pub issues: Box<[CompileIssue]>,
}

impl GroupGrants {
    /// The grants for one permission among sorted grants.
    pub fn for_permission(grants: &[Grant], permission: u32) -> &[Grant] {
        let start = grants.partition_point(|g| g.permission < permission);
        let end = grants.partition_point(|g| g.permission <= permission);
        grants.get(start..end).unwrap_or(&[])
    }

    /// The grants that apply at a level: account grants, plus the environment's when one is named.
    pub fn at<'a>(&'a self, environment: Option<&str>) -> impl Iterator<Item = &'a [Grant]> {
        std::iter::once(&*self.account).chain(
            environment
                .and_then(|env| self.environments.get(env))
                .map(|g| &**g),
        )
    }
}

/// A statement that could not be compiled, and what was done instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileIssue {
    pub group: Id,
    pub policy: Id,
    pub message: String,
}

/// Compiles one group's bindings.
pub fn compile_group(
    directory: &Directory,
    catalogue: &Catalogue,
    permissions: &PermissionIndex,
    group: &Id,
) -> GroupGrants {
    let mut account: Vec<Grant> = Vec::new();
    let mut environments: FxHashMap<Id, Vec<Grant>> = FxHashMap::default();
    let mut issues = Vec::new();
    for binding in directory.bindings_of(group) {
        let mut issue = |message: String| {
            issues.push(CompileIssue {
                group: Arc::clone(group),
                policy: Arc::clone(&binding.policy),
                message,
            });
        };
        let Some(policy) = directory.policy(&binding.policy) else {
            issue("the bound policy does not exist; the binding grants nothing".to_owned());
            continue;
        };
        let mut boundaries = Vec::new();
        let mut boundaries_missing = false;
        for id in &binding.boundaries {
            match directory.boundary(id) {
                Some(boundary) => boundaries.push(Arc::clone(boundary)),
                None => boundaries_missing = true,
            }
        }
        if boundaries_missing {
            issue(
                "a boundary of the binding does not exist; its ALLOW statements grant nothing"
                    .to_owned(),
            );
        }
        let target = match &binding.level {
            Level::Environment(env) => environments.entry(Arc::clone(env)).or_default(),
            _ => &mut account,
        };
        instantiate(
            policy,
            binding,
            &boundaries,
            boundaries_missing,
            catalogue,
            permissions,
            target,
            &mut issue,
        );
    }
    let sort = |mut grants: Vec<Grant>| -> Box<[Grant]> {
        grants.sort_by_key(|g| g.permission);
        grants.into()
    };
    GroupGrants {
        account: sort(account),
        environments: environments
            .into_iter()
            .map(|(env, grants)| (env, sort(grants)))
            .collect(),
        issues: issues.into(),
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the arguments are the binding's parts"
)]
fn instantiate(
    policy: &Arc<PolicyRecord>,
    binding: &Arc<Binding>,
    boundaries: &[Arc<BoundaryRecord>],
    boundaries_missing: bool,
    catalogue: &Catalogue,
    permissions: &PermissionIndex,
    out: &mut Vec<Grant>,
    issue: &mut dyn FnMut(String),
) {
    let boundary_conditions: Vec<(Arc<BoundaryRecord>, Vec<CompiledCondition>)> = boundaries
        .iter()
        .map(|boundary| {
            let conditions = boundary
                .ast
                .conditions
                .iter()
                .filter_map(|c| {
                    match CompiledCondition::compile(
                        &c.name.node,
                        c.operator.node,
                        &c.value,
                        &BTreeMap::new(),
                    ) {
                        Ok(compiled) => Some(compiled),
                        Err(message) => {
                            issue(format!(
                                "boundary `{}`: {message}; the condition is left out",
                                boundary.name
                            ));
                            None
                        }
                    }
                })
                .collect();
            (Arc::clone(boundary), conditions)
        })
        .collect();

    for (index, statement) in policy.ast.statements.iter().enumerate() {
        let effect = statement.effect.node;
        let deny = effect == Effect::Deny;
        if !deny && boundaries_missing {
            continue;
        }
        let compiled: Result<Vec<Clause>, String> = statement
            .conditions
            .iter()
            .map(|c| {
                CompiledCondition::compile(
                    &c.name.node,
                    c.operator.node,
                    &c.value,
                    &binding.parameters,
                )
                .map(Clause::One)
            })
            .collect();
        let clauses = match compiled {
            Ok(clauses) => clauses,
            Err(message) if deny => {
                issue(format!(
                    "statement {}: {message}; the DENY applies without conditions",
                    index + 1
                ));
                Vec::new()
            }
            Err(message) => {
                issue(format!(
                    "statement {}: {message}; the ALLOW is left out",
                    index + 1
                ));
                continue;
            }
        };
        let origin = |boundary: Option<Arc<BoundaryRecord>>| Origin {
            policy: Arc::clone(policy),
            statement: u16::try_from(index).unwrap_or(u16::MAX),
            boundary,
        };
        let ids = statement
            .permissions
            .iter()
            .filter_map(|p| Some((permissions.id(&p.node)?, p.node.as_str())));
        if deny || boundary_conditions.is_empty() {
            let shared = Arc::new(CompiledStatement {
                effect,
                clauses: clauses.into(),
                origin: origin(None),
            });
            for (id, _) in ids {
                out.push(Grant {
                    permission: id,
                    statement: Arc::clone(&shared),
                    binding: Arc::clone(binding),
                });
            }
            continue;
        }
        // SPEC §4: split per permission; each boundary separately (the results are unioned).
        for (id, name) in ids {
            let supported = |condition: &CompiledCondition| {
                condition.name.starts_with("global:")
                    || catalogue
                        .permission(name)
                        .is_some_and(|p| p.condition(&condition.name).is_some())
            };
            for (boundary, conditions) in &boundary_conditions {
                let mut narrowed = clauses.clone();
                narrowed.extend(group_by_name(
                    conditions.iter().filter(|c| supported(c)).cloned(),
                ));
                let statement = CompiledStatement {
                    effect,
                    clauses: narrowed.into(),
                    origin: origin(Some(Arc::clone(boundary))),
                };
                out.push(Grant {
                    permission: id,
                    statement: Arc::new(statement),
                    binding: Arc::clone(binding),
                });
            }
        }
    }
}

/// Conditions of the same name are ORed with each other; different names are ANDed.
fn group_by_name(conditions: impl Iterator<Item = CompiledCondition>) -> Vec<Clause> {
    let mut groups: Vec<Vec<CompiledCondition>> = Vec::new();
    for condition in conditions {
        match groups
            .iter_mut()
            .find(|g| g.first().is_some_and(|c| c.name == condition.name))
        {
            Some(group) => group.push(condition),
            None => groups.push(vec![condition]),
        }
    }
    groups
        .into_iter()
        .map(|mut group| {
            if group.len() == 1 {
                Clause::One(group.remove(0))
            } else {
                Clause::AnyOf(group.into())
            }
        })
        .collect()
}

/// The permissions of a binding's policy that one of its boundaries leaves unrestricted because
/// none of the boundary's conditions applies to them (SPEC §4 rule 4): `(boundary name, permission)`.
pub fn unrestricted_by_boundaries(
    policy: &PolicyRecord,
    boundaries: &[Arc<BoundaryRecord>],
    catalogue: &Catalogue,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for statement in policy
        .ast
        .statements
        .iter()
        .filter(|s| s.effect.node == Effect::Allow)
    {
        for permission in &statement.permissions {
            for boundary in boundaries {
                let applies = boundary.ast.conditions.iter().any(|c| {
                    c.name.node.starts_with("global:")
                        || catalogue
                            .permission(&permission.node)
                            .is_some_and(|p| p.condition(&c.name.node).is_some())
                });
                let entry = (boundary.name.clone(), permission.node.clone());
                if !applies && !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
    }
    out
}
