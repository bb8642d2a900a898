//! Conditions as formulas over the attributes a request has not fixed yet.
//!
//! A compiled statement, instantiated for one principal at one level, is a boolean formula whose
//! atoms talk about the request's attributes and time: "some value of `a` lies in S", "no value of
//! `a` lies in S", "`a` is given", "`a` is missing", and opaque facts about the time. What the
//! principal and the level fix (`${global:userId}`, `${global:userGroup}`,
//! `${global:environmentId}`, `global:environmentId` conditions) is resolved here, and the
//! missing-attribute rule (SPEC §3) is folded in: the same condition reads differently in an ALLOW
//! (false when the attribute is missing) and in a DENY (true when it is missing).
//!
//! An attribute is modelled as a set of strings (missing = empty), which is what a request can
//! send: one string or a list. The formulas are exact for every attribute assignment; only time
//! facts are kept opaque (each rendered time condition is an independent truth value), which can
//! only make more assignments look possible, never fewer.
//!
//! This module does not decide anything: [`crate::condition::solve`] proves formulas
//! unsatisfiable, and the no-escalation check builds the questions.

use std::sync::Arc;

use warden_policy::Operator;

use super::{Attribute, Clause, CompiledCondition, Context, Item as ListItem, Operand, Truth};
use crate::directory::Id;

/// One member of a set of strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Item {
    /// Exactly this string.
    Exact(Box<str>),
    /// Every string starting with this one.
    Prefix(Box<str>),
    /// Every string the anchored glob matches (SPEC §3 `MATCH`).
    Pattern(Box<str>),
}

/// A fact about one request attribute, or about the request's time.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Literal {
    /// Some value of the attribute lies in the set (false when the attribute is missing).
    Hit(Box<str>, Arc<[Item]>),
    /// No value of the attribute lies in the set (true when the attribute is missing).
    Miss(Box<str>, Arc<[Item]>),
    /// The attribute is given, with at least one value.
    Present(Box<str>),
    /// The attribute is missing (or an empty list).
    Absent(Box<str>),
    /// A time condition, by its text, holds (`true`) or does not (`false`).
    Time(Box<str>, bool),
}

impl Literal {
    pub fn negate(&self) -> Literal {
        match self {
            Literal::Hit(name, set) => Literal::Miss(name.clone(), Arc::clone(set)),
            Literal::Miss(name, set) => Literal::Hit(name.clone(), Arc::clone(set)),
            Literal::Present(name) => Literal::Absent(name.clone()),
            Literal::Absent(name) => Literal::Present(name.clone()),
            Literal::Time(text, holds) => Literal::Time(text.clone(), !holds),
        }
    }
}

/// A boolean formula over [`Literal`]s, kept in negation normal form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Formula {
    True,
    False,
    Lit(Literal),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    pub fn constant(value: bool) -> Formula {
        if value { Formula::True } else { Formula::False }
    }

    /// The conjunction, flattened and simplified (`True` for none).
    pub fn and(parts: impl IntoIterator<Item = Formula>) -> Formula {
        let mut out = Vec::new();
        for part in parts {
            match part {
                Formula::True => {}
                Formula::False => return Formula::False,
                Formula::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        out.sort();
        out.dedup();
        match out.len() {
            0 => Formula::True,
            1 => out.pop().unwrap_or(Formula::True),
            _ => Formula::And(out),
        }
    }

    /// The disjunction, flattened and simplified (`False` for none).
    pub fn or(parts: impl IntoIterator<Item = Formula>) -> Formula {
        let mut out = Vec::new();
        for part in parts {
            match part {
                Formula::False => {}
                Formula::True => return Formula::True,
                Formula::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        out.sort();
        out.dedup();
        match out.len() {
            0 => Formula::False,
            1 => out.pop().unwrap_or(Formula::False),
            _ => Formula::Or(out),
        }
    }

    /// The negation, pushed down to the literals.
    pub fn negate(&self) -> Formula {
        match self {
            Formula::True => Formula::False,
            Formula::False => Formula::True,
            Formula::Lit(literal) => Formula::Lit(literal.negate()),
            Formula::And(parts) => Formula::or(parts.iter().map(Formula::negate)),
            Formula::Or(parts) => Formula::and(parts.iter().map(Formula::negate)),
        }
    }

    pub fn is_true(&self) -> bool {
        *self == Formula::True
    }

    pub fn is_false(&self) -> bool {
        *self == Formula::False
    }
}

/// Who and where a statement is instantiated for.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub uid: &'a str,
    pub email: &'a str,
    pub groups: &'a [Id],
    /// `None` at account level.
    pub environment: Option<&'a str>,
}

impl Subject<'_> {
    fn context(&self) -> Context<'_> {
        Context {
            attributes: &NO_ATTRIBUTES,
            environment: self.environment,
            time: 0,
            user_id: self.uid,
            user_email: self.email,
            user_groups: self.groups,
        }
    }
}

#[derive(Debug)]
struct NoAttributes;

impl super::AttributeSource for NoAttributes {
    fn attribute(&self, _name: &str) -> Option<super::AttributeValues<'_>> {
        None
    }
}

static NO_ATTRIBUTES: NoAttributes = NoAttributes;

/// A statement's clauses (ANDed) as a formula for `subject`, read as the statement's effect reads
/// them.
pub fn statement(clauses: &[Clause], deny: bool, subject: &Subject<'_>) -> Formula {
    Formula::and(
        clauses
            .iter()
            .map(|clause| self::clause(clause, deny, subject)),
    )
}

/// One clause: a condition, or (from a boundary) conditions of which any one must hold.
pub fn clause(clause: &Clause, deny: bool, subject: &Subject<'_>) -> Formula {
    Formula::or(
        clause
            .conditions()
            .iter()
            .map(|condition| self::condition(condition, deny, subject)),
    )
}

/// Whether the condition's truth depends on who the principal is (so that principals with the
/// same groups may still be decided differently).
pub fn depends_on_principal(condition: &CompiledCondition) -> bool {
    let template = |t: &super::Template| {
        t.0.iter()
            .any(|p| matches!(p, super::Part::UserId | super::Part::UserEmail))
    };
    let item = |i: &ListItem| match i {
        ListItem::UserGroups => true,
        ListItem::Template(t) => template(t),
    };
    match &condition.operand {
        Operand::Text(t) => template(t),
        Operand::List { dynamic, .. } | Operand::Patterns { dynamic, .. } => {
            dynamic.iter().any(item)
        }
        Operand::Times(_) => false,
    }
}

/// One condition as a formula, with the missing-attribute rule of the statement's effect.
pub fn condition(condition: &CompiledCondition, deny: bool, subject: &Subject<'_>) -> Formula {
    let ctx = subject.context();
    let missing = Formula::constant(Truth::Missing.holds(deny));
    let name = match &condition.attribute {
        // Fixed by the level: decided here.
        Attribute::EnvironmentId => {
            return Formula::constant(condition.evaluate(&ctx).holds(deny));
        }
        Attribute::Time(_) => {
            return match &condition.operand {
                Operand::Times(_) => {
                    Formula::Lit(Literal::Time(condition.render().into_boxed_str(), true))
                }
                _ => missing,
            };
        }
        Attribute::Request(name) => name.clone(),
    };
    // (positive operator?, the set, whether a list item could not be resolved here)
    let (positive, mut items, unresolved) = match (&condition.operand, condition.operator) {
        (Operand::Text(template), operator) => {
            let Some(value) = template.resolve(&ctx) else {
                return missing;
            };
            let value: Box<str> = value.as_ref().into();
            match operator {
                Operator::Eq => (true, vec![Item::Exact(value)], false),
                Operator::NotEq => (false, vec![Item::Exact(value)], false),
                Operator::StartsWith => (true, vec![Item::Prefix(value)], false),
                Operator::NotStartsWith => (false, vec![Item::Prefix(value)], false),
                Operator::Match => (true, vec![Item::Pattern(value)], false),
                _ => return missing,
            }
        }
        (Operand::List { literals, dynamic }, operator @ (Operator::In | Operator::NotIn)) => {
            let mut items: Vec<Item> = literals.iter().map(|v| Item::Exact(v.into())).collect();
            let mut unresolved = false;
            for item in dynamic.iter() {
                match item {
                    ListItem::UserGroups => {
                        items.extend(
                            subject
                                .groups
                                .iter()
                                .map(|g| Item::Exact(g.as_ref().into())),
                        );
                    }
                    ListItem::Template(t) => match t.resolve(&ctx) {
                        Some(value) => items.push(Item::Exact(value.as_ref().into())),
                        None => unresolved = true,
                    },
                }
            }
            (operator == Operator::In, items, unresolved)
        }
        (Operand::Patterns { literals, dynamic }, Operator::Match) => {
            let mut items: Vec<Item> = literals
                .iter()
                .map(|glob| Item::Pattern(glob.source.clone()))
                .collect();
            let mut unresolved = false;
            for item in dynamic.iter() {
                match item {
                    ListItem::UserGroups => {
                        items.extend(
                            subject
                                .groups
                                .iter()
                                .map(|g| Item::Pattern(g.as_ref().into())),
                        );
                    }
                    ListItem::Template(t) => match t.resolve(&ctx) {
                        Some(value) => items.push(Item::Pattern(value.as_ref().into())),
                        None => unresolved = true,
                    },
                }
            }
            (true, items, unresolved)
        }
        _ => return missing,
    };
    items.sort();
    items.dedup();
    let set: Arc<[Item]> = items.into();
    let hit = || Formula::Lit(Literal::Hit(name.clone(), Arc::clone(&set)));
    let miss = || Formula::Lit(Literal::Miss(name.clone(), Arc::clone(&set)));
    // An item that could not be resolved makes a non-match "missing" (see `evaluate_values`):
    // a DENY then holds whenever the list does not exclude, an ALLOW of `NOT IN` never holds.
    match (positive, deny, unresolved) {
        (true, false, _) => hit(),
        (true, true, true) => Formula::True,
        (true, true, false) => Formula::or([Formula::Lit(Literal::Absent(name.clone())), hit()]),
        (false, false, true) => Formula::False,
        (false, false, false) => {
            Formula::and([Formula::Lit(Literal::Present(name.clone())), miss()])
        }
        (false, true, _) => miss(),
    }
}

#[cfg(test)]
mod tests;
