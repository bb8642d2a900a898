use super::glob::GlobToken;
use super::*;
use warden_policy::parse_policy;

fn compile(text: &str, params: &[(&str, ParamValue)]) -> CompiledCondition {
    let policy = parse_policy(&format!("ALLOW a:b:c WHERE {text};"))
        .ok()
        .unwrap();
    let condition = &policy.statements[0].conditions[0];
    let params = params
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

fn attrs(pairs: &[(&str, &[&str])]) -> Attributes {
    pairs
        .iter()
        .map(|(k, v)| {
            let value = if v.len() == 1 {
                AttributeValue::One(v[0].to_owned())
            } else {
                AttributeValue::Many(v.iter().map(|s| (*s).to_owned()).collect())
            };
            ((*k).to_owned(), value)
        })
        .collect()
}

const GROUPS: [&str; 2] = ["g-ops", "g-dev"];

fn eval(text: &str, attributes: &Attributes) -> Truth {
    eval_in(text, attributes, Some("env-prod"))
}

fn eval_in(text: &str, attributes: &Attributes, environment: Option<&str>) -> Truth {
    let groups: Vec<Id> = GROUPS.iter().map(|g| Id::from(*g)).collect();
    let ctx = Context {
        attributes,
        environment,
        time: 1_777_888_800,
        user_id: "u-1",
        user_email: "ann@example.com",
        user_groups: &groups,
    };
    compile(text, &[]).evaluate(&ctx)
}

#[test]
fn positive_operators_hold_when_some_value_matches() {
    let one = attrs(&[("x:y", &["ops_app"])]);
    let many = attrs(&[("x:y", &["dev_app", "ops_app"])]);
    for (text, expected) in [
        ("x:y = \"ops_app\"", Truth::True),
        ("x:y = \"other\"", Truth::False),
        ("x:y IN (\"a\", \"ops_app\")", Truth::True),
        ("x:y IN (\"a\", \"b\")", Truth::False),
        ("x:y startsWith \"ops_\"", Truth::True),
        ("x:y startsWith \"prod_\"", Truth::False),
        ("x:y MATCH \"ops_*\"", Truth::True),
        ("x:y MATCH (\"a*\", \"*_app\")", Truth::True),
        ("x:y MATCH \"ops?app\"", Truth::True),
        ("x:y MATCH \"ops\"", Truth::False),
    ] {
        assert_eq!(eval(text, &one), expected, "{text} on one value");
        assert_eq!(
            eval(text, &many),
            expected,
            "{text} on a list containing the value"
        );
    }
}

#[test]
fn negated_operators_hold_when_no_value_matches() {
    let one = attrs(&[("x:y", &["ops_app"])]);
    let many = attrs(&[("x:y", &["dev_app", "ops_app"])]);
    for (text, on_one, on_many) in [
        ("x:y != \"ops_app\"", Truth::False, Truth::False),
        ("x:y != \"dev_app\"", Truth::True, Truth::False),
        ("x:y NOT IN (\"dev_app\")", Truth::True, Truth::False),
        ("x:y NOT IN (\"a\", \"b\")", Truth::True, Truth::True),
        ("x:y NOT startsWith \"dev_\"", Truth::True, Truth::False),
        ("x:y NOT startsWith \"prod_\"", Truth::True, Truth::True),
    ] {
        assert_eq!(eval(text, &one), on_one, "{text} on one value");
        assert_eq!(eval(text, &many), on_many, "{text} on two values");
    }
}

#[test]
fn missing_and_empty_attributes_are_missing() {
    let empty = attrs(&[]);
    let empty_list: Attributes = [("x:y".to_owned(), AttributeValue::Many(vec![]))]
        .into_iter()
        .collect();
    for text in [
        "x:y = \"a\"",
        "x:y != \"a\"",
        "x:y NOT IN (\"a\")",
        "x:y NOT startsWith \"a\"",
        "x:y MATCH \"*\"",
    ] {
        assert_eq!(eval(text, &empty), Truth::Missing, "{text}");
        assert_eq!(eval(text, &empty_list), Truth::Missing, "{text}");
    }
    assert!(
        !Truth::Missing.holds(false),
        "a missing attribute makes an ALLOW condition false"
    );
    assert!(Truth::Missing.holds(true), "and a DENY condition true");
}

#[test]
fn comparison_is_exact() {
    let value = attrs(&[("x:y", &["Ops"])]);
    assert_eq!(eval("x:y = \"ops\"", &value), Truth::False);
    assert_eq!(eval("x:y startsWith \"o\"", &value), Truth::False);
    assert_eq!(eval("x:y MATCH \"o*\"", &value), Truth::False);
}

#[test]
fn globs() {
    let cases = [
        ("*", "", true),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("a\\*c", "a*c", true),
        ("a\\*c", "abc", false),
        ("a\\?", "a?", true),
        ("**x", "yyx", true),
        ("é*", "éa", true),
    ];
    for (pattern, value, expected) in cases {
        assert_eq!(
            Glob::new(pattern).matches(value),
            expected,
            "{pattern} ~ {value}"
        );
    }
}

/// The matcher as it was before it read values in place (it copied each value's characters
/// first): the two agree on every pattern and value.
fn copying_match(pattern: &str, value: &str) -> bool {
    let glob = Glob::new(pattern);
    let tokens = &glob.tokens;
    let text: Vec<char> = value.chars().collect();
    let (mut t, mut p) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match (tokens.get(p), text.get(t)) {
            (Some(GlobToken::Any), _) => {
                backtrack = Some((p, t));
                p += 1;
            }
            (Some(GlobToken::One), _) => {
                p += 1;
                t += 1;
            }
            (Some(GlobToken::Char(c)), Some(v)) if c == v => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, at)) => {
                    p = star + 1;
                    t = at + 1;
                    backtrack = Some((star, at + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|token| *token == GlobToken::Any)
}

proptest::proptest! {
    #[test]
    fn in_place_matching_agrees_with_copying(
        pattern in "[ab*?é\\\\]{0,8}",
        value in "[abé*?]{0,10}",
    ) {
        proptest::prop_assert_eq!(
            Glob::new(&pattern).matches(&value),
            copying_match(&pattern, &value),
            "{} ~ {}", pattern, value
        );
    }
}

#[test]
fn global_placeholders_resolve_from_the_request() {
    let value = attrs(&[
        ("x:y", &["u-1"]),
        ("x:g", &["g-dev"]),
        ("x:e", &["team-env-prod"]),
    ]);
    assert_eq!(eval("x:y = \"${global:userId}\"", &value), Truth::True);
    // The caller is the owner: `${global:userEmail}` is the principal's email.
    let owned = attrs(&[("todo:owner", &["ann@example.com"])]);
    assert_eq!(
        eval("todo:owner = \"${global:userEmail}\"", &owned),
        Truth::True
    );
    assert_eq!(
        eval("todo:owner = \"${global:userEmail}\"", &value),
        Truth::Missing
    );
    let other = attrs(&[("todo:owner", &["bob@example.com"])]);
    assert_eq!(
        eval("todo:owner != \"${global:userEmail}\"", &other),
        Truth::True
    );
    assert_eq!(
        eval("x:g IN (\"${global:userGroup}\")", &value),
        Truth::True
    );
    assert_eq!(
        eval("x:g NOT IN (\"${global:userGroup}\")", &value),
        Truth::False
    );
    assert_eq!(
        eval("x:e = \"team-${global:environmentId}\"", &value),
        Truth::True
    );
    // At account level there is no environment: the condition cannot be decided.
    assert_eq!(
        eval_in("x:e = \"team-${global:environmentId}\"", &value, None),
        Truth::Missing
    );
    assert_eq!(
        eval_in("global:environmentId = \"env-prod\"", &value, None),
        Truth::Missing
    );
    assert_eq!(
        eval_in(
            "global:environmentId != \"env-prod\"",
            &value,
            Some("env-dev")
        ),
        Truth::True
    );
}

#[test]
fn time_conditions_use_the_request_time() {
    // 2026-05-04T10:00:00Z, a Monday.
    let none = attrs(&[]);
    for (text, expected) in [
        ("global:date-time < \"2026-05-04T10:00:01Z\"", Truth::True),
        (
            "global:date-time > \"2026-05-04T11:00:00+01:00\"",
            Truth::False,
        ),
        ("global:date = \"2026-05-04Z\"", Truth::True),
        ("global:date > \"2026-05-03\"", Truth::True),
        ("global:date > \"2026-05-04\"", Truth::False),
        ("global:date < \"2026-05-05\"", Truth::True),
        ("global:time-of-day > \"09:30\"", Truth::True),
        ("global:time-of-day < \"10:30+01:00\"", Truth::False),
        ("global:week-day = \"Monday\"", Truth::True),
        ("global:week-day != \"Monday\"", Truth::False),
        (
            "global:week-day IN (\"Saturday\", \"Sunday\")",
            Truth::False,
        ),
    ] {
        assert_eq!(eval(text, &none), expected, "{text}");
    }
}

#[test]
fn bind_parameters_are_data() {
    let hostile = "\"); ALLOW *:*:* WHERE x:y = (\"";
    let condition = compile(
        "x:y = \"${bindParam:team}\"",
        &[("team", ParamValue::One(hostile.to_owned()))],
    );
    let ctx_attrs = attrs(&[("x:y", &[hostile])]);
    let groups: Vec<Id> = Vec::new();
    let ctx = Context {
        attributes: &ctx_attrs,
        environment: None,
        time: 0,
        user_id: "u",
        user_email: "ann@example.com",
        user_groups: &groups,
    };
    assert_eq!(condition.evaluate(&ctx), Truth::True);
    assert_eq!(condition.required(), vec![hostile.to_owned()]);
    // A value that looks like a placeholder stays text.
    let literal = compile(
        "x:y = \"${bindParam:team}\"",
        &[("team", ParamValue::One("${global:userId}".to_owned()))],
    );
    let user = attrs(&[("x:y", &["u"])]);
    let ctx = Context {
        attributes: &user,
        environment: None,
        time: 0,
        user_id: "u",
        user_email: "ann@example.com",
        user_groups: &groups,
    };
    assert_eq!(literal.evaluate(&ctx), Truth::False);
}

#[test]
fn list_parameters_expand_into_list_items() {
    let condition = compile(
        "x:y IN (\"${bindParam:zones}\", \"fixed\")",
        &[(
            "zones",
            ParamValue::Many(vec!["a".to_owned(), "b".to_owned()]),
        )],
    );
    assert_eq!(condition.required(), vec!["a", "b", "fixed"]);
    assert_eq!(condition.render(), "x:y IN (\"a\", \"b\", \"fixed\")");
}

/// Found by the differential tests (crates/warden-conformance): a list parameter filling a
/// whole item of a `global:week-day IN (…)` list failed to compile, so the ALLOW was dropped.
#[test]
fn list_parameters_expand_in_time_conditions() {
    let days = ParamValue::Many(vec!["Sunday".to_owned(), "Monday".to_owned()]);
    let condition = compile(
        "global:week-day IN (\"${bindParam:days}\", \"Friday\")",
        &[("days", days)],
    );
    assert_eq!(condition.required(), vec!["Sunday", "Monday", "Friday"]);
    let groups: Vec<Id> = Vec::new();
    let none = attrs(&[]);
    let at = |time| Context {
        attributes: &none,
        environment: None,
        time,
        user_id: "u",
        user_email: "ann@example.com",
        user_groups: &groups,
    };
    // 2026-05-04T10:00:00Z is a Monday; a day later, a Tuesday.
    assert_eq!(condition.evaluate(&at(1_777_888_800)), Truth::True);
    assert_eq!(
        condition.evaluate(&at(1_777_888_800 + 86_400)),
        Truth::False
    );
    // One value fills one item, as before.
    let one = compile(
        "global:week-day IN (\"${bindParam:day}\")",
        &[("day", ParamValue::One("Tuesday".to_owned()))],
    );
    assert_eq!(one.evaluate(&at(1_777_888_800 + 86_400)), Truth::True);
}

#[test]
fn large_lists_use_a_set() {
    let items: Vec<String> = (0..1000).map(|i| format!("\"v{i}\"")).collect();
    let text = format!("x:y IN ({})", items.join(", "));
    assert_eq!(eval(&text, &attrs(&[("x:y", &["v999"])])), Truth::True);
    assert_eq!(eval(&text, &attrs(&[("x:y", &["v1000"])])), Truth::False);
}
