//! `null` where a list or map is optional, and the fields Dynatrace's clients send that Warden
//! has no use for: accepted as none, as Go clients send them.

use serde_json::json;
use warden_client::StatusCode;

use crate::common::TestServer;

#[tokio::test]
async fn null_lists_and_maps_are_read_as_none() {
    let server = TestServer::start().await;
    let account = server.account();
    let acc = format!("/iam/v1/accounts/{account}");
    let repo = format!("/iam/v1/repo/account/{account}");

    let groups = server
        .post(
            &format!("{acc}/groups"),
            json!([{ "name": "ops", "federatedAttributeValues": null }]),
        )
        .await;
    assert_eq!(groups.status, StatusCode::CREATED, "{}", groups.body);
    assert_eq!(groups.body[0]["federatedAttributeValues"], json!([]));
    assert_eq!(groups.body[0]["owner"], "LOCAL");
    let group = groups.body[0]["uuid"].as_str().unwrap().to_owned();
    let updated = server
        .put(
            &format!("{acc}/groups/{group}"),
            json!({ "name": "operations", "federatedAttributeValues": null }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["name"], "operations");
    assert_eq!(updated.body["federatedAttributeValues"], json!([]));

    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "Read hub", "tags": null, "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    assert_eq!(policy.body["tags"], json!([]));
    let policy = policy.body["uuid"].as_str().unwrap().to_owned();
    let bound = server
        .post(
            &format!("{repo}/bindings/{policy}/{group}"),
            json!({ "parameters": null, "metadata": null, "boundaries": null }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let stored: Vec<_> = server
        .state
        .model
        .lock()
        .await
        .bindings
        .values()
        .filter(|b| b.group_uuid == group)
        .map(|b| {
            (
                b.policy_uuid.clone(),
                b.parameters.len(),
                b.metadata.len(),
                b.boundaries.len(),
            )
        })
        .collect();
    assert_eq!(stored, vec![(policy.clone(), 0, 0, 0)]);

    let boundary = server
        .post(
            &format!("{repo}/boundaries"),
            json!({ "name": "prod", "boundaryQuery": "global:environmentId = \"env-prod\"", "metadata": null }),
        )
        .await;
    assert_eq!(boundary.status, StatusCode::CREATED, "{}", boundary.body);
    assert_eq!(boundary.body["metadata"], json!({}));
}

#[tokio::test]
async fn an_empty_uid_and_empty_tags_are_accepted() {
    let server = TestServer::start().await;
    let acc = format!("/iam/v1/accounts/{}", server.account());

    let user = server
        .post(
            &format!("{acc}/users"),
            json!({ "email": "alice@example.com", "uid": "" }),
        )
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    assert_eq!(user.body["email"], "alice@example.com");
    assert_ne!(user.body["uid"], "");

    let chosen = server
        .post(
            &format!("{acc}/users"),
            json!({ "email": "bob@example.com", "uid": "bob" }),
        )
        .await;
    assert_eq!(chosen.status, StatusCode::BAD_REQUEST, "{}", chosen.body);
    assert_eq!(
        chosen.body["error"]["message"],
        "`uid` `bob` cannot be chosen: Warden assigns it; send it empty or leave it out"
    );
    assert_eq!(
        server
            .get(&format!("{acc}/users/bob@example.com"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let token = server
        .post(
            &format!("{acc}/platform-tokens"),
            json!({ "name": "sync", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z", "tags": [], "resource": null }),
        )
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    assert!(token.body["token"].as_str().is_some(), "{}", token.body);
}

#[tokio::test]
async fn null_lists_on_bindings_and_service_users_are_read_as_none() {
    let server = TestServer::start().await;
    let account = server.account();
    let acc = format!("/iam/v1/accounts/{account}");
    let repo = format!("/iam/v1/repo/account/{account}");
    let group = server
        .post(&format!("{acc}/groups"), json!([{ "name": "ops" }]))
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "Read hub", "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();

    // `POST …/bindings/{policy}` with `boundaries: null`.
    let bound = server
        .post(
            &format!("{repo}/bindings/{policy}"),
            json!({ "groups": [group], "boundaries": null }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let listed = server.get(&format!("{repo}/bindings/{policy}")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body,
        json!({ "levelType": "account", "levelId": account, "policyBindings": [
            { "policyUuid": policy, "groups": [group], "parameters": {}, "metadata": {}, "boundaries": [] }
        ] })
    );
    // `groups: null` is no group, refused as such; nothing changes.
    let no_groups = server
        .post(
            &format!("{repo}/bindings/{policy}"),
            json!({ "groups": null, "boundaries": null }),
        )
        .await;
    assert_eq!(no_groups.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_groups.body,
        json!({ "error": { "code": "invalid", "message": "`groups` must name at least one group", "details": null } })
    );
    let of_group = server
        .get(&format!("{repo}/bindings/groups/{group}?details=true"))
        .await;
    assert_eq!(
        of_group.body,
        json!({ "policyUuids": [policy], "bindingsDetails": [
            { "policyUuid": policy, "groups": [group], "parameters": {}, "metadata": {}, "boundaries": [], "levelType": "account", "levelId": account }
        ] })
    );
    // `policyUuids: null` is none: the group's bindings at the level go.
    let cleared = server
        .put(
            &format!("{repo}/bindings/groups/{group}"),
            json!({ "policyUuids": null }),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT, "{}", cleared.body);
    let of_group = server.get(&format!("{repo}/bindings/groups/{group}")).await;
    assert_eq!(of_group.body, json!({ "policyUuids": [] }));

    // A service user with every optional field `null`.
    let created = server
        .post(
            &format!("{acc}/service-users"),
            json!({ "name": "Nightly", "description": null, "owner": null, "purpose": null }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["description"], "");
    assert_eq!(created.body["owner"], json!(null));
    assert_eq!(created.body["purpose"], "");
    let uid = created.body["uid"].as_str().unwrap().to_owned();
    let path = format!("{acc}/service-users/{uid}");
    let owned = server
        .put(
            &path,
            json!({ "description": "exports", "owner": { "type": "USER", "id": "admin@warden.local" } }),
        )
        .await;
    assert_eq!(owned.status, StatusCode::OK, "{}", owned.body);
    assert_eq!(owned.body["owner"]["name"], "admin@warden.local");
    // `null` empties a text field and removes the owner; the name is kept.
    let cleared = server
        .put(&path, json!({ "description": null, "owner": null }))
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(cleared.body["description"], "");
    assert_eq!(cleared.body["owner"], json!(null));
    assert_eq!(cleared.body["name"], "Nightly");
    let reviewed = server
        .post(&format!("{path}/review"), json!({ "note": null }))
        .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.body);
    assert!(
        reviewed.body["lastReviewedAt"].is_string(),
        "{}",
        reviewed.body
    );
    let stored = server.state.model.lock().await.principals[&uid].clone();
    assert_eq!(
        (
            stored.description.as_str(),
            stored.owner.is_none(),
            stored.last_reviewed_at.is_some()
        ),
        ("", true, true)
    );
}
