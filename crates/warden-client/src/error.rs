//! Why a request did not give the answer asked for.

use reqwest::StatusCode;
use warden_api::ErrorDetail;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The address given is not one this client can use.
    #[error("`{given}` is not a server address: {message}")]
    Address { given: String, message: String },
    /// The HTTP stack could not be set up, or the request could not be built.
    #[error("cannot make the request: {message}")]
    Setup { message: String },
    /// No answer: the server is down, unreachable, or stopped answering.
    #[error("cannot reach the Warden server at `{server}`: {message}")]
    Unreachable { server: String, message: String },
    /// The server answered with an error status.
    #[error("the server answered {status}{}", error.as_ref().map(|e| format!(": {}", e.message)).unwrap_or_default())]
    Refused {
        status: StatusCode,
        /// The error body, when the answer had Warden's error shape.
        error: Option<Box<ErrorDetail>>,
        retry_after: Option<u64>,
        /// The whole body as it came (another shape, e.g. OAuth's `{error, error_description}`).
        body: Box<serde_json::Value>,
    },
    /// A success whose body is not what the API documents.
    #[error("the server's answer ({status}) is not in the documented shape: {message}")]
    Unexpected { status: StatusCode, message: String },
}

impl ClientError {
    /// The status the server answered, when it refused the request.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Refused { status, .. } | ClientError::Unexpected { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The API's error (`ErrorBody.error`), when the refusal had Warden's error shape.
    pub fn error(&self) -> Option<&ErrorDetail> {
        match self {
            ClientError::Refused { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    /// The error's stable code (`invalid`, `not_found`, … or OAuth's codes).
    pub fn code(&self) -> Option<&str> {
        self.error().map(|e| e.code.as_str())
    }
}
