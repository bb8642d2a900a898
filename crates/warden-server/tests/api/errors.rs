//! One error vocabulary: every refusal has the error body with a code that owns its status, and
//! a message a person can act on — including the ones the HTTP stack itself gives (405, 404, 415)
//! and the decoders' (no Rust type, no serde term).

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;

fn error(code: &str, message: &str) -> Value {
    json!({ "error": { "code": code, "message": message, "details": null } })
}

#[tokio::test]
async fn the_stacks_own_refusals_have_the_error_body() {
    let server = TestServer::start().await;
    let acc = server.account();

    // 405: the code, the methods the path has, and the `Allow` header kept.
    let response = server
        .raw(
            Method::PATCH,
            &format!("/iam/v1/accounts/{acc}/groups"),
            "application/json",
            b"",
        )
        .await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers["allow"], "GET,HEAD,POST");
    assert_eq!(response.headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(&response.body).unwrap(),
        error(
            "method_not_allowed",
            "`PATCH` is not allowed on this path; the `Allow` header lists the methods it answers"
        )
    );

    // 404 for a path that is no endpoint.
    let unknown = server.get("/iam/v1/nowhere").await;
    assert_eq!(
        (unknown.status, unknown.body),
        (
            StatusCode::NOT_FOUND,
            error("not_found", "no such endpoint; `/openapi.json` lists them")
        )
    );

    // 415 has its own code.
    let response = server
        .raw(
            Method::POST,
            &format!("/iam/v1/accounts/{acc}/groups"),
            "text/plain",
            b"[]",
        )
        .await;
    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        serde_json::from_str::<Value>(&response.body).unwrap(),
        error(
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`"
        )
    );
}

#[tokio::test]
async fn a_wrong_body_is_explained_in_json_terms() {
    let server = TestServer::start().await;
    // An array where an object is expected.
    let refused = server.post("/iam/v1/authorize", json!([])).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            error(
                "invalid",
                "invalid JSON body: the body must be a JSON object, not a list (line 1, column 2)"
            )
        )
    );
    // An attribute that is neither a string nor a list of strings.
    // Sent as text, so that the column does not depend on how a JSON library orders keys.
    let refused = server
        .raw(
            Method::POST,
            "/iam/v1/authorize",
            "application/json",
            br#"{"attributes":{"a":5},"principal":"admin@warden.local","permission":"iam:users:read"}"#,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_str::<Value>(&refused.body).unwrap(),
        error(
            "invalid",
            "invalid JSON body: `attributes.a` must be a string or a list of strings (line 1, column 21)"
        )
    );
    // A missing field.
    let refused = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "admin@warden.local" }),
        )
        .await;
    assert_eq!(
        refused.body,
        error(
            "invalid",
            "invalid JSON body: the body lacks the required field `permission`; add it (line 1, column 34)"
        )
    );
    // An unknown query parameter.
    let acc = server.account();
    let refused = server
        .get(&format!("/iam/v1/accounts/{acc}/audit-log?limt=5"))
        .await;
    assert_eq!(
        refused.body,
        error(
            "invalid",
            "invalid query: unknown parameter `limt`; the parameters are `afterSeq`, `limit`, `actor`, `action`, `target`"
        )
    );
}

#[tokio::test]
async fn an_unknown_permission_is_a_mistake_not_a_deny() {
    let server = TestServer::start().await;
    let refused = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "admin@warden.local", "permission": "storage:log:read" }),
        )
        .await;
    let unknown = json!({ "error": {
        "code": "invalid",
        "message": "unknown permission `storage:log:read`; did you mean `storage:logs:read`?",
        "details": { "permission": "storage:log:read", "suggestion": "storage:logs:read" },
    } });
    assert_eq!(
        (refused.status, &refused.body),
        (StatusCode::BAD_REQUEST, &unknown)
    );

    // In a batch, the request's slot carries the error and the others are answered.
    let batch = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": [
                { "principal": "admin@warden.local", "permission": "iam:users:read" },
                { "principal": "admin@warden.local", "permission": "storage:log:read" },
                { "principal": "admin@warden.local", "permission": "iam:groups:read" },
            ] }),
        )
        .await;
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    let results = batch.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["decision"], "ALLOW");
    assert_eq!(results[1], unknown);
    assert_eq!(results[2]["decision"], "ALLOW");
}

#[tokio::test]
async fn a_negative_min_revision_is_refused() {
    let server = TestServer::start().await;
    let message = "`minRevision` is a store revision (0 or more), not `-1`; leave it out to decide on the current snapshot";
    let single = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "admin@warden.local", "permission": "iam:users:read", "minRevision": -1 }),
        )
        .await;
    assert_eq!(
        (single.status, single.body),
        (StatusCode::BAD_REQUEST, error("invalid", message))
    );
    let batch = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": [
                { "principal": "admin@warden.local", "permission": "iam:users:read", "minRevision": 1 },
                { "principal": "admin@warden.local", "permission": "iam:users:read", "minRevision": -1 },
            ] }),
        )
        .await;
    assert_eq!(
        (batch.status, batch.body),
        (StatusCode::BAD_REQUEST, error("invalid", message))
    );
}

#[tokio::test]
async fn a_min_revision_ahead_of_the_store_is_refused_at_once() {
    let server = TestServer::start().await;
    let head = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "admin@warden.local", "permission": "iam:users:read" }),
        )
        .await
        .body["revision"]
        .as_i64()
        .unwrap();
    let message = format!(
        "`minRevision` {} is ahead of the store (at revision {head}); use the `revision` a write answered with, or leave it out",
        head + 1
    );
    let single = server
        .post(
            &format!("/iam/v1/authorize?minRevision={}", head + 1),
            json!({ "principal": "admin@warden.local", "permission": "iam:users:read" }),
        )
        .await;
    assert_eq!(
        (single.status, single.body),
        (StatusCode::BAD_REQUEST, error("invalid", &message))
    );
    let batch = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "minRevision": head + 1, "requests": [
                { "principal": "admin@warden.local", "permission": "iam:users:read" },
            ] }),
        )
        .await;
    assert_eq!(
        (batch.status, batch.body),
        (StatusCode::BAD_REQUEST, error("invalid", &message))
    );
    // The store's own revision is answered.
    let now = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "admin@warden.local", "permission": "iam:users:read", "minRevision": head }),
        )
        .await;
    assert_eq!(now.body["decision"], "ALLOW", "{}", now.body);
}

#[tokio::test]
async fn an_empty_statement_query_is_refused() {
    let server = TestServer::start().await;
    let acc = server.account();
    let message = "`statementQuery` is empty; a policy needs at least one statement, such as `ALLOW storage:logs:read;`";
    for text in ["", "  \n\t "] {
        let refused = server
            .post(
                &format!("/iam/v1/repo/account/{acc}/policies"),
                json!({ "name": "empty", "description": "", "statementQuery": text }),
            )
            .await;
        assert_eq!(
            (refused.status, refused.body),
            (StatusCode::BAD_REQUEST, error("invalid", message))
        );
    }
    let created = server
        .post(
            &format!("/iam/v1/repo/account/{acc}/policies"),
            json!({ "name": "logs", "description": "", "statementQuery": "ALLOW storage:logs:read;" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let uuid = created.body["uuid"].as_str().unwrap();
    let refused = server
        .call(
            Method::PUT,
            &format!("/iam/v1/repo/account/{acc}/policies/{uuid}"),
            Some(json!({ "name": "logs", "description": "", "statementQuery": " " })),
        )
        .await;
    assert_eq!(
        (refused.status, refused.body),
        (StatusCode::BAD_REQUEST, error("invalid", message))
    );
}
