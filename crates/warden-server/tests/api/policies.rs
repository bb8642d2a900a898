use serde_json::json;
use warden_client::StatusCode;

use crate::common::TestServer;

fn policies_path(server: &TestServer) -> String {
    format!("/iam/v1/repo/account/{}/policies", server.account())
}

#[tokio::test]
async fn health_and_authentication() {
    let server = TestServer::start().await;
    let health = server
        .call_as(None, warden_client::Method::GET, "/health", None)
        .await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["revision"], 1);

    let path = policies_path(&server);
    let missing = server
        .call_as(None, warden_client::Method::GET, &path, None)
        .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.body["error"]["code"], "unauthenticated");
    assert_eq!(missing.body["error"]["message"], "missing bearer token");
    let forged = server
        .call_as(
            Some("wdn_pt_0000_notasecret"),
            warden_client::Method::GET,
            &path,
            None,
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.body["error"]["message"], "invalid token");
    let mut wrong = server.token.clone();
    wrong.pop();
    wrong.push('x');
    let tampered = server
        .call_as(Some(&wrong), warden_client::Method::GET, &path, None)
        .await;
    assert_eq!(
        tampered.body["error"]["message"], "invalid token",
        "a wrong secret looks like an unknown token"
    );
    assert_eq!(server.get(&path).await.status, StatusCode::OK);
}

#[tokio::test]
async fn create_get_update_delete_a_policy() {
    let server = TestServer::start().await;
    let path = policies_path(&server);
    let created = server
        .post(&path, json!({ "name": "Team Logs", "description": "logs of a team", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"${bindParam:team}_\";" }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.revision, Some(2));
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        created.body["statements"][0]["conditions"][0],
        json!({ "name": "storage:bucket-name", "operator": "STARTS_WITH", "values": ["${bindParam:team}_"] })
    );

    let fetched = server.get(&format!("{path}/{uuid}")).await;
    assert_eq!(fetched.body["name"], "Team Logs");
    assert_eq!(fetched.body["levelType"], "account");

    let updated = server
        .put(
            &format!("{path}/{uuid}"),
            json!({ "name": "Team Logs", "statementQuery": "ALLOW storage:logs:read;" }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::NO_CONTENT);
    assert_eq!(updated.revision, Some(3));
    assert_eq!(
        server.get(&format!("{path}/{uuid}")).await.body["statementQuery"],
        "ALLOW storage:logs:read;"
    );

    let upserted = server
        .put(
            &format!("{path}/my-own-id"),
            json!({ "name": "Mine", "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await;
    assert_eq!(upserted.status, StatusCode::CREATED);
    assert_eq!(upserted.body["uuid"], "my-own-id");

    let listed = server.get(&path).await;
    let names: Vec<&str> = listed.body["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Mine", "Team Logs"]);
    let aggregate = server.get(&format!("{path}/aggregate")).await;
    assert!(
        aggregate.body["policyOverviewList"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "Standard User" && p["levelType"] == "global")
    );

    let deleted = server.delete(&format!("{path}/{uuid}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get(&format!("{path}/{uuid}")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn invalid_policies_are_refused_with_every_located_diagnostic() {
    let server = TestServer::start().await;
    let path = policies_path(&server);
    let text = "ALLOW automation:workflow:read;\nALLOW storage:logs:read WHERE storage:bucket-name = \"a\" OR storage:bucket-name = \"b\";\nALLOW iam:service-users:use WHERE iam:service-user-email startsWith \"x\";";
    let reply = server
        .post(&path, json!({ "name": "Broken", "statementQuery": text }))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["error"]["code"], "invalid");
    assert_eq!(
        reply.body["error"]["message"],
        "the policy has 3 error(s): 1:7: unknown permission `automation:workflow:read`"
    );
    let diagnostics = reply.body["error"]["details"]["diagnostics"]
        .as_array()
        .unwrap();
    let found: Vec<(String, u64, u64)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["start"]["line"].as_u64().unwrap(),
                d["start"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("unknown-permission".into(), 1, 7),
            ("unsupported-or".into(), 2, 57),
            ("operator-not-allowed".into(), 3, 58)
        ]
    );
    assert_eq!(
        diagnostics[0]["help"],
        "did you mean `automation:workflows:read`?"
    );
    assert_eq!(
        server.get("/health").await.body["revision"],
        1,
        "nothing was written"
    );
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let server = TestServer::start().await;
    let path = policies_path(&server);
    let malformed = server
        .raw(
            warden_client::Method::POST,
            &path,
            "application/json",
            b"{\"name\": ",
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let body: serde_json::Value = serde_json::from_str(&malformed.body).unwrap();
    assert_eq!(
        body["error"]["message"],
        "invalid JSON body in `name` (line 1, column 9): the body ends before the JSON document \
         does; send the whole document",
        "{body}"
    );

    let unknown_field = server
        .post(
            &path,
            json!({ "name": "x", "statementQuery": "ALLOW hub:catalog:read;", "owner": "me" }),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown_field.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `owner`"),
        "{}",
        unknown_field.body
    );

    let long_name = server
        .post(
            &path,
            json!({ "name": "n".repeat(201), "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await;
    assert_eq!(
        long_name.body["error"]["message"],
        "`name` is 201 characters long; at most 200 are allowed"
    );

    let huge = server
        .post(
            &path,
            json!({ "name": "big", "statementQuery": "x".repeat(2 * 1024 * 1024) }),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.body["error"]["code"], "too_large");

    assert_eq!(
        server
            .post(
                &path,
                json!({ "name": "Dup", "statementQuery": "ALLOW hub:catalog:read;" })
            )
            .await
            .status,
        StatusCode::CREATED
    );
    let duplicate = server
        .post(
            &path,
            json!({ "name": "dup", "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);

    let global = server
        .post(
            "/iam/v1/repo/global/global/policies",
            json!({ "name": "g", "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await;
    assert_eq!(global.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        global.body["error"]["message"],
        "the global level is read-only: you can't create or change policies there"
    );

    let traversal = server
        .put(
            &format!("{path}/..%2F..%2Fetc"),
            json!({ "name": "t", "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await;
    assert_eq!(traversal.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        server.get("/health").await.body["revision"],
        2,
        "only the one valid policy was written"
    );
}

#[tokio::test]
async fn everything_survives_a_restart() {
    let server = TestServer::start().await;
    let path = policies_path(&server);
    let created = server
        .post(
            &path,
            json!({ "name": "Kept", "statementQuery": "ALLOW hub:catalog:read;" }),
        )
        .await;
    let uuid = created.body["uuid"].as_str().unwrap().to_owned();
    let server = server.restart().await;
    assert_eq!(
        server.get(&format!("{path}/{uuid}")).await.body["name"],
        "Kept"
    );
    assert_eq!(server.get("/health").await.body["revision"], 2);
}
