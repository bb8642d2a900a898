//! Warden's decision engine (SPEC §3–§5) and its built-in content (SPEC §6).
//!
//! Pure library: no IO, no async, no clock. Time comes in with each request.

pub mod builtin;

pub use builtin::{Builtin, BuiltinError, DefaultGroup, GlobalPolicy};
