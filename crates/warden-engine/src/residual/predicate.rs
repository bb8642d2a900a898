//! The residual predicate: its shape, its JSON, and its evaluation against attributes.
//!
//! JSON: `true` / `false`; `{"all": [P, …]}`, `{"any": [P, …]}`, `{"not": P}`;
//! `{"present": NAME}` (the attribute has at least one value); and
//! `{"attribute": NAME, "operator": OP, "values": [STRING, …]}`, which holds exactly as SPEC §3's
//! table says for the operator: a positive operator (`=`, `IN`, `startsWith`, `MATCH`) when some
//! value of the attribute matches some listed value (false when the attribute is absent), a
//! negated one (`!=`, `NOT IN`, `NOT startsWith`) when no value does (true when it is absent).
//! `=`, `!=`, `startsWith` and `NOT startsWith` carry one value; `IN`, `NOT IN` and `MATCH` one or
//! more. `<` and `>` never occur: a residual request always fixes the time.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::condition::symbolic::{Formula, Item, Literal};
use crate::condition::{AttributeSource, AttributeValues, Glob};

/// A condition over the attributes a residual request left free.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Predicate {
    Constant(bool),
    All { all: Vec<Predicate> },
    Any { any: Vec<Predicate> },
    Not { not: Box<Predicate> },
    Present { present: String },
    Compare(Comparison),
}

/// `attribute operator values`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    pub attribute: String,
    pub operator: ResidualOperator,
    pub values: Vec<String>,
}

/// The operators a residual uses (SPEC §3's, without the time comparisons).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ResidualOperator {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "IN")]
    In,
    #[serde(rename = "startsWith")]
    StartsWith,
    #[serde(rename = "MATCH")]
    Match,
    #[serde(rename = "!=")]
    NotEq,
    #[serde(rename = "NOT IN")]
    NotIn,
    #[serde(rename = "NOT startsWith")]
    NotStartsWith,
}

impl ResidualOperator {
    /// The spelling of the policy language.
    pub fn as_str(self) -> &'static str {
        match self {
            ResidualOperator::Eq => "=",
            ResidualOperator::In => "IN",
            ResidualOperator::StartsWith => "startsWith",
            ResidualOperator::Match => "MATCH",
            ResidualOperator::NotEq => "!=",
            ResidualOperator::NotIn => "NOT IN",
            ResidualOperator::NotStartsWith => "NOT startsWith",
        }
    }

    /// Whether it holds when some value matches (rather than when none does).
    pub fn is_positive(self) -> bool {
        matches!(
            self,
            ResidualOperator::Eq
                | ResidualOperator::In
                | ResidualOperator::StartsWith
                | ResidualOperator::Match
        )
    }
}

impl Comparison {
    fn predicate(attribute: &str, operator: ResidualOperator, values: Vec<String>) -> Predicate {
        Predicate::Compare(Comparison {
            attribute: attribute.to_owned(),
            operator,
            values,
        })
    }

    /// Whether some value of `values` matches one of the comparison's values.
    fn some_matches(&self, values: &[&str]) -> bool {
        match self.operator {
            ResidualOperator::Eq
            | ResidualOperator::In
            | ResidualOperator::NotEq
            | ResidualOperator::NotIn => values
                .iter()
                .any(|v| self.values.iter().any(|expected| expected == v)),
            ResidualOperator::StartsWith | ResidualOperator::NotStartsWith => {
                values.iter().any(|v| {
                    self.values
                        .iter()
                        .any(|prefix| v.starts_with(prefix.as_str()))
                })
            }
            ResidualOperator::Match => {
                let globs: Vec<Glob> = self.values.iter().map(|p| Glob::new(p)).collect();
                values.iter().any(|v| globs.iter().any(|g| g.matches(v)))
            }
        }
    }
}

impl Predicate {
    /// Whether the predicate holds for a request carrying `attributes` (an attribute missing or
    /// given as an empty list is absent).
    pub fn evaluate(&self, attributes: &dyn AttributeSource) -> bool {
        match self {
            Predicate::Constant(value) => *value,
            Predicate::All { all } => all.iter().all(|p| p.evaluate(attributes)),
            Predicate::Any { any } => any.iter().any(|p| p.evaluate(attributes)),
            Predicate::Not { not } => !not.evaluate(attributes),
            Predicate::Present { present } => !values_of(attributes, present).is_empty(),
            Predicate::Compare(comparison) => {
                let values = values_of(attributes, &comparison.attribute);
                let some = comparison.some_matches(&values);
                if comparison.operator.is_positive() {
                    some
                } else {
                    !some
                }
            }
        }
    }

    /// Its size: one per operator, attribute test and listed value.
    pub fn terms(&self) -> usize {
        match self {
            Predicate::Constant(_) | Predicate::Present { .. } => 1,
            Predicate::All { all: parts } | Predicate::Any { any: parts } => parts
                .iter()
                .map(Predicate::terms)
                .fold(1, usize::saturating_add),
            Predicate::Not { not } => not.terms().saturating_add(1),
            Predicate::Compare(comparison) => comparison.values.len().saturating_add(1),
        }
    }

    pub(crate) fn collect_attributes(&self, out: &mut BTreeSet<String>) {
        match self {
            Predicate::Constant(_) => {}
            Predicate::All { all: parts } | Predicate::Any { any: parts } => {
                for part in parts {
                    part.collect_attributes(out);
                }
            }
            Predicate::Not { not } => not.collect_attributes(out),
            Predicate::Present { present } => {
                out.insert(present.clone());
            }
            Predicate::Compare(comparison) => {
                out.insert(comparison.attribute.clone());
            }
        }
    }

    /// The predicate of a formula over request attributes.
    pub(crate) fn from_formula(formula: &Formula) -> Predicate {
        match formula {
            Formula::True => Predicate::Constant(true),
            Formula::False => Predicate::Constant(false),
            Formula::And(parts) => all(parts.iter().map(Predicate::from_formula).collect()),
            Formula::Or(parts) => any(parts.iter().map(Predicate::from_formula).collect()),
            Formula::Lit(literal) => from_literal(literal),
        }
    }
}

fn all(mut parts: Vec<Predicate>) -> Predicate {
    match parts.len() {
        0 => Predicate::Constant(true),
        1 => parts.pop().unwrap_or(Predicate::Constant(true)),
        _ => Predicate::All { all: parts },
    }
}

fn any(mut parts: Vec<Predicate>) -> Predicate {
    match parts.len() {
        0 => Predicate::Constant(false),
        1 => parts.pop().unwrap_or(Predicate::Constant(false)),
        _ => Predicate::Any { any: parts },
    }
}

/// The sorted values of each kind in a set.
#[derive(Default)]
struct Kinds {
    exact: Vec<String>,
    prefixes: Vec<String>,
    patterns: Vec<String>,
}

fn kinds(items: &[Item]) -> Kinds {
    let mut out = Kinds::default();
    for item in items {
        match item {
            Item::Exact(value) => out.exact.push(value.to_string()),
            Item::Prefix(value) => out.prefixes.push(value.to_string()),
            Item::Pattern(value) => out.patterns.push(value.to_string()),
        }
    }
    for list in [&mut out.exact, &mut out.prefixes, &mut out.patterns] {
        list.sort();
        list.dedup();
    }
    out
}

fn from_literal(literal: &Literal) -> Predicate {
    match literal {
        Literal::Present(name) => Predicate::Present {
            present: name.to_string(),
        },
        Literal::Absent(name) => Predicate::Not {
            not: Box::new(Predicate::Present {
                present: name.to_string(),
            }),
        },
        Literal::Hit(name, items) => any(comparisons(name, items, false)),
        Literal::Miss(name, items) => all(comparisons(name, items, true)),
        // Time conditions are always evaluated (a residual request fixes the time), so a formula
        // built for a residual has no time literal. Were one to appear, it is read as false:
        // allows nothing rather than everything.
        Literal::Time(..) => Predicate::Constant(false),
    }
}

/// The comparisons of one attribute with a literal's items: exact values as one `=` or `IN`,
/// each prefix as `startsWith`, the patterns as one `MATCH`; negated (`!=`, `NOT IN`,
/// `NOT startsWith`, `not MATCH`) for a miss, to be joined with `all` rather than `any`.
fn comparisons(name: &str, items: &[Item], negated: bool) -> Vec<Predicate> {
    let kinds = kinds(items);
    let mut parts = Vec::new();
    let exact = match (kinds.exact.len(), negated) {
        (0, _) => None,
        (1, false) => Some(ResidualOperator::Eq),
        (1, true) => Some(ResidualOperator::NotEq),
        (_, false) => Some(ResidualOperator::In),
        (_, true) => Some(ResidualOperator::NotIn),
    };
    if let Some(operator) = exact {
        parts.push(Comparison::predicate(name, operator, kinds.exact));
    }
    let starts = if negated {
        ResidualOperator::NotStartsWith
    } else {
        ResidualOperator::StartsWith
    };
    for prefix in kinds.prefixes {
        parts.push(Comparison::predicate(name, starts, vec![prefix]));
    }
    if !kinds.patterns.is_empty() {
        let matches = Comparison::predicate(name, ResidualOperator::Match, kinds.patterns);
        parts.push(if negated {
            Predicate::Not {
                not: Box::new(matches),
            }
        } else {
            matches
        });
    }
    parts
}

/// The values a request gives an attribute (empty when it gives none).
fn values_of<'a>(attributes: &'a dyn AttributeSource, name: &str) -> Vec<&'a str> {
    match attributes.attribute(name) {
        Some(AttributeValues::Strings(values)) => values.iter().map(String::as_str).collect(),
        Some(AttributeValues::Borrowed(values)) => values.to_vec(),
        None => Vec::new(),
    }
}
