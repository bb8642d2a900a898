//! Impact preview: before a policy, binding or boundary change is saved, which (principal,
//! permission, level) answers would change.
//!
//! A pure function of two snapshots — the current one and one built from the draft directory —
//! and the groups the draft recompiled. For every active member of those groups, at account level
//! and in every environment, it compares:
//!
//! - the decision for an *unconditional* request: the permission asked with no attributes, at the
//!   given time. By the missing-attribute rule (SPEC §3) a conditional ALLOW does not apply to it
//!   and a conditional DENY does, so a change here is a plain gain or loss of access;
//! - the conditional statements that decide the permission (effect and rendered conditions): when
//!   they differ but the unconditional decision does not, the principal's access under some
//!   attributes changes, reported as "conditions change".
//!
//! This module does not own drafting (the server builds the draft directory with the same
//! `Directory` calls its writes use) nor authorisation of who may see the result.
//!
//! The work is bounded: principals with the same groups get the same answers, so each distinct
//! set of groups is evaluated once, and only for the permissions the changed groups grant (or
//! that those imply). The result lists the changes of at most `limit` principals and counts all.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use warden_policy::Effect;

use crate::compile::GroupGrants;
use crate::condition::{Attributes, Clause};
use crate::directory::{Id, Level, Principal};
use crate::snapshot::{Outcome, Request, Snapshot};

/// How one answer changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// DENY before, ALLOW after, for the unconditional request.
    Gains,
    /// ALLOW before, DENY after, for the unconditional request.
    Loses,
    /// The same unconditional decision, but the conditional statements differ.
    ConditionsChange,
}

impl ChangeKind {
    pub fn describe(self) -> &'static str {
        match self {
            ChangeKind::Gains => "gains access",
            ChangeKind::Loses => "loses access",
            ChangeKind::ConditionsChange => "conditions change",
        }
    }
}

/// One changed answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub uid: String,
    pub email: String,
    pub permission: String,
    pub level: Level,
    pub kind: ChangeKind,
    pub before: Outcome,
    pub after: Outcome,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Impact {
    /// The changes of the first `limit` affected principals (ordered by email), each principal's
    /// by level then permission.
    pub changes: Vec<Change>,
    /// Every principal with at least one change.
    pub affected_principals: usize,
    /// Every change, listed or not.
    pub total_changes: usize,
    /// Whether principals were left out of `changes`.
    pub truncated: bool,
}

/// A conditional statement that decides a permission, as compared between the two snapshots.
type Conditional = (u8, String, Vec<String>);

/// Compares the answers of `before` and `after` for every active member of `groups`.
///
/// `after` is normally `before.apply(draft, groups, …)`. `time` is seconds since the epoch (for
/// global date and time conditions); `limit` caps the principals listed.
pub fn impact(
    before: &Snapshot,
    after: &Snapshot,
    groups: &[Id],
    time: i64,
    limit: usize,
) -> Impact {
    let changed: BTreeSet<&str> = groups.iter().map(|g| &**g).collect();
    if changed.is_empty() {
        return Impact::default();
    }
    let mut levels: Vec<Option<&str>> = vec![None];
    levels.extend(after.directory().environments().iter().map(|e| Some(&**e)));

    // Active members of a changed group, in either snapshot, by email.
    let mut members: BTreeMap<(String, String), Arc<Principal>> = BTreeMap::new();
    for snapshot in [before, after] {
        for principal in snapshot.directory().principals() {
            if principal.active && principal.groups.iter().any(|g| changed.contains(&**g)) {
                members
                    .entry((principal.email.to_string(), principal.uid.to_string()))
                    .or_insert_with(|| Arc::clone(principal));
            }
        }
    }

    // Answers per distinct set of groups: (level index, permission, kind, before, after).
    type Answers = Vec<(usize, String, ChangeKind, Outcome, Outcome)>;
    let mut by_groups: BTreeMap<Vec<Id>, Answers> = BTreeMap::new();
    let mut out = Impact::default();
    for ((email, uid), principal) in &members {
        let mut key: Vec<Id> = principal.groups.to_vec();
        key.sort();
        let answers = by_groups
            .entry(key)
            .or_insert_with(|| answers_for(before, after, principal, &changed, &levels, time));
        if answers.is_empty() {
            continue;
        }
        out.affected_principals += 1;
        out.total_changes += answers.len();
        if out.affected_principals > limit {
            out.truncated = true;
            continue;
        }
        for (level, permission, kind, was, will) in answers.iter() {
            let level = match levels.get(*level).copied().flatten() {
                Some(env) => Level::Environment(env.into()),
                None => Level::Account,
            };
            out.changes.push(Change {
                uid: uid.clone(),
                email: email.clone(),
                permission: permission.clone(),
                level,
                kind: *kind,
                before: *was,
                after: *will,
            });
        }
    }
    out
}

/// The changed answers of one principal (standing for every principal with its groups).
fn answers_for(
    before: &Snapshot,
    after: &Snapshot,
    principal: &Principal,
    changed: &BTreeSet<&str>,
    levels: &[Option<&str>],
    time: i64,
) -> Vec<(usize, String, ChangeKind, Outcome, Outcome)> {
    let relevant: Vec<&str> = principal
        .groups
        .iter()
        .map(|g| &**g)
        .filter(|g| changed.contains(g))
        .collect();
    let permissions = candidate_permissions(before, after, &relevant);
    let attributes = Attributes::default();
    let mut answers = Vec::new();
    for (index, environment) in levels.iter().enumerate() {
        for permission in &permissions {
            let request = Request {
                principal: &principal.uid,
                permission,
                environment: *environment,
                attributes: &attributes,
                time,
            };
            let was = before.decide(&request).outcome;
            let will = after.decide(&request).outcome;
            let kind = match (was, will) {
                (Outcome::Deny, Outcome::Allow) => Some(ChangeKind::Gains),
                (Outcome::Allow, Outcome::Deny) => Some(ChangeKind::Loses),
                _ => {
                    let old = conditionals(before, &principal.groups, permission, *environment);
                    let new = conditionals(after, &principal.groups, permission, *environment);
                    (old != new).then_some(ChangeKind::ConditionsChange)
                }
            };
            if let Some(kind) = kind {
                answers.push((index, permission.clone(), kind, was, will));
            }
        }
    }
    answers
}

/// The catalogue permissions whose decisions the changed groups can affect: those their grants
/// name, in either snapshot, those implied by them (an ALLOW grants what it implies) and those
/// implying them (a DENY denies what implies it).
fn candidate_permissions(before: &Snapshot, after: &Snapshot, groups: &[&str]) -> Vec<String> {
    let mut named: BTreeSet<String> = BTreeSet::new();
    for snapshot in [before, after] {
        for group in groups {
            let Some(grants) = snapshot.group_grants(group) else {
                continue;
            };
            let all = grants
                .account
                .iter()
                .chain(grants.environments.values().flat_map(|g| g.iter()));
            for grant in all {
                named.insert(snapshot.permissions().name(grant.permission).to_owned());
            }
        }
    }
    let catalogue = after.catalogue();
    catalogue
        .permissions()
        .filter(|p| {
            named.contains(&p.name)
                || p.implies.iter().any(|implied| named.contains(implied))
                || catalogue
                    .implied_by(&p.name)
                    .iter()
                    .any(|granting| named.contains(granting))
        })
        .map(|p| p.name.clone())
        .collect()
}

/// The conditional statements deciding `permission` for members of `groups` at a level, sorted.
fn conditionals(
    snapshot: &Snapshot,
    groups: &[Id],
    permission: &str,
    environment: Option<&str>,
) -> Vec<Conditional> {
    let Some(id) = snapshot.permissions().id(permission) else {
        return Vec::new();
    };
    let decides = snapshot.permissions().decides(id);
    let mut out = Vec::new();
    for group in groups {
        let Some(grants) = snapshot.group_grants(group) else {
            continue;
        };
        for level in grants.at(environment) {
            for decider in decides {
                for grant in GroupGrants::for_permission(level, decider.permission) {
                    let statement = &grant.statement;
                    if statement.clauses.is_empty() || !decider.counts(statement.effect) {
                        continue;
                    }
                    out.push((
                        u8::from(statement.effect == Effect::Deny),
                        snapshot.permissions().name(grant.permission).to_owned(),
                        statement.clauses.iter().map(Clause::render).collect(),
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
