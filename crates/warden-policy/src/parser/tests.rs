use super::*;
use crate::ast::{GlobalAttribute, Placeholder, StringPart};
use crate::span::LineIndex;

/// `line:col code: message` per diagnostic — exact and compact.
fn diagnostics(source: &str) -> Vec<String> {
    let index = LineIndex::new(source);
    parse_policy(source)
        .diagnostics
        .iter()
        .map(|d| {
            let at = index.position(d.span.start);
            format!(
                "{}:{} {}: {}",
                at.line,
                at.column,
                d.code.as_str(),
                d.message
            )
        })
        .collect()
}

fn parses(source: &str) -> Policy {
    let parsed = parse_policy(source);
    assert!(
        parsed.diagnostics.is_empty(),
        "{source}: {:?}",
        parsed.diagnostics
    );
    parsed.ast
}

#[test]
fn statements_permissions_and_conditions() {
    let policy = parses(
        "ALLOW a:b:c, d:e:f WHERE x:y = \"1\" AND x:z IN ('2', \"3\");\nDENY g:h:i WHERE s:t NOT startsWith \"p\"",
    );
    assert_eq!(policy.statements.len(), 2);
    let first = &policy.statements[0];
    assert_eq!(first.effect.node, Effect::Allow);
    assert_eq!(
        first
            .permissions
            .iter()
            .map(|p| p.node.as_str())
            .collect::<Vec<_>>(),
        ["a:b:c", "d:e:f"]
    );
    assert_eq!(first.conditions[1].operator.node, Operator::In);
    assert_eq!(first.conditions[1].value.strings().len(), 2);
    let second = &policy.statements[1];
    assert_eq!(second.effect.node, Effect::Deny);
    assert_eq!(second.conditions[0].operator.node, Operator::NotStartsWith);
}

#[test]
fn spans_point_at_the_source() {
    let source = "ALLOW a:b:c WHERE x:y MATCH (\"p*\");";
    let statement = &parses(source).statements[0];
    assert_eq!(statement.span.text(source), source);
    assert_eq!(statement.permissions[0].span.text(source), "a:b:c");
    let condition = &statement.conditions[0];
    assert_eq!(condition.span.text(source), "x:y MATCH (\"p*\")");
    assert_eq!(condition.operator.span.text(source), "MATCH");
    assert_eq!(condition.value.span().text(source), "(\"p*\")");
}

#[test]
fn keywords_and_operator_words_are_case_insensitive() {
    let lower = parses(
        "allow a:b:c where x:y startswith 'v' and x:z not in ('w') and x:q match 'm*';deny a:b:c where null",
    );
    let upper = parses(
        "ALLOW a:b:c WHERE x:y STARTSWITH 'v' AND x:z NOT IN ('w') AND x:q MATCH 'm*'; DENY a:b:c;",
    );
    assert_eq!(lower, upper);
    assert!(lower.statements[1].conditions.is_empty());
}

#[test]
fn names_and_values_are_case_sensitive() {
    assert_eq!(
        diagnostics("ALLOW Storage:logs:read;"),
        ["1:7 invalid-permission-name: permission names are lower-case: `Storage:logs:read`"]
    );
    let policy = parses("ALLOW a:b:c WHERE x:schemaId = \"Builtin\";");
    assert_eq!(policy.statements[0].conditions[0].name.node, "x:schemaId");
    assert_eq!(
        policy.statements[0].conditions[0].value.strings()[0]
            .as_plain()
            .as_deref(),
        Some("Builtin")
    );
}

#[test]
fn the_last_semicolon_is_optional_and_statements_share_lines() {
    assert_eq!(parses("ALLOW a:b:c;ALLOW d:e:f").statements.len(), 2);
    assert_eq!(
        parses("ALLOW a:b:c\n,\nd:e:f\nWHERE\nx:y\n=\n'v'\n;").statements[0]
            .permissions
            .len(),
        2
    );
}

#[test]
fn placeholders_stay_apart_from_text() {
    let policy = parses(
        r#"ALLOW a:b:c WHERE x:y IN ("${bindParam:zones}", "${global:userGroup}", "pre-${global:userId}");"#,
    );
    let strings = policy.statements[0].conditions[0].value.strings();
    assert_eq!(
        strings[0].sole_placeholder(),
        Some(&Placeholder::BindParam("zones".into()))
    );
    assert_eq!(
        strings[1].sole_placeholder(),
        Some(&Placeholder::Global(GlobalAttribute::UserGroup))
    );
    assert_eq!(
        strings[2].parts,
        [
            StringPart::Text("pre-".into()),
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserId))
        ]
    );
}

#[test]
fn or_not_and_parentheses_say_to_write_two_statements() {
    let source = "ALLOW a:b:c WHERE x:y = \"1\" OR x:y = \"2\";\nALLOW a:b:c WHERE NOT x:y = \"1\";\nALLOW a:b:c WHERE (x:y = \"1\");";
    assert_eq!(
        diagnostics(source),
        [
            "1:29 unsupported-or: `OR` is not supported",
            "2:19 unsupported-not: `NOT` cannot negate a condition",
            "3:19 unsupported-parentheses: parentheses cannot group conditions",
        ]
    );
    let parsed = parse_policy(source);
    assert!(parsed.diagnostics.iter().all(|d| {
        d.help
            .as_deref()
            .is_some_and(|h| h.contains("two statements"))
    }));
}

#[test]
fn one_parse_reports_every_error_and_keeps_good_statements() {
    let source = "ALLOW a:b:c WHERE x:y == \"1\";\nALLOW good:one:ok;\nALLOW d:e:f WHERE x:y = unquoted;\nALLOW e:f:g, ;\nALLOW ok:two:fine";
    assert_eq!(
        diagnostics(source),
        [
            "1:23 invalid-operator: `==` is not an operator",
            "3:25 unexpected-token: expected a quoted string or a list, found `unquoted`",
            "4:14 unexpected-token: expected a permission after `,`, found `;`",
        ]
    );
    let parsed = parse_policy(source);
    let kept: Vec<_> = parsed
        .ast
        .statements
        .iter()
        .map(|s| s.permissions[0].node.as_str())
        .collect();
    assert_eq!(kept, ["good:one:ok", "ok:two:fine"]);
}

#[test]
fn seed_artefacts_are_located() {
    // The stray `ALLOW` line of "Storage Security Events Read".
    let stray = "ALLOW\n//Grail read data\nALLOW storage:buckets:read WHERE storage:bucket-name IN (\"a\");\nALLOW storage:events:read;";
    assert_eq!(
        diagnostics(stray),
        ["1:1 unexpected-token: `ALLOW` is not followed by a permission"]
    );
    assert_eq!(
        parse_policy(stray).ast.statements.len(),
        2,
        "recovery restarts at the second ALLOW"
    );
    // The stray trailing quote of several legacy policies.
    assert_eq!(
        diagnostics("ALLOW email:emails:send;\""),
        ["1:25 unterminated-string: unterminated string"]
    );
}

#[test]
fn missing_semicolon_between_statements() {
    assert_eq!(
        diagnostics("ALLOW a:b:c\nDENY d:e:f;"),
        ["1:12 missing-semicolon: missing `;` before `DENY`"]
    );
    assert_eq!(
        diagnostics("ALLOW a:b:c d:e:f;"),
        ["1:13 unexpected-token: expected `,`, `WHERE` or `;`, found `d:e:f`"]
    );
}

#[test]
fn operators() {
    for (text, op) in [
        ("=", Operator::Eq),
        ("!=", Operator::NotEq),
        ("<", Operator::Less),
        (">", Operator::Greater),
        ("startsWith", Operator::StartsWith),
        ("NOT startsWith", Operator::NotStartsWith),
        ("MATCH", Operator::Match),
    ] {
        let policy = parses(&format!("ALLOW a:b:c WHERE x:y {text} \"v\";"));
        assert_eq!(
            policy.statements[0].conditions[0].operator.node, op,
            "{text}"
        );
    }
    assert_eq!(
        diagnostics(
            "ALLOW a:b:c WHERE x:y <= \"v\";ALLOW a:b:c WHERE x:y LIKE \"v\";ALLOW a:b:c WHERE x:y NOT MATCH \"v\";"
        ),
        [
            "1:23 invalid-operator: `<=` is not an operator",
            "1:52 invalid-operator: expected an operator after `x:y`, found `LIKE`",
            "1:87 invalid-operator: expected `IN` or `startsWith` after `NOT`, found `MATCH`",
        ]
    );
}

#[test]
fn empty_lists_and_unclosed_lists() {
    assert_eq!(
        diagnostics("ALLOW a:b:c WHERE x:y IN ();"),
        ["1:26 empty-list: empty list"]
    );
    assert_eq!(
        diagnostics("ALLOW a:b:c WHERE x:y IN (\"a\" \"b\");"),
        ["1:31 unexpected-token: expected `,` or `)`, found the string \"b\""]
    );
}

#[test]
fn limits_of_spec_section_2() {
    let many: String = (0..101).map(|i| format!("ALLOW a:b:c{i};\n")).collect();
    assert_eq!(
        diagnostics(&many),
        ["101:1 too-many-statements: too many statements; a policy has at most 100"]
    );
    assert!(diagnostics(&many.replacen("ALLOW a:b:c0;\n", "", 1)).is_empty());

    let list = |n: usize| {
        (0..n)
            .map(|i| format!("\"{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    assert!(diagnostics(&format!("ALLOW a:b:c WHERE x:y IN ({});", list(1000))).is_empty());
    assert_eq!(
        diagnostics(&format!("ALLOW a:b:c WHERE x:y IN ({});", list(1001))),
        ["1:26 list-too-long: list has 1001 values; at most 1000 are allowed"]
    );

    let long = format!("ALLOW a:b:c WHERE x:y = \"{}\";", "v".repeat(64 * 1024));
    assert_eq!(
        diagnostics(&long),
        ["1:1 too-many-statements: statement is 65563 bytes long; at most 65536 bytes (64 KiB) are allowed"
            .replace("too-many-statements", "statement-too-long")]
    );
}

#[test]
fn error_budget_stops_garbage() {
    let garbage = "# ".repeat(10_000);
    let found = parse_policy(&garbage).diagnostics;
    assert_eq!(found.len(), MAX_ERRORS + 1);
    assert_eq!(found.last().map(|d| d.code), Some(Code::TooManyErrors));
}

#[test]
fn wildcards_and_malformed_names() {
    assert_eq!(
        diagnostics(
            "ALLOW automation:workflows:*;ALLOW storage:logs;ALLOW a:b:c WHERE nocolon = \"x\";"
        ),
        [
            "1:7 invalid-permission-name: wildcards are not supported in permission names: `automation:workflows:*`",
            "1:36 invalid-permission-name: `storage:logs` is not a permission name",
            "1:67 invalid-condition-name: `nocolon` is not a condition name",
        ]
    );
}

#[test]
fn unexpected_characters_name_the_code_point() {
    // A Cyrillic `а` in a permission name.
    assert_eq!(
        diagnostics("ALLOW stor\u{430}ge:logs:read;"),
        [
            "1:7 invalid-permission-name: `stor` is not a permission name",
            "1:11 unexpected-character: unexpected character `\u{430}` (U+0430)",
        ]
    );
}

#[test]
fn boundaries_take_one_condition_per_line() {
    let boundary = parse_boundary(
        "storage:k8s.namespace.name IN (\"DEV\",\"HARD\");\n// comment\nenvironment:management-zone = 'z'\n",
    );
    assert!(
        boundary.diagnostics.is_empty(),
        "{:?}",
        boundary.diagnostics
    );
    assert_eq!(boundary.ast.conditions.len(), 2);

    let and = parse_boundary("a:b = \"1\" AND c:d = \"2\"");
    assert_eq!(
        and.diagnostics.iter().map(|d| d.code).collect::<Vec<_>>(),
        [Code::BoundaryAnd]
    );
    let same_line = parse_boundary("a:b = \"1\"; c:d = \"2\"");
    assert_eq!(
        same_line
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        [Code::UnexpectedToken]
    );

    let eleven: String = (0..11).map(|i| format!("a:b = \"{i}\"\n")).collect();
    let too_many = parse_boundary(&eleven);
    assert_eq!(
        too_many
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>(),
        [Code::TooManyBoundaryConditions]
    );
}
