//! The no-escalation rule (SPEC §6): a write may not give anyone access that its author does not
//! hold at that level — where adding an ALLOW and taking away a DENY or a restriction are both
//! grants — and acting as someone else needs everything that person holds.
//!
//! The rule is checked on the effect of a write, not on its kind: given the snapshot before and
//! the snapshot after, every principal whose answers may differ (members of the recompiled groups,
//! principals added, changed or reactivated) is compared, at account level and in every
//! environment, for every permission the changed statements can decide. For one (principal,
//! permission, level), the requests that gain access are
//!
//! ```text
//! gain = after ∧ ¬before,   after = (∨ ALLOWs) ∧ ¬(∨ DENYs)   (instantiated for the principal)
//! ```
//!
//! which is covered by these regions: each new ALLOW statement outside the ALLOWs that applied
//! before and the DENYs that remain, and each ALLOW statement within a DENY that went away,
//! outside the DENYs that remain. The
//! write is accepted only when every region lies inside what the author holds there
//! (`(∨ author's ALLOWs) ∧ ¬(∨ author's DENYs)`, limited to the author's token scopes), for every
//! assignment of the attributes the request may carry and at any time. Each inclusion is proved
//! with [`prove_unsatisfiable`]; a question the prover cannot settle within its budget refuses,
//! so the rule errs on the side of refusing, never of granting.
//!
//! Principals and groups are taken from the snapshots as they are; this module does not own how
//! the after-snapshot is drafted, nor who may make a write in the first place.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rustc_hash::FxHashSet;

use warden_policy::Effect;

use crate::compile::GroupGrants;
use crate::condition::solve::{Budget, Proof, prove_unsatisfiable};
use crate::condition::symbolic::{self, Formula, Subject};
use crate::directory::{Id, Level, Principal};
use crate::snapshot::Snapshot;

/// Who makes a write, and what their token lets them use.
#[derive(Debug, Clone, Copy)]
pub struct Author<'a> {
    /// The author's uid (or email or handle).
    pub principal: &'a str,
    /// The permissions the author's token may use; `None` when the author acts without such a
    /// limit (a console session, an unrestricted token).
    pub scopes: Option<&'a [String]>,
}

/// Why a write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The author does not hold the permission wherever the principal would gain it.
    NotHeld,
    /// The change is too large or too intricate to verify within the budget.
    TooComplex,
}

/// A write that would give `principal` the `permission` at `level` beyond what the author holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    pub permission: String,
    pub level: Level,
    /// The uid and email of the principal who would gain; for a group's future members, the
    /// group's id and name.
    pub principal: Id,
    pub email: Id,
    /// Set when the gain is for whoever is or becomes a member of this group (by id).
    pub member_of: Option<Id>,
    pub refusal: Refusal,
}

/// Work one proof may do, and all proofs of one write together.
const PROOF_BUDGET: u32 = 4_000;
const WRITE_BUDGET: u64 = 4_000_000;

/// One write, as the rule sees it: the snapshots before and after, and what changed.
#[derive(Debug)]
pub struct WriteCheck<'s> {
    before: &'s Snapshot,
    after: &'s Snapshot,
    recompiled: FxHashSet<Id>,
    /// Principals added, removed or changed.
    changed: Vec<Id>,
    /// The permissions whose decisions the write can change for someone.
    touched: BTreeSet<String>,
    victims: std::sync::OnceLock<Vec<Victim>>,
}

impl<'s> WriteCheck<'s> {
    /// `after` is `before` with the write applied; `recompiled` the groups whose grants it
    /// recompiled (a catalogue change recompiles every group).
    pub fn new(before: &'s Snapshot, after: &'s Snapshot, recompiled: &[Id]) -> Self {
        let recompiled: FxHashSet<Id> = recompiled.iter().cloned().collect();
        let changed = after.directory().changed_principals(before.directory());
        let mut groups: BTreeSet<&Id> = recompiled.iter().collect();
        for uid in &changed {
            for snapshot in [before, after] {
                if let Some(principal) = snapshot.directory().principal(uid) {
                    groups.extend(principal.groups.iter());
                }
            }
        }
        let mut named_here = named(before, groups.iter().copied());
        named_here.extend(named(after, groups.iter().copied()));
        let touched = expand(after, &named_here);
        WriteCheck {
            before,
            after,
            recompiled,
            changed,
            touched,
            victims: std::sync::OnceLock::new(),
        }
    }

    fn victims(&self) -> &[Victim] {
        self.victims
            .get_or_init(|| affected(self.before, self.after, &self.recompiled, &self.changed))
    }

    /// `Ok` when nobody gains access that `author` does not hold.
    pub fn escalation(&self, author: &Author<'_>) -> Result<(), Escalation> {
        let (before, after) = (self.before, self.after);
        let mut checker = Checker::new(before, author);
        let levels = levels(after);
        // An author who holds every permission the change touches, everywhere and without any
        // condition, cannot be out-granted: skip the per-principal work.
        if levels.iter().all(|level| {
            self.touched
                .iter()
                .all(|permission| checker.holds_everything(permission, level.as_deref()))
        }) {
            return Ok(());
        }
        let mut cache: HashMap<Vec<Id>, Result<(), Found>> = HashMap::new();
        let stand_ins = stand_ins(before, after, &self.recompiled);
        for victim in self.victims().iter().chain(&stand_ins) {
            let Some(gainer) = victim.after.as_ref().filter(|p| p.active) else {
                continue;
            };
            let unchanged = victim
                .before
                .as_ref()
                .is_some_and(|b| Arc::ptr_eq(b, gainer) || **b == **gainer);
            let mut key: Vec<Id> = gainer.groups.to_vec();
            key.sort();
            if unchanged && let Some(result) = cache.get(&key) {
                result.clone().map_err(|e| escalation(gainer, e))?;
                continue;
            }
            let mut names = named(after, victim.groups(gainer, &self.recompiled));
            if let Some(earlier) = &victim.before {
                names.extend(named(before, victim.groups(earlier, &self.recompiled)));
            }
            let permissions = expand(after, &names);
            let mut personal = false;
            let mut result = Ok(());
            'levels: for level in &levels {
                let existed = level
                    .as_deref()
                    .is_none_or(|e| before.directory().has_environment(e));
                for permission in &permissions {
                    let was = match victim.before.as_ref().filter(|p| p.active) {
                        Some(p) if existed => {
                            statements(before, p, permission, level.as_deref(), &mut personal)
                        }
                        _ => Statements::default(),
                    };
                    let now =
                        statements(after, gainer, permission, level.as_deref(), &mut personal);
                    if let Err(refusal) =
                        checker.gain_is_held(&was, &now, permission, level.as_deref())
                    {
                        result = Err((permission.clone(), level.clone(), refusal));
                        break 'levels;
                    }
                }
            }
            if unchanged && !personal {
                cache.insert(key, result.clone());
            }
            result.map_err(|e| escalation(gainer, e))?;
        }
        Ok(())
    }

    /// Whether the write takes the account's last administrator away: someone it affects was an
    /// administrator before and is not after, and nobody is after.
    pub fn removes_last_administrator(&self) -> bool {
        let (before, after) = (self.before, self.after);
        let demoted = |victim: &Victim| {
            victim
                .before
                .as_ref()
                .is_some_and(|p| is_administrator(before, p))
                && !victim
                    .after
                    .as_ref()
                    .is_some_and(|p| is_administrator(after, p))
        };
        // Only principals that changed, or members of recompiled groups when an `iam:*`
        // permission is among what the write touches, can stop being administrators.
        let iam_touched = self.touched.iter().any(|p| p.starts_with("iam:"));
        let any_demoted = if iam_touched {
            self.victims().iter().any(demoted)
        } else {
            self.changed.iter().any(|uid| {
                demoted(&Victim {
                    before: before.directory().principal(uid).cloned(),
                    after: after.directory().principal(uid).cloned(),
                })
            })
        };
        any_demoted
            && !after
                .directory()
                .principals()
                .any(|p| is_administrator(after, p))
    }
}

/// Checks a write for `author` (see [`WriteCheck`]).
pub fn check_write(
    before: &Snapshot,
    after: &Snapshot,
    recompiled: &[Id],
    author: &Author<'_>,
) -> Result<(), Escalation> {
    WriteCheck::new(before, after, recompiled).escalation(author)
}

/// Checks acting as `target` (setting their password, issuing them a credential): the author
/// must hold everything the target holds — limited to `permissions` when given (a credential's
/// scopes) — at every level.
pub fn check_acting_as(
    snapshot: &Snapshot,
    target: &str,
    permissions: Option<&[String]>,
    author: &Author<'_>,
) -> Result<(), Escalation> {
    let Some(target) = snapshot
        .directory()
        .find_principal(target)
        .filter(|p| p.active)
    else {
        return Ok(());
    };
    let mut checker = Checker::new(snapshot, author);
    let mut names = expand(snapshot, &named(snapshot, target.groups.iter()));
    if let Some(only) = permissions {
        names.retain(|name| only.contains(name));
    }
    let mut personal = false;
    for level in levels(snapshot) {
        for permission in &names {
            let now = statements(
                snapshot,
                target,
                permission,
                level.as_deref(),
                &mut personal,
            );
            checker
                .gain_is_held(&Statements::default(), &now, permission, level.as_deref())
                .map_err(|refusal| {
                    escalation(target, (permission.clone(), level.clone(), refusal))
                })?;
        }
    }
    Ok(())
}

/// Whether the author may use `permission` at the level (`None`: account) for every request:
/// an unconditional ALLOW of it (or of a permission implying it), no DENY that could apply, and
/// the permission within the author's scopes.
pub fn holds_unconditionally(
    snapshot: &Snapshot,
    author: &Author<'_>,
    permission: &str,
    environment: Option<&str>,
) -> bool {
    Checker::new(snapshot, author).holds_everything(permission, environment)
}

/// Whether `principal` holds every `iam:*` permission at account level, for every request: an
/// administrator of the account (SPEC §6).
pub fn is_administrator(snapshot: &Snapshot, principal: &Principal) -> bool {
    if !principal.active {
        return false;
    }
    let author = Author {
        principal: &principal.uid,
        scopes: None,
    };
    let mut checker = Checker::new(snapshot, &author);
    snapshot
        .catalogue()
        .permissions()
        .filter(|p| p.service == "iam")
        .all(|p| checker.holds_everything(&p.name, None))
}

/// A refusal before it is put on a principal: the permission, the level (`None`: account).
type Found = (String, Option<Id>, Refusal);

fn escalation(principal: &Principal, (permission, level, refusal): Found) -> Escalation {
    let member_of = principal.uid.strip_prefix(MEMBER_OF).map(Id::from);
    Escalation {
        permission,
        level: level.map_or(Level::Account, Level::Environment),
        principal: member_of
            .clone()
            .unwrap_or_else(|| Arc::clone(&principal.uid)),
        email: Arc::clone(&principal.email),
        member_of,
        refusal,
    }
}

/// The uid prefix of the stand-in for a group's future members (no real uid has it).
const MEMBER_OF: &str = "member-of:";

/// For each recompiled group, a stand-in for whoever is or becomes a member of it and of no
/// other group: what a binding grants is checked whether or not the group has members today,
/// since members can be added later (and, from a directory, without an author to check).
fn stand_ins(before: &Snapshot, after: &Snapshot, recompiled: &FxHashSet<Id>) -> Vec<Victim> {
    let mut groups: Vec<&Id> = recompiled.iter().collect();
    groups.sort();
    groups
        .into_iter()
        .map(|group| {
            let member = |snapshot: &Snapshot| {
                snapshot.directory().group(group).map(|found| {
                    let mut principal = Principal::user(&format!("{MEMBER_OF}{group}"), "");
                    principal.email = found.name.as_str().into();
                    principal.groups = Arc::from(vec![Arc::clone(group)]);
                    Arc::new(principal)
                })
            };
            Victim {
                before: member(before),
                after: member(after),
            }
        })
        .collect()
}

/// The account level (`None`) and every environment of the snapshot.
fn levels(snapshot: &Snapshot) -> Vec<Option<Id>> {
    std::iter::once(None)
        .chain(
            snapshot
                .directory()
                .environments()
                .iter()
                .cloned()
                .map(Some),
        )
        .collect()
}

/// A principal whose answers a write may change: as it was and as it is.
#[derive(Debug)]
struct Victim {
    before: Option<Arc<Principal>>,
    after: Option<Arc<Principal>>,
}

impl Victim {
    /// The groups of `principal` whose statements may have changed for it: all of them when the
    /// principal itself changed (memberships, `${global:userGroup}`), else the recompiled ones.
    fn groups<'p>(
        &self,
        principal: &'p Principal,
        recompiled: &'p FxHashSet<Id>,
    ) -> impl Iterator<Item = &'p Id> {
        let changed = match (&self.before, &self.after) {
            (Some(a), Some(b)) => !(Arc::ptr_eq(a, b) || **a == **b),
            _ => true,
        };
        principal
            .groups
            .iter()
            .filter(move |g| changed || recompiled.contains(*g))
    }
}

/// Members of the recompiled groups, and principals added, removed or changed.
fn affected(
    before: &Snapshot,
    after: &Snapshot,
    recompiled: &FxHashSet<Id>,
    changed: &[Id],
) -> Vec<Victim> {
    let mut uids: BTreeSet<Id> = changed.iter().cloned().collect();
    if !recompiled.is_empty() {
        for snapshot in [before, after] {
            uids.extend(
                snapshot
                    .directory()
                    .principals()
                    .filter(|p| p.groups.iter().any(|g| recompiled.contains(g)))
                    .map(|p| Arc::clone(&p.uid)),
            );
        }
    }
    let mut victims: Vec<(Id, Victim)> = uids
        .into_iter()
        .map(|uid| {
            let victim = Victim {
                before: before.directory().principal(&uid).cloned(),
                after: after.directory().principal(&uid).cloned(),
            };
            let email = victim
                .after
                .as_ref()
                .or(victim.before.as_ref())
                .map_or_else(|| Arc::clone(&uid), |p| Arc::clone(&p.email));
            (email, victim)
        })
        .collect();
    victims.sort_by(|a, b| a.0.cmp(&b.0));
    victims.into_iter().map(|(_, v)| v).collect()
}

/// The permissions named by the grants of `groups` in `snapshot`.
fn named<'g>(snapshot: &Snapshot, groups: impl Iterator<Item = &'g Id>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for group in groups {
        let Some(grants) = snapshot.group_grants(group) else {
            continue;
        };
        let all = grants
            .account
            .iter()
            .chain(grants.environments.values().flat_map(|g| g.iter()));
        for grant in all {
            out.insert(snapshot.permissions().name(grant.permission).to_owned());
        }
    }
    out
}

/// The permissions whose decisions statements of `named` permissions can change: themselves,
/// those they imply (an ALLOW grants them) and those implying them (a DENY denies them).
fn expand(snapshot: &Snapshot, named: &BTreeSet<String>) -> BTreeSet<String> {
    let catalogue = snapshot.catalogue();
    catalogue
        .permissions()
        .filter(|p| {
            named.contains(&p.name)
                || p.implies.iter().any(|i| named.contains(i))
                || catalogue
                    .implied_by(&p.name)
                    .iter()
                    .any(|i| named.contains(i))
        })
        .map(|p| p.name.clone())
        .collect()
}

/// The statements deciding one permission for one principal at one level, as formulas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Statements {
    allows: Vec<Formula>,
    denies: Vec<Formula>,
}

fn statements(
    snapshot: &Snapshot,
    principal: &Principal,
    permission: &str,
    environment: Option<&str>,
    personal: &mut bool,
) -> Statements {
    let mut out = Statements::default();
    let Some(id) = snapshot.permissions().id(permission) else {
        return out;
    };
    let subject = Subject {
        uid: &principal.uid,
        email: &principal.email,
        groups: &principal.groups,
        environment,
    };
    for group in principal.groups.iter() {
        let Some(grants) = snapshot.group_grants(group) else {
            continue;
        };
        for level in grants.at(environment) {
            for decider in snapshot.permissions().decides(id) {
                for grant in GroupGrants::for_permission(level, decider.permission) {
                    let statement = &grant.statement;
                    if !decider.counts(statement.effect) {
                        continue;
                    }
                    *personal |= statement
                        .clauses
                        .iter()
                        .flat_map(|c| c.conditions())
                        .any(symbolic::depends_on_principal);
                    let deny = statement.effect == Effect::Deny;
                    let formula = symbolic::statement(&statement.clauses, deny, &subject);
                    match (deny, formula.is_false()) {
                        (_, true) => {}
                        (true, false) => out.denies.push(formula),
                        (false, false) => out.allows.push(formula),
                    }
                }
            }
        }
    }
    for list in [&mut out.allows, &mut out.denies] {
        list.sort();
        list.dedup();
    }
    out
}

/// What the author holds, per (permission, level), and the budget of one write.
struct Checker<'s> {
    snapshot: &'s Snapshot,
    author: Option<Arc<Principal>>,
    scopes: Option<&'s [String]>,
    held: BTreeMap<(String, Option<Id>), Arc<Statements>>,
    spent: u64,
}

impl<'s> Checker<'s> {
    fn new(snapshot: &'s Snapshot, author: &Author<'s>) -> Self {
        Checker {
            snapshot,
            author: snapshot
                .directory()
                .find_principal(author.principal)
                .filter(|p| p.active)
                .cloned(),
            scopes: author.scopes,
            held: BTreeMap::new(),
            spent: 0,
        }
    }

    fn held(&mut self, permission: &str, environment: Option<&str>) -> Arc<Statements> {
        let key = (permission.to_owned(), environment.map(Id::from));
        if let Some(found) = self.held.get(&key) {
            return Arc::clone(found);
        }
        let in_scope = self
            .scopes
            .is_none_or(|s| s.iter().any(|p| p == permission));
        let found = match &self.author {
            Some(author) if in_scope => {
                statements(self.snapshot, author, permission, environment, &mut false)
            }
            _ => Statements::default(),
        };
        let found = Arc::new(found);
        self.held.insert(key, Arc::clone(&found));
        found
    }

    /// Whether the author is allowed `permission` at the level for every request.
    fn holds_everything(&mut self, permission: &str, environment: Option<&str>) -> bool {
        let held = self.held(permission, environment);
        held.allows.iter().any(Formula::is_true) && held.denies.is_empty()
    }

    /// `Ok` when every request that `now` allows and `was` did not is allowed to the author.
    fn gain_is_held(
        &mut self,
        was: &Statements,
        now: &Statements,
        permission: &str,
        environment: Option<&str>,
    ) -> Result<(), Refusal> {
        if now.allows.is_empty() || now == was {
            return Ok(());
        }
        let held = self.held(permission, environment);
        if held.allows.iter().any(Formula::is_true) && held.denies.is_empty() {
            return Ok(());
        }
        let remaining: Vec<Formula> = now.denies.iter().map(Formula::negate).collect();
        let not_allowed_before: Vec<Formula> = was.allows.iter().map(Formula::negate).collect();
        let lifted: Vec<&Formula> = was
            .denies
            .iter()
            .filter(|d| !now.denies.contains(d))
            .collect();
        let mut regions: Vec<Vec<&Formula>> = Vec::new();
        for allow in &now.allows {
            // gain = after ∧ ¬before, and ¬before = ¬(ALLOWs before) ∨ (DENYs before): a new
            // ALLOW gains only where no ALLOW applied before …
            if !was.allows.contains(allow) {
                let mut region = vec![allow];
                region.extend(not_allowed_before.iter());
                regions.push(region);
            }
            // … and any ALLOW gains where a DENY that went away applied.
            for deny in &lifted {
                regions.push(vec![allow, deny]);
            }
        }
        let not_held: Vec<Formula> = held.allows.iter().map(Formula::negate).collect();
        for region in regions {
            let mut inside: Vec<&Formula> = region.clone();
            inside.extend(remaining.iter());
            // The region must lie within the author's ALLOWs …
            let mut question = inside.clone();
            question.extend(not_held.iter());
            self.prove(&question)?;
            // … and outside each of the author's DENYs.
            for deny in &held.denies {
                let mut question = inside.clone();
                question.push(deny);
                self.prove(&question)?;
            }
        }
        Ok(())
    }

    fn prove(&mut self, question: &[&Formula]) -> Result<(), Refusal> {
        if self.spent >= WRITE_BUDGET {
            return Err(Refusal::TooComplex);
        }
        let mut budget = Budget(PROOF_BUDGET);
        let proof = prove_unsatisfiable(question, &mut budget);
        self.spent += u64::from(PROOF_BUDGET - budget.0);
        match proof {
            Proof::Unsatisfiable => Ok(()),
            Proof::Unknown if budget.0 == 0 => Err(Refusal::TooComplex),
            Proof::Unknown => Err(Refusal::NotHeld),
        }
    }
}

#[cfg(test)]
mod tests;
