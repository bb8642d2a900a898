//! Least-privilege suggestions: from what a principal's allowed requests carried, the policy text
//! that allows every one of them and no permission it did not use.
//!
//! A pure function of the observations and the catalogue. For each permission used, one ALLOW
//! whose conditions restrict each attribute the catalogue gives it to the values observed (an `IN`
//! list; their common prefix as `startsWith` when there are more than [`PREFIX_BOUND`]), and the
//! environment to those used. An attribute is restricted only when every observed request carried
//! it and every value was kept: an ALLOW condition on an absent attribute does not hold (SPEC §3),
//! and a list missing a value would refuse a request that was allowed. Whatever is left
//! unrestricted for a reason the reader would not guess is said in a comment line above the
//! statement. Permissions with the same conditions share a statement.
//!
//! Observing is not this module's business (the server samples allowed requests), nor binding
//! the result.

use std::collections::{BTreeMap, BTreeSet};

use warden_policy::Operator;
use warden_policy::catalogue::{Catalogue, ConditionSpec};

/// An `IN` list longer than this becomes `startsWith` the values' common prefix, when the
/// condition allows it and the values have one.
pub const PREFIX_BOUND: usize = 20;
/// Statements in a policy at most (SPEC §2).
pub const MAX_STATEMENTS: usize = 100;
/// The environment condition.
pub const ENVIRONMENT: &str = "global:environmentId";
/// Bytes of conditions one permission's statement may hold: half a statement (SPEC §2: 64 KiB),
/// leaving the rest for the permissions sharing it.
pub const MAX_CONDITION_BYTES: usize = 32 * 1024;
/// Bytes of conditions of the whole policy, shared among the permissions: a suggestion stays
/// well under the 1 MiB a request body may hold, so that it can be saved as it is.
pub const MAX_POLICY_CONDITION_BYTES: usize = 512 * 1024;

/// What the allowed requests for one permission carried.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Environment ids; the empty string stands for account-level requests.
    pub environments: BTreeSet<String>,
    /// Environments were seen that were not kept.
    pub environments_capped: bool,
    pub attributes: BTreeMap<String, AttributeUse>,
}

/// What the allowed requests carried for one attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeUse {
    pub values: BTreeSet<String>,
    /// Some request did not carry it.
    pub absent: bool,
    /// Some value was not kept (too long, too many, or shaped like a secret).
    pub capped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuggestError {
    #[error(
        "the observed use needs {statements} statements, more than the {MAX_STATEMENTS} a policy may hold"
    )]
    TooManyStatements { statements: usize },
}

/// A suggested policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The policy text, starting with the comment lines of `header`.
    pub text: String,
    /// The permissions it grants, sorted.
    pub permissions: Vec<String>,
}

/// One condition of a suggested statement: `name operator value(s)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Restriction {
    name: String,
    operator: &'static str,
    values: Vec<String>,
    /// A single string rather than a list.
    single: bool,
}

impl Restriction {
    fn text(&self) -> String {
        let values: Vec<String> = self.values.iter().map(|v| quote(v)).collect();
        if self.single {
            format!("{} {} {}", self.name, self.operator, values.join(", "))
        } else {
            format!("{} {} ({})", self.name, self.operator, values.join(", "))
        }
    }
}

/// A policy string literal: double quotes, `"` and `\` escaped, and `$` before `{` (which would
/// start a placeholder). Line breaks cannot be written (callers leave such values out).
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The longest common prefix of `values`, cut at a character boundary.
fn common_prefix(values: &BTreeSet<String>) -> &str {
    // In sorted order the first and last differ the earliest.
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return "";
    };
    let mut end = 0;
    for ((at, a), b) in first.char_indices().zip(last.chars()) {
        if a != b {
            break;
        }
        end = at + a.len_utf8();
    }
    first.get(..end).unwrap_or("")
}

/// The restriction of one attribute to its observed values, or the note saying why there is
/// none (`None` for both: nothing worth saying, e.g. some request did not carry it).
fn restrict(spec: &ConditionSpec, used: &AttributeUse) -> (Option<Restriction>, Option<String>) {
    let name = &spec.name;
    if used.absent || used.values.is_empty() {
        return (None, None);
    }
    if used.capped {
        return (
            None,
            Some(format!(
                "`{name}`: more values were used than are kept; not restricted"
            )),
        );
    }
    if used.values.iter().any(|v| v.contains('\n')) {
        return (
            None,
            Some(format!(
                "`{name}`: a value holds a line break, which a policy string cannot; not restricted"
            )),
        );
    }
    let operators = spec.operators;
    let count = used.values.len();
    if count > PREFIX_BOUND && operators.contains(Operator::StartsWith) {
        let prefix = common_prefix(&used.values);
        if !prefix.is_empty() {
            return (
                Some(Restriction {
                    name: name.clone(),
                    operator: "startsWith",
                    values: vec![prefix.to_owned()],
                    single: true,
                }),
                Some(format!(
                    "`{name}`: {count} values used, more than {PREFIX_BOUND}: restricted to their common prefix"
                )),
            );
        }
    }
    if operators.contains(Operator::In) {
        return (
            Some(Restriction {
                name: name.clone(),
                operator: "IN",
                values: used.values.iter().cloned().collect(),
                single: false,
            }),
            None,
        );
    }
    if count == 1 && operators.contains(Operator::Eq) {
        return (
            Some(Restriction {
                name: name.clone(),
                operator: "=",
                values: used.values.iter().cloned().collect(),
                single: true,
            }),
            None,
        );
    }
    (
        None,
        Some(format!(
            "`{name}`: {count} values used, and the condition takes no list; not restricted"
        )),
    )
}

/// The conditions and notes of one permission's statement.
fn conditions(
    spec: &warden_policy::catalogue::Permission,
    catalogue: &Catalogue,
    observed: &Observed,
    budget: usize,
) -> (Vec<Restriction>, Vec<String>) {
    let mut restrictions = Vec::new();
    let mut notes = Vec::new();
    for condition in &spec.conditions {
        let Some(used) = observed.attributes.get(&condition.name) else {
            continue;
        };
        let (restriction, note) = restrict(condition, used);
        restrictions.extend(restriction);
        notes.extend(note);
    }
    // Account-level requests carry no environment, so only requests all made in environments
    // can be restricted to them.
    if !observed.environments_capped
        && !observed.environments.is_empty()
        && !observed.environments.contains("")
        && let Some(global) = catalogue.global_condition(ENVIRONMENT)
    {
        let used = AttributeUse {
            values: observed.environments.clone(),
            absent: false,
            capped: false,
        };
        let (restriction, note) = restrict(global, &used);
        restrictions.extend(restriction);
        notes.extend(note);
    }
    // Within the budget: the longest conditions are left out first (leaving one out only widens
    // the statement, so every observed request stays allowed).
    while restrictions
        .iter()
        .map(|r| r.text().len() + 5)
        .sum::<usize>()
        > budget
    {
        let Some((longest, _)) = restrictions
            .iter()
            .enumerate()
            .max_by_key(|(_, r)| r.text().len())
        else {
            break;
        };
        let removed = restrictions.remove(longest);
        notes.push(format!(
            "`{}`: its {} values make the policy longer than it may be; not restricted",
            removed.name,
            removed.values.len()
        ));
    }
    (restrictions, notes)
}

/// The suggested policy for `used` (permission → what its allowed requests carried). `header`
/// becomes comment lines at the top (one per line of it). Permissions the catalogue does not
/// know are left out.
pub fn suggest(
    used: &BTreeMap<String, Observed>,
    catalogue: &Catalogue,
    header: &str,
) -> Result<Suggestion, SuggestError> {
    // Statements by their conditions: permissions restricted alike share one.
    let mut statements: BTreeMap<Vec<Restriction>, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut permissions = Vec::new();
    let budget = MAX_CONDITION_BYTES.min(MAX_POLICY_CONDITION_BYTES / used.len().max(1));
    for (permission, observed) in used {
        let Some(spec) = catalogue.permission(permission) else {
            continue;
        };
        let (restrictions, notes) = conditions(spec, catalogue, observed, budget);
        let (names, all_notes) = statements.entry(restrictions).or_default();
        names.push(permission.clone());
        for note in notes {
            all_notes.push(format!("{permission}, {note}"));
        }
        permissions.push(permission.clone());
    }
    if statements.len() > MAX_STATEMENTS {
        return Err(SuggestError::TooManyStatements {
            statements: statements.len(),
        });
    }
    let mut ordered: Vec<(Vec<String>, Vec<String>, Vec<Restriction>)> = statements
        .into_iter()
        .map(|(restrictions, (names, notes))| (names, notes, restrictions))
        .collect();
    ordered.sort();
    let mut text = String::new();
    for line in header.lines() {
        text.push_str("// ");
        text.push_str(line);
        text.push('\n');
    }
    for (names, notes, restrictions) in &ordered {
        for note in notes {
            text.push_str("// ");
            text.push_str(note);
            text.push('\n');
        }
        text.push_str("ALLOW ");
        text.push_str(&names.join(", "));
        if !restrictions.is_empty() {
            let conditions: Vec<String> = restrictions.iter().map(Restriction::text).collect();
            text.push_str(" WHERE ");
            text.push_str(&conditions.join(" AND "));
        }
        text.push_str(";\n");
    }
    permissions.sort();
    Ok(Suggestion { text, permissions })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn common_prefixes_stop_at_characters() {
        let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        assert_eq!(
            common_prefix(&set(&["logs-a", "logs-b", "logs-c"])),
            "logs-"
        );
        assert_eq!(common_prefix(&set(&["é1", "é2"])), "é");
        assert_eq!(common_prefix(&set(&["a", "b"])), "");
        assert_eq!(common_prefix(&set(&[])), "");
    }

    #[test]
    fn quoting_escapes_what_the_lexer_reads_as_syntax() {
        assert_eq!(quote(r#"a"b\c${x}$y"#), r#""a\"b\\c\${x}$y""#);
    }
}
