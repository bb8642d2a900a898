//! The shape of a policy test file (SPEC §11), read from YAML nodes into located values.
//!
//! This module checks the shape only (known keys, strings where strings belong, required keys).
//! Whether the names resolve, the policies parse and the cases make sense is for
//! [`super::world`] and [`super::cases`]. A section whose shape is wrong is marked incomplete, so
//! that later checks do not report every reference to it as unknown.

use marked_yaml::{Node, Spanned};

use super::report::{Pos, Problem};
use super::yaml::{Fields, OneOrMany, Reader, Text, is_null, node_pos};

const TOP_KEYS: &[&str] = &[
    "services",
    "environments",
    "boundaries",
    "policies",
    "groups",
    "users",
    "service_users",
    "deactivated",
    "workflows",
    "consent",
    "cases",
    // The account's AuthZEN mapping: applied by `warden apply`, not part of the world a test
    // decides in.
    "authzen",
];
const AUTHZEN_KEYS: &[&str] = &[
    "actions",
    "resource_properties",
    "subject_properties",
    "context_properties",
];
const SERVICE_KEYS: &[&str] = &["conditions", "permissions"];
const BINDING_KEYS: &[&str] = &[
    "policy",
    "level",
    "parameters",
    "boundaries",
    "justification",
];
const WORKFLOW_KEYS: &[&str] = &["owner", "actor", "environment"];
const CASE_KEYS: &[&str] = &[
    "principal",
    "workflow",
    "permission",
    "environment",
    "attributes",
    "time",
    "expect",
];

#[derive(Debug, Default)]
pub(super) struct TestFile {
    pub services: Vec<ServiceDef>,
    pub environments: Vec<Text>,
    pub boundaries: Vec<NamedText>,
    pub policies: Vec<NamedText>,
    pub groups: Vec<GroupDef>,
    pub users: Vec<MemberDef>,
    pub service_users: Vec<MemberDef>,
    pub deactivated: Vec<Text>,
    pub workflows: Vec<WorkflowDef>,
    pub consent: Vec<ConsentDef>,
    pub cases: Vec<CaseDef>,
    /// `authzen:`, when the file has it.
    pub authzen: Option<AuthzenDef>,
    /// Which sections were read completely.
    pub complete: Complete,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Complete {
    pub services: bool,
    pub environments: bool,
    pub boundaries: bool,
    pub policies: bool,
    pub groups: bool,
    pub principals: bool,
    pub workflows: bool,
}

impl Default for Complete {
    fn default() -> Self {
        Complete {
            services: true,
            environments: true,
            boundaries: true,
            policies: true,
            groups: true,
            principals: true,
            workflows: true,
        }
    }
}

#[derive(Debug)]
pub(super) struct ServiceDef {
    pub name: Text,
    /// Condition → its operators.
    pub conditions: Vec<(Text, Vec<Text>)>,
    /// Permission → the conditions it supports.
    pub permissions: Vec<(Text, Vec<Text>)>,
}

/// A named policy or boundary text; `text` is `None` when it was not a string.
#[derive(Debug)]
pub(super) struct NamedText {
    pub name: Text,
    pub text: Option<Text>,
}

#[derive(Debug)]
pub(super) struct GroupDef {
    pub name: Text,
    pub bindings: Vec<BindingDef>,
}

#[derive(Debug)]
pub(super) struct BindingDef {
    pub at: Pos,
    pub policy: Option<Text>,
    pub level: Option<Text>,
    pub parameters: Vec<(Text, Spanned<OneOrMany>)>,
    pub boundaries: Vec<Text>,
    pub boundaries_at: Pos,
    /// Why the binding is needed: kept in its metadata when it is made.
    pub justification: Option<Text>,
}

/// A user (email) or service user (name) with the groups it belongs to.
#[derive(Debug)]
pub(super) struct MemberDef {
    pub name: Text,
    pub groups: Vec<Text>,
}

/// A workflow (SPEC §9): whose it is, as whom its tasks run, and where.
#[derive(Debug)]
pub(super) struct WorkflowDef {
    pub name: Text,
    /// A user or service user (as cases name them), or a group by name.
    pub owner: Option<Text>,
    /// A user or service user; the owner when not given.
    pub actor: Option<Text>,
    pub environment: Option<Text>,
}

/// What one user consented to: environment → the permissions the automation engine may use as
/// them there.
#[derive(Debug)]
pub(super) struct ConsentDef {
    pub user: Text,
    pub environments: Vec<(Text, Vec<Text>)>,
}

#[derive(Debug)]
pub(super) struct CaseDef {
    /// 1-based.
    pub index: usize,
    pub at: Pos,
    pub principal: Option<Text>,
    /// A task of this workflow, decided for its actor in its environment.
    pub workflow: Option<Text>,
    pub permission: Option<Text>,
    pub environment: Option<Text>,
    pub attributes: Vec<(Text, Spanned<OneOrMany>)>,
    pub time: Option<Text>,
    pub expect: Option<Text>,
}

/// Whether a file must have `cases:`: a test file must, a world file (the desired state of an
/// account, for `warden plan` and `warden apply`) need not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cases {
    Required,
    Optional,
}

/// Reads the root mapping of a test file.
pub(super) fn read(root: &Node, reader: &mut Reader, cases: Cases) -> Option<TestFile> {
    let fields = reader.fields(root, "a test file", TOP_KEYS)?;
    let mut file = TestFile::default();
    if let Some(node) = fields.get("services") {
        file.complete.services = read_services(node, reader, &mut file.services);
    }
    if let Some(node) = fields.get("environments") {
        match reader.strings(node, "`environments`") {
            Some(list) => file.environments = list,
            None => file.complete.environments = false,
        }
    }
    if let Some(node) = fields.get("boundaries") {
        file.complete.boundaries = read_texts(node, "boundary", reader, &mut file.boundaries);
    }
    if let Some(node) = fields.get("policies") {
        file.complete.policies = read_texts(node, "policy", reader, &mut file.policies);
    }
    if let Some(node) = fields.get("groups") {
        file.complete.groups = read_groups(node, reader, &mut file.groups);
    }
    if let Some(node) = fields.get("users") {
        file.complete.principals &= read_members(node, "user", reader, &mut file.users);
    }
    if let Some(node) = fields.get("service_users") {
        file.complete.principals &=
            read_members(node, "service user", reader, &mut file.service_users);
    }
    if let Some(node) = fields.get("deactivated") {
        file.deactivated = reader.strings(node, "`deactivated`").unwrap_or_default();
    }
    if let Some(node) = fields.get("workflows") {
        file.complete.workflows = read_workflows(node, reader, &mut file.workflows);
    }
    if let Some(node) = fields.get("consent") {
        read_consent(node, reader, &mut file.consent);
    }
    if let Some(node) = fields.get("authzen") {
        file.authzen = read_authzen(node, reader);
    }
    match fields.get("cases") {
        Some(node) => read_cases(node, reader, &mut file.cases),
        None if cases == Cases::Optional => {}
        None => reader.error(
            Problem::new(fields.pos(), "the file has no `cases:`")
                .with_help("add a `cases:` list of requests with the decision each must get"),
        ),
    }
    Some(file)
}

fn read_services(node: &Node, reader: &mut Reader, out: &mut Vec<ServiceDef>) -> bool {
    let Some(entries) = reader.entries(node, "`services`") else {
        return false;
    };
    let mut complete = true;
    for (name, value) in entries {
        let what = format!("service `{}`", name.as_str());
        let Some(fields) = reader.fields(value, &what, SERVICE_KEYS) else {
            complete = false;
            continue;
        };
        let mut service = ServiceDef {
            name,
            conditions: Vec::new(),
            permissions: Vec::new(),
        };
        complete &= read_lists(
            &fields,
            "conditions",
            &what,
            "operators",
            reader,
            &mut service.conditions,
        );
        complete &= read_lists(
            &fields,
            "permissions",
            &what,
            "conditions",
            reader,
            &mut service.permissions,
        );
        out.push(service);
    }
    complete
}

/// `key: { name: [item, …] }` inside `fields`.
fn read_lists(
    fields: &Fields<'_>,
    key: &str,
    what: &str,
    items: &str,
    reader: &mut Reader,
    out: &mut Vec<(Text, Vec<Text>)>,
) -> bool {
    let Some(node) = fields.get(key) else {
        return true;
    };
    let Some(entries) = reader.entries(node, &format!("`{key}` of {what}")) else {
        return false;
    };
    let mut complete = true;
    for (name, value) in entries {
        match reader.strings(value, &format!("the {items} of `{}`", name.as_str())) {
            Some(list) => out.push((name, list)),
            None => complete = false,
        }
    }
    complete
}

/// `authzen:`: each section (`actions`, `resource_properties`, …) with its `(name, target)`
/// pairs.
pub(super) type AuthzenDef = Vec<(&'static str, Vec<(Text, Text)>)>;

/// The AuthZEN mapping's sections, each a mapping of names to strings.
fn read_authzen(node: &Node, reader: &mut Reader) -> Option<AuthzenDef> {
    let fields = reader.fields(node, "`authzen`", AUTHZEN_KEYS)?;
    let mut out = Vec::new();
    for section in AUTHZEN_KEYS {
        let Some(value) = fields.get(section) else {
            continue;
        };
        let mut pairs = Vec::new();
        for (name, target) in reader
            .entries(value, &format!("`authzen.{section}`"))
            .unwrap_or_default()
        {
            let what = format!("what `authzen.{section}` maps `{}` to", name.as_str());
            if let Some(target) = reader.string(target, &what) {
                pairs.push((name, target));
            }
        }
        out.push((*section, pairs));
    }
    Some(out)
}

fn read_texts(node: &Node, kind: &str, reader: &mut Reader, out: &mut Vec<NamedText>) -> bool {
    let Some(entries) = reader.entries(node, &format!("`{kind}` definitions")) else {
        return false;
    };
    for (name, value) in entries {
        let text = reader.string(value, &format!("the text of {kind} `{}`", name.as_str()));
        out.push(NamedText { name, text });
    }
    true
}

fn read_groups(node: &Node, reader: &mut Reader, out: &mut Vec<GroupDef>) -> bool {
    let Some(entries) = reader.entries(node, "`groups`") else {
        return false;
    };
    for (name, value) in entries {
        let what = format!("the bindings of group `{}`", name.as_str());
        let mut bindings = Vec::new();
        for item in reader.items(value, &what).unwrap_or_default() {
            let what = format!("a binding of group `{}`", name.as_str());
            if let Some(binding) = read_binding(item, &what, reader) {
                bindings.push(binding);
            }
        }
        out.push(GroupDef { name, bindings });
    }
    true
}

fn read_binding(node: &Node, what: &str, reader: &mut Reader) -> Option<BindingDef> {
    let fields = reader.fields(node, what, BINDING_KEYS)?;
    let policy = match fields.get("policy") {
        Some(node) => reader.string(node, "`policy`"),
        None => {
            reader.error(
                Problem::new(fields.pos(), format!("{what} has no `policy`"))
                    .with_help("name the policy to bind: `policy: Standard User`"),
            );
            None
        }
    };
    let level = fields
        .get("level")
        .filter(|n| !is_null(n))
        .and_then(|n| reader.string(n, "`level`"));
    let parameters = fields
        .get("parameters")
        .map(|n| read_values(n, "`parameters`", "parameter", reader))
        .unwrap_or_default();
    let boundaries = fields
        .get("boundaries")
        .and_then(|n| reader.strings(n, "`boundaries`"))
        .unwrap_or_default();
    let justification = fields
        .get("justification")
        .filter(|n| !is_null(n))
        .and_then(|n| reader.string(n, "`justification`"));
    Some(BindingDef {
        at: fields.pos(),
        policy,
        level,
        parameters,
        boundaries,
        boundaries_at: fields.key_pos("boundaries"),
        justification,
    })
}

/// `{ name: string-or-list }`: bind parameters and request attributes.
fn read_values(
    node: &Node,
    what: &str,
    item: &str,
    reader: &mut Reader,
) -> Vec<(Text, Spanned<OneOrMany>)> {
    let mut out = Vec::new();
    for (name, value) in reader.entries(node, what).unwrap_or_default() {
        let what = format!("{item} `{}`", name.as_str());
        if let Some(value) = reader.one_or_many(value, &what) {
            out.push((name, value));
        }
    }
    out
}

fn read_members(node: &Node, kind: &str, reader: &mut Reader, out: &mut Vec<MemberDef>) -> bool {
    let Some(entries) = reader.entries(node, &format!("the {kind}s")) else {
        return false;
    };
    for (name, value) in entries {
        let what = format!("the groups of {kind} `{}`", name.as_str());
        let groups = reader.strings(value, &what).unwrap_or_default();
        out.push(MemberDef { name, groups });
    }
    true
}

fn read_workflows(node: &Node, reader: &mut Reader, out: &mut Vec<WorkflowDef>) -> bool {
    let Some(entries) = reader.entries(node, "`workflows`") else {
        return false;
    };
    let mut complete = true;
    for (name, value) in entries {
        let what = format!("workflow `{}`", name.as_str());
        let Some(fields) = reader.fields(value, &what, WORKFLOW_KEYS) else {
            complete = false;
            continue;
        };
        let mut field = |key: &str| {
            fields
                .get(key)
                .filter(|n| !is_null(n))
                .and_then(|n| reader.string(n, &format!("`{key}` of {what}")))
        };
        let owner = field("owner");
        let actor = field("actor");
        let environment = field("environment");
        if environment.is_none() && fields.get("environment").is_none_or(is_null) {
            reader.error(
                Problem::new(fields.pos(), format!("{what} has no `environment`"))
                    .with_help("add `environment: env-prod`: the environment its tasks run in"),
            );
        }
        out.push(WorkflowDef {
            name,
            owner,
            actor,
            environment,
        });
    }
    complete
}

fn read_consent(node: &Node, reader: &mut Reader, out: &mut Vec<ConsentDef>) {
    for (user, value) in reader.entries(node, "`consent`").unwrap_or_default() {
        let what = format!("the consent of `{}`", user.as_str());
        let mut environments = Vec::new();
        for (environment, permissions) in reader.entries(value, &what).unwrap_or_default() {
            let what = format!(
                "the permissions `{}` consented to in `{}`",
                user.as_str(),
                environment.as_str()
            );
            if let Some(list) = reader.strings(permissions, &what) {
                environments.push((environment, list));
            }
        }
        out.push(ConsentDef { user, environments });
    }
}

fn read_cases(node: &Node, reader: &mut Reader, out: &mut Vec<CaseDef>) {
    let Some(items) = reader.items(node, "`cases`") else {
        return;
    };
    if items.is_empty() {
        reader.error(
            Problem::new(node_pos(node), "`cases` is empty").with_help(
                "add at least one case; a test file that tests nothing would always pass",
            ),
        );
    }
    for (index, item) in items.into_iter().enumerate() {
        let Some(fields) = reader.fields(item, "a case", CASE_KEYS) else {
            continue;
        };
        // A case names a principal, or a workflow whose actor the task runs as.
        let workflow = fields
            .get("workflow")
            .and_then(|n| reader.string(n, "`workflow`"));
        let principal = match fields.get("principal") {
            Some(node) => reader.string(node, "`principal`"),
            None if fields.get("workflow").is_some() => None,
            None => {
                reader.error(
                    Problem::new(fields.pos(), format!("case {} has no `principal`", index + 1))
                        .with_help(
                            "add `principal: alice@example.com`, or `workflow: NAME` for a task of a workflow",
                        ),
                );
                None
            }
        };
        // A task of a workflow runs as its actor, in its environment: a case that also names a
        // principal or an environment would be ambiguous.
        if fields.get("workflow").is_some() {
            for key in ["principal", "environment"] {
                if fields.get(key).is_some() {
                    reader.error(
                        Problem::new(
                            fields.key_pos(key),
                            format!("case {} has both `workflow` and `{key}`", index + 1),
                        )
                        .with_help(format!(
                            "remove `{key}`: a task of a workflow runs as the workflow's actor, in the workflow's environment"
                        )),
                    );
                }
            }
        }
        let mut required = |key: &str, example: &str| match fields.get(key) {
            Some(node) => reader.string(node, &format!("`{key}`")),
            None => {
                reader.error(
                    Problem::new(fields.pos(), format!("case {} has no `{key}`", index + 1))
                        .with_help(format!("add `{key}: {example}`")),
                );
                None
            }
        };
        let permission = required("permission", "storage:logs:read");
        let expect = required("expect", "allow");
        let mut optional = |key: &str| {
            fields
                .get(key)
                .filter(|n| !is_null(n))
                .and_then(|n| reader.string(n, &format!("`{key}`")))
        };
        let environment = optional("environment");
        let time = optional("time");
        let attributes = fields
            .get("attributes")
            .map(|n| read_values(n, "`attributes`", "attribute", reader))
            .unwrap_or_default();
        out.push(CaseDef {
            index: index + 1,
            at: fields.pos(),
            principal,
            workflow,
            permission,
            environment,
            attributes,
            time,
            expect,
        });
    }
}
