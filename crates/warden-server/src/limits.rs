//! Limits of the public API reference (§3.10) and of Warden's own inputs, with the checks that
//! turn an oversize or malformed input into a 400 naming the limit.

use serde_json::json;

use crate::error::{ApiError, ApiResult};

pub const MAX_USERS: usize = 10_000;
pub const MAX_GROUPS: usize = 5_000;
pub const MAX_GROUPS_PER_USER: usize = 8_000;
pub const MAX_POLICIES: usize = 200;
pub const MAX_BINDINGS_PER_LEVEL: usize = 30_000;
pub const MAX_BOUNDARIES: usize = 2_000;
pub const MAX_PLATFORM_TOKENS_PER_USER: usize = 10;
pub const MAX_OAUTH_CLIENTS: usize = 200;
/// Secrets of one OAuth client that are valid at the same time (rotation needs two).
pub const MAX_ACTIVE_CLIENT_SECRETS: usize = 5;
/// Revoked secrets kept (without their hashes) for the record, per client.
pub const MAX_REVOKED_CLIENT_SECRETS: usize = 20;
/// Unexpired access tokens of one OAuth client; more must wait for some to expire.
pub const MAX_LIVE_ACCESS_TOKENS_PER_CLIENT: usize = 1_000;
/// Permissions in the scopes of one token or client.
pub const MAX_SCOPES: usize = 500;
pub const MAX_BATCH: usize = 1_000;

/// A text field's length in characters, within `min..=max`, without control characters.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> ApiResult<()> {
    let length = value.chars().count();
    if value.trim().chars().count() < min {
        return Err(ApiError::invalid(format!("`{field}` must not be empty")));
    }
    if length > max {
        return Err(ApiError::invalid(format!(
            "`{field}` is {length} characters long; at most {max} are allowed"
        ))
        .with_details(json!({ "field": field, "max": max })));
    }
    if field != "description" && value.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "`{field}` must not contain control characters"
        )));
    }
    Ok(())
}

/// Ids in paths: 1–64 characters of `[A-Za-z0-9._@-]` (no `/`, no `..`, no spaces).
pub fn check_id(field: &str, value: &str) -> ApiResult<()> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value != "."
        && value != ".."
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "`{field}` must be 1–64 characters of letters, digits, `.`, `_`, `@` and `-`"
        )))
    }
}

/// A limit reached: 400 naming it.
pub fn limit_reached(limit: &str, max: usize) -> ApiError {
    ApiError::invalid(format!("the limit of {max} {limit} is reached"))
        .with_details(json!({ "limit": limit, "max": max }))
}
