//! A world and its requests as plain data: texts, ids and flags, nothing compiled. The reference
//! evaluator reads this directly; [`crate::engine`] and [`crate::cedar`] build the engine's and
//! Cedar's view of the same world from it. A write to a world, and who makes it, are plain data
//! too (the no-escalation tests).

use std::collections::BTreeMap;
use std::fmt;

/// Where a policy is defined, or where a binding applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// A built-in policy (policies only).
    Global,
    Account,
    Environment(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDef {
    pub id: String,
    pub level: Level,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundaryDef {
    pub id: String,
    pub text: String,
}

/// A bind parameter's value: one string, or a list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Param {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingDef {
    pub group: String,
    pub policy: String,
    /// `Account` or `Environment`.
    pub level: Level,
    pub parameters: BTreeMap<String, Param>,
    /// Boundary ids.
    pub boundaries: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalDef {
    pub uid: String,
    /// Lower case.
    pub email: String,
    /// Service users only.
    pub handle: Option<String>,
    pub active: bool,
    /// Group ids (each an existing group, no repetition).
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    pub account: String,
    pub environments: Vec<String>,
    pub groups: Vec<String>,
    pub policies: Vec<PolicyDef>,
    pub boundaries: Vec<BoundaryDef>,
    pub bindings: Vec<BindingDef>,
    pub principals: Vec<PrincipalDef>,
}

/// A request attribute: one string or a list (an empty list counts as missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    One(String),
    Many(Vec<String>),
}

impl AttrValue {
    pub fn values(&self) -> &[String] {
        match self {
            AttrValue::One(value) => std::slice::from_ref(value),
            AttrValue::Many(values) => values,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// A uid, an email (any case) or a service-user handle; or a name nobody answers to.
    pub principal: String,
    pub permission: String,
    /// `None` for an account-level request.
    pub environment: Option<String>,
    pub attributes: BTreeMap<String, AttrValue>,
    /// Seconds since the epoch, UTC.
    pub time: i64,
}

/// A world and requests to decide in it: one differential test case.
#[derive(Clone, PartialEq, Eq)]
pub struct Case {
    pub world: World,
    pub requests: Vec<Request>,
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
}

// A failing case is printed by proptest with `{:?}`: show the texts as they would be written.
impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let world = &self.world;
        writeln!(f, "Case {{")?;
        writeln!(f, "  environments: {:?}", world.environments)?;
        for policy in &world.policies {
            writeln!(f, "  policy {} ({:?}):", policy.id, policy.level)?;
            for line in policy.text.lines() {
                writeln!(f, "    {line}")?;
            }
        }
        for boundary in &world.boundaries {
            writeln!(f, "  boundary {}:", boundary.id)?;
            for line in boundary.text.lines() {
                writeln!(f, "    {line}")?;
            }
        }
        for binding in &world.bindings {
            writeln!(
                f,
                "  binding: group {} policy {} at {:?} parameters {:?} boundaries {:?}",
                binding.group,
                binding.policy,
                binding.level,
                binding.parameters,
                binding.boundaries
            )?;
        }
        for principal in &world.principals {
            writeln!(f, "  principal: {principal:?}")?;
        }
        for request in &self.requests {
            writeln!(f, "  request: {request:?}")?;
        }
        write!(f, "}}")
    }
}

/// One write to a world, as one API call makes it (SPEC §6: every kind of write may grant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Adds a policy, or replaces the one with that id.
    PutPolicy(PolicyDef),
    /// Deletes a policy with its bindings (a forced delete).
    DeletePolicy(String),
    /// Adds a binding, or replaces the one of the same identity (level, policy, group,
    /// parameters): how a binding's boundaries are changed.
    Bind(BindingDef),
    /// Removes the binding of that identity (its boundaries are not compared).
    Unbind(BindingDef),
    /// Adds a boundary, or replaces the one with that id.
    PutBoundary(BoundaryDef),
    DeleteBoundary(String),
    /// Replaces a principal's memberships (a member added to or removed from a group).
    SetGroups {
        uid: String,
        groups: Vec<String>,
    },
    /// Deletes a group with its bindings.
    DeleteGroup(String),
    /// Deactivates or reactivates a principal.
    SetActive {
        uid: String,
        active: bool,
    },
    /// Creates a principal in some groups.
    CreatePrincipal(PrincipalDef),
}

impl fmt::Display for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let binding = |b: &BindingDef| {
            format!(
                "group {} policy {} at {:?} parameters {:?} boundaries {:?}",
                b.group, b.policy, b.level, b.parameters, b.boundaries
            )
        };
        match self {
            Write::PutPolicy(policy) => {
                writeln!(f, "put policy {} ({:?}):", policy.id, policy.level)?;
                for line in policy.text.lines() {
                    writeln!(f, "    {line}")?;
                }
                Ok(())
            }
            Write::DeletePolicy(id) => write!(f, "delete policy {id} (forced)"),
            Write::Bind(b) => write!(f, "bind: {}", binding(b)),
            Write::Unbind(b) => write!(f, "unbind: {}", binding(b)),
            Write::PutBoundary(boundary) => {
                writeln!(f, "put boundary {}:", boundary.id)?;
                for line in boundary.text.lines() {
                    writeln!(f, "    {line}")?;
                }
                Ok(())
            }
            Write::DeleteBoundary(id) => write!(f, "delete boundary {id}"),
            Write::SetGroups { uid, groups } => write!(f, "set the groups of {uid} to {groups:?}"),
            Write::DeleteGroup(id) => write!(f, "delete group {id}"),
            Write::SetActive { uid, active } => write!(f, "set {uid} active={active}"),
            Write::CreatePrincipal(principal) => write!(f, "create principal {principal:?}"),
        }
    }
}

/// Who makes a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorDef {
    /// A uid of the world.
    pub principal: String,
    /// The permissions the author's token may use; `None`: no such limit.
    pub scopes: Option<Vec<String>>,
    /// The author holds every permission of the catalogue, at every level, without condition
    /// and without any DENY, and has no scopes: no write can give anyone more.
    pub full: bool,
    /// What kind of author it is, for the counts (`delegate`, `administrator`, …).
    pub kind: &'static str,
}

/// Request attributes and a time, to ask every (principal, permission, level) with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub attributes: BTreeMap<String, AttrValue>,
    /// Seconds since the epoch, UTC.
    pub time: i64,
}

/// A world, one write to it by an author, and probes: one no-escalation test case.
#[derive(Clone, PartialEq, Eq)]
pub struct EscalationCase {
    pub world: World,
    /// What kind of write it is, for the counts (`edit policy: drop a DENY`, …).
    pub kind: &'static str,
    pub write: Write,
    pub author: AuthorDef,
    pub probes: Vec<Probe>,
    /// Values worth giving each request attribute: those the world's and the write's conditions
    /// on it use, and values that match them; under `""`, those of every attribute.
    pub values: BTreeMap<String, Vec<String>>,
}

impl fmt::Debug for EscalationCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut world = Case {
            world: self.world.clone(),
            requests: Vec::new(),
        };
        // An administrator's policy names the whole catalogue: shown by its start.
        for policy in &mut world.world.policies {
            if policy.text.len() > 500 {
                let start: String = policy.text.chars().take(120).collect();
                policy.text = format!("{start} … ({} characters)", policy.text.len());
            }
        }
        writeln!(f, "{world:?}")?;
        writeln!(f, "write ({}): {}", self.kind, self.write)?;
        writeln!(f, "author: {:?}", self.author)?;
        write!(f, "{} probes", self.probes.len())
    }
}
