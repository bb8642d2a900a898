//! Property tests of the parser and formatter.
//!
//! Random policies are written out in a random but valid layout (keyword case, quotes, spacing,
//! line breaks, comments), then: the parse has no error and yields exactly the generated
//! statements; `format` is idempotent; and formatting never changes the meaning. Arbitrary text
//! never makes the parser or formatter panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use proptest::prelude::*;
use warden_policy::ast::{GlobalAttribute, Placeholder, StringPart};
use warden_policy::{Effect, Operator, format_policy, parse_policy};

#[derive(Debug, Clone)]
struct GenStatement {
    effect: Effect,
    permissions: Vec<String>,
    conditions: Vec<(String, Operator, Vec<Vec<StringPart>>)>,
    comment: Option<String>,
}

fn segment() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._-]{0,8}"
}

fn permission() -> impl Strategy<Value = String> {
    (segment(), segment(), segment()).prop_map(|(a, b, c)| format!("{a}:{b}:{c}"))
}

fn condition_name() -> impl Strategy<Value = String> {
    ("[a-z0-9-]{1,8}", "[A-Za-z0-9._-]{1,10}")
        .prop_map(|(prefix, attribute)| format!("{prefix}:{attribute}"))
}

fn string_parts() -> impl Strategy<Value = Vec<StringPart>> {
    let part = prop_oneof![
        4 => r#"[ -~]{1,12}"#.prop_map(StringPart::Text),
        1 => "[A-Za-z0-9_-]{1,8}".prop_map(|n| StringPart::Placeholder(Placeholder::BindParam(n))),
        1 => prop::sample::select(GlobalAttribute::ALL.to_vec())
            .prop_map(|a| StringPart::Placeholder(Placeholder::Global(a))),
    ];
    prop::collection::vec(part, 0..4).prop_map(normalise_parts)
}

/// Merges adjacent text parts and represents the empty string as one empty text, as the lexer does.
fn normalise_parts(parts: Vec<StringPart>) -> Vec<StringPart> {
    let mut out: Vec<StringPart> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(StringPart::Text(previous)), StringPart::Text(text)) => previous.push_str(&text),
            (_, part) => out.push(part),
        }
    }
    if out.is_empty() {
        out.push(StringPart::Text(String::new()));
    }
    out
}

fn condition() -> impl Strategy<Value = (String, Operator, Vec<Vec<StringPart>>)> {
    (
        condition_name(),
        prop::sample::select(Operator::ALL.to_vec()),
    )
        .prop_flat_map(|(name, op)| {
            let count = match op {
                Operator::In | Operator::NotIn => 1..5usize,
                Operator::Match => 1..3usize,
                _ => 1..2usize,
            };
            (
                Just(name),
                Just(op),
                prop::collection::vec(string_parts(), count),
            )
        })
}

fn statement() -> impl Strategy<Value = GenStatement> {
    (
        prop::bool::ANY,
        prop::collection::vec(permission(), 1..4),
        prop::collection::vec(condition(), 0..4),
        prop::option::of("[ -~]{0,20}"),
    )
        .prop_map(|(deny, permissions, conditions, comment)| GenStatement {
            effect: if deny { Effect::Deny } else { Effect::Allow },
            permissions,
            conditions,
            comment: comment.map(|c| c.trim_end().to_owned()),
        })
}

/// Layout choices for writing a policy out.
#[derive(Debug, Clone)]
struct Layout {
    lower_keywords: bool,
    single_quotes: bool,
    separator: String,
    comment_inside: bool,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        prop::bool::ANY,
        prop::bool::ANY,
        prop::sample::select(vec![" ", "  ", "\n", "\n  ", "\t", "\r\n"]),
        prop::bool::ANY,
    )
        .prop_map(
            |(lower_keywords, single_quotes, separator, comment_inside)| Layout {
                lower_keywords,
                single_quotes,
                separator: separator.to_owned(),
                comment_inside,
            },
        )
}

fn quote(parts: &[StringPart], single: bool) -> String {
    let q = if single { '\'' } else { '"' };
    let mut out = String::from(q);
    for part in parts {
        match part {
            StringPart::Text(text) => {
                for c in text.chars() {
                    match c {
                        '\\' | '$' => {
                            out.push('\\');
                            out.push(c);
                        }
                        c if c == q => {
                            out.push('\\');
                            out.push(c);
                        }
                        c => out.push(c),
                    }
                }
            }
            StringPart::Placeholder(placeholder) => out.push_str(&placeholder.to_string()),
        }
    }
    out.push(q);
    out
}

fn write(statements: &[GenStatement], layout: &Layout) -> String {
    let kw = |word: &str| {
        if layout.lower_keywords {
            word.to_lowercase()
        } else {
            word.to_owned()
        }
    };
    let sep = &layout.separator;
    let mut out = String::new();
    for statement in statements {
        out.push_str(&kw(statement.effect.as_str()));
        out.push_str(sep);
        if layout.comment_inside && statement.comment.is_some() {
            out.push_str("// inside\n");
        }
        out.push_str(&statement.permissions.join(&format!(",{sep}")));
        for (i, (name, op, values)) in statement.conditions.iter().enumerate() {
            out.push_str(sep);
            out.push_str(&kw(if i == 0 { "WHERE" } else { "AND" }));
            out.push_str(sep);
            out.push_str(name);
            out.push_str(sep);
            out.push_str(&kw(op.as_str()));
            out.push_str(sep);
            let quoted: Vec<String> = values
                .iter()
                .map(|v| quote(v, layout.single_quotes))
                .collect();
            if values.len() == 1 && !matches!(op, Operator::In | Operator::NotIn) {
                out.push_str(&quoted[0]);
            } else {
                out.push_str(&format!("({})", quoted.join(&format!(",{sep}"))));
            }
        }
        out.push(';');
        if let Some(comment) = &statement.comment {
            out.push_str(&format!(" //{comment}"));
        }
        out.push_str(sep);
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_yields_the_written_statements(statements in prop::collection::vec(statement(), 0..6), layout in layout()) {
        let text = write(&statements, &layout);
        let parsed = parse_policy(&text);
        prop_assert!(parsed.diagnostics.is_empty(), "{text}\n{:?}", parsed.diagnostics);
        prop_assert_eq!(parsed.ast.statements.len(), statements.len());
        for (got, want) in parsed.ast.statements.iter().zip(&statements) {
            prop_assert_eq!(got.effect.node, want.effect);
            let permissions: Vec<&str> = got.permissions.iter().map(|p| p.node.as_str()).collect();
            prop_assert_eq!(permissions, want.permissions.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(got.conditions.len(), want.conditions.len());
            for (condition, (name, op, values)) in got.conditions.iter().zip(&want.conditions) {
                prop_assert_eq!(&condition.name.node, name);
                prop_assert_eq!(condition.operator.node, *op);
                let parts: Vec<&Vec<StringPart>> = condition.value.strings().iter().map(|s| &s.parts).collect();
                prop_assert_eq!(parts, values.iter().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn format_is_idempotent_and_keeps_the_meaning(statements in prop::collection::vec(statement(), 0..6), layout in layout()) {
        let text = write(&statements, &layout);
        let once = format_policy(&text).unwrap();
        let twice = format_policy(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(parse_policy(&once).ast, parse_policy(&text).ast);
        let comments = |t: &str| parse_policy(t).ast.comments.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
        prop_assert_eq!(comments(&once), comments(&text));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let parsed = parse_policy(&text);
        if !parsed.has_errors() {
            let formatted = format_policy(&text).unwrap();
            prop_assert_eq!(format_policy(&formatted).unwrap(), formatted);
        }
    }

    #[test]
    fn near_miss_text_never_panics(text in "(ALLOW|DENY|WHERE|AND|OR|NOT|IN|a:b:c|x:y|\"v\"|'w'|\\(|\\)|,|;|=|!=|//c\n|\\$\\{|\\}| |\n){0,40}") {
        let parsed = parse_policy(&text);
        for diagnostic in &parsed.diagnostics {
            prop_assert!(diagnostic.span.end <= text.len());
        }
        let _ = warden_policy::parse_boundary(&text);
    }
}
