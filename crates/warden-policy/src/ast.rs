//! The typed syntax tree of a policy. Every node carries the span it was parsed from; equality
//! ignores spans, so `parse(format(x)) == parse(x)` compares meaning, not layout.

use std::fmt;

use serde::Serialize;

use crate::span::{Span, Spanned};

/// A parsed policy: its statements in source order, and the comments found between tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Policy {
    pub statements: Vec<Statement>,
    #[serde(skip)]
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Eq, Serialize)]
pub struct Statement {
    pub effect: Spanned<Effect>,
    pub permissions: Vec<Spanned<String>>,
    /// Empty for an unconditional statement (also for `WHERE null`).
    pub conditions: Vec<Condition>,
    /// From the effect keyword to the `;` (or the last token when the `;` was left out).
    #[serde(skip)]
    pub span: Span,
}

impl Statement {
    pub fn is_unconditional(&self) -> bool {
        self.conditions.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "ALLOW",
            Effect::Deny => "DENY",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Eq, Serialize)]
pub struct Condition {
    pub name: Spanned<String>,
    pub operator: Spanned<Operator>,
    pub value: Value,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Operator {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    NotEq,
    #[serde(rename = "<")]
    Less,
    #[serde(rename = ">")]
    Greater,
    #[serde(rename = "IN")]
    In,
    #[serde(rename = "NOT IN")]
    NotIn,
    #[serde(rename = "startsWith")]
    StartsWith,
    #[serde(rename = "NOT startsWith")]
    NotStartsWith,
    #[serde(rename = "MATCH")]
    Match,
}

impl Operator {
    pub const ALL: [Operator; 9] = [
        Operator::Eq,
        Operator::NotEq,
        Operator::Less,
        Operator::Greater,
        Operator::In,
        Operator::NotIn,
        Operator::StartsWith,
        Operator::NotStartsWith,
        Operator::Match,
    ];

    /// The canonical spelling, as the formatter writes it and the catalogue lists it.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "=",
            Operator::NotEq => "!=",
            Operator::Less => "<",
            Operator::Greater => ">",
            Operator::In => "IN",
            Operator::NotIn => "NOT IN",
            Operator::StartsWith => "startsWith",
            Operator::NotStartsWith => "NOT startsWith",
            Operator::Match => "MATCH",
        }
    }

    /// The names the HTTP API uses in parsed `conditions[].operator` (`=` is `EQ` there).
    pub fn api_name(self) -> &'static str {
        match self {
            Operator::Eq => "EQ",
            Operator::NotEq => "NOT_EQ",
            Operator::Less => "LT",
            Operator::Greater => "GT",
            Operator::In => "IN",
            Operator::NotIn => "NOT_IN",
            Operator::StartsWith => "STARTS_WITH",
            Operator::NotStartsWith => "NOT_STARTS_WITH",
            Operator::Match => "MATCH",
        }
    }

    /// Parses the canonical spelling (case-insensitive for the word operators).
    pub fn from_name(name: &str) -> Option<Operator> {
        let folded: String = name
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        Operator::ALL
            .into_iter()
            .find(|op| op.as_str().to_lowercase() == folded)
    }

    /// Negated operators hold when **no** value of the attribute matches.
    pub fn is_negated(self) -> bool {
        matches!(
            self,
            Operator::NotEq | Operator::NotIn | Operator::NotStartsWith
        )
    }

    /// `IN` and `NOT IN` take a list; `MATCH` a string or a list; the others one string.
    pub fn arity(self) -> Arity {
        match self {
            Operator::In | Operator::NotIn => Arity::List,
            Operator::Match => Arity::Either,
            _ => Arity::Single,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    Single,
    List,
    Either,
}

/// A set of operators, as a condition of the catalogue allows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct OperatorSet(u16);

impl OperatorSet {
    pub const EMPTY: OperatorSet = OperatorSet(0);

    pub fn all() -> OperatorSet {
        Operator::ALL.into_iter().collect()
    }

    pub fn contains(self, op: Operator) -> bool {
        self.0 & op.bit() != 0
    }

    pub fn insert(&mut self, op: Operator) {
        self.0 |= op.bit();
    }

    pub fn intersection(self, other: OperatorSet) -> OperatorSet {
        OperatorSet(self.0 & other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Operator> {
        Operator::ALL
            .into_iter()
            .filter(move |op| self.contains(*op))
    }

    /// "`IN`, `=`" — for messages.
    pub fn describe(self) -> String {
        let names: Vec<String> = self.iter().map(|op| format!("`{op}`")).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}

impl FromIterator<Operator> for OperatorSet {
    fn from_iter<I: IntoIterator<Item = Operator>>(iter: I) -> Self {
        let mut set = OperatorSet::EMPTY;
        for op in iter {
            set.insert(op);
        }
        set
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Single(StringLit),
    List(Spanned<Vec<StringLit>>),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Single(string) => string.span,
            Value::List(list) => list.span,
        }
    }

    pub fn strings(&self) -> &[StringLit] {
        match self {
            Value::Single(string) => std::slice::from_ref(string),
            Value::List(list) => &list.node,
        }
    }
}

/// A string literal, decoded: text with placeholders kept apart so that substituted values can
/// never be re-parsed as policy syntax.
#[derive(Debug, Clone, Eq, Serialize)]
pub struct StringLit {
    pub parts: Vec<StringPart>,
    #[serde(skip)]
    pub span: Span,
}

impl StringLit {
    pub fn text(text: impl Into<String>, span: Span) -> Self {
        StringLit {
            parts: vec![StringPart::Text(text.into())],
            span,
        }
    }

    /// The value with placeholders written as `${…}` (no quotes, no escapes): how the API shows it.
    pub fn display_text(&self) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                StringPart::Text(text) => text.clone(),
                StringPart::Placeholder(placeholder) => placeholder.to_string(),
            })
            .collect()
    }

    /// The value when it holds no placeholder.
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StringPart::Text(text) => out.push_str(text),
                StringPart::Placeholder(_) => return None,
            }
        }
        Some(out)
    }

    /// The placeholder when the string is exactly one placeholder and nothing else.
    pub fn sole_placeholder(&self) -> Option<&Placeholder> {
        match self.parts.as_slice() {
            [StringPart::Placeholder(placeholder)] => Some(placeholder),
            _ => None,
        }
    }

    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.parts.iter().filter_map(|part| match part {
            StringPart::Placeholder(placeholder) => Some(placeholder),
            StringPart::Text(_) => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum StringPart {
    Text(String),
    Placeholder(Placeholder),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Placeholder {
    /// `${bindParam:NAME}`: replaced by the binding's parameter value.
    #[serde(rename = "bindParam")]
    BindParam(String),
    /// `${global:…}`: replaced from the request's principal and environment.
    #[serde(rename = "global")]
    Global(GlobalAttribute),
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placeholder::BindParam(name) => write!(f, "${{bindParam:{name}}}"),
            Placeholder::Global(attribute) => write!(f, "${{global:{}}}", attribute.as_str()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum GlobalAttribute {
    /// The principal's uid.
    UserId,
    /// The principal's email; a service user's is its service email (`<uid>@service.<domain>`).
    UserEmail,
    /// The uuids of the principal's groups: a list.
    UserGroup,
    /// The environment of the request (empty at account level).
    EnvironmentId,
}

impl GlobalAttribute {
    pub const ALL: [GlobalAttribute; 4] = [
        GlobalAttribute::UserId,
        GlobalAttribute::UserEmail,
        GlobalAttribute::UserGroup,
        GlobalAttribute::EnvironmentId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GlobalAttribute::UserId => "userId",
            GlobalAttribute::UserEmail => "userEmail",
            GlobalAttribute::UserGroup => "userGroup",
            GlobalAttribute::EnvironmentId => "environmentId",
        }
    }

    pub fn from_name(name: &str) -> Option<GlobalAttribute> {
        GlobalAttribute::ALL
            .into_iter()
            .find(|attribute| attribute.as_str() == name)
    }

    pub fn is_list(self) -> bool {
        self == GlobalAttribute::UserGroup
    }
}

/// A `//` comment, kept so that the formatter can write it back.
#[derive(Debug, Clone, Eq)]
pub struct Comment {
    /// The text after `//`, trailing whitespace removed.
    pub text: String,
    pub span: Span,
}

// Equality compares meaning: spans are ignored.
impl PartialEq for Statement {
    fn eq(&self, other: &Self) -> bool {
        self.effect == other.effect
            && self.permissions == other.permissions
            && self.conditions == other.conditions
    }
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.operator == other.operator && self.value == other.value
    }
}

impl PartialEq for StringLit {
    fn eq(&self, other: &Self) -> bool {
        self.parts == other.parts
    }
}

impl PartialEq for Comment {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names_round_trip() {
        for op in Operator::ALL {
            assert_eq!(Operator::from_name(op.as_str()), Some(op));
        }
        assert_eq!(
            Operator::from_name("not  startswith"),
            Some(Operator::NotStartsWith)
        );
        assert_eq!(Operator::from_name("=="), None);
    }

    #[test]
    fn operator_sets() {
        let set: OperatorSet = [Operator::In, Operator::Eq].into_iter().collect();
        assert!(set.contains(Operator::In));
        assert!(!set.contains(Operator::Match));
        assert_eq!(set.describe(), "`=`, `IN`");
        assert_eq!(set.intersection(OperatorSet::EMPTY).describe(), "none");
    }
}
