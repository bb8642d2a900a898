//! The OpenID AuthZEN Authorization API 1.0 on the wire: access evaluation (one and boxcarred),
//! subject, action and resource search, the PDP's discovery document, and Warden's per-account
//! mapping from AuthZEN's vocabulary (action names, entity properties) to its own (permissions,
//! condition attributes). Field names are AuthZEN's (`snake_case`), and so is the mapping's, so
//! that the world file's `authzen:` section is the mapping's body as it is.
//!
//! `properties` and `context` are free-form by design (AuthZEN lets the caller send any JSON): a
//! property reaches a decision only through the mapping, and only as a string or a list of
//! strings (numbers and booleans as their JSON text).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Free-form JSON members (AuthZEN `properties` and `context`).
pub type Properties = BTreeMap<String, Value>;

/// Who asks: `id` is an email, a service-user handle or a uid. `type` is the caller's word for it
/// (`user`, `identity`, …); search answers `user` or `service_user`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    #[serde(rename = "type")]
    #[schema(example = "user")]
    pub kind: String,
    #[schema(example = "alice@example.com")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Properties>,
}

/// What is being done: an action name the account's mapping knows, or a catalogue permission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    #[schema(example = "can_read_todos")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Properties>,
}

/// What it is done to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(rename = "type")]
    #[schema(example = "todo")]
    pub kind: String,
    #[schema(example = "7240d0db-8ff0-41ec-98b2-34a096273b9f")]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Properties>,
}

/// `POST /access/v1/evaluation`. `context.environment` selects the environment (none: the account
/// level), `context.time` (RFC 3339) the time; other context members reach the decision through
/// the mapping's `context_properties`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationRequest {
    pub subject: Subject,
    pub action: Action,
    pub resource: Resource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Properties>,
}

/// Why an evaluation came out as it did: Warden's decision reason on a denial
/// (`no-matching-allow`, `denied-by-statement`, `unknown-principal`, …), or the error of one evaluation of a boxcar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EvaluationError>,
}

/// The error of one evaluation in a boxcar: its HTTP status had it been asked alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationError {
    pub status: u16,
    pub message: String,
}

/// An access decision: `true` is ALLOW.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationResponse {
    pub decision: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<DecisionContext>,
}

/// One evaluation of a boxcar: what it leaves out comes from the request's defaults, each member
/// replaced whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Properties>,
}

/// How a boxcar is run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationsSemantic {
    /// Every evaluation, in order.
    #[default]
    ExecuteAll,
    /// In order, up to and including the first denial.
    DenyOnFirstDeny,
    /// In order, up to and including the first permit.
    PermitOnFirstPermit,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationsOptions {
    #[serde(default)]
    pub evaluations_semantic: EvaluationsSemantic,
}

/// `POST /access/v1/evaluations`: defaults, and the evaluations (up to 1,000). Without
/// `evaluations` (or with none) it is one evaluation of the defaults, answered as
/// `/access/v1/evaluation` answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationsRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<Vec<EvaluationItem>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<EvaluationsOptions>,
}

/// The answers of a boxcar, in request order (shorter than the request when a semantic stopped
/// early).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationsResponse {
    pub evaluations: Vec<EvaluationResponse>,
}

/// Either answer of `/access/v1/evaluations`: the boxcar's, or one evaluation's when the request
/// had no `evaluations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum EvaluationsAnswer {
    Many(EvaluationsResponse),
    One(EvaluationResponse),
}

/// A page asked for: `token` from the previous answer's `next_token`, `limit` 1–1,000 (100).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// The page answered: `next_token` is empty on the last page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PageResponse {
    pub next_token: String,
}

/// The subject searched for: its `type` (`user`, `service_user`, or another word for either).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectKind {
    #[serde(rename = "type")]
    #[schema(example = "user")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Properties>,
}

/// `POST /access/v1/search/subject`: who may do `action` on `resource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectSearchRequest {
    pub subject: SubjectKind,
    pub action: Action,
    pub resource: Resource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageRequest>,
}

/// A subject found: `user` or `service_user`, by email or handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FoundSubject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectSearchResponse {
    pub results: Vec<FoundSubject>,
    pub page: PageResponse,
}

/// `POST /access/v1/search/action`: what `subject` may do on `resource`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSearchRequest {
    pub subject: Subject,
    pub resource: Resource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FoundAction {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSearchResponse {
    pub results: Vec<FoundAction>,
    pub page: PageResponse,
}

/// The resources searched for: their `type`, and properties every one of them has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceKind {
    #[serde(rename = "type")]
    #[schema(example = "todo")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Properties>,
}

/// `POST /access/v1/search/resource`: the resources of a type the subject may do the action on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceSearchRequest {
    pub subject: Subject,
    pub action: Action,
    pub resource: ResourceKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<Properties>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PageRequest>,
}

/// A resource found, by its type and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FoundResource {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceSearchResponse {
    pub results: Vec<FoundResource>,
    pub page: PageResponse,
}

/// `GET /.well-known/authzen-configuration`: where the PDP answers (absolute URLs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PdpConfiguration {
    pub policy_decision_point: String,
    pub access_evaluation_endpoint: String,
    pub access_evaluations_endpoint: String,
    pub search_subject_endpoint: String,
    pub search_resource_endpoint: String,
    pub search_action_endpoint: String,
}

/// An account's AuthZEN vocabulary. `actions` maps an action name to a catalogue permission (a
/// name that is already a permission needs no entry); the property maps name the condition
/// attribute a property (of the resource, the subject or the context) is read as. `id` and `type`
/// in `resource_properties` map the resource's own `id` and `type`. A property without an entry
/// is not part of the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default, deserialize_with = "crate::nullable::or_default")]
    #[schema(example = json!({ "can_read_todos": "todo:todos:read" }))]
    pub actions: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::nullable::or_default")]
    #[schema(example = json!({ "ownerID": "todo:owner" }))]
    pub resource_properties: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::nullable::or_default")]
    pub subject_properties: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "crate::nullable::or_default")]
    pub context_properties: BTreeMap<String, String>,
}
