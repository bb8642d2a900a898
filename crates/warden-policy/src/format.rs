//! The formatter: one canonical text per policy (and per boundary).
//!
//! One statement per line with its permissions in one list, upper-case keywords, canonical operator
//! spellings, double-quoted strings, `WHERE null` dropped (it means "no condition"), comments kept:
//! a comment on the line of a statement's end stays there, a comment inside a statement moves to
//! the line before it. Runs of blank lines become one blank line. `format` is idempotent.

use crate::ast::{Comment, Condition, Policy, Statement, StringLit, StringPart, Value};
use crate::diagnostic::Diagnostic;
use crate::parser::{Boundary, parse_boundary, parse_policy};
use crate::span::Span;

/// Parses and formats a policy; fails with the parse errors when the text is not valid syntax.
pub fn format_policy(source: &str) -> Result<String, Vec<Diagnostic>> {
    let policy = parse_policy(source).ok()?;
    Ok(format_policy_ast(&policy, source))
}

/// Parses and formats a boundary.
pub fn format_boundary(source: &str) -> Result<String, Vec<Diagnostic>> {
    let boundary = parse_boundary(source).ok()?;
    Ok(format_boundary_ast(&boundary, source))
}

/// Formats a parsed policy; `source` is the text it was parsed from (for blank lines and comments).
pub fn format_policy_ast(policy: &Policy, source: &str) -> String {
    let entries: Vec<(Span, String)> = policy
        .statements
        .iter()
        .map(|statement| (statement.span, statement_text(statement)))
        .collect();
    layout(&entries, &policy.comments, source)
}

pub fn format_boundary_ast(boundary: &Boundary, source: &str) -> String {
    let entries: Vec<(Span, String)> = boundary
        .conditions
        .iter()
        .map(|condition| (condition.span, condition_text(condition)))
        .collect();
    layout(&entries, &boundary.comments, source)
}

/// The canonical one-line text of a statement.
pub fn statement_text(statement: &Statement) -> String {
    let permissions: Vec<&str> = statement
        .permissions
        .iter()
        .map(|p| p.node.as_str())
        .collect();
    let mut out = format!("{} {}", statement.effect.node, permissions.join(", "));
    if !statement.conditions.is_empty() {
        let conditions: Vec<String> = statement.conditions.iter().map(condition_text).collect();
        out.push_str(" WHERE ");
        out.push_str(&conditions.join(" AND "));
    }
    out.push(';');
    out
}

pub fn condition_text(condition: &Condition) -> String {
    format!(
        "{} {} {}",
        condition.name.node,
        condition.operator.node,
        value_text(&condition.value)
    )
}

pub fn value_text(value: &Value) -> String {
    match value {
        Value::Single(string) => quote(string),
        Value::List(list) => {
            let items: Vec<String> = list.node.iter().map(quote).collect();
            format!("({})", items.join(", "))
        }
    }
}

/// A string literal in canonical form: double quotes, only the necessary escapes.
pub fn quote(string: &StringLit) -> String {
    let mut out = String::from('"');
    for part in &string.parts {
        match part {
            StringPart::Text(text) => {
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        // Only a `$` that would start a placeholder needs escaping.
                        '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
                        c => out.push(c),
                    }
                }
            }
            StringPart::Placeholder(placeholder) => out.push_str(&placeholder.to_string()),
        }
    }
    out.push('"');
    out
}

enum Line<'a> {
    Comment(&'a Comment),
    Entry {
        text: &'a str,
        trailing: Option<&'a Comment>,
    },
}

/// Lays entries (statements or boundary conditions) and comments out in source order.
fn layout(entries: &[(Span, String)], comments: &[Comment], source: &str) -> String {
    // (where the line starts in the source for blank-line detection, where it ends, the line)
    let mut lines: Vec<(usize, usize, Line<'_>)> = Vec::new();
    let mut comments = comments.iter().peekable();
    for (span, text) in entries {
        while let Some(comment) = comments.next_if(|c| c.span.start < span.start) {
            lines.push((comment.span.start, comment.span.end, Line::Comment(comment)));
        }
        // Comments inside the entry go on their own lines before it.
        while let Some(comment) = comments.next_if(|c| c.span.start < span.end) {
            lines.push((span.start, comment.span.end, Line::Comment(comment)));
        }
        let same_line = |c: &&Comment| {
            !source
                .get(span.end..c.span.start)
                .unwrap_or("\n")
                .contains('\n')
        };
        let trailing = comments.next_if(same_line);
        let end = trailing.map_or(span.end, |c| c.span.end);
        lines.push((span.start, end, Line::Entry { text, trailing }));
    }
    for comment in comments {
        lines.push((comment.span.start, comment.span.end, Line::Comment(comment)));
    }

    let mut out = String::new();
    let mut previous_end: Option<usize> = None;
    for (start, end, line) in &lines {
        if let Some(previous_end) = previous_end {
            let gap = source.get(previous_end..*start).unwrap_or("");
            if gap.matches('\n').count() >= 2 {
                out.push('\n');
            }
        }
        match line {
            Line::Comment(comment) => {
                out.push_str("//");
                out.push_str(&comment.text);
            }
            Line::Entry { text, trailing } => {
                out.push_str(text);
                if let Some(comment) = trailing {
                    out.push_str(" //");
                    out.push_str(&comment.text);
                }
            }
        }
        out.push('\n');
        previous_end = Some(*end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(source: &str) -> String {
        format_policy(source).unwrap_or_else(|errors| panic!("{errors:?}"))
    }

    #[test]
    fn canonical_layout() {
        let source = "// header\n\n\nallow  b:c:d ,\n  e:f:g where x:y='v' and z:w not in ('a',\"b\");  // why\ndeny a:b:c WHERE null";
        assert_eq!(
            fmt(source),
            "// header\n\nALLOW b:c:d, e:f:g WHERE x:y = \"v\" AND z:w NOT IN (\"a\", \"b\"); // why\nDENY a:b:c;\n"
        );
    }

    #[test]
    fn comments_inside_a_statement_move_before_it() {
        let source = "ALLOW\n// Grail\na:b:c, // first\n d:e:f;";
        assert_eq!(fmt(source), "// Grail\n// first\nALLOW a:b:c, d:e:f;\n");
        assert_eq!(fmt(&fmt(source)), fmt(source));
    }

    #[test]
    fn strings_are_requoted_with_minimal_escapes() {
        let source = r#"ALLOW a:b:c WHERE x:y = 'say "hi" \' \\ \${x} $ ${bindParam:p}';"#;
        let formatted = fmt(source);
        assert_eq!(
            formatted,
            "ALLOW a:b:c WHERE x:y = \"say \\\"hi\\\" ' \\\\ \\${x} $ ${bindParam:p}\";\n"
        );
        assert_eq!(parse_policy(&formatted).ast, parse_policy(source).ast);
    }

    #[test]
    fn statements_on_one_line_are_split() {
        assert_eq!(
            fmt("ALLOW a:b:c;ALLOW d:e:f;"),
            "ALLOW a:b:c;\nALLOW d:e:f;\n"
        );
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("// only a comment"), "// only a comment\n");
    }

    #[test]
    fn boundaries_format_one_condition_per_line() {
        let source = "storage:k8s.namespace.name in ('a','b');\n\n// zone\nenvironment:management-zone = \"z\"";
        assert_eq!(
            format_boundary(source).unwrap(),
            "storage:k8s.namespace.name IN (\"a\", \"b\")\n\n// zone\nenvironment:management-zone = \"z\"\n"
        );
    }
}
