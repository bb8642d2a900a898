//! Decision counters: counted in memory, flushed to the store additively, kept when a flush fails.

use serde_json::json;

use crate::common::TestServer;

#[tokio::test]
async fn decisions_are_counted_per_principal_and_permission() {
    let server = TestServer::start().await;
    let admin = server.get("/iam/v1/me").await.body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        server
            .post(
                "/iam/v1/authorize",
                json!({ "principal": admin, "permission": "iam:groups:read" }),
            )
            .await;
    }
    server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": admin, "permission": "storage:logs:read" }),
        )
        .await;
    server.clock.advance(5_000);
    server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "admin@warden.local", "permission": "iam:groups:read" }),
        )
        .await;
    server.state.flush_usage().await.unwrap();
    let rows = server.state.store.usage(Some(&admin)).await.unwrap();
    let groups = rows
        .iter()
        .find(|r| r.permission == "iam:groups:read")
        .unwrap();
    assert_eq!((groups.allows, groups.denies), (4, 0));
    assert_eq!(groups.last_used, crate::common::START_MS + 5_000);
    assert_eq!(groups.last_allowed, crate::common::START_MS + 5_000);
    // The administrator holds every permission through the administrator policy.
    let logs = rows
        .iter()
        .find(|r| r.permission == "storage:logs:read")
        .unwrap();
    assert_eq!((logs.allows, logs.denies), (1, 0));
    // The self-authorisation of the API calls counts too (`/iam/v1/me` needs no permission).
    server
        .get(&format!("/iam/v1/accounts/{}/groups", server.account()))
        .await;
    server.state.flush_usage().await.unwrap();
    let again = server.state.store.usage(Some(&admin)).await.unwrap();
    assert_eq!(
        again
            .iter()
            .find(|r| r.permission == "iam:groups:read")
            .unwrap()
            .allows,
        5,
        "added, not replaced"
    );
}

#[tokio::test]
async fn a_batch_about_others_is_use_of_asking_about_them() {
    let server = TestServer::start().await;
    let admin = server.get("/iam/v1/me").await.body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let acc = format!("/iam/v1/accounts/{}", server.account());
    for email in ["ann@example.com", "bo@example.com"] {
        server
            .post(&format!("{acc}/users"), json!({ "email": email }))
            .await;
    }
    let batch = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": [
                { "principal": "ann@example.com", "permission": "storage:logs:read" },
                { "principal": "bo@example.com", "permission": "storage:logs:read" },
            ] }),
        )
        .await;
    assert_eq!(
        batch.status,
        warden_client::StatusCode::OK,
        "{}",
        batch.body
    );
    server.state.flush_usage().await.unwrap();
    let rows = server.state.store.usage(Some(&admin)).await.unwrap();
    // The batch checked the caller once, as trusted to ask about anyone: that is use.
    let asked = rows
        .iter()
        .find(|r| r.permission == "iam:effective-permissions:read")
        .unwrap();
    assert_eq!(asked.allows, 1);
}
