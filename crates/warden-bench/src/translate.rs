//! Translating Warden's compiled statements into Cedar policies, so that the `cedar-policy` crate
//! decides exactly what Warden decides.
//!
//! The input is what Warden evaluates: each group's bindings compiled by
//! [`warden_engine::compile::compile_group`] — bind parameters substituted, boundaries applied to
//! the ALLOW statements (split per permission, one statement per boundary), statements that could
//! not be compiled failed closed. Each compiled statement becomes one Cedar policy:
//!
//! ```text
//! permit (                                    // forbid for a DENY statement
//!   principal in Group::"<group>",
//!   action in [Action::"<permission>", …],    // the statement's permissions, plus every
//!                                             // permission one of them implies (permit) or
//!                                             // that implies one of them (forbid)
//!   resource                                  // `resource == Environment::"<env>"` for a binding
//! ) when { … };                               // at environment level
//! ```
//!
//! Requests become `(User::"<uid>", Action::"<permission>", Account::"<account>" or
//! Environment::"<env>", context)`. Each request attribute is a context entry of the same name,
//! a Set of Strings (`=` is `contains`, `IN` is `containsAny`, `!=` and `NOT IN` their negations:
//! "some value" and "no value", as in Warden). An attribute that Warden leaves missing (absent, or
//! an empty list) is left out of the context, and each condition carries Warden's missing-attribute
//! rule: `(context has "a" && …)` in a permit, `(!(context has "a") || …)` in a forbid.
//! `global:environmentId` is the context entry of that name, set from the request's environment.
//!
//! Restrictions (a statement outside them is an error, never a silent difference):
//! - an attribute used anywhere with `startsWith`, `NOT startsWith` or `MATCH` is single-valued: it
//!   becomes a String entry, compared with `==` and `like`, and a request must give it exactly one
//!   value ([`Translation::single_valued`]);
//! - `MATCH` patterns may not use `?` (Cedar's `like` has no one-character wildcard);
//! - no time conditions (`global:date`, `global:date-time`, `global:time-of-day`,
//!   `global:week-day`) and no `${global:…}` placeholders: they need the request's time or
//!   principal, which this translation does not model.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::str::FromStr;
use std::sync::Arc;

use cedar_policy::{
    Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId, PolicySet,
    Request, RestrictedExpression,
};
use warden_engine::compile::{CompiledStatement, Grant, PermissionIndex, compile_group};
use warden_engine::condition::{Attribute, Clause, CompiledCondition};
use warden_engine::{Attributes, Binding, Directory, Id, Level, Principal};
use warden_policy::ast::StringPart;
use warden_policy::temporal::TimeKind;
use warden_policy::{Catalogue, Effect, Operator, parse_policy};

/// The context entry that carries the request's environment.
pub const ENVIRONMENT_ATTRIBUTE: &str = "global:environmentId";

/// Why something could not be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError(pub String);

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TranslateError {}

fn error(message: impl Into<String>) -> TranslateError {
    TranslateError(message.into())
}

/// One Cedar policy and the Warden statement it was translated from.
#[derive(Debug, Clone)]
pub struct Translated {
    /// The Cedar policy id.
    pub id: String,
    pub group: Id,
    /// The Warden policy the statement belongs to, and its index there.
    pub policy: Id,
    pub statement: u16,
    pub boundary: Option<String>,
    /// The level of the binding.
    pub level: Level,
    pub effect: Effect,
    /// The permissions the statement is filed under in Warden.
    pub permissions: Vec<String>,
    /// The Cedar action list: those permissions and, for an ALLOW, every permission one of them
    /// implies; for a DENY, every permission that implies one of them (SPEC §3 step 4).
    pub actions: Vec<String>,
    /// The statement as Warden evaluates it (parameters substituted, boundary conditions added).
    pub warden: String,
    /// The Cedar policy text.
    pub cedar: String,
}

/// Cedar policies for some groups of one account, and how to ask Cedar about them.
#[derive(Debug)]
pub struct Translation {
    pub account: String,
    pub policies: PolicySet,
    pub translated: Vec<Translated>,
    by_id: HashMap<String, usize>,
    single_valued: BTreeSet<String>,
    types: Types,
}

#[derive(Debug, Clone)]
struct Types {
    user: EntityTypeName,
    group: EntityTypeName,
    action: EntityTypeName,
    account: EntityTypeName,
    environment: EntityTypeName,
}

impl Types {
    fn new() -> Result<Types, TranslateError> {
        let name = |n: &str| {
            EntityTypeName::from_str(n).map_err(|e| error(format!("entity type `{n}`: {e}")))
        };
        Ok(Types {
            user: name("User")?,
            group: name("Group")?,
            action: name("Action")?,
            account: name("Account")?,
            environment: name("Environment")?,
        })
    }
}

/// A compiled statement with the permissions Warden files it under.
struct Entry<'a> {
    statement: &'a Arc<CompiledStatement>,
    binding: &'a Arc<Binding>,
    permissions: Vec<u32>,
}

/// Translates every group of the directory that has bindings.
pub fn translate_account(
    directory: &Directory,
    catalogue: &Catalogue,
) -> Result<Translation, TranslateError> {
    let groups: Vec<Id> = directory
        .groups()
        .map(|g| Arc::clone(&g.id))
        .filter(|id| !directory.bindings_of(id).is_empty())
        .collect();
    translate_groups(directory, catalogue, &groups)
}

/// Translates the bindings of the given groups (in a stable order: sorted by group id).
pub fn translate_groups(
    directory: &Directory,
    catalogue: &Catalogue,
    groups: &[Id],
) -> Result<Translation, TranslateError> {
    let index = PermissionIndex::new(catalogue);
    let names: Vec<&str> = catalogue.permissions().map(|p| p.name.as_str()).collect();
    // For each permission, the requests a statement naming it decides (SPEC §3 step 4): an ALLOW
    // decides itself and what it implies, a DENY itself and what implies it. Derived from
    // Warden's own index (`decides`), so Cedar matches the same statements as the engine.
    let mut allow_decides: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); names.len()];
    let mut deny_decides: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); names.len()];
    for (requested, name) in names.iter().enumerate() {
        let Some(requested) = u32::try_from(requested).ok() else {
            continue;
        };
        for decider in index.decides(requested) {
            for (effect, table) in [
                (Effect::Allow, &mut allow_decides),
                (Effect::Deny, &mut deny_decides),
            ] {
                if decider.counts(effect)
                    && let Some(set) = table.get_mut(decider.permission as usize)
                {
                    set.insert(name);
                }
            }
        }
    }

    let mut sorted: Vec<&Id> = groups.iter().collect();
    sorted.sort();
    sorted.dedup();
    let compiled: Vec<(&Id, _)> = sorted
        .into_iter()
        .map(|group| (group, compile_group(directory, catalogue, &index, group)))
        .collect();

    // Each compiled statement once, with the permissions it is filed under.
    let mut entries: Vec<(&Id, Entry<'_>)> = Vec::new();
    for (group, grants) in &compiled {
        let mut environments: Vec<(&Id, &Box<[Grant]>)> = grants.environments.iter().collect();
        environments.sort_by_key(|(env, _)| *env);
        let lists =
            std::iter::once(&grants.account).chain(environments.into_iter().map(|(_, g)| g));
        let mut seen: HashMap<*const CompiledStatement, usize> = HashMap::new();
        for grant in lists.flat_map(|g| g.iter()) {
            let key = Arc::as_ptr(&grant.statement);
            match seen.get(&key).and_then(|&i| entries.get_mut(i)) {
                Some((_, entry)) => entry.permissions.push(grant.permission),
                None => {
                    seen.insert(key, entries.len());
                    entries.push((
                        group,
                        Entry {
                            statement: &grant.statement,
                            binding: &grant.binding,
                            permissions: vec![grant.permission],
                        },
                    ));
                }
            }
        }
    }

    let single_valued: BTreeSet<String> = entries
        .iter()
        .flat_map(|(_, e)| e.statement.clauses.iter())
        .flat_map(Clause::conditions)
        .filter(|c| {
            matches!(
                c.operator,
                Operator::StartsWith | Operator::NotStartsWith | Operator::Match
            )
        })
        .filter_map(|c| attribute_name(c).ok().map(str::to_owned))
        .collect();

    let mut translation = Translation {
        account: directory.account.to_string(),
        policies: PolicySet::new(),
        translated: Vec::with_capacity(entries.len()),
        by_id: HashMap::new(),
        single_valued,
        types: Types::new()?,
    };
    let mut counters: HashMap<&Id, usize> = HashMap::new();
    for (group, entry) in &entries {
        let counter = counters.entry(group).or_default();
        *counter += 1;
        let statement = entry.statement;
        let origin = &statement.origin;
        let id = format!(
            "{group}/{}/{}#{counter}",
            origin.policy.id,
            u32::from(origin.statement) + 1
        );
        let permissions: Vec<String> = entry
            .permissions
            .iter()
            .map(|&p| index.name(p).to_owned())
            .collect();
        let decides = match statement.effect {
            Effect::Allow => &allow_decides,
            Effect::Deny => &deny_decides,
        };
        let actions: Vec<String> = entry
            .permissions
            .iter()
            .filter_map(|&p| decides.get(p as usize))
            .flatten()
            .copied()
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .map(str::to_owned)
            .collect();
        let cedar = translation
            .policy_text(group, &entry.binding.level, statement, &actions)
            .map_err(|e| {
                error(format!(
                    "group `{group}`, policy `{}`, statement {}: {e}",
                    origin.policy.name,
                    u32::from(origin.statement) + 1
                ))
            })?;
        let policy = Policy::parse(Some(PolicyId::new(&id)), &cedar).map_err(|e| {
            error(format!(
                "Cedar rejects the translation of {id}: {e}\n{cedar}"
            ))
        })?;
        translation
            .policies
            .add(policy)
            .map_err(|e| error(format!("Cedar policy {id}: {e}")))?;
        translation
            .by_id
            .insert(id.clone(), translation.translated.len());
        translation.translated.push(Translated {
            id,
            group: Arc::clone(group),
            policy: Arc::clone(&origin.policy.id),
            statement: origin.statement,
            boundary: origin.boundary.as_ref().map(|b| b.name.clone()),
            level: entry.binding.level.clone(),
            effect: statement.effect,
            warden: render_statement(statement, &permissions),
            permissions,
            actions,
            cedar,
        });
    }
    Ok(translation)
}

impl Translation {
    /// The number of Cedar policies.
    pub fn len(&self) -> usize {
        self.translated.len()
    }

    pub fn is_empty(&self) -> bool {
        self.translated.is_empty()
    }

    /// Attributes that are single-valued in Cedar (used with `startsWith`, `NOT startsWith` or
    /// `MATCH`): a request must give each of them exactly one value.
    pub fn single_valued(&self) -> &BTreeSet<String> {
        &self.single_valued
    }

    /// The translated statement behind a Cedar policy id.
    pub fn source(&self, id: &str) -> Option<&Translated> {
        self.by_id.get(id).and_then(|&i| self.translated.get(i))
    }

    /// The Cedar policies that could decide a request of `principal` for `permission`: those of
    /// its groups whose action list names the permission.
    pub fn involved<'s>(
        &'s self,
        principal: &'s Principal,
        permission: &'s str,
    ) -> impl Iterator<Item = &'s Translated> + 's {
        self.translated.iter().filter(move |t| {
            principal.groups.contains(&t.group) && t.actions.iter().any(|a| a == permission)
        })
    }

    /// The entity store for these principals: each a `User` whose parents are its groups.
    pub fn entities<'p>(
        &self,
        principals: impl IntoIterator<Item = &'p Principal>,
    ) -> Result<Entities, TranslateError> {
        let entities = principals.into_iter().map(|principal| {
            let parents: HashSet<EntityUid> = principal
                .groups
                .iter()
                .map(|g| self.uid(&self.types.group, g))
                .collect();
            Entity::new_no_attrs(self.uid(&self.types.user, &principal.uid), parents)
        });
        Entities::from_entities(entities, None).map_err(|e| error(format!("Cedar entities: {e}")))
    }

    /// The Cedar request for a Warden request. The principal is named by uid.
    pub fn request(
        &self,
        principal_uid: &str,
        permission: &str,
        environment: Option<&str>,
        attributes: &Attributes,
    ) -> Result<Request, TranslateError> {
        let resource = match environment {
            Some(env) => self.uid(&self.types.environment, env),
            None => self.uid(&self.types.account, &self.account),
        };
        Request::new(
            self.uid(&self.types.user, principal_uid),
            self.uid(&self.types.action, permission),
            resource,
            self.context(attributes, environment)?,
            None,
        )
        .map_err(|e| error(format!("Cedar request: {e}")))
    }

    /// The Cedar context: every attribute Warden would see as present, as a Set of Strings (a
    /// String for a single-valued attribute), plus the environment.
    pub fn context(
        &self,
        attributes: &Attributes,
        environment: Option<&str>,
    ) -> Result<Context, TranslateError> {
        let mut pairs: Vec<(String, RestrictedExpression)> = Vec::with_capacity(attributes.len());
        for (name, value) in attributes {
            // Warden reads these from the request's environment and time, never from attributes.
            if name == ENVIRONMENT_ATTRIBUTE || TimeKind::of_condition(name).is_some() {
                continue;
            }
            if let Some(expression) = self.attribute_value(name, value.values())? {
                pairs.push((name.clone(), expression));
            }
        }
        if let Some(env) = environment {
            let values = [env.to_owned()];
            if let Some(expression) = self.attribute_value(ENVIRONMENT_ATTRIBUTE, &values)? {
                pairs.push((ENVIRONMENT_ATTRIBUTE.to_owned(), expression));
            }
        }
        Context::from_pairs(pairs).map_err(|e| error(format!("Cedar context: {e}")))
    }

    fn attribute_value(
        &self,
        name: &str,
        values: &[String],
    ) -> Result<Option<RestrictedExpression>, TranslateError> {
        if values.is_empty() {
            return Ok(None);
        }
        if self.single_valued.contains(name) {
            return match values {
                [one] => Ok(Some(RestrictedExpression::new_string(one.clone()))),
                _ => Err(error(format!(
                    "attribute `{name}` is used with startsWith/MATCH, so the translation takes one value for it; the request gives {}",
                    values.len()
                ))),
            };
        }
        Ok(Some(RestrictedExpression::new_set(
            values
                .iter()
                .map(|v| RestrictedExpression::new_string(v.clone())),
        )))
    }

    fn uid(&self, kind: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
    }

    fn policy_text(
        &self,
        group: &str,
        level: &Level,
        statement: &CompiledStatement,
        actions: &[String],
    ) -> Result<String, TranslateError> {
        let deny = statement.effect == Effect::Deny;
        let mut text = String::new();
        text.push_str(if deny { "forbid (\n" } else { "permit (\n" });
        let _ = writeln!(text, "  principal in Group::{},", cedar_string(group));
        let actions: Vec<String> = actions
            .iter()
            .map(|a| format!("Action::{}", cedar_string(a)))
            .collect();
        let _ = writeln!(text, "  action in [{}],", actions.join(", "));
        match level {
            Level::Environment(env) => {
                let _ = writeln!(text, "  resource == Environment::{}", cedar_string(env));
            }
            Level::Account | Level::Global => text.push_str("  resource\n"),
        }
        text.push(')');
        let conditions = statement
            .clauses
            .iter()
            .map(|clause| self.clause(clause, deny))
            .collect::<Result<Vec<String>, TranslateError>>()?;
        if !conditions.is_empty() {
            let _ = write!(text, " when {{\n  {}\n}}", conditions.join("\n  && "));
        }
        text.push(';');
        Ok(text)
    }

    fn clause(&self, clause: &Clause, deny: bool) -> Result<String, TranslateError> {
        match clause {
            Clause::One(condition) => self.condition(condition, deny),
            Clause::AnyOf(conditions) => {
                let parts = conditions
                    .iter()
                    .map(|c| self.condition(c, deny))
                    .collect::<Result<Vec<String>, TranslateError>>()?;
                Ok(format!("({})", parts.join(" || ")))
            }
        }
    }

    /// One condition with the missing-attribute rule of its statement's effect.
    fn condition(
        &self,
        condition: &CompiledCondition,
        deny: bool,
    ) -> Result<String, TranslateError> {
        let name = attribute_name(condition)?;
        let values = literal_values(condition)?;
        let key = cedar_string(name);
        let access = format!("context[{key}]");
        let single = self.single_valued.contains(name);
        let list = |values: &[String]| {
            let items: Vec<String> = values.iter().map(|v| cedar_string(v)).collect();
            format!("[{}]", items.join(", "))
        };
        let one = || match values.as_slice() {
            [value] => Ok(cedar_string(value)),
            _ => Err(error(format!(
                "`{}` should compare with one value",
                condition.render()
            ))),
        };
        let expression = match (condition.operator, single) {
            (Operator::Eq, false) => format!("{access}.contains({})", one()?),
            (Operator::Eq, true) => format!("{access} == {}", one()?),
            (Operator::NotEq, false) => format!("!({access}.contains({}))", one()?),
            (Operator::NotEq, true) => format!("{access} != {}", one()?),
            (Operator::In, false) => format!("{access}.containsAny({})", list(&values)),
            (Operator::In, true) => format!("{}.contains({access})", list(&values)),
            (Operator::NotIn, false) => format!("!({access}.containsAny({}))", list(&values)),
            (Operator::NotIn, true) => format!("!({}.contains({access}))", list(&values)),
            (Operator::StartsWith, _) => {
                let [prefix] = values.as_slice() else {
                    return Err(error("startsWith takes one prefix"));
                };
                format!("{access} like {}", prefix_pattern(prefix))
            }
            (Operator::NotStartsWith, _) => {
                let [prefix] = values.as_slice() else {
                    return Err(error("NOT startsWith takes one prefix"));
                };
                format!("!({access} like {})", prefix_pattern(prefix))
            }
            (Operator::Match, _) => {
                let patterns = values
                    .iter()
                    .map(|glob| glob_pattern(glob).map(|p| format!("{access} like {p}")))
                    .collect::<Result<Vec<String>, TranslateError>>()?;
                match patterns.len() {
                    0 => "false".to_owned(),
                    1 => patterns.concat(),
                    _ => format!("({})", patterns.join(" || ")),
                }
            }
            (Operator::Less | Operator::Greater, _) => {
                return Err(error(format!(
                    "`{}`: time comparisons are not translated",
                    condition.render()
                )));
            }
        };
        Ok(if deny {
            format!("(!(context has {key}) || {expression})")
        } else {
            format!("(context has {key} && {expression})")
        })
    }
}

/// The context entry a condition reads.
fn attribute_name(condition: &CompiledCondition) -> Result<&str, TranslateError> {
    match &condition.attribute {
        Attribute::Request(name) => Ok(name),
        Attribute::EnvironmentId => Ok(ENVIRONMENT_ATTRIBUTE),
        Attribute::Time(_) => Err(error(format!(
            "`{}`: time conditions are not translated",
            condition.render()
        ))),
    }
}

/// The literal values a compiled condition compares with. A compiled condition shows its operand
/// only in its rendering (`name OP value`, quoted as the policy language quotes), so the
/// rendering is parsed back: the policy language's own parser tells text from placeholders.
fn literal_values(condition: &CompiledCondition) -> Result<Vec<String>, TranslateError> {
    let rendered = condition.render();
    let parsed = parse_policy(&format!("ALLOW bench:any:thing WHERE {rendered};"));
    if parsed.has_errors() {
        return Err(error(format!(
            "`{rendered}` does not parse back (a value with a raw newline?)"
        )));
    }
    let parsed_condition = parsed
        .ast
        .statements
        .first()
        .and_then(|s| s.conditions.first())
        .ok_or_else(|| error(format!("`{rendered}` parses to no condition")))?;
    if parsed_condition.operator.node != condition.operator {
        return Err(error(format!("`{rendered}` parses to another operator")));
    }
    parsed_condition
        .value
        .strings()
        .iter()
        .map(|string| {
            string
                .parts
                .iter()
                .map(|part| match part {
                    StringPart::Text(text) => Ok(text.as_str()),
                    StringPart::Placeholder(placeholder) => Err(error(format!(
                        "`{rendered}`: placeholder `{placeholder}` is not translated"
                    ))),
                })
                .collect::<Result<String, TranslateError>>()
        })
        .collect()
}

/// A Cedar string literal.
pub fn cedar_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    escape_into(&mut out, text, false);
    out.push('"');
    out
}

fn escape_into(out: &mut String, text: &str, pattern: bool) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '*' if pattern => out.push_str("\\*"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// `like` pattern for "starts with `prefix`": the prefix literally (its `*` escaped), then `*`.
fn prefix_pattern(prefix: &str) -> String {
    let mut out = String::from('"');
    escape_into(&mut out, prefix, true);
    out.push_str("*\"");
    out
}

/// `like` pattern for a Warden glob: `*` stays a wildcard, `\*` and `\?` are literal; `?` (one
/// character) has no Cedar equivalent.
fn glob_pattern(glob: &str) -> Result<String, TranslateError> {
    let mut out = String::from('"');
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*' | '?')) => {
                if let Some(literal) = chars.next() {
                    escape_into(&mut out, &literal.to_string(), true);
                }
            }
            '*' => out.push('*'),
            '?' => {
                return Err(error(format!(
                    "MATCH pattern `{glob}`: `?` has no equivalent in Cedar's `like`"
                )));
            }
            c => escape_into(&mut out, &c.to_string(), true),
        }
    }
    out.push('"');
    Ok(out)
}

/// The compiled statement as Warden shows it in explanations.
fn render_statement(statement: &CompiledStatement, permissions: &[String]) -> String {
    let mut text = format!("{} {}", statement.effect, permissions.join(", "));
    if !statement.clauses.is_empty() {
        let clauses: Vec<String> = statement.clauses.iter().map(Clause::render).collect();
        text.push_str(" WHERE ");
        text.push_str(&clauses.join(" AND "));
    }
    text.push(';');
    text
}

/// Counts of Cedar policies by effect, for reports.
pub fn effect_counts(translation: &Translation) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for t in &translation.translated {
        *counts
            .entry(if t.effect == Effect::Deny {
                "forbid"
            } else {
                "permit"
            })
            .or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests;
