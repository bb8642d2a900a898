//! The cases of a test file: resolved against the world (principal, permission, environment,
//! attributes the permission supports, time, expectation), then decided and, when a case fails,
//! explained.
//!
//! Anything a case names that the world does not know is a problem of the file, not a DENY: a
//! misspelt environment or permission would otherwise make every `expect: deny` case pass.

use warden_policy::temporal::parse_date_time;

use super::model::{CaseDef, TestFile};
use super::principals::unknown_principal;
use super::report::{CaseReport, Pos, Problem};
use super::world::{World, unknown_environment};
use super::yaml::{OneOrMany, Text, did_you_mean, suggest, text_pos};
use crate::condition::{AttributeValue, Attributes};
use crate::directory::normalise_email;
use crate::snapshot::{Outcome, Request, Snapshot};

/// A case ready to run.
#[derive(Debug)]
pub(super) struct Case {
    index: usize,
    at: Pos,
    description: String,
    /// The principal's email or handle.
    principal: String,
    permission: String,
    environment: Option<String>,
    attributes: Attributes,
    time: i64,
    expect: Outcome,
}

/// Resolves every case; problems go to `errors`.
pub(super) fn resolve(
    file: &TestFile,
    world: &World,
    now: i64,
    errors: &mut Vec<Problem>,
) -> Vec<Case> {
    file.cases
        .iter()
        .filter_map(|case| resolve_case(case, file, world, now, errors))
        .collect()
}

fn resolve_case(
    case: &CaseDef,
    file: &TestFile,
    world: &World,
    now: i64,
    errors: &mut Vec<Problem>,
) -> Option<Case> {
    let before = errors.len();
    let principal = case.principal.as_ref().and_then(|name| {
        let found = world.principals.get(&normalise_email(name));
        if found.is_none() && file.complete.principals {
            errors.push(unknown_principal(world, name));
        }
        found
    });
    let permission = case
        .permission
        .as_ref()
        .filter(|p| check_permission(p, world, errors));
    if let Some(environment) = &case.environment
        && !world.directory.has_environment(environment)
        && file.complete.environments
    {
        errors.push(unknown_environment(
            &world.directory,
            text_pos(environment),
            environment,
        ));
    }
    let mut attributes = Attributes::new();
    for (name, value) in &case.attributes {
        if let Some(permission) = permission {
            check_attribute(permission, name, world, errors);
        }
        let value = match &**value {
            OneOrMany::One(one) => AttributeValue::One(one.clone()),
            OneOrMany::Many(many) => AttributeValue::Many(many.clone()),
        };
        attributes.insert(name.as_str().to_owned(), value);
    }
    let time = match &case.time {
        None => Some(now),
        Some(time) => match parse_date_time(time) {
            Ok(seconds) => Some(seconds),
            Err(error) => {
                errors.push(
                    Problem::new(text_pos(time), format!("`time`: {}", error.short())).with_help(
                        "write an RFC 3339 date and time, such as `2026-05-04T10:00:00Z`",
                    ),
                );
                None
            }
        },
    };
    let expect = case.expect.as_ref().and_then(|expect| {
        if expect.eq_ignore_ascii_case("allow") {
            Some(Outcome::Allow)
        } else if expect.eq_ignore_ascii_case("deny") {
            Some(Outcome::Deny)
        } else {
            errors.push(
                Problem::new(
                    text_pos(expect),
                    format!(
                        "`expect` must be `allow` or `deny`, not `{}`",
                        expect.as_str()
                    ),
                )
                .with_help("write `expect: allow` or `expect: deny`"),
            );
            None
        }
    });
    if errors.len() > before {
        return None;
    }
    let (principal, permission, time, expect) = (principal?, permission?, time?, expect?);
    let written = case.principal.as_ref().map_or("", |p| p.as_str());
    Some(Case {
        index: case.index,
        at: case.at,
        description: describe(case, written, permission),
        principal: principal.key.clone(),
        permission: permission.as_str().to_owned(),
        environment: case.environment.as_ref().map(|e| e.as_str().to_owned()),
        attributes,
        time,
        expect,
    })
}

fn check_permission(permission: &Text, world: &World, errors: &mut Vec<Problem>) -> bool {
    if world.catalogue.permission(permission).is_some() {
        return true;
    }
    if !world.broken_services {
        let help = did_you_mean(
            world
                .catalogue
                .suggest_permission(permission)
                .map(str::to_owned),
        )
        .unwrap_or_else(|| "use a permission of the catalogue or of `services:`".to_owned());
        errors.push(
            Problem::new(
                text_pos(permission),
                format!("unknown permission `{}`", permission.as_str()),
            )
            .with_help(help),
        );
    }
    false
}

/// A request attribute must be a condition that the permission supports.
fn check_attribute(permission: &Text, name: &Text, world: &World, errors: &mut Vec<Problem>) {
    let Some(definition) = world.catalogue.permission(permission) else {
        return;
    };
    if definition.condition(name).is_some() {
        return;
    }
    let at = text_pos(name);
    if name.starts_with("global:") {
        errors.push(
            Problem::new(
                at,
                format!("`{}` is not a request attribute", name.as_str()),
            )
            .with_help("global conditions are evaluated from the case's `environment` and `time`"),
        );
        return;
    }
    let supported: Vec<&str> = definition
        .conditions
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    let help = match suggest(name, supported.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None if supported.is_empty() => {
            format!("`{}` has no conditions", permission.as_str())
        }
        None => format!(
            "`{}` supports {}",
            permission.as_str(),
            supported
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    errors.push(
        Problem::new(
            at,
            format!(
                "permission `{}` has no condition `{}`",
                permission.as_str(),
                name.as_str()
            ),
        )
        .with_help(help),
    );
}

/// `alice@example.com storage:logs:read in env-prod with storage:bucket-name="ops_app"`.
fn describe(case: &CaseDef, principal: &str, permission: &str) -> String {
    let mut out = format!("{principal} {permission}");
    match &case.environment {
        Some(environment) => {
            out.push_str(" in ");
            out.push_str(environment);
        }
        None => out.push_str(" at account level"),
    }
    let attributes: Vec<String> = case
        .attributes
        .iter()
        .map(|(name, value)| match &**value {
            OneOrMany::One(one) => format!("{}={}", name.as_str(), quote(one)),
            OneOrMany::Many(many) => format!(
                "{}=({})",
                name.as_str(),
                many.iter().map(|v| quote(v)).collect::<Vec<_>>().join(", ")
            ),
        })
        .collect();
    if !attributes.is_empty() {
        out.push_str(" with ");
        out.push_str(&attributes.join(", "));
    }
    if let Some(time) = &case.time {
        out.push_str(" at ");
        out.push_str(time);
    }
    out
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Decides every case; failures are explained.
pub(super) fn run(snapshot: &Snapshot, cases: &[Case]) -> Vec<CaseReport> {
    cases
        .iter()
        .map(|case| {
            let request = Request {
                principal: &case.principal,
                permission: &case.permission,
                environment: case.environment.as_deref(),
                attributes: &case.attributes,
                time: case.time,
            };
            let decision = snapshot.decide(&request);
            let passed = decision.outcome == case.expect;
            CaseReport {
                index: case.index,
                line: case.at.line,
                column: case.at.column,
                description: case.description.clone(),
                expected: case.expect,
                actual: decision.outcome,
                passed,
                explanation: (!passed).then(|| snapshot.explain(&request)),
            }
        })
        .collect()
}
