//! Compiled snapshots and decisions (SPEC §3).
//!
//! A [`Snapshot`] is an immutable view of one account: the directory plus every group's compiled
//! grants. A decision looks up the principal, then for each of its groups only the grants filed
//! under the requested permission, the ALLOW grants of a permission implying it and the DENY
//! grants of a permission it implies (SPEC §3 step 4), at the account level and, when the
//! request names one, at its environment — so its cost depends on what applies to the principal,
//! not on the size of the account. Changes produce a new snapshot that recompiles only the groups
//! they affect and shares everything else; [`SnapshotCell`] swaps snapshots atomically, so readers
//! never block and never see a half-applied change.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;
use warden_policy::{Catalogue, Effect};

use crate::compile::{CompileIssue, Decides, Grant, GroupGrants, PermissionIndex, compile_group};
use crate::condition::{AttributeSource, Context};
use crate::cowmap::CowMap;
use crate::directory::{Directory, Id, Principal};

/// A question: may this principal do this, here?
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// A uid, an email (any case) or a service-user handle.
    pub principal: &'a str,
    pub permission: &'a str,
    /// `None` for an account-level request.
    pub environment: Option<&'a str>,
    /// Usually an [`Attributes`](crate::Attributes) map.
    pub attributes: &'a dyn AttributeSource,
    /// Seconds since the epoch, UTC: the request's own time, or the time of the decision.
    pub time: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Allow,
    Deny,
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// An ALLOW statement applies and no DENY statement does.
    Allowed,
    /// A DENY statement applies (DENY wins).
    DeniedByStatement,
    /// No ALLOW statement applies (default deny).
    NoMatchingAllow,
    UnknownPrincipal,
    InactivePrincipal,
    UnknownPermission,
    UnknownEnvironment,
    /// A workflow task whose human actor did not consent to the permission (SPEC §9).
    NoConsent,
    /// The request was made with a token whose scopes do not include the permission (a token's
    /// rights are its scopes ∩ its owner's permissions). Never produced by the engine itself.
    OutOfScope,
    /// The request was made with a token that is unknown, revoked, inactive or expired. Never
    /// produced by the engine itself.
    InvalidToken,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub reason: Reason,
}

impl Decision {
    pub const fn deny(reason: Reason) -> Decision {
        Decision {
            outcome: Outcome::Deny,
            reason,
        }
    }

    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub revision: u64,
    directory: Directory,
    catalogue: Arc<Catalogue>,
    permissions: Arc<PermissionIndex>,
    grants: CowMap<Id, Arc<GroupGrants>>,
}

/// What a decision found, for explanations.
#[derive(Debug, Default)]
pub(crate) struct Findings<'s> {
    pub denies: Vec<&'s Grant>,
    pub allows: Vec<&'s Grant>,
    pub misses: Vec<&'s Grant>,
}

pub(crate) enum Resolved<'s> {
    Denied(Reason),
    Principal {
        principal: &'s Arc<Principal>,
        decides: &'s [Decides],
    },
}

impl Snapshot {
    /// Compiles every group of the directory.
    pub fn build(directory: Directory, catalogue: Arc<Catalogue>, revision: u64) -> Snapshot {
        let permissions = Arc::new(PermissionIndex::new(&catalogue));
        let grants = directory
            .groups()
            .map(|group| Arc::clone(&group.id))
            .filter(|id| !directory.bindings_of(id).is_empty())
            .map(|id| {
                let compiled = compile_group(&directory, &catalogue, &permissions, &id);
                (id, Arc::new(compiled))
            })
            .collect();
        Snapshot {
            revision,
            directory,
            catalogue,
            permissions,
            grants,
        }
    }

    /// A new snapshot of a changed directory, recompiling only the `affected` groups.
    pub fn apply(&self, directory: Directory, affected: &[Id], revision: u64) -> Snapshot {
        let mut grants = self.grants.clone();
        for group in affected {
            if directory.group(group).is_none() || directory.bindings_of(group).is_empty() {
                grants.remove(group.as_ref());
            } else {
                let compiled = compile_group(&directory, &self.catalogue, &self.permissions, group);
                grants.insert(Arc::clone(group), Arc::new(compiled));
            }
        }
        Snapshot {
            revision,
            directory,
            catalogue: Arc::clone(&self.catalogue),
            permissions: Arc::clone(&self.permissions),
            grants,
        }
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }

    pub(crate) fn permissions(&self) -> &PermissionIndex {
        &self.permissions
    }

    pub(crate) fn group_grants(&self, group: &str) -> Option<&Arc<GroupGrants>> {
        self.grants.get(group)
    }

    /// Statements that could not be compiled (and were failed closed), for operators to fix.
    pub fn issues(&self) -> Vec<CompileIssue> {
        self.grants
            .values()
            .flat_map(|g| g.issues.iter().cloned())
            .collect()
    }

    /// Decides a request. Allocation-free on the hot path.
    pub fn decide(&self, request: &Request<'_>) -> Decision {
        self.evaluate(request, None)
    }

    /// [`Snapshot::decide`] for a caller that has already looked up `request.principal` with
    /// this snapshot's [`Directory::find_principal`] (and passes what it found, `None` included),
    /// so that a server which needs the principal anyway (self-authorisation, usage counting)
    /// looks it up once per request instead of twice. The same decision as `decide` when `found`
    /// is that lookup's result.
    pub fn decide_found(&self, found: Option<&Arc<Principal>>, request: &Request<'_>) -> Decision {
        self.evaluate_found(found, request, None)
    }

    pub(crate) fn resolve<'s>(&'s self, request: &Request<'_>) -> Resolved<'s> {
        self.resolve_found(self.directory.find_principal(request.principal), request)
    }

    fn resolve_found<'s>(
        &'s self,
        found: Option<&'s Arc<Principal>>,
        request: &Request<'_>,
    ) -> Resolved<'s> {
        let Some(principal) = found else {
            return Resolved::Denied(Reason::UnknownPrincipal);
        };
        if !principal.active {
            return Resolved::Denied(Reason::InactivePrincipal);
        }
        let Some(permission) = self.permissions.id(request.permission) else {
            return Resolved::Denied(Reason::UnknownPermission);
        };
        if let Some(environment) = request.environment
            && !self.directory.has_environment(environment)
        {
            return Resolved::Denied(Reason::UnknownEnvironment);
        }
        Resolved::Principal {
            principal,
            decides: self.permissions.decides(permission),
        }
    }

    /// Decides; with `findings`, also collects every applying and non-applying statement.
    pub(crate) fn evaluate<'s>(
        &'s self,
        request: &Request<'_>,
        findings: Option<&mut Findings<'s>>,
    ) -> Decision {
        self.evaluate_found(
            self.directory.find_principal(request.principal),
            request,
            findings,
        )
    }

    fn evaluate_found<'s>(
        &'s self,
        found: Option<&'s Arc<Principal>>,
        request: &Request<'_>,
        mut findings: Option<&mut Findings<'s>>,
    ) -> Decision {
        let (principal, decides) = match self.resolve_found(found, request) {
            Resolved::Denied(reason) => return Decision::deny(reason),
            Resolved::Principal { principal, decides } => (principal, decides),
        };
        let ctx = Context {
            attributes: request.attributes,
            environment: request.environment,
            time: request.time,
            user_id: &principal.uid,
            user_email: &principal.email,
            user_groups: &principal.groups,
        };
        let mut allowed = false;
        let mut denied = false;
        for group in principal.groups.iter() {
            let Some(grants) = self.grants.get(group.as_ref()) else {
                continue;
            };
            for level in grants.at(request.environment) {
                for decider in decides {
                    for grant in GroupGrants::for_permission(level, decider.permission) {
                        let statement = &grant.statement;
                        if !decider.counts(statement.effect) {
                            continue;
                        }
                        let deny = statement.effect == Effect::Deny;
                        // Without findings to collect, an ALLOW already found needs no second one.
                        if !deny && allowed && findings.is_none() {
                            continue;
                        }
                        let applies = statement
                            .clauses
                            .iter()
                            .all(|clause| clause.evaluate(&ctx, deny));
                        match (&mut findings, deny, applies) {
                            (None, true, true) => {
                                return Decision {
                                    outcome: Outcome::Deny,
                                    reason: Reason::DeniedByStatement,
                                };
                            }
                            (Some(f), true, true) => f.denies.push(grant),
                            (Some(f), false, true) => f.allows.push(grant),
                            (Some(f), false, false) => f.misses.push(grant),
                            _ => {}
                        }
                        denied |= deny && applies;
                        allowed |= !deny && applies;
                    }
                }
            }
        }
        if denied {
            Decision::deny(Reason::DeniedByStatement)
        } else if allowed {
            Decision {
                outcome: Outcome::Allow,
                reason: Reason::Allowed,
            }
        } else {
            Decision::deny(Reason::NoMatchingAllow)
        }
    }
}

/// The current snapshot of an account, swapped atomically on every change.
#[derive(Debug)]
pub struct SnapshotCell {
    current: ArcSwap<Snapshot>,
}

impl SnapshotCell {
    pub fn new(snapshot: Snapshot) -> Self {
        SnapshotCell {
            current: ArcSwap::from_pointee(snapshot),
        }
    }

    /// The current snapshot; holding it keeps it alive while newer ones are published.
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn store(&self, snapshot: Snapshot) {
        self.current.store(Arc::new(snapshot));
    }
}
