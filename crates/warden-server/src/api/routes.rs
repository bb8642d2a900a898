//! Every endpoint, from two places that both build the router and `/openapi.json`, so that route
//! and document cannot drift apart: [`typed_routes`], the handlers declared with
//! `#[utoipa::path]` (typed bodies, every status, parameters and the permission); and the table
//! [`ENDPOINTS`] of those not yet declared that way, each naming its handler, the permission that
//! guards it and a one-line summary, documented with untyped bodies.

use std::collections::BTreeMap;

use axum::routing::{MethodRouter, delete, get, post, put};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    audit, authorize, bindings, boundaries, catalogue, environments, group_permissions, groups,
    health, oauth, oauth_clients, passwords, platform_tokens, policies, resolution, review,
    service_users, users, workflows,
};
use crate::state::AppState;
use warden_api::ErrorBody;
use warden_api::service::Me;

#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub operation: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    /// `None` for the endpoints that answer without a token.
    pub permission: Option<&'static str>,
}

const fn e(
    method: &'static str,
    path: &'static str,
    operation: &'static str,
    tag: &'static str,
    summary: &'static str,
    permission: Option<&'static str>,
) -> Endpoint {
    Endpoint {
        method,
        path,
        operation,
        tag,
        summary,
        permission,
    }
}

pub const ENDPOINTS: &[Endpoint] = &[
    e(
        "GET",
        "/iam/v1/repo/{levelType}/{levelId}/bindings",
        "bindings_list",
        "bindings",
        "Every binding at a level",
        Some("iam:bindings:read"),
    ),
    e(
        "DELETE",
        "/iam/v1/repo/{levelType}/{levelId}/bindings",
        "bindings_delete_all",
        "bindings",
        "Delete every binding at a level",
        Some("iam:bindings:write"),
    ),
    e(
        "GET",
        "/iam/v1/repo/account/{levelId}/bindings/descendants/{policyUuid}",
        "bindings_descendants",
        "bindings",
        "A policy's bindings in every environment of the account",
        Some("iam:bindings:read"),
    ),
    e(
        "GET",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/groups/{groupUuid}",
        "bindings_of_group",
        "bindings",
        "A group's bindings (`details=true` for parameters and boundaries)",
        Some("iam:bindings:read"),
    ),
    e(
        "PUT",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/groups/{groupUuid}",
        "bindings_set_group",
        "bindings",
        "Make a group's bindings exactly these policies",
        Some("iam:bindings:write"),
    ),
    e(
        "GET",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}",
        "bindings_of_policy",
        "bindings",
        "A policy's bindings at a level",
        Some("iam:bindings:read"),
    ),
    e(
        "POST",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}",
        "bindings_add_groups",
        "bindings",
        "Bind a policy to groups",
        Some("iam:bindings:write"),
    ),
    e(
        "DELETE",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}",
        "bindings_delete_of_policy",
        "bindings",
        "Delete a policy's bindings (filtered by `parameters[k]`, `metadata[k]`)",
        Some("iam:bindings:write"),
    ),
    e(
        "GET",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
        "bindings_get",
        "bindings",
        "The bindings of a policy to a group",
        Some("iam:bindings:read"),
    ),
    e(
        "POST",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
        "bindings_add",
        "bindings",
        "Add a binding with parameters, metadata and boundaries",
        Some("iam:bindings:write"),
    ),
    e(
        "PUT",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
        "bindings_put",
        "bindings",
        "Update or create the binding matching the query filter",
        Some("iam:bindings:write"),
    ),
    e(
        "DELETE",
        "/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}",
        "bindings_delete",
        "bindings",
        "Delete the bindings of a policy to a group",
        Some("iam:bindings:write"),
    ),
    e(
        "GET",
        "/iam/v1/catalogue",
        "catalogue_list",
        "catalogue",
        "Services, permissions, conditions and operators",
        Some("iam:catalogue:read"),
    ),
    e(
        "POST",
        "/iam/v1/catalogue/services",
        "catalogue_register",
        "catalogue",
        "Register a custom service",
        Some("iam:catalogue:write"),
    ),
    e(
        "GET",
        "/iam/v1/catalogue/permissions/{permission}",
        "catalogue_permission",
        "catalogue",
        "One permission",
        Some("iam:catalogue:read"),
    ),
    e(
        "GET",
        "/iam/v1/accounts/{accountId}/service-users",
        "service_users_list",
        "service users",
        "Service users",
        Some("iam:service-users:read"),
    ),
    e(
        "GET",
        "/iam/v1/accounts/{accountId}/service-users/review",
        "service_users_review",
        "service users",
        "Service users unused, unreviewed, without owner, or with unused permissions",
        Some("iam:service-users:read"),
    ),
    e(
        "POST",
        "/iam/v1/accounts/{accountId}/service-users",
        "service_users_create",
        "service users",
        "Create a service user with its own group",
        Some("iam:service-users:write"),
    ),
    e(
        "GET",
        "/iam/v1/accounts/{accountId}/service-users/{uid}",
        "service_users_get",
        "service users",
        "One service user",
        Some("iam:service-users:read"),
    ),
    e(
        "PUT",
        "/iam/v1/accounts/{accountId}/service-users/{uid}",
        "service_users_update",
        "service users",
        "Update name, description, owner or purpose; a changed immutable field is a 400 saying why",
        Some("iam:service-users:write"),
    ),
    e(
        "DELETE",
        "/iam/v1/accounts/{accountId}/service-users/{uid}",
        "service_users_delete",
        "service users",
        "Delete a service user; 409 listing its OAuth clients, platform tokens and workflows while any exist",
        Some("iam:service-users:write"),
    ),
    e(
        "POST",
        "/iam/v1/accounts/{accountId}/service-users/{uid}/deactivate",
        "service_users_deactivate",
        "service users",
        "Deactivate with a reason: every decision for it is DENY and its tokens stop at once",
        Some("iam:service-users:write"),
    ),
    e(
        "POST",
        "/iam/v1/accounts/{accountId}/service-users/{uid}/reactivate",
        "service_users_reactivate",
        "service users",
        "Reactivate a deactivated service user",
        Some("iam:service-users:write"),
    ),
    e(
        "POST",
        "/iam/v1/accounts/{accountId}/service-users/{uid}/review",
        "service_users_mark_reviewed",
        "service users",
        "Record a review (`lastReviewedAt`), optionally with `{note}`",
        Some("iam:service-users:write"),
    ),
    e(
        "GET",
        "/automation/v1/workflows",
        "workflows_list",
        "workflows",
        "Workflows visible to the caller (`adminAccess=true` for all)",
        Some("automation:workflows:read"),
    ),
    e(
        "POST",
        "/automation/v1/workflows",
        "workflows_create",
        "workflows",
        "Create a workflow record (owner, visibility, actor)",
        Some("automation:workflows:write"),
    ),
    e(
        "GET",
        "/automation/v1/workflows/{workflowId}",
        "workflows_get",
        "workflows",
        "One workflow, if visible",
        Some("automation:workflows:read"),
    ),
    e(
        "PUT",
        "/automation/v1/workflows/{workflowId}",
        "workflows_update",
        "workflows",
        "Update; only the owner changes visibility or ownership; the updater becomes the actor",
        Some("automation:workflows:write"),
    ),
    e(
        "DELETE",
        "/automation/v1/workflows/{workflowId}",
        "workflows_delete",
        "workflows",
        "Delete a workflow record",
        Some("automation:workflows:write"),
    ),
    e(
        "POST",
        "/automation/v1/workflows/{workflowId}/authorize-task",
        "workflows_authorize_task",
        "workflows",
        "Decide a task as the workflow's actor (permissions ∩ consent for a human actor)",
        Some("automation:workflows:run"),
    ),
    e(
        "GET",
        "/automation/v1/authorization-settings",
        "consent_get",
        "workflows",
        "The caller's consent for an environment",
        Some("any valid token"),
    ),
    e(
        "PUT",
        "/automation/v1/authorization-settings",
        "consent_put",
        "workflows",
        "Set the caller's consent for an environment",
        Some("any valid token"),
    ),
];

/// The handler of an operation, on its method.
fn handler(operation: &str) -> Option<MethodRouter<AppState>> {
    Some(match operation {
        "bindings_list" => get(bindings::list),
        "bindings_delete_all" => delete(bindings::delete_all),
        "bindings_descendants" => get(bindings::descendants),
        "bindings_of_group" => get(bindings::of_group),
        "bindings_set_group" => put(bindings::set_group_policies),
        "bindings_of_policy" => get(bindings::of_policy),
        "bindings_add_groups" => post(bindings::add_groups),
        "bindings_delete_of_policy" => delete(bindings::delete_of_policy),
        "bindings_get" => get(bindings::of_policy_and_group),
        "bindings_add" => post(bindings::add_one),
        "bindings_put" => put(bindings::put_one),
        "bindings_delete" => delete(bindings::delete_one),
        "catalogue_list" => get(catalogue::list),
        "catalogue_register" => post(catalogue::register),
        "catalogue_permission" => get(catalogue::permission),
        "service_users_review" => get(review::report),
        "service_users_list" => get(service_users::list),
        "service_users_create" => post(service_users::create),
        "service_users_get" => get(service_users::get),
        "service_users_update" => put(service_users::update),
        "service_users_delete" => delete(service_users::delete),
        "service_users_deactivate" => post(service_users::deactivate),
        "service_users_reactivate" => post(service_users::reactivate),
        "service_users_mark_reviewed" => post(service_users::review),
        "workflows_list" => get(workflows::list),
        "workflows_create" => post(workflows::create),
        "workflows_get" => get(workflows::get),
        "workflows_update" => put(workflows::update),
        "workflows_delete" => delete(workflows::delete),
        "workflows_authorize_task" => post(workflows::authorize_task),
        "consent_get" => get(workflows::get_consent),
        "consent_put" => put(workflows::put_consent),
        _ => return None,
    })
}

/// Every path with the methods routed on it.
pub fn method_routers() -> BTreeMap<&'static str, MethodRouter<AppState>> {
    let mut routes: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for endpoint in ENDPOINTS {
        let Some(method_router) = handler(endpoint.operation) else {
            continue;
        };
        let merged = match routes.remove(endpoint.path) {
            Some(existing) => existing.merge(method_router),
            None => method_router,
        };
        routes.insert(endpoint.path, merged);
    }
    routes
}

/// Operations of the table without a handler (a test keeps this empty).
pub fn unrouted() -> Vec<&'static str> {
    ENDPOINTS
        .iter()
        .filter(|e| handler(e.operation).is_none())
        .map(|e| e.operation)
        .collect()
}

/// The OpenAPI 3.1 document of the table.
fn table_document() -> Value {
    let mut paths: BTreeMap<&str, serde_json::Map<String, Value>> = BTreeMap::new();
    for endpoint in ENDPOINTS {
        let parameters: Vec<Value> = endpoint
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let mut operation = json!({
            "operationId": endpoint.operation,
            "tags": [endpoint.tag],
            "summary": endpoint.summary,
            "parameters": parameters,
            "responses": {
                "default": { "description": "`{\"error\":{\"code\",\"message\",\"details\"}}` on any error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } },
                "200": { "description": "success", "content": { "application/json": { "schema": { "type": "object" } } } }
            },
        });
        match endpoint.permission {
            Some(permission) => {
                crate::api::set(&mut operation, "security", json!([{ "bearer": [] }]));
                crate::api::set(&mut operation, "x-warden-permission", json!(permission));
            }
            None => crate::api::set(&mut operation, "security", json!([])),
        }
        if matches!(endpoint.method, "POST" | "PUT") {
            crate::api::set(
                &mut operation,
                "requestBody",
                json!({ "required": true, "content": { "application/json": { "schema": { "type": ["object", "array"] } } } }),
            );
        }
        paths
            .entry(endpoint.path)
            .or_default()
            .insert(endpoint.method.to_lowercase(), operation);
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Warden", "version": env!("CARGO_PKG_VERSION"), "description": "Identity and access management: policies, bindings, boundaries, groups, users, service users and decisions." },
        "paths": paths,
        "components": {
            "schemas": { "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": {
                "code": { "type": "string" }, "message": { "type": "string" }, "details": {} }, "required": ["code", "message"] } } } }
        },
    })
}

/// The endpoints declared with their handlers (`#[utoipa::path]`): route and document come from
/// one declaration.
pub fn typed_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(security_schemes())
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::get, groups::update, groups::delete))
        .routes(routes!(groups::members))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::add_groups, users::delete))
        .routes(routes!(users::replace_groups, users::remove_groups))
        .routes(routes!(passwords::set_password))
        .routes(routes!(boundaries::list, boundaries::create))
        .routes(routes!(
            boundaries::get,
            boundaries::upsert,
            boundaries::delete
        ))
        .routes(routes!(platform_tokens::list, platform_tokens::create))
        .routes(routes!(platform_tokens::delete))
        .routes(routes!(platform_tokens::set_expiration))
        .routes(routes!(platform_tokens::set_status))
        .routes(routes!(oauth_clients::list, oauth_clients::create))
        .routes(routes!(oauth_clients::get, oauth_clients::delete))
        .routes(routes!(oauth_clients::add_secret))
        .routes(routes!(oauth_clients::revoke_secret))
        .routes(routes!(policies::list, policies::create))
        .routes(routes!(policies::aggregate))
        .routes(routes!(policies::get, policies::upsert, policies::delete))
        .routes(routes!(policies::validate))
        .routes(routes!(policies::validate_existing))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics))
        .routes(routes!(me))
        .routes(routes!(authorize::authorize))
        .routes(routes!(authorize::authorize_batch))
        .routes(routes!(environments::limits))
        .routes(routes!(resolution::effective_permissions))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(environments::list, environments::create))
        .routes(routes!(environments::list_dynatrace))
        .routes(routes!(group_permissions::get, group_permissions::set))
        .routes(routes!(oauth::token))
        .routes(routes!(oauth::revoke))
        .routes(routes!(oauth::introspect))
}

/// The security schemes the operations name: `bearer` (a Warden token) and `clientBasic` (an
/// OAuth client's id and secret, for the OAuth endpoints).
fn security_schemes() -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
    let mut components = utoipa::openapi::Components::new();
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("A Warden token (`wdn_…`)"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "clientBasic",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Basic)
                .description(Some(
                    "An OAuth client id and secret (or `client_id`/`client_secret` form parameters)",
                ))
                .build(),
        ),
    );
    utoipa::openapi::OpenApiBuilder::new()
        .components(Some(components))
        .build()
}

/// The OpenAPI 3.1 document served at `/openapi.json`: the typed endpoints' generated
/// operations and schemas, with the table's.
pub fn document() -> Value {
    merge_generated(table_document(), typed_routes().into_openapi())
}

fn merge_generated(mut document: Value, generated: utoipa::openapi::OpenApi) -> Value {
    let generated = json!(generated);
    for (parent, section) in [
        ("", "paths"),
        ("/components", "schemas"),
        ("/components", "securitySchemes"),
    ] {
        let pointer = format!("{parent}/{section}");
        if document.pointer(&pointer).is_none()
            && let Some(parent) = document.pointer_mut(parent)
        {
            crate::api::set(parent, section, json!({}));
        }
        let (Some(from), Some(into)) = (
            generated
                .pointer(&pointer)
                .and_then(Value::as_object)
                .cloned(),
            document
                .pointer_mut(&pointer)
                .and_then(Value::as_object_mut),
        ) else {
            continue;
        };
        into.extend(from);
    }
    document
}

#[utoipa::path(
    get,
    path = "/iam/v1/me",
    tag = "service",
    operation_id = "me",
    summary = "The caller: uid, email, account and token",
    description = "Permission: any valid token.",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("bearer" = [])),
    extensions(("x-warden-permission" = json!("any valid token"))),
)]
async fn me(
    axum::extract::State(state): axum::extract::State<AppState>,
    authed: crate::service::Authed,
) -> axum::Json<Me> {
    let model = state.model.lock().await;
    let principal = model.principals.get(&authed.caller.uid);
    axum::Json(Me {
        uid: authed.caller.uid.clone(),
        email: principal.map(|p| p.email.clone()),
        name: principal.map(|p| p.name.clone()),
        account: model.account.clone(),
        token_id: authed.caller.token_id.clone(),
        scopes: authed.caller.scopes.listed().to_vec(),
        unrestricted: authed.caller.scopes == crate::service::Scopes::All,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]

    use serde_json::{Value, json};

    fn statuses(operation: &Value) -> Vec<&str> {
        operation["responses"]
            .as_object()
            .map(|responses| responses.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn parameters(operation: &Value) -> Vec<(&str, &str)> {
        operation["parameters"]
            .as_array()
            .map(|all| {
                all.iter()
                    .map(|p| {
                        (
                            p["in"].as_str().unwrap_or(""),
                            p["name"].as_str().unwrap_or(""),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn typed_operations_document_statuses_parameters_bodies_and_permissions() {
        let document = super::document();
        let groups = &document["paths"]["/iam/v1/accounts/{accountId}/groups"];
        let group = &document["paths"]["/iam/v1/accounts/{accountId}/groups/{groupUuid}"];

        let create = &groups["post"];
        assert_eq!(create["operationId"], "groups_create");
        assert_eq!(
            statuses(create),
            ["201", "400", "401", "403", "404", "409", "413", "415"]
        );
        assert_eq!(parameters(create), [("path", "accountId")]);
        assert_eq!(
            create["requestBody"]["content"]["application/json"]["schema"],
            json!({ "type": "array", "items": { "$ref": "#/components/schemas/GroupInput" } })
        );
        assert_eq!(
            create["responses"]["409"]["content"]["application/json"]["schema"],
            json!({ "$ref": "#/components/schemas/ErrorBody" })
        );
        assert_eq!(create["security"], json!([{ "bearer": [] }]));
        assert_eq!(create["x-warden-permission"], "iam:groups:write");

        let update = &group["put"];
        assert_eq!(
            statuses(update),
            ["200", "400", "401", "403", "404", "409", "413", "415"]
        );
        assert_eq!(
            parameters(update),
            [("path", "accountId"), ("path", "groupUuid")]
        );
        assert_eq!(
            update["requestBody"]["content"]["application/json"]["schema"],
            json!({ "$ref": "#/components/schemas/GroupInput" })
        );

        let delete = &group["delete"];
        assert_eq!(statuses(delete), ["200", "401", "403", "404", "409"]);
        assert_eq!(delete["requestBody"], Value::Null);
        assert_eq!(
            delete["responses"]["200"]["headers"]["warden-revision"]["schema"],
            json!({ "type": "integer", "format": "int64" })
        );

        let list = &groups["get"];
        assert_eq!(statuses(list), ["200", "401", "403", "404"]);
        assert_eq!(
            list["responses"]["200"]["content"]["application/json"]["schema"],
            json!({ "$ref": "#/components/schemas/List_GroupDto" })
        );
        assert_eq!(list["x-warden-permission"], "iam:groups:read");

        let schemas = &document["components"]["schemas"];
        for name in [
            "GroupInput",
            "GroupDto",
            "List_GroupDto",
            "UserSummary",
            "ErrorBody",
        ] {
            assert!(schemas[name].is_object(), "{name} missing");
        }
        assert_eq!(
            document["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
    }

    #[test]
    fn paging_parameters_are_query_parameters() {
        let document = super::document();
        let list = &document["paths"]["/iam/v1/repo/account/{accountId}/boundaries"]["get"];
        assert_eq!(
            parameters(list),
            [("path", "accountId"), ("query", "page"), ("query", "size")]
        );
    }

    #[test]
    fn policy_operations_are_typed() {
        let document = super::document();
        let paths = &document["paths"];
        let list = &paths["/iam/v1/repo/{levelType}/{levelId}/policies"]["get"];
        assert_eq!(list["operationId"], "policies_list");
        assert_eq!(
            parameters(list),
            [
                ("path", "levelType"),
                ("path", "levelId"),
                ("query", "name")
            ]
        );
        assert_eq!(
            list["responses"]["200"]["content"]["application/json"]["schema"],
            json!({ "$ref": "#/components/schemas/PolicyList" })
        );

        let validate = &paths["/iam/v1/repo/{levelType}/{levelId}/policies/validation"]["post"];
        assert_eq!(
            statuses(validate),
            ["200", "400", "401", "403", "404", "413", "415"]
        );
        assert_eq!(
            validate["responses"]["200"]["content"]["application/json"]["schema"],
            json!({ "$ref": "#/components/schemas/PolicyValidation" })
        );

        let one = &paths["/iam/v1/repo/{levelType}/{levelId}/policies/{policyUuid}"];
        assert_eq!(
            statuses(&one["put"]),
            [
                "201", "204", "400", "401", "403", "404", "409", "413", "415"
            ]
        );
        assert_eq!(
            parameters(&one["delete"]),
            [
                ("path", "levelType"),
                ("path", "levelId"),
                ("path", "policyUuid"),
                ("query", "force")
            ]
        );
        assert_eq!(one["delete"]["x-warden-permission"], "iam:policies:write");
        for name in ["PolicyDto", "PolicyDiagnostic", "PolicyOverviewList"] {
            assert!(
                document["components"]["schemas"][name].is_object(),
                "{name} missing"
            );
        }
    }
}
