//! Service users (SPEC §7): handles, generated emails, owner and purpose, immutable fields,
//! deactivation, reactivation, review, and deletion refused while referenced.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::credentials::{acc, client, service_user};

#[tokio::test]
async fn handles_follow_the_naming_rule_with_collision_suffixes() {
    let server = TestServer::start().await;
    let admin = server.get("/iam/v1/me").await.body["uid"].clone();
    let cases = [
        ("Pipeline Automation", "pipeline_automation@service"),
        ("CI/CD Bot #3!", "cicd_bot_3@service"),
        ("Jürgen's Zoë-Bot", "jrgens_zobot@service"),
        ("Ωμέγα", "service_user@service"),
        ("  Two  Spaces ", "two__spaces@service"),
        ("Pipeline Automation", "pipeline_automation_2@service"),
        ("PIPELINE automation", "pipeline_automation_3@service"),
        ("!!!", "service_user_2@service"),
    ];
    for (name, handle) in cases {
        let created = service_user(&server, name).await;
        assert_eq!(created["handle"], handle, "{name}");
        assert_eq!(created["name"], name.trim());
        let uid = created["uid"].as_str().unwrap();
        assert_eq!(
            created["email"],
            format!("{uid}@service.warden.local"),
            "the email is generated from the uid"
        );
        assert_eq!(created["createdBy"], admin);
        assert_eq!(created["createdAt"], "2026-05-04T10:00:00Z");
        assert_eq!(created["lastReviewedAt"], Value::Null);
        assert_eq!(created["lastUsedAt"], Value::Null);
        assert_eq!(created["active"], true);
        // Its own group, with it as the only member; reachable by handle and by email.
        let group = created["groupUuid"].as_str().unwrap();
        let members = server
            .get(&format!("{}/groups/{group}/users", acc(&server)))
            .await;
        assert_eq!(members.body["items"][0]["uid"], uid, "{}", members.body);
        for key in [handle, created["email"].as_str().unwrap()] {
            let found = server
                .get(&format!("{}/service-users/{key}", acc(&server)))
                .await;
            assert_eq!(found.body["uid"], uid, "{key}");
        }
    }
    let list = server.get(&format!("{}/service-users", acc(&server))).await;
    assert_eq!(list.body["totalCount"], 8);
    let page = server
        .get(&format!("{}/service-users?page-size=3", acc(&server)))
        .await;
    assert_eq!(page.body["results"].as_array().unwrap().len(), 3);
    let next = page.body["nextPageKey"].as_str().unwrap();
    let rest = server
        .get(&format!(
            "{}/service-users?page-size=10&page-key={next}",
            acc(&server)
        ))
        .await;
    assert_eq!(rest.body["results"].as_array().unwrap().len(), 5);
    assert_eq!(rest.body["nextPageKey"], Value::Null);
    // A person cannot take an address of the service-user domain.
    let person = server
        .post(
            &format!("{}/users", acc(&server)),
            json!({ "email": "x@service.warden.local" }),
        )
        .await;
    assert_eq!(person.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn owner_purpose_and_immutable_fields() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let admin = server.get("/iam/v1/me").await.body["uid"].clone();
    let created = server
        .post(
            &format!("{acc}/service-users"),
            json!({ "name": "Nightly Export", "description": "exports", "purpose": "ETL to the lake",
                    "owner": { "type": "USER", "id": "admin@warden.local" } }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let su = created.body;
    let path = format!("{acc}/service-users/{}", su["uid"].as_str().unwrap());
    assert_eq!(
        su["owner"],
        json!({ "type": "USER", "id": admin, "name": "admin@warden.local" })
    );
    assert_eq!(su["purpose"], "ETL to the lake");

    // The GET body round-trips: immutable fields sent back unchanged are fine.
    let mut round_trip = server.get(&path).await.body;
    round_trip["name"] = json!("Nightly Export v2");
    round_trip["owner"] = json!({ "type": "GROUP", "id": "Account Admins" });
    round_trip["purpose"] = json!("ETL, now hourly");
    let updated = server.put(&path, round_trip).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["name"], "Nightly Export v2");
    assert_eq!(
        updated.body["handle"], "nightly_export@service",
        "the handle stays"
    );
    assert_eq!(updated.body["owner"]["type"], "GROUP");
    assert_eq!(updated.body["owner"]["name"], "Account Admins");
    assert_eq!(updated.body["description"], "exports", "kept");

    let refused = [
        (
            json!({ "email": "me@service.warden.local" }),
            "`email` cannot be changed: it is generated at creation and is what `iam:service-user-email` conditions match, so policies naming it stay safe",
        ),
        (
            json!({ "handle": "other@service" }),
            "`handle` cannot be changed: it is derived from the name at creation and stays the same when the name changes",
        ),
        (
            json!({ "uid": "00000000-0000-4000-8000-000000000000" }),
            "`uid` cannot be changed: it identifies the service user",
        ),
        (
            json!({ "createdAt": "2020-01-01T00:00:00Z" }),
            "`createdAt` cannot be changed: it records who created the service user and when",
        ),
        (
            json!({ "createdBy": "someone" }),
            "`createdBy` cannot be changed: it records who created the service user and when",
        ),
        (
            json!({ "lastReviewedAt": "2026-05-04T10:00:00Z" }),
            "`lastReviewedAt` cannot be changed: record a review with `POST …/service-users/{uid}/review`",
        ),
        (
            json!({ "active": false }),
            "`active` cannot be changed: use `POST …/service-users/{uid}/deactivate` or `…/reactivate`",
        ),
        (
            json!({ "password": "hunter2hunter2" }),
            "service users cannot have a password: they never sign in; give them an OAuth client or a platform token",
        ),
        (
            json!({ "nickname": "x" }),
            "unknown field `nickname`; a service user's changeable fields are `name`, `description`, `owner` and `purpose`",
        ),
        (
            json!({ "owner": { "type": "TEAM", "id": "x" } }),
            "owner: `type` is `TEAM`; use `USER` or `GROUP`",
        ),
        (
            json!({ "owner": { "type": "USER", "id": "nightly_export@service" } }),
            "owner: `nightly_export@service` is a service user; the owner is a person or a group accountable for it",
        ),
        (
            json!({ "owner": { "type": "USER", "id": "nobody@example.com" } }),
            "owner: user `nobody@example.com` does not exist",
        ),
        (json!({ "name": "" }), "`name` must not be empty"),
    ];
    for (body, message) in refused {
        let reply = server.put(&path, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.body["error"]["message"], message, "{body}");
    }
    // A different spelling of the same creation time is the same value.
    let same = server
        .put(
            &path,
            json!({ "createdAt": "2026-05-04T12:00:00+02:00", "owner": null }),
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    assert_eq!(same.body["owner"], Value::Null, "`owner: null` removes it");
    let stored = server.get(&path).await.body;
    assert!(stored.get("password").is_none() && stored.get("passwordHash").is_none());
}

#[tokio::test]
async fn deactivate_reactivate_and_review() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let su = service_user(&server, "Deployer").await;
    let path = format!("{acc}/service-users/deployer@service");
    crate::credentials::grant(
        &server,
        su["groupUuid"].as_str().unwrap(),
        "deployer reads",
        "ALLOW storage:logs:read;",
    )
    .await;
    let decide = || async {
        server
            .post(
                "/iam/v1/authorize",
                json!({ "principal": "deployer@service", "permission": "storage:logs:read" }),
            )
            .await
            .body
    };
    assert_eq!(decide().await["decision"], "ALLOW");

    let no_reason = server
        .post(&format!("{path}/deactivate"), json!({ "reason": " " }))
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_reason.body["error"]["message"],
        "`reason` must not be empty"
    );
    server.clock.advance(60_000);
    let off = server
        .post(
            &format!("{path}/deactivate"),
            json!({ "reason": "pipeline decommissioned" }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], false);
    assert_eq!(
        off.body["deactivation"]["reason"],
        "pipeline decommissioned"
    );
    assert_eq!(off.body["deactivation"]["at"], "2026-05-04T10:01:00Z");
    let denied = decide().await;
    assert_eq!(denied["decision"], "DENY");
    assert_eq!(denied["reason"], "inactive-principal");
    let again = server
        .post(&format!("{path}/deactivate"), json!({ "reason": "again" }))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body["error"]["message"],
        "service user `deployer@service` is already deactivated (since 2026-05-04T10:01:00Z: pipeline decommissioned)"
    );
    // Kept for audit: still listed and readable.
    assert_eq!(server.get(&path).await.body["active"], false);

    let on = server.post(&format!("{path}/reactivate"), json!({})).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(on.body["active"], true);
    assert_eq!(on.body["deactivation"], Value::Null);
    assert_eq!(decide().await["decision"], "ALLOW");
    let twice = server.post(&format!("{path}/reactivate"), json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    server.clock.advance(86_400_000);
    let reviewed = server
        .call(
            warden_client::Method::POST,
            &format!("{path}/review"),
            Some(json!({ "note": "still needed for deploys" })),
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.body);
    assert_eq!(reviewed.body["lastReviewedAt"], "2026-05-05T10:01:00Z");
    let bare = server
        .call(Method::POST, &format!("{path}/review"), None)
        .await;
    assert_eq!(bare.status, StatusCode::OK, "a review needs no body");

    let audit = server
        .get(&format!("{acc}/audit-log?limit=1000"))
        .await
        .body;
    let entries = audit["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .filter(|a| a.starts_with("service-user."))
        .collect();
    assert_eq!(
        actions,
        [
            "service-user.create",
            "service-user.deactivate",
            "service-user.reactivate",
            "service-user.review",
            "service-user.review"
        ]
    );
    let review = entries
        .iter()
        .find(|e| e["action"] == "service-user.review")
        .unwrap();
    let after: Value = match &review["after"] {
        Value::String(text) => serde_json::from_str(text).unwrap(),
        other => other.clone(),
    };
    assert_eq!(after["note"], "still needed for deploys");
}

#[tokio::test]
async fn deletion_is_refused_while_referenced() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let su = service_user(&server, "Reporter").await;
    let email = su["email"].as_str().unwrap();
    let (client_id, _) = client(&server, email, &["iam:groups:read"]).await;
    let token = server
        .post(
            &format!("{acc}/platform-tokens"),
            json!({ "name": "ci", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z", "userUuid": email }),
        )
        .await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.body);
    let token_id = token.body["tokenId"].as_str().unwrap().to_owned();

    let path = format!("{acc}/service-users/reporter@service");
    let refused = server.delete(&path).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(
        refused.body["error"]["message"],
        "service user `reporter@service` is still used by 1 OAuth client and 1 platform token; delete them or move them to another owner or actor first, or deactivate the service user instead"
    );
    assert_eq!(
        refused.body["error"]["details"]["referrers"],
        json!([
            { "type": "oauth-client", "id": client_id, "name": "pipeline" },
            { "type": "platform-token", "id": token_id, "name": "ci" }
        ])
    );
    assert_eq!(
        server
            .delete(&format!("{acc}/oauth-clients/{client_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server
            .delete(&format!("{acc}/platform-tokens/{token_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let deleted = server.delete(&path).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(server.get(&path).await.status, StatusCode::NOT_FOUND);
    let group = su["groupUuid"].as_str().unwrap();
    assert_eq!(
        server.get(&format!("{acc}/groups/{group}")).await.status,
        StatusCode::NOT_FOUND,
        "its own group goes with it"
    );
}

#[tokio::test]
async fn generic_names_are_advised_against_never_refused() {
    let server = TestServer::start().await;
    let acc = format!("/iam/v1/accounts/{}", server.account());
    let advice = |name: &str| {
        format!(
            "the name `{name}` does not say what the service user is for; name it after the system that holds its credentials and its job (such as `GitLab deploy pipeline`), so that a reviewer can tell"
        )
    };
    let create = |name: &str| {
        let body = serde_json::to_vec(&json!({ "name": name })).unwrap();
        let (server, path) = (&server, format!("{acc}/service-users"));
        async move {
            server
                .raw(Method::POST, &path, "application/json", &body)
                .await
        }
    };
    let generic = create("service1").await;
    assert_eq!(generic.status, StatusCode::CREATED, "{}", generic.body);
    assert_eq!(generic.warnings, vec![advice("service1")]);
    let descriptive = create("GitLab deploy pipeline").await;
    assert_eq!(descriptive.status, StatusCode::CREATED);
    assert!(
        descriptive.warnings.is_empty(),
        "{:?}",
        descriptive.warnings
    );
    // Renaming to a generic name is advised against too; the rename is made.
    let uid = serde_json::from_str::<Value>(&descriptive.body).unwrap()["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = serde_json::to_vec(&json!({ "name": "My Service" })).unwrap();
    let renamed = server
        .raw(
            Method::PUT,
            &format!("{acc}/service-users/{uid}"),
            "application/json",
            &body,
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.warnings, vec![advice("My Service")]);
    // A name in another script survives the header.
    let accented = create("Åsa").await;
    assert_eq!(accented.warnings, vec![advice("Åsa")]);
    assert_eq!(
        server.get(&format!("{acc}/service-users/{uid}")).await.body["name"],
        "My Service"
    );
}
