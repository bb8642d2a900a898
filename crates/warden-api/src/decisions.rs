//! Decisions on the wire: `POST /iam/v1/authorize` (one) and `POST /iam/v1/authorize/batch` (up
//! to 1,000 from one snapshot), their query and their answers. A batch answers each request in its
//! slot: a decision, or the error of that one request (an unknown permission).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::ErrorBody;

/// The value of one request attribute: a string, or a list of strings (a condition on the
/// attribute holds when it holds for one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum AttributeValue {
    One(String),
    Many(Vec<String>),
}

impl AttributeValue {
    /// The values, one or many.
    pub fn values(&self) -> &[String] {
        match self {
            AttributeValue::One(value) => std::slice::from_ref(value),
            AttributeValue::Many(values) => values,
        }
    }
}

/// A request's attributes by name (`storage:bucket-name`, …).
pub type Attributes = BTreeMap<String, AttributeValue>;

/// One decision to make: who (`principal`, or the owner of `token`), what (`permission`), where
/// (`environment`, none for the account level) and on what (`attributes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecisionRequest {
    /// uid, email or service-user handle; or give `token`.
    #[serde(default)]
    #[schema(example = "alice@example.com")]
    pub principal: Option<String>,
    /// An access or platform token instead of `principal`: the decision is for the token's owner,
    /// DENY (`out-of-scope`) for a permission outside the token's scopes, and DENY
    /// (`invalid-token`) for a token that is unknown, revoked, inactive or expired.
    #[serde(default)]
    pub token: Option<String>,
    /// A permission of the catalogue; one it does not know is a 400 naming the closest one.
    #[schema(example = "storage:logs:read")]
    pub permission: String,
    /// An environment's id; none decides at account level.
    #[serde(default)]
    pub environment: Option<String>,
    #[serde(default)]
    pub attributes: Attributes,
    /// RFC 3339; the time of the decision when absent.
    #[serde(default)]
    #[schema(example = "2026-05-04T10:00:00Z")]
    pub time: Option<String>,
    /// Read-your-writes: decide on a snapshot at least this store revision (0 or more); 503
    /// when the server does not reach it within a second.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub min_revision: Option<i64>,
}

/// Up to 1,000 decisions, answered from one snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchRequest {
    pub requests: Vec<DecisionRequest>,
    /// As a request's `minRevision`, for the whole batch (the highest asked wins).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub min_revision: Option<i64>,
}

/// The query of both decision endpoints: `?explain=true&minRevision=…`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DecisionQuery {
    /// Adds the reasons: the deciding statements and the nearest misses.
    #[serde(default)]
    pub explain: bool,
    /// As the body's `minRevision` (0 or more).
    #[serde(default)]
    #[param(minimum = 0)]
    pub min_revision: Option<i64>,
}

/// The outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Allow,
    Deny,
}

impl Outcome {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "ALLOW",
            Outcome::Deny => "DENY",
        }
    }
}

/// Why a decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// An ALLOW statement applies and no DENY statement does.
    Allowed,
    /// A DENY statement applies (DENY wins).
    DeniedByStatement,
    /// No ALLOW statement applies (default deny).
    NoMatchingAllow,
    UnknownPrincipal,
    InactivePrincipal,
    UnknownPermission,
    UnknownEnvironment,
    /// A workflow task whose human actor did not consent to the permission.
    NoConsent,
    /// Asked with a token whose scopes do not include the permission.
    OutOfScope,
    /// Asked with a token that is unknown, revoked, inactive or expired.
    InvalidToken,
}

impl Reason {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Allowed => "allowed",
            Reason::DeniedByStatement => "denied-by-statement",
            Reason::NoMatchingAllow => "no-matching-allow",
            Reason::UnknownPrincipal => "unknown-principal",
            Reason::InactivePrincipal => "inactive-principal",
            Reason::UnknownPermission => "unknown-permission",
            Reason::UnknownEnvironment => "unknown-environment",
            Reason::NoConsent => "no-consent",
            Reason::OutOfScope => "out-of-scope",
            Reason::InvalidToken => "invalid-token",
        }
    }
}

/// A decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionResponse {
    pub decision: Outcome,
    pub reason: Reason,
    /// The store revision of the snapshot that decided.
    pub revision: u64,
    /// The snapshot may be behind the store (it has been unreachable for a while).
    pub stale: bool,
    /// With `explain=true`: `summary`, the `deciding` statements and the `nearest` misses, each
    /// with its policy, group, level and boundary. Free-form by design: its detail grows with
    /// the engine's explanations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub explanation: Option<Value>,
}

/// One slot of a batch's answer: the decision, or the error of that one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BatchResult {
    Decision(DecisionResponse),
    /// The request's own mistake (an unknown permission); the other requests are answered.
    Error(ErrorBody),
}

/// The answer to a batch: one slot per request, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    pub revision: u64,
    pub stale: bool,
    pub results: Vec<BatchResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_serde_names() {
        for outcome in [Outcome::Allow, Outcome::Deny] {
            let json = serde_json::to_string(&outcome).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
        }
        for reason in [
            Reason::Allowed,
            Reason::DeniedByStatement,
            Reason::NoMatchingAllow,
            Reason::UnknownPrincipal,
            Reason::InactivePrincipal,
            Reason::UnknownPermission,
            Reason::UnknownEnvironment,
            Reason::NoConsent,
            Reason::OutOfScope,
            Reason::InvalidToken,
        ] {
            let json = serde_json::to_string(&reason).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
    }
}
