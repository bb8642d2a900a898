//! A server's answer: status, Warden's headers, and the body (text, JSON, or a typed value).

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use warden_api::ErrorBody;

use crate::ClientError;

/// An answer of the server.
#[derive(Debug, Clone)]
pub struct Answer<T> {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// `Warden-Revision`: the store revision a write produced (or a read saw).
    pub revision: Option<i64>,
    /// `Warden-Warnings`: warnings about a write that was made.
    pub warnings: Vec<String>,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u64>,
    pub body: T,
}

impl Answer<String> {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, body: String) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let revision = header("warden-revision").and_then(|v| v.parse().ok());
        let warnings = header("warden-warnings")
            .and_then(|v| serde_json::from_str::<Vec<String>>(v).ok())
            .unwrap_or_default();
        let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
        Answer {
            status,
            revision,
            warnings,
            retry_after,
            headers,
            body,
        }
    }

    /// The body as JSON: `null` when empty, a JSON string when it is not JSON.
    pub fn decoded(self) -> Answer<serde_json::Value> {
        let body = if self.body.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&self.body)
                .unwrap_or_else(|_| serde_json::Value::String(self.body.clone()))
        };
        self.map(|_| body)
    }
}

impl Answer<serde_json::Value> {
    /// The answer when its status is 2xx, else the server's refusal as an error.
    pub fn success(self) -> Result<Self, ClientError> {
        if self.status.is_success() {
            return Ok(self);
        }
        let error = serde_json::from_value::<ErrorBody>(self.body.clone()).ok();
        Err(ClientError::Refused {
            status: self.status,
            error: error.map(|body| Box::new(body.error)),
            retry_after: self.retry_after,
            body: Box::new(self.body),
        })
    }

    /// The body decoded as `T`.
    pub fn decode<T: DeserializeOwned>(self) -> Result<Answer<T>, ClientError> {
        let body = serde_json::from_value::<T>(self.body.clone()).map_err(|e| {
            ClientError::Unexpected {
                status: self.status,
                message: e.to_string(),
            }
        })?;
        Ok(self.map(|_| body))
    }
}

impl<T> Answer<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Answer<U> {
        Answer {
            status: self.status,
            headers: self.headers,
            revision: self.revision,
            warnings: self.warnings,
            retry_after: self.retry_after,
            body: f(self.body),
        }
    }
}
