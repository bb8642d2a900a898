//! Residuals on the wire: `POST /iam/v1/authorize/residual` — for one principal and one
//! permission, the condition the attributes a request leaves free must meet for it to be allowed
//! (`docs/residuals.md`). The request is a decision request whose attributes are only partly
//! known; the answer's [`Predicate`] is recursive, described in the OpenAPI document by reference
//! to itself.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::decisions::Attributes;

/// A decision request whose attributes are only partly known: every attribute not given in
/// `attributes` is free and left to the residual.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResidualRequest {
    /// uid, email or service-user handle; or give `token`.
    #[serde(default)]
    #[schema(example = "alice@example.com")]
    pub principal: Option<String>,
    /// An access or platform token instead of `principal`: the residual of its owner within its
    /// scopes (`false` for a permission outside them, or a token that is unknown, revoked,
    /// inactive or expired).
    #[serde(default)]
    pub token: Option<String>,
    /// A permission of the catalogue; one it does not know is a 400 naming the closest one.
    #[schema(example = "storage:logs:read")]
    pub permission: String,
    /// An environment's id; none asks at account level.
    #[serde(default)]
    pub environment: Option<String>,
    /// The attributes the caller fixes; an empty list counts as absent. Every other attribute is
    /// left to the residual.
    #[serde(default)]
    pub attributes: Attributes,
    /// RFC 3339; now when absent. Time conditions are always decided, never left over.
    #[serde(default)]
    #[schema(example = "2026-05-04T10:00:00Z")]
    pub time: Option<String>,
    /// Read-your-writes: answer from a snapshot at least this store revision (0 or more); 503
    /// when the server does not reach it within a second.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub min_revision: Option<i64>,
}

/// What a residual says overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ResidualDecision {
    /// Allowed whatever the free attributes are: the residual is `true`.
    Allow,
    /// Denied whatever the free attributes are: the residual is `false`.
    Deny,
    /// Allowed exactly when the free attributes satisfy the residual.
    Conditional,
}

impl ResidualDecision {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ResidualDecision::Allow => "ALLOW",
            ResidualDecision::Deny => "DENY",
            ResidualDecision::Conditional => "CONDITIONAL",
        }
    }
}

/// A condition over the attributes a residual request left free: `true` / `false`,
/// `{"all": […]}`, `{"any": […]}`, `{"not": P}`, `{"present": NAME}` (the attribute has at least
/// one value), or a comparison `{"attribute", "operator", "values"}` holding as SPEC §3's table
/// says for its operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged, deny_unknown_fields)]
pub enum Predicate {
    /// Always (`true`) or never (`false`).
    Constant(bool),
    // The predicate refers to itself: its parts are references to this schema, which the
    // document's schemas are not collected through again.
    /// Every part holds.
    #[schema(no_recursion)]
    All {
        all: Vec<Predicate>,
    },
    /// Some part holds.
    #[schema(no_recursion)]
    Any {
        any: Vec<Predicate>,
    },
    /// The part does not hold.
    #[schema(no_recursion)]
    Not {
        not: Box<Predicate>,
    },
    /// The attribute has at least one value.
    Present {
        present: String,
    },
    Compare(Comparison),
}

/// `attribute operator values`: a positive operator holds when some value of the attribute
/// matches some listed value (false when the attribute is absent), a negated one when none does
/// (true when it is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    #[schema(example = "storage:bucket-name")]
    pub attribute: String,
    pub operator: Operator,
    /// One value for `=`, `!=`, `startsWith` and `NOT startsWith`; one or more for `IN`,
    /// `NOT IN` and `MATCH` (SPEC §3's anchored globs).
    pub values: Vec<String>,
}

/// The operators of a residual: SPEC §3's, without the time comparisons (a residual request
/// always fixes the time).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
pub enum Operator {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "IN")]
    In,
    #[serde(rename = "startsWith")]
    StartsWith,
    #[serde(rename = "MATCH")]
    Match,
    #[serde(rename = "!=")]
    NotEq,
    #[serde(rename = "NOT IN")]
    NotIn,
    #[serde(rename = "NOT startsWith")]
    NotStartsWith,
}

/// The answer: the residual, what it says overall, and the store revision it was computed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResidualResponse {
    pub decision: ResidualDecision,
    pub residual: Predicate,
    /// The store revision of the snapshot that computed it.
    pub revision: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_read_and_write_as_documented() {
        let text = r#"{"all":[true,{"not":{"present":"a"}},{"any":[false,{"attribute":"b","operator":"NOT startsWith","values":["x_"]}]}]}"#;
        let predicate: Predicate = serde_json::from_str(text).unwrap_or(Predicate::Constant(false));
        assert_eq!(
            predicate,
            Predicate::All {
                all: vec![
                    Predicate::Constant(true),
                    Predicate::Not {
                        not: Box::new(Predicate::Present {
                            present: "a".into()
                        })
                    },
                    Predicate::Any {
                        any: vec![
                            Predicate::Constant(false),
                            Predicate::Compare(Comparison {
                                attribute: "b".into(),
                                operator: Operator::NotStartsWith,
                                values: vec!["x_".into()],
                            }),
                        ]
                    },
                ]
            }
        );
        assert_eq!(
            serde_json::to_string(&predicate).ok().as_deref(),
            Some(text)
        );
        let decision = serde_json::to_string(&ResidualDecision::Conditional).unwrap_or_default();
        assert_eq!(decision, "\"CONDITIONAL\"");
    }
}
