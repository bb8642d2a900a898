//! Residual policies: for one principal and one permission, the condition a record's attributes
//! must meet for the request to be allowed, so that a data service can filter its records in its
//! own query instead of asking once per record.
//!
//! A residual request is a decision request (SPEC §3) whose attributes are only partly known: the
//! principal, the permission, the environment and the time are fixed, and so are the attributes
//! the caller gives ([`ResidualRequest::known`]). Every statement that decides the permission for
//! the principal (step 4, with implication) is read as a formula over the attributes left free,
//! with the missing-attribute rule of its effect folded in (an ALLOW condition on an absent
//! attribute is false, a DENY condition true). Conditions on known attributes, on the
//! environment and on the time are evaluated exactly as a decision evaluates them. The residual
//! is then `(any ALLOW applies) AND NOT (any DENY applies)` — DENY wins — simplified.
//!
//! **Exactness** is the contract: for every assignment of the free attributes (any values, lists,
//! or absent), [`Predicate::evaluate`] on the residual gives the same answer as
//! [`Snapshot::decide`] on the request with that assignment added. The property test in
//! `crates/warden-conformance/tests/residual.rs` checks it on random worlds.
//!
//! This module owns the computation; [`predicate`] owns the predicate's shape, its JSON and its
//! evaluation, [`simplify`] the rewriting that keeps it small, [`sql`] its rendering as a `WHERE`
//! clause, [`text`] its reading for people.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use warden_policy::Effect;

use crate::compile::GroupGrants;
use crate::condition::symbolic::{self, Formula, Subject};
use crate::condition::{Attribute, Attributes, Clause, CompiledCondition, Context};
use crate::snapshot::{Reason, Resolved, Snapshot};

pub mod predicate;
pub mod simplify;
pub mod sql;
pub mod text;

pub use predicate::{Comparison, Predicate, ResidualOperator};

/// The most terms (operators, attribute tests and values) a residual may have, after
/// simplification. A residual beyond it is refused rather than truncated: a truncated residual
/// would not be exact.
pub const MAX_TERMS: usize = 10_000;

/// A request whose attributes are only partly known.
#[derive(Debug, Clone, Copy)]
pub struct ResidualRequest<'a> {
    /// A uid, an email (any case) or a service-user handle.
    pub principal: &'a str,
    pub permission: &'a str,
    /// `None` for an account-level request.
    pub environment: Option<&'a str>,
    /// The attributes the caller fixes. An attribute given here (even as an empty list, which
    /// counts as absent) is decided; every other attribute is left to the residual.
    pub known: &'a Attributes,
    /// Seconds since the epoch, UTC.
    pub time: i64,
}

/// What a residual says overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResidualDecision {
    /// Allowed whatever the free attributes are: the residual is `true`.
    Allow,
    /// Denied whatever the free attributes are: the residual is `false`.
    Deny,
    /// Allowed exactly when the free attributes satisfy the residual.
    Conditional,
}

/// The answer to a [`ResidualRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Residual {
    pub decision: ResidualDecision,
    pub predicate: Predicate,
    /// Why the residual is `false` before any statement was read (unknown or inactive principal,
    /// unknown permission or environment); `None` when the statements decided.
    pub refused: Option<Reason>,
}

impl Residual {
    fn refused(reason: Reason) -> Residual {
        Residual {
            decision: ResidualDecision::Deny,
            predicate: Predicate::Constant(false),
            refused: Some(reason),
        }
    }

    fn of(predicate: Predicate) -> Residual {
        let decision = match predicate {
            Predicate::Constant(true) => ResidualDecision::Allow,
            Predicate::Constant(false) => ResidualDecision::Deny,
            _ => ResidualDecision::Conditional,
        };
        Residual {
            decision,
            predicate,
            refused: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidualError {
    /// The residual needs more terms than the limit.
    #[error(
        "the residual has {terms} terms, more than the limit of {limit}\nhelp: fix more attributes in the request (`attributes`), or narrow the statements that grant or deny the permission"
    )]
    TooLarge { terms: usize, limit: usize },
}

impl Snapshot {
    /// The residual of `request` (see the module documentation), at most [`MAX_TERMS`] terms.
    pub fn residual(&self, request: &ResidualRequest<'_>) -> Result<Residual, ResidualError> {
        self.residual_within(request, MAX_TERMS)
    }

    /// [`Snapshot::residual`] with another limit on the number of terms.
    pub fn residual_within(
        &self,
        request: &ResidualRequest<'_>,
        limit: usize,
    ) -> Result<Residual, ResidualError> {
        let as_decision = crate::snapshot::Request {
            principal: request.principal,
            permission: request.permission,
            environment: request.environment,
            attributes: request.known,
            time: request.time,
        };
        let (principal, decides) = match self.resolve(&as_decision) {
            Resolved::Denied(reason) => return Ok(Residual::refused(reason)),
            Resolved::Principal { principal, decides } => (principal, decides),
        };
        let ctx = Context {
            attributes: request.known,
            environment: request.environment,
            time: request.time,
            user_id: &principal.uid,
            user_email: &principal.email,
            user_groups: &principal.groups,
        };
        let subject = Subject {
            uid: &principal.uid,
            email: &principal.email,
            groups: &principal.groups,
            environment: request.environment,
        };
        let mut allows = Vec::new();
        let mut denies = Vec::new();
        // The statements' formulas before simplification are bounded too: they cost memory and
        // the simplifier's time in proportion to their size.
        let mut raw_terms = 0usize;
        let raw_limit = limit.saturating_mul(4);
        for group in principal.groups.iter() {
            let Some(grants) = self.group_grants(group) else {
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
                        let formula = Formula::and(
                            statement
                                .clauses
                                .iter()
                                .map(|clause| clause_formula(clause, deny, &ctx, &subject)),
                        );
                        raw_terms = raw_terms.saturating_add(simplify::terms(&formula));
                        if raw_terms > raw_limit {
                            return Err(ResidualError::TooLarge {
                                terms: raw_terms,
                                limit,
                            });
                        }
                        if deny {
                            denies.push(formula);
                        } else {
                            allows.push(formula);
                        }
                    }
                }
            }
        }
        let allowed = Formula::or(allows);
        let denied = Formula::or(denies);
        let formula = Formula::and([allowed, denied.negate()]);
        let predicate = Predicate::from_formula(&simplify::simplify(formula));
        let terms = predicate.terms();
        if terms > limit {
            return Err(ResidualError::TooLarge { terms, limit });
        }
        Ok(Residual::of(predicate))
    }
}

/// A clause as a formula: conditions on free request attributes symbolically, every other
/// condition (known attributes, environment, time) evaluated as a decision evaluates it.
fn clause_formula(
    clause: &Clause,
    deny: bool,
    ctx: &Context<'_>,
    subject: &Subject<'_>,
) -> Formula {
    Formula::or(
        clause
            .conditions()
            .iter()
            .map(|condition| condition_formula(condition, deny, ctx, subject)),
    )
}

fn condition_formula(
    condition: &CompiledCondition,
    deny: bool,
    ctx: &Context<'_>,
    subject: &Subject<'_>,
) -> Formula {
    match &condition.attribute {
        Attribute::Request(name) if ctx.attributes.attribute(name).is_none() => {
            symbolic::condition(condition, deny, subject)
        }
        _ => Formula::constant(condition.evaluate(ctx).holds(deny)),
    }
}

/// The attributes a predicate tests, sorted.
pub fn attributes_of(predicate: &Predicate) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    predicate.collect_attributes(&mut out);
    out
}

#[cfg(test)]
mod tests;
