//! `warden export`, `warden plan FILE` and `warden apply FILE`: an account's configuration as
//! code. A world file (the world sections of a policy test file, `cases:` optional) describes the
//! desired state; export writes the account as one, plan says what would change, apply makes it
//! so through the API, one write at a time, each authorised as the caller (with `--atomic`, as one
//! batch of the server: all or nothing).
//!
//! This module owns the commands and their output; reading and rendering world files is
//! `warden_engine::testfile::desired`, reading the account and the steps are [`world_sync`].
//!
//! Exit codes: `plan` 0 nothing to change, 2 changes to make, 1 the file is invalid or the
//! server refused or could not be reached; `apply` 0 done (or nothing to do), 1 the file is
//! invalid or a write was refused (the report says what was applied and what was not), 2 the
//! server could not be reached before the first write.
//!
//! [`world_sync`]: crate::command::world_sync

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use warden_api::batch::WriteBatch;
use warden_engine::Builtin;
use warden_engine::testfile::desired::{self, AccessChange, Change, WorldFile};
use warden_engine::testfile::{FileReport, Problem};

use crate::command::client::{Client, Connection};
use crate::command::read_input;
use crate::command::world_sync::{State, Step, progress, reserved_names, simulate, steps};
use crate::output::{CliError, Output, plural};

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The world file (YAML; `-` for standard input).
    file: PathBuf,
    /// Also delete what the file does not name (users, service users, bindings, groups,
    /// policies, boundaries).
    #[arg(long)]
    prune: bool,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    /// The world file (YAML; `-` for standard input).
    file: PathBuf,
    /// Also delete what the file does not name.
    #[arg(long)]
    prune: bool,
    /// Apply without asking for confirmation (needed when standard input is not a terminal).
    #[arg(long)]
    yes: bool,
    /// All the changes in one transaction of the server, or none of them: each is still
    /// checked as the caller's, against the state the changes before it leave.
    #[arg(long)]
    atomic: bool,
    #[command(flatten)]
    connection: Connection,
}

fn builtin() -> Result<Builtin, CliError> {
    Builtin::load(&[]).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        CliError::new(
            "builtin",
            format!("the built-in content is invalid:\n  {}", lines.join("\n  ")),
        )
    })
}

pub fn export(args: ExportArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let builtin = builtin()?;
    let client = Client::connect(&args.connection)?;
    let state = State::read(&client, &builtin)?;
    if output.is_json() {
        output.json(&state.world);
    } else {
        output.text(&desired::render(&state.world));
    }
    Ok(ExitCode::SUCCESS)
}

/// The JSON document of `plan` and `apply`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    ok: bool,
    changes: usize,
    /// `plan`: the steps to make; `apply`: the steps made.
    steps: &'a [Step],
    #[serde(skip_serializing_if = "Option::is_none")]
    failed: Option<Failed<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_applied: Option<&'a [Step]>,
    /// `plan`: who gains or loses which access.
    #[serde(skip_serializing_if = "Option::is_none")]
    impact: Option<&'a [AccessChange]>,
    /// `plan`: why there is no impact preview.
    #[serde(skip_serializing_if = "Option::is_none")]
    impact_unavailable: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Failed<'a> {
    step: &'a Step,
    code: &'a str,
    message: &'a str,
}

/// Reads and checks the file; an invalid one is printed like `warden test` prints it.
fn read_world(
    path: &std::path::Path,
    builtin: &Builtin,
    output: &mut Output,
) -> Result<Result<WorldFile, ()>, CliError> {
    let text = read_input(path)?;
    let name = path.display().to_string();
    match desired::read(builtin, &name, &text) {
        Ok(world) => {
            let reserved = reserved_names(&world);
            if reserved.is_empty() {
                return Ok(Ok(world));
            }
            let help = "leave it out: memberships in it are kept as they are; grant administration through a group of your own";
            let errors = reserved
                .into_iter()
                .map(|(at, message)| Problem::new(at, message).with_help(help))
                .collect();
            let report = FileReport {
                file: name,
                errors,
                warnings: Vec::new(),
                cases: Vec::new(),
            };
            print_invalid(&report, output);
            Ok(Err(()))
        }
        Err(report) => {
            print_invalid(&report, output);
            Ok(Err(()))
        }
    }
}

fn print_invalid(report: &FileReport, output: &mut Output) {
    if output.is_json() {
        output.json(&serde_json::json!({
            "ok": false,
            "error": {
                "code": "invalid-file",
                "message": format!("`{}` has {}; nothing was changed", report.file, plural(report.errors.len(), "error")),
            },
            "file": report.file,
            "errors": report.errors,
            "warnings": report.warnings,
        }));
        return;
    }
    let line = |problem: &Problem, severity: &str| {
        let mut text = format!(
            "{}:{}:{}: {severity}: {}",
            report.file, problem.line, problem.column, problem.message
        );
        if let Some(help) = &problem.help {
            text.push_str(&format!("\n  help: {help}"));
        }
        text
    };
    for problem in &report.errors {
        output.line(&line(problem, "error"));
    }
    for problem in &report.warnings {
        output.line(&line(problem, "warning"));
    }
    output.line(&format!(
        "{}: {}; nothing was changed",
        report.file,
        plural(report.errors.len(), "error")
    ));
}

/// `N changes (a to create, b to update, c to delete)`.
fn summary(steps: &[Step], verb: &str) -> String {
    let count = |action: &str| steps.iter().filter(|s| s.action() == action).count();
    if steps.is_empty() {
        return "0 changes".to_owned();
    }
    format!(
        "{} ({} to create, {} to update, {} to delete){verb}",
        plural(steps.len(), "change"),
        count("create"),
        count("update"),
        count("delete")
    )
}

pub fn plan(args: PlanArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    // Exit 2 means "there are changes" here: every error, whatever its kind, is 1.
    planned(args, output).map_err(|e| e.with_exit(1))
}

fn planned(args: PlanArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let builtin = builtin()?;
    let Ok(want) = read_world(&args.file, &builtin, output)? else {
        return Ok(ExitCode::FAILURE);
    };
    let client = Client::connect(&args.connection)?;
    let state = State::read(&client, &builtin)?;
    let planned = steps(&state, &want, args.prune);
    let impact = if planned.is_empty() {
        Ok(Vec::new())
    } else {
        let after = simulate(&state.world, &planned);
        desired::impact(&builtin, &state.world, &after, now())
    };
    if output.is_json() {
        output.json(&Report {
            ok: true,
            changes: planned.len(),
            steps: &planned,
            failed: None,
            not_applied: None,
            impact: impact.as_deref().ok(),
            impact_unavailable: impact.as_ref().err().map(String::as_str),
        });
    } else {
        output.line(&summary(&planned, ""));
        for step in &planned {
            output.line(&step.describe());
        }
        if !planned.is_empty() {
            print_impact(&impact, output);
        }
    }
    Ok(if planned.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

pub fn apply(args: ApplyArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let builtin = builtin()?;
    let Ok(want) = read_world(&args.file, &builtin, output)? else {
        return Ok(ExitCode::FAILURE);
    };
    let client = Client::connect(&args.connection)?;
    let mut state = State::read(&client, &builtin)?;
    let planned = steps(&state, &want, args.prune);
    if planned.is_empty() {
        if output.is_json() {
            output.json(&Report {
                ok: true,
                changes: 0,
                steps: &[],
                failed: None,
                not_applied: None,
                impact: None,
                impact_unavailable: None,
            });
        } else {
            output.line("0 changes");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes && !confirm(&planned)? {
        return Err(CliError::new("cancelled", "nothing was changed").with_exit(1));
    }
    if args.atomic {
        return apply_atomic(&client, &state, &planned, output);
    }
    let mut failure = None;
    let mut made = 0;
    for (index, step) in planned.iter().enumerate() {
        progress(&format!(
            "[{}/{}] {}",
            index + 1,
            planned.len(),
            step.describe()
        ));
        match state.make(&client, step) {
            Ok(()) => made += 1,
            Err(error) => {
                failure = Some(error);
                break;
            }
        }
    }
    let (applied, rest) = planned.split_at(made);
    let Some(error) = failure else {
        if output.is_json() {
            output.json(&Report {
                ok: true,
                changes: applied.len(),
                steps: applied,
                failed: None,
                not_applied: None,
                impact: None,
                impact_unavailable: None,
            });
        } else {
            output.line(&format!("applied {}", summary(applied, "")));
            for step in applied {
                output.line(&step.describe());
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let (failed, not_applied) = match rest.split_first() {
        Some((failed, after)) => (failed, after),
        None => return Err(error),
    };
    if output.is_json() {
        output.json(&Report {
            ok: false,
            changes: applied.len(),
            steps: applied,
            failed: Some(Failed {
                step: failed,
                code: &error.code,
                message: &error.message,
            }),
            not_applied: Some(not_applied),
            impact: None,
            impact_unavailable: None,
        });
    } else {
        output.line(&format!(
            "failed after {} of {}: {}",
            plural(applied.len(), "change"),
            planned.len(),
            failed.describe()
        ));
        output.line(&format!("  error: {}", error.message));
        for note in &error.notes {
            output.line(note);
        }
        if let Some(help) = error.help.clone().or_else(|| justification_help(&error)) {
            output.line(&format!("  help: {help}"));
        }
        output.line(&format!("applied ({}):", applied.len()));
        for step in applied {
            output.line(&format!("  {}", step.describe()));
        }
        output.line(&format!("not applied ({}):", rest.len()));
        for step in rest {
            output.line(&format!("  {}", step.describe()));
        }
    }
    Ok(ExitCode::FAILURE)
}

/// `apply --atomic`: the steps as one batch of the server; refused, nothing was applied.
fn apply_atomic(
    client: &Client,
    state: &State,
    planned: &[Step],
    output: &mut Output,
) -> Result<ExitCode, CliError> {
    let account = state.account.clone();
    let input = WriteBatch {
        writes: planned.iter().map(|step| state.batch_write(step)).collect(),
        dry_run: false,
    };
    progress(&format!(
        "applying {} in one transaction",
        plural(planned.len(), "change")
    ));
    let (error, details) = match client.call_detailed(client.typed().batch(&account, &input)) {
        Ok(_) => {
            if output.is_json() {
                output.json(&Report {
                    ok: true,
                    changes: planned.len(),
                    steps: planned,
                    failed: None,
                    not_applied: None,
                    impact: None,
                    impact_unavailable: None,
                });
            } else {
                output.line(&format!("applied {} (atomic)", summary(planned, "")));
                for step in planned {
                    output.line(&step.describe());
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        Err(refusal) => *refusal,
    };
    // The write the server refused; nothing before it was stored either.
    let index = details
        .as_ref()
        .and_then(|d| d.get("write"))
        .and_then(serde_json::Value::as_u64)
        .and_then(|i| usize::try_from(i).ok());
    let (Some(index), Some(failed)) = (index, index.and_then(|i| planned.get(i))) else {
        return Err(error.with_help("nothing was applied: the changes are one transaction"));
    };
    // The report names the change itself: the server's words for it (which write of the batch,
    // counted from 0) would only repeat it.
    let mut error = error;
    let kind = state.batch_write(failed).kind();
    let prefix = format!("write {index} (`{kind}`) was refused, so nothing was changed: ");
    if let Some(rest) = error.message.strip_prefix(&prefix) {
        error.message = rest.to_owned();
    }
    error
        .notes
        .retain(|note| note != &format!("  kind: {kind}") && note != &format!("  write: {index}"));
    if output.is_json() {
        output.json(&Report {
            ok: false,
            changes: 0,
            steps: &[],
            failed: Some(Failed {
                step: failed,
                code: &error.code,
                message: &error.message,
            }),
            not_applied: Some(planned),
            impact: None,
            impact_unavailable: None,
        });
    } else {
        output.line(&format!(
            "refused at change {} of {}: {}",
            index + 1,
            planned.len(),
            failed.describe()
        ));
        output.line(&format!("  error: {}", error.message));
        for note in &error.notes {
            output.line(note);
        }
        if let Some(help) = error.help.clone().or_else(|| justification_help(&error)) {
            output.line(&format!("  help: {help}"));
        }
        output.line(&format!(
            "nothing was applied (atomic): the account is as it was; not applied ({}):",
            planned.len()
        ));
        for step in planned {
            output.line(&format!("  {}", step.describe()));
        }
    }
    Ok(ExitCode::FAILURE)
}

/// A world file's memberships cannot carry a justification (docs/server.md, "Justified
/// elevation"): how to make the elevation, after which the same file applies.
fn justification_help(error: &CliError) -> Option<String> {
    let rule = error.details.as_deref()?.get("rule")?.as_str()?;
    (rule == "justification-required").then(|| {
        "a binding of the file says why with `justification:`; a membership cannot: make it by hand (`warden user add-groups … --justification TEXT`), then apply the same file again".to_owned()
    })
}

/// Seconds since the epoch: the time the impact preview's decisions are made at.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|elapsed| i64::try_from(elapsed.as_secs()).ok())
        .unwrap_or(0)
}

/// How many permissions a line of the impact names before `and N more`.
const SHOWN_PERMISSIONS: usize = 5;

/// `impact: …`, then one line per principal, level and direction of unconditional changes, and
/// one per permission whose access is conditional before or after (with the conditions).
fn print_impact(impact: &Result<Vec<AccessChange>, String>, output: &mut Output) {
    let changes = match impact {
        Ok(changes) => changes,
        Err(why) => {
            output.line(&format!("impact: not available ({why})"));
            return;
        }
    };
    if changes.is_empty() {
        output.line("impact: nobody gains or loses access");
        return;
    }
    // Per principal and level: gains, losses, then changed conditions; unconditional changes of
    // one direction on one line.
    type Key<'a> = (&'a str, &'a str, Change);
    let mut grouped: BTreeMap<Key<'_>, Vec<&str>> = BTreeMap::new();
    let mut conditional: BTreeMap<Key<'_>, Vec<String>> = BTreeMap::new();
    for change in changes {
        let key = (
            change.principal.as_str(),
            change.level.as_str(),
            change.change,
        );
        let when = |c: &Option<String>| {
            c.as_deref()
                .map(|c| format!("when {}", c.replace('\n', " ")))
        };
        match (when(&change.before), when(&change.after)) {
            (None, None) => grouped.entry(key).or_default().push(&change.permission),
            (before, after) => {
                let permission = &change.permission;
                let line = match (before, after) {
                    (None, Some(after)) => format!("`{permission}` {after}"),
                    (Some(before), None) if change.change == Change::Gains => {
                        format!("`{permission}` (was only {before})")
                    }
                    (Some(before), None) => format!("`{permission}` (was {before})"),
                    (Some(before), Some(after)) => format!("`{permission}` {before} → {after}"),
                    (None, None) => continue,
                };
                conditional.entry(key).or_default().push(line);
            }
        }
    }
    let principals: BTreeSet<&str> = changes.iter().map(|c| c.principal.as_str()).collect();
    output.line(&format!(
        "impact: {} {} access:",
        plural(principals.len(), "principal"),
        if principals.len() == 1 {
            "gains or loses"
        } else {
            "gain or lose"
        }
    ));
    let mut keys: BTreeSet<Key<'_>> = grouped.keys().copied().collect();
    keys.extend(conditional.keys().copied());
    for key @ (principal, level, change) in keys {
        let verb = match change {
            Change::Gains => "gains",
            Change::Loses => "loses",
            Change::Conditions => "has other conditions",
        };
        if let Some(permissions) = grouped.get(&key) {
            let mut shown: Vec<String> = permissions
                .iter()
                .take(SHOWN_PERMISSIONS)
                .map(|p| format!("`{p}`"))
                .collect();
            if permissions.len() > SHOWN_PERMISSIONS {
                shown.push(format!(
                    "and {} more",
                    permissions.len() - SHOWN_PERMISSIONS
                ));
            }
            output.line(&format!(
                "  {principal} {verb} at {level}: {}",
                shown.join(", ")
            ));
        }
        for line in conditional.get(&key).into_iter().flatten() {
            output.line(&format!("  {principal} {verb} at {level}: {line}"));
        }
    }
}

/// Asks on the terminal; without one, `--yes` is needed.
fn confirm(planned: &[Step]) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::new(
            "confirmation",
            "`warden apply` asks before it changes anything, and standard input is not a terminal",
        )
        .with_help("run `warden plan` to review the changes, then `warden apply --yes`")
        .with_exit(1));
    }
    for step in planned {
        progress(&step.describe());
    }
    progress(&format!("apply {}? [y/N]", summary(planned, "")));
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| CliError::new("io", format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
