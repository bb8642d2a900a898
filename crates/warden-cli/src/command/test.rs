//! `warden test FILE…`: runs policy test files (SPEC §11) and prints one line per case, the
//! explanation of every failure, and `N passed, M failed`.
//!
//! This module owns reading the files, reading the clock once, and rendering; parsing the files
//! and deciding the cases is `warden_engine::testfile`. Exit codes: 0 every case passed, 1 a case
//! failed, 2 a file is invalid (none of its cases ran) or unreadable.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use warden_engine::Builtin;
use warden_engine::explain::{Explanation, StatementReport};
use warden_engine::snapshot::Outcome;
use warden_engine::testfile::{self, CaseReport, FileReport, Problem};

use crate::command::read_input;
use crate::output::{CliError, Output, plural};

/// The JSON document of `--format json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary<'a> {
    ok: bool,
    passed: usize,
    failed: usize,
    invalid_files: usize,
    files: &'a [FileReport],
}

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Policy test files (YAML; `-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: TestArgs, output: &mut Output) -> Result<ExitCode, CliError> {
    let mut sources = Vec::new();
    for path in &args.files {
        sources.push((path.display().to_string(), read_input(path)?));
    }
    let builtin = Builtin::load(&[]).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        CliError::new(
            "builtin",
            format!("the built-in content is invalid:\n  {}", lines.join("\n  ")),
        )
    })?;
    let now = now();
    let reports: Vec<FileReport> = sources
        .iter()
        .map(|(name, text)| testfile::run_with(&builtin, name, text, now))
        .collect();
    let passed: usize = reports.iter().map(FileReport::passed).sum();
    let failed: usize = reports.iter().map(FileReport::failed).sum();
    let invalid = reports.iter().filter(|r| !r.is_valid()).count();
    if output.is_json() {
        output.json(&Summary {
            ok: failed == 0 && invalid == 0,
            passed,
            failed,
            invalid_files: invalid,
            files: &reports,
        });
    } else {
        for report in &reports {
            print_file(report, output);
        }
        let mut summary = format!("{passed} passed, {failed} failed");
        match invalid {
            0 => {}
            1 => summary.push_str("; 1 file has errors and did not run"),
            n => summary.push_str(&format!("; {n} files have errors and did not run")),
        }
        output.line(&summary);
    }
    Ok(if invalid > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Seconds since the epoch: the time of cases that give none. The only clock read of the command.
fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|elapsed| i64::try_from(elapsed.as_secs()).ok())
        .unwrap_or(0)
}

fn print_file(report: &FileReport, output: &mut Output) {
    if !report.is_valid() {
        for error in &report.errors {
            print_problem(&report.file, "error", error, output);
        }
        for warning in &report.warnings {
            print_problem(&report.file, "warning", warning, output);
        }
        output.line(&format!(
            "{}: {}; no case ran",
            report.file,
            plural(report.errors.len(), "error")
        ));
        return;
    }
    output.line(&format!(
        "{}: {}",
        report.file,
        plural(report.cases.len(), "case")
    ));
    for warning in &report.warnings {
        print_problem(&report.file, "warning", warning, output);
    }
    for case in &report.cases {
        print_case(&report.file, case, output);
    }
}

fn print_problem(file: &str, severity: &str, problem: &Problem, output: &mut Output) {
    output.line(&format!(
        "{file}:{}:{}: {severity}: {}",
        problem.line, problem.column, problem.message
    ));
    if let Some(help) = &problem.help {
        output.line(&format!("  help: {help}"));
    }
}

fn print_case(file: &str, case: &CaseReport, output: &mut Output) {
    if case.passed {
        output.line(&format!("ok   {}", case.description));
        return;
    }
    output.line(&format!(
        "FAIL {}: expected {}, got {}",
        case.description,
        outcome(case.expected),
        outcome(case.actual)
    ));
    output.line(&format!("    at {file}:{}:{}", case.line, case.column));
    if let Some(explanation) = &case.explanation {
        print_explanation(explanation, output);
    }
}

fn print_explanation(explanation: &Explanation, output: &mut Output) {
    output.line(&format!("    {}", explanation.summary));
    for statement in &explanation.deciding {
        output.line(&format!("    deciding: {}", cite(statement)));
    }
    for near in &explanation.nearest {
        output.line(&format!(
            "    near miss: {}: `{}` fails: {}",
            cite(&near.statement),
            near.failed.condition,
            near.failed.why
        ));
    }
}

/// `` `ALLOW …;` of policy `P`, group `G`, bound at account (boundary `B`) ``.
fn cite(statement: &StatementReport) -> String {
    let mut out = format!(
        "`{}` of policy `{}`, group `{}`, bound at {}",
        statement.statement, statement.policy.name, statement.group.name, statement.level
    );
    if let Some(boundary) = &statement.boundary {
        out.push_str(&format!(" with boundary `{}`", boundary.name));
    }
    out
}

fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Allow => "allow",
        Outcome::Deny => "deny",
    }
}
