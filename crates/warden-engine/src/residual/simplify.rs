//! Simplifying residual formulas without changing what they mean.
//!
//! Every rewrite here is an equivalence for every attribute assignment (an attribute being a set
//! of strings, absent = empty), so the residual stays exact:
//! - constant folding, flattening, duplicates removed (done by [`Formula::and`] / [`Formula::or`]);
//! - a literal with an empty set is a constant (no value lies in the empty set);
//! - `IN` lists merged: in a disjunction, "some value in S" or "some value in T" is "some value in
//!   S ∪ T"; in a conjunction, "no value in S" and "no value in T" is "no value in S ∪ T" (for
//!   sets of plain values, and for sets of patterns);
//! - values a sibling already covers dropped from a merged list (`IN ("x", "ab")` or
//!   `startsWith "a"` is `= "x"` or `startsWith "a"`);
//! - subsumed clauses removed: in a conjunction, a part that another part implies; in a
//!   disjunction, a part that implies another part;
//! - a conjunction holding a part and its contradiction is false, a disjunction holding a part and
//!   its complement is true.
//!
//! Implication is checked soundly and incompletely ([`implies`] answers `false` when unsure), and
//! within a budget of work: past it, the formula is left less simplified, never changed in
//! meaning.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::condition::Glob;
use crate::condition::symbolic::{Formula, Item, Literal};

/// Implication checks one simplification may make.
const WORK: u32 = 2_000_000;
/// Passes over the formula; each may enable the next (a merged list subsumes more).
const PASSES: usize = 4;

struct Budget(u32);

/// A literal's attribute and set.
type Named = (Box<str>, Arc<[Item]>);

impl Budget {
    fn spend(&mut self) -> bool {
        match self.0.checked_sub(1) {
            Some(rest) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }
}

/// The simplified formula, equivalent to `formula` for every attribute assignment.
pub fn simplify(formula: Formula) -> Formula {
    let mut budget = Budget(WORK);
    let mut current = formula;
    for _ in 0..PASSES {
        let next = pass(&current, &mut budget);
        if next == current {
            break;
        }
        current = next;
    }
    current
}

/// The size of a formula: one per connective and literal, plus the values of each literal.
pub fn terms(formula: &Formula) -> usize {
    match formula {
        Formula::True | Formula::False => 1,
        Formula::And(parts) | Formula::Or(parts) => {
            parts.iter().map(terms).fold(1, usize::saturating_add)
        }
        Formula::Lit(Literal::Hit(_, items) | Literal::Miss(_, items)) => {
            items.len().saturating_add(1)
        }
        Formula::Lit(_) => 1,
    }
}

fn pass(formula: &Formula, budget: &mut Budget) -> Formula {
    match formula {
        Formula::Lit(literal) => literal_constant(literal),
        Formula::And(parts) => match Formula::and(parts.iter().map(|part| pass(part, budget))) {
            Formula::And(parts) => conjunction(parts, budget),
            other => other,
        },
        Formula::Or(parts) => match Formula::or(parts.iter().map(|part| pass(part, budget))) {
            Formula::Or(parts) => disjunction(parts, budget),
            other => other,
        },
        Formula::True | Formula::False => formula.clone(),
    }
}

fn literal_constant(literal: &Literal) -> Formula {
    match literal {
        Literal::Hit(_, items) if items.is_empty() => Formula::False,
        Literal::Miss(_, items) if items.is_empty() => Formula::True,
        _ => Formula::Lit(literal.clone()),
    }
}

fn conjunction(parts: Vec<Formula>, budget: &mut Budget) -> Formula {
    let parts = drop_excluded_items(drop_covered_items(merge_lists(parts, false), false), false);
    if contradicts(&parts, budget) {
        return Formula::False;
    }
    Formula::and(without_redundant(parts, budget, false))
}

fn disjunction(parts: Vec<Formula>, budget: &mut Budget) -> Formula {
    let parts = drop_excluded_items(drop_covered_items(merge_lists(parts, true), true), true);
    // A part and its complement: the negation of one implies the other.
    if contradicts_negated(&parts, budget) {
        return Formula::True;
    }
    Formula::or(without_redundant(parts, budget, true))
}

/// Whether two literal parts of a conjunction cannot hold together.
fn contradicts(parts: &[Formula], budget: &mut Budget) -> bool {
    let literals: Vec<&Formula> = parts
        .iter()
        .filter(|p| matches!(p, Formula::Lit(_)))
        .collect();
    for (i, a) in literals.iter().enumerate() {
        for b in literals.iter().skip(i + 1) {
            if implies(a, &b.negate(), budget) {
                return true;
            }
        }
    }
    false
}

/// Whether two literal parts of a disjunction cover every case.
fn contradicts_negated(parts: &[Formula], budget: &mut Budget) -> bool {
    let literals: Vec<&Formula> = parts
        .iter()
        .filter(|p| matches!(p, Formula::Lit(_)))
        .collect();
    for (i, a) in literals.iter().enumerate() {
        for b in literals.iter().skip(i + 1) {
            if implies(&a.negate(), b, budget) {
                return true;
            }
        }
    }
    false
}

/// The parts without those another kept part makes redundant: in a conjunction a part implied by
/// another, in a disjunction a part implying another. Parts are dropped one at a time and only
/// against parts still kept, so of two equivalent parts one stays.
fn without_redundant(parts: Vec<Formula>, budget: &mut Budget, disjunction: bool) -> Vec<Formula> {
    let mut kept = vec![true; parts.len()];
    for (i, part) in parts.iter().enumerate() {
        let redundant = parts.iter().enumerate().any(|(j, other)| {
            j != i
                && kept.get(j).copied().unwrap_or(false)
                && if disjunction {
                    implies(part, other, budget)
                } else {
                    implies(other, part, budget)
                }
        });
        if redundant && let Some(flag) = kept.get_mut(i) {
            *flag = false;
        }
    }
    parts
        .into_iter()
        .zip(kept)
        .filter_map(|(part, keep)| keep.then_some(part))
        .collect()
}

/// The kind of a set that can be merged with others of its kind: plain values, or patterns.
fn mergeable_kind(items: &[Item]) -> Option<u8> {
    if items.iter().all(|i| matches!(i, Item::Exact(_))) {
        Some(0)
    } else if items.iter().all(|i| matches!(i, Item::Pattern(_))) {
        Some(1)
    } else {
        None
    }
}

/// Merges the `Hit` literals (in a disjunction) or the `Miss` literals (in a conjunction) of one
/// attribute and one kind into one.
fn merge_lists(parts: Vec<Formula>, disjunction: bool) -> Vec<Formula> {
    let mut merged: BTreeMap<(Box<str>, u8), Vec<Item>> = BTreeMap::new();
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let (name, items) = match &part {
            Formula::Lit(Literal::Hit(name, items)) if disjunction => (name, items),
            Formula::Lit(Literal::Miss(name, items)) if !disjunction => (name, items),
            _ => {
                out.push(part);
                continue;
            }
        };
        match mergeable_kind(items) {
            Some(kind) => merged
                .entry((name.clone(), kind))
                .or_default()
                .extend(items.iter().cloned()),
            None => out.push(part),
        }
    }
    for ((name, _), mut items) in merged {
        items.sort();
        items.dedup();
        // A value another value of the list covers adds nothing (of two that cover each other,
        // the first stays).
        let mut kept = vec![true; items.len()];
        for (i, item) in items.iter().enumerate() {
            let covered = items.iter().enumerate().any(|(j, other)| {
                j != i && kept.get(j).copied().unwrap_or(false) && item_implies(item, other)
            });
            if covered && let Some(flag) = kept.get_mut(i) {
                *flag = false;
            }
        }
        let items: Vec<Item> = items
            .into_iter()
            .zip(kept)
            .filter_map(|(item, keep)| keep.then_some(item))
            .collect();
        let set: Arc<[Item]> = items.into();
        out.push(Formula::Lit(if disjunction {
            Literal::Hit(name, set)
        } else {
            Literal::Miss(name, set)
        }));
    }
    out
}

/// Drops the values of a merged list that another literal of the same attribute covers: in a
/// disjunction, from a `Hit` set the values another `Hit` catches anyway; in a conjunction, from
/// a `Miss` set the values another `Miss` excludes anyway. Only values of sets of several
/// (an emptied set would change the meaning of its literal).
fn drop_covered_items(parts: Vec<Formula>, disjunction: bool) -> Vec<Formula> {
    let side = |part: &Formula| -> Option<Named> {
        match part {
            Formula::Lit(Literal::Hit(name, items)) if disjunction => {
                Some((name.clone(), Arc::clone(items)))
            }
            Formula::Lit(Literal::Miss(name, items)) if !disjunction => {
                Some((name.clone(), Arc::clone(items)))
            }
            _ => None,
        }
    };
    let sides: Vec<Option<Named>> = parts.iter().map(side).collect();
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let Some(Some((name, items))) = sides.get(i) else {
                return part;
            };
            if items.len() < 2 {
                return part;
            }
            let covered_elsewhere = |item: &Item| {
                sides.iter().enumerate().any(|(j, other)| {
                    j != i
                        && other.as_ref().is_some_and(|(other_name, other_items)| {
                            other_name == name
                                && other_items.len() == 1
                                && other_items.iter().any(|o| item_implies(item, o))
                        })
                })
            };
            let rest: Vec<Item> = items
                .iter()
                .filter(|item| !covered_elsewhere(item))
                .cloned()
                .collect();
            if rest.len() == items.len() || rest.is_empty() {
                return part;
            }
            let set: Arc<[Item]> = rest.into();
            Formula::Lit(if disjunction {
                Literal::Hit(name.clone(), set)
            } else {
                Literal::Miss(name.clone(), set)
            })
        })
        .collect()
}

/// In a conjunction, drops from each `Hit` set the values a `Miss` of the same attribute
/// excludes ("some value in S" and "no value in T" is "some value in S minus T" and "no value in
/// T"); in a disjunction, dually, from each `Miss` set the values a `Hit` catches. A set left
/// empty becomes a constant on the next pass.
fn drop_excluded_items(parts: Vec<Formula>, disjunction: bool) -> Vec<Formula> {
    // (attribute, set) of the literals that exclude (conjunction) or catch (disjunction).
    let others: Vec<(Box<str>, Arc<[Item]>)> = parts
        .iter()
        .filter_map(|part| match part {
            Formula::Lit(Literal::Miss(name, items)) if !disjunction => {
                Some((name.clone(), Arc::clone(items)))
            }
            Formula::Lit(Literal::Hit(name, items)) if disjunction => {
                Some((name.clone(), Arc::clone(items)))
            }
            _ => None,
        })
        .collect();
    if others.is_empty() {
        return parts;
    }
    parts
        .into_iter()
        .map(|part| {
            let (name, items) = match &part {
                Formula::Lit(Literal::Hit(name, items)) if !disjunction => (name, items),
                Formula::Lit(Literal::Miss(name, items)) if disjunction => (name, items),
                _ => return part,
            };
            let rest: Vec<Item> = items
                .iter()
                .filter(|item| {
                    !others.iter().any(|(other, set)| {
                        other == name && set.iter().any(|o| item_implies(item, o))
                    })
                })
                .cloned()
                .collect();
            if rest.len() == items.len() {
                return part;
            }
            let set: Arc<[Item]> = rest.into();
            Formula::Lit(if disjunction {
                Literal::Miss(name.clone(), set)
            } else {
                Literal::Hit(name.clone(), set)
            })
        })
        .collect()
}

/// Whether `a` implies `b` for every attribute assignment. Sound, not complete: `false` means
/// "not shown" (also when the budget is spent).
fn implies(a: &Formula, b: &Formula, budget: &mut Budget) -> bool {
    if !budget.spend() {
        return false;
    }
    if a == b {
        return true;
    }
    match (a, b) {
        (Formula::False, _) | (_, Formula::True) => true,
        (Formula::True, _) | (_, Formula::False) => false,
        (Formula::Lit(x), Formula::Lit(y)) => literal_implies(x, y),
        (_, Formula::And(parts)) => parts.iter().all(|part| implies(a, part, budget)),
        (Formula::Or(parts), _) => parts.iter().all(|part| implies(part, b, budget)),
        (Formula::And(parts), Formula::Or(others)) => {
            parts.iter().any(|part| implies(part, b, budget))
                || others.iter().any(|other| implies(a, other, budget))
        }
        (Formula::And(parts), _) => parts.iter().any(|part| implies(part, b, budget)),
        (_, Formula::Or(others)) => others.iter().any(|other| implies(a, other, budget)),
    }
}

fn literal_implies(a: &Literal, b: &Literal) -> bool {
    match (a, b) {
        // Some value in S, so some value in T ⊇ S.
        (Literal::Hit(x, s), Literal::Hit(y, t)) => x == y && covers(s, t),
        (Literal::Hit(x, _), Literal::Present(y)) => x == y,
        // No value in T, so none in S ⊆ T.
        (Literal::Miss(x, t), Literal::Miss(y, s)) => x == y && covers(s, t),
        (Literal::Absent(x), Literal::Miss(y, _)) => x == y,
        _ => a == b,
    }
}

/// Whether every string some item of `inner` stands for is one some item of `outer` stands for.
fn covers(inner: &[Item], outer: &[Item]) -> bool {
    inner
        .iter()
        .all(|item| outer.iter().any(|o| item_implies(item, o)))
}

/// Whether every string `item` stands for is one `outer` stands for.
fn item_implies(item: &Item, outer: &Item) -> bool {
    match (item, outer) {
        (Item::Exact(x), Item::Exact(y)) => x == y,
        (Item::Exact(x), Item::Prefix(p)) => x.starts_with(&**p),
        (Item::Exact(x), Item::Pattern(g)) => Glob::new(g).matches(x),
        (Item::Prefix(p), Item::Prefix(q)) => p.starts_with(&**q),
        (Item::Prefix(p), Item::Pattern(g)) => Glob::new(g)
            .prefix_then_anything()
            .is_some_and(|head| p.starts_with(head.as_str())),
        (Item::Prefix(_), Item::Exact(_)) => false,
        (Item::Pattern(g), Item::Pattern(h)) => {
            g == h
                || Glob::new(h)
                    .prefix_then_anything()
                    .is_some_and(|head| Glob::new(g).literal_head().starts_with(head.as_str()))
        }
        (Item::Pattern(g), Item::Prefix(q)) => Glob::new(g).literal_head().starts_with(&**q),
        (Item::Pattern(g), Item::Exact(x)) => Glob::new(g).literal().is_some_and(|l| l == **x),
    }
}
