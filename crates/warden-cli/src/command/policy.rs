//! `warden policy check|fmt`: validate policy files against the catalogue and format them; the
//! client commands `create|update|list|get|delete` are in [`crate::command::policy_client`].

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use warden_policy::diagnostic::{Omitted, locate, render, render_omitted};
use warden_policy::{
    Diagnostic, LocatedDiagnostic, check_policy, format::format_policy_ast, parse_policy,
};

use crate::command::policy_client;
use crate::command::{load_catalogue, read_input};
use crate::output::{CliError, Output, plural};

#[derive(Debug, clap::Subcommand)]
pub enum PolicyCommand {
    /// Create a policy on the server from a file (`-` for standard input).
    Create(policy_client::CreateArgs),
    /// Replace a policy's text on the server (and its name or description when given).
    Update(policy_client::UpdateArgs),
    /// List the policies defined at a level.
    List(policy_client::ListArgs),
    /// Show a policy and its text.
    Get(policy_client::GetArgs),
    /// Delete a policy (`--force` with its bindings).
    Delete(policy_client::DeleteArgs),
    /// Parse and validate policy files against the catalogue (exit 1 on any error).
    Check {
        /// Policy files (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Extra service definitions (TOML, see docs/catalogue-format.md).
        #[arg(long = "catalogue", value_name = "FILE")]
        catalogue: Vec<PathBuf>,
    },
    /// Rewrite policy files in the canonical format (`-` prints the result).
    Fmt {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
    },
}

pub fn run(command: PolicyCommand, output: &mut Output) -> Result<ExitCode, CliError> {
    match command {
        PolicyCommand::Check {
            files,
            deny_warnings,
            catalogue,
        } => check(&files, deny_warnings, &catalogue, output),
        PolicyCommand::Fmt { files, check } => fmt(&files, check, output),
        PolicyCommand::Create(args) => policy_client::create(args, output),
        PolicyCommand::Update(args) => policy_client::update(args, output),
        PolicyCommand::List(args) => policy_client::list(args, output),
        PolicyCommand::Get(args) => policy_client::get(args, output),
        PolicyCommand::Delete(args) => policy_client::delete(args, output),
    }
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<LocatedDiagnostic>,
    /// Diagnostics found beyond those listed (at most 100 are, errors first).
    #[serde(skip_serializing_if = "is_zero")]
    truncated: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn check(
    files: &[PathBuf],
    deny_warnings: bool,
    extra: &[PathBuf],
    output: &mut Output,
) -> Result<ExitCode, CliError> {
    let catalogue = load_catalogue(extra)?;
    let mut reports = Vec::new();
    for path in files {
        let source = read_input(path)?;
        let name = path.display().to_string();
        let checked = check_policy(&source, &catalogue);
        if !output.is_json() {
            output.text(&render(&checked.diagnostics, &source, &name));
            output.text(&render_omitted(checked.omitted));
        }
        reports.push(report(name, &checked.diagnostics, checked.omitted, &source));
    }
    let errors: usize = reports.iter().map(|r| r.errors).sum();
    let warnings: usize = reports.iter().map(|r| r.warnings).sum();
    let failed = errors > 0 || (deny_warnings && warnings > 0);
    if output.is_json() {
        output.json(&serde_json::json!({ "valid": !failed, "errors": errors, "warnings": warnings, "files": reports }));
    } else {
        let invalid = reports.iter().filter(|r| !r.valid).count();
        output.line(&format!(
            "{} checked: {} valid, {invalid} invalid ({}, {})",
            plural(reports.len(), "file"),
            reports.len() - invalid,
            plural(errors, "error"),
            plural(warnings, "warning"),
        ));
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn report(file: String, diagnostics: &[Diagnostic], omitted: Omitted, source: &str) -> FileReport {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    FileReport {
        file,
        valid: errors == 0,
        errors: errors + omitted.errors,
        warnings: diagnostics.len() - errors + omitted.warnings,
        diagnostics: locate(diagnostics, source),
        truncated: omitted.total(),
    }
}

#[derive(Serialize)]
struct FmtReport {
    file: String,
    changed: bool,
    diagnostics: Vec<LocatedDiagnostic>,
}

fn fmt(files: &[PathBuf], check_only: bool, output: &mut Output) -> Result<ExitCode, CliError> {
    let mut failed = false;
    let mut reports = Vec::new();
    for path in files {
        let source = read_input(path)?;
        let name = path.display().to_string();
        let parsed = parse_policy(&source);
        if parsed.has_errors() {
            failed = true;
            if !output.is_json() {
                output.text(&render(&parsed.diagnostics, &source, &name));
            }
            let diagnostics = locate(&parsed.diagnostics, &source);
            reports.push(FmtReport {
                file: name,
                changed: false,
                diagnostics,
            });
            continue;
        }
        let formatted = format_policy_ast(&parsed.ast, &source);
        let changed = formatted != source;
        if path.as_os_str() == "-" && !check_only {
            output.text(&formatted);
        } else if changed && check_only {
            failed = true;
            if !output.is_json() {
                output.line(&format!("{name}: not formatted"));
            }
        } else if changed {
            std::fs::write(path, &formatted)
                .map_err(|e| CliError::new("io", format!("cannot write `{name}`: {e}")))?;
            if !output.is_json() {
                output.line(&format!("{name}: formatted"));
            }
        }
        reports.push(FmtReport {
            file: name,
            changed,
            diagnostics: Vec::new(),
        });
    }
    if output.is_json() {
        output.json(&serde_json::json!({ "ok": !failed, "files": reports }));
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
