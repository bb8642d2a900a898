//! Platform tokens (reference §3.8): create (shown once), list with filters, disable and enable,
//! expiry on the manual clock, delete, at most 10 per user.

use serde_json::json;
use warden_client::StatusCode;

use crate::common::TestServer;
use crate::credentials::{acc, get_as, service_user};

#[tokio::test]
async fn platform_token_lifecycle() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let path = format!("{acc}/platform-tokens");
    let created = server
        .post(
            &path,
            json!({ "name": "Grafana sync", "scope": ["iam:groups:read"], "expirationDate": "2026-05-05T10:00:00.250Z" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let token = created.body["token"].as_str().unwrap().to_owned();
    let id = created.body["tokenId"].as_str().unwrap().to_owned();
    assert!(token.starts_with(&format!("wdn_pt_{id}_")));
    assert_eq!(created.body["name"], "Grafana sync");
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );
    let outside = get_as(&server, &token, &format!("{acc}/users")).await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN);

    let listed = server
        .get(&format!("{path}?searchTerm=grafana&status=ACTIVE"))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["totalCount"], 1);
    let item = &listed.body["items"][0];
    assert_eq!(item["tokenId"], id.as_str());
    assert_eq!(item["userEmail"], "admin@warden.local");
    assert_eq!(item["scope"], json!(["iam:groups:read"]));
    assert_eq!(
        item["expirationDate"], "2026-05-05T10:00:00Z",
        "the fraction is cut off"
    );
    assert_eq!(item["expired"], false);
    assert!(
        !listed.body.to_string().contains(&token),
        "never shown again"
    );
    let all = server.get(&path).await.body;
    assert_eq!(all["totalCount"], 2, "with the bootstrap token");
    assert_eq!(
        server.get(&format!("{path}?status=INACTIVE")).await.body["totalCount"],
        0
    );
    assert_eq!(
        server.get(&format!("{path}?status=GONE")).await.status,
        StatusCode::BAD_REQUEST
    );

    // Disable: refused at the next request; enable: works again.
    let disabled = server
        .put(
            &format!("{path}/{id}/status"),
            json!({ "status": "INACTIVE" }),
        )
        .await;
    assert_eq!(disabled.status, StatusCode::NO_CONTENT, "{}", disabled.body);
    let refused = get_as(&server, &token, &format!("{acc}/groups")).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body["error"]["message"], "the token is inactive");
    server
        .put(
            &format!("{path}/{id}/status"),
            json!({ "status": "ACTIVE" }),
        )
        .await;
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );

    // Expiry: the last millisecond works, the next is refused with 403.
    server.clock.advance(86_400_000 - 1);
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );
    server.clock.advance(1);
    let expired = get_as(&server, &token, &format!("{acc}/groups")).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.body["error"]["message"], "the token has expired");
    let listed = server.get(&path).await.body;
    let item = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tokenId"] == id.as_str())
        .unwrap();
    assert_eq!(item["expired"], true);
    let past = server
        .put(
            &format!("{path}/{id}/expiration-date"),
            json!({ "expirationDate": "2026-05-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(past.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        past.body["error"]["message"],
        "`expirationDate` `2026-05-01T00:00:00Z` is not in the future"
    );
    let extended = server
        .put(
            &format!("{path}/{id}/expiration-date"),
            json!({ "expirationDate": "2026-07-01T00:00:00+02:00" }),
        )
        .await;
    assert_eq!(extended.status, StatusCode::NO_CONTENT, "{}", extended.body);
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );

    let deleted = server.delete(&format!("{path}/{id}")).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = get_as(&server, &token, &format!("{acc}/groups")).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    assert_eq!(gone.body["error"]["message"], "invalid token");
    assert_eq!(
        server.delete(&format!("{path}/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    let invalid = [
        (
            json!({ "name": "x", "scope": ["iam:groups:read"], "expirationDate": "2026-05-01T00:00:00Z" }),
            "`expirationDate` `2026-05-01T00:00:00Z` is not in the future",
        ),
        (
            json!({ "name": "x", "scope": ["iam:groups:read"], "expirationDate": "tomorrow" }),
            "`expirationDate` `tomorrow` is not an RFC 3339 date-time such as `2027-01-31T00:00:00Z`",
        ),
        (
            json!({ "name": "x", "scope": [], "expirationDate": "2026-06-01T00:00:00Z" }),
            "`scope` must name at least one permission",
        ),
        (
            json!({ "name": " ", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z" }),
            "`name` must not be empty",
        ),
        (
            json!({ "name": "x", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z", "userUuid": "nobody@example.com" }),
            "user `nobody@example.com` does not exist",
        ),
    ];
    for (body, message) in invalid {
        let reply = server.post(&path, body.clone()).await;
        assert!(reply.status.is_client_error(), "{body}");
        assert_eq!(reply.body["error"]["message"], message, "{body}");
    }
}

#[tokio::test]
async fn at_most_ten_platform_tokens_per_user() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let path = format!("{acc}/platform-tokens");
    let su = service_user(&server, "Busy Bot").await;
    let body = |owner: &str| json!({ "name": "t", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z", "userUuid": owner });
    for _ in 0..10 {
        let reply = server.post(&path, body("busy_bot@service")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let eleventh = server.post(&path, body("busy_bot@service")).await;
    assert_eq!(eleventh.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        eleventh.body["error"]["message"],
        "the limit of 10 platform tokens per user is reached"
    );
    assert_eq!(eleventh.body["error"]["details"]["user"], su["email"]);
    // The administrator has the bootstrap token, so nine more.
    for _ in 0..9 {
        let reply = server.post(&path, body("admin@warden.local")).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    assert_eq!(
        server.post(&path, body("admin@warden.local")).await.status,
        StatusCode::BAD_REQUEST
    );
}

/// The first start's administrator token lives 24 hours by default: the last millisecond
/// works, the next is refused as expired.
#[tokio::test]
async fn the_first_starts_token_expires_after_a_day() {
    let dir = std::env::temp_dir().join(format!("warden-api-ttl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = warden_server::Config {
        db: dir.join("warden.db").display().to_string(),
        token_file: dir.join("admin-token"),
        ..warden_server::Config::default()
    };
    let server = TestServer::start_with(config, dir).await;
    let acc = acc(&server);
    server.clock.advance(24 * 3600 * 1000 - 1);
    assert_eq!(
        server.get(&format!("{acc}/groups")).await.status,
        StatusCode::OK
    );
    server.clock.advance(1);
    let expired = server.get(&format!("{acc}/groups")).await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert_eq!(expired.body["error"]["message"], "the token has expired");
}
