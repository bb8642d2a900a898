//! The errors of every use case: a kind (what went wrong, for the caller's program), a stable
//! code, a human message and optional details. No transport here: the HTTP layer maps kinds to
//! statuses in one place (`crate::error`), the console to pages.

use serde_json::Value;
use warden_engine::DirectoryError;
use warden_store::StoreError;

/// What went wrong, as a caller's program tells it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule of its own (400).
    Invalid,
    /// No valid credential (401).
    Unauthenticated,
    /// A credential, but not the permission (403).
    Forbidden,
    /// The named thing does not exist, or is not visible to the caller (404).
    NotFound,
    /// The request took too long to arrive (408).
    Timeout,
    /// The change conflicts with the current state (409).
    Conflict,
    /// The request is larger than allowed (413).
    TooLarge,
    /// The body is not in a format this endpoint reads (415).
    UnsupportedMediaType,
    /// Too many attempts; retry later (429).
    RateLimited,
    /// A dependency is unavailable or saturated; nothing was changed (503).
    Unavailable,
    /// A fault of the server (500).
    Internal,
}

impl ErrorKind {
    /// The stable code of errors of this kind (`error.code` on the wire).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Invalid | ErrorKind::UnsupportedMediaType => "invalid",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Conflict => "conflict",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// Usually `kind.code()`; the OAuth endpoints carry RFC 6749 codes (`invalid_client`, …).
    pub code: &'static str,
    pub message: String,
    pub details: Option<Box<Value>>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            code: kind.code(),
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// An error with a code of its own (a protocol's, such as OAuth's).
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Invalid, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Unauthenticated, message)
    }

    /// Refused, naming the permission that is missing.
    pub fn forbidden(permission: &str, message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Forbidden, message)
            .with_details(serde_json::json!({ "permission": permission }))
    }

    pub fn not_found(kind: &str, id: &str) -> Self {
        ApiError::new(ErrorKind::NotFound, format!("{kind} `{id}` does not exist"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>, retry_after: u64) -> Self {
        ApiError::new(ErrorKind::Unavailable, message).with_retry_after(retry_after)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorKind::Internal, message)
    }
}

impl From<DirectoryError> for ApiError {
    fn from(error: DirectoryError) -> Self {
        match error {
            DirectoryError::NotFound { kind, id } => ApiError::not_found(kind, &id),
            DirectoryError::Invalid(message) => ApiError::invalid(message),
            DirectoryError::Conflict(message) => ApiError::conflict(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => {
                ApiError::conflict(format!("the store refused the write: {message}"))
            }
            StoreError::Unavailable(message) | StoreError::Open(message) => {
                tracing::error!(%message, "store unavailable");
                ApiError::unavailable(
                    "the store is unavailable; nothing was changed, retry later",
                    5,
                )
            }
            StoreError::Stale { current } => ApiError::conflict(format!(
                "the store moved on to revision {current} while this request was planned; retry it"
            )),
            StoreError::Corrupt(message) => {
                tracing::error!(%message, "store data invalid");
                ApiError::internal("the store holds data that cannot be read; nothing was changed")
            }
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
