//! The prover: each kind of literal's contradictions, coverage of exact, prefix and pattern items
//! by excluded sets, unit propagation and splitting, and the budget.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code fails loudly

use super::*;

fn exact(value: &str) -> Item {
    Item::Exact(value.into())
}

fn prefix(value: &str) -> Item {
    Item::Prefix(value.into())
}

fn pattern(value: &str) -> Item {
    Item::Pattern(value.into())
}

fn hit(name: &str, items: &[Item]) -> Formula {
    Formula::Lit(Literal::Hit(name.into(), items.into()))
}

fn miss(name: &str, items: &[Item]) -> Formula {
    Formula::Lit(Literal::Miss(name.into(), items.into()))
}

fn present(name: &str) -> Formula {
    Formula::Lit(Literal::Present(name.into()))
}

fn absent(name: &str) -> Formula {
    Formula::Lit(Literal::Absent(name.into()))
}

fn time(text: &str, holds: bool) -> Formula {
    Formula::Lit(Literal::Time(text.into(), holds))
}

const X: &str = "x:y";
const Y: &str = "y:z";

/// The proof with a generous budget.
fn prove(formulas: &[Formula]) -> Proof {
    let refs: Vec<&Formula> = formulas.iter().collect();
    prove_unsatisfiable(&refs, &mut Budget(10_000))
}

fn unsatisfiable(formulas: &[Formula]) -> bool {
    prove(formulas) == Proof::Unsatisfiable
}

#[test]
fn constants() {
    assert_eq!(prove(&[]), Proof::Unknown);
    assert_eq!(prove(&[Formula::True]), Proof::Unknown);
    assert_eq!(prove(&[Formula::False]), Proof::Unsatisfiable);
    assert_eq!(prove(&[Formula::Or(Vec::new())]), Proof::Unsatisfiable);
    assert_eq!(prove(&[Formula::And(Vec::new())]), Proof::Unknown);
}

#[test]
fn time_facts_contradict_only_their_own_negation() {
    let before = r#"global:date-time < "2030-01-01T00:00:00Z""#;
    let after = r#"global:date-time > "2031-01-01T00:00:00Z""#;
    assert!(unsatisfiable(&[time(before, true), time(before, false)]));
    assert!(!unsatisfiable(&[time(before, true), time(before, true)]));
    // Facts of different texts are independent, even where the clock would decide them.
    assert!(!unsatisfiable(&[time(before, true), time(after, true)]));
}

#[test]
fn given_and_missing() {
    assert!(unsatisfiable(&[present(X), absent(X)]));
    assert!(unsatisfiable(&[hit(X, &[exact("a")]), absent(X)]));
    assert!(!unsatisfiable(&[miss(X, &[exact("a")]), absent(X)]));
    assert!(!unsatisfiable(&[present(X), miss(X, &[exact("a")])]));
    assert!(!unsatisfiable(&[present(X), absent(Y)]));
    // Excluding every string leaves no value to give.
    assert!(unsatisfiable(&[present(X), miss(X, &[prefix("")])]));
    assert!(unsatisfiable(&[present(X), miss(X, &[pattern("*")])]));
    assert!(unsatisfiable(&[present(X), miss(X, &[pattern("**")])]));
    assert!(!unsatisfiable(&[present(X), miss(X, &[pattern("?*")])]));
    assert!(!unsatisfiable(&[present(X), miss(X, &[pattern("\\*")])]));
    assert!(!unsatisfiable(&[absent(X), miss(X, &[prefix("")])]));
}

#[test]
fn an_exact_value_is_covered_by_what_contains_it() {
    let ab = || hit(X, &[exact("ab")]);
    assert!(unsatisfiable(&[ab(), miss(X, &[exact("ab")])]));
    assert!(unsatisfiable(&[ab(), miss(X, &[prefix("a")])]));
    assert!(unsatisfiable(&[ab(), miss(X, &[prefix("ab")])]));
    assert!(unsatisfiable(&[ab(), miss(X, &[pattern("a?")])]));
    assert!(unsatisfiable(&[ab(), miss(X, &[pattern("*b")])]));
    assert!(!unsatisfiable(&[ab(), miss(X, &[exact("a")])]));
    assert!(!unsatisfiable(&[ab(), miss(X, &[prefix("abc")])]));
    assert!(!unsatisfiable(&[ab(), miss(X, &[pattern("b*")])]));
    assert!(!unsatisfiable(&[ab(), miss(X, &[pattern("?")])]));
    // Comparison is exact.
    assert!(!unsatisfiable(&[ab(), miss(X, &[exact("AB")])]));
    // Another attribute's exclusions do not count.
    assert!(!unsatisfiable(&[ab(), miss(Y, &[exact("ab")])]));
}

#[test]
fn a_prefix_is_covered_by_a_shorter_prefix() {
    let team_a = || hit(X, &[prefix("team_a")]);
    assert!(unsatisfiable(&[team_a(), miss(X, &[prefix("team_")])]));
    assert!(unsatisfiable(&[team_a(), miss(X, &[prefix("team_a")])]));
    assert!(unsatisfiable(&[team_a(), miss(X, &[pattern("team*")])]));
    assert!(unsatisfiable(&[team_a(), miss(X, &[prefix("")])]));
    assert!(!unsatisfiable(&[team_a(), miss(X, &[prefix("team_ab")])]));
    assert!(!unsatisfiable(&[team_a(), miss(X, &[exact("team_a")])]));
    // Only `head*` patterns are read as prefixes.
    assert!(!unsatisfiable(&[team_a(), miss(X, &[pattern("t?am*")])]));
    assert!(!unsatisfiable(&[team_a(), miss(X, &[pattern("team*a")])]));
}

#[test]
fn a_pattern_is_covered_through_its_literal_head_or_by_itself() {
    // Without wildcards a pattern is one string.
    assert!(unsatisfiable(&[
        hit(X, &[pattern("a\\*")]),
        miss(X, &[exact("a*")])
    ]));
    assert!(!unsatisfiable(&[
        hit(X, &[pattern("a\\*")]),
        miss(X, &[exact("a")])
    ]));
    // Every match of `team_*_x` starts with `team_`.
    let glob = || hit(X, &[pattern("team_*_x")]);
    assert!(unsatisfiable(&[glob(), miss(X, &[prefix("team_")])]));
    assert!(unsatisfiable(&[glob(), miss(X, &[pattern("te*")])]));
    assert!(!unsatisfiable(&[glob(), miss(X, &[prefix("team_a")])]));
    // The same pattern, however written.
    assert!(unsatisfiable(&[glob(), miss(X, &[pattern("team_**_x")])]));
    assert!(!unsatisfiable(&[glob(), miss(X, &[pattern("team_*_y")])]));
    assert!(!unsatisfiable(&[
        hit(X, &[pattern("a*")]),
        miss(X, &[exact("a")])
    ]));
}

#[test]
fn a_required_set_needs_one_item_outside_every_exclusion() {
    let ab = || hit(X, &[exact("a"), exact("b")]);
    assert!(!unsatisfiable(&[ab(), miss(X, &[exact("a")])]));
    // Exclusions accumulate over literals.
    assert!(unsatisfiable(&[
        ab(),
        miss(X, &[exact("a")]),
        miss(X, &[exact("b")])
    ]));
    assert!(unsatisfiable(&[ab(), miss(X, &[exact("b"), prefix("a")])]));
    // Several required sets: each needs a value of its own (a request may give several).
    assert!(!unsatisfiable(&[
        hit(X, &[exact("a")]),
        hit(X, &[exact("b")]),
        miss(X, &[exact("c")])
    ]));
    assert!(unsatisfiable(&[
        hit(X, &[exact("a")]),
        hit(X, &[exact("b")]),
        miss(X, &[exact("b")])
    ]));
    // An empty set holds no value.
    assert!(unsatisfiable(&[hit(X, &[])]));
    assert!(!unsatisfiable(&[present(X), miss(X, &[])]));
}

#[test]
fn coverage_by_a_union_of_exclusions_is_not_noticed() {
    // Every string starting with `a` is `a` or longer: covered together, not by one exclusion.
    // The prover answers `Unknown`, which refuses — never the unsound way round.
    assert_eq!(
        prove(&[
            hit(X, &[prefix("a")]),
            miss(X, &[exact("a")]),
            miss(X, &[pattern("a?*")])
        ]),
        Proof::Unknown
    );
}

#[test]
fn coverage_helpers() {
    assert!(universal(&prefix("")));
    assert!(universal(&pattern("*")));
    assert!(!universal(&pattern("a*")));
    assert!(!universal(&exact("")));
    assert!(covered(&exact(""), &[prefix("")]));
    assert!(covered(&exact("x"), &[exact("y"), pattern("?")]));
    assert!(!covered(&exact("x"), &[]));
    assert!(covered(&prefix("abc"), &[pattern("ab*")]));
    assert!(!covered(&prefix("abc"), &[pattern("ab?")]));
    assert!(covered(&pattern("ab?c*"), &[prefix("ab")]));
    assert!(!covered(&pattern("?b"), &[prefix("a")]));
}

#[test]
fn a_disjunction_with_one_live_child_is_that_child() {
    // (x = a ∨ y given) ∧ x ≠ a ∧ y missing: both children are dead, no split needed.
    let formulas = [
        Formula::Or(vec![hit(X, &[exact("a")]), present(Y)]),
        miss(X, &[exact("a")]),
        absent(Y),
    ];
    assert!(unsatisfiable(&formulas));
    // A chain: (A ∨ B) ∧ (¬B ∨ C) ∧ ¬A ∧ ¬C, settled by propagation alone, in a few steps.
    let a = hit(X, &[exact("a")]);
    let b = present(Y);
    let c = time("t", true);
    let chain = [
        Formula::Or(vec![a.clone(), b.clone()]),
        Formula::Or(vec![b.negate(), c.clone()]),
        a.negate(),
        c.negate(),
    ];
    let refs: Vec<&Formula> = chain.iter().collect();
    let mut budget = Budget(12);
    assert_eq!(
        prove_unsatisfiable(&refs, &mut budget),
        Proof::Unsatisfiable
    );
    // A child that is a conjunction is dead when one of its literals contradicts.
    let conjunction = [
        Formula::Or(vec![
            Formula::And(vec![hit(X, &[exact("a")]), present(Y)]),
            absent(X),
        ]),
        miss(X, &[exact("a")]),
        present(X),
    ];
    assert!(unsatisfiable(&conjunction));
}

/// (A ∨ B) ∧ (A ∨ ¬B) ∧ (¬A ∨ B) ∧ (¬A ∨ ¬B): no disjunction is a unit until one is split.
fn every_combination_excluded() -> Vec<Formula> {
    let a = time("t", true);
    let b = present(Y);
    vec![
        Formula::Or(vec![a.clone(), b.clone()]),
        Formula::Or(vec![a.clone(), b.negate()]),
        Formula::Or(vec![a.negate(), b.clone()]),
        Formula::Or(vec![a.negate(), b.negate()]),
    ]
}

#[test]
fn disjunctions_are_split_until_every_branch_fails() {
    let unsat = every_combination_excluded();
    assert!(unsatisfiable(&unsat));
    // Any three of the four leave one combination.
    for left_out in 0..4 {
        let mut three = unsat.clone();
        three.remove(left_out);
        assert_eq!(prove(&three), Proof::Unknown, "without clause {left_out}");
    }
    // Nested: A ∨ (B ∧ (B excluded ∨ missing)), with ¬A.
    let a = hit(X, &[exact("a")]);
    let b = hit(X, &[exact("b")]);
    let nested = [
        Formula::Or(vec![
            a.clone(),
            Formula::And(vec![
                b.clone(),
                Formula::Or(vec![miss(X, &[exact("b")]), absent(X)]),
            ]),
        ]),
        a.negate(),
    ];
    assert!(unsatisfiable(&nested));
}

#[test]
fn running_out_of_budget_answers_unknown() {
    let unsat = every_combination_excluded();
    let refs: Vec<&Formula> = unsat.iter().collect();
    let mut enough = Budget(1_000);
    assert_eq!(
        prove_unsatisfiable(&refs, &mut enough),
        Proof::Unsatisfiable
    );
    let spent = 1_000 - enough.0;
    assert!(spent > 4, "splitting costs more than reading the goals");
    for short in 0..spent {
        let mut budget = Budget(short);
        assert_eq!(
            prove_unsatisfiable(&refs, &mut budget),
            Proof::Unknown,
            "budget {short} of {spent}"
        );
        assert_eq!(budget.0, 0, "an exhausted budget is left at zero");
    }
    let mut exact_budget = Budget(spent);
    assert_eq!(
        prove_unsatisfiable(&refs, &mut exact_budget),
        Proof::Unsatisfiable
    );
}

#[test]
fn the_questions_of_the_escalation_check() {
    // Is `bucket = "team_a"` within `bucket startsWith "team_"`? The region and the negated
    // holding are unsatisfiable together.
    let bucket = "storage:bucket-name";
    let region = hit(bucket, &[exact("team_a")]);
    let held = hit(bucket, &[prefix("team_")]);
    assert!(unsatisfiable(&[region.clone(), held.negate()]));
    // `bucket != "secret"` does not cover `bucket = "a"`: a request may give both values.
    let held = Formula::And(vec![miss(bucket, &[exact("secret")]), present(bucket)]);
    assert!(!unsatisfiable(&[region.clone(), held.negate()]));
    // `bucket NOT IN ("secret", "other")` is within `bucket != "secret"`.
    let region = Formula::And(vec![
        miss(bucket, &[exact("other"), exact("secret")]),
        present(bucket),
    ]);
    assert!(unsatisfiable(&[region, held.negate()]));
}
