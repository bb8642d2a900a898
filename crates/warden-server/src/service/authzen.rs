//! The AuthZEN Authorization API 1.0 as use cases: an evaluation is a Warden decision request
//! (subject → principal, action → permission through the account's mapping, mapped properties →
//! attributes, `context.environment` and `context.time`), decided and authorised exactly as
//! `/iam/v1/authorize` decides it; boxcars, searches, the discovery document, and the mapping
//! itself (read and replaced through the one write path, audited, replicated as a meta entry).
//!
//! Nothing is implicit: an action neither mapped nor a catalogue permission is a 400 naming it,
//! and a property without a mapping is not part of the decision (an ALLOW reading an absent
//! attribute does not apply, a DENY reading one does: leaving a property out never allows more).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use warden_api::authzen::{
    Action, ActionSearchRequest, ActionSearchResponse, DecisionContext, EvaluationError,
    EvaluationItem, EvaluationRequest, EvaluationResponse, EvaluationsAnswer, EvaluationsRequest,
    EvaluationsResponse, EvaluationsSemantic, FoundAction, FoundResource, FoundSubject, Mapping,
    PageResponse, PdpConfiguration, Properties, Resource, ResourceSearchRequest,
    ResourceSearchResponse, Subject, SubjectSearchRequest, SubjectSearchResponse,
};
use warden_api::decisions::{AttributeValue, Attributes, DecisionRequest, Outcome};
use warden_api::residuals::{
    Comparison, Operator, Predicate as ResidualPredicate, ResidualRequest,
};
use warden_engine::PrincipalKind;

use crate::model::Model;
use crate::service::decision_input::DecisionInput;
use crate::service::guard::attributes;
use crate::service::{ApiError, ApiResult, Authed, ErrorCode, Plan, decisions, residuals};
use crate::state::AppState;

/// The meta key the mapping is stored under.
pub const MAPPING_KEY: &str = "authzen";
/// Evaluations in one boxcar.
pub const MAX_EVALUATIONS: usize = 1_000;
/// Entries in each of the mapping's maps.
pub const MAX_MAPPING_ENTRIES: usize = 1_000;
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1_000;

/// The discovery document, its URLs under `base` (the scheme and host the caller used).
pub fn configuration(base: &str) -> PdpConfiguration {
    let base = base.trim_end_matches('/');
    PdpConfiguration {
        policy_decision_point: base.to_owned(),
        access_evaluation_endpoint: format!("{base}/access/v1/evaluation"),
        access_evaluations_endpoint: format!("{base}/access/v1/evaluations"),
        search_subject_endpoint: format!("{base}/access/v1/search/subject"),
        search_resource_endpoint: format!("{base}/access/v1/search/resource"),
        search_action_endpoint: format!("{base}/access/v1/search/action"),
    }
}

/// One evaluation.
pub async fn evaluate(
    state: &AppState,
    authed: &Authed,
    request: &EvaluationRequest,
) -> ApiResult<EvaluationResponse> {
    let mapping = mapping_of(state).await;
    let decision = decision_request(
        &mapping,
        Asked::of(&request.subject),
        &request.action,
        &request.resource,
        request.context.as_ref(),
    )?;
    decide(state, authed, &decision, false).await
}

/// A boxcar: the defaults merged into each evaluation (a member given replaces the default
/// whole), run in order by the semantic. One evaluation's mistake is its own answer (`decision:
/// false` with `context.error`); only a missing token refuses the whole request.
pub async fn evaluate_many(
    state: &AppState,
    authed: &Authed,
    request: &EvaluationsRequest,
) -> ApiResult<EvaluationsAnswer> {
    let items = request.evaluations.as_deref().unwrap_or_default();
    if items.is_empty() {
        let mapping = mapping_of(state).await;
        let none = EvaluationItem::default();
        let (subject, action, resource, context) = merged(request, &none)?;
        let decision = decision_request(&mapping, Asked::of(subject), action, resource, context)?;
        return decide(state, authed, &decision, false)
            .await
            .map(EvaluationsAnswer::One);
    }
    if items.len() > MAX_EVALUATIONS {
        return Err(crate::limits::limit_reached(
            "evaluations per request",
            MAX_EVALUATIONS,
        ));
    }
    let semantic = request
        .options
        .as_ref()
        .map(|o| o.evaluations_semantic)
        .unwrap_or_default();
    let mapping = mapping_of(state).await;
    let mut evaluations = Vec::with_capacity(items.len());
    for item in items {
        let answered =
            match merged(request, item).and_then(|(subject, action, resource, context)| {
                decision_request(&mapping, Asked::of(subject), action, resource, context)
            }) {
                Ok(decision) => decide(state, authed, &decision, false).await,
                Err(error) => Err(error),
            };
        let answer = answered.unwrap_or_else(|error| failed(&error));
        let stop = match semantic {
            EvaluationsSemantic::ExecuteAll => false,
            EvaluationsSemantic::DenyOnFirstDeny => !answer.decision,
            EvaluationsSemantic::PermitOnFirstPermit => answer.decision,
        };
        evaluations.push(answer);
        if stop {
            break;
        }
    }
    Ok(EvaluationsAnswer::Many(EvaluationsResponse { evaluations }))
}

/// Who may do `action` on `resource`: the account's active principals of the kind asked for,
/// each decided as an evaluation would decide it; paged in the order of their emails.
pub async fn search_subjects(
    state: &AppState,
    authed: &Authed,
    request: &SubjectSearchRequest,
) -> ApiResult<SubjectSearchResponse> {
    if !authed.system && !decisions::may_ask_about_anyone(authed, &state.snapshot()) {
        return Err(ApiError::forbidden(
            "iam:effective-permissions:read",
            "searching for subjects asks about everyone: it takes `iam:effective-permissions:read` for every principal",
        ));
    }
    let (offset, limit) = page(request.page.as_ref())?;
    let wanted = match request.subject.kind.as_str() {
        "user" => Some(PrincipalKind::User),
        "service_user" => Some(PrincipalKind::ServiceUser),
        _ => None,
    };
    let mut candidates: Vec<(String, &'static str)> = {
        let model = state.model.lock().await;
        model
            .principals
            .values()
            .filter(|p| p.deactivation.is_none())
            .filter_map(|p| {
                let kind = model.directory.principal(&p.uid)?.kind;
                if wanted.is_some_and(|w| w != kind) {
                    return None;
                }
                Some(match kind {
                    PrincipalKind::User => (p.email.clone(), "user"),
                    PrincipalKind::ServiceUser => (
                        p.handle.clone().unwrap_or_else(|| p.email.clone()),
                        "service_user",
                    ),
                })
            })
            .collect()
    };
    candidates.sort();
    let mapping = mapping_of(state).await;
    let mut results = Vec::new();
    let mut next = 0;
    for (index, (id, kind)) in candidates.iter().enumerate().skip(offset) {
        if results.len() == limit {
            next = index;
            break;
        }
        let subject = Asked {
            kind,
            id,
            properties: request.subject.properties.as_ref(),
        };
        let decision = decision_request(
            &mapping,
            subject,
            &request.action,
            &request.resource,
            request.context.as_ref(),
        )?;
        if decide(state, authed, &decision, true).await?.decision {
            results.push(FoundSubject {
                kind: (*kind).to_owned(),
                id: id.clone(),
            });
        }
    }
    Ok(SubjectSearchResponse {
        results,
        page: next_page(next),
    })
}

/// What `subject` may do on `resource`: the mapping's action names, or (with no mapping of
/// actions) the catalogue's permissions, each decided; paged in name order.
pub async fn search_actions(
    state: &AppState,
    authed: &Authed,
    request: &ActionSearchRequest,
) -> ApiResult<ActionSearchResponse> {
    let (offset, limit) = page(request.page.as_ref())?;
    let mapping = mapping_of(state).await;
    let names: Vec<String> = if mapping.actions.is_empty() {
        let snapshot = state.snapshot();
        let mut names: Vec<String> = snapshot
            .catalogue()
            .services()
            .flat_map(|s| s.permissions.iter().cloned())
            .collect();
        names.sort();
        names
    } else {
        mapping.actions.keys().cloned().collect()
    };
    let mut results = Vec::new();
    let mut next = 0;
    for (index, name) in names.iter().enumerate().skip(offset) {
        if results.len() == limit {
            next = index;
            break;
        }
        let action = Action {
            name: name.clone(),
            properties: None,
        };
        let decision = decision_request(
            &mapping,
            Asked::of(&request.subject),
            &action,
            &request.resource,
            request.context.as_ref(),
        )?;
        if decide(state, authed, &decision, true).await?.decision {
            results.push(FoundAction { name: name.clone() });
        }
    }
    Ok(ActionSearchResponse {
        results,
        page: next_page(next),
    })
}

/// Which resources of a type `subject` may do `action` on. Warden keeps no inventory of
/// resources: the answer comes from the residual of the request with the resource's id left free
/// (the mapping must map `id` to a condition attribute). When the residual is `false` there are
/// none; when it is a list of ids (`=` or `IN` on that attribute, or a choice of them), those
/// ids, sorted and paged; anything else (every resource, or a condition on other attributes) is
/// not a list, and the answer is 501 with the condition, to filter one's own resources with.
pub async fn search_resources(
    state: &AppState,
    authed: &Authed,
    request: &ResourceSearchRequest,
) -> ApiResult<ResourceSearchResponse> {
    let (offset, limit) = page(request.page.as_ref())?;
    let mapping = mapping_of(state).await;
    let Some(id_attribute) = mapping.resource_properties.get("id").cloned() else {
        return Err(ApiError::new(
            ErrorCode::NotImplemented,
            "the account's AuthZEN mapping does not map the resource's `id` to a condition attribute, so no condition can name resources; map it (`resource_properties: {id: SERVICE:ATTRIBUTE}`), or evaluate your own candidates with `POST /access/v1/evaluations`",
        ));
    };
    let resource = Resource {
        kind: request.resource.kind.clone(),
        id: String::new(),
        properties: request.resource.properties.clone(),
    };
    let decision = decision_request(
        &mapping,
        Asked::of(&request.subject),
        &request.action,
        &resource,
        request.context.as_ref(),
    )?;
    let mut attributes = decision.attributes;
    attributes.remove(&id_attribute);
    let answer = residuals::residual(
        state,
        authed,
        &ResidualRequest {
            principal: decision.principal,
            token: None,
            permission: decision.permission,
            environment: decision.environment,
            attributes,
            time: decision.time,
            min_revision: None,
        },
    )
    .await?;
    let Some(ids) = enumerated(&answer.residual, &id_attribute) else {
        return Err(ApiError::new(
            ErrorCode::NotImplemented,
            format!(
                "the resources of type `{}` that `{}` may `{}` are not a list of ids: {}; Warden keeps no inventory of resources — filter yours with this condition (`POST /iam/v1/authorize/residual` gives it as JSON and SQL) or evaluate them with `POST /access/v1/evaluations`",
                request.resource.kind,
                request.subject.id,
                request.action.name,
                match answer.decision {
                    warden_api::residuals::ResidualDecision::Allow => "every one".to_owned(),
                    _ => format!(
                        "those where {}",
                        crate::service::residuals::text(&answer.residual)
                    ),
                }
            ),
        )
        .with_details(json!({ "residual": answer.residual })));
    };
    let total = ids.len();
    let results: Vec<FoundResource> = ids
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|id| FoundResource {
            kind: request.resource.kind.clone(),
            id,
        })
        .collect();
    let next = if offset + results.len() < total {
        offset + results.len()
    } else {
        0
    };
    Ok(ResourceSearchResponse {
        results,
        page: next_page(next),
    })
}

/// The ids a residual allows exactly, when it is a list of them: `false`, `=`/`IN` on the id
/// attribute, a choice (`any`) of those, or a conjunction (`all`) of those (their common ids)
/// with `!=`/`NOT IN` on the id attribute taking ids out. A resource has one id, so an id is
/// allowed exactly when it is in the list.
fn enumerated(residual: &ResidualPredicate, attribute: &str) -> Option<BTreeSet<String>> {
    match residual {
        ResidualPredicate::Constant(false) => Some(BTreeSet::new()),
        ResidualPredicate::Compare(Comparison {
            attribute: name,
            operator: Operator::Eq | Operator::In,
            values,
        }) if name == attribute => Some(values.iter().cloned().collect()),
        ResidualPredicate::Any { any } => {
            let mut ids = BTreeSet::new();
            for part in any {
                ids.extend(enumerated(part, attribute)?);
            }
            Some(ids)
        }
        ResidualPredicate::All { all } => {
            let mut ids: Option<BTreeSet<String>> = None;
            let mut excluded: BTreeSet<&String> = BTreeSet::new();
            for part in all {
                match part {
                    ResidualPredicate::Compare(Comparison {
                        attribute: name,
                        operator: Operator::NotEq | Operator::NotIn,
                        values,
                    }) if name == attribute => excluded.extend(values),
                    listed => {
                        let listed = enumerated(listed, attribute)?;
                        ids = Some(match ids {
                            Some(ids) => ids.intersection(&listed).cloned().collect(),
                            None => listed,
                        });
                    }
                }
            }
            let mut ids = ids?;
            ids.retain(|id| !excluded.contains(id));
            Some(ids)
        }
        _ => None,
    }
}

/// The account's mapping. Permission: `iam:catalogue:read`.
pub async fn read_mapping(state: &AppState, authed: &Authed, account: &str) -> ApiResult<Mapping> {
    let model = state.model.lock().await;
    let level = crate::service::groups::account(&model, account)?;
    state.require(authed, "iam:catalogue:read", &level, &attributes(&[]))?;
    Ok(model.authzen.clone())
}

/// Replaces the account's mapping, checked against the catalogue. Permission:
/// `iam:catalogue:write` — the mapping decides which permission an AuthZEN action is, so it is
/// held to what changes the catalogue.
pub async fn replace_mapping(
    state: &AppState,
    authed: &Authed,
    account: &str,
    mapping: Mapping,
) -> ApiResult<(Mapping, i64)> {
    state
        .write(authed, |model, _| {
            let level = crate::service::groups::account(model, account)?;
            state.require(authed, "iam:catalogue:write", &level, &attributes(&[]))?;
            check_mapping(state, &mapping)?;
            let body = serde_json::to_string(&mapping)
                .map_err(|e| ApiError::internal(format!("the mapping cannot be written: {e}")))?;
            let mut plan = Plan::new("authzen.mapping.replace", "authzen", mapping.clone());
            plan.before = Some(json!(model.authzen));
            plan.after = Some(json!(mapping));
            plan.ops = vec![warden_store::Op::PutMeta {
                key: MAPPING_KEY.to_owned(),
                value: body,
            }];
            let stored = mapping.clone();
            plan.apply = Box::new(move |model: &mut Model| model.authzen = stored);
            Ok(plan)
        })
        .await
}

fn check_mapping(state: &AppState, mapping: &Mapping) -> ApiResult<()> {
    let snapshot = state.snapshot();
    let catalogue = snapshot.catalogue();
    for (section, entries) in [
        ("actions", &mapping.actions),
        ("resource_properties", &mapping.resource_properties),
        ("subject_properties", &mapping.subject_properties),
        ("context_properties", &mapping.context_properties),
    ] {
        if entries.len() > MAX_MAPPING_ENTRIES {
            return Err(crate::limits::limit_reached(
                "entries per section of the AuthZEN mapping",
                MAX_MAPPING_ENTRIES,
            ));
        }
        for (name, target) in entries {
            if name.is_empty() || name.len() > 256 {
                return Err(ApiError::invalid(format!(
                    "`{section}` has a name of {} bytes; names are 1 to 256 bytes",
                    name.len()
                )));
            }
            let known = if section == "actions" {
                catalogue.permission(target).is_some()
            } else {
                catalogue.condition_exists(target)
            };
            if !known {
                let what = if section == "actions" {
                    "permission"
                } else {
                    "condition attribute"
                };
                let hint = if section == "actions" {
                    catalogue
                        .suggest_permission(target)
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default()
                } else {
                    String::new()
                };
                return Err(ApiError::invalid(format!(
                    "`{section}` maps `{name}` to `{target}`, which is not a {what} of the catalogue{hint}"
                ))
                .with_details(json!({ "section": section, "name": name, "target": target })));
            }
        }
    }
    Ok(())
}

async fn mapping_of(state: &AppState) -> Mapping {
    state.model.lock().await.authzen.clone()
}

/// One evaluation of a boxcar, its defaults filled in: borrowed, never copied (a default may be
/// large, and a boxcar holds up to a thousand evaluations).
type Parts<'a> = (
    &'a Subject,
    &'a Action,
    &'a Resource,
    Option<&'a Properties>,
);

fn merged<'a>(defaults: &'a EvaluationsRequest, item: &'a EvaluationItem) -> ApiResult<Parts<'a>> {
    let missing = |what: &str| {
        ApiError::invalid(format!(
            "an evaluation has no `{what}`, and the request gives no default `{what}`"
        ))
    };
    Ok((
        item.subject
            .as_ref()
            .or(defaults.subject.as_ref())
            .ok_or_else(|| missing("subject"))?,
        item.action
            .as_ref()
            .or(defaults.action.as_ref())
            .ok_or_else(|| missing("action"))?,
        item.resource
            .as_ref()
            .or(defaults.resource.as_ref())
            .ok_or_else(|| missing("resource"))?,
        item.context.as_ref().or(defaults.context.as_ref()),
    ))
}

/// A subject as an evaluation reads it, borrowed.
#[derive(Debug, Clone, Copy)]
struct Asked<'a> {
    kind: &'a str,
    id: &'a str,
    properties: Option<&'a Properties>,
}

impl<'a> Asked<'a> {
    fn of(subject: &'a Subject) -> Self {
        Asked {
            kind: &subject.kind,
            id: &subject.id,
            properties: subject.properties.as_ref(),
        }
    }
}

/// The Warden decision request an evaluation stands for.
fn decision_request(
    mapping: &Mapping,
    subject: Asked<'_>,
    action: &Action,
    resource: &Resource,
    context: Option<&Properties>,
) -> ApiResult<DecisionRequest> {
    for (what, value) in [
        ("subject.type", subject.kind),
        ("subject.id", subject.id),
        ("action.name", action.name.as_str()),
        ("resource.type", resource.kind.as_str()),
    ] {
        if value.is_empty() {
            return Err(ApiError::invalid(format!("`{what}` is empty")));
        }
    }
    let permission = match mapping.actions.get(&action.name) {
        Some(permission) => permission.clone(),
        None if action.name.contains(':') => action.name.clone(),
        None => {
            return Err(ApiError::invalid(format!(
                "the action `{}` is not mapped to a permission; map it in the account's AuthZEN mapping (`actions`) or name a catalogue permission",
                action.name
            ))
            .with_details(json!({ "action": action.name })));
        }
    };
    let mut attributes = Attributes::new();
    let own: Properties = [
        ("id".to_owned(), Value::String(resource.id.clone())),
        ("type".to_owned(), Value::String(resource.kind.clone())),
    ]
    .into();
    read_properties(
        "resource",
        Some(&own),
        &mapping.resource_properties,
        &mut attributes,
    )?;
    read_properties(
        "resource.properties",
        resource.properties.as_ref(),
        &mapping.resource_properties,
        &mut attributes,
    )?;
    read_properties(
        "subject.properties",
        subject.properties,
        &mapping.subject_properties,
        &mut attributes,
    )?;
    read_properties(
        "context",
        context,
        &mapping.context_properties,
        &mut attributes,
    )?;
    let text = |name: &str| -> ApiResult<Option<String>> {
        match context.and_then(|c| c.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(ApiError::invalid(format!(
                "`context.{name}` must be a string"
            ))),
        }
    };
    Ok(DecisionRequest {
        principal: Some(subject.id.to_owned()),
        token: None,
        permission,
        environment: text("environment")?,
        attributes,
        time: text("time")?,
        min_revision: None,
    })
}

/// The mapped members of `properties` as attributes: strings as they are, numbers and booleans
/// as their JSON text, lists of those as lists; `null` is absent.
fn read_properties(
    whose: &str,
    properties: Option<&Properties>,
    mapping: &BTreeMap<String, String>,
    attributes: &mut Attributes,
) -> ApiResult<()> {
    let Some(properties) = properties else {
        return Ok(());
    };
    for (name, value) in properties {
        let Some(attribute) = mapping.get(name) else {
            continue;
        };
        let scalar = |value: &Value| match value {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            Value::Bool(flag) => Some(flag.to_string()),
            _ => None,
        };
        let read = match value {
            Value::Null => continue,
            Value::Array(items) => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .map(AttributeValue::Many),
            other => scalar(other).map(AttributeValue::One),
        };
        let read = read.ok_or_else(|| {
            ApiError::invalid(format!(
                "`{whose}.{name}` is read as `{attribute}`, which takes a string or a list of strings"
            ))
        })?;
        attributes.insert(attribute.clone(), read);
    }
    Ok(())
}

/// One decision; `probe` for a search's candidates, which are questions about principals and
/// not their use (they are neither counted nor sampled).
async fn decide(
    state: &AppState,
    authed: &Authed,
    request: &DecisionRequest,
    probe: bool,
) -> ApiResult<EvaluationResponse> {
    let input = DecisionInput::borrowing(request);
    let decided = if probe {
        decisions::probe(state, authed, false, &input).await?
    } else {
        decisions::decide(state, authed, false, None, &input).await?
    };
    let allowed = decided.decision == Outcome::Allow;
    let reason = serde_json::to_value(decided.reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    Ok(EvaluationResponse {
        decision: allowed,
        context: (!allowed).then_some(DecisionContext {
            reason,
            error: None,
        }),
    })
}

/// An evaluation that could not be made: a denial that says why.
fn failed(error: &ApiError) -> EvaluationResponse {
    let message = crate::secrets::redact(&error.body().error.message).into_owned();
    EvaluationResponse {
        decision: false,
        context: Some(DecisionContext {
            reason: None,
            error: Some(EvaluationError {
                status: error.status().as_u16(),
                message,
            }),
        }),
    }
}

/// The offset and size of the page asked for. The token is the offset of the page's first
/// candidate, as the previous answer gave it.
fn page(asked: Option<&warden_api::authzen::PageRequest>) -> ApiResult<(usize, usize)> {
    let limit = asked.and_then(|p| p.limit).unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "`page.limit` is {limit}; ask for 1 to {MAX_PAGE}"
        )));
    }
    let offset = match asked.and_then(|p| p.token.as_deref()) {
        None | Some("") => 0,
        Some(token) => token
            .strip_prefix("o")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::invalid(format!(
                    "`page.token` `{token}` is not a token this server gave; start without one"
                ))
            })?,
    };
    Ok((offset, usize::try_from(limit).unwrap_or(100)))
}

fn next_page(next: usize) -> PageResponse {
    PageResponse {
        next_token: if next == 0 {
            String::new()
        } else {
            format!("o{next}")
        },
    }
}

/// What the store's meta entry holds, read at start and on replay.
pub fn parse_mapping(body: &str) -> Result<Mapping, String> {
    serde_json::from_str(body).map_err(|e| format!("the AuthZEN mapping: {e}"))
}
