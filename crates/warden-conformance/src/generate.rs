//! Random worlds and requests (proptest strategies).
//!
//! A strategy draws plain choices (selectors into fixed tables, flags, short strings) and
//! [`realise`] turns them into a [`Case`]: policy and boundary *texts*, bindings with parameters
//! and boundaries, principals, and requests. Shrinking works on the choices, so a failing case
//! shrinks towards the first entry of every table, and the case is shown as texts.
//!
//! Everything realised is valid input: every condition is supported by every permission of its
//! statement with an operator they all allow, lists stand where lists are expected, time
//! literals are well formed, `${global:userGroup}` is only a whole list item, a list parameter
//! only fills strings that are exactly that placeholder inside a list, a boundary has no
//! parameter. So the engine, the reference and Cedar must decide the same thing.
//!
//! Half the features exist to reach rules the engine implements separately: bind parameters with
//! one or several values (in `=`, `startsWith`, `IN` and `MATCH`, whole or inside a string),
//! `${global:userId}`, `${global:userGroup}` and `${global:environmentId}`, the global time and
//! week-day conditions against random request times, boundaries of 1–4 lines with repeated
//! names, `environment:roles:*` permissions that imply `environment:roles:viewer`, global
//! policies, environment-level policies, deactivated and unknown principals, unknown permissions
//! and environments, list-valued and empty attributes, missing attributes, `MATCH` patterns with
//! `*`, `?`, `\*`, `\?`, and values with quotes, `;`, `$`, `${…}` and backslashes.
//!
//! A *Cedar-friendly* case keeps to what the translation to Cedar expresses (no time condition,
//! no `${global:…}`, no `?`, the prefix operators only on attributes requests give one value);
//! the share of such cases is a parameter of [`cases`].
//!
//! [`escalation`] draws worlds the same way and adds an author and one write to them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use proptest::prelude::*;
use warden_policy::{Catalogue, Operator};

use crate::engine;
use crate::model::{
    AttrValue, BindingDef, BoundaryDef, Case, Level, Param, PolicyDef, PrincipalDef, Request, World,
};

pub mod escalation;

pub const ACCOUNT: &str = "acc-1";
pub const ENVIRONMENTS: [&str; 2] = ["env-prod", "env-dev"];
/// Named by requests, never created.
pub const UNKNOWN_ENVIRONMENT: &str = "env-gone";
pub const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g3"];
/// Not in the catalogue.
pub const UNKNOWN_PERMISSION: &str = "storage:nothing:read";

/// The permissions statements name. `environment:roles:*` other than the viewer imply it;
/// `agent-install` supports no condition; `entities` only `storage:dt.security_context`;
/// `settings:objects:read` allows fewer operators on `environment:management-zone`.
pub const PERMISSIONS: [&str; 9] = [
    "storage:logs:read",
    "storage:spans:read",
    "storage:entities:read",
    "storage:buckets:read",
    "environment:roles:viewer",
    "environment:roles:manage-settings",
    "environment:roles:logviewer",
    "environment:roles:agent-install",
    "settings:objects:read",
];

/// Global policies (by id) whose permissions are among [`PERMISSIONS`].
pub const GLOBAL_POLICIES: [&str; 5] = [
    "storage-logs-read",
    "settings-reader",
    "storage-entities-read",
    "environment-role-access-environment",
    "environment-role-view-logs",
];

/// Attributes requests carry. The first five are the conditions of [`PERMISSIONS`];
/// `storage:k8s.cluster.name` is supported but never generated in a condition;
/// `global:environmentId` given as an attribute must be ignored (it comes from the request).
const ATTRIBUTES: [&str; 7] = [
    "storage:bucket-name",
    "storage:dt.security_context",
    "environment:management-zone",
    "storage:host.name",
    "storage:table-name",
    "storage:k8s.cluster.name",
    "global:environmentId",
];

/// In a Cedar-friendly case, only these take `startsWith`, `NOT startsWith` and `MATCH`, and
/// requests give them at most one value.
const SINGLE_VALUED: [&str; 2] = ["storage:bucket-name", "environment:management-zone"];

/// Boundary conditions: the attribute conditions, then the global ones.
const BOUNDARY_NAMES: [&str; 5] = [
    "storage:bucket-name",
    "environment:management-zone",
    "storage:dt.security_context",
    "storage:host.name",
    "storage:table-name",
];
const GLOBAL_NAMES: [&str; 5] = [
    "global:environmentId",
    "global:week-day",
    "global:time-of-day",
    "global:date",
    "global:date-time",
];

/// Literal values: plain, glob-like, and text that must stay data.
const LITERALS: [&str; 25] = [
    "a",
    "A",
    "b",
    "ab",
    "a*",
    "",
    "zone-a",
    "logs",
    "g0",
    "uid-0",
    "env-prod",
    "*",
    "?",
    "x\"y",
    "it's",
    "semi;colon",
    "WHERE x",
    "$x",
    "${bindParam:p0}",
    "${global:userId}",
    "ENV-PROD",
    "back\\slash",
    "a\\*",
    "é",
    "ALLOW storage:logs:read;",
];

/// Characters of short random strings (values and patterns).
const ALPHABET: [char; 6] = ['a', 'b', '*', '?', '\\', 'é'];

/// Generic parameter names (any string value).
const PARAMETERS: [&str; 3] = ["p0", "team_id", "zone-1"];
/// Parameters of time conditions: a week day, several, a date.
const DAY_PARAMETER: &str = "day";
const DAYS_PARAMETER: &str = "days";
const DATE_PARAMETER: &str = "when";

const WEEK_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const ZONES: [&str; 6] = ["", "Z", "+01:00", "-05:30", "+14:00", "-11:00"];
/// 2026-05-02T00:00:00Z, a Saturday; request times fall in the six days after it.
pub const TIME_BASE: i64 = 1_777_680_000;
const TIME_SPAN: i64 = 6 * 86_400;

/// Request principals: uids, emails in other cases, a handle, an unknown name; with the
/// principal each names (an index into the world's principals).
const PRINCIPAL_KEYS: [(&str, Option<usize>); 12] = [
    ("uid-0", Some(0)),
    ("uid-0", Some(0)),
    ("ALICE@example.com", Some(0)),
    ("uid-1", Some(1)),
    ("bob@example.com", Some(1)),
    ("build_bot@service", Some(2)),
    ("Build_Bot@Service", Some(2)),
    ("uid-2", Some(2)),
    ("uid-0", Some(0)),
    ("alice@example.com ", Some(0)),
    ("uid-1", Some(1)),
    ("nobody@example.com", None),
];

type Sel = u16;

fn pick<T>(items: &[T], selector: Sel) -> Option<&T> {
    items.get(usize::from(selector) % items.len().max(1))
}

fn pick_str<'a>(items: &[&'a str], selector: Sel) -> &'a str {
    pick(items, selector).copied().unwrap_or_default()
}

// ---- choices --------------------------------------------------------------------------------

/// How a string is written: the text of a literal, a placeholder (with text around it).
#[derive(Debug, Clone)]
enum ItemChoice {
    Literal(Sel),
    Short(String),
    Parameter { name: Sel, prefix: Sel, suffix: Sel },
    UserId { prefix: Sel },
    UserEmail { prefix: Sel },
    EnvironmentId { prefix: Sel },
    UserGroup,
}

#[derive(Debug, Clone)]
struct TimeChoice {
    day: u8,
    hour: u8,
    minute: u8,
    seconds: Option<u8>,
    zone: Sel,
    /// Use the time parameter of the kind instead of a literal.
    parameter: bool,
}

#[derive(Debug, Clone)]
struct ConditionChoice {
    global: bool,
    name: Sel,
    operator: Sel,
    items: Vec<ItemChoice>,
    /// `MATCH` with a list rather than one string.
    list: bool,
    times: Vec<TimeChoice>,
    style: u8,
}

#[derive(Debug, Clone)]
struct StatementChoice {
    deny: bool,
    permissions: Vec<Sel>,
    conditions: Vec<ConditionChoice>,
    style: u8,
}

#[derive(Debug, Clone)]
struct PolicyChoice {
    statements: Vec<StatementChoice>,
    /// Some: a global policy instead.
    global: Option<Sel>,
    /// Some: defined at this environment (bound only there).
    environment: Option<Sel>,
}

#[derive(Debug, Clone)]
struct ParamChoice {
    many: bool,
    /// A list of more than sixteen values (the engine keeps those in a hash set).
    long: bool,
    values: Vec<(bool, Sel, String)>,
}

#[derive(Debug, Clone)]
struct BindingChoice {
    policy: Sel,
    group: Sel,
    environment: Option<Sel>,
    boundaries: Vec<Sel>,
    parameters: Vec<ParamChoice>,
}

#[derive(Debug, Clone)]
struct PrincipalChoice {
    active: bool,
    groups: Vec<bool>,
}

#[derive(Debug, Clone)]
struct AttributeChoice {
    name: Sel,
    /// 0: one value; 1: an empty list; 2: a list of one; otherwise a list of the values.
    shape: u8,
    values: Vec<(bool, Sel, String)>,
}

#[derive(Debug, Clone)]
struct RequestChoice {
    principal: Sel,
    from_world: bool,
    permission: Sel,
    environment: u8,
    attributes: Vec<AttributeChoice>,
    time: i64,
}

#[derive(Debug, Clone)]
struct CaseChoice {
    cedar: bool,
    policies: Vec<PolicyChoice>,
    boundaries: Vec<Vec<ConditionChoice>>,
    bindings: Vec<BindingChoice>,
    principals: Vec<PrincipalChoice>,
    requests: Vec<RequestChoice>,
}

// ---- strategies -----------------------------------------------------------------------------

fn short() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 0..5)
        .prop_map(|chars| chars.into_iter().collect())
}

fn item() -> impl Strategy<Value = ItemChoice> {
    prop_oneof![
        8 => any::<Sel>().prop_map(ItemChoice::Literal),
        3 => short().prop_map(ItemChoice::Short),
        4 => (any::<Sel>(), any::<Sel>(), any::<Sel>())
            .prop_map(|(name, prefix, suffix)| ItemChoice::Parameter { name, prefix, suffix }),
        1 => any::<Sel>().prop_map(|prefix| ItemChoice::UserId { prefix }),
        1 => any::<Sel>().prop_map(|prefix| ItemChoice::UserEmail { prefix }),
        1 => any::<Sel>().prop_map(|prefix| ItemChoice::EnvironmentId { prefix }),
        1 => Just(ItemChoice::UserGroup),
    ]
}

fn time_choice() -> impl Strategy<Value = TimeChoice> {
    (
        0..8u8,
        0..24u8,
        prop::sample::select(vec![0u8, 0, 15, 30, 59]),
        prop::option::weighted(0.3, 0..60u8),
        any::<Sel>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(day, hour, minute, seconds, zone, parameter)| TimeChoice {
            day,
            hour,
            minute,
            seconds,
            zone,
            parameter,
        })
}

fn condition() -> impl Strategy<Value = ConditionChoice> {
    (
        prop::bool::weighted(0.25),
        any::<Sel>(),
        any::<Sel>(),
        prop::collection::vec(item(), 1..4),
        any::<bool>(),
        prop::collection::vec(time_choice(), 1..3),
        any::<u8>(),
    )
        .prop_map(
            |(global, name, operator, items, list, times, style)| ConditionChoice {
                global,
                name,
                operator,
                items,
                list,
                times,
                style,
            },
        )
}

fn statement() -> impl Strategy<Value = StatementChoice> {
    (
        prop::bool::weighted(0.2),
        prop::collection::vec(any::<Sel>(), 1..4),
        prop::collection::vec(condition(), 0..3),
        any::<u8>(),
    )
        .prop_map(|(deny, permissions, conditions, style)| StatementChoice {
            deny,
            permissions,
            conditions,
            style,
        })
}

fn policy() -> impl Strategy<Value = PolicyChoice> {
    (
        prop::collection::vec(statement(), 1..4),
        prop::option::weighted(0.15, any::<Sel>()),
        prop::option::weighted(0.15, any::<Sel>()),
    )
        .prop_map(|(statements, global, environment)| PolicyChoice {
            statements,
            global,
            environment,
        })
}

fn values() -> impl Strategy<Value = Vec<(bool, Sel, String)>> {
    prop::collection::vec((prop::bool::weighted(0.75), any::<Sel>(), short()), 1..4)
}

fn binding() -> impl Strategy<Value = BindingChoice> {
    (
        any::<Sel>(),
        any::<Sel>(),
        prop::option::weighted(0.2, any::<Sel>()),
        prop::collection::vec(any::<Sel>(), 0..3),
        prop::collection::vec(
            (any::<bool>(), prop::bool::weighted(0.1), values())
                .prop_map(|(many, long, values)| ParamChoice { many, long, values }),
            1..4,
        ),
    )
        .prop_map(
            |(policy, group, environment, boundaries, parameters)| BindingChoice {
                policy,
                group,
                environment,
                boundaries,
                parameters,
            },
        )
}

fn request() -> impl Strategy<Value = RequestChoice> {
    let attribute =
        (any::<Sel>(), 0..6u8, values()).prop_map(|(name, shape, values)| AttributeChoice {
            name,
            shape,
            values,
        });
    (
        any::<Sel>(),
        prop::bool::weighted(0.9),
        any::<Sel>(),
        any::<u8>(),
        prop::collection::vec(attribute, 0..6),
        0..TIME_SPAN,
    )
        .prop_map(
            |(principal, from_world, permission, environment, attributes, time)| RequestChoice {
                principal,
                from_world,
                permission,
                environment,
                attributes,
                time: TIME_BASE + time,
            },
        )
}

/// Cases: random worlds with a few requests each. `cedar_share` is the probability that a case
/// keeps to what the translation to Cedar expresses.
pub fn cases(cedar_share: f64) -> impl Strategy<Value = Case> {
    case_choices(cedar_share).prop_map(|choice| realise(&choice))
}

/// The choices of [`cases`], before realisation.
fn case_choices(cedar_share: f64) -> impl Strategy<Value = CaseChoice> {
    (
        prop::bool::weighted(cedar_share),
        prop::collection::vec(policy(), 1..5),
        prop::collection::vec(prop::collection::vec(condition(), 1..5), 0..4),
        prop::collection::vec(binding(), 2..9),
        prop::collection::vec(
            (
                prop::bool::weighted(0.9),
                prop::collection::vec(prop::bool::weighted(0.6), GROUPS.len()),
            )
                .prop_map(|(active, groups)| PrincipalChoice { active, groups }),
            3,
        ),
        prop::collection::vec(request(), 1..9),
    )
        .prop_map(
            |(cedar, policies, boundaries, bindings, principals, requests)| CaseChoice {
                cedar,
                policies,
                boundaries,
                bindings,
                principals,
                requests,
            },
        )
}

// ---- realisation ----------------------------------------------------------------------------

/// What realising one case collects on the way.
struct Realiser<'c> {
    catalogue: &'c Catalogue,
    cedar: bool,
    /// Values worth putting into requests, by the attribute whose conditions use them (`""`: all
    /// of them): literals of the world and values that match them.
    pools: BTreeMap<String, BTreeSet<String>>,
    /// The attributes whose conditions each parameter fills.
    parameter_attributes: BTreeMap<String, BTreeSet<String>>,
}

/// A string being written: text and placeholders.
#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Placeholder(String),
}

/// One string of a condition, as written.
struct Written {
    parts: Vec<Part>,
}

/// Per parameter name of a policy: whether every use is a whole list item (so a list may fill
/// it).
type ParameterUses = BTreeMap<String, bool>;

fn realise(choice: &CaseChoice) -> Case {
    let Some(realised) = realise_world(choice) else {
        return Case {
            world: empty_world(),
            requests: Vec::new(),
        };
    };
    let requests = choice
        .requests
        .iter()
        .map(|r| {
            realised
                .realiser
                .request(r, &realised.world, &realised.named)
        })
        .collect();
    Case {
        world: realised.world,
        requests,
    }
}

/// A realised world, with what realising it collected on the way.
struct Realised<'c> {
    world: World,
    realiser: Realiser<'c>,
    /// Per policy of the world (by position): the permissions it names, and how it uses its
    /// parameters.
    named: Vec<BTreeSet<String>>,
    uses: Vec<ParameterUses>,
}

/// The world of a case; `None` when the built-in content does not load.
fn realise_world(choice: &CaseChoice) -> Option<Realised<'static>> {
    let catalogue = engine::catalogue().ok()?;
    let mut realiser = Realiser {
        catalogue,
        cedar: choice.cedar,
        pools: BTreeMap::new(),
        parameter_attributes: BTreeMap::new(),
    };
    for value in ["g1", "uid-1", "uid-2", "env-dev", "zone-b"] {
        realiser.remember("", value);
    }

    // Policies.
    let mut policies = Vec::new();
    let mut uses: Vec<ParameterUses> = Vec::new();
    // The permissions each policy names.
    let mut named: Vec<BTreeSet<String>> = Vec::new();
    for (index, policy) in choice.policies.iter().enumerate() {
        if let Some(global) = policy.global
            && let Some(found) = engine::builtin().ok().and_then(|b| {
                let id = pick_str(&GLOBAL_POLICIES, global);
                b.policies.iter().find(|p| p.id() == id)
            })
        {
            if policies.iter().any(|p: &PolicyDef| p.id == found.id()) {
                continue;
            }
            named.push(
                found
                    .policy
                    .statements
                    .iter()
                    .flat_map(|s| s.permissions.iter().map(|p| p.node.clone()))
                    .collect(),
            );
            policies.push(PolicyDef {
                id: found.id(),
                level: Level::Global,
                text: found.text.to_owned(),
            });
            uses.push(ParameterUses::new());
            continue;
        }
        let mut parameter_uses = ParameterUses::new();
        let mut policy_named = BTreeSet::new();
        let mut text = String::new();
        for (position, statement) in policy.statements.iter().enumerate() {
            let written = realiser.statement(statement, &mut parameter_uses, &mut policy_named);
            text.push_str(&written);
            // Statements share lines, span lines, and the last `;` may be left out.
            let last = position + 1 == policy.statements.len();
            match statement.style % 5 {
                0 if last => {}
                1 => text.push_str(";  "),
                2 => text.push_str("; // next\n"),
                _ => text.push_str(";\n"),
            }
        }
        let level = match policy.environment {
            Some(env) => Level::Environment(pick_str(&ENVIRONMENTS, env).to_owned()),
            None => Level::Account,
        };
        named.push(policy_named);
        policies.push(PolicyDef {
            id: format!("p{index}"),
            level,
            text,
        });
        uses.push(parameter_uses);
    }

    // Boundaries.
    let boundaries: Vec<BoundaryDef> = choice
        .boundaries
        .iter()
        .enumerate()
        .map(|(index, lines)| BoundaryDef {
            id: format!("b{index}"),
            text: lines
                .iter()
                .map(|line| realiser.boundary_line(line))
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect();

    // Bindings, one per identity (level, policy, group, parameters): the directory replaces a
    // binding posted again with the same identity.
    let mut bindings: Vec<BindingDef> = Vec::new();
    for binding in &choice.bindings {
        let Some(policy_index) =
            (!policies.is_empty()).then(|| usize::from(binding.policy) % policies.len())
        else {
            continue;
        };
        let (Some(policy), Some(parameter_uses)) =
            (policies.get(policy_index), uses.get(policy_index))
        else {
            continue;
        };
        let level = match (&policy.level, binding.environment) {
            (Level::Environment(env), _) => Level::Environment(env.clone()),
            (_, Some(env)) => Level::Environment(pick_str(&ENVIRONMENTS, env).to_owned()),
            (_, None) => Level::Account,
        };
        let mut parameters = BTreeMap::new();
        for (position, (name, whole_list_items)) in parameter_uses.iter().enumerate() {
            let Some(param) = binding
                .parameters
                .get(position % binding.parameters.len().max(1))
            else {
                continue;
            };
            parameters.insert(
                name.clone(),
                realiser.parameter(name, *whole_list_items, param),
            );
        }
        let boundary_ids: Vec<String> = binding
            .boundaries
            .iter()
            .filter_map(|b| pick(&boundaries, *b).map(|b| b.id.clone()))
            .collect();
        let binding = BindingDef {
            group: pick_str(&GROUPS, binding.group).to_owned(),
            policy: policy.id.clone(),
            level,
            parameters,
            boundaries: boundary_ids,
        };
        bindings.retain(|b| {
            !(b.group == binding.group
                && b.policy == binding.policy
                && b.level == binding.level
                && b.parameters == binding.parameters)
        });
        bindings.push(binding);
    }

    // Principals: a user, another user, a service user.
    let identities = [
        ("uid-0", "alice@example.com", None),
        ("uid-1", "bob@example.com", None),
        (
            "uid-2",
            "uid-2@service.warden.local",
            Some("build_bot@service"),
        ),
    ];
    let principals = identities
        .iter()
        .zip(&choice.principals)
        .map(|((uid, email, handle), p)| PrincipalDef {
            uid: (*uid).to_owned(),
            email: (*email).to_owned(),
            handle: handle.map(str::to_owned),
            active: p.active,
            groups: GROUPS
                .iter()
                .zip(&p.groups)
                .filter(|(_, member)| **member)
                .map(|(g, _)| (*g).to_owned())
                .collect(),
        })
        .collect();

    let world = World {
        account: ACCOUNT.to_owned(),
        environments: ENVIRONMENTS.iter().map(|e| (*e).to_owned()).collect(),
        groups: GROUPS.iter().map(|g| (*g).to_owned()).collect(),
        policies,
        boundaries,
        bindings,
        principals,
    };
    Some(Realised {
        world,
        realiser,
        named,
        uses,
    })
}

fn empty_world() -> World {
    World {
        account: ACCOUNT.to_owned(),
        environments: Vec::new(),
        groups: Vec::new(),
        policies: Vec::new(),
        boundaries: Vec::new(),
        bindings: Vec::new(),
        principals: Vec::new(),
    }
}

fn is_time(name: &str) -> bool {
    matches!(
        name,
        "global:date" | "global:date-time" | "global:time-of-day" | "global:week-day"
    )
}

fn is_prefix_operator(operator: Operator) -> bool {
    matches!(
        operator,
        Operator::StartsWith | Operator::NotStartsWith | Operator::Match
    )
}

impl Realiser<'_> {
    /// One statement's text (without its `;`).
    fn statement(
        &mut self,
        choice: &StatementChoice,
        uses: &mut ParameterUses,
        named: &mut BTreeSet<String>,
    ) -> String {
        let mut permissions: Vec<&str> = Vec::new();
        for selector in &choice.permissions {
            let permission = pick_str(&PERMISSIONS, *selector);
            if !permissions.contains(&permission) {
                permissions.push(permission);
            }
        }
        for permission in &permissions {
            named.insert((*permission).to_owned());
        }
        let effect = match (choice.deny, choice.style % 3) {
            (true, 0) => "DENY",
            (true, 1) => "deny",
            (true, _) => "Deny",
            (false, 0) => "ALLOW",
            (false, 1) => "allow",
            (false, _) => "Allow",
        };
        let separator = if choice.style & 8 == 0 { ", " } else { "," };
        let mut text = format!("{effect} {}", permissions.join(separator));
        let conditions: Vec<String> = choice
            .conditions
            .iter()
            .filter_map(|c| self.statement_condition(c, &permissions, uses))
            .collect();
        if !conditions.is_empty() {
            let (r#where, and) = if choice.style & 16 == 0 {
                (" WHERE ", " AND ")
            } else {
                ("\n  where ", "\n  and ")
            };
            text.push_str(r#where);
            text.push_str(&conditions.join(and));
        } else if choice.style.is_multiple_of(7) {
            // `WHERE null`: no condition.
            text.push_str(" where NULL");
        }
        text
    }

    /// The conditions a statement of these permissions may use, with their operators.
    fn statement_candidates(
        &self,
        permissions: &[&str],
        global: bool,
    ) -> Vec<(&'static str, Vec<Operator>)> {
        let mut out = Vec::new();
        let names: &[&'static str] = if global {
            &GLOBAL_NAMES
        } else {
            &BOUNDARY_NAMES
        };
        for name in names {
            let operators: Vec<Operator> = if global {
                self.catalogue
                    .global_condition(name)
                    .map(|spec| spec.operators.iter().collect())
                    .unwrap_or_default()
            } else {
                let mut allowed: Option<BTreeSet<Operator>> = None;
                for permission in permissions {
                    let ops: BTreeSet<Operator> = self
                        .catalogue
                        .permission(permission)
                        .and_then(|p| p.condition(name))
                        .map(|spec| spec.operators.iter().collect())
                        .unwrap_or_default();
                    allowed = Some(match allowed {
                        None => ops,
                        Some(previous) => previous.intersection(&ops).copied().collect(),
                    });
                }
                allowed.unwrap_or_default().into_iter().collect()
            };
            let operators = self.cedar_operators(name, operators);
            if !operators.is_empty() {
                out.push((*name, operators));
            }
        }
        out
    }

    /// In a Cedar-friendly case: no time conditions, prefix operators only on single-valued
    /// attributes.
    fn cedar_operators(&self, name: &str, operators: Vec<Operator>) -> Vec<Operator> {
        if !self.cedar {
            return operators;
        }
        if is_time(name) {
            return Vec::new();
        }
        operators
            .into_iter()
            .filter(|op| !is_prefix_operator(*op) || SINGLE_VALUED.contains(&name))
            .collect()
    }

    fn statement_condition(
        &mut self,
        choice: &ConditionChoice,
        permissions: &[&str],
        uses: &mut ParameterUses,
    ) -> Option<String> {
        let mut candidates = self.statement_candidates(permissions, choice.global);
        if candidates.is_empty() {
            candidates = self.statement_candidates(permissions, !choice.global);
        }
        let (name, operators) = pick(&candidates, choice.name)?;
        let operator = *pick(operators, choice.operator)?;
        Some(self.condition(name, operator, choice, Some(uses)))
    }

    fn boundary_line(&mut self, choice: &ConditionChoice) -> String {
        // Boundaries repeat names often: draw from three names most of the time.
        let names: Vec<&'static str> = if choice.global {
            GLOBAL_NAMES.to_vec()
        } else if choice.style & 1 == 0 {
            BOUNDARY_NAMES.iter().take(3).copied().collect()
        } else {
            BOUNDARY_NAMES.to_vec()
        };
        let mut candidates: Vec<(&str, Vec<Operator>)> = Vec::new();
        for name in names {
            let operators = boundary_operators(self.catalogue, name);
            let operators = self.cedar_operators(name, operators);
            if !operators.is_empty() {
                candidates.push((name, operators));
            }
        }
        let Some((name, operators)) = pick(&candidates, choice.name) else {
            return "storage:bucket-name = \"a\"".to_owned();
        };
        let operator = pick(operators, choice.operator)
            .copied()
            .unwrap_or(Operator::Eq);
        let line = self.condition(name, operator, choice, None);
        if choice.style & 2 == 0 {
            line
        } else {
            format!("{line};")
        }
    }

    /// `name operator value`. `uses` is `None` in a boundary (no parameters there).
    fn condition(
        &mut self,
        name: &str,
        operator: Operator,
        choice: &ConditionChoice,
        mut uses: Option<&mut ParameterUses>,
    ) -> String {
        let style = choice.style;
        let list = match operator {
            Operator::In | Operator::NotIn => true,
            Operator::Match => choice.list,
            _ => false,
        };
        let mut strings: Vec<Written> = Vec::new();
        if is_time(name) {
            for (position, time) in choice.times.iter().enumerate() {
                if !list && position > 0 {
                    break;
                }
                let parameter = match name {
                    "global:week-day" if list => Some(DAYS_PARAMETER),
                    "global:week-day" => Some(DAY_PARAMETER),
                    "global:date" => Some(DATE_PARAMETER),
                    _ => None,
                };
                match (parameter, uses.as_deref_mut()) {
                    (Some(parameter), Some(uses)) if time.parameter => {
                        let whole_list_item = list;
                        note_use(uses, parameter, whole_list_item);
                        strings.push(Written {
                            parts: vec![Part::Placeholder(format!("${{bindParam:{parameter}}}"))],
                        });
                    }
                    _ => strings.push(Written {
                        parts: vec![Part::Text(time_literal(name, time))],
                    }),
                }
            }
        } else {
            for (position, item) in choice.items.iter().enumerate() {
                if !list && position > 0 {
                    break;
                }
                let written = self.item(name, item, list, uses.as_deref_mut());
                strings.push(written);
            }
        }
        let value = if list {
            let items: Vec<String> = strings
                .iter()
                .enumerate()
                .map(|(i, s)| quote(&s.parts, style.wrapping_add(u8::try_from(i).unwrap_or(0))))
                .collect();
            let separator = if style & 4 == 0 { ", " } else { "," };
            format!("({})", items.join(separator))
        } else {
            strings
                .first()
                .map_or_else(|| "\"\"".to_owned(), |s| quote(&s.parts, style))
        };
        format!("{name} {} {value}", spell(operator, style))
    }

    /// One string of a (non-time) condition.
    fn item(
        &mut self,
        name: &str,
        choice: &ItemChoice,
        list: bool,
        uses: Option<&mut ParameterUses>,
    ) -> Written {
        const AFFIXES: [&str; 6] = ["", "", "", "pre-", "_x", "*"];
        let text = |s: String| Written {
            parts: vec![Part::Text(s)],
        };
        let environment_condition = name == "global:environmentId";
        match choice {
            ItemChoice::Parameter {
                name: parameter,
                prefix,
                suffix,
            } if uses.is_some() => {
                let parameter = pick_str(&PARAMETERS, *parameter);
                let (prefix, suffix) = if environment_condition {
                    ("", "")
                } else {
                    (pick_str(&AFFIXES, *prefix), pick_str(&AFFIXES, *suffix))
                };
                let whole = prefix.is_empty() && suffix.is_empty();
                if let Some(uses) = uses {
                    note_use(uses, parameter, list && whole);
                }
                self.parameter_attributes
                    .entry(parameter.to_owned())
                    .or_default()
                    .insert(name.to_owned());
                let mut parts = Vec::new();
                if !prefix.is_empty() {
                    parts.push(Part::Text(self.clean(prefix)));
                }
                parts.push(Part::Placeholder(format!("${{bindParam:{parameter}}}")));
                if !suffix.is_empty() {
                    parts.push(Part::Text(self.clean(suffix)));
                }
                Written { parts }
            }
            ItemChoice::UserId { prefix } if !self.cedar && !environment_condition => {
                let prefix = self.clean(pick_str(&AFFIXES, *prefix));
                self.remember(name, &format!("{prefix}uid-0"));
                Written {
                    parts: vec![
                        Part::Text(prefix),
                        Part::Placeholder("${global:userId}".to_owned()),
                    ],
                }
            }
            ItemChoice::UserEmail { prefix } if !self.cedar && !environment_condition => {
                let prefix = self.clean(pick_str(&AFFIXES, *prefix));
                self.remember(name, &format!("{prefix}alice@example.com"));
                Written {
                    parts: vec![
                        Part::Text(prefix),
                        Part::Placeholder("${global:userEmail}".to_owned()),
                    ],
                }
            }
            ItemChoice::EnvironmentId { prefix } if !self.cedar => {
                let prefix = if environment_condition {
                    String::new()
                } else {
                    self.clean(pick_str(&AFFIXES, *prefix))
                };
                self.remember(name, &format!("{prefix}env-prod"));
                Written {
                    parts: vec![
                        Part::Text(prefix),
                        Part::Placeholder("${global:environmentId}".to_owned()),
                    ],
                }
            }
            ItemChoice::UserGroup if list && !self.cedar && !environment_condition => Written {
                parts: vec![Part::Placeholder("${global:userGroup}".to_owned())],
            },
            ItemChoice::Short(short) if !environment_condition => {
                let value = self.clean(short);
                self.remember(name, &value);
                text(value)
            }
            ItemChoice::Literal(selector)
            | ItemChoice::Parameter { name: selector, .. }
            | ItemChoice::UserId { prefix: selector }
            | ItemChoice::UserEmail { prefix: selector }
            | ItemChoice::EnvironmentId { prefix: selector } => {
                let value = if environment_condition {
                    pick_str(
                        &[ENVIRONMENTS[0], ENVIRONMENTS[1], UNKNOWN_ENVIRONMENT],
                        *selector,
                    )
                    .to_owned()
                } else {
                    self.clean(pick_str(&LITERALS, *selector))
                };
                self.remember(name, &value);
                text(value)
            }
            ItemChoice::UserGroup | ItemChoice::Short(_) => {
                let value = if environment_condition {
                    ENVIRONMENTS[1].to_owned()
                } else {
                    "g1".to_owned()
                };
                self.remember(name, &value);
                text(value)
            }
        }
    }

    /// A value as the case may use it: a Cedar-friendly case has no `?` (Cedar's `like` has no
    /// one-character wildcard).
    fn clean(&self, value: &str) -> String {
        if self.cedar {
            value.replace('?', "")
        } else {
            value.to_owned()
        }
    }

    /// Adds a literal, and values that match it as a prefix or a pattern, to the request pool.
    fn remember(&mut self, attribute: &str, value: &str) {
        for key in ["", attribute] {
            let pool = self.pools.entry(key.to_owned()).or_default();
            pool.insert(value.to_owned());
            pool.insert(format!("{value}b"));
            pool.insert(instance(value));
        }
    }

    fn parameter(&mut self, name: &str, whole_list_items: bool, choice: &ParamChoice) -> Param {
        let mut values: Vec<String> = choice
            .values
            .iter()
            .map(|(from_table, selector, short)| match name {
                DAY_PARAMETER | DAYS_PARAMETER => pick_str(&WEEK_DAYS, *selector).to_owned(),
                DATE_PARAMETER => {
                    let day = u8::try_from(usize::from(*selector) % 8).unwrap_or(0);
                    format!(
                        "2026-05-0{}{}",
                        day + 1,
                        pick_str(&ZONES, selector.wrapping_mul(7))
                    )
                }
                _ if *from_table => self.clean(pick_str(&LITERALS, *selector)),
                _ => self.clean(short),
            })
            .collect();
        if choice.long && matches!(name, DAYS_PARAMETER) {
            values.extend(WEEK_DAYS.iter().cycle().take(20).map(|d| (*d).to_owned()));
        } else if choice.long && PARAMETERS.contains(&name) {
            values.extend((0..20).map(|i| format!("v{i}")));
        }
        let attributes: Vec<String> = self
            .parameter_attributes
            .get(name)
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default();
        for value in &values {
            for attribute in &attributes {
                self.remember(attribute, value);
            }
        }
        match values.first() {
            Some(first) if !(choice.many && whole_list_items) => Param::One(first.clone()),
            _ => Param::Many(values),
        }
    }

    fn request(
        &self,
        choice: &RequestChoice,
        world: &World,
        named: &[BTreeSet<String>],
    ) -> Request {
        let (principal, index) = pick(&PRINCIPAL_KEYS, choice.principal)
            .copied()
            .unwrap_or(("uid-0", Some(0)));
        let environment = match choice.environment % 20 {
            0..=4 => None,
            5..=11 => Some(ENVIRONMENTS[0].to_owned()),
            12..=18 => Some(ENVIRONMENTS[1].to_owned()),
            _ => Some(UNKNOWN_ENVIRONMENT.to_owned()),
        };
        // Mostly a permission that a policy bound to the principal's groups names, at a level
        // that applies to the request.
        let mut reachable = BTreeSet::new();
        if let Some(principal) = index.and_then(|i| world.principals.get(i)) {
            for binding in &world.bindings {
                let applies = match &binding.level {
                    Level::Environment(env) => environment.as_ref() == Some(env),
                    _ => true,
                };
                if applies
                    && principal.groups.contains(&binding.group)
                    && let Some(position) =
                        world.policies.iter().position(|p| p.id == binding.policy)
                    && let Some(names) = named.get(position)
                {
                    reachable.extend(names.iter().cloned());
                }
            }
        }
        let named: Vec<String> = reachable.into_iter().collect();
        let permission = if choice.from_world && !named.is_empty() {
            let permission = pick(&named, choice.permission).cloned().unwrap_or_default();
            const VIEWER: &str = "environment:roles:viewer";
            if !permission.starts_with("environment:roles:") {
                permission
            } else if choice.permission.is_multiple_of(3) {
                // Often ask for the viewer role that every other role implies (an ALLOW of a
                // role grants it).
                VIEWER.to_owned()
            } else if permission == VIEWER && choice.permission % 3 == 1 {
                // And for a role implying it, which a DENY of the viewer role denies.
                let roles: Vec<&str> = PERMISSIONS
                    .iter()
                    .copied()
                    .filter(|p| p.starts_with("environment:roles:") && *p != VIEWER)
                    .collect();
                pick_str(&roles, choice.permission / 3).to_owned()
            } else {
                permission
            }
        } else {
            let mut all: Vec<&str> = PERMISSIONS.to_vec();
            all.push(UNKNOWN_PERMISSION);
            pick_str(&all, choice.permission).to_owned()
        };
        let mut attributes = BTreeMap::new();
        // Mostly the attributes the world's conditions read, with values those conditions use.
        let used: Vec<&str> = self
            .pools
            .keys()
            .map(String::as_str)
            .filter(|name| ATTRIBUTES.contains(name) && *name != "global:environmentId")
            .collect();
        let general: Vec<&String> = self
            .pools
            .get("")
            .map(|pool| pool.iter().collect())
            .unwrap_or_default();
        for attribute in &choice.attributes {
            let name = if attribute.name.is_multiple_of(8) || used.is_empty() {
                pick_str(&ATTRIBUTES, attribute.name / 8)
            } else {
                pick_str(&used, attribute.name)
            };
            let own: Vec<&String> = self
                .pools
                .get(name)
                .map(|pool| pool.iter().collect())
                .unwrap_or_default();
            let mut values: Vec<String> = attribute
                .values
                .iter()
                .map(|(from_pool, selector, short)| {
                    let pool = if selector.is_multiple_of(4) || own.is_empty() {
                        &general
                    } else {
                        &own
                    };
                    match pick(pool, *selector / 4) {
                        Some(value) if *from_pool => (*value).clone(),
                        _ => self.clean(short),
                    }
                })
                .collect();
            let single = self.cedar && SINGLE_VALUED.contains(&name);
            let first = values.first().cloned().unwrap_or_default();
            let value = match attribute.shape {
                0 => AttrValue::One(first),
                1 => AttrValue::Many(Vec::new()),
                2 => AttrValue::Many(vec![first]),
                _ if single => AttrValue::One(first),
                _ => {
                    values.dedup();
                    AttrValue::Many(values)
                }
            };
            attributes.insert(name.to_owned(), value);
        }
        Request {
            principal: principal.to_owned(),
            permission,
            environment,
            attributes,
            time: choice.time,
        }
    }
}

/// The operators a boundary condition may use: any that some permission supporting the
/// condition allows (or the global condition's). Computed once per name.
fn boundary_operators(catalogue: &Catalogue, name: &str) -> Vec<Operator> {
    static CACHE: OnceLock<BTreeMap<&'static str, Vec<Operator>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        BOUNDARY_NAMES
            .iter()
            .chain(&GLOBAL_NAMES)
            .map(|name| {
                let operators: BTreeSet<Operator> = match catalogue.global_condition(name) {
                    Some(spec) => spec.operators.iter().collect(),
                    None => catalogue
                        .permissions()
                        .filter_map(|p| p.condition(name))
                        .flat_map(|spec| spec.operators.iter())
                        .collect(),
                };
                (*name, operators.into_iter().collect())
            })
            .collect()
    });
    cache.get(name).cloned().unwrap_or_default()
}

fn note_use(uses: &mut ParameterUses, parameter: &str, whole_list_item: bool) {
    let entry = uses.entry(parameter.to_owned()).or_insert(true);
    *entry &= whole_list_item;
}

/// A value that a glob pattern matches: `*` as nothing, `?` as `q`, `\*` and `\?` as themselves.
fn instance(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next_if(|n| *n == '*' || *n == '?') {
                Some(escaped) => out.push(escaped),
                None => out.push('\\'),
            },
            '*' => {}
            '?' => out.push('q'),
            c => out.push(c),
        }
    }
    out
}

/// A valid literal of a time condition.
fn time_literal(name: &str, time: &TimeChoice) -> String {
    let zone = pick_str(&ZONES, time.zone);
    let clock = match time.seconds {
        Some(seconds) => format!("{:02}:{:02}:{seconds:02}", time.hour, time.minute),
        None => format!("{:02}:{:02}", time.hour, time.minute),
    };
    match name {
        "global:date" => format!("2026-05-0{}{zone}", time.day + 1),
        "global:date-time" => {
            let zone = if zone.is_empty() { "Z" } else { zone };
            let separator = if time.hour.is_multiple_of(5) {
                "t"
            } else {
                "T"
            };
            format!("2026-05-0{}{separator}{clock}{zone}", time.day + 1)
        }
        "global:time-of-day" => format!("{clock}{zone}"),
        _ => pick_str(&WEEK_DAYS, u16::from(time.day) + u16::from(time.hour)).to_owned(),
    }
}

/// The operator as written: keywords in any case.
fn spell(operator: Operator, style: u8) -> &'static str {
    let upper = style & 32 == 0;
    match (operator, upper) {
        (Operator::In, true) => "IN",
        (Operator::In, false) => "in",
        (Operator::NotIn, true) => "NOT IN",
        (Operator::NotIn, false) => "not  in",
        (Operator::StartsWith, true) => "startsWith",
        (Operator::StartsWith, false) => "STARTSWITH",
        (Operator::NotStartsWith, true) => "NOT startsWith",
        (Operator::NotStartsWith, false) => "not startswith",
        (Operator::Match, true) => "MATCH",
        (Operator::Match, false) => "match",
        (other, _) => other.as_str(),
    }
}

/// A string literal: double or single quotes, escapes for the quote, `\` and `$`.
fn quote(parts: &[Part], style: u8) -> String {
    let quote = if style & 64 == 0 { '"' } else { '\'' };
    let escape_every_dollar = style & 128 == 0;
    let mut out = String::new();
    out.push(quote);
    for (index, part) in parts.iter().enumerate() {
        match part {
            Part::Placeholder(placeholder) => out.push_str(placeholder),
            Part::Text(text) => {
                let next_is_placeholder =
                    matches!(parts.get(index + 1), Some(Part::Placeholder(_)));
                let mut chars = text.chars().peekable();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        c if c == quote => {
                            out.push('\\');
                            out.push(c);
                        }
                        '$' if escape_every_dollar
                            || chars.peek() == Some(&'{')
                            || (chars.peek().is_none() && next_is_placeholder) =>
                        {
                            out.push_str("\\$");
                        }
                        c => out.push(c),
                    }
                }
            }
        }
    }
    out.push(quote);
    out
}
