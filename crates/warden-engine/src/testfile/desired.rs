//! A world file: the world sections of a policy test file read as the desired state of an
//! account, for `warden export`, `warden plan` and `warden apply`.
//!
//! One reader for both uses: the file is read and checked exactly as `warden test` reads and
//! checks it (every problem located at `line:column`), except that `cases:` is optional, and the
//! cases of a file that has them are not run. What comes out names everything as its
//! definition spells it (a policy bound as `standard user` is the built-in `Standard User`), so
//! that comparing with a server is a comparison of names.
//!
//! The sections `warden apply` cannot make so yet (`services`, `deactivated`, `workflows`,
//! `consent`) are refused with their location rather than silently skipped: an apply that
//! ignored part of the file would report a state it did not reach. Other top-level sections read
//! by other features (`authzen:`) are accepted by the shape reader and not interpreted here.
//!
//! [`render`] writes a world back as YAML, in a stable order, so that exports diff cleanly.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use marked_yaml::Node;
use serde::Serialize;

use super::model::{self, Cases, TestFile};
use super::names::NameTable;
use super::report::{FileReport, Pos, Problem};
use super::world;
use super::yaml::{self, OneOrMany, Text, text_pos};
use crate::builtin::Builtin;
use crate::residual::{ResidualDecision, ResidualRequest};
use crate::snapshot::Snapshot;

/// The sections a world file may hold that `warden apply` does not apply (yet).
const NOT_APPLIED: &[&str] = &["services", "deactivated", "workflows", "consent"];

/// The desired state of an account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorldFile {
    pub environments: Vec<String>,
    pub boundaries: Vec<NamedText>,
    pub policies: Vec<NamedText>,
    pub groups: Vec<GroupSpec>,
    /// Users by email.
    pub users: Vec<MemberSpec>,
    /// Service users by name.
    pub service_users: Vec<MemberSpec>,
    /// The account's AuthZEN mapping, when the file gives one.
    pub authzen: Option<AuthzenSpec>,
}

/// The AuthZEN mapping (the body of `PUT /iam/v1/accounts/{accountId}/authzen`): action names to
/// permissions, properties to condition attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuthzenSpec {
    pub actions: BTreeMap<String, String>,
    pub resource_properties: BTreeMap<String, String>,
    pub subject_properties: BTreeMap<String, String>,
    pub context_properties: BTreeMap<String, String>,
}

impl AuthzenSpec {
    /// The sections by name, in the file's order.
    pub fn sections(&self) -> [(&'static str, &BTreeMap<String, String>); 4] {
        [
            ("actions", &self.actions),
            ("resource_properties", &self.resource_properties),
            ("subject_properties", &self.subject_properties),
            ("context_properties", &self.context_properties),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.sections().iter().all(|(_, map)| map.is_empty())
    }
}

/// A boundary or an account-level policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedText {
    pub name: String,
    pub text: String,
    #[serde(skip)]
    pub at: Pos,
}

/// A group and the bindings the file gives it (for a default group: besides its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupSpec {
    pub name: String,
    /// A default group: it exists in every account and is not created or deleted.
    pub default: bool,
    pub bindings: Vec<BindingSpec>,
    #[serde(skip)]
    pub at: Pos,
}

/// Where a binding applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase", tag = "type", content = "id")]
pub enum LevelSpec {
    Account,
    Environment(String),
}

impl LevelSpec {
    /// As a world file writes it: `account` or `environment:ID`.
    pub fn written(&self) -> String {
        match self {
            LevelSpec::Account => "account".to_owned(),
            LevelSpec::Environment(id) => format!("environment:{id}"),
        }
    }
}

/// A bind parameter: one string, or a list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(untagged)]
pub enum ParamSpec {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingSpec {
    /// The policy's name: the file's own (account level) or a built-in one (`global`).
    pub policy: String,
    pub global: bool,
    pub level: LevelSpec,
    pub parameters: BTreeMap<String, ParamSpec>,
    /// Boundary names, in the file's order.
    pub boundaries: Vec<String>,
    /// Why the binding is needed (its metadata's `justification`): given to the server when
    /// `apply` makes the binding; not what makes two bindings the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    #[serde(skip)]
    pub at: Pos,
}

/// A user (by email) or a service user (by name) and its groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberSpec {
    pub name: String,
    pub groups: Vec<String>,
    #[serde(skip)]
    pub at: Pos,
}

/// Reads and checks a world file; an invalid one gives the report `warden test` would print
/// for it (every problem with its location).
pub fn read(builtin: &Builtin, file: &str, source: &str) -> Result<WorldFile, FileReport> {
    let invalid = |errors: Vec<Problem>, warnings: Vec<Problem>| {
        FileReport::invalid(file, errors, warnings).inside(source)
    };
    let root = yaml::load(source).map_err(|problem| invalid(vec![problem], Vec::new()))?;
    let mut reader = yaml::Reader::default();
    let Some(model) = model::read(&root, &mut reader, Cases::Optional) else {
        return Err(invalid(reader.problems, Vec::new()));
    };
    let mut errors = reader.problems;
    not_applied(&root, &mut errors);
    let mut warnings = Vec::new();
    // Built for its checks only: the world itself is the test runner's.
    let _world = world::build(builtin, &model, source, &mut errors, &mut warnings);
    if !errors.is_empty() {
        warnings.sort_by_key(Problem::pos);
        return Err(invalid(errors, warnings));
    }
    Ok(desired(builtin, &model))
}

/// One error per section that apply does not make so, at its key.
fn not_applied(root: &Node, errors: &mut Vec<Problem>) {
    let Node::Mapping(mapping) = root else {
        return;
    };
    for (key, value) in mapping.iter() {
        let name = key.as_str();
        let empty = match value {
            Node::Mapping(m) => m.is_empty(),
            Node::Sequence(s) => s.is_empty(),
            Node::Scalar(_) => yaml::is_null(value),
        };
        if !NOT_APPLIED.contains(&name) || empty {
            continue;
        }
        let at = yaml::pos(key.span());
        errors.push(
            Problem::new(
                at,
                format!("`{name}:` is not applied by `warden plan` and `warden apply`"),
            )
            .with_help(format!(
                "manage {} through its own commands, and keep this section in a test file of its own",
                match name {
                    "services" => "custom services (`warden catalogue`)",
                    "deactivated" => "deactivations (`warden service-user deactivate`)",
                    "workflows" => "workflows (`warden workflow`)",
                    _ => "consent (`warden workflow consent`)",
                }
            )),
        );
    }
}

/// The checked file as names spelled like their definitions.
fn desired(builtin: &Builtin, model: &TestFile) -> WorldFile {
    let mut policies = NameTable::default();
    for policy in &model.policies {
        policies.add(policy.name.as_str(), text_pos(&policy.name));
    }
    let mut boundaries = NameTable::default();
    for boundary in &model.boundaries {
        boundaries.add(boundary.name.as_str(), text_pos(&boundary.name));
    }
    let mut groups = NameTable::default();
    for group in &builtin.groups {
        groups.add_builtin(&group.name, &group.name);
    }
    for group in &model.groups {
        if groups.find(group.name.as_str()).is_none() {
            groups.add(group.name.as_str(), text_pos(&group.name));
        }
    }
    let group_name = |name: &Text| {
        groups
            .find(name.as_str())
            .map_or_else(|| name.as_str().to_owned(), |g| g.name.clone())
    };
    let named = |list: &[model::NamedText]| -> Vec<NamedText> {
        list.iter()
            .map(|d| NamedText {
                name: d.name.as_str().to_owned(),
                text: d
                    .text
                    .as_ref()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                at: text_pos(&d.name),
            })
            .collect()
    };
    let members = |list: &[model::MemberDef]| -> Vec<MemberSpec> {
        list.iter()
            .map(|m| MemberSpec {
                name: m.name.as_str().to_owned(),
                groups: m.groups.iter().map(group_name).collect(),
                at: text_pos(&m.name),
            })
            .collect()
    };
    let mut out = WorldFile {
        environments: model
            .environments
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect(),
        boundaries: named(&model.boundaries),
        policies: named(&model.policies),
        groups: Vec::new(),
        users: members(&model.users),
        service_users: members(&model.service_users),
        authzen: model.authzen.as_ref().map(|sections| {
            let mut spec = AuthzenSpec::default();
            for (section, pairs) in sections {
                let map = match *section {
                    "actions" => &mut spec.actions,
                    "resource_properties" => &mut spec.resource_properties,
                    "subject_properties" => &mut spec.subject_properties,
                    _ => &mut spec.context_properties,
                };
                for (name, target) in pairs {
                    map.insert(name.as_str().to_owned(), target.as_str().to_owned());
                }
            }
            spec
        }),
    };
    for group in &model.groups {
        let entry = groups.find(group.name.as_str());
        let mut bindings = Vec::new();
        for binding in &group.bindings {
            let Some(policy) = &binding.policy else {
                continue;
            };
            let (policy, global) = match policies.find(policy.as_str()) {
                Some(own) => (own.name.clone(), false),
                None => (
                    builtin
                        .policy(policy.as_str())
                        .map_or_else(|| policy.as_str().to_owned(), |g| g.name.clone()),
                    true,
                ),
            };
            let level = match binding.level.as_ref().map(|l| l.as_str()) {
                None | Some("account") => LevelSpec::Account,
                Some(other) => LevelSpec::Environment(
                    other
                        .strip_prefix("environment:")
                        .unwrap_or(other)
                        .to_owned(),
                ),
            };
            bindings.push(BindingSpec {
                policy,
                global,
                level,
                parameters: binding
                    .parameters
                    .iter()
                    .map(|(name, value)| {
                        let value = match &**value {
                            OneOrMany::One(one) => ParamSpec::One(one.clone()),
                            OneOrMany::Many(many) => ParamSpec::Many(many.clone()),
                        };
                        (name.as_str().to_owned(), value)
                    })
                    .collect(),
                boundaries: binding
                    .boundaries
                    .iter()
                    .map(|b| {
                        boundaries
                            .find(b.as_str())
                            .map_or_else(|| b.as_str().to_owned(), |e| e.name.clone())
                    })
                    .collect(),
                justification: binding
                    .justification
                    .as_ref()
                    .map(|j| j.as_str().to_owned()),
                at: binding.at,
            });
        }
        out.groups.push(GroupSpec {
            name: entry.map_or_else(|| group.name.as_str().to_owned(), |e| e.name.clone()),
            default: entry.is_some_and(|e| e.builtin),
            bindings,
            at: text_pos(&group.name),
        });
    }
    out
}

/// One principal's access that a change gives, takes away or makes depend on other conditions:
/// the residual of the request without attributes (what it is allowed on, SPEC §3) for a
/// permission at a level, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessChange {
    /// A user's email or a service user's name.
    pub principal: String,
    pub permission: String,
    /// `account` or `environment:ID`.
    pub level: String,
    pub change: Change,
    /// The condition before, when the access was conditional (in the policy language's words).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The condition after, when the access is conditional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// Which way an access changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// Denied before; allowed after, always or on a condition. Or conditional before and always
    /// allowed after.
    Gains,
    /// Allowed before, always or on a condition; denied after. Or always allowed before and
    /// conditional after.
    Loses,
    /// Conditional before and after, on another condition.
    Conditions,
}

/// A principal's access to a permission at a level: its residual without attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Access {
    Denied,
    Allowed,
    /// Allowed exactly when the condition (rendered) holds.
    When(String),
}

impl Access {
    fn of(snapshot: &Snapshot, request: &ResidualRequest<'_>) -> Access {
        match snapshot.residual(request) {
            Ok(residual) => match residual.decision {
                ResidualDecision::Allow => Access::Allowed,
                ResidualDecision::Deny => Access::Denied,
                ResidualDecision::Conditional => {
                    Access::When(crate::residual::text::render(&residual.predicate))
                }
            },
            Err(error) => Access::When(format!("(a condition too large to show: {error})")),
        }
    }

    fn condition(&self) -> Option<String> {
        match self {
            Access::When(text) => Some(text.clone()),
            Access::Allowed | Access::Denied => None,
        }
    }
}

/// Who gains, loses or has other conditions on which access when `before` becomes `after`: both
/// worlds are built on the built-in content (as `warden test` builds them) and every principal of
/// either is asked every permission of the catalogue, at account level and in every environment
/// of either, with no attribute known — the residual says whether the access is unconditional,
/// conditional (and on what) or none, so a change that only changes a condition is reported too.
/// In an environment that only one side has, the other side's answer is its account-level one
/// (an account-level binding applies in every environment), so creating an environment is not
/// reported as everyone gaining everything there. Ordered by principal, level, permission.
///
/// An `Err` names why a world could not be built (a binding of a policy the world file format
/// does not know, for instance); the preview is then unavailable, not empty.
pub fn impact(
    builtin: &Builtin,
    before: &WorldFile,
    after: &WorldFile,
    time: i64,
) -> Result<Vec<AccessChange>, String> {
    let built_before = build_rendered(builtin, before)?;
    let built_after = build_rendered(builtin, after)?;
    let snapshots = [
        Snapshot::build(
            built_before.directory.clone(),
            Arc::new(built_before.catalogue.clone()),
            1,
        ),
        Snapshot::build(
            built_after.directory.clone(),
            Arc::new(built_after.catalogue.clone()),
            2,
        ),
    ];
    let worlds = [&built_before, &built_after];
    let mut environments: BTreeSet<String> = before.environments.iter().cloned().collect();
    environments.extend(after.environments.iter().cloned());
    let sides_have: [BTreeSet<String>; 2] = [
        before.environments.iter().cloned().collect(),
        after.environments.iter().cloned().collect(),
    ];
    let mut levels: Vec<Option<&str>> = vec![None];
    levels.extend(environments.iter().map(|e| Some(e.as_str())));
    let permissions: Vec<String> = built_after
        .catalogue
        .permissions()
        .map(|p| p.name.clone())
        .collect();
    let present = |world: &WorldFile, key: &str, service: bool| -> bool {
        let list = if service {
            &world.service_users
        } else {
            &world.users
        };
        list.iter().any(|m| m.name.trim().to_lowercase() == key)
    };
    let mut principals: BTreeMap<(String, bool), String> = BTreeMap::new();
    for world in [before, after] {
        for (list, service) in [(&world.users, false), (&world.service_users, true)] {
            for member in list {
                principals
                    .entry((member.name.trim().to_lowercase(), service))
                    .or_insert_with(|| member.name.clone());
            }
        }
    }
    let mut out = Vec::new();
    let known = crate::condition::Attributes::default();
    for ((key, service), shown) in &principals {
        let uids: Vec<Option<String>> = worlds
            .iter()
            .zip([before, after])
            .map(|(world, file)| {
                if !present(file, key, *service) {
                    return None;
                }
                world.principals.get(key).map(|k| k.uid.to_string())
            })
            .collect();
        for environment in &levels {
            let level = match environment {
                Some(environment) => format!("environment:{environment}"),
                None => "account".to_owned(),
            };
            for permission in &permissions {
                let mut access = [Access::Denied, Access::Denied];
                for (side, snapshot) in snapshots.iter().enumerate() {
                    let Some(Some(uid)) = uids.get(side) else {
                        continue;
                    };
                    // An environment one side does not have is new (or gone): there, what the
                    // principal holds at account level is what it would hold in it.
                    let environment = environment
                        .filter(|e| sides_have.get(side).is_some_and(|h| h.contains(*e)));
                    let request = ResidualRequest {
                        principal: uid,
                        permission,
                        environment,
                        known: &known,
                        time,
                    };
                    if let Some(slot) = access.get_mut(side) {
                        *slot = Access::of(snapshot, &request);
                    }
                }
                let [was, is] = &access;
                let change = match (was, is) {
                    (a, b) if a == b => continue,
                    (Access::Denied, _) | (Access::When(_), Access::Allowed) => Change::Gains,
                    (_, Access::Denied) | (Access::Allowed, Access::When(_)) => Change::Loses,
                    _ => Change::Conditions,
                };
                out.push(AccessChange {
                    principal: shown.clone(),
                    permission: permission.clone(),
                    level: level.clone(),
                    change,
                    before: was.condition(),
                    after: is.condition(),
                });
            }
        }
    }
    Ok(out)
}

/// A world file's world, built from its rendering (so that a world read from a server and one
/// read from a file are built alike).
fn build_rendered(builtin: &Builtin, world: &WorldFile) -> Result<world::World, String> {
    let text = render(world);
    let root = yaml::load(&text).map_err(|p| p.message)?;
    let mut reader = yaml::Reader::default();
    let model = model::read(&root, &mut reader, Cases::Optional)
        .ok_or_else(|| "the world cannot be read back".to_owned())?;
    let mut errors = reader.problems;
    let mut warnings = Vec::new();
    let built = world::build(builtin, &model, &text, &mut errors, &mut warnings);
    match errors.first() {
        Some(problem) => Err(problem.message.clone()),
        None => Ok(built),
    }
}

/// The world as a world file: sections in the format's order, every list sorted by name
/// (ASCII case folded), bindings by level, policy and parameters, so that the same account
/// always gives the same text.
pub fn render(world: &WorldFile) -> String {
    let mut world = world.clone();
    sort(&mut world);
    let mut out = String::new();
    if !world.environments.is_empty() {
        let list: Vec<String> = world.environments.iter().map(|e| scalar(e)).collect();
        let _ = writeln!(out, "environments: [{}]", list.join(", "));
    }
    for (section, list) in [
        ("boundaries", &world.boundaries),
        ("policies", &world.policies),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{section}:");
        for item in list {
            let _ = writeln!(out, "  {}: {}", scalar(&item.name), block(&item.text, 4));
        }
    }
    if !world.groups.is_empty() {
        out.push_str("groups:\n");
        for group in &world.groups {
            if group.bindings.is_empty() {
                let _ = writeln!(out, "  {}: []", scalar(&group.name));
                continue;
            }
            let _ = writeln!(out, "  {}:", scalar(&group.name));
            for binding in &group.bindings {
                let _ = writeln!(out, "    - policy: {}", scalar(&binding.policy));
                let _ = writeln!(out, "      level: {}", scalar(&binding.level.written()));
                if !binding.parameters.is_empty() {
                    let pairs: Vec<String> = binding
                        .parameters
                        .iter()
                        .map(|(name, value)| {
                            let value = match value {
                                ParamSpec::One(one) => scalar(one),
                                ParamSpec::Many(many) => flow(many),
                            };
                            format!("{}: {value}", scalar(name))
                        })
                        .collect();
                    let _ = writeln!(out, "      parameters: {{ {} }}", pairs.join(", "));
                }
                if !binding.boundaries.is_empty() {
                    let _ = writeln!(out, "      boundaries: {}", flow(&binding.boundaries));
                }
                if let Some(justification) = &binding.justification {
                    let _ = writeln!(out, "      justification: {}", scalar(justification));
                }
            }
        }
    }
    for (section, list) in [
        ("users", &world.users),
        ("service_users", &world.service_users),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{section}:");
        for member in list {
            let _ = writeln!(out, "  {}: {}", scalar(&member.name), flow(&member.groups));
        }
    }
    if let Some(authzen) = world.authzen.as_ref().filter(|a| !a.is_empty()) {
        out.push_str("authzen:\n");
        for (section, map) in authzen.sections() {
            if map.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {section}:");
            for (name, target) in map {
                let _ = writeln!(out, "    {}: {}", scalar(name), scalar(target));
            }
        }
    }
    if out.is_empty() {
        out.push_str("{}\n");
    }
    out
}

/// Sorts every list the way [`render`] writes it.
pub fn sort(world: &mut WorldFile) {
    let key = |name: &str| (name.to_ascii_lowercase(), name.to_owned());
    world.environments.sort();
    world.boundaries.sort_by_key(|b| key(&b.name));
    world.policies.sort_by_key(|p| key(&p.name));
    world.groups.sort_by_key(|g| key(&g.name));
    for group in &mut world.groups {
        group.bindings.sort_by(|a, b| {
            (&a.level, key(&a.policy), &a.parameters, &a.boundaries).cmp(&(
                &b.level,
                key(&b.policy),
                &b.parameters,
                &b.boundaries,
            ))
        });
    }
    for list in [&mut world.users, &mut world.service_users] {
        list.sort_by_key(|m| key(&m.name));
        for member in list.iter_mut() {
            member.groups.sort_by_key(|g| key(g));
        }
    }
}

/// `[a, b]` with each item as a [`scalar`].
fn flow(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| scalar(i)).collect();
    format!("[{}]", items.join(", "))
}

/// A string as a plain YAML scalar when that reads back as the same string, else double-quoted.
fn scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '@' | '/' | ':')
        })
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !text.ends_with([' ', ':'])
        && !text.contains(": ")
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
        && !text.chars().all(|c| c.is_ascii_digit() || c == '.');
    if plain {
        text.to_owned()
    } else {
        scalar_quoted(text)
    }
}

/// A policy or boundary text: a literal block indented by `indent` when it reads back as the same
/// text, else a double-quoted scalar.
fn block(text: &str, indent: usize) -> String {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let literal = !body.is_empty()
        && !body.ends_with('\n')
        && !body.contains('\r')
        && !body.starts_with([' ', '\t'])
        && body
            .lines()
            .all(|l| !l.ends_with([' ', '\t']) && !l.starts_with('\t'))
        && body.lines().next_back().is_some_and(|l| !l.is_empty());
    if !literal {
        return scalar_quoted(text);
    }
    let chomp = if text.ends_with('\n') { "" } else { "-" };
    let pad = " ".repeat(indent);
    let mut out = format!("|{chomp}");
    for line in body.lines() {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// A YAML double-quoted scalar: backslash escapes for `"`, `\\` and control characters.
fn scalar_quoted(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn builtin() -> Builtin {
        Builtin::load(&[]).unwrap()
    }

    const FILE: &str = "\
environments: [env-prod]
boundaries:
  Zone A: |
    environment:management-zone IN (\"zone-a\");
policies:
  Team Logs: |
    ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"${bindParam:team}_\";
groups:
  ops:
    - policy: team logs
      level: environment:env-prod
      parameters: { team: ops }
      boundaries: [zone a]
  environment users:
    - policy: standard user
users:
  alice@example.com: [OPS, Environment Users]
authzen:
  actions: { can_read: storage:logs:read }
";

    #[test]
    fn a_world_file_needs_no_cases_and_names_are_spelled_as_defined() {
        let world = read(&builtin(), "w.yaml", FILE).unwrap();
        assert_eq!(world.environments, ["env-prod"]);
        let ops = &world.groups[0];
        assert_eq!(ops.name, "ops");
        assert!(!ops.default);
        assert_eq!(ops.bindings[0].policy, "Team Logs");
        assert!(!ops.bindings[0].global);
        assert_eq!(
            ops.bindings[0].level,
            LevelSpec::Environment("env-prod".into())
        );
        assert_eq!(ops.bindings[0].boundaries, ["Zone A"]);
        let users = &world.groups[1];
        assert_eq!(users.name, "Environment Users");
        assert!(users.default);
        assert_eq!(users.bindings[0].policy, "Standard User");
        assert!(users.bindings[0].global);
        assert_eq!(world.users[0].groups, ["ops", "Environment Users"]);
        let authzen = world.authzen.unwrap();
        assert_eq!(authzen.actions["can_read"], "storage:logs:read");
        assert!(authzen.resource_properties.is_empty());
    }

    #[test]
    fn rendering_reads_back_as_the_same_world() {
        let world = read(&builtin(), "w.yaml", FILE).unwrap();
        let text = render(&world);
        let again = read(&builtin(), "again.yaml", &text).unwrap();
        assert_eq!(render(&again), text);
        assert!(text.starts_with("environments: [env-prod]\nboundaries:\n  Zone A: |\n"));
        assert!(text.contains(
            "  ops:\n    - policy: Team Logs\n      level: environment:env-prod\n      \
             parameters: { team: ops }\n      boundaries: [Zone A]\n"
        ));
        assert!(text.ends_with("authzen:\n  actions:\n    can_read: storage:logs:read\n"));
    }

    #[test]
    fn the_impact_names_who_gains_and_loses_what_where() {
        let builtin = builtin();
        let before = read(&builtin, "w.yaml", FILE).unwrap();
        let mut after = before.clone();
        // Team Logs loses its condition and its boundary, so ops members read every log in
        // env-prod without attributes; bob arrives in ops.
        after.groups[0].bindings[0].parameters.clear();
        after.groups[0].bindings[0].boundaries.clear();
        after.policies[0].text = "ALLOW storage:logs:read;".into();
        after.users.push(MemberSpec {
            name: "bob@example.com".into(),
            groups: vec!["ops".into()],
            at: Pos::START,
        });
        let changes = impact(&builtin, &before, &after, 0).unwrap();
        let shown: Vec<(&str, &str, &str, Change)> = changes
            .iter()
            .map(|c| {
                (
                    c.principal.as_str(),
                    c.permission.as_str(),
                    c.level.as_str(),
                    c.change,
                )
            })
            .collect();
        // Alice reads logs already, as a member of Environment Users: no change for her.
        assert!(
            !shown.iter().any(|c| c.0 == "alice@example.com"),
            "{shown:?}"
        );
        assert!(changes.contains(&AccessChange {
            principal: "bob@example.com".into(),
            permission: "storage:logs:read".into(),
            level: "environment:env-prod".into(),
            change: Change::Gains,
            before: None,
            after: None,
        }));
        assert!(
            !shown
                .iter()
                .any(|c| c.2 == "account" && c.1 == "storage:logs:read")
        );
        assert!(
            shown.iter().all(|c| c.3 == Change::Gains),
            "nothing is lost: {shown:?}"
        );
        assert!(impact(&builtin, &before, &before, 0).unwrap().is_empty());
    }

    #[test]
    fn a_change_of_condition_alone_is_in_the_impact() {
        let builtin = builtin();
        let mut before = read(&builtin, "w.yaml", FILE).unwrap();
        // Bob is in ops only, so his logs come from its binding alone.
        before.users.push(MemberSpec {
            name: "bob@example.com".into(),
            groups: vec!["ops".into()],
            at: Pos::START,
        });
        let mut after = before.clone();
        // The binding's parameter changes: ops members read other buckets' logs.
        after.groups[0].bindings[0].parameters =
            [("team".to_owned(), ParamSpec::One("sre".into()))].into();
        let changes = impact(&builtin, &before, &after, 0).unwrap();
        let conditions: Vec<&AccessChange> = changes
            .iter()
            .filter(|c| c.permission == "storage:logs:read")
            .collect();
        assert!(!conditions.is_empty(), "{changes:?}");
        for change in conditions {
            assert_eq!(change.principal, "bob@example.com");
            assert_eq!(change.change, Change::Conditions, "{change:?}");
            assert_eq!(change.level, "environment:env-prod");
            let (was, is) = (change.before.as_deref(), change.after.as_deref());
            assert!(was.is_some_and(|w| w.contains("\"ops_\"")), "{change:?}");
            assert!(is.is_some_and(|i| i.contains("\"sre_\"")), "{change:?}");
        }
        assert!(changes.iter().all(|c| c.permission == "storage:logs:read"));
    }

    #[test]
    fn odd_names_and_texts_are_quoted() {
        let mut world = WorldFile::default();
        world.policies.push(NamedText {
            name: "true: #1".into(),
            text: "  ALLOW storage:logs:read;".into(),
            at: Pos::START,
        });
        let text = render(&world);
        assert_eq!(
            text,
            "policies:\n  \"true: #1\": \"  ALLOW storage:logs:read;\"\n"
        );
    }

    #[test]
    fn every_problem_is_located_and_unapplied_sections_are_refused() {
        let empty = "environments: [e]\nworkflows: {}\nconsent:\ndeactivated: []\n";
        assert!(read(&builtin(), "w.yaml", empty).is_ok());
        let text = "groups:\n  ops:\n    - policy: Nope\nworkflows:\n  w: { environment: e }\n";
        let report = read(&builtin(), "w.yaml", text).unwrap_err();
        let found: Vec<(usize, usize, &str)> = report
            .errors
            .iter()
            .map(|e| (e.line, e.column, e.message.as_str()))
            .collect();
        assert!(found.contains(&(
            4,
            1,
            "`workflows:` is not applied by `warden plan` and `warden apply`"
        )));
        assert!(found.contains(&(3, 15, "unknown policy `Nope`")));
    }
}
