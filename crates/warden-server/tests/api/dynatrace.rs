//! Replays what Dynatrace's own clients send — the Go client of the Terraform provider and of
//! Monaco — and checks that Warden answers with Dynatrace's status codes and shapes: the
//! provider's create/read/update/delete of a group, a policy, a binding with parameters and a
//! boundary; Dynatrace's environment list, group permissions, paging and coarse OAuth scopes.
//!
//! The bodies a Go client sends with unset fields (`null`s, `"uid": ""`, `"tags": []`) are
//! accepted: the typed wire format reads `null` as absent.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;

#[tokio::test]
async fn the_providers_crud_sequence_gets_dynatraces_statuses_and_shapes() {
    let server = TestServer::start().await;
    let acc = server.account();
    let repo = format!("/iam/v1/repo/account/{acc}");

    // A group: POST an array → 201 with an array; GET → 200; PUT → 200; DELETE → 200.
    let created = server
        .post(
            &format!("/iam/v1/accounts/{acc}/groups"),
            json!([{ "name": "tf-group", "description": "made by terraform" }]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let group = created.body[0]["uuid"].as_str().unwrap().to_owned();
    let read = server
        .get(&format!("/iam/v1/accounts/{acc}/groups/{group}"))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    for field in [
        "uuid",
        "name",
        "description",
        "owner",
        "createdAt",
        "updatedAt",
    ] {
        assert!(read.body.get(field).is_some(), "{field}: {}", read.body);
    }
    assert!(read.body["createdAt"].as_str().unwrap().ends_with('Z'));
    let updated = server
        .put(
            &format!("/iam/v1/accounts/{acc}/groups/{group}"),
            json!({ "name": "tf-group", "description": "changed" }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);

    // A policy: POST → 201 with statements parsed; GET → 200; PUT (an upsert) → 204.
    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({
                "name": "tf-logs",
                "description": "logs of a bucket",
                "tags": [],
                "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:bucket}\";",
            }),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    let uuid = policy.body["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        policy.body["statements"][0]["conditions"][0],
        json!({ "name": "storage:bucket-name", "operator": "EQ", "values": ["${bindParam:bucket}"] })
    );
    let read = server.get(&format!("{repo}/policies/{uuid}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["uuid"], uuid);
    let put = server
        .put(
            &format!("{repo}/policies/{uuid}"),
            json!({
                "name": "tf-logs",
                "description": "logs of one bucket",
                "tags": [],
                "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:bucket}\";",
            }),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);

    // A boundary: POST → 201 with parsed conditions; GET → 200; PUT → 204.
    let boundary = server
        .post(
            &format!("{repo}/boundaries"),
            json!({ "name": "tf-boundary", "boundaryQuery": "storage:dt.security_context = \"TEAM-AA\";", "metadata": {} }),
        )
        .await;
    assert_eq!(boundary.status, StatusCode::CREATED, "{}", boundary.body);
    let boundary_uuid = boundary.body["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        boundary.body["boundaryConditions"],
        json!([{ "name": "storage:dt.security_context", "operator": "EQ", "values": ["TEAM-AA"] }])
    );
    let put = server
        .put(
            &format!("{repo}/boundaries/{boundary_uuid}"),
            json!({ "name": "tf-boundary", "boundaryQuery": "storage:dt.security_context = \"TEAM-BB\";", "metadata": {} }),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);

    // A binding with parameters and the boundary: POST → 204; GET → 200 in
    // `LevelPolicyBindingDto`'s shape; DELETE filtered by the parameters → 204.
    let bound = server
        .post(
            &format!("{repo}/bindings/{uuid}/{group}"),
            json!({ "parameters": { "bucket": "team_a" }, "metadata": {}, "boundaries": [boundary_uuid] }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let read = server.get(&format!("{repo}/bindings/{uuid}/{group}")).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["levelType"], "account");
    assert_eq!(read.body["levelId"], acc);
    let binding = &read.body["policyBindings"][0];
    assert_eq!(binding["policyUuid"], uuid);
    assert_eq!(binding["groups"], json!([group]));
    assert_eq!(binding["parameters"], json!({ "bucket": "team_a" }));
    assert_eq!(binding["boundaries"], json!([boundary_uuid]));
    let unbound = server
        .delete(&format!(
            "{repo}/bindings/{uuid}/{group}?parameters[bucket]=team_a"
        ))
        .await;
    assert_eq!(unbound.status, StatusCode::NO_CONTENT, "{}", unbound.body);

    // Deletions: boundary and policy 204, group 200.
    let deleted = server
        .delete(&format!("{repo}/boundaries/{boundary_uuid}"))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let deleted = server.delete(&format!("{repo}/policies/{uuid}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.body);
    let deleted = server
        .delete(&format!("/iam/v1/accounts/{acc}/groups/{group}"))
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    let gone = server
        .get(&format!("/iam/v1/accounts/{acc}/groups/{group}"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_go_clients_unset_fields_are_accepted() {
    let server = TestServer::start().await;
    let acc = server.account();
    // `description` and `federatedAttributeValues` unset: `null`.
    let created = server
        .post(
            &format!("/iam/v1/accounts/{acc}/groups"),
            json!([{ "name": "go-group", "description": null, "federatedAttributeValues": null }]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // `category: null`, `tags: []` on the policy body.
    let policy = server
        .post(
            &format!("/iam/v1/repo/account/{acc}/policies"),
            json!({ "name": "go-policy", "description": "", "tags": [], "category": null, "statementQuery": "ALLOW storage:logs:read;" }),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    // A boundary without metadata, given as `null`.
    let boundary = server
        .post(
            &format!("/iam/v1/repo/account/{acc}/boundaries"),
            json!({ "name": "go-boundary", "boundaryQuery": "storage:bucket-name = \"x\";", "metadata": null }),
        )
        .await;
    assert_eq!(boundary.status, StatusCode::CREATED, "{}", boundary.body);
    // A user with the empty `uid` a Go client sends for an unset string.
    let user = server
        .post(
            &format!("/iam/v1/accounts/{acc}/users"),
            json!({ "uid": "", "email": "go@example.com" }),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
}

#[tokio::test]
async fn environments_are_listed_in_dynatraces_shape() {
    let server = TestServer::start().await;
    let acc = server.account();
    let listed = server
        .get(&format!("/env/v2/accounts/{acc}/environments"))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let data = listed.body["data"].as_array().unwrap();
    let prod = data.iter().find(|e| e["id"] == "env-prod").unwrap();
    assert_eq!(
        prod,
        &json!({ "id": "env-prod", "name": prod["name"], "active": true, "url": "/iam/v1/repo/environment/env-prod" })
    );
    // Warden's own list carries RFC 3339 times.
    let own = server
        .get(&format!("/iam/v1/accounts/{acc}/environments"))
        .await;
    let created_at = own.body["items"][0]["createdAt"].as_str().unwrap();
    assert!(
        created_at.len() == 20 && created_at.ends_with('Z'),
        "{created_at}"
    );
}

#[tokio::test]
async fn audit_entries_carry_rfc_3339_times_and_objects() {
    let server = TestServer::start().await;
    let acc = server.account();
    let created = server
        .post(
            &format!("/iam/v1/accounts/{acc}/groups"),
            json!([{ "name": "audited" }]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let audit = server
        .get(&format!(
            "/iam/v1/accounts/{acc}/audit-log?action=group.create"
        ))
        .await;
    let entry = &audit.body["entries"][0];
    let at = entry["at"].as_str().unwrap();
    assert!(at.len() == 20 && at.ends_with('Z'), "{at}");
    assert!(
        entry["after"].is_object() || entry["after"].is_array(),
        "{entry}"
    );
    assert_eq!(entry["before"], Value::Null);
}

#[tokio::test]
async fn group_permissions_are_bindings_of_default_policies() {
    let server = TestServer::start().await;
    let acc = server.account();
    let group = server
        .post(
            &format!("/iam/v1/accounts/{acc}/groups"),
            json!([{ "name": "legacy-style" }]),
        )
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/iam/v1/accounts/{acc}/groups/{group}/permissions");
    let set = server
        .put(
            &path,
            json!([
                { "permissionName": "account-viewer", "scope": acc, "scopeType": "account" },
                { "permissionName": "tenant-viewer", "scope": "env-prod", "scopeType": "tenant" },
            ]),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    let read = server.get(&path).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body["uuid"], group);
    let permissions: Vec<(String, String, String)> = read.body["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["permissionName"].as_str().unwrap().to_owned(),
                p["scope"].as_str().unwrap().to_owned(),
                p["scopeType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        permissions,
        [
            (
                "account-viewer".to_owned(),
                acc.clone(),
                "account".to_owned()
            ),
            (
                "tenant-viewer".to_owned(),
                "env-prod".to_owned(),
                "tenant".to_owned()
            ),
        ]
    );
    // They are bindings: the group's account-level bindings show the mapped policy.
    let bindings = server
        .get(&format!(
            "/iam/v1/repo/account/{acc}/bindings/groups/{group}"
        ))
        .await;
    assert_eq!(bindings.body["policyUuids"], json!(["account-viewer"]));

    // Setting fewer removes the others; an unknown name is refused, naming the supported ones.
    let set = server
        .put(
            &path,
            json!([{ "permissionName": "tenant-viewer", "scope": "env-prod", "scopeType": "tenant" }]),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(
        server.get(&path).await.body["permissions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let refused = server
        .put(
            &path,
            json!([{ "permissionName": "tenant-agent-install", "scope": "env-prod", "scopeType": "tenant" }]),
        )
        .await;
    assert_eq!(
        (
            refused.status,
            refused.body["error"]["message"].as_str().unwrap()
        ),
        (
            StatusCode::BAD_REQUEST,
            "permission `tenant-agent-install` has no equivalent in Warden; the supported ones are `account-viewer`, `account-user-management`, `tenant-viewer`, `tenant-logviewer`, and any other access is given by binding a policy"
        )
    );
}

#[tokio::test]
async fn lists_page_as_dynatrace_pages() {
    let server = TestServer::start().await;
    let acc = server.account();
    for i in 0..3 {
        let created = server
            .post(
                &format!("/iam/v1/accounts/{acc}/service-users"),
                json!({ "name": format!("pager-{i}") }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let first = server
        .get(&format!("/iam/v1/accounts/{acc}/service-users?pageSize=2"))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["results"].as_array().unwrap().len(), 2);
    let key = first.body["nextPageKey"].as_str().unwrap();
    let rest = server
        .get(&format!(
            "/iam/v1/accounts/{acc}/service-users?pageSize=2&nextPageKey={key}"
        ))
        .await;
    let older = server
        .get(&format!(
            "/iam/v1/accounts/{acc}/service-users?page-size=2&page-key={key}"
        ))
        .await;
    assert_eq!(rest.body, older.body, "the older names page alike");
    assert_eq!(rest.body["results"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["nextPageKey"], Value::Null);

    // Boundaries: a size above 1,000 is answered with pages of 1,000.
    let boundaries = server
        .get(&format!("/iam/v1/repo/account/{acc}/boundaries?size=5000"))
        .await;
    assert_eq!(boundaries.status, StatusCode::OK, "{}", boundaries.body);
    assert_eq!(boundaries.body["pageSize"], 1000);
}

#[tokio::test]
async fn coarse_oauth_scopes_grant_exactly_their_permissions() {
    let server = TestServer::start().await;
    let acc = server.account();
    // A client made with a coarse scope holds its permissions.
    let client = server
        .post(
            &format!("/iam/v1/accounts/{acc}/oauth-clients"),
            json!({ "name": "terraform", "scopes": ["account-idm-read", "account-env-read"] }),
        )
        .await;
    assert_eq!(client.status, StatusCode::CREATED, "{}", client.body);
    let mut scopes: Vec<&str> = client.body["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    scopes.sort_unstable();
    assert_eq!(
        scopes,
        [
            "iam:environments:read",
            "iam:groups:read",
            "iam:service-users:read",
            "iam:users:read"
        ]
    );
    let id = client.body["clientId"].as_str().unwrap();
    let secret = client.body["clientSecret"].as_str().unwrap();
    let server = &server;
    let token = |scope: &'static str| {
        let form = serde_urlencoded::to_string([
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", scope),
        ])
        .unwrap();
        async move {
            server
                .raw_as(
                    None,
                    Method::POST,
                    "/sso/oauth2/token",
                    "application/x-www-form-urlencoded",
                    form.as_bytes(),
                )
                .await
        }
    };
    let granted = token("account-env-read").await;
    let granted: Value = serde_json::from_str(&granted.body).unwrap();
    assert_eq!(granted["scope"], "iam:environments:read", "{granted}");
    let refused = token("iam-policies-management").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let refused: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(refused["error"], "invalid_scope");

    // The token reads environments, and nothing its scopes do not name.
    let bearer = granted["access_token"].as_str().unwrap();
    let envs = server
        .call_as(
            Some(bearer),
            Method::GET,
            &format!("/env/v2/accounts/{acc}/environments"),
            None,
        )
        .await;
    assert_eq!(envs.status, StatusCode::OK);
    let groups = server
        .call_as(
            Some(bearer),
            Method::GET,
            &format!("/iam/v1/accounts/{acc}/groups"),
            None,
        )
        .await;
    assert_eq!(groups.status, StatusCode::FORBIDDEN);
}

/// The attack on the group-permissions path: someone who may write bindings but does not hold
/// what `account-viewer` gives puts it on a group; an anonymous caller tries the same. Both are
/// refused and nothing is stored.
#[tokio::test]
async fn group_permissions_give_nobody_more_than_their_author_holds() {
    let server = TestServer::start().await;
    let acc = server.account();
    let group = server
        .post(
            &format!("/iam/v1/accounts/{acc}/groups"),
            json!([{ "name": "target" }]),
        )
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, binder) = crate::credentials::user_with(
        &server,
        "binder@example.com",
        "ALLOW iam:bindings:write;\nALLOW iam:bindings:read;\nALLOW iam:groups:read;",
    )
    .await;
    let path = format!("/iam/v1/accounts/{acc}/groups/{group}/permissions");
    let body =
        json!([{ "permissionName": "account-viewer", "scope": acc, "scopeType": "account" }]);
    let before = server.state.store.revision().await.unwrap();

    let escalating = server
        .call_as(Some(&binder), Method::PUT, &path, Some(body.clone()))
        .await;
    assert_eq!(
        escalating.status,
        StatusCode::FORBIDDEN,
        "{}",
        escalating.body
    );
    assert_eq!(
        escalating.body["error"]["details"]["rule"], "no-escalation",
        "{}",
        escalating.body
    );
    let anonymous = server.call_as(None, Method::PUT, &path, Some(body)).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );

    assert_eq!(server.state.store.revision().await.unwrap(), before);
    let read = server.get(&path).await;
    assert_eq!(read.body["permissions"], json!([]), "{}", read.body);
}
