//! Warden's wire format: every request and response body of the HTTP API as a typed struct, with
//! its OpenAPI schema (`utoipa::ToSchema`) and the error vocabulary. The server's handlers take and
//! return these types, `/openapi.json` is generated from them, and `warden-client` speaks them, so
//! the contract is written once. Nothing here does IO or knows the HTTP stack.

pub mod audit;
pub mod authzen;
pub mod batch;
pub mod bindings;
pub mod boundaries;
pub mod catalogue;
pub mod csv;
pub mod decisions;
pub mod effective;
pub mod environments;
pub mod error;
pub mod group_permissions;
pub mod groups;
pub mod limits;
pub mod list;
pub mod nullable;
pub mod oauth;
pub mod oauth_clients;
pub mod paging;
pub mod platform_tokens;
pub mod policies;
pub mod residuals;
pub mod scopes;
pub mod service;
pub mod service_users;
pub mod users;
pub mod workflows;

pub use error::{ErrorBody, ErrorCode, ErrorDetail};
pub use list::List;
