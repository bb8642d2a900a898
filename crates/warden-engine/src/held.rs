//! What a principal holds, statement by statement: every statement bound to it at a level, with
//! its conditions as text — what the service-user review report compares with what was used.
//!
//! The no-escalation rule itself is [`crate::escalation`].

use std::collections::BTreeSet;

use warden_policy::Effect;

use crate::condition::Clause;
use crate::snapshot::Snapshot;

/// One statement as granted to someone: permission, effect, and its conditions as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Granted {
    pub permission: String,
    pub effect: Effect,
    pub clauses: BTreeSet<String>,
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
        principal
            .groups
            .iter()
            .flat_map(|group| self.group_held(group, environment))
            .collect()
    }

    /// Every statement bound to one group that applies at a level: what a membership in it
    /// gives (the review report's unused memberships).
    pub fn group_held(&self, group: &str, environment: Option<&str>) -> Vec<Granted> {
        let Some(grants) = self.group_grants(group) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for level in grants.at(environment) {
            for grant in level {
                out.push(Granted {
                    permission: self.permissions().name(grant.permission).to_owned(),
                    effect: grant.statement.effect,
                    clauses: grant.statement.clauses.iter().map(Clause::render).collect(),
                });
            }
        }
        out
    }
}
