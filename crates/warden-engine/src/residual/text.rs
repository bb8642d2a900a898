//! A residual written for people, in the policy language's words: comparisons as a `WHERE`
//! clause writes them (`storage:bucket-name startsWith "team_"`, `IN ("a", "b")`), joined with
//! `AND` and `OR`, `NOT (…)` around what is negated, `NAME IS PRESENT` / `NAME IS ABSENT` for the
//! presence tests the policy language has no words for. The alternatives of a top-level `any`
//! are one per line, each after the first starting `OR`. For reading only: the JSON form is the
//! one to compute with.

use super::predicate::{Comparison, Predicate, ResidualOperator};

/// `predicate` as text (see the module documentation).
pub fn render(predicate: &Predicate) -> String {
    match predicate {
        Predicate::Any { any } if any.len() > 1 => {
            let lines: Vec<String> = any.iter().map(nested).collect();
            lines.join("\nOR ")
        }
        other => flat(other),
    }
}

/// A part written so that it can stand beside `AND` and `OR`: compound parts in parentheses.
fn nested(predicate: &Predicate) -> String {
    match predicate {
        Predicate::All { all } if all.len() > 1 => format!("({})", flat(predicate)),
        Predicate::Any { any } if any.len() > 1 => format!("({})", flat(predicate)),
        other => flat(other),
    }
}

fn flat(predicate: &Predicate) -> String {
    match predicate {
        Predicate::Constant(value) => value.to_string(),
        Predicate::All { all } if all.is_empty() => "true".to_owned(),
        Predicate::Any { any } if any.is_empty() => "false".to_owned(),
        Predicate::All { all } => join(all, " AND "),
        Predicate::Any { any } => join(any, " OR "),
        Predicate::Not { not } => match &**not {
            Predicate::Present { present } => format!("{present} IS ABSENT"),
            other => format!("NOT ({})", flat(other)),
        },
        Predicate::Present { present } => format!("{present} IS PRESENT"),
        Predicate::Compare(comparison) => compare(comparison),
    }
}

fn join(parts: &[Predicate], with: &str) -> String {
    parts.iter().map(nested).collect::<Vec<_>>().join(with)
}

fn compare(comparison: &Comparison) -> String {
    let values: Vec<String> = comparison.values.iter().map(|v| quote(v)).collect();
    let list = match comparison.operator {
        ResidualOperator::In | ResidualOperator::NotIn => format!("({})", values.join(", ")),
        ResidualOperator::Match if values.len() > 1 => format!("({})", values.join(", ")),
        _ => values.join(", "),
    };
    format!(
        "{} {} {list}",
        comparison.attribute,
        comparison.operator.as_str()
    )
}

/// A string as the policy language writes it: in double quotes, `"`, `\` and `$` escaped;
/// control characters (which a policy cannot hold) shown as escapes.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Predicate {
        serde_json::from_str(text).unwrap_or(Predicate::Constant(false))
    }

    #[test]
    fn residuals_read_like_policies() {
        let cases = [
            ("true", "true"),
            ("false", "false"),
            (
                r#"{"attribute":"storage:bucket-name","operator":"startsWith","values":["team_"]}"#,
                r#"storage:bucket-name startsWith "team_""#,
            ),
            (
                r#"{"all":[{"attribute":"a:b","operator":"IN","values":["x","y\"z"]},{"not":{"present":"a:c"}}]}"#,
                r#"a:b IN ("x", "y\"z") AND a:c IS ABSENT"#,
            ),
            (
                r#"{"any":[{"all":[{"attribute":"a:b","operator":"=","values":["${x}"]},{"present":"a:c"}]},{"not":{"attribute":"a:d","operator":"MATCH","values":["p*","q?"]}},{"attribute":"a:e","operator":"NOT IN","values":["\\"]}]}"#,
                "(a:b = \"\\${x}\" AND a:c IS PRESENT)\nOR NOT (a:d MATCH (\"p*\", \"q?\"))\nOR a:e NOT IN (\"\\\\\")",
            ),
            (
                r#"{"all":[{"any":[{"present":"a"},{"present":"b"}]},{"attribute":"c","operator":"!=","values":["line\nbreak"]}]}"#,
                r#"(a IS PRESENT OR b IS PRESENT) AND c != "line\nbreak""#,
            ),
        ];
        for (json, text) in cases {
            assert_eq!(render(&parse(json)), text, "{json}");
        }
    }
}
