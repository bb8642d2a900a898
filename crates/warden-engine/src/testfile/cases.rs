//! The cases of a test file: resolved against the world (principal or workflow, permission,
//! environment, attributes the permission supports, time, expectation), then decided and, when a
//! case fails, explained.
//!
//! A case with `workflow:` is a task of that workflow: the engine's workflow authorisation decides
//! it for the workflow's actor, in the workflow's environment, with the actor's consent there
//! (none when the file gives none: deny by default), and a failure names the side that refused.
//!
//! Anything a case names that the world does not know is a problem of the file, not a DENY: a
//! misspelt environment or permission would otherwise make every `expect: deny` case pass.

use warden_policy::temporal::parse_date_time;

use super::model::{CaseDef, TestFile};
use super::principals::unknown_principal;
use super::report::{CaseReport, Pos, Problem};
use super::workflows::Workflow;
use super::world::{Kind, World, unknown_environment};
use super::yaml::{OneOrMany, Text, did_you_mean, suggest, text_pos};
use crate::condition::{AttributeValue, Attributes};
use crate::directory::normalise_email;
use crate::snapshot::{Outcome, Request, Snapshot};
use crate::workflow::{RefusedBy, Task};

/// A case ready to run.
#[derive(Debug)]
pub(super) struct Case {
    index: usize,
    at: Pos,
    description: String,
    /// The principal's email or handle (for a task, the actor's).
    principal: String,
    permission: String,
    environment: Option<String>,
    attributes: Attributes,
    time: i64,
    expect: Outcome,
    /// A task of a workflow: what its actor consented to in its environment.
    task: Option<Consent>,
}

/// The consent a task is decided with: `None` when the actor gave none there.
#[derive(Debug)]
struct Consent(Option<Vec<String>>);

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
    let workflow = case
        .workflow
        .as_ref()
        .and_then(|name| find_workflow(name, file, world, errors));
    let principal = case
        .principal
        .as_ref()
        .filter(|_| case.workflow.is_none())
        .and_then(|name| {
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
        && case.workflow.is_none()
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
    let (permission, time, expect) = (permission?, time?, expect?);
    let (principal, environment, task, written) = match workflow {
        Some(workflow) => {
            let consent = world
                .consents
                .get(&(workflow.actor_uid.clone(), workflow.environment.clone()))
                .cloned();
            let written = format!("workflow {} as {}:", workflow.name, workflow.actor_shown);
            (
                workflow.actor_key.clone(),
                Some(workflow.environment.clone()),
                Some(Consent(consent)),
                written,
            )
        }
        None => (
            principal?.key.clone(),
            case.environment.as_ref().map(|e| e.as_str().to_owned()),
            None,
            case.principal
                .as_ref()
                .map_or("", |p| p.as_str())
                .to_owned(),
        ),
    };
    Some(Case {
        index: case.index,
        at: case.at,
        description: describe(case, &written, permission, environment.as_deref()),
        principal,
        permission: permission.as_str().to_owned(),
        environment,
        attributes,
        time,
        expect,
        task,
    })
}

/// The workflow a case names; unknown is a problem unless `workflows:` could not be read.
fn find_workflow<'w>(
    name: &Text,
    file: &TestFile,
    world: &'w World,
    errors: &mut Vec<Problem>,
) -> Option<&'w Workflow> {
    if let Some(entry) = world.workflow_names.find(name) {
        // A definition with problems has no id; its problems are reported already.
        return entry.id.as_ref().and_then(|id| world.workflows.get(id));
    }
    if file.complete.workflows {
        let suggestion = suggest(name, world.workflow_names.names());
        let help =
            did_you_mean(suggestion).unwrap_or_else(|| Kind::Workflow.define_help().to_owned());
        errors.push(
            Problem::new(
                text_pos(name),
                format!("unknown workflow `{}`", name.as_str()),
            )
            .with_help(help),
        );
    }
    None
}

/// A permission of the catalogue (with the file's services); unknown is a problem.
pub(super) fn check_permission(
    permission: &Text,
    world: &World,
    errors: &mut Vec<Problem>,
) -> bool {
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

/// `alice@example.com storage:logs:read in env-prod with storage:bucket-name="ops_app"`; for a
/// task, `workflow Nightly as Pipeline Automation: settings:objects:write in env-prod`.
fn describe(
    case: &CaseDef,
    principal: &str,
    permission: &str,
    environment: Option<&str>,
) -> String {
    let mut out = format!("{principal} {permission}");
    match environment {
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
        .map(|case| match &case.task {
            Some(Consent(consent)) => run_task(snapshot, case, consent.as_deref()),
            None => {
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
                    refused_by: None,
                    explanation: (!passed).then(|| snapshot.explain(&request)),
                }
            }
        })
        .collect()
}

/// A task of a workflow, decided by the engine's workflow authorisation. A failure's explanation
/// is the task's: its summary names the side that refused (the actor's permissions, or consent).
fn run_task(snapshot: &Snapshot, case: &Case, consent: Option<&[String]>) -> CaseReport {
    let task = Task {
        actor: &case.principal,
        permission: &case.permission,
        environment: case.environment.as_deref(),
        attributes: &case.attributes,
        time: case.time,
    };
    let decided = snapshot.authorize_task(&task, consent);
    let actual = decided.decision.outcome;
    let passed = actual == case.expect;
    let explanation = (!passed).then(|| {
        let mut explanation = decided.explanation;
        explanation.decision = decided.decision;
        explanation.summary = decided.summary;
        if decided.refused_by == Some(RefusedBy::Consent) {
            // The actor's own ALLOW did not decide: the missing consent did.
            explanation.deciding.clear();
        }
        explanation
    });
    CaseReport {
        index: case.index,
        line: case.at.line,
        column: case.at.column,
        description: case.description.clone(),
        expected: case.expect,
        actual,
        passed,
        refused_by: decided.refused_by,
        explanation,
    }
}
