//! Conditions as formulas: every operator in an ALLOW and in a DENY, placeholders resolved for the
//! subject, list parameters, `global:environmentId` and time conditions; and the formulas checked
//! against [`CompiledCondition::evaluate`] on every small assignment.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code fails loudly

use std::collections::BTreeMap;

use warden_policy::parse_policy;

use super::*;
use crate::condition::{AttributeValue, Attributes, Glob};
use crate::params::ParamValue;

fn compile_with(text: &str, params: &[(&str, ParamValue)]) -> CompiledCondition {
    let policy = parse_policy(&format!("ALLOW a:b:c WHERE {text};"))
        .ok()
        .unwrap();
    let condition = &policy.statements[0].conditions[0];
    let params: BTreeMap<String, ParamValue> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    CompiledCondition::compile(
        &condition.name.node,
        condition.operator.node,
        &condition.value,
        &params,
    )
    .unwrap()
}

fn compile(text: &str) -> CompiledCondition {
    compile_with(text, &[])
}

const GROUPS: [&str; 2] = ["g-dev", "g-ops"];

fn groups() -> Vec<Id> {
    GROUPS.iter().map(|g| Id::from(*g)).collect()
}

/// The formula of `text` for user `u-1` in `g-dev` and `g-ops`, at `environment`.
fn formula_in(text: &str, deny: bool, environment: Option<&str>) -> Formula {
    let groups = groups();
    let subject = Subject {
        uid: "u-1",
        email: "ann@example.com",
        groups: &groups,
        environment,
    };
    condition(&compile(text), deny, &subject)
}

fn allow(text: &str) -> Formula {
    formula_in(text, false, Some("env-prod"))
}

fn deny(text: &str) -> Formula {
    formula_in(text, true, Some("env-prod"))
}

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

const X: &str = "x:y";

#[test]
fn positive_operators_read_as_some_value_in_the_set() {
    for (text, items) in [
        (r#"x:y = "a""#, vec![exact("a")]),
        (r#"x:y startsWith "a""#, vec![prefix("a")]),
        (r#"x:y IN ("b", "a", "b")"#, vec![exact("a"), exact("b")]),
        (r#"x:y MATCH "a*""#, vec![pattern("a*")]),
        (
            r#"x:y MATCH ("b?", "a\\*")"#,
            vec![pattern("a\\*"), pattern("b?")],
        ),
    ] {
        // An ALLOW needs a value in the set; the attribute missing makes it false.
        assert_eq!(allow(text), hit(X, &items), "ALLOW {text}");
        // A DENY holds as well when the attribute is missing.
        assert_eq!(
            deny(text),
            Formula::Or(vec![hit(X, &items), absent(X)]),
            "DENY {text}"
        );
    }
}

#[test]
fn negated_operators_read_as_no_value_in_the_set() {
    for (text, items) in [
        (r#"x:y != "a""#, vec![exact("a")]),
        (r#"x:y NOT startsWith "a""#, vec![prefix("a")]),
        (r#"x:y NOT IN ("b", "a")"#, vec![exact("a"), exact("b")]),
    ] {
        // An ALLOW needs the attribute given, with no value in the set.
        assert_eq!(
            allow(text),
            Formula::And(vec![miss(X, &items), present(X)]),
            "ALLOW {text}"
        );
        // A DENY holds unless some value is in the set: missing counts as holding.
        assert_eq!(deny(text), miss(X, &items), "DENY {text}");
    }
}

#[test]
fn user_placeholders_resolve_for_the_subject() {
    assert_eq!(
        allow(r#"x:y = "own-${global:userId}""#),
        hit(X, &[exact("own-u-1")])
    );
    assert_eq!(
        allow(r#"x:y IN ("a", "${global:userGroup}")"#),
        hit(X, &[exact("a"), exact("g-dev"), exact("g-ops")])
    );
    assert_eq!(
        deny(r#"x:y NOT IN ("${global:userGroup}")"#),
        miss(X, &[exact("g-dev"), exact("g-ops")])
    );
    // In `MATCH` every group id is a pattern.
    assert_eq!(
        allow(r#"x:y MATCH ("${global:userGroup}", "z*")"#),
        hit(X, &[pattern("g-dev"), pattern("g-ops"), pattern("z*")])
    );
    assert_eq!(
        allow(r#"x:y MATCH ("${global:userId}*", "z")"#),
        hit(X, &[pattern("u-1*"), pattern("z")])
    );
    assert_eq!(
        allow(r#"x:y = "${global:userEmail}""#),
        hit(X, &[exact("ann@example.com")])
    );
}

#[test]
fn an_environment_placeholder_resolves_in_an_environment_and_is_missing_at_account_level() {
    let at =
        |text: &str, deny: bool, environment: Option<&str>| formula_in(text, deny, environment);
    let one = r#"x:y = "pre-${global:environmentId}""#;
    assert_eq!(
        at(one, false, Some("env-prod")),
        hit(X, &[exact("pre-env-prod")])
    );
    // Unresolved, the value a one-string condition needs is missing.
    assert_eq!(at(one, false, None), Formula::False);
    assert_eq!(at(one, true, None), Formula::True);
    let negated = r#"x:y != "${global:environmentId}""#;
    assert_eq!(at(negated, false, None), Formula::False);
    assert_eq!(at(negated, true, None), Formula::True);

    // In a list, an item that cannot be resolved might have matched: a match among the other
    // items still counts, a non-match is missing.
    let list = r#"x:y IN ("a", "${global:environmentId}")"#;
    assert_eq!(
        at(list, false, Some("env-dev")),
        hit(X, &[exact("a"), exact("env-dev")])
    );
    assert_eq!(at(list, false, None), hit(X, &[exact("a")]));
    assert_eq!(at(list, true, None), Formula::True);
    let excluded = r#"x:y NOT IN ("a", "${global:environmentId}")"#;
    assert_eq!(at(excluded, false, None), Formula::False);
    assert_eq!(at(excluded, true, None), miss(X, &[exact("a")]));
    let patterns = r#"x:y MATCH ("a*", "${global:environmentId}")"#;
    assert_eq!(at(patterns, false, None), hit(X, &[pattern("a*")]));
    assert_eq!(at(patterns, true, None), Formula::True);
    assert_eq!(
        at(patterns, true, Some("env-prod")),
        Formula::Or(vec![
            hit(X, &[pattern("a*"), pattern("env-prod")]),
            absent(X)
        ])
    );
}

#[test]
fn bind_parameters_are_substituted_before() {
    let one = compile_with(
        r#"x:y startsWith "team-${bindParam:t}-""#,
        &[("t", ParamValue::One("ops".to_owned()))],
    );
    let groups = groups();
    let subject = Subject {
        uid: "u-1",
        email: "ann@example.com",
        groups: &groups,
        environment: None,
    };
    assert_eq!(
        condition(&one, false, &subject),
        hit(X, &[prefix("team-ops-")])
    );
    let many = compile_with(
        r#"x:y IN ("z", "${bindParam:t}")"#,
        &[("t", ParamValue::Many(vec!["b".to_owned(), "a".to_owned()]))],
    );
    assert_eq!(
        condition(&many, true, &subject),
        Formula::Or(vec![
            hit(X, &[exact("a"), exact("b"), exact("z")]),
            absent(X)
        ])
    );
    // A parameter's value in `MATCH` is a pattern like the literal it stands for.
    let glob = compile_with(
        r#"x:y MATCH ("${bindParam:t}")"#,
        &[("t", ParamValue::Many(vec!["a*".to_owned()]))],
    );
    assert_eq!(condition(&glob, false, &subject), hit(X, &[pattern("a*")]));
}

#[test]
fn the_environment_condition_is_decided_by_the_level() {
    let eq = r#"global:environmentId = "env-prod""#;
    assert_eq!(formula_in(eq, false, Some("env-prod")), Formula::True);
    assert_eq!(formula_in(eq, false, Some("env-dev")), Formula::False);
    assert_eq!(formula_in(eq, true, Some("env-dev")), Formula::False);
    // At account level there is no environment: missing.
    assert_eq!(formula_in(eq, false, None), Formula::False);
    assert_eq!(formula_in(eq, true, None), Formula::True);
    let not_in = r#"global:environmentId NOT IN ("env-prod", "env-x")"#;
    assert_eq!(formula_in(not_in, false, Some("env-dev")), Formula::True);
    assert_eq!(formula_in(not_in, true, Some("env-prod")), Formula::False);
    assert_eq!(formula_in(not_in, true, None), Formula::True);
}

#[test]
fn time_conditions_are_opaque_facts_named_by_their_text() {
    for text in [
        r#"global:date-time < "2030-01-01T00:00:00Z""#,
        r#"global:time-of-day > "08:00""#,
        r#"global:week-day IN ("Monday", "Friday")"#,
        r#"global:date = "2026-05-02""#,
    ] {
        let fact = Formula::Lit(Literal::Time(compile(text).render().into(), true));
        // Time is always given: an ALLOW and a DENY read it alike.
        assert_eq!(allow(text), fact, "ALLOW {text}");
        assert_eq!(deny(text), fact, "DENY {text}");
        assert_eq!(
            allow(text).negate(),
            Formula::Lit(Literal::Time(compile(text).render().into(), false))
        );
    }
    assert_eq!(
        allow(r#"global:date-time < "2030-01-01T00:00:00Z""#),
        Formula::Lit(Literal::Time(
            r#"global:date-time < "2030-01-01T00:00:00Z""#.into(),
            true
        ))
    );
}

#[test]
fn statements_and_their_clauses_and_boundary_alternatives_or() {
    let groups = groups();
    let subject = Subject {
        uid: "u-1",
        email: "ann@example.com",
        groups: &groups,
        environment: Some("env-prod"),
    };
    let clauses = vec![
        Clause::One(compile(r#"x:y = "a""#)),
        Clause::AnyOf(vec![compile(r#"b:c startsWith "p""#), compile(r#"b:c = "q""#)].into()),
    ];
    assert_eq!(
        statement(&clauses, false, &subject),
        Formula::And(vec![
            hit(X, &[exact("a")]),
            Formula::Or(vec![hit("b:c", &[exact("q")]), hit("b:c", &[prefix("p")])]),
        ])
    );
    // In a DENY, the alternatives that hold when `b:c` is missing merge into one `Absent`.
    assert_eq!(
        statement(&clauses, true, &subject),
        Formula::And(vec![
            Formula::Or(vec![
                hit("b:c", &[exact("q")]),
                hit("b:c", &[prefix("p")]),
                absent("b:c")
            ]),
            Formula::Or(vec![hit(X, &[exact("a")]), absent(X)]),
        ])
    );
    assert_eq!(statement(&[], false, &subject), Formula::True);
    // A clause that cannot hold here makes the statement false.
    let elsewhere = vec![
        Clause::One(compile(r#"x:y = "a""#)),
        Clause::One(compile(r#"global:environmentId = "env-dev""#)),
    ];
    assert_eq!(statement(&elsewhere, false, &subject), Formula::False);
}

#[test]
fn formulas_stay_flat_sorted_and_in_negation_normal_form() {
    let a = hit(X, &[exact("a")]);
    let b = present("b:c");
    assert_eq!(Formula::and([]), Formula::True);
    assert_eq!(Formula::or([]), Formula::False);
    assert_eq!(Formula::and([a.clone(), Formula::True]), a);
    assert_eq!(Formula::and([a.clone(), Formula::False]), Formula::False);
    assert_eq!(Formula::or([a.clone(), Formula::True]), Formula::True);
    assert_eq!(
        Formula::and([b.clone(), Formula::and([a.clone(), b.clone()])]),
        Formula::And(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        Formula::or([a.clone(), Formula::or([b.clone(), a.clone()])]),
        Formula::Or(vec![a.clone(), b.clone()])
    );
    assert_eq!(
        Formula::And(vec![a.clone(), b.clone()]).negate(),
        Formula::Or(vec![miss(X, &[exact("a")]), absent("b:c")])
    );
    assert_eq!(
        Formula::Or(vec![a.clone(), b.clone()]).negate(),
        Formula::And(vec![miss(X, &[exact("a")]), absent("b:c")])
    );
    assert_eq!(Formula::True.negate(), Formula::False);
    let nested = Formula::And(vec![a.clone(), Formula::Or(vec![miss(X, &[]), b.clone()])]);
    assert_eq!(nested.negate().negate(), nested);
}

#[test]
fn what_depends_on_the_principal() {
    for (text, depends) in [
        (r#"x:y = "${global:userId}""#, true),
        (r#"x:y IN ("${global:userGroup}")"#, true),
        (r#"x:y MATCH ("${global:userGroup}")"#, true),
        (r#"x:y IN ("a", "u-${global:userId}")"#, true),
        (r#"x:y = "${global:environmentId}""#, false),
        (r#"x:y IN ("a", "b")"#, false),
        (r#"global:date < "2030-01-01""#, false),
    ] {
        assert_eq!(depends_on_principal(&compile(text)), depends, "{text}");
    }
}

// ---- the formulas against evaluation ---------------------------------------------------------

/// Whether a formula holds for attribute values (missing: not in the map); `None` for time facts.
fn holds(formula: &Formula, attributes: &BTreeMap<&str, Vec<&str>>) -> Option<bool> {
    let values = |name: &str| attributes.get(name).cloned().unwrap_or_default();
    let in_set = |value: &str, set: &[Item]| {
        set.iter().any(|item| match item {
            Item::Exact(exact) => **exact == *value,
            Item::Prefix(prefix) => value.starts_with(&**prefix),
            Item::Pattern(pattern) => Glob::new(pattern).matches(value),
        })
    };
    Some(match formula {
        Formula::True => true,
        Formula::False => false,
        Formula::Lit(Literal::Hit(name, set)) => values(name).iter().any(|v| in_set(v, set)),
        Formula::Lit(Literal::Miss(name, set)) => !values(name).iter().any(|v| in_set(v, set)),
        Formula::Lit(Literal::Present(name)) => !values(name).is_empty(),
        Formula::Lit(Literal::Absent(name)) => values(name).is_empty(),
        Formula::Lit(Literal::Time(..)) => return None,
        Formula::And(parts) => {
            let mut all = true;
            for part in parts {
                all &= holds(part, attributes)?;
            }
            all
        }
        Formula::Or(parts) => {
            let mut any = false;
            for part in parts {
                any |= holds(part, attributes)?;
            }
            any
        }
    })
}

#[test]
fn formulas_agree_with_evaluation_on_every_small_assignment() {
    let conditions = [
        r#"x:y = "a""#,
        r#"x:y != "a""#,
        r#"x:y startsWith "a""#,
        r#"x:y NOT startsWith "a""#,
        r#"x:y IN ("a", "b")"#,
        r#"x:y NOT IN ("a", "b")"#,
        r#"x:y MATCH "a*""#,
        r#"x:y MATCH ("?b", "\\*")"#,
        r#"x:y = "${global:userId}""#,
        r#"x:y IN ("${global:userGroup}")"#,
        r#"x:y NOT IN ("${global:userGroup}", "a")"#,
        r#"x:y MATCH ("${global:userGroup}")"#,
        r#"x:y = "${global:environmentId}""#,
        r#"x:y != "${global:environmentId}""#,
        r#"x:y startsWith "${global:environmentId}""#,
        r#"x:y NOT startsWith "${global:environmentId}""#,
        r#"x:y IN ("a", "${global:environmentId}")"#,
        r#"x:y NOT IN ("a", "${global:environmentId}")"#,
        r#"x:y MATCH ("a", "${global:environmentId}*")"#,
        r#"global:environmentId = "env-prod""#,
        r#"global:environmentId NOT IN ("env-prod")"#,
    ];
    let values = [
        "a",
        "ab",
        "b",
        "",
        "*",
        "u-1",
        "g-ops",
        "env-prod",
        "env-prodx",
    ];
    let mut assignments: Vec<Option<Vec<&str>>> = vec![None, Some(Vec::new())];
    for (i, first) in values.iter().enumerate() {
        assignments.push(Some(vec![first]));
        for second in values.iter().skip(i + 1) {
            assignments.push(Some(vec![first, second]));
        }
    }
    let groups = groups();
    for text in conditions {
        let compiled = compile(text);
        for environment in [None, Some("env-prod"), Some("env-dev")] {
            let subject = Subject {
                uid: "u-1",
                email: "ann@example.com",
                groups: &groups,
                environment,
            };
            for assignment in &assignments {
                let mut request: Attributes = Attributes::new();
                let mut symbolic: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
                if let Some(values) = assignment {
                    request.insert(
                        X.to_owned(),
                        AttributeValue::Many(values.iter().map(|v| (*v).to_owned()).collect()),
                    );
                    symbolic.insert(X, values.clone());
                }
                let ctx = Context {
                    attributes: &request,
                    environment,
                    time: 0,
                    user_id: "u-1",
                    user_email: "ann@example.com",
                    user_groups: &groups,
                };
                for deny in [false, true] {
                    let formula = condition(&compiled, deny, &subject);
                    assert_eq!(
                        holds(&formula, &symbolic),
                        Some(compiled.evaluate(&ctx).holds(deny)),
                        "{text} ({}) at {environment:?} with {assignment:?}: {formula:?}",
                        if deny { "DENY" } else { "ALLOW" }
                    );
                }
            }
        }
    }
}
