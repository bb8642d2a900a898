//! The service layer: every use case that changes Warden, with no transport in sight.
//!
//! A use case takes an actor ([`Authed`]) and a typed input, and returns a typed output or an
//! [`ApiError`]. It authorises (`iam:*` permissions through Warden's own engine, [`guard`]),
//! validates, plans its change and commits it through [`AppState::write`](crate::state::AppState),
//! which checks the change's effect — no escalation, an administrator always kept — for every
//! use case alike ([`commit`]). The HTTP handlers, the console and start-up only translate to
//! and from these calls; nothing else writes.
//!
//! This layer does not own reading requests or rendering answers (`crate::api`,
//! `crate::console`), the store (`warden_store`) or decisions (`warden_engine`).

pub mod actor;
pub mod bindings;
pub mod boundaries;
pub mod catalogue;
pub mod commit;
pub mod environments;
pub mod error;
pub mod first_start;
pub mod groups;
pub mod guard;
pub mod issuing;
pub mod levels;
pub mod oauth_clients;
pub mod passwords;
pub mod platform_tokens;
pub mod policies;
pub mod service_users;
pub mod users;
pub mod workflows;

pub use actor::{Authed, Caller, RequestContext, Scopes};
pub use commit::Plan;
pub use error::{ApiError, ApiResult, ErrorKind};
