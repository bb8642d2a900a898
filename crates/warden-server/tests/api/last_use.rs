//! A service user's `lastUsedAt`: kept when one of its credentials is accepted and when it is the
//! principal of a decision, written to the store at most once a minute per service user, and
//! everything held written when the server stops.

use serde_json::json;
use warden_client::{Method, StatusCode};

use crate::common::{START_MS, TestServer};
use crate::credentials::{acc, client, get_as, mint, service_user};

/// The stored last use of a principal (what the store holds, not what is held in memory).
async fn stored(server: &TestServer, uid: &str) -> Option<i64> {
    server
        .state
        .store
        .last_used(Some(uid))
        .await
        .unwrap()
        .get(uid)
        .copied()
}

#[tokio::test]
async fn using_a_service_user_shows_when_in_get_and_list() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let bot = service_user(&server, "GitLab deploy pipeline").await;
    let uid = bot["uid"].as_str().unwrap().to_owned();
    assert_eq!(bot["lastUsedAt"], serde_json::Value::Null);
    let (id, secret) = client(&server, &uid, &["iam:groups:read"]).await;
    assert_eq!(
        server.get(&format!("{acc}/service-users/{uid}")).await.body["lastUsedAt"],
        serde_json::Value::Null,
        "making a credential is no use"
    );

    // An hour later its client gets a token: a use, shown at once.
    server.clock.advance(3_600_000);
    let token = mint(&server, &id, &secret).await;
    let got = server.get(&format!("{acc}/service-users/{uid}")).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["lastUsedAt"], "2026-05-04T11:00:00Z");

    // Four minutes later (access tokens live five) the token calls the API.
    server.clock.advance(240_000);
    assert_eq!(
        get_as(&server, &token, "/iam/v1/me").await.status,
        StatusCode::OK
    );
    let listed = server.get(&format!("{acc}/service-users")).await.body;
    let item = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["uid"] == uid.as_str())
        .unwrap();
    assert_eq!(item["lastUsedAt"], "2026-05-04T11:04:00Z");

    // A decision about it, asked by someone else, is a use too (counted, then flushed). The
    // server sees the store first: decisions need it seen within 300 s.
    server.clock.advance(60_000);
    server.state.catch_up().await.unwrap();
    let decided = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": uid, "permission": "iam:groups:read" }),
        )
        .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.body);
    server.state.flush_usage().await.unwrap();
    assert_eq!(
        server.get(&format!("{acc}/service-users/{uid}")).await.body["lastUsedAt"],
        "2026-05-04T11:05:00Z"
    );
    assert_eq!(stored(&server, &uid).await, Some(START_MS + 3_900_000));

    // A body read back with any `lastUsedAt` round-trips: the value moves on its own.
    let mut body = server.get(&format!("{acc}/service-users/{uid}")).await.body;
    body["lastUsedAt"] = json!("2020-01-01T00:00:00Z");
    body["description"] = json!("Deploys the shop");
    let updated = server
        .put(&format!("{acc}/service-users/{uid}"), body)
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["lastUsedAt"], "2026-05-04T11:05:00Z");
    assert_eq!(updated.body["description"], "Deploys the shop");

    // A refused credential is no use: a wrong secret, an expired token.
    server.clock.advance(600_000);
    let refused = crate::credentials::oauth(
        &server,
        "/sso/oauth2/token",
        crate::credentials::Auth::Basic(&id, "wdn_cs_not-the-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
    assert_eq!(
        get_as(&server, &token, "/iam/v1/me").await.status,
        StatusCode::FORBIDDEN,
        "expired"
    );
    server.state.flush_usage().await.unwrap();
    assert_eq!(
        server.get(&format!("{acc}/service-users/{uid}")).await.body["lastUsedAt"],
        "2026-05-04T11:05:00Z"
    );
}

#[tokio::test]
async fn a_service_user_is_written_at_most_once_a_minute() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let bot = service_user(&server, "Grafana sync").await;
    let uid = bot["uid"].as_str().unwrap().to_owned();
    let (id, secret) = client(&server, &uid, &["iam:groups:read"]).await;
    let token = mint(&server, &id, &secret).await;
    assert_eq!(stored(&server, &uid).await, None, "nothing written yet");
    server.state.flush_usage().await.unwrap();
    assert_eq!(stored(&server, &uid).await, Some(START_MS));

    // 30 s later: used again, flushed, not written (it was written 30 s ago) but shown.
    server.clock.advance(30_000);
    get_as(&server, &token, "/iam/v1/me").await;
    server.state.flush_usage().await.unwrap();
    assert_eq!(stored(&server, &uid).await, Some(START_MS));
    assert_eq!(
        server.get(&format!("{acc}/service-users/{uid}")).await.body["lastUsedAt"],
        "2026-05-04T10:00:30Z"
    );
    // 59 s after the write: still not written; a minute after it: written.
    server.clock.advance(29_000);
    server.state.flush_usage().await.unwrap();
    assert_eq!(stored(&server, &uid).await, Some(START_MS));
    server.clock.advance(1_000);
    server.state.flush_usage().await.unwrap();
    assert_eq!(stored(&server, &uid).await, Some(START_MS + 30_000));
    // Nothing new: nothing to write.
    server.clock.advance(120_000);
    server.state.flush_usage().await.unwrap();
    assert_eq!(stored(&server, &uid).await, Some(START_MS + 30_000));

    // A person's use is not tracked: only service users are.
    let me = server.get("/iam/v1/me").await.body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(stored(&server, &me).await, None);
}

#[tokio::test]
async fn stopping_the_server_writes_what_is_held() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let bot = service_user(&server, "Nightly importer").await;
    let uid = bot["uid"].as_str().unwrap().to_owned();
    let (id, secret) = client(&server, &uid, &["iam:groups:read"]).await;
    mint(&server, &id, &secret).await;
    server.state.flush_usage().await.unwrap();
    server.clock.advance(10_000);
    let token = mint(&server, &id, &secret).await;
    let used = server
        .call_as(Some(&token), Method::GET, "/iam/v1/me", None)
        .await;
    assert_eq!(used.status, StatusCode::OK);
    server.state.flush_usage().await.unwrap();
    assert_eq!(
        stored(&server, &uid).await,
        Some(START_MS),
        "written 10 s ago"
    );

    let server = server.restart().await;
    assert_eq!(
        stored(&server, &uid).await,
        Some(START_MS + 10_000),
        "written when the server stopped"
    );
    assert_eq!(
        server.get(&format!("{acc}/service-users/{uid}")).await.body["lastUsedAt"],
        "2026-05-04T10:00:10Z"
    );
}
