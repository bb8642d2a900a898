//! Every endpoint of the API, declared once with its handler (`#[utoipa::path]`: typed bodies,
//! every status, parameters and the permission that guards it), so that the router and
//! `/openapi.json` cannot drift apart.

use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    audit, authorize, authzen, batch, bindings, boundaries, catalogue, environments,
    group_permissions, groups, health, oauth, oauth_clients, passwords, platform_tokens, policies,
    resolution, service_users, users, workflows,
};
use crate::state::AppState;
use warden_api::ErrorBody;
use warden_api::service::Me;

/// The endpoints declared with their handlers (`#[utoipa::path]`): route and document come from
/// one declaration.
pub fn typed_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(frame())
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
        .routes(routes!(bindings::list, bindings::delete_all))
        .routes(routes!(bindings::descendants))
        .routes(routes!(bindings::of_group, bindings::set_group_policies))
        .routes(routes!(
            bindings::of_policy,
            bindings::add_groups,
            bindings::delete_of_policy
        ))
        .routes(routes!(
            bindings::of_policy_and_group,
            bindings::add_one,
            bindings::put_one,
            bindings::delete_one
        ))
        .routes(routes!(service_users::list, service_users::create))
        .routes(routes!(service_users::report))
        .routes(routes!(
            service_users::get,
            service_users::update,
            service_users::delete
        ))
        .routes(routes!(service_users::deactivate))
        .routes(routes!(service_users::reactivate))
        .routes(routes!(service_users::history))
        .routes(routes!(service_users::review))
        .routes(routes!(service_users::suggested_policy))
        .routes(routes!(workflows::list, workflows::create))
        .routes(routes!(
            workflows::get,
            workflows::update,
            workflows::delete
        ))
        .routes(routes!(workflows::authorize_task))
        .routes(routes!(workflows::get_consent, workflows::put_consent))
        .routes(routes!(catalogue::list))
        .routes(routes!(catalogue::register))
        .routes(routes!(catalogue::permission))
        .routes(routes!(health::health))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics))
        .routes(routes!(me))
        .routes(routes!(authorize::authorize))
        .routes(routes!(authorize::authorize_batch))
        .routes(routes!(authorize::authorize_residual))
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
        .routes(routes!(authzen::evaluation))
        .routes(routes!(authzen::evaluations))
        .routes(routes!(authzen::search_subject))
        .routes(routes!(authzen::search_resource))
        .routes(routes!(authzen::search_action))
        .routes(routes!(authzen::configuration))
        .routes(routes!(authzen::mapping, authzen::replace_mapping))
        .routes(routes!(batch::apply))
}

/// The document's frame: its title and version, and the security schemes the operations name:
/// `bearer` (a Warden token) and `clientBasic` (an OAuth client's id and secret, for the OAuth
/// endpoints).
fn frame() -> utoipa::openapi::OpenApi {
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
    let info = utoipa::openapi::InfoBuilder::new()
        .title("Warden")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Identity and access management: policies, bindings, boundaries, groups, users, service users and decisions.",
        ))
        .build();
    utoipa::openapi::OpenApiBuilder::new()
        .info(info)
        .components(Some(components))
        .build()
}

/// The OpenAPI 3.1 document served at `/openapi.json`, generated from the declarations.
pub fn document() -> Value {
    json!(typed_routes().into_openapi())
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

    #[test]
    fn binding_service_user_workflow_and_catalogue_operations_are_typed() {
        let document = super::document();
        let paths = &document["paths"];
        let body = |operation: &Value| {
            operation["requestBody"]["content"]["application/json"]["schema"].clone()
        };
        let answer = |operation: &Value, status: &str| {
            operation["responses"][status]["content"]["application/json"]["schema"].clone()
        };
        let schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });

        let one = &paths["/iam/v1/repo/{levelType}/{levelId}/bindings/{policyUuid}/{groupUuid}"];
        assert_eq!(body(&one["post"]), schema("BindingInput"));
        assert_eq!(answer(&one["get"], "200"), schema("LevelBindings"));
        assert_eq!(
            parameters(&one["delete"]),
            [
                ("path", "levelType"),
                ("path", "levelId"),
                ("path", "policyUuid"),
                ("path", "groupUuid"),
                ("query", "parameters"),
                ("query", "metadata"),
                ("query", "forceMultiple")
            ]
        );
        assert_eq!(one["put"]["x-warden-permission"], "iam:bindings:write");
        let group = &paths["/iam/v1/repo/{levelType}/{levelId}/bindings/groups/{groupUuid}"];
        assert_eq!(answer(&group["get"], "200"), schema("GroupBindings"));
        assert_eq!(body(&group["put"]), schema("PolicyUuidsInput"));

        let users = &paths["/iam/v1/accounts/{accountId}/service-users"];
        assert_eq!(body(&users["post"]), schema("ServiceUserInput"));
        assert_eq!(answer(&users["post"], "201"), schema("ServiceUserDto"));
        assert_eq!(answer(&users["get"], "200"), schema("ServiceUserPage"));
        let review = &paths["/iam/v1/accounts/{accountId}/service-users/review"]["get"];
        assert_eq!(
            parameters(review),
            [
                ("path", "accountId"),
                ("query", "unusedDays"),
                ("query", "unreviewedDays"),
                ("query", "rotationDays")
            ]
        );
        let report = answer(review, "200");
        assert_eq!(report, schema("ReviewReport"));
        for name in [
            "ReviewEntry",
            "ReviewGroup",
            "RotationDue",
            "ReviewWorkflow",
        ] {
            assert!(
                document["components"]["schemas"][name].is_object(),
                "{name} missing"
            );
        }

        let task = &paths["/automation/v1/workflows/{workflowId}/authorize-task"]["post"];
        assert_eq!(body(task), schema("TaskInput"));
        assert_eq!(answer(task, "200"), schema("TaskDecision"));
        assert_eq!(task["x-warden-permission"], "automation:workflows:run");
        let register = &paths["/iam/v1/catalogue/services"]["post"];
        assert_eq!(body(register), schema("ServiceDefinition"));
        assert_eq!(
            statuses(register),
            ["201", "400", "401", "403", "409", "413", "415"]
        );
    }
}
