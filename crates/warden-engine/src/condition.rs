//! Compiled conditions and their evaluation against a request (SPEC §3, §5).
//!
//! A condition is compiled once per binding: bind parameters substituted as text, `IN` lists
//! turned into sets, `MATCH` patterns into globs, time literals parsed. What only the request can
//! tell (`${global:userId}`, `${global:userGroup}`, `${global:environmentId}`, the time) is resolved
//! at evaluation. Evaluation yields [`Truth::Missing`] when the attribute (or a value a placeholder
//! needs) is absent; the statement turns that into false for ALLOW and true for DENY, so a missing
//! attribute never widens access.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use rustc_hash::FxHashSet;
use serde::{Deserialize, Serialize};
use warden_policy::ast::{GlobalAttribute, StringLit, StringPart};
use warden_policy::temporal::{TimeKind, TimeValue, format_date_time};
use warden_policy::{Operator, Placeholder, Value, format::quote};

use crate::directory::Id;
use crate::params::ParamValue;

pub(crate) mod glob;
pub mod solve;
pub mod symbolic;

pub use glob::Glob;

/// The value of one request attribute: a string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    One(String),
    Many(Vec<String>),
}

impl AttributeValue {
    pub fn values(&self) -> &[String] {
        match self {
            AttributeValue::One(value) => std::slice::from_ref(value),
            AttributeValue::Many(values) => values,
        }
    }
}

pub type Attributes = BTreeMap<String, AttributeValue>;

/// The values a request gives one attribute, as a decision reads them.
#[derive(Debug, Clone, Copy)]
pub enum AttributeValues<'a> {
    Strings(&'a [String]),
    Borrowed(&'a [&'a str]),
}

/// Where a decision reads a request's attributes from. [`Attributes`] is the usual source; a
/// server that decodes requests itself can give the values as borrowed text instead, without
/// building a map of owned strings for every decision.
pub trait AttributeSource: std::fmt::Debug + Sync {
    /// The values given for the attribute `name`; `None` when the request does not give it.
    fn attribute(&self, name: &str) -> Option<AttributeValues<'_>>;
}

impl AttributeSource for Attributes {
    fn attribute(&self, name: &str) -> Option<AttributeValues<'_>> {
        self.get(name)
            .map(|value| AttributeValues::Strings(value.values()))
    }
}

/// What a condition needs to know about the request being decided.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub attributes: &'a dyn AttributeSource,
    pub environment: Option<&'a str>,
    /// Seconds since the epoch, UTC.
    pub time: i64,
    pub user_id: &'a str,
    pub user_email: &'a str,
    pub user_groups: &'a [Id],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    /// The attribute, or a value a placeholder needs, is absent.
    Missing,
}

impl Truth {
    fn from_bool(value: bool) -> Truth {
        if value { Truth::True } else { Truth::False }
    }

    /// How the truth counts in a statement of the given effect.
    pub fn holds(self, deny: bool) -> bool {
        match self {
            Truth::True => true,
            Truth::False => false,
            Truth::Missing => deny,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    Request(Box<str>),
    EnvironmentId,
    Time(TimeKind),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(Box<str>),
    UserId,
    UserEmail,
    EnvironmentId,
}

/// A string with request-time placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Box<[Part]>);

impl Template {
    fn resolve<'a>(&'a self, ctx: &Context<'a>) -> Option<Cow<'a, str>> {
        match &*self.0 {
            [Part::Text(text)] => Some(Cow::Borrowed(text)),
            [] => Some(Cow::Borrowed("")),
            parts => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(text) => out.push_str(text),
                        Part::UserId => out.push_str(ctx.user_id),
                        Part::UserEmail => out.push_str(ctx.user_email),
                        Part::EnvironmentId => out.push_str(ctx.environment?),
                    }
                }
                Some(Cow::Owned(out))
            }
        }
    }

    fn literal(&self) -> Option<&str> {
        match &*self.0 {
            [Part::Text(text)] => Some(text),
            [] => Some(""),
            _ => None,
        }
    }

    fn render(&self) -> String {
        let parts = self
            .0
            .iter()
            .map(|part| match part {
                Part::Text(text) => StringPart::Text(text.to_string()),
                Part::UserId => {
                    StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserId))
                }
                Part::UserEmail => {
                    StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserEmail))
                }
                Part::EnvironmentId => {
                    StringPart::Placeholder(Placeholder::Global(GlobalAttribute::EnvironmentId))
                }
            })
            .collect();
        quote(&StringLit {
            parts,
            span: Default::default(),
        })
    }
}

/// A list item that only the request can resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Template(Template),
    UserGroups,
}

#[derive(Debug, Clone)]
enum LiteralSet {
    Small(Box<[Box<str>]>),
    Large(FxHashSet<Box<str>>),
}

impl LiteralSet {
    fn new(values: Vec<Box<str>>) -> Self {
        if values.len() <= 16 {
            LiteralSet::Small(values.into())
        } else {
            LiteralSet::Large(values.into_iter().collect())
        }
    }

    fn contains(&self, value: &str) -> bool {
        match self {
            LiteralSet::Small(values) => values.iter().any(|v| &**v == value),
            LiteralSet::Large(values) => values.contains(value),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            LiteralSet::Small(values) => Box::new(values.iter().map(|v| &**v)),
            LiteralSet::Large(values) => {
                let mut sorted: Vec<&str> = values.iter().map(|v| &**v).collect();
                sorted.sort_unstable();
                Box::new(sorted.into_iter())
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Operand {
    Text(Template),
    List {
        literals: LiteralSet,
        dynamic: Box<[Item]>,
    },
    Patterns {
        literals: Box<[Glob]>,
        dynamic: Box<[Item]>,
    },
    Times(Box<[(TimeValue, Box<str>)]>),
}

/// One compiled condition: `attribute operator operand`.
#[derive(Debug, Clone)]
pub struct CompiledCondition {
    pub name: Box<str>,
    pub attribute: Attribute,
    pub operator: Operator,
    operand: Operand,
}

/// A clause of a statement: one condition, or (from a boundary) conditions of the same name of
/// which any one must hold.
#[derive(Debug, Clone)]
pub enum Clause {
    One(CompiledCondition),
    AnyOf(Box<[CompiledCondition]>),
}

impl Clause {
    pub fn evaluate(&self, ctx: &Context<'_>, deny: bool) -> bool {
        match self {
            Clause::One(condition) => condition.evaluate(ctx).holds(deny),
            Clause::AnyOf(conditions) => conditions.iter().any(|c| c.evaluate(ctx).holds(deny)),
        }
    }

    pub fn conditions(&self) -> &[CompiledCondition] {
        match self {
            Clause::One(condition) => std::slice::from_ref(condition),
            Clause::AnyOf(conditions) => conditions,
        }
    }

    pub fn render(&self) -> String {
        match self {
            Clause::One(condition) => condition.render(),
            Clause::AnyOf(conditions) => {
                let parts: Vec<String> = conditions.iter().map(CompiledCondition::render).collect();
                if parts.len() == 1 {
                    parts.concat()
                } else {
                    format!("({})", parts.join(" OR "))
                }
            }
        }
    }
}

impl CompiledCondition {
    /// Compiles a condition of a statement with the binding's parameter values.
    pub fn compile(
        name: &str,
        operator: Operator,
        value: &Value,
        params: &BTreeMap<String, ParamValue>,
    ) -> Result<CompiledCondition, String> {
        let attribute = match name {
            "global:environmentId" => Attribute::EnvironmentId,
            _ => match TimeKind::of_condition(name) {
                Some(kind) => Attribute::Time(kind),
                None => Attribute::Request(name.into()),
            },
        };
        let operand = match (&attribute, operator) {
            (Attribute::Time(kind), _) => {
                let mut times = Vec::new();
                for string in value.strings() {
                    // SPEC §5: a list item that is exactly one parameter expands to its values.
                    let texts: Vec<String> = match (value, string.sole_placeholder()) {
                        (Value::List(_), Some(Placeholder::BindParam(param))) => params
                            .get(param)
                            .ok_or_else(|| format!("parameter `{param}` has no value"))?
                            .values()
                            .to_vec(),
                        _ => {
                            let template = template(string, params)?;
                            let text = template
                                .literal()
                                .ok_or_else(|| format!("`{name}` needs a literal time"))?;
                            vec![text.to_owned()]
                        }
                    };
                    for text in texts {
                        let time = TimeValue::parse(*kind, &text).map_err(|e| e.to_string())?;
                        times.push((time, text.into()));
                    }
                }
                Operand::Times(times.into())
            }
            (_, Operator::In | Operator::NotIn | Operator::Match) => {
                let mut literals = Vec::new();
                let mut dynamic = Vec::new();
                for string in value.strings() {
                    expand_item(string, params, &mut literals, &mut dynamic)?;
                }
                if operator == Operator::Match {
                    let globs = literals.iter().map(|p| Glob::new(p)).collect();
                    Operand::Patterns {
                        literals: globs,
                        dynamic: dynamic.into(),
                    }
                } else {
                    Operand::List {
                        literals: LiteralSet::new(literals),
                        dynamic: dynamic.into(),
                    }
                }
            }
            (_, Operator::Less | Operator::Greater) => {
                return Err(format!(
                    "`{operator}` compares times; `{name}` is not a time condition"
                ));
            }
            _ => match value {
                Value::Single(string) => Operand::Text(template(string, params)?),
                Value::List(_) => return Err(format!("`{operator}` takes one string")),
            },
        };
        Ok(CompiledCondition {
            name: name.into(),
            attribute,
            operator,
            operand,
        })
    }

    /// The values the request gives this condition's attribute; `None` when it gives none.
    fn request_values<'a>(&self, ctx: &Context<'a>) -> Option<Cow<'a, [String]>> {
        match &self.attribute {
            Attribute::Request(name) => match ctx.attributes.attribute(name)? {
                AttributeValues::Strings(values) => {
                    (!values.is_empty()).then_some(Cow::Borrowed(values))
                }
                AttributeValues::Borrowed(values) => (!values.is_empty())
                    .then(|| Cow::Owned(values.iter().map(|v| (*v).to_owned()).collect())),
            },
            Attribute::EnvironmentId => ctx.environment.map(|env| Cow::Owned(vec![env.to_owned()])),
            Attribute::Time(_) => Some(Cow::Owned(vec![format_date_time(ctx.time)])),
        }
    }

    pub fn evaluate(&self, ctx: &Context<'_>) -> Truth {
        if let Operand::Times(times) = &self.operand {
            return evaluate_time(self.operator, times, ctx.time);
        }
        match &self.attribute {
            Attribute::Request(name) => match ctx.attributes.attribute(name) {
                Some(AttributeValues::Strings(values)) if !values.is_empty() => {
                    self.evaluate_values(values, ctx)
                }
                Some(AttributeValues::Borrowed(values)) if !values.is_empty() => {
                    self.evaluate_values(values, ctx)
                }
                _ => Truth::Missing,
            },
            Attribute::EnvironmentId => match ctx.environment {
                Some(env) => self.evaluate_values(&[env], ctx),
                None => Truth::Missing,
            },
            Attribute::Time(_) => Truth::Missing,
        }
    }

    fn evaluate_values<S: AsRef<str>>(&self, values: &[S], ctx: &Context<'_>) -> Truth {
        let any = |test: &dyn Fn(&str) -> bool| values.iter().any(|v| test(v.as_ref()));
        match (&self.operand, self.operator) {
            (Operand::Text(template), op) => {
                let Some(expected) = template.resolve(ctx) else {
                    return Truth::Missing;
                };
                let expected = expected.as_ref();
                match op {
                    Operator::Eq => Truth::from_bool(any(&|v| v == expected)),
                    Operator::NotEq => Truth::from_bool(!any(&|v| v == expected)),
                    Operator::StartsWith => Truth::from_bool(any(&|v| v.starts_with(expected))),
                    Operator::NotStartsWith => Truth::from_bool(!any(&|v| v.starts_with(expected))),
                    Operator::Match => {
                        let glob = Glob::new(expected);
                        Truth::from_bool(any(&|v| glob.matches(v)))
                    }
                    _ => Truth::Missing,
                }
            }
            (Operand::List { literals, dynamic }, op) => {
                let mut unresolved = false;
                let found = any(&|v| {
                    literals.contains(v)
                        || dynamic.iter().any(|item| match item {
                            Item::UserGroups => ctx.user_groups.iter().any(|g| &**g == v),
                            Item::Template(t) => t.resolve(ctx).is_some_and(|t| t == v),
                        })
                });
                if dynamic
                    .iter()
                    .any(|item| matches!(item, Item::Template(t) if t.resolve(ctx).is_none()))
                {
                    unresolved = true;
                }
                match op {
                    Operator::In if found => Truth::True,
                    Operator::NotIn if found => Truth::False,
                    // A list item that could not be resolved might have matched: unknown.
                    _ if unresolved => Truth::Missing,
                    Operator::In => Truth::False,
                    Operator::NotIn => Truth::True,
                    _ => Truth::Missing,
                }
            }
            (Operand::Patterns { literals, dynamic }, _) => {
                let found = any(&|v| {
                    literals.iter().any(|glob| glob.matches(v))
                        || dynamic.iter().any(|item| match item {
                            Item::UserGroups => {
                                ctx.user_groups.iter().any(|g| Glob::new(g).matches(v))
                            }
                            Item::Template(t) => {
                                t.resolve(ctx).is_some_and(|t| Glob::new(&t).matches(v))
                            }
                        })
                });
                if !found
                    && dynamic
                        .iter()
                        .any(|item| matches!(item, Item::Template(t) if t.resolve(ctx).is_none()))
                {
                    return Truth::Missing;
                }
                Truth::from_bool(found)
            }
            (Operand::Times(_), _) => Truth::Missing,
        }
    }

    /// `name OP value`, placeholders shown as written.
    pub fn render(&self) -> String {
        format!("{} {} {}", self.name, self.operator, self.render_operand())
    }

    fn render_operand(&self) -> String {
        let list = |items: Vec<String>| format!("({})", items.join(", "));
        match &self.operand {
            Operand::Text(template) => template.render(),
            Operand::List { literals, dynamic } => {
                let items = literals
                    .iter()
                    .map(quote_text)
                    .chain(dynamic.iter().map(render_item))
                    .collect();
                list(items)
            }
            Operand::Patterns { literals, dynamic } => {
                let items: Vec<String> = literals
                    .iter()
                    .map(|g| quote_text(&g.source))
                    .chain(dynamic.iter().map(render_item))
                    .collect();
                if items.len() == 1 {
                    items.concat()
                } else {
                    list(items)
                }
            }
            Operand::Times(times) => {
                let items: Vec<String> = times.iter().map(|(_, text)| quote_text(text)).collect();
                if items.len() == 1 && !matches!(self.operator, Operator::In | Operator::NotIn) {
                    items.concat()
                } else {
                    list(items)
                }
            }
        }
    }

    /// The required values, as shown in explanations.
    pub fn required(&self) -> Vec<String> {
        match &self.operand {
            Operand::Text(template) => vec![
                template
                    .literal()
                    .map_or_else(|| template.render(), str::to_owned),
            ],
            Operand::List { literals, dynamic } => literals
                .iter()
                .map(str::to_owned)
                .chain(dynamic.iter().map(render_item))
                .collect(),
            Operand::Patterns { literals, dynamic } => literals
                .iter()
                .map(|g| g.source.to_string())
                .chain(dynamic.iter().map(render_item))
                .collect(),
            Operand::Times(times) => times.iter().map(|(_, text)| text.to_string()).collect(),
        }
    }

    /// The values the request gave, as shown in explanations (`None`: the attribute is missing).
    pub fn seen(&self, ctx: &Context<'_>) -> Option<Vec<String>> {
        self.request_values(ctx).map(|values| values.into_owned())
    }
}

fn quote_text(text: &str) -> String {
    quote(&StringLit::text(text, Default::default()))
}

fn render_item(item: &Item) -> String {
    match item {
        Item::Template(template) => template.render(),
        Item::UserGroups => "\"${global:userGroup}\"".to_owned(),
    }
}

fn evaluate_time(operator: Operator, times: &[(TimeValue, Box<str>)], now: i64) -> Truth {
    use std::cmp::Ordering;
    let equal = times
        .iter()
        .any(|(time, _)| time.compare_request(now) == Ordering::Equal);
    let first = times.first().map(|(time, _)| time.compare_request(now));
    match operator {
        Operator::Less => Truth::from_bool(first == Some(Ordering::Less)),
        Operator::Greater => Truth::from_bool(first == Some(Ordering::Greater)),
        Operator::Eq | Operator::In => Truth::from_bool(equal),
        Operator::NotEq | Operator::NotIn => Truth::from_bool(!equal),
        _ => Truth::Missing,
    }
}

/// Substitutes bind parameters (as text) and keeps request-time placeholders.
fn template(string: &StringLit, params: &BTreeMap<String, ParamValue>) -> Result<Template, String> {
    let mut parts: Vec<Part> = Vec::new();
    let push_text = |parts: &mut Vec<Part>, text: &str| match parts.last_mut() {
        Some(Part::Text(previous)) => *previous = format!("{previous}{text}").into(),
        _ => parts.push(Part::Text(text.into())),
    };
    for part in &string.parts {
        match part {
            StringPart::Text(text) => push_text(&mut parts, text),
            StringPart::Placeholder(Placeholder::BindParam(name)) => match params.get(name) {
                Some(ParamValue::One(value)) => push_text(&mut parts, value),
                Some(ParamValue::Many(_)) => {
                    return Err(format!(
                        "parameter `{name}` is a list where one string is expected"
                    ));
                }
                None => return Err(format!("parameter `{name}` has no value")),
            },
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserId)) => {
                parts.push(Part::UserId)
            }
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserEmail)) => {
                parts.push(Part::UserEmail)
            }
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::EnvironmentId)) => {
                parts.push(Part::EnvironmentId);
            }
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserGroup)) => {
                return Err(
                    "`${global:userGroup}` is a list where one string is expected".to_owned(),
                );
            }
        }
    }
    Ok(Template(parts.into()))
}

/// A list item: a whole-string list parameter or `${global:userGroup}` expands to several items.
fn expand_item(
    string: &StringLit,
    params: &BTreeMap<String, ParamValue>,
    literals: &mut Vec<Box<str>>,
    dynamic: &mut Vec<Item>,
) -> Result<(), String> {
    match string.sole_placeholder() {
        Some(Placeholder::BindParam(name)) => match params.get(name) {
            Some(value) => literals.extend(value.values().iter().map(|v| v.as_str().into())),
            None => return Err(format!("parameter `{name}` has no value")),
        },
        Some(Placeholder::Global(GlobalAttribute::UserGroup)) => dynamic.push(Item::UserGroups),
        _ => {
            let template = template(string, params)?;
            match template.literal() {
                Some(text) => literals.push(text.into()),
                None => dynamic.push(Item::Template(template)),
            }
        }
    }
    Ok(())
}

/// For messages: `a`, `b`.
pub fn describe_values(values: &[String]) -> String {
    let mut out = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}", quote_text(value));
    }
    out
}

#[cfg(test)]
mod tests;
