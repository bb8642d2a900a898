//! The exact shapes of the typed reads: environments (`createdAt` in RFC 3339), the audit log
//! (`at` in RFC 3339, `before`/`after` as JSON objects) and its verification, limits, and the
//! OAuth endpoints' error shape (RFC 6749 §5.2) as `/openapi.json` documents it.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;

#[tokio::test]
async fn an_environment_and_its_audit_entry_have_exact_shapes() {
    let server = TestServer::start().await;
    let acc = server.account();
    let created = server
        .post(
            &format!("/iam/v1/accounts/{acc}/environments"),
            json!({ "id": "env-shape", "name": "Shape" }),
        )
        .await;
    let environment =
        json!({ "id": "env-shape", "name": "Shape", "createdAt": "2026-05-04T10:00:00Z" });
    assert_eq!(
        (created.status, &created.body),
        (StatusCode::CREATED, &environment)
    );
    let listed = server
        .get(&format!("/iam/v1/accounts/{acc}/environments"))
        .await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(listed.body["count"], json!(items.len()));
    assert!(items.contains(&environment), "{}", listed.body);

    let audit = server
        .get(&format!(
            "/iam/v1/accounts/{acc}/audit-log?action=environment.create&limit=5"
        ))
        .await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.body);
    let entries = audit.body["entries"].as_array().unwrap();
    let entry = entries
        .iter()
        .find(|e| e["target"] == "environment/env-shape")
        .unwrap();
    assert_eq!(entry["at"], "2026-05-04T10:00:00Z");
    assert_eq!(entry["action"], "environment.create");
    assert_eq!(entry["before"], Value::Null);
    // The object as the API showed it: an object, its time in RFC 3339.
    assert_eq!(entry["after"], environment);
    assert_eq!(audit.body["nextAfterSeq"], Value::Null);

    let verified = server
        .get(&format!("/iam/v1/accounts/{acc}/audit-log/verify"))
        .await;
    assert_eq!(verified.status, StatusCode::OK);
    let entries = verified.body["entries"].as_i64().unwrap();
    assert!(entries >= 1);
    assert_eq!(
        verified.body,
        json!({ "valid": true, "entries": entries, "problem": null, "problems": [] })
    );
}

#[tokio::test]
async fn bad_audit_and_environment_input_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let acc = server.account();
    let limit = server
        .get(&format!("/iam/v1/accounts/{acc}/audit-log?limit=0"))
        .await;
    assert_eq!(
        (limit.status, &limit.body["error"]["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("`limit` is 1–1000, not `0`; leave it out for 100")
        )
    );
    let before = server
        .get(&format!("/iam/v1/accounts/{acc}/environments"))
        .await
        .body;
    let bad = server
        .post(
            &format!("/iam/v1/accounts/{acc}/environments"),
            json!({ "id": "no spaces" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert_eq!(bad.body["error"]["code"], "invalid");
    let after = server
        .get(&format!("/iam/v1/accounts/{acc}/environments"))
        .await
        .body;
    assert_eq!(before, after);
}

#[tokio::test]
async fn limits_have_their_exact_shape() {
    let server = TestServer::start().await;
    let acc = server.account();
    let limits = server
        .get(&format!("/iam/v1/repo/account/{acc}/limits"))
        .await;
    assert_eq!(limits.status, StatusCode::OK, "{}", limits.body);
    // Sorted: the order of an object's members is not part of its shape.
    let mut keys: Vec<&str> = limits
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "bindings",
            "boundaries",
            "groups",
            "oauthClients",
            "platformTokensPerUser",
            "policies",
            "users"
        ]
    );
    assert_eq!(limits.body["policies"]["limit"], 200);
    assert_eq!(
        limits.body["oauthClients"],
        json!({ "count": 0, "limit": 200 })
    );
    assert_eq!(limits.body["platformTokensPerUser"], json!({ "limit": 10 }));
    assert_eq!(limits.body["users"]["limit"], 10_000);
}

#[tokio::test]
async fn the_document_types_decisions_and_the_oauth_error_shape() {
    let server = TestServer::start().await;
    let document = server
        .call_as(None, Method::GET, "/openapi.json", None)
        .await
        .body;
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["clientBasic"]["scheme"], "basic");

    let authorize = &document["paths"]["/iam/v1/authorize"]["post"];
    assert_eq!(
        authorize["requestBody"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/DecisionRequest" })
    );
    assert_eq!(
        authorize["responses"]["200"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/DecisionResponse" })
    );
    let batch = &document["paths"]["/iam/v1/authorize/batch"]["post"];
    assert_eq!(
        batch["responses"]["200"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/BatchResponse" })
    );

    let token = &document["paths"]["/sso/oauth2/token"]["post"];
    assert_eq!(
        token["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"],
        json!({ "$ref": "#/components/schemas/TokenForm" })
    );
    assert_eq!(token["security"], json!([{ "clientBasic": [] }]));
    for status in ["400", "401", "429", "503"] {
        assert_eq!(
            token["responses"][status]["content"]["application/json"]["schema"],
            json!({ "$ref": "#/components/schemas/OAuthErrorBody" }),
            "{status}"
        );
    }
    let introspect = &document["paths"]["/sso/oauth2/introspect"]["post"];
    assert_eq!(
        introspect["security"],
        json!([{ "clientBasic": [] }, { "bearer": [] }])
    );
    let error = &document["components"]["schemas"]["OAuthErrorBody"];
    assert_eq!(error["required"], json!(["error", "error_description"]));

    // And the answer is that shape.
    let refused = server
        .raw_as(
            None,
            Method::POST,
            "/sso/oauth2/token",
            "application/x-www-form-urlencoded",
            b"grant_type=client_credentials",
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        serde_json::from_str::<Value>(&refused.body).unwrap(),
        json!({ "error": "invalid_client", "error_description": "client authentication is required: HTTP Basic or `client_id` and `client_secret`" })
    );
}
