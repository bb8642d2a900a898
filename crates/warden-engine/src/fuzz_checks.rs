//! The invariants of the policy test-file loader and runner (SPEC §11) under arbitrary input, as
//! a plain function: the fuzz target (`fuzz/fuzz_targets/testfile_loader.rs`) calls it on every
//! input, and `tests/fuzz_checks.rs` on the seed corpus and on generated files, so that
//! `cargo test` exercises it too.
//!
//! The check returns the first invariant the input breaks, as a message; a panic in the code under
//! test is a finding as well. Not part of the crate's API.

use crate::builtin::Builtin;
use crate::testfile::{self, FileReport};

/// The time of cases that give none (2026-01-01T00:00:00Z): fixed, so that runs repeat.
pub const NOW: i64 = 1_767_225_600;

/// Any text through the test-file loader and runner:
/// - neither panics;
/// - every error, warning and case the report names lies inside the text (a 1-based line of it,
///   lines ending at `\r\n`, `\r` or `\n` as in YAML, and a column at most one past that line's
///   last character);
/// - a file with errors runs no case; a file without runs its cases, numbered from 1 in order.
pub fn testfile(text: &str, builtin: &Builtin) -> Result<(), String> {
    let report = testfile::run_with(builtin, "fuzz.yaml", text, NOW);
    report_inside(&report, text)?;
    if !report.errors.is_empty() && !report.cases.is_empty() {
        return Err(format!(
            "a file with {} errors ran {} cases",
            report.errors.len(),
            report.cases.len()
        ));
    }
    for (position, case) in report.cases.iter().enumerate() {
        if case.index != position + 1 {
            return Err(format!(
                "case {} of the report has index {}",
                position + 1,
                case.index
            ));
        }
    }
    Ok(())
}

fn report_inside(report: &FileReport, text: &str) -> Result<(), String> {
    // Lines end at `\r\n`, `\r` or `\n`, as in YAML.
    let lines: Vec<usize> = text
        .replace("\r\n", "\n")
        .split(['\r', '\n'])
        .map(|line| line.chars().count())
        .collect();
    let inside = |line: usize, column: usize| {
        line.checked_sub(1)
            .and_then(|index| lines.get(index))
            .is_some_and(|&length| column >= 1 && column <= length + 1)
    };
    let problems = report
        .errors
        .iter()
        .map(|p| ("error", p.line, p.column, p.message.as_str()))
        .chain(
            report
                .warnings
                .iter()
                .map(|p| ("warning", p.line, p.column, p.message.as_str())),
        )
        .chain(
            report
                .cases
                .iter()
                .map(|c| ("case", c.line, c.column, c.description.as_str())),
        );
    for (kind, line, column, message) in problems {
        if !inside(line, column) {
            return Err(format!(
                "{kind} at {line}:{column} is outside the text ({} lines): {message}",
                lines.len()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testfile::Problem;
    use crate::testfile::report::Pos;

    #[test]
    fn positions_past_the_text_are_reported() {
        let mut report = FileReport {
            file: "x".into(),
            errors: vec![Problem::new(Pos::new(2, 1), "at the end")],
            warnings: Vec::new(),
            cases: Vec::new(),
        };
        assert!(report_inside(&report, "a: b\n").is_ok());
        assert!(report_inside(&report, "a: b").is_err());
        report.errors = vec![Problem::new(Pos::new(1, 6), "after the line")];
        assert!(report_inside(&report, "a: b\n").is_err());
        report.errors = vec![Problem::new(Pos::new(1, 0), "column 0")];
        assert!(report_inside(&report, "a: b\n").is_err());
        report.errors = vec![Problem::new(Pos::new(3, 1), "after a carriage return")];
        assert!(report_inside(&report, "a\r\nb\rc").is_ok());
        assert!(report_inside(&report, "a\r\nbc").is_err());
    }
}
