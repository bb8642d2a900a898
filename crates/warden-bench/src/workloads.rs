//! The benchmark's worlds, built with the engine API, and the questions asked of them.
//!
//! - (a) [`default_groups_world`]: one principal in the five default groups, every global policy
//!   bound to one of them;
//! - (b) [`account_world`]: generated account policies drawn from the catalogue, many groups,
//!   bindings spread over them (some at environment level, some with parameters or boundaries),
//!   one principal in five groups that have one binding each;
//! - (c) [`large_world`]: the same generator at a million users.
//!
//! Everything random comes from one seeded [`Rng`], so every run builds the same worlds.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use warden_engine::{
    AttributeValue, Attributes, Binding, BoundaryRecord, Builtin, Directory, Group, Id, Level,
    ParamValue, PolicyRecord, Principal, Request,
};
use warden_policy::ast::StringPart;
use warden_policy::catalogue::{ConditionSpec, Permission};
use warden_policy::{Catalogue, Effect, Operator, Placeholder};

use crate::rng::Rng;

pub const ENVIRONMENTS: [&str; 3] = ["env-prod", "env-dev", "env-test"];

/// 2026-05-04T10:00:00Z, a Monday: the time of every request.
pub const TIME: i64 = 1_777_888_800;

/// Attributes the generated policies may test with `startsWith`, `NOT startsWith` and `MATCH`.
/// Requests give them one value (the Cedar translation makes them single-valued Strings); every
/// other attribute is tested only with `=`, `!=`, `IN`, `NOT IN` and may carry a list of values.
pub const PREFIX_ATTRIBUTES: [&str; 5] = [
    "storage:bucket-name",
    "settings:schemaId",
    "shared:app-id",
    "settings:scope",
    "extensions:extension-name",
];

/// Realistic values for each condition; policies and requests draw from the same lists, so that
/// conditions hold for some requests and fail for others.
pub fn vocabulary(condition: &str) -> &'static [&'static str] {
    match condition {
        "storage:table-name" => &[
            "logs",
            "spans",
            "events",
            "bizevents",
            "metrics",
            "entities",
            "system",
            "user.events",
            "user.sessions",
            "custom.audit",
        ],
        "storage:bucket-name" => &[
            "default_logs",
            "default_spans",
            "default_events",
            "default_security_events",
            "default_security_custom_events",
            "default_bizevents",
            "default_metrics",
            "team_ops_logs",
            "team_dev_logs",
            "team_sec_events",
            "custom_audit_bucket",
        ],
        "storage:dt.security_context" => &["team-a", "team-b", "team-c", "restricted", "public"],
        "storage:host.name" => &["host-01", "host-02", "host-03", "db-01", "web-01"],
        "storage:k8s.namespace.name" => &["default", "payments", "checkout", "monitoring"],
        "storage:k8s.cluster.name" => &["prod-eu", "prod-us", "staging"],
        "settings:schemaId" => &[
            "builtin:alerting.profile",
            "builtin:alerting.maintenance-window",
            "builtin:monitoring.slo",
            "builtin:anomaly-detection.metric-events",
            "builtin:problem.notifications",
            "app:my.dashboard.settings",
            "app:dynatrace.jira:connection",
        ],
        "shared:app-id" => &[
            "my.app.tracker",
            "my.app.billing",
            "dynatrace.jira",
            "dynatrace.slack",
        ],
        "settings:schemaGroup" => &[
            "group:alerting",
            "group:monitoring",
            "group:anomaly-detection",
        ],
        "settings:entity.hostGroup" => &["hg-frontend", "hg-backend", "hg-batch"],
        "settings:scope" => &[
            "environment",
            "HOST-48B8F52F33098830",
            "HOST-0000000000000001",
            "APPLICATION-EA7C4B59F27D43EB",
        ],
        "environment:management-zone" => &["zone-a", "zone-b", "prod-frontend", "prod-backend"],
        "automation:workflow-type" => &["SIMPLE", "STANDARD"],
        "oauth2:scopes" => &["app-engine:edge-connects:connect", "storage:logs:read"],
        "global:environmentId" => &ENVIRONMENTS,
        "extensions:extension-name" => &[
            "com.dynatrace.extension.postgres",
            "com.dynatrace.extension.snmp",
            "custom:my.extension",
        ],
        "extensions:host" | "extensions:host-group" | "extensions:ag-group" => {
            &["hg-frontend", "hg-backend", "host-01", "ag-eu"]
        }
        "extensions:management-zone" => &["zone-a", "zone-b"],
        "cloudautomation:project" => &["shop", "payments", "platform"],
        "cloudautomation:stage" => &["dev", "staging", "production"],
        "cloudautomation:service" => &["cart", "checkout", "search"],
        "cloudautomation:event" => &["deployment.triggered", "evaluation.finished"],
        "iam:levelType" => &["account", "environment"],
        _ => &["value-a", "value-b", "value-c"],
    }
}

/// An owned request.
#[derive(Debug, Clone)]
pub struct Question {
    pub principal: Id,
    pub permission: String,
    pub environment: Option<String>,
    pub attributes: Attributes,
}

impl Question {
    pub fn request(&self) -> Request<'_> {
        Request {
            principal: &self.principal,
            permission: &self.permission,
            environment: self.environment.as_deref(),
            attributes: &self.attributes,
            time: TIME,
        }
    }

    /// One line for reports.
    pub fn describe(&self) -> String {
        let attributes: Vec<String> = self
            .attributes
            .iter()
            .map(|(name, value)| format!("{name}={:?}", value.values()))
            .collect();
        format!(
            "principal {} asks {} {} with {{{}}}",
            self.principal,
            self.permission,
            self.environment
                .as_deref()
                .map_or_else(|| "at account level".to_owned(), |e| format!("in {e}")),
            attributes.join(", ")
        )
    }
}

fn slug(name: &str) -> String {
    name.to_lowercase().replace(' ', "-")
}

fn err(context: &str, e: impl std::fmt::Display) -> String {
    format!("{context}: {e}")
}

fn new_directory(builtin: &Builtin, account: &str) -> Result<Directory, String> {
    let mut directory = Directory::new(account);
    for env in ENVIRONMENTS {
        directory.add_environment(env);
    }
    builtin
        .install(&mut directory, |name| slug(name).into())
        .map_err(|e| err("installing the built-in content", e))?;
    Ok(directory)
}

// ---- (a) ------------------------------------------------------------------------------------------

/// The five default groups; every global policy that no default group binds is bound (at account
/// level) to one of them, in turn. The principal is in all five.
pub fn default_groups_world(builtin: &Builtin) -> Result<(Directory, Principal), String> {
    let mut directory = new_directory(builtin, "acc-a")?;
    let groups: Vec<Id> = builtin
        .groups
        .iter()
        .map(|g| Id::from(slug(&g.name)))
        .collect();
    let bound: BTreeSet<Id> = directory
        .bindings()
        .map(|b| Arc::clone(&b.policy))
        .collect();
    let mut turn = 0usize;
    for policy in &builtin.policies {
        let id = policy.id();
        if bound.contains(id.as_str()) {
            continue;
        }
        let Some(group) = groups.get(turn % groups.len().max(1)) else {
            return Err("no default groups".to_owned());
        };
        turn += 1;
        directory
            .add_binding(Binding::new(Level::Account, &id, group))
            .map_err(|e| err(&format!("binding `{id}`"), e))?;
    }
    let principal = add_principal(&mut directory, "user-a", "alice@bench.example", groups)?;
    Ok((directory, principal))
}

fn add_principal(
    directory: &mut Directory,
    uid: &str,
    email: &str,
    groups: Vec<Id>,
) -> Result<Principal, String> {
    directory
        .upsert_principal(Principal::user(uid, email))
        .map_err(|e| err("adding the principal", e))?;
    directory
        .set_memberships(uid, groups)
        .map_err(|e| err("memberships", e))?;
    directory
        .principal(uid)
        .map(|p| (**p).clone())
        .ok_or_else(|| "the principal vanished".to_owned())
}

// ---- policy generation ---------------------------------------------------------------------------

/// Generates policy texts from the catalogue: 2–4 statements, each naming one to three
/// permissions of one service, with conditions those permissions support and operators they
/// allow; about one statement in seven is a DENY (always with a condition).
#[derive(Debug)]
pub struct Generator<'c> {
    catalogue: &'c Catalogue,
    conditional: Vec<&'c Permission>,
    all: Vec<&'c Permission>,
    environment: Option<&'c ConditionSpec>,
}

/// The parameterised statement of the generated policies that take bind parameters.
const PARAMETERISED: &str = "ALLOW storage:logs:read, storage:events:read WHERE storage:bucket-name startsWith \"team_${bindParam:team}_\" AND storage:dt.security_context IN (\"${bindParam:contexts}\");";

impl<'c> Generator<'c> {
    pub fn new(catalogue: &'c Catalogue) -> Generator<'c> {
        let all: Vec<&Permission> = catalogue.permissions().collect();
        let conditional = all
            .iter()
            .copied()
            .filter(|p| !p.conditions.is_empty())
            .collect();
        Generator {
            catalogue,
            conditional,
            all,
            environment: catalogue.global_condition("global:environmentId"),
        }
    }

    /// A policy text; `parameterised` adds a statement with `${bindParam:team}` and
    /// `${bindParam:contexts}`.
    pub fn policy_text(&self, rng: &mut Rng, parameterised: bool) -> String {
        let count = rng.between(2, 4);
        let mut statements: Vec<String> = Vec::with_capacity(count);
        if parameterised {
            statements.push(PARAMETERISED.to_owned());
        }
        while statements.len() < count {
            let deny = rng.percent(15);
            if let Some(statement) = self.statement(rng, deny) {
                statements.push(statement);
            }
        }
        statements.join("\n")
    }

    fn statement(&self, rng: &mut Rng, deny: bool) -> Option<String> {
        let first: &Permission = if deny || rng.percent(85) {
            rng.pick(&self.conditional)?
        } else {
            rng.pick(&self.all)?
        };
        let wanted = if deny {
            rng.between(1, 2)
        } else {
            match rng.below(100) {
                0..=24 => 0,
                25..=64 => 1,
                65..=89 => 2,
                _ => 3,
            }
        };
        let mut specs: Vec<&ConditionSpec> = first
            .conditions
            .iter()
            .filter(|c| !c.name.starts_with("global:"))
            .collect();
        let mut chosen: Vec<&ConditionSpec> = Vec::new();
        while chosen.len() < wanted && !specs.is_empty() {
            let index = rng.below(specs.len());
            chosen.push(specs.remove(index));
        }
        if rng.percent(8)
            && let Some(environment) = self.environment
        {
            chosen.push(environment);
        }
        let mut conditions: Vec<(String, Operator, String)> = Vec::new();
        for spec in chosen {
            let Some(operator) = choose_operator(rng, spec, deny) else {
                continue;
            };
            let value = value_text(rng, &spec.name, operator);
            conditions.push((spec.name.clone(), operator, value));
        }
        if deny && conditions.is_empty() {
            return None;
        }
        let mut permissions: Vec<&str> = vec![first.name.as_str()];
        if rng.percent(50) {
            let candidates: Vec<&Permission> = self
                .all
                .iter()
                .copied()
                .filter(|p| p.service == first.service && p.name != first.name)
                .filter(|p| {
                    conditions.iter().all(|(name, operator, _)| {
                        name.starts_with("global:")
                            || p.condition(name)
                                .is_some_and(|spec| spec.operators.contains(*operator))
                    })
                })
                .collect();
            for _ in 0..rng.between(1, 2) {
                if let Some(p) = rng.pick(&candidates)
                    && !permissions.contains(&p.name.as_str())
                {
                    permissions.push(&p.name);
                }
            }
        }
        let effect = if deny { Effect::Deny } else { Effect::Allow };
        let mut text = format!("{effect} {}", permissions.join(", "));
        if !conditions.is_empty() {
            let conditions: Vec<String> = conditions
                .iter()
                .map(|(name, operator, value)| format!("{name} {operator} {value}"))
                .collect();
            text.push_str(" WHERE ");
            text.push_str(&conditions.join(" AND "));
        }
        text.push(';');
        Some(text)
    }

    /// Parses and validates a generated policy (a generator bug is an error, not a skipped policy).
    pub fn record(&self, id: &str, text: &str) -> Result<PolicyRecord, String> {
        PolicyRecord::parse(id, id, Level::Account, text, self.catalogue).map_err(|diagnostics| {
            let messages: Vec<String> = diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.message.clone())
                .collect();
            format!(
                "generated policy `{id}` is invalid: {}\n{text}",
                messages.join("; ")
            )
        })
    }
}

fn choose_operator(rng: &mut Rng, spec: &ConditionSpec, deny: bool) -> Option<Operator> {
    let prefix = PREFIX_ATTRIBUTES.contains(&spec.name.as_str());
    let usable: Vec<Operator> = spec
        .operators
        .iter()
        .filter(|op| match op {
            Operator::Eq | Operator::NotEq | Operator::In | Operator::NotIn => true,
            Operator::StartsWith | Operator::NotStartsWith | Operator::Match => prefix,
            Operator::Less | Operator::Greater => false,
        })
        .collect();
    let positive: Vec<Operator> = usable
        .iter()
        .copied()
        .filter(|op| !op.is_negated())
        .collect();
    let prefer_positive = if deny { 70 } else { 85 };
    if !positive.is_empty() && rng.percent(prefer_positive) {
        rng.pick(&positive).copied()
    } else {
        rng.pick(&usable).copied()
    }
}

/// A prefix of a value, up to and including its first separator.
fn prefix_of(value: &str) -> &str {
    value
        .char_indices()
        .find(|(_, c)| matches!(c, '_' | ':' | '.' | '-'))
        .and_then(|(i, c)| value.get(..i + c.len_utf8()))
        .unwrap_or(value)
}

/// A glob matching some values: `prefix*` or `*suffix`.
fn pattern_of(rng: &mut Rng, value: &str) -> String {
    if rng.percent(60) {
        format!("{}*", prefix_of(value))
    } else {
        let suffix = value
            .rfind(['_', '.', ':'])
            .and_then(|i| value.get(i..))
            .unwrap_or(value);
        format!("*{suffix}")
    }
}

fn pick_value(rng: &mut Rng, name: &str) -> &'static str {
    rng.pick(vocabulary(name)).copied().unwrap_or("value")
}

fn value_text(rng: &mut Rng, name: &str, operator: Operator) -> String {
    let quoted = |v: &str| format!("\"{v}\"");
    match operator {
        Operator::In | Operator::NotIn => {
            let mut values: Vec<&str> = Vec::new();
            for _ in 0..rng.between(1, 3) {
                let value = pick_value(rng, name);
                if !values.contains(&value) {
                    values.push(value);
                }
            }
            let items: Vec<String> = values.into_iter().map(quoted).collect();
            format!("({})", items.join(", "))
        }
        Operator::StartsWith | Operator::NotStartsWith => {
            let value = pick_value(rng, name);
            quoted(prefix_of(value))
        }
        Operator::Match => {
            let value = pick_value(rng, name);
            let first = pattern_of(rng, value);
            if rng.percent(25) {
                let other = pick_value(rng, name);
                let second = pattern_of(rng, other);
                format!("({}, {})", quoted(&first), quoted(&second))
            } else {
                quoted(&first)
            }
        }
        _ => quoted(pick_value(rng, name)),
    }
}

// ---- (b) and (c): generated accounts ---------------------------------------------------------------

/// The boundaries of the generated accounts.
const BOUNDARIES: [(&str, &str); 5] = [
    ("zone-a", "environment:management-zone = \"zone-a\""),
    ("team-a-records", "storage:dt.security_context = \"team-a\""),
    ("prod-only", "global:environmentId = \"env-prod\""),
    (
        "web-hosts",
        "storage:host.name = \"host-01\"\nstorage:host.name = \"web-01\"\nstorage:dt.security_context = \"team-b\"",
    ),
    (
        "alerting",
        "settings:schemaId startsWith \"builtin:alerting\"",
    ),
];

const TEAMS: [&str; 3] = ["ops", "dev", "sec"];

/// Sizes of a generated account.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub policies: usize,
    pub groups: usize,
    /// Per cent of policies that take bind parameters.
    pub parameterised: u64,
    /// Per cent of bindings with boundaries, and at environment level.
    pub with_boundaries: u64,
    pub at_environment: u64,
}

/// A generated account: policies, boundaries, groups; no bindings or users yet.
#[derive(Debug)]
pub struct Account {
    pub directory: Directory,
    pub policies: Vec<(Id, bool)>,
    pub groups: Vec<Id>,
}

pub fn generated_account(
    builtin: &Builtin,
    rng: &mut Rng,
    account: &str,
    sizes: Sizes,
) -> Result<Account, String> {
    let mut directory = new_directory(builtin, account)?;
    for (id, text) in BOUNDARIES {
        let record = BoundaryRecord::parse(id, id, text, &builtin.catalogue).map_err(|d| {
            format!(
                "boundary `{id}`: {:?}",
                d.iter().map(|d| &d.message).collect::<Vec<_>>()
            )
        })?;
        directory
            .upsert_boundary(record)
            .map_err(|e| err("boundary", e))?;
    }
    let generator = Generator::new(&builtin.catalogue);
    let mut policies = Vec::with_capacity(sizes.policies);
    for i in 0..sizes.policies {
        let id = format!("pol-{i:05}");
        let parameterised = rng.percent(sizes.parameterised);
        let text = generator.policy_text(rng, parameterised);
        let record = generator.record(&id, &text)?;
        directory
            .upsert_policy(record)
            .map_err(|e| err("policy", e))?;
        policies.push((Id::from(id), parameterised));
    }
    let mut groups = Vec::with_capacity(sizes.groups);
    for i in 0..sizes.groups {
        let id = format!("grp-{i:06}");
        directory
            .upsert_group(Group::new(&id, &format!("Team {i:06}")))
            .map_err(|e| err("group", e))?;
        groups.push(Id::from(id));
    }
    Ok(Account {
        directory,
        policies,
        groups,
    })
}

/// A binding of a generated policy: parameters when it takes them, sometimes boundaries,
/// sometimes at environment level.
pub fn generated_binding(rng: &mut Rng, sizes: Sizes, policy: &(Id, bool), group: &Id) -> Binding {
    let level = if rng.percent(sizes.at_environment) {
        Level::Environment(
            rng.pick(&ENVIRONMENTS)
                .copied()
                .unwrap_or("env-prod")
                .into(),
        )
    } else {
        Level::Account
    };
    let mut binding = Binding::new(level, &policy.0, group);
    if policy.1 {
        let team = rng.pick(&TEAMS).copied().unwrap_or("ops");
        binding
            .parameters
            .insert("team".to_owned(), ParamValue::One(team.to_owned()));
        let contexts = vocabulary("storage:dt.security_context");
        let mut values: Vec<String> = Vec::new();
        for _ in 0..rng.between(1, 2) {
            let value = rng.pick(contexts).copied().unwrap_or("team-a").to_owned();
            if !values.contains(&value) {
                values.push(value);
            }
        }
        binding
            .parameters
            .insert("contexts".to_owned(), ParamValue::Many(values));
    }
    if rng.percent(sizes.with_boundaries) {
        for _ in 0..rng.between(1, 2) {
            if let Some((id, _)) = rng.pick(&BOUNDARIES) {
                let id = Id::from(*id);
                if !binding.boundaries.contains(&id) {
                    binding.boundaries.push(id);
                }
            }
        }
    }
    binding
}

/// (b): every policy bound to one to three random groups; the principal in five groups that have
/// one binding each, of five different policies — one with boundaries, one with parameters and
/// one with a DENY statement when the account has such bindings.
pub fn account_world(
    builtin: &Builtin,
    rng: &mut Rng,
    sizes: Sizes,
) -> Result<(Directory, Principal), String> {
    let Account {
        mut directory,
        policies,
        groups,
    } = generated_account(builtin, rng, "acc-b", sizes)?;
    for policy in &policies {
        for _ in 0..rng.between(1, 3) {
            let Some(group) = rng.pick(&groups) else {
                continue;
            };
            let binding = generated_binding(rng, sizes, policy, group);
            directory
                .add_binding(binding)
                .map_err(|e| err("binding", e))?;
        }
    }
    let single: Vec<Arc<Binding>> = groups
        .iter()
        .filter_map(|g| match directory.bindings_of(g) {
            [one] => Some(Arc::clone(one)),
            _ => None,
        })
        .collect();
    let has_deny = |b: &Binding| {
        directory.policy(&b.policy).is_some_and(|p| {
            p.ast
                .statements
                .iter()
                .any(|s| s.effect.node == Effect::Deny)
        })
    };
    let preferences: [&dyn Fn(&Binding) -> bool; 3] = [
        &|b: &Binding| !b.boundaries.is_empty(),
        &|b: &Binding| !b.parameters.is_empty(),
        &has_deny,
    ];
    let mut chosen: Vec<Arc<Binding>> = Vec::new();
    let distinct =
        |chosen: &[Arc<Binding>], b: &Binding| chosen.iter().all(|c| c.policy != b.policy);
    for wanted in preferences {
        if let Some(b) = single.iter().find(|b| wanted(b) && distinct(&chosen, b)) {
            chosen.push(Arc::clone(b));
        }
    }
    while chosen.len() < 5 {
        let Some(b) = rng.pick(&single) else {
            return Err("no group with one binding".to_owned());
        };
        if distinct(&chosen, b) {
            chosen.push(Arc::clone(b));
        }
    }
    let member_of: Vec<Id> = chosen.iter().map(|b| Arc::clone(&b.group)).collect();
    let principal = add_principal(&mut directory, "user-b", "bob@bench.example", member_of)?;
    Ok((directory, principal))
}

/// (c): `groups` groups with `bindings / groups` bindings each (distinct policies), and `users`
/// users each in one to five random groups (one in ten also in a default group).
pub fn large_world(
    builtin: &Builtin,
    rng: &mut Rng,
    sizes: Sizes,
    bindings: usize,
    users: usize,
) -> Result<Directory, String> {
    let mut account = generated_account(builtin, rng, "acc-c", sizes)?;
    bind_groups(&mut account, rng, sizes, bindings)?;
    add_users(&mut account, builtin, rng, users)?;
    Ok(account.directory)
}

/// Spreads `bindings` bindings evenly over the account's groups, each of a random policy.
pub fn bind_groups(
    account: &mut Account,
    rng: &mut Rng,
    sizes: Sizes,
    bindings: usize,
) -> Result<(), String> {
    let Account {
        directory,
        policies,
        groups,
    } = account;
    let per_group = bindings / groups.len().max(1);
    for group in groups.iter() {
        let mut bound: Vec<usize> = Vec::with_capacity(per_group);
        while bound.len() < per_group.min(policies.len()) {
            let index = rng.below(policies.len());
            if bound.contains(&index) {
                continue;
            }
            bound.push(index);
            let Some(policy) = policies.get(index) else {
                continue;
            };
            let binding = generated_binding(rng, sizes, policy, group);
            directory
                .add_binding(binding)
                .map_err(|e| err("binding", e))?;
        }
    }
    Ok(())
}

/// Adds `users` users, each in one to four random groups (and one in ten in a default group).
pub fn add_users(
    account: &mut Account,
    builtin: &Builtin,
    rng: &mut Rng,
    users: usize,
) -> Result<(), String> {
    let Account {
        directory, groups, ..
    } = account;
    let defaults: Vec<Id> = builtin
        .groups
        .iter()
        .map(|g| Id::from(slug(&g.name)))
        .collect();
    for i in 0..users {
        let uid = format!("u{i:07}");
        let email = format!("user{i:07}@bench.example");
        let count = rng.between(1, 5);
        let mut member_of: Vec<Id> = Vec::with_capacity(count + 1);
        for _ in 0..count {
            if let Some(group) = rng.pick(groups)
                && !member_of.contains(group)
            {
                member_of.push(Arc::clone(group));
            }
        }
        if rng.percent(10)
            && let Some(group) = rng.pick(&defaults)
        {
            member_of.push(Arc::clone(group));
        }
        let principal = Principal {
            groups: member_of.into(),
            ..Principal::user(&uid, &email)
        };
        directory
            .upsert_principal(principal)
            .map_err(|e| err("user", e))?;
    }
    Ok(())
}

// ---- questions ----------------------------------------------------------------------------------

/// One condition of a statement that can decide a principal's requests, with its values after
/// parameter substitution.
#[derive(Debug, Clone)]
pub struct HintCondition {
    pub name: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

/// A permission that a statement bound to the principal names, with the statement's conditions.
#[derive(Debug, Clone)]
pub struct Hint {
    pub permission: String,
    pub conditions: Vec<HintCondition>,
}

/// The statements of the policies bound to the principal's groups, one hint per permission.
pub fn hints(directory: &Directory, principal: &Principal) -> Vec<Hint> {
    let mut out = Vec::new();
    for group in principal.groups.iter() {
        for binding in directory.bindings_of(group) {
            out.extend(binding_hints(directory, binding));
        }
    }
    out
}

fn binding_hints(directory: &Directory, binding: &Binding) -> Vec<Hint> {
    let Some(policy) = directory.policy(&binding.policy) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for statement in &policy.ast.statements {
        let conditions: Vec<HintCondition> = statement
            .conditions
            .iter()
            .map(|c| HintCondition {
                name: c.name.node.clone(),
                operator: c.operator.node,
                values: c
                    .value
                    .strings()
                    .iter()
                    .map(|s| {
                        s.parts
                            .iter()
                            .map(|part| match part {
                                StringPart::Text(text) => text.clone(),
                                StringPart::Placeholder(Placeholder::BindParam(name)) => binding
                                    .parameters
                                    .get(name)
                                    .and_then(|v| v.values().first().cloned())
                                    .unwrap_or_default(),
                                StringPart::Placeholder(Placeholder::Global(_)) => String::new(),
                            })
                            .collect()
                    })
                    .collect(),
            })
            .collect();
        for permission in &statement.permissions {
            out.push(Hint {
                permission: permission.node.clone(),
                conditions: conditions.clone(),
            });
        }
    }
    out
}

/// A value that may satisfy the hinted condition.
fn hinted_value(rng: &mut Rng, condition: &HintCondition) -> String {
    let Some(first) = rng.pick(&condition.values) else {
        return pick_value(rng, &condition.name).to_owned();
    };
    match condition.operator {
        Operator::Eq | Operator::In => first.clone(),
        Operator::StartsWith => format!("{first}x{}", rng.below(3)),
        Operator::Match => first.replace("\\*", "*").replace('*', "x"),
        _ => pick_value(rng, &condition.name).to_owned(),
    }
}

/// A question about `permission` (or, for `hint`, about the hinted permission, with attribute
/// values that often satisfy the hinted statement). Attributes used with prefix operators get one
/// value; others sometimes a list, rarely an empty list (which counts as missing).
pub fn question(
    rng: &mut Rng,
    catalogue: &Catalogue,
    principal: &Id,
    hint: Option<&Hint>,
    single_valued: &BTreeSet<String>,
) -> Question {
    let permission: String = match hint {
        Some(hint) => hint.permission.clone(),
        None => {
            let all: Vec<&Permission> = catalogue.permissions().collect();
            rng.pick(&all)
                .map_or_else(|| "settings:objects:read".to_owned(), |p| p.name.clone())
        }
    };
    // A role permission implies environment:roles:viewer: ask for the viewer role sometimes.
    let permission = if permission.starts_with("environment:roles:") && rng.percent(30) {
        "environment:roles:viewer".to_owned()
    } else {
        permission
    };
    let hinted: BTreeMap<&str, &HintCondition> = hint
        .map(|h| h.conditions.iter().map(|c| (c.name.as_str(), c)).collect())
        .unwrap_or_default();
    let mut attributes = Attributes::new();
    if let Some(spec) = catalogue.permission(&permission) {
        for condition in &spec.conditions {
            let name = condition.name.as_str();
            let hinted_condition = hinted.get(name);
            if !rng.percent(if hinted_condition.is_some() { 85 } else { 45 }) {
                continue;
            }
            let value = match hinted_condition {
                Some(c) if rng.percent(65) => hinted_value(rng, c),
                _ => pick_value(rng, name).to_owned(),
            };
            let single = single_valued.contains(name) || PREFIX_ATTRIBUTES.contains(&name);
            let attribute = if !single && rng.percent(3) {
                AttributeValue::Many(Vec::new())
            } else if !single && rng.percent(20) {
                AttributeValue::Many(vec![value, pick_value(rng, name).to_owned()])
            } else {
                AttributeValue::One(value)
            };
            attributes.insert(name.to_owned(), attribute);
        }
    }
    let environment = match rng.below(100) {
        0..=44 => Some("env-prod"),
        45..=64 => Some("env-dev"),
        65..=74 => Some("env-test"),
        _ => None,
    };
    Question {
        principal: Arc::clone(principal),
        permission,
        environment: environment.map(str::to_owned),
        attributes,
    }
}

/// `count` questions for one principal: `hinted` per cent about its bound statements, the rest
/// about permissions that no statement bound to it names (so mostly denied).
pub fn questions_for(
    rng: &mut Rng,
    catalogue: &Catalogue,
    directory: &Directory,
    principal: &Principal,
    count: usize,
    hinted: u64,
    single_valued: &BTreeSet<String>,
) -> Vec<Question> {
    let hints = hints(directory, principal);
    let named: BTreeSet<&str> = hints.iter().map(|h| h.permission.as_str()).collect();
    let others: Vec<Hint> = catalogue
        .permissions()
        .filter(|p| !named.contains(p.name.as_str()))
        .map(|p| Hint {
            permission: p.name.clone(),
            conditions: Vec::new(),
        })
        .collect();
    (0..count)
        .map(|_| {
            let hint = if rng.percent(hinted) {
                rng.pick(&hints)
            } else {
                rng.pick(&others)
            };
            question(rng, catalogue, &principal.uid, hint, single_valued)
        })
        .collect()
}

/// `count` users of the (c) directory drawn at random.
pub fn random_users(rng: &mut Rng, directory: &Directory, users: usize, count: usize) -> Vec<Id> {
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let uid = format!("u{:07}", rng.below(users));
        if let Some(principal) = directory.principal(&uid) {
            out.push(Arc::clone(&principal.uid));
        }
    }
    out
}

/// (c): `count` questions, each from one of `users` (in turn), mostly about a statement bound to
/// one of the user's groups.
pub fn questions_large(
    rng: &mut Rng,
    catalogue: &Catalogue,
    directory: &Directory,
    users: &[Id],
    count: usize,
) -> Vec<Question> {
    let single = BTreeSet::new();
    let mut out = Vec::with_capacity(count);
    for uid in users.iter().cycle().take(count) {
        let Some(principal) = directory.principal(uid) else {
            continue;
        };
        let hint = if rng.percent(85) {
            rng.pick(&principal.groups)
                .and_then(|g| rng.pick(directory.bindings_of(g)).cloned())
                .map(|b| binding_hints(directory, &b))
                .and_then(|hints| rng.pick(&hints).cloned())
        } else {
            None
        };
        out.push(question(
            rng,
            catalogue,
            &principal.uid,
            hint.as_ref(),
            &single,
        ));
    }
    out
}
