//! The invariants of the policy and boundary parsers under arbitrary input, as plain functions:
//! the fuzz targets (`fuzz/fuzz_targets/policy_parser.rs`, `boundary_parser.rs`) call them on
//! every input, and `tests/fuzz_checks.rs` on the seed corpus and on generated texts, so that
//! `cargo test` exercises them too.
//!
//! A check returns the first invariant the input breaks, as a message; a panic in the code under
//! test is a finding as well. Not part of the crate's API.

use std::fmt::Debug;

use crate::ast::{Condition, Policy};
use crate::catalogue::Catalogue;
use crate::diagnostic::Diagnostic;
use crate::format::{format_boundary, format_policy};
use crate::parser::{Boundary, Parsed, parse_boundary, parse_policy};
use crate::span::Span;
use crate::validate::{check_boundary, check_policy};

/// Any text through the policy parser, the validator and the formatter:
/// - neither panics, and every diagnostic and syntax node lies inside the text, on character
///   boundaries;
/// - validation keeps the parse's AST and its errors;
/// - the formatter succeeds exactly when the parse has no error, and then its output parses to
///   the same policy, validates to the same errors, and formats to itself.
pub fn policy(text: &str, catalogue: &Catalogue) -> Result<(), String> {
    let language = Language {
        parse: parse_policy,
        check: check_policy,
        format: format_policy,
        spans_inside: policy_spans_inside,
    };
    language.holds(text, catalogue)
}

/// Any text through the boundary parser, the validator and the formatter, with the invariants of
/// [`policy`].
pub fn boundary(text: &str, catalogue: &Catalogue) -> Result<(), String> {
    let language = Language {
        parse: parse_boundary,
        check: check_boundary,
        format: format_boundary,
        spans_inside: boundary_spans_inside,
    };
    language.holds(text, catalogue)
}

/// The entry points of one of the two languages (policies and boundaries), which share every
/// invariant.
struct Language<T> {
    parse: fn(&str) -> Parsed<T>,
    check: fn(&str, &Catalogue) -> Parsed<T>,
    format: fn(&str) -> Result<String, Vec<Diagnostic>>,
    spans_inside: fn(&T, &str) -> Result<(), String>,
}

impl<T: PartialEq + Debug> Language<T> {
    fn holds(&self, text: &str, catalogue: &Catalogue) -> Result<(), String> {
        let parsed = (self.parse)(text);
        diagnostics_inside("parse", &parsed, text)?;
        (self.spans_inside)(&parsed.ast, text)?;
        let checked = (self.check)(text, catalogue);
        diagnostics_inside("check", &checked, text)?;
        same("the validator's AST", &checked.ast, &parsed.ast)?;
        if parsed.has_errors() && !checked.has_errors() {
            return Err("the validator lost the parse errors".to_owned());
        }
        let formatted = match ((self.format)(text), parsed.has_errors()) {
            (Ok(formatted), false) => formatted,
            (Err(_), true) => return Ok(()),
            (Ok(formatted), true) => {
                return Err(format!("an invalid text formats, to {formatted:?}"));
            }
            (Err(errors), false) => {
                return Err(format!("a valid text does not format: {errors:?}"));
            }
        };
        let reparsed = (self.parse)(&formatted);
        if reparsed.has_errors() {
            return Err(format!(
                "the formatted text {formatted:?} does not parse: {:?}",
                reparsed.diagnostics
            ));
        }
        same("the formatted text's AST", &reparsed.ast, &parsed.ast)?;
        same(
            "the formatted text's validation errors",
            &errors_of(&(self.check)(&formatted, catalogue)),
            &errors_of(&checked),
        )?;
        match (self.format)(&formatted) {
            Ok(again) => same("the formatted text, formatted again", &again, &formatted),
            Err(errors) => Err(format!("the formatted text does not format: {errors:?}")),
        }
    }
}

/// `Err` naming `what` when `actual` is not `expected`.
fn same<T: PartialEq + Debug>(what: &str, actual: &T, expected: &T) -> Result<(), String> {
    if actual == expected {
        Ok(())
    } else {
        Err(format!("{what} changed: {actual:?}, expected {expected:?}"))
    }
}

/// The errors of a parse, without their places (which formatting moves).
fn errors_of<T>(parsed: &Parsed<T>) -> Vec<(String, String)> {
    parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code.as_str().to_owned(), d.message.clone()))
        .collect()
}

fn diagnostics_inside<T>(stage: &str, parsed: &Parsed<T>, text: &str) -> Result<(), String> {
    for diagnostic in &parsed.diagnostics {
        span_inside(
            &format!("{stage} diagnostic {diagnostic:?}"),
            diagnostic.span,
            text,
        )?;
        located_agrees(diagnostic, text)?;
    }
    Ok(())
}

/// The located form points where the span does, at 1-based positions.
fn located_agrees(diagnostic: &Diagnostic, text: &str) -> Result<(), String> {
    let located = diagnostic.located(text);
    let positions = [located.start, located.end];
    let ordered =
        (located.start.line, located.start.column) <= (located.end.line, located.end.column);
    if positions.iter().any(|p| p.line == 0 || p.column == 0) || !ordered {
        return Err(format!(
            "the located diagnostic {located:?} has positions out of order or not 1-based"
        ));
    }
    if located.text != diagnostic.span.text(text) {
        return Err(format!(
            "the located diagnostic's text {:?} is not its span's",
            located.text
        ));
    }
    Ok(())
}

fn policy_spans_inside(policy: &Policy, text: &str) -> Result<(), String> {
    for statement in &policy.statements {
        span_inside("a statement", statement.span, text)?;
        span_inside("an effect", statement.effect.span, text)?;
        for permission in &statement.permissions {
            span_inside("a permission", permission.span, text)?;
        }
        for condition in &statement.conditions {
            condition_spans_inside(condition, text)?;
        }
    }
    for comment in &policy.comments {
        span_inside("a comment", comment.span, text)?;
    }
    Ok(())
}

fn boundary_spans_inside(boundary: &Boundary, text: &str) -> Result<(), String> {
    for condition in &boundary.conditions {
        condition_spans_inside(condition, text)?;
    }
    for comment in &boundary.comments {
        span_inside("a comment", comment.span, text)?;
    }
    Ok(())
}

fn condition_spans_inside(condition: &Condition, text: &str) -> Result<(), String> {
    span_inside("a condition", condition.span, text)?;
    span_inside("a condition name", condition.name.span, text)?;
    span_inside("an operator", condition.operator.span, text)?;
    span_inside("a value", condition.value.span(), text)?;
    for string in condition.value.strings() {
        span_inside("a string", string.span, text)?;
    }
    Ok(())
}

/// `start <= end <= text.len()`, both on character boundaries.
fn span_inside(what: &str, span: Span, text: &str) -> Result<(), String> {
    let inside = span.start <= span.end
        && span.end <= text.len()
        && text.is_char_boundary(span.start)
        && text.is_char_boundary(span.end);
    if inside {
        Ok(())
    } else {
        Err(format!(
            "{what}: span {}..{} is not inside the {}-byte text",
            span.start,
            span.end,
            text.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_outside_the_text_or_inside_a_character_are_reported() {
        assert!(span_inside("x", Span::new(0, 3), "abc").is_ok());
        assert!(span_inside("x", Span::new(0, 4), "abc").is_err());
        assert!(span_inside("x", Span::new(1, 2), "é").is_err());
    }
}
