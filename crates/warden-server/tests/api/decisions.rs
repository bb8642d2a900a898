//! Decisions in bulk: a batch answers, for each of its requests, exactly what the engine decides,
//! whatever form the body takes, and counts each decision as a single request would.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};
use warden_engine::{AttributeValue, Attributes, Request};
use warden_server::api::JsonBody;
use warden_server::api::authorize::BatchRequest;

use crate::common::{START_MS, TestServer};

const GROUPS: usize = 5;
const USERS: usize = 20;

/// Groups with conditional policies (ALLOW with conditions, a conditional DENY), users in them;
/// returns the users' emails.
async fn populate(server: &TestServer) -> Vec<String> {
    let acc = format!("/iam/v1/accounts/{}", server.account());
    let repo = format!("/iam/v1/repo/account/{}", server.account());
    let groups: Vec<Value> = (0..GROUPS)
        .map(|i| json!({ "name": format!("team-{i}") }))
        .collect();
    let created = server.post(&format!("{acc}/groups"), json!(groups)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let ids: Vec<String> = created
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["uuid"].as_str().unwrap().to_owned())
        .collect();
    for (i, group) in ids.iter().enumerate() {
        let text = format!(
            "ALLOW storage:logs:read, storage:spans:read WHERE storage:bucket-name startsWith \"team{i}_\";\n\
             ALLOW settings:objects:read WHERE settings:schemaId IN (\"builtin:a{i}\", \"builtin:shared\");\n\
             DENY settings:objects:write WHERE settings:schemaId = \"builtin:locked\";\n\
             ALLOW settings:objects:write;"
        );
        let policy = server
            .post(
                &format!("{repo}/policies"),
                json!({ "name": format!("team {i}"), "statementQuery": text }),
            )
            .await;
        assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
        let uuid = policy.body["uuid"].as_str().unwrap();
        let path = if i % 2 == 0 {
            format!("{repo}/bindings/{uuid}/{group}")
        } else {
            // Half of them in one environment only.
            format!("/iam/v1/repo/environment/env-prod/bindings/{uuid}/{group}")
        };
        let bound = server.post(&path, json!({})).await;
        assert!(bound.status.is_success(), "{}", bound.body);
    }
    let mut users = Vec::new();
    for i in 0..USERS {
        let email = format!("user{i}@example.com");
        let created = server
            .post(&format!("{acc}/users"), json!({ "email": email }))
            .await;
        assert!(created.status.is_success(), "{}", created.body);
        let mine: Vec<&String> = ids
            .iter()
            .enumerate()
            .filter(|(g, _)| (g + i) % 3 == 0 || *g == i % GROUPS)
            .map(|(_, id)| id)
            .collect();
        let joined = server
            .post(&format!("{acc}/users/{email}"), json!(mine))
            .await;
        assert!(joined.status.is_success(), "{}", joined.body);
        users.push(email);
    }
    users
}

/// The `i`th request of the batch: principals as emails (in any case), uids or unknown; known
/// and unknown permissions and environments; attributes present, missing, in lists, with
/// characters that JSON escapes; the request's own time now and then.
fn request(server: &TestServer, users: &[String], i: usize) -> Value {
    let user = &users[i % users.len()];
    let principal = match i % 7 {
        0 => user.to_uppercase(),
        1 => server
            .state
            .snapshot()
            .directory()
            .find_principal(user)
            .unwrap()
            .uid
            .to_string(),
        2 if i % 14 == 2 => "nobody@example.com".to_owned(),
        _ => user.clone(),
    };
    let team = (i / 3) % GROUPS;
    let (permission, attributes) = match i % 6 {
        0 => (
            "storage:logs:read",
            json!({ "storage:bucket-name": format!("team{team}_app") }),
        ),
        1 => (
            "settings:objects:read",
            json!({ "settings:schemaId": ["builtin:other", "builtin:shared"] }),
        ),
        2 => (
            "settings:objects:write",
            json!({ "settings:schemaId": if i.is_multiple_of(4) { "builtin:locked" } else { "builtin:free" } }),
        ),
        3 => (
            "storage:spans:read",
            json!({ "storage:bucket-name": format!("team{team}_\"quoted\"\\é") }),
        ),
        4 => ("storage:logs:read", json!({})),
        _ => ("nope:nope:read", json!({ "a": [] })),
    };
    let mut request =
        json!({ "principal": principal, "permission": permission, "attributes": attributes });
    match i % 5 {
        0 => request["environment"] = json!("env-prod"),
        1 => request["environment"] = json!("env-dev"),
        2 if i % 10 == 2 => request["environment"] = json!("env-nowhere"),
        3 => request["environment"] = Value::Null,
        _ => {}
    }
    if i.is_multiple_of(11) {
        request["time"] = json!("2026-05-04T10:00:00Z");
    }
    request
}

/// What the engine decides for a request, as the API answers it.
fn expected(server: &TestServer, request: &Value) -> Value {
    let snapshot = server.state.snapshot();
    let attributes: Attributes = request["attributes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(one) => AttributeValue::One(one.clone()),
                many => AttributeValue::Many(
                    many.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().to_owned())
                        .collect(),
                ),
            };
            (name.clone(), value)
        })
        .collect();
    let time = match request["time"].as_str() {
        Some(text) => warden_policy::temporal::parse_date_time(text).unwrap(),
        None => START_MS / 1000,
    };
    let permission = request["permission"].as_str().unwrap();
    if snapshot.catalogue().permission(permission).is_none() {
        // An unknown permission is the request's mistake: its slot carries the error.
        let suggestion = snapshot.catalogue().suggest_permission(permission);
        let hint = match suggestion {
            Some(near) => format!("did you mean `{near}`?"),
            None => "`GET /iam/v1/catalogue` lists the permissions".to_owned(),
        };
        return json!({ "error": {
            "code": "invalid",
            "message": format!("unknown permission `{permission}`; {hint}"),
            "details": { "permission": permission, "suggestion": suggestion },
        } });
    }
    let decision = snapshot.decide(&Request {
        principal: request["principal"].as_str().unwrap(),
        permission,
        environment: request["environment"].as_str(),
        attributes: &attributes,
        time,
    });
    json!({ "decision": decision.outcome, "reason": decision.reason, "revision": snapshot.revision, "stale": false })
}

/// `warden_decisions_total` by outcome.
async fn decisions_counted(server: &TestServer) -> (u64, u64) {
    let text = server
        .api
        .exchange_raw(
            Method::GET,
            server.api.url(&["metrics"]),
            warden_client::Payload::None,
        )
        .await
        .unwrap()
        .body;
    let count = |outcome: &str| {
        let prefix = format!("warden_decisions_total{{outcome=\"{outcome}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    (count("allow"), count("deny"))
}

#[tokio::test]
async fn a_batch_of_a_thousand_answers_exactly_what_the_engine_decides() {
    let server = TestServer::start().await;
    let users = populate(&server).await;
    let requests: Vec<Value> = (0..1_000).map(|i| request(&server, &users, i)).collect();
    let expected: Vec<Value> = requests.iter().map(|r| expected(&server, r)).collect();
    let outcomes = |answers: &[Value], outcome: &str| {
        answers.iter().filter(|a| a["decision"] == outcome).count() as u64
    };
    let (allows, denies) = (outcomes(&expected, "ALLOW"), outcomes(&expected, "DENY"));
    assert!(
        allows > 100 && denies > 100,
        "{allows} allowed, {denies} denied"
    );
    let reasons: std::collections::BTreeSet<&str> = expected
        .iter()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(
        expected.iter().any(|e| e["error"]["code"] == "invalid"),
        "no request names an unknown permission"
    );
    for reason in [
        "allowed",
        "denied-by-statement",
        "no-matching-allow",
        "unknown-principal",
        "unknown-environment",
    ] {
        assert!(reasons.contains(reason), "no request is {reason}");
    }
    let counted = decisions_counted(&server).await;

    let answered = server
        .post("/iam/v1/authorize/batch", json!({ "requests": requests }))
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    let revision = server.state.snapshot().revision;
    assert_eq!(
        answered.body,
        json!({ "revision": revision, "stale": false, "results": expected })
    );
    assert_eq!(
        decisions_counted(&server).await,
        (counted.0 + allows, counted.1 + denies),
        "every decision is counted once"
    );

    // The same batch spelled another way: with spaces, and under another JSON content type
    // (decoded by the API's general extractor).
    let spaced = serde_json::to_string_pretty(&json!({ "requests": requests })).unwrap();
    for content_type in ["application/json", "application/json; charset=utf-8"] {
        let response = server
            .raw(
                Method::POST,
                "/iam/v1/authorize/batch",
                content_type,
                spaced.as_bytes(),
            )
            .await;
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(
            response.headers["content-type"], "application/json",
            "{content_type}"
        );
        let body: Value = serde_json::from_str(&response.body).unwrap();
        assert_eq!(body["results"], json!(expected), "{content_type}");
    }

    // Each answer is the one a single request gets.
    for (request, expected) in requests.iter().zip(&expected).step_by(37) {
        let single = server.post("/iam/v1/authorize", request.clone()).await;
        let status = if expected.get("error").is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        assert_eq!(single.status, status, "{}", single.body);
        assert_eq!(&single.body, expected, "{request}");
    }
}

#[tokio::test]
async fn a_batch_counts_usage_as_its_decisions_one_by_one_would() {
    let server = TestServer::start().await;
    let users = populate(&server).await;
    let caller = server.get("/iam/v1/me").await.body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    server.state.flush_usage().await.unwrap();
    let before = server.state.store.usage(None).await.unwrap();
    // One principal asking for many permissions in a row, then many principals: the runs of a
    // batch and the lookups of its principals are counted like separate decisions.
    let mut requests: Vec<Value> = (0..200)
        .map(|i| {
            let mut request = request(&server, &users, i);
            if i < 60 {
                request["principal"] = json!(users[3]);
            }
            request
        })
        .collect();
    requests.extend(requests.clone());
    let mut counts: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let snapshot = server.state.snapshot();
    let catalogue = snapshot.catalogue();
    for request in &requests {
        let Some(principal) = snapshot
            .directory()
            .find_principal(request["principal"].as_str().unwrap())
        else {
            continue;
        };
        let permission = request["permission"].as_str().unwrap();
        if catalogue.permission(permission).is_none() {
            continue; // counted, but only catalogue permissions are written to the store
        }
        let allowed = expected(&server, request)["decision"] == "ALLOW";
        let count = counts
            .entry((principal.uid.to_string(), permission.to_owned()))
            .or_default();
        if allowed {
            count.0 += 1;
        } else {
            count.1 += 1;
        }
    }
    let answered = server
        .post("/iam/v1/authorize/batch", json!({ "requests": requests }))
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    server.state.flush_usage().await.unwrap();
    let mut after: BTreeMap<(String, String), (i64, i64, i64, i64)> = server
        .state
        .store
        .usage(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|row| !before.contains(row))
        .map(|row| {
            (
                (row.principal, row.permission),
                (row.allows, row.denies, row.last_used, row.last_allowed),
            )
        })
        .collect();
    let expected: BTreeMap<(String, String), (i64, i64, i64, i64)> = counts
        .into_iter()
        .map(|(key, (allows, denies))| {
            let last_allowed = if allows > 0 { START_MS } else { 0 };
            (key, (allows, denies, START_MS, last_allowed))
        })
        .collect();
    // The caller's own check, made once for the batch, is its use of asking about anyone.
    let asked = "iam:effective-permissions:read".to_owned();
    let had = before
        .iter()
        .find(|r| r.principal == caller && r.permission == asked)
        .map_or(0, |r| r.allows);
    let check = after.remove(&(caller, asked)).unwrap();
    assert_eq!(check.0, had + 1);
    assert_eq!(after, expected);
}

#[tokio::test]
async fn batches_beyond_the_limit_and_malformed_requests_are_refused_as_before() {
    let server = TestServer::start().await;
    let one = json!({ "principal": "admin@warden.local", "permission": "iam:users:read" });
    let full = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": vec![one.clone(); 1_000] }),
        )
        .await;
    assert_eq!(full.status, StatusCode::OK, "{}", full.body);
    assert_eq!(full.body["results"].as_array().unwrap().len(), 1_000);
    assert!(
        full.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["decision"] == "ALLOW")
    );

    let refused = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": vec![one.clone(); 1_001] }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body,
        json!({ "error": { "code": "invalid", "message": "the limit of 1000 requests per batch is reached", "details": { "limit": "requests per batch", "max": 1000 } } })
    );

    // A malformed request is refused with the message the API's extractor gives, naming it.
    let mut requests = vec![one.clone(); 1_000];
    requests[500] = json!({ "principal": "admin@warden.local", "permission": 5 });
    let body = serde_json::to_vec(&json!({ "requests": requests })).unwrap();
    let extractor = JsonBody::<BatchRequest>::canonical(&body).unwrap_err();
    assert!(
        extractor.message.starts_with(
            "invalid JSON body: `requests[500].permission` must be a string, not the integer `5` (line 1, column "
        ),
        "{}",
        extractor.message
    );
    let refused = server
        .post("/iam/v1/authorize/batch", json!({ "requests": requests }))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body,
        json!({ "error": { "code": "invalid", "message": extractor.message, "details": null } })
    );

    // An unknown field, and a request that names no principal: refused as before.
    let refused = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": [one, { "permission": "iam:users:read", "user": "x" }] }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON body: unknown field `user` in `requests[1]`; the fields are `principal`, `token`"),
        "{}",
        refused.body
    );
    let refused = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": [one, { "permission": "iam:users:read" }] }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["error"]["message"],
        "give `principal` (a uid, email or handle) or `token` (an access or platform token)"
    );
    let unsent = server
        .raw(
            Method::POST,
            "/iam/v1/authorize/batch",
            "text/plain",
            json!({ "requests": [one] }).to_string().as_bytes(),
        )
        .await;
    assert_eq!(unsent.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}
