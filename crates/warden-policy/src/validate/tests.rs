use super::*;
use crate::span::LineIndex;

const STORAGE: &str = r#"
[service]
name = "storage"
title = "Storage"
source = "test"

[conditions."storage:bucket-name"]
operators = ["=", "!=", "IN", "NOT IN", "startsWith", "NOT startsWith", "MATCH"]
[conditions."storage:table-name"]
operators = ["=", "IN"]

[[permissions]]
name = "storage:logs:read"
source = "test"
conditions = ["storage:bucket-name"]

[[permissions]]
name = "storage:buckets:read"
source = "test"
conditions = ["storage:bucket-name", "storage:table-name"]

[[permissions]]
name = "storage:bucket-definitions:read"
source = "test"
"#;

const IAM: &str = r#"
[service]
name = "iam"
source = "test"

[conditions."iam:service-user-email"]
operators = ["IN", "="]

[[permissions]]
name = "iam:service-users:use"
source = "test"
conditions = ["iam:service-user-email"]
"#;

const GLOBAL: &str = r#"
[service]
name = "global"

[conditions."global:environmentId"]
operators = ["=", "!=", "IN", "NOT IN"]
[conditions."global:date"]
operators = ["<", ">", "="]
[conditions."global:week-day"]
operators = ["=", "!=", "IN"]
"#;

fn catalogue() -> Catalogue {
    Catalogue::from_toml_files([
        ("storage.toml", STORAGE),
        ("iam.toml", IAM),
        ("global.toml", GLOBAL),
    ])
    .unwrap()
}

/// `line:col severity code: message | help`
fn check(source: &str) -> Vec<String> {
    let index = LineIndex::new(source);
    check_policy(source, &catalogue())
        .diagnostics
        .iter()
        .map(|d| {
            let at = index.position(d.span.start);
            let help = d.help.as_deref().unwrap_or("");
            format!(
                "{}:{} {} {}: {} | {help}",
                at.line,
                at.column,
                d.severity.as_str(),
                d.code.as_str(),
                d.message
            )
        })
        .collect()
}

#[test]
fn valid_policies_have_no_findings() {
    assert!(check("ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"ops_\" AND global:week-day = \"Monday\";").is_empty());
    assert!(check("ALLOW storage:buckets:read WHERE storage:table-name IN (\"logs\") AND storage:bucket-name NOT IN (\"a\", \"b\");").is_empty());
    assert!(
        check(
            "ALLOW iam:service-users:use WHERE iam:service-user-email IN (\"${bindParam:emails}\");"
        )
        .is_empty()
    );
}

#[test]
fn unknown_permission_suggests_the_closest_name() {
    assert_eq!(
        check("ALLOW storage:log:read, storage:zzz:qqq;"),
        [
            "1:7 error unknown-permission: unknown permission `storage:log:read` | did you mean `storage:logs:read`?",
            "1:25 error unknown-permission: unknown permission `storage:zzz:qqq` | `warden catalogue` lists the known permissions; a platform can register its own service",
        ]
    );
}

#[test]
fn a_condition_must_be_supported_by_every_permission() {
    assert_eq!(
        check("ALLOW storage:logs:read, storage:buckets:read WHERE storage:table-name = \"logs\";"),
        [
            "1:53 error unsupported-condition: condition `storage:table-name` is not supported by permission `storage:logs:read` | `storage:logs:read` supports `storage:bucket-name`; move it to a statement of its own if it needs other conditions"
        ]
    );
    assert_eq!(
        check("ALLOW storage:bucket-definitions:read WHERE storage:bucket-name = \"x\";"),
        [
            "1:45 error unsupported-condition: condition `storage:bucket-name` is not supported by permission `storage:bucket-definitions:read` | `storage:bucket-definitions:read` supports no conditions; grant it in a statement of its own, without WHERE"
        ]
    );
    assert_eq!(
        check("ALLOW storage:logs:read WHERE storage:bucket-nam = \"x\";"),
        [
            "1:31 error unknown-condition: unknown condition `storage:bucket-nam` | did you mean `storage:bucket-name`?"
        ]
    );
    assert_eq!(
        check("ALLOW storage:logs:read WHERE global:weekday = \"Monday\";"),
        [
            "1:31 error unknown-condition: unknown global condition `global:weekday` | did you mean `global:week-day`?"
        ]
    );
}

#[test]
fn operators_the_condition_does_not_allow_are_listed() {
    assert_eq!(
        check("ALLOW iam:service-users:use WHERE iam:service-user-email startsWith \"a\";"),
        [
            "1:58 error operator-not-allowed: operator `startsWith` is not allowed for condition `iam:service-user-email` | `iam:service-user-email` allows `=`, `IN`"
        ]
    );
    // With several permissions, only the operators every one of them allows.
    assert_eq!(
        check(
            "ALLOW storage:logs:read, storage:buckets:read WHERE storage:bucket-name MATCH \"a*\";"
        ),
        Vec::<String>::new()
    );
}

#[test]
fn lists_and_single_strings() {
    assert_eq!(
        check(
            "ALLOW storage:logs:read WHERE storage:bucket-name IN \"a\";\nALLOW storage:logs:read WHERE storage:bucket-name = (\"a\", \"b\");\nALLOW storage:logs:read WHERE storage:bucket-name MATCH (\"a*\", \"b\");"
        ),
        [
            "1:54 error list-expected: `IN` takes a parenthesised list | write `storage:bucket-name IN (\"value\")`",
            "2:53 error single-value-expected: `=` takes one string, not a list | to match any of several values use `IN (…)`",
        ]
    );
}

#[test]
fn user_group_placeholder_is_a_whole_list_item() {
    assert_eq!(
        check(
            "ALLOW storage:logs:read WHERE storage:bucket-name = \"${global:userGroup}\";\nALLOW storage:logs:read WHERE storage:bucket-name IN (\"${global:userGroup}\");"
        ),
        [
            "1:53 error list-placeholder-misplaced: `${global:userGroup}` is a list of group uuids | use it as a whole item of a list: `storage:bucket-name IN (\"${global:userGroup}\")`"
        ]
    );
}

#[test]
fn time_literals_are_checked() {
    assert_eq!(
        check(
            "ALLOW storage:logs:read WHERE global:date < \"2026-13-01\" AND global:week-day = \"Funday\";"
        ),
        [
            "1:45 error invalid-time-value: `2026-13-01` is not a valid date | write `2026-05-04Z` (YYYY-MM-DD, optional zone `Z` or `+01:00`)",
            "1:80 error invalid-time-value: `Funday` is not a valid week day | write one of `Monday` … `Sunday`",
        ]
    );
}

#[test]
fn warnings() {
    assert_eq!(
        check(
            "DENY storage:logs:read;\nALLOW storage:logs:read, storage:buckets:read, storage:logs:read;\nALLOW storage:buckets:read WHERE storage:table-name = \"logs\";\nALLOW storage:bucket-definitions:read, storage:buckets:read;"
        ),
        [
            "1:1 warning unconditional-deny: unconditional DENY | a DENY wins over every ALLOW; add a WHERE condition to narrow it, or remove the permissions from the ALLOW statements instead",
            "2:48 warning repeated-permission: permission `storage:logs:read` is repeated in this statement | remove the repetition",
            "3:1 warning redundant-statement: redundant statement | remove this statement",
            "4:40 warning redundant-statement: `storage:buckets:read` is already granted by the statement on line 2 | remove it from this statement",
        ]
    );
}

#[test]
fn boundaries_are_validated() {
    let catalogue = catalogue();
    let codes = |source: &str| -> Vec<Code> {
        check_boundary(source, &catalogue)
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect()
    };
    assert!(
        codes("storage:bucket-name startsWith \"a\"\nglobal:environmentId = \"env-prod\"")
            .is_empty()
    );
    assert_eq!(
        codes("storage:table-name startsWith \"a\""),
        [Code::OperatorNotAllowed]
    );
    assert_eq!(codes("storage:nothing = \"a\""), [Code::UnknownCondition]);
    assert_eq!(
        codes("storage:bucket-name = \"${bindParam:x}\""),
        [Code::MalformedPlaceholder]
    );
}
