//! A world and its requests as plain data: texts, ids and flags, nothing compiled. The reference
//! evaluator reads this directly; [`crate::engine`] and [`crate::cedar`] build the engine's and
//! Cedar's view of the same world from it.

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
