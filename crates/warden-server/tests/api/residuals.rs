//! `POST /iam/v1/authorize/residual` over HTTP: the residual of a principal's policies, the
//! attributes it leaves free, and who may ask — attacked as an anonymous caller, a delegated
//! administrator asking about someone else and a token asking outside its scopes.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::credentials::{client, grant, mint, service_user, user_with};

const RESIDUAL: &str = "/iam/v1/authorize/residual";

/// Buckets starting `team_` except `team_secret`; settings of two schemas at any time.
const READER: &str = "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"team_\";\n\
                      DENY storage:logs:read WHERE storage:bucket-name = \"team_secret\";\n\
                      ALLOW settings:objects:read WHERE settings:schemaId IN (\"builtin:a\", \"builtin:b\");";

fn revision(server: &TestServer) -> u64 {
    server.state.snapshot().revision
}

fn answer(decision: &str, residual: Value, revision: u64) -> Value {
    json!({ "decision": decision, "residual": residual, "revision": revision })
}

fn error(code: &str, message: &str, details: Value) -> Value {
    json!({ "error": { "code": code, "message": message, "details": details } })
}

#[tokio::test]
async fn residuals_are_the_policies_over_the_free_attributes() {
    let server = TestServer::start().await;
    let (uid, _) = user_with(&server, "reader@example.com", READER).await;
    let at = revision(&server);
    let ask = |body: Value| {
        let server = &server;
        async move { server.post(RESIDUAL, body).await }
    };

    // Nothing fixed: the bucket must start with `team_` and not be `team_secret`, which holds
    // also for a record with a list of buckets (one of them `team_secret` denies it).
    let free =
        ask(json!({ "principal": "reader@example.com", "permission": "storage:logs:read" })).await;
    assert_eq!(free.status, StatusCode::OK, "{}", free.body);
    assert_eq!(
        free.body,
        answer(
            "CONDITIONAL",
            json!({ "all": [
                { "attribute": "storage:bucket-name", "operator": "startsWith", "values": ["team_"] },
                { "attribute": "storage:bucket-name", "operator": "!=", "values": ["team_secret"] },
            ] }),
            at
        )
    );

    // Fixed attributes are decided: ALLOW and DENY are constants.
    let fixed = |bucket: &str| {
        json!({ "principal": uid, "permission": "storage:logs:read",
                "attributes": { "storage:bucket-name": bucket } })
    };
    assert_eq!(
        ask(fixed("team_a")).await.body,
        answer("ALLOW", json!(true), at)
    );
    assert_eq!(
        ask(fixed("team_secret")).await.body,
        answer("DENY", json!(false), at)
    );
    assert_eq!(
        ask(fixed("other")).await.body,
        answer("DENY", json!(false), at)
    );

    // `IN` lists come out as one comparison; a permission not granted is `false`; so is an
    // unknown principal or environment.
    let settings = ask(
        json!({ "principal": uid, "permission": "settings:objects:read",
                               "environment": "env-prod", "time": "2026-05-04T10:00:00Z" }),
    )
    .await;
    assert_eq!(
        settings.body,
        answer(
            "CONDITIONAL",
            json!({ "attribute": "settings:schemaId", "operator": "IN", "values": ["builtin:a", "builtin:b"] }),
            at
        )
    );
    for body in [
        json!({ "principal": uid, "permission": "storage:spans:read" }),
        json!({ "principal": "nobody@example.com", "permission": "storage:logs:read" }),
        json!({ "principal": uid, "permission": "storage:logs:read", "environment": "env-nowhere" }),
    ] {
        let reply = ask(body.clone()).await;
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::OK, answer("DENY", json!(false), at)),
            "{body}"
        );
    }
}

#[tokio::test]
async fn mistakes_are_clear_errors() {
    let server = TestServer::start().await;
    user_with(&server, "reader@example.com", READER).await;
    let cases = [
        (
            json!({ "principal": "reader@example.com", "permission": "storage:logs:raed" }),
            error(
                "invalid",
                "unknown permission `storage:logs:raed`; did you mean `storage:logs:read`?",
                json!({ "permission": "storage:logs:raed", "suggestion": "storage:logs:read" }),
            ),
        ),
        (
            json!({ "permission": "storage:logs:read" }),
            error(
                "invalid",
                "give `principal` (a uid, email or handle) or `token` (an access or platform token)",
                Value::Null,
            ),
        ),
        (
            json!({ "principal": "reader@example.com", "token": "x", "permission": "storage:logs:read" }),
            error(
                "invalid",
                "give `principal` or `token`, not both",
                Value::Null,
            ),
        ),
        (
            json!({ "principal": "reader@example.com", "permission": "storage:logs:read", "minRevision": -1 }),
            error(
                "invalid",
                "`minRevision` is a store revision (0 or more), not `-1`; leave it out to decide on the current snapshot",
                Value::Null,
            ),
        ),
    ];
    for (body, expected) in cases {
        let reply = server.post(RESIDUAL, body.clone()).await;
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::BAD_REQUEST, expected),
            "{body}"
        );
    }
    let bad_time = server
        .post(
            RESIDUAL,
            json!({ "principal": "reader@example.com", "permission": "storage:logs:read", "time": "yesterday" }),
        )
        .await;
    assert_eq!(bad_time.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_time.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("`time`: "),
        "{}",
        bad_time.body
    );
    let unknown_field = server
        .post(
            RESIDUAL,
            json!({ "principal": "reader@example.com", "permission": "storage:logs:read", "explain": true }),
        )
        .await;
    assert_eq!(unknown_field.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_residual_beyond_the_size_bound_is_refused() {
    let server = TestServer::start().await;
    // Eleven statements of 1,000 buckets each: one `IN` list of 11,000 values, past 10,000 terms.
    let text: String = (0..11)
        .map(|s| {
            let values: Vec<String> = (0..1000).map(|v| format!("\"b{s}_{v}\"")).collect();
            format!(
                "ALLOW storage:logs:read WHERE storage:bucket-name IN ({});\n",
                values.join(", ")
            )
        })
        .collect();
    user_with(&server, "broad@example.com", &text).await;
    let reply = server
        .post(
            RESIDUAL,
            json!({ "principal": "broad@example.com", "permission": "storage:logs:read" }),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body),
        (
            StatusCode::BAD_REQUEST,
            error(
                "invalid",
                "the residual has 11001 terms, more than the limit of 10000\nhelp: fix more attributes in the request (`attributes`), or narrow the statements that grant or deny the permission",
                json!({ "limit": "residual terms", "max": 10000, "terms": 11001 }),
            )
        )
    );
    // Fixing the attribute decides it.
    let fixed = server
        .post(
            RESIDUAL,
            json!({ "principal": "broad@example.com", "permission": "storage:logs:read",
                    "attributes": { "storage:bucket-name": "b3_999" } }),
        )
        .await;
    assert_eq!(fixed.body["decision"], "ALLOW");
}

#[tokio::test]
async fn only_who_may_ask_for_the_decision_may_ask_for_the_residual() {
    let server = TestServer::start().await;
    let (victim, _) = user_with(&server, "victim@example.com", READER).await;
    // A delegated administrator: may read users, not effective permissions.
    let (admin_uid, delegate) = user_with(
        &server,
        "delegate@example.com",
        "ALLOW iam:users:read, iam:groups:read;\nALLOW storage:logs:read WHERE storage:bucket-name = \"mine\";",
    )
    .await;
    let at = revision(&server);
    let about_victim = json!({ "principal": victim, "permission": "storage:logs:read" });

    // Anonymous: no answer at all.
    let anonymous = server
        .call_as(None, Method::POST, RESIDUAL, Some(about_victim.clone()))
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.body["error"]["code"], "unauthenticated");
    assert!(anonymous.body.get("residual").is_none());

    // The delegate about someone else: 403 naming the permission, by uid and by email alike.
    for principal in [victim.as_str(), "victim@example.com", "VICTIM@example.com"] {
        let refused = server
            .call_as(
                Some(&delegate),
                Method::POST,
                RESIDUAL,
                Some(json!({ "principal": principal, "permission": "storage:logs:read" })),
            )
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{principal}");
        assert_eq!(
            refused.body["error"]["details"],
            json!({ "permission": "iam:effective-permissions:read" }),
            "{principal}"
        );
        assert!(refused.body.get("residual").is_none());
    }
    // … but about itself, always.
    let own = server
        .call_as(
            Some(&delegate),
            Method::POST,
            RESIDUAL,
            Some(json!({ "principal": admin_uid, "permission": "storage:logs:read" })),
        )
        .await;
    assert_eq!(
        (own.status, own.body),
        (
            StatusCode::OK,
            answer(
                "CONDITIONAL",
                json!({ "attribute": "storage:bucket-name", "operator": "=", "values": ["mine"] }),
                at
            )
        )
    );

    // A token asks within its scopes: its owner's residual for a permission in scope, `false`
    // for one outside them whatever the owner holds, and for a token that does not work.
    let su = service_user(&server, "Exporter").await;
    let group = su["groupUuid"].as_str().unwrap();
    grant(&server, group, "exporter", READER).await;
    let (id, secret) = client(
        &server,
        su["email"].as_str().unwrap(),
        &["settings:objects:read"],
    )
    .await;
    let token = mint(&server, &id, &secret).await;
    let at = revision(&server);
    let by_token =
        |permission: &str, token: &str| json!({ "token": token, "permission": permission });
    let in_scope = server
        .call_as(
            Some(&delegate),
            Method::POST,
            RESIDUAL,
            Some(by_token("settings:objects:read", &token)),
        )
        .await;
    assert_eq!(
        (in_scope.status, in_scope.body),
        (
            StatusCode::OK,
            answer(
                "CONDITIONAL",
                json!({ "attribute": "settings:schemaId", "operator": "IN", "values": ["builtin:a", "builtin:b"] }),
                at
            )
        )
    );
    for body in [
        by_token("storage:logs:read", &token),
        by_token("settings:objects:read", "wdn_at_00_nope"),
    ] {
        let refused = server
            .call_as(Some(&delegate), Method::POST, RESIDUAL, Some(body.clone()))
            .await;
        assert_eq!(
            (refused.status, refused.body),
            (StatusCode::OK, answer("DENY", json!(false), at)),
            "{body}"
        );
    }
    // A token given as the principal is not looked up as a name.
    let misplaced = server
        .post(
            RESIDUAL,
            json!({ "principal": token, "permission": "settings:objects:read" }),
        )
        .await;
    assert_eq!(
        (misplaced.status, misplaced.body),
        (
            StatusCode::BAD_REQUEST,
            error(
                "invalid",
                "`principal` holds a token; send it as `token` to ask about its owner",
                Value::Null
            )
        )
    );
}

#[tokio::test]
async fn the_document_describes_the_predicate_by_reference_to_itself() {
    let server = TestServer::start().await;
    let document = server
        .call_as(None, Method::GET, "/openapi.json", None)
        .await
        .body;
    let schemas = &document["components"]["schemas"];
    let predicate = &schemas["Predicate"];
    let forms = predicate["oneOf"].as_array().unwrap();
    let reference = json!({ "$ref": "#/components/schemas/Predicate" });
    assert_eq!(forms.len(), 6, "{predicate}");
    assert_eq!(forms[0]["type"], "boolean");
    for (form, name) in [(1, "all"), (2, "any")] {
        assert_eq!(forms[form]["required"], json!([name]));
        assert_eq!(forms[form]["properties"][name]["type"], "array");
        assert_eq!(forms[form]["properties"][name]["items"], reference);
    }
    assert_eq!(forms[3]["properties"]["not"], reference);
    assert_eq!(forms[4]["properties"]["present"]["type"], "string");
    assert_eq!(
        forms[5],
        json!({ "$ref": "#/components/schemas/Comparison" })
    );
    assert_eq!(
        schemas["Comparison"]["required"],
        json!(["attribute", "operator", "values"])
    );
    assert_eq!(
        schemas["Operator"]["enum"],
        json!([
            "=",
            "IN",
            "startsWith",
            "MATCH",
            "!=",
            "NOT IN",
            "NOT startsWith"
        ])
    );
    assert_eq!(
        schemas["ResidualResponse"]["properties"]["residual"],
        reference
    );
    let operation = &document["paths"][RESIDUAL]["post"];
    assert_eq!(operation["operationId"], "authorize_residual");
    assert_eq!(
        operation["responses"]["200"]["content"]["application/json"]["schema"],
        json!({ "$ref": "#/components/schemas/ResidualResponse" })
    );
}
