//! The errors of every use case: a code of the API's one vocabulary ([`ErrorCode`], which also
//! decides the HTTP status), a human message and optional details. No transport here: the HTTP
//! layer writes them in one place (`crate::error`), the console as pages.

use serde_json::Value;
use warden_engine::DirectoryError;
use warden_store::StoreError;

pub use warden_api::ErrorCode;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    /// The OAuth endpoints' RFC 6749 code (`invalid_client`, …), written instead of `code`'s
    /// name; the status still comes from `code`.
    pub protocol_code: Option<&'static str>,
    pub message: String,
    pub details: Option<Box<Value>>,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            protocol_code: None,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// An error with a code of its own (a protocol's, such as OAuth's).
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.protocol_code = Some(code);
        self
    }

    /// The code written in `error.code`: the protocol's, or the vocabulary's name.
    pub fn wire_code(&self) -> &'static str {
        self.protocol_code.unwrap_or(self.code.as_str())
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
        ApiError::new(ErrorCode::Invalid, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Unauthenticated, message)
    }

    /// Refused, naming the permission that is missing.
    pub fn forbidden(permission: &str, message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Forbidden, message)
            .with_details(serde_json::json!({ "permission": permission }))
    }

    pub fn not_found(kind: &str, id: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("{kind} `{id}` does not exist"))
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Conflict, message)
    }

    pub fn unavailable(message: impl Into<String>, retry_after: u64) -> Self {
        ApiError::new(ErrorCode::Unavailable, message).with_retry_after(retry_after)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Internal, message)
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
