//! The error vocabulary: every error answer is `{"error": {"code", "message", "details"}}`, where
//! `code` is one of [`ErrorCode`]'s stable names and decides the HTTP status. Messages are for
//! people (they say what was wrong, where, and what to do); programs read the code.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What went wrong, as a caller's program tells it apart. Each code owns its HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or breaks a rule of its own (400).
    Invalid,
    /// No valid credential (401).
    Unauthenticated,
    /// A credential, but not the permission; `details.permission` names it (403).
    Forbidden,
    /// The named thing does not exist, or is not visible to the caller (404).
    NotFound,
    /// The path exists, but not with this method; the `Allow` header lists those it has (405).
    MethodNotAllowed,
    /// The request took too long to arrive (408).
    Timeout,
    /// The change conflicts with the current state (409).
    Conflict,
    /// The request is larger than allowed (413).
    TooLarge,
    /// The body is not in a format this endpoint reads (415).
    UnsupportedMediaType,
    /// Too many attempts; retry after `Retry-After` seconds (429).
    RateLimited,
    /// A fault of the server (500).
    Internal,
    /// The server cannot answer this request as asked, and says what it can do instead (501).
    NotImplemented,
    /// A dependency is unavailable or saturated; nothing was changed; retry after `Retry-After`
    /// seconds (503).
    Unavailable,
}

impl ErrorCode {
    /// The HTTP status errors of this code answer with.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::Invalid => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Timeout => 408,
            ErrorCode::Conflict => 409,
            ErrorCode::TooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::RateLimited => 429,
            ErrorCode::Internal => 500,
            ErrorCode::NotImplemented => 501,
            ErrorCode::Unavailable => 503,
        }
    }

    /// The code's name on the wire (`error.code`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::Unauthenticated => "unauthenticated",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Conflict => "conflict",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Internal => "internal",
            ErrorCode::NotImplemented => "not_implemented",
            ErrorCode::Unavailable => "unavailable",
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code; the OAuth endpoints answer RFC 6749's codes here (`invalid_client`, …).
    #[schema(example = "forbidden")]
    pub code: String,
    /// For people: what was wrong, where, and what to do.
    pub message: String,
    /// Structured facts about the error (the missing permission, the diagnostics of a policy, …).
    #[serde(default)]
    pub details: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_names() {
        for code in [
            ErrorCode::Invalid,
            ErrorCode::MethodNotAllowed,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::Unavailable,
        ] {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
