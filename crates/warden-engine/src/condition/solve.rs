//! Proving that a [`Formula`] has no satisfying request.
//!
//! The prover is sound and deliberately incomplete: [`Proof::Unsatisfiable`] means that no
//! assignment of attribute values (and no time) satisfies the formula; anything else —
//! [`Proof::Unknown`] — means it could not show that, either because the formula is satisfiable
//! or because the question was too hard for the budget. Callers that guard access treat `Unknown`
//! as "possible", so an incomplete answer refuses and never widens.
//!
//! The search is a small DPLL: conjunctions are taken apart, a disjunction with a single child
//! that can still hold is taken as that child (unit propagation), and otherwise the disjunction
//! with the fewest live children is split. The theory of one attribute (a set of strings) is
//! checked as literals arrive: a value both required and excluded, "given" and "missing" together,
//! or a set that the excluded sets provably cover. Coverage is checked item by item with sufficient
//! conditions only (a union of exclusions that covers a pattern only together is not noticed),
//! which again can only answer `Unknown` too often.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Glob;
use super::symbolic::{Formula, Item, Literal};

/// The answer of [`prove_unsatisfiable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// No request satisfies the formula.
    Unsatisfiable,
    /// Some request may satisfy it (or the budget ran out before a proof).
    Unknown,
}

/// The work one proof may do: branches explored plus literals checked.
#[derive(Debug, Clone, Copy)]
pub struct Budget(pub u32);

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

/// Proves that no request satisfies all of `formulas` (their conjunction), within `budget`.
pub fn prove_unsatisfiable(formulas: &[&Formula], budget: &mut Budget) -> Proof {
    let mut state = State::default();
    let goals: Vec<&Formula> = formulas.to_vec();
    match search(&mut state, goals, budget) {
        Some(true) => Proof::Unsatisfiable,
        _ => Proof::Unknown,
    }
}

/// What the literals taken so far say about each attribute.
#[derive(Debug, Clone, Default)]
struct Attr {
    present: bool,
    absent: bool,
    hits: Vec<Arc<[Item]>>,
    misses: Vec<Item>,
}

#[derive(Debug, Clone, Default)]
struct State {
    attributes: BTreeMap<Box<str>, Attr>,
    times: BTreeMap<Box<str>, bool>,
}

impl State {
    /// Adds a literal; `false` when it contradicts what is there.
    fn add(&mut self, literal: &Literal) -> bool {
        match literal {
            Literal::Time(text, holds) => match self.times.get(text) {
                Some(previous) => previous == holds,
                None => {
                    self.times.insert(text.clone(), *holds);
                    true
                }
            },
            Literal::Hit(name, set) => {
                let attr = self.attributes.entry(name.clone()).or_default();
                attr.hits.push(Arc::clone(set));
                attr.consistent()
            }
            Literal::Miss(name, set) => {
                let attr = self.attributes.entry(name.clone()).or_default();
                attr.misses.extend(set.iter().cloned());
                attr.consistent()
            }
            Literal::Present(name) => {
                let attr = self.attributes.entry(name.clone()).or_default();
                attr.present = true;
                attr.consistent()
            }
            Literal::Absent(name) => {
                let attr = self.attributes.entry(name.clone()).or_default();
                attr.absent = true;
                attr.consistent()
            }
        }
    }

    /// Whether adding the literal would contradict the state (the state is left unchanged).
    fn contradicts(&self, literal: &Literal) -> bool {
        let mut trial = match literal {
            Literal::Time(text, holds) => {
                return self
                    .times
                    .get(text)
                    .is_some_and(|previous| previous != holds);
            }
            Literal::Hit(name, _)
            | Literal::Miss(name, _)
            | Literal::Present(name)
            | Literal::Absent(name) => State {
                attributes: self
                    .attributes
                    .get(name)
                    .map(|attr| (name.clone(), attr.clone()))
                    .into_iter()
                    .collect(),
                times: BTreeMap::new(),
            },
        };
        !trial.add(literal)
    }
}

impl Attr {
    fn consistent(&self) -> bool {
        let given = self.present || !self.hits.is_empty();
        if self.absent && given {
            return false;
        }
        if self.present && self.misses.iter().any(universal) {
            return false;
        }
        // Several values may be given: each required set needs a value of its own outside the
        // excluded ones, so each is checked alone.
        !self
            .hits
            .iter()
            .any(|set| set.iter().all(|item| covered(item, &self.misses)))
    }
}

/// Whether the item is every string.
fn universal(item: &Item) -> bool {
    match item {
        Item::Prefix(prefix) => prefix.is_empty(),
        Item::Pattern(pattern) => Glob::new(pattern).prefix_then_anything() == Some(String::new()),
        Item::Exact(_) => false,
    }
}

/// Whether every string of `item` lies in one of `misses` (sufficient conditions only).
fn covered(item: &Item, misses: &[Item]) -> bool {
    match item {
        Item::Exact(value) => misses.iter().any(|miss| contains(miss, value)),
        Item::Prefix(prefix) => misses.iter().any(|miss| covers_prefix(miss, prefix)),
        Item::Pattern(pattern) => {
            let glob = Glob::new(pattern);
            if let Some(literal) = glob.literal() {
                return misses.iter().any(|miss| contains(miss, &literal));
            }
            // Every string the pattern matches starts with its literal head.
            let head = glob.literal_head();
            misses.iter().any(|miss| {
                covers_prefix(miss, &head)
                    || matches!(miss, Item::Pattern(other) if Glob::new(other).tokens == glob.tokens)
            })
        }
    }
}

fn contains(item: &Item, value: &str) -> bool {
    match item {
        Item::Exact(exact) => **exact == *value,
        Item::Prefix(prefix) => value.starts_with(&**prefix),
        Item::Pattern(pattern) => Glob::new(pattern).matches(value),
    }
}

/// Whether `item` holds every string that starts with `prefix`.
fn covers_prefix(item: &Item, prefix: &str) -> bool {
    match item {
        Item::Exact(_) => false,
        Item::Prefix(other) => prefix.starts_with(&**other),
        Item::Pattern(pattern) => Glob::new(pattern)
            .prefix_then_anything()
            .is_some_and(|head| prefix.starts_with(&head)),
    }
}

/// `Some(true)`: the goals cannot all hold; `Some(false)`: they may; `None`: out of budget.
fn search<'f>(state: &mut State, mut goals: Vec<&'f Formula>, budget: &mut Budget) -> Option<bool> {
    // The disjunctions met so far, each a `Formula::Or`.
    let mut pending: Vec<&'f Formula> = Vec::new();
    loop {
        // Take conjunctions apart and literals in, until only disjunctions are left.
        while let Some(goal) = goals.pop() {
            if !budget.spend() {
                return None;
            }
            match goal {
                Formula::True => {}
                Formula::False => return Some(true),
                Formula::Lit(literal) => {
                    if !state.add(literal) {
                        return Some(true);
                    }
                }
                Formula::And(parts) => goals.extend(parts.iter()),
                Formula::Or(_) => pending.push(goal),
            }
        }
        // Unit propagation: a disjunction with one child that can still hold is that child.
        let mut best: Option<(usize, Vec<&'f Formula>)> = None;
        let mut unit: Option<(usize, &'f Formula)> = None;
        for (index, disjunction) in pending.iter().enumerate() {
            if !budget.spend() {
                return None;
            }
            let live: Vec<&'f Formula> = children(disjunction)
                .iter()
                .filter(|part| !dead(state, part))
                .collect();
            match live.as_slice() {
                [] => return Some(true),
                [only] => {
                    unit = Some((index, only));
                    break;
                }
                _ => {
                    if best.as_ref().is_none_or(|(_, b)| live.len() < b.len()) {
                        best = Some((index, live));
                    }
                }
            }
        }
        if let Some((index, only)) = unit {
            pending.swap_remove(index);
            goals.push(only);
            continue;
        }
        let Some((index, live)) = best else {
            // Nothing left to split: the literals taken are consistent.
            return Some(false);
        };
        pending.swap_remove(index);
        for child in live {
            let mut branch = state.clone();
            let mut branch_goals: Vec<&'f Formula> = pending.clone();
            branch_goals.push(child);
            match search(&mut branch, branch_goals, budget) {
                Some(true) => {}
                other => return other,
            }
        }
        return Some(true);
    }
}

fn children(formula: &Formula) -> &[Formula] {
    match formula {
        Formula::Or(parts) => parts,
        _ => std::slice::from_ref(formula),
    }
}

/// Whether a child of a disjunction certainly cannot hold in this state.
fn dead(state: &State, formula: &Formula) -> bool {
    match formula {
        Formula::False => true,
        Formula::Lit(literal) => state.contradicts(literal),
        Formula::And(parts) => parts.iter().any(|part| match part {
            Formula::Lit(literal) => state.contradicts(literal),
            Formula::False => true,
            _ => false,
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
