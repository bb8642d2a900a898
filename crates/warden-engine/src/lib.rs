//! Warden's decision engine (SPEC §3–§5) and its built-in content (SPEC §6).
//!
//! Pure library: no IO, no async, no clock. Time comes in with each request.
//!
//! - [`directory`]: the source model of one account (principals, groups, policies, bindings, …);
//! - [`snapshot`]: compiled, immutable snapshots and decisions; [`explain`] and [`effective`] build
//!   on them;
//! - [`builtin`]: the catalogue, global policies and default groups shipped in `data/`;
//! - [`residual`]: residual policies, the condition on the attributes a request left open;
//! - [`testfile`]: policy test files (SPEC §11); [`naming`]: service-user handles (SPEC §7).

pub mod builtin;
pub mod compile;
pub mod condition;
pub mod cowmap;
pub mod directory;
pub mod effective;
pub mod escalation;
pub mod explain;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod held;
pub mod impact;
pub mod naming;
pub mod params;
pub mod residual;
pub mod snapshot;
pub mod suggest;
pub mod testfile;
pub mod workflow;

pub use builtin::{Builtin, BuiltinError, DefaultGroup, GlobalPolicy};
pub use condition::{AttributeSource, AttributeValue, AttributeValues, Attributes};
pub use directory::{
    Binding, BoundaryRecord, Directory, DirectoryError, Group, Id, Level, PolicyRecord, Principal,
    PrincipalKind,
};
pub use effective::{EffectivePermissions, Entity};
pub use explain::Explanation;
pub use params::ParamValue;
pub use residual::{Predicate, Residual, ResidualDecision, ResidualError, ResidualRequest};
pub use snapshot::{Decision, Outcome, Reason, Request, Snapshot, SnapshotCell};
