//! Diagnostics: every error and warning the language reports, with its stable code, its location,
//! what was wrong and, where known, the fix. Rendering to text lives here too so the CLI, the HTTP
//! API and the golden tests all show the same words.
//!
//! One text may hold a great many findings (a megabyte of one permission repeated has tens of
//! thousands), so they are bounded where they are made: a [`Collector`] keeps at most
//! [`MAX_DIAGNOSTICS`] errors and as many warnings and only counts the rest, without building
//! them; [`limit`] then keeps [`MAX_DIAGNOSTICS`] in all, errors first, and adds the others to
//! the count ([`Omitted`]) that the API, the console and `warden policy check` report as
//! `truncated`. Locating them uses one [`LineIndex`] per text ([`locate`]).

use std::fmt::Write as _;

use serde::Serialize;

use crate::span::{LineIndex, Position, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Stable identifiers of every diagnostic, for tools and documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum Code {
    // syntax
    UnexpectedCharacter,
    UnterminatedString,
    InvalidEscape,
    MalformedPlaceholder,
    UnknownPlaceholder,
    UnexpectedToken,
    UnexpectedEnd,
    MissingSemicolon,
    InvalidPermissionName,
    InvalidConditionName,
    UnsupportedOr,
    UnsupportedNot,
    UnsupportedParentheses,
    InvalidOperator,
    EmptyList,
    TooManyStatements,
    StatementTooLong,
    ListTooLong,
    TooManyErrors,
    // boundaries
    BoundaryAnd,
    TooManyBoundaryConditions,
    // catalogue validation
    UnknownPermission,
    UnknownCondition,
    UnsupportedCondition,
    OperatorNotAllowed,
    ListExpected,
    SingleValueExpected,
    ListPlaceholderMisplaced,
    InvalidTimeValue,
    // warnings
    UnconditionalDeny,
    RepeatedPermission,
    RedundantStatement,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::UnexpectedCharacter => "unexpected-character",
            Code::UnterminatedString => "unterminated-string",
            Code::InvalidEscape => "invalid-escape",
            Code::MalformedPlaceholder => "malformed-placeholder",
            Code::UnknownPlaceholder => "unknown-placeholder",
            Code::UnexpectedToken => "unexpected-token",
            Code::UnexpectedEnd => "unexpected-end",
            Code::MissingSemicolon => "missing-semicolon",
            Code::InvalidPermissionName => "invalid-permission-name",
            Code::InvalidConditionName => "invalid-condition-name",
            Code::UnsupportedOr => "unsupported-or",
            Code::UnsupportedNot => "unsupported-not",
            Code::UnsupportedParentheses => "unsupported-parentheses",
            Code::InvalidOperator => "invalid-operator",
            Code::EmptyList => "empty-list",
            Code::TooManyStatements => "too-many-statements",
            Code::StatementTooLong => "statement-too-long",
            Code::ListTooLong => "list-too-long",
            Code::TooManyErrors => "too-many-errors",
            Code::BoundaryAnd => "boundary-and",
            Code::TooManyBoundaryConditions => "too-many-boundary-conditions",
            Code::UnknownPermission => "unknown-permission",
            Code::UnknownCondition => "unknown-condition",
            Code::UnsupportedCondition => "unsupported-condition",
            Code::OperatorNotAllowed => "operator-not-allowed",
            Code::ListExpected => "list-expected",
            Code::SingleValueExpected => "single-value-expected",
            Code::ListPlaceholderMisplaced => "list-placeholder-misplaced",
            Code::InvalidTimeValue => "invalid-time-value",
            Code::UnconditionalDeny => "unconditional-deny",
            Code::RepeatedPermission => "repeated-permission",
            Code::RedundantStatement => "redundant-statement",
        }
    }
}

impl From<Code> for &'static str {
    fn from(code: Code) -> Self {
        code.as_str()
    }
}

/// One finding about a policy text. Messages are lower-case sentences without a final period;
/// user input is quoted in backticks; `help` says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub span: Span,
    /// A short note shown under the underlined text (often what was expected there).
    pub label: String,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: String::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The serialisable form with line:column and the offending text resolved against `source`.
    /// Builds a line index of the text: to locate several diagnostics of one text, use
    /// [`Diagnostic::located_in`] or [`locate`].
    pub fn located(&self, source: &str) -> LocatedDiagnostic {
        self.located_in(&LineIndex::new(source), source)
    }

    /// [`Diagnostic::located`] with the text's line index.
    pub fn located_in(&self, index: &LineIndex<'_>, source: &str) -> LocatedDiagnostic {
        LocatedDiagnostic {
            severity: self.severity,
            code: self.code,
            message: self.message.clone(),
            start: index.position(self.span.start),
            end: index.position(self.span.end),
            span: self.span,
            text: self.span.text(source).to_owned(),
            label: self.label.clone(),
            help: self.help.clone(),
        }
    }
}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|help| Box::new(help) as Box<dyn std::fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let label = (!self.label.is_empty()).then(|| self.label.clone());
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(label, self.span),
        )))
    }
}

/// A diagnostic resolved against its source: what `--format json` and the HTTP API return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocatedDiagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub start: Position,
    pub end: Position,
    pub span: Span,
    /// The offending text.
    pub text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Diagnostics kept of one text at most, errors first; the others are only counted.
pub const MAX_DIAGNOSTICS: usize = 100;

/// How many diagnostics were found but not kept ([`MAX_DIAGNOSTICS`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Omitted {
    pub errors: usize,
    pub warnings: usize,
}

impl Omitted {
    pub fn total(self) -> usize {
        self.errors + self.warnings
    }

    fn count(&mut self, severity: Severity, n: usize) {
        match severity {
            Severity::Error => self.errors += n,
            Severity::Warning => self.warnings += n,
        }
    }
}

impl std::ops::AddAssign for Omitted {
    fn add_assign(&mut self, other: Omitted) {
        self.errors += other.errors;
        self.warnings += other.warnings;
    }
}

/// Where validation puts what it finds: keeps the first [`MAX_DIAGNOSTICS`] errors and as many
/// warnings, counts the rest. Before building a costly diagnostic (a suggestion to compute, a
/// message to format), ask [`Collector::wants`] and [`Collector::omit`] it when not.
#[derive(Debug, Default)]
pub struct Collector {
    kept: Vec<Diagnostic>,
    errors: usize,
    warnings: usize,
    omitted: Omitted,
}

impl Collector {
    pub fn new() -> Self {
        Collector::default()
    }

    /// Whether a diagnostic of this severity would be kept.
    pub fn wants(&self, severity: Severity) -> bool {
        match severity {
            Severity::Error => self.errors < MAX_DIAGNOSTICS,
            Severity::Warning => self.warnings < MAX_DIAGNOSTICS,
        }
    }

    /// Diagnostics of this severity found so far, kept or not.
    pub fn found(&self, severity: Severity) -> usize {
        match severity {
            Severity::Error => self.errors + self.omitted.errors,
            Severity::Warning => self.warnings + self.omitted.warnings,
        }
    }

    /// Counts `n` diagnostics of this severity without keeping them.
    pub fn omit(&mut self, severity: Severity, n: usize) {
        self.omitted.count(severity, n);
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        if !self.wants(diagnostic.severity) {
            self.omit(diagnostic.severity, 1);
            return;
        }
        match diagnostic.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
        self.kept.push(diagnostic);
    }

    /// What was kept, and the count of the rest.
    pub fn finish(self) -> (Vec<Diagnostic>, Omitted) {
        (self.kept, self.omitted)
    }
}

/// Keeps at most [`MAX_DIAGNOSTICS`] of `diagnostics`: the first errors by position, then the
/// first warnings; the others are added to `omitted`. The kept ones stay in [`sort`] order.
pub fn limit(diagnostics: &mut Vec<Diagnostic>, omitted: &mut Omitted) {
    sort(diagnostics);
    if diagnostics.len() <= MAX_DIAGNOSTICS {
        return;
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let mut errors_left = errors.min(MAX_DIAGNOSTICS);
    let mut warnings_left = MAX_DIAGNOSTICS - errors_left;
    diagnostics.retain(|d| {
        let left = if d.is_error() {
            &mut errors_left
        } else {
            &mut warnings_left
        };
        if *left > 0 {
            *left -= 1;
            true
        } else {
            omitted.count(d.severity, 1);
            false
        }
    });
}

/// Every diagnostic located against `source`, with one line index for all of them.
pub fn locate(diagnostics: &[Diagnostic], source: &str) -> Vec<LocatedDiagnostic> {
    let index = LineIndex::new(source);
    diagnostics
        .iter()
        .map(|d| d.located_in(&index, source))
        .collect()
}

/// Renders diagnostics the way compilers do: a header line, the location, the source line with the
/// offending text underlined, and the help. Plain text, no colour, stable for golden files.
pub fn render(diagnostics: &[Diagnostic], source: &str, file_name: &str) -> String {
    let index = LineIndex::new(source);
    let mut out = String::new();
    for diagnostic in diagnostics {
        render_one(&mut out, diagnostic, &index, source, file_name);
    }
    out
}

/// The note that follows rendered diagnostics when some were not kept.
pub fn render_omitted(omitted: Omitted) -> String {
    if omitted.total() == 0 {
        return String::new();
    }
    format!(
        "note: {} more diagnostic(s) not shown ({} error(s), {} warning(s)); at most {MAX_DIAGNOSTICS} are shown, errors first\n\n",
        omitted.total(),
        omitted.errors,
        omitted.warnings
    )
}

fn render_one(
    out: &mut String,
    diagnostic: &Diagnostic,
    index: &LineIndex<'_>,
    source: &str,
    file_name: &str,
) {
    let start = index.position(diagnostic.span.start);
    let line_text = index.line_text(start.line);
    let gutter = start.line.to_string().len();
    let pad = " ".repeat(gutter);
    let _ = writeln!(
        out,
        "{}[{}]: {}",
        diagnostic.severity.as_str(),
        diagnostic.code.as_str(),
        diagnostic.message
    );
    let _ = writeln!(out, "{pad}--> {file_name}:{}:{}", start.line, start.column);
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{} | {}", start.line, line_text.replace('\t', " "));
    // Underline up to the end of the span or of the line, whichever comes first; at least one caret.
    let shown = diagnostic
        .span
        .text(source)
        .split('\n')
        .next()
        .unwrap_or("")
        .chars()
        .count();
    let carets = "^".repeat(shown.max(1));
    let indent = " ".repeat(start.column - 1);
    if diagnostic.label.is_empty() {
        let _ = writeln!(out, "{pad} | {indent}{carets}");
    } else {
        let _ = writeln!(out, "{pad} | {indent}{carets} {}", diagnostic.label);
    }
    if let Some(help) = &diagnostic.help {
        let _ = writeln!(out, "{pad} = help: {help}");
    }
    out.push('\n');
}

/// Orders diagnostics by position, errors before warnings at the same place.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.span.start, a.severity, a.span.end).cmp(&(b.span.start, b.severity, b.span.end))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collectors_and_limits_keep_errors_first_and_count_the_rest() {
        let warning =
            |at: usize| Diagnostic::warning(Code::RepeatedPermission, Span::new(at, at + 1), "w");
        let error =
            |at: usize| Diagnostic::error(Code::UnknownPermission, Span::new(at, at + 1), "e");
        let mut collector = Collector::new();
        for at in 0..150 {
            collector.push(warning(at));
        }
        assert!(!collector.wants(Severity::Warning) && collector.wants(Severity::Error));
        collector.push(error(1_000));
        collector.omit(Severity::Error, 3);
        let (mut kept, mut omitted) = collector.finish();
        assert_eq!(kept.len(), 101);
        assert_eq!(
            omitted,
            Omitted {
                errors: 3,
                warnings: 50
            }
        );
        limit(&mut kept, &mut omitted);
        assert_eq!(kept.len(), MAX_DIAGNOSTICS);
        assert_eq!(
            kept.last().map(|d| d.code),
            Some(Code::UnknownPermission),
            "the error stays"
        );
        assert_eq!(
            kept.first().map(|d| d.span.start),
            Some(0),
            "in position order"
        );
        assert_eq!(
            omitted,
            Omitted {
                errors: 3,
                warnings: 51
            }
        );
        assert_eq!(
            render_omitted(omitted),
            "note: 54 more diagnostic(s) not shown (3 error(s), 51 warning(s)); at most 100 are shown, errors first\n\n"
        );
    }

    #[test]
    fn renders_location_underline_and_help() {
        let source = "ALLOW a:b:c\nALLOW x OR y;";
        let diagnostic = Diagnostic::error(
            Code::UnsupportedOr,
            Span::new(20, 22),
            "`OR` is not supported",
        )
        .with_label("here")
        .with_help("write two statements instead");
        let text = render(&[diagnostic], source, "p.policy");
        assert_eq!(
            text,
            "error[unsupported-or]: `OR` is not supported\n \
             --> p.policy:2:9\n  |\n2 | ALLOW x OR y;\n  |         ^^ here\n  = help: write two statements instead\n\n"
        );
    }
}
