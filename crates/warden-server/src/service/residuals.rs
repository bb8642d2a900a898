//! Residuals (`docs/residuals.md`): for one principal and one permission, the condition the
//! attributes a request leaves free must meet for it to be allowed, so that a data service can
//! filter its records in its own query. The engine computes it (`Snapshot::residual`); this use
//! case authorises the question and translates it.
//!
//! Who may ask is who may ask for the decision (`crate::service::decisions`): a caller about
//! itself always; about another principal with `iam:effective-permissions:read` for it; with a
//! `token`, about the token's owner within the token's scopes — a permission outside them, or a
//! token that no longer works, is `false`, as `/iam/v1/authorize` answers DENY for it. A residual
//! tells no more than its decisions would: it is exactly the set of requests they allow.
//!
//! Residual requests are not decisions: they are counted neither in the usage of permissions nor
//! in the decision metrics.

use warden_api::residuals::{
    Comparison, Operator, Predicate, ResidualDecision, ResidualRequest, ResidualResponse,
};
use warden_engine::residual::{self, ResidualError};
use warden_engine::{AttributeValue, Attributes};
use warden_policy::temporal::parse_date_time;

use crate::auth::TokenProblem;
use crate::service::decisions::{require_may_ask, unknown_permission};
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

/// The residual of `request`. `min_revision` read-your-writes as for decisions.
pub async fn residual(
    state: &AppState,
    authed: &Authed,
    request: &ResidualRequest,
) -> ApiResult<ResidualResponse> {
    crate::limits::check_decision_attributes(
        request
            .attributes
            .iter()
            .map(|(name, value)| (name.as_str(), value.values())),
    )?;
    let (snapshot, _stale) = state.snapshot_at_least(request.min_revision).await?;
    if let Some(unknown) = unknown_permission(&snapshot, &request.permission) {
        return Err(unknown);
    }
    let refused = ResidualResponse {
        decision: ResidualDecision::Deny,
        residual: Predicate::Constant(false),
        revision: snapshot.revision,
    };
    let owner: String;
    let principal: &str = match (&request.principal, &request.token) {
        (Some(principal), None) if crate::secrets::holds_secret(principal) => {
            return Err(ApiError::invalid(
                "`principal` holds a token; send it as `token` to ask about its owner",
            ));
        }
        (Some(principal), None) => {
            let found = snapshot.directory().find_principal(principal);
            require_may_ask(state, authed, principal, found, false)?;
            principal
        }
        (None, Some(token)) => match state.check_token(token.trim()) {
            Ok((caller, _)) if caller.scopes.allow(&request.permission) => {
                owner = caller.uid;
                &owner
            }
            // Out of scope, unknown, revoked, inactive, expired, or its owner deactivated:
            // the token allows nothing, whatever the attributes.
            Ok(_)
            | Err(
                TokenProblem::OwnerDeactivated
                | TokenProblem::Invalid
                | TokenProblem::Expired
                | TokenProblem::Inactive,
            ) => return Ok(refused),
        },
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("give `principal` or `token`, not both"));
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "give `principal` (a uid, email or handle) or `token` (an access or platform token)",
            ));
        }
    };
    let time = match &request.time {
        Some(text) => {
            parse_date_time(text).map_err(|e| ApiError::invalid(format!("`time`: {e}")))?
        }
        None => authed.context.now_ms.div_euclid(1000),
    };
    let known: Attributes = request
        .attributes
        .iter()
        .map(|(name, value)| {
            let value = match value {
                warden_api::decisions::AttributeValue::One(one) => AttributeValue::One(one.clone()),
                warden_api::decisions::AttributeValue::Many(many) => {
                    AttributeValue::Many(many.clone())
                }
            };
            (name.clone(), value)
        })
        .collect();
    let computed = snapshot
        .residual(&residual::ResidualRequest {
            principal,
            permission: &request.permission,
            environment: request.environment.as_deref(),
            known: &known,
            time,
        })
        .map_err(too_large)?;
    Ok(ResidualResponse {
        decision: match computed.decision {
            residual::ResidualDecision::Allow => ResidualDecision::Allow,
            residual::ResidualDecision::Deny => ResidualDecision::Deny,
            residual::ResidualDecision::Conditional => ResidualDecision::Conditional,
        },
        residual: wire(&computed.predicate),
        revision: snapshot.revision,
    })
}

/// A residual beyond the size bound: the request asks too broadly (400), with the engine's
/// message and its help line.
fn too_large(error: ResidualError) -> ApiError {
    match error {
        ResidualError::TooLarge { terms, limit } => ApiError::invalid(error.to_string())
            .with_details(serde_json::json!({
                "limit": "residual terms",
                "max": limit,
                "terms": terms,
            })),
    }
}

/// The engine's predicate on the wire (the same JSON).
pub fn wire(predicate: &residual::Predicate) -> Predicate {
    match predicate {
        residual::Predicate::Constant(value) => Predicate::Constant(*value),
        residual::Predicate::All { all } => Predicate::All {
            all: all.iter().map(wire).collect(),
        },
        residual::Predicate::Any { any } => Predicate::Any {
            any: any.iter().map(wire).collect(),
        },
        residual::Predicate::Not { not } => Predicate::Not {
            not: Box::new(wire(not)),
        },
        residual::Predicate::Present { present } => Predicate::Present {
            present: present.clone(),
        },
        residual::Predicate::Compare(comparison) => Predicate::Compare(Comparison {
            attribute: comparison.attribute.clone(),
            operator: operator(comparison.operator),
            values: comparison.values.clone(),
        }),
    }
}

/// A wire residual in the policy language's words, on one line (the wire's JSON is the engine's).
pub fn text(predicate: &Predicate) -> String {
    serde_json::to_value(predicate)
        .ok()
        .and_then(|value| serde_json::from_value::<residual::Predicate>(value).ok())
        .map_or_else(
            || "a condition".to_owned(),
            |engine| residual::text::render(&engine).replace('\n', " "),
        )
}

fn operator(operator: residual::ResidualOperator) -> Operator {
    use residual::ResidualOperator as Engine;
    match operator {
        Engine::Eq => Operator::Eq,
        Engine::In => Operator::In,
        Engine::StartsWith => Operator::StartsWith,
        Engine::Match => Operator::Match,
        Engine::NotEq => Operator::NotEq,
        Engine::NotIn => Operator::NotIn,
        Engine::NotStartsWith => Operator::NotStartsWith,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wire predicate writes the JSON the engine's does, for every form.
    #[test]
    fn the_wire_predicate_is_the_engines() {
        let text = r#"{"all":[{"any":[{"attribute":"a","operator":"=","values":["x"]},{"attribute":"a","operator":"IN","values":["y","z"]},{"attribute":"a","operator":"startsWith","values":["p"]},{"attribute":"a","operator":"MATCH","values":["*q?"]}]},{"not":{"present":"b"}},{"attribute":"c","operator":"!=","values":["x"]},{"attribute":"c","operator":"NOT IN","values":["x","y"]},{"attribute":"c","operator":"NOT startsWith","values":["x"]},true,false]}"#;
        let engine: residual::Predicate = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&wire(&engine)).unwrap(), text);
        assert_eq!(serde_json::to_string(&engine).unwrap(), text);
    }
}
