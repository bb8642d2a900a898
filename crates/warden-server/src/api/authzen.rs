//! The OpenID AuthZEN Authorization API 1.0 over HTTP (`/access/v1/…`, the discovery document)
//! and the account's AuthZEN mapping (`/iam/v1/accounts/{accountId}/authzen`). The use cases are
//! `crate::service::authzen`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use warden_api::ErrorBody;
use warden_api::authzen::{
    ActionSearchRequest, ActionSearchResponse, EvaluationRequest, EvaluationResponse,
    EvaluationsAnswer, EvaluationsRequest, Mapping, PdpConfiguration, ResourceSearchRequest,
    ResourceSearchResponse, SubjectSearchRequest, SubjectSearchResponse,
};

use crate::api::{Body, Path, Written};
use crate::error::ApiResult;
use crate::service::{Authed, authzen};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/access/v1/evaluation",
    tag = "authzen",
    operation_id = "authzen_evaluation",
    summary = "AuthZEN: one access evaluation",
    description = "The subject (an email, service-user handle or uid), the action (mapped to a permission by the account's AuthZEN mapping, or a permission's own name), the resource and its mapped properties, `context.environment` and `context.time` make one Warden decision. A caller may always ask about itself; about another principal it needs `iam:effective-permissions:read`. A denial says why in `context.reason`.",
    request_body = EvaluationRequest,
    responses(
        (status = 200, description = "The decision", body = EvaluationResponse),
        (status = 400, description = "Invalid input: an action neither mapped nor a permission, an unknown permission, a property that is not a string or a list of strings, a bad `context.time`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Asking about another principal without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 503, description = "The store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read (for another principal)"))),
)]
pub async fn evaluation(
    State(state): State<AppState>,
    authed: Authed,
    Body(request): Body<EvaluationRequest>,
) -> ApiResult<axum::Json<EvaluationResponse>> {
    authzen::evaluate(&state, &authed, &request)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/access/v1/evaluations",
    tag = "authzen",
    operation_id = "authzen_evaluations",
    summary = "AuthZEN: up to 1,000 access evaluations in one request",
    description = "The request's `subject`, `action`, `resource` and `context` are defaults; a member an evaluation gives replaces the default whole. `options.evaluations_semantic`: `execute_all` (default), `deny_on_first_deny` or `permit_on_first_permit` (answers stop after the first denial or permit). An evaluation that cannot be made is answered `decision: false` with `context.error` (its status and message); the others are answered. Without `evaluations`, the defaults are one evaluation, answered as `/access/v1/evaluation` answers.",
    request_body = EvaluationsRequest,
    responses(
        (status = 200, description = "The decisions, in order", body = EvaluationsAnswer),
        (status = 400, description = "Invalid input: more than 1,000 evaluations; without `evaluations`, as `/access/v1/evaluation`", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Without `evaluations`: asking about another principal without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 503, description = "The store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read (for another principal)"))),
)]
pub async fn evaluations(
    State(state): State<AppState>,
    authed: Authed,
    Body(request): Body<EvaluationsRequest>,
) -> ApiResult<axum::Json<EvaluationsAnswer>> {
    authzen::evaluate_many(&state, &authed, &request)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/access/v1/search/resource",
    tag = "authzen",
    operation_id = "authzen_search_resource",
    summary = "AuthZEN: the resources of a type the subject may do an action on",
    description = "Warden keeps no inventory of resources: the answer is read from the residual of the request with the resource's `id` left free (the account's mapping must map `id` in `resource_properties`). No resource when the residual is false; the ids it lists when it is `=`/`IN` on that attribute (or a choice of those), sorted and paged with `page.token` and `page.limit` (1–1,000, default 100); otherwise 501 naming the condition (in `details.residual` as JSON), to filter one's own resources with. A caller may always ask about itself; about another principal it needs `iam:effective-permissions:read`.",
    request_body = ResourceSearchRequest,
    responses(
        (status = 200, description = "A page of resources; `page.next_token` is empty on the last", body = ResourceSearchResponse),
        (status = 400, description = "Invalid input: an unmapped action, a bad page, an unknown permission", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "About another principal without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 501, description = "The resources are not a list of ids (every resource, or a condition on other attributes), or `id` is not mapped", body = ErrorBody),
        (status = 503, description = "The store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read (for another principal)"))),
)]
pub async fn search_resource(
    State(state): State<AppState>,
    authed: Authed,
    Body(request): Body<ResourceSearchRequest>,
) -> ApiResult<axum::Json<ResourceSearchResponse>> {
    authzen::search_resources(&state, &authed, &request)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/access/v1/search/subject",
    tag = "authzen",
    operation_id = "authzen_search_subject",
    summary = "AuthZEN: the subjects that may do an action on a resource",
    description = "Active users (`subject.type` `user`), service users (`service_user`), or both (any other type), by email or handle, in that order; paged with `page.token` and `page.limit` (1–1,000, default 100). Permission: `iam:effective-permissions:read`.",
    request_body = SubjectSearchRequest,
    responses(
        (status = 200, description = "A page of subjects; `page.next_token` is empty on the last", body = SubjectSearchResponse),
        (status = 400, description = "Invalid input: an unmapped action, a bad page", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 503, description = "The store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read"))),
)]
pub async fn search_subject(
    State(state): State<AppState>,
    authed: Authed,
    Body(request): Body<SubjectSearchRequest>,
) -> ApiResult<axum::Json<SubjectSearchResponse>> {
    authzen::search_subjects(&state, &authed, &request)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    post,
    path = "/access/v1/search/action",
    tag = "authzen",
    operation_id = "authzen_search_action",
    summary = "AuthZEN: the actions a subject may do on a resource",
    description = "The mapping's action names (or, without any, the catalogue's permissions) the subject may do, in name order; paged with `page.token` and `page.limit` (1–1,000, default 100). A caller may always ask about itself; about another principal it needs `iam:effective-permissions:read`.",
    request_body = ActionSearchRequest,
    responses(
        (status = 200, description = "A page of actions; `page.next_token` is empty on the last", body = ActionSearchResponse),
        (status = 400, description = "Invalid input: a bad page, a property that is not a string or a list of strings", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Asking about another principal without `iam:effective-permissions:read`", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
        (status = 503, description = "The store unreachable for too long; retry after `Retry-After` seconds", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:effective-permissions:read (for another principal)"))),
)]
pub async fn search_action(
    State(state): State<AppState>,
    authed: Authed,
    Body(request): Body<ActionSearchRequest>,
) -> ApiResult<axum::Json<ActionSearchResponse>> {
    authzen::search_actions(&state, &authed, &request)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    get,
    path = "/.well-known/authzen-configuration",
    tag = "authzen",
    operation_id = "authzen_configuration",
    summary = "AuthZEN: where this policy decision point answers",
    description = "Absolute URLs on the scheme and host the request used (`https` behind TLS or a proxy that says so). Resource search is not offered: a service filters its records with a residual (`POST /iam/v1/authorize/residual`). Answers without a token.",
    responses(
        (status = 200, description = "The discovery document", body = PdpConfiguration),
    ),
    security(()),
)]
pub async fn configuration(uri: Uri, headers: HeaderMap) -> axum::Json<PdpConfiguration> {
    let host = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let scheme = if crate::console::session::is_https(&headers) {
        "https"
    } else {
        "http"
    };
    axum::Json(authzen::configuration(&format!("{scheme}://{host}")))
}

#[utoipa::path(
    get,
    path = "/iam/v1/accounts/{accountId}/authzen",
    tag = "authzen",
    operation_id = "authzen_mapping_get",
    summary = "The account's AuthZEN mapping",
    description = "Action names to permissions, and resource, subject and context properties to condition attributes. Permission: `iam:catalogue:read`.",
    params(("accountId" = String, Path, description = "The account")),
    responses(
        (status = 200, description = "The mapping", body = Mapping),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:catalogue:read"))),
)]
pub async fn mapping(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
) -> ApiResult<axum::Json<Mapping>> {
    authzen::read_mapping(&state, &authed, &account)
        .await
        .map(axum::Json)
}

#[utoipa::path(
    put,
    path = "/iam/v1/accounts/{accountId}/authzen",
    tag = "authzen",
    operation_id = "authzen_mapping_put",
    summary = "Replace the account's AuthZEN mapping",
    description = "Every action must map to a permission of the catalogue, every property to a condition attribute of the catalogue; up to 1,000 entries per section. The mapping decides which permission an action is, so it takes what changing the catalogue takes. Permission: `iam:catalogue:write`.",
    params(("accountId" = String, Path, description = "The account")),
    request_body = Mapping,
    responses(
        (status = 200, description = "The mapping as stored", body = Mapping, headers(("warden-revision" = i64, description = "The store revision of the change"))),
        (status = 400, description = "An unknown permission or condition attribute, an empty or overlong name, too many entries", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "Not permitted", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 413, description = "A body larger than 1 MiB", body = ErrorBody),
        (status = 415, description = "A body not sent as JSON", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("iam:catalogue:write"))),
)]
pub async fn replace_mapping(
    State(state): State<AppState>,
    authed: Authed,
    Path(account): Path<String>,
    Body(mapping): Body<Mapping>,
) -> ApiResult<Written<Mapping>> {
    let (mapping, revision) = authzen::replace_mapping(&state, &authed, &account, mapping).await?;
    Ok(Written {
        status: StatusCode::OK,
        revision,
        body: Some(mapping),
    })
}
