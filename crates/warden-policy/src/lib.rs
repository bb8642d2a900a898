//! Warden's policy language (SPEC §2): a hand-written lexer and recursive-descent parser into a
//! typed AST with spans, the canonical formatter, the permission catalogue, and validation of
//! policies and boundaries against it.
//!
//! This crate does no IO, reads no clock and never panics on input: texts come in as `&str`,
//! findings come out as [`Diagnostic`]s with locations.
//!
//! ```
//! use warden_policy::{parse_policy, format_policy};
//!
//! let parsed = parse_policy("allow settings:objects:read where settings:schemaId = 'builtin:x'");
//! assert!(!parsed.has_errors());
//! assert_eq!(
//!     format_policy("allow settings:objects:read where settings:schemaId = 'builtin:x'").unwrap(),
//!     "ALLOW settings:objects:read WHERE settings:schemaId = \"builtin:x\";\n"
//! );
//! ```

pub mod ast;
pub mod catalogue;
pub mod diagnostic;
pub mod format;
#[doc(hidden)]
pub mod fuzz_checks;
pub mod lexer;
pub mod parser;
pub mod span;
pub mod temporal;
pub mod validate;

pub use ast::{
    Condition, Effect, Operator, OperatorSet, Placeholder, Policy, Statement, StringLit, Value,
};
pub use catalogue::{Catalogue, CatalogueError, ServiceFile};
pub use diagnostic::{Code, Diagnostic, LocatedDiagnostic, Severity};
pub use format::{format_boundary, format_policy};
pub use parser::{Boundary, Parsed, parse_boundary, parse_policy};
pub use span::{Span, Spanned};
pub use validate::{check_boundary, check_policy};
