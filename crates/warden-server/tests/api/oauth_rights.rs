//! What an OAuth client's tokens may do (SPEC §8): scopes ∩ the owner's permissions at each use,
//! deactivation of the owner, issuing for service users (use permission, no escalation), the
//! limit on bad secrets, and persistence and lifetime of clients and tokens.

use serde_json::json;
use warden_client::StatusCode;

use crate::common::TestServer;
use crate::credentials::{
    Auth, acc, client, client_as, get_as, grant, mint, oauth, service_user, user_with,
};

const TOKEN: &str = "/sso/oauth2/token";
const GRANT: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test]
async fn rights_are_scopes_intersected_with_the_owners_permissions_at_each_use() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let su = service_user(&server, "Group Reader").await;
    let group = su["groupUuid"].as_str().unwrap();
    let policy = grant(&server, group, "reads groups", "ALLOW iam:groups:read;").await;
    let (id, secret) = client(
        &server,
        su["email"].as_str().unwrap(),
        &["iam:groups:read", "iam:users:read"],
    )
    .await;
    let token = mint(&server, &id, &secret).await;
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );
    let not_held = get_as(&server, &token, &format!("{acc}/users")).await;
    assert_eq!(
        not_held.status,
        StatusCode::FORBIDDEN,
        "in scope, but the owner lacks it"
    );
    assert_eq!(
        not_held.body["error"]["details"]["permission"],
        "iam:users:read"
    );

    // The platform asks "may the holder of this token do X".
    let ask = |permission: &'static str, token: String| {
        let server = &server;
        async move {
            server
                .post(
                    "/iam/v1/authorize",
                    json!({ "token": token, "permission": permission }),
                )
                .await
                .body
        }
    };
    let allowed = ask("iam:groups:read", token.clone()).await;
    assert_eq!(
        (allowed["decision"].as_str(), allowed["reason"].as_str()),
        (Some("ALLOW"), Some("allowed"))
    );
    let lacking = ask("iam:users:read", token.clone()).await;
    assert_eq!(lacking["reason"], "no-matching-allow");
    let out_of_scope = ask("iam:policies:read", token.clone()).await;
    assert_eq!(
        (
            out_of_scope["decision"].as_str(),
            out_of_scope["reason"].as_str()
        ),
        (Some("DENY"), Some("out-of-scope"))
    );
    let invalid = ask("iam:groups:read", "wdn_at_00_nope".into()).await;
    assert_eq!(invalid["reason"], "invalid-token");
    let both = server
        .post(
            "/iam/v1/authorize",
            json!({ "token": token, "principal": "x", "permission": "iam:groups:read" }),
        )
        .await;
    assert_eq!(both.status, StatusCode::BAD_REQUEST);
    let misplaced = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": token, "permission": "iam:groups:read" }),
        )
        .await;
    assert_eq!(misplaced.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        misplaced.body["error"]["message"],
        "`principal` holds a token; send it as `token` to decide for its owner"
    );

    // A permission removed from the owner is gone for the token at the next request.
    let repo = format!("/iam/v1/repo/account/{}", server.account());
    let unbound = server
        .delete(&format!("{repo}/bindings/{policy}/{group}"))
        .await;
    assert_eq!(unbound.status, StatusCode::NO_CONTENT);
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask("iam:groups:read", token.clone()).await["reason"],
        "no-matching-allow"
    );
}

#[tokio::test]
async fn deactivation_cuts_off_a_live_token_at_once() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let su = service_user(&server, "Exporter").await;
    grant(
        &server,
        su["groupUuid"].as_str().unwrap(),
        "exporter reads",
        "ALLOW iam:groups:read;",
    )
    .await;
    let email = su["email"].as_str().unwrap();
    let (id, secret) = client(&server, email, &["iam:groups:read"]).await;
    let token = mint(&server, &id, &secret).await;
    let platform = server
        .post(
            &format!("{acc}/platform-tokens"),
            json!({ "name": "exporter", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z", "userUuid": email }),
        )
        .await
        .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for t in [&token, &platform] {
        assert_eq!(
            get_as(&server, t, &format!("{acc}/groups")).await.status,
            StatusCode::OK
        );
    }
    let off = server
        .post(
            &format!("{acc}/service-users/exporter@service/deactivate"),
            json!({ "reason": "leaked secret" }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK);
    for t in [&token, &platform] {
        let refused = get_as(&server, t, &format!("{acc}/groups")).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            refused.body["error"]["message"],
            "the token's owner is deactivated"
        );
    }
    let minted = oauth(&server, TOKEN, Auth::Basic(&id, &secret), &[GRANT]).await;
    assert_eq!(minted.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        minted.body,
        json!({ "error": "invalid_client", "error_description": "the client is disabled: its owner is deactivated" })
    );
    let introspected = oauth(
        &server,
        "/sso/oauth2/introspect",
        Auth::Bearer(&server.token),
        &[("token", &token)],
    )
    .await;
    assert_eq!(introspected.body, json!({ "active": false }));
    let decided = server
        .post(
            "/iam/v1/authorize",
            json!({ "token": token, "permission": "iam:groups:read" }),
        )
        .await;
    assert_eq!(decided.body["reason"], "inactive-principal");
    // Minting a new credential for it is refused while it is deactivated.
    let new_client = client_as(&server, None, Some(email), &["iam:groups:read"]).await;
    assert_eq!(new_client.status, StatusCode::CONFLICT);

    server
        .post(
            &format!("{acc}/service-users/exporter@service/reactivate"),
            json!({}),
        )
        .await;
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn issuing_for_a_service_user_needs_use_and_no_escalation() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let usable = service_user(&server, "Usable").await;
    let other = service_user(&server, "Other").await;
    let usable_email = usable["email"].as_str().unwrap().to_owned();
    let (_, bob) = user_with(
        &server,
        "bob@example.com",
        &format!(
            "ALLOW iam:tokens:write, iam:tokens:read, iam:groups:read;\nALLOW iam:service-users:use WHERE iam:service-user-email = \"{usable_email}\";"
        ),
    )
    .await;

    let not_usable = client_as(
        &server,
        Some(&bob),
        other["email"].as_str(),
        &["iam:groups:read"],
    )
    .await;
    assert_eq!(
        not_usable.status,
        StatusCode::FORBIDDEN,
        "{}",
        not_usable.body
    );
    assert_eq!(
        not_usable.body["error"]["details"]["permission"],
        "iam:service-users:use"
    );
    let by_handle = client_as(
        &server,
        Some(&bob),
        Some("usable@service"),
        &["iam:groups:read"],
    )
    .await;
    assert_eq!(by_handle.status, StatusCode::CREATED, "{}", by_handle.body);
    assert_eq!(by_handle.body["owner"]["email"], usable_email.as_str());
    let escalation = client_as(
        &server,
        Some(&bob),
        Some(&usable_email),
        &["iam:users:read"],
    )
    .await;
    assert_eq!(escalation.status, StatusCode::FORBIDDEN);
    assert_eq!(
        escalation.body["error"]["message"],
        "this credential would grant `iam:users:read` at account level, which you do not hold there yourself"
    );
    assert_eq!(escalation.body["error"]["details"]["rule"], "no-escalation");
    let person = client_as(
        &server,
        Some(&bob),
        Some("admin@warden.local"),
        &["iam:groups:read"],
    )
    .await;
    assert_eq!(person.status, StatusCode::FORBIDDEN);
    assert_eq!(
        person.body["error"]["message"],
        "`admin@warden.local` is another person: credentials can be issued only for yourself or for a service user you may use"
    );
    let typo = client_as(&server, Some(&bob), None, &["iam:group:read"]).await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        typo.body["error"]["message"],
        "unknown permission `iam:group:read` in `scopes`; did you mean `iam:groups:read`?"
    );
    let empty = client_as(&server, Some(&bob), None, &[]).await;
    assert_eq!(
        empty.body["error"]["message"],
        "`scopes` must name at least one permission"
    );
    // For himself, Bob may name scopes he lacks: the token's rights are scopes ∩ his permissions.
    let own = client_as(
        &server,
        Some(&bob),
        None,
        &["iam:tokens:write", "iam:users:read"],
    )
    .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.body);

    // A scoped token cannot make a credential wider than itself.
    let scoped = mint(
        &server,
        own.body["clientId"].as_str().unwrap(),
        own.body["clientSecret"].as_str().unwrap(),
    )
    .await;
    let wider = server
        .call_as(
            Some(&scoped),
            warden_client::Method::POST,
            &format!("{acc}/platform-tokens"),
            Some(json!({ "name": "wider", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z" })),
        )
        .await;
    assert_eq!(wider.status, StatusCode::FORBIDDEN);
    assert_eq!(
        wider.body["error"]["message"],
        "the token you are using does not include `iam:groups:read`, so it cannot make a credential that does"
    );
    // Rotation widens too: Bob cannot add a secret to a client of a service user he may not use.
    let (foreign, _) = client(
        &server,
        other["email"].as_str().unwrap(),
        &["iam:groups:read"],
    )
    .await;
    let rotate = server
        .call_as(
            Some(&bob),
            warden_client::Method::POST,
            &format!("{acc}/oauth-clients/{foreign}/secrets"),
            Some(json!({})),
        )
        .await;
    assert_eq!(rotate.status, StatusCode::FORBIDDEN);
    assert_eq!(
        rotate.body["error"]["details"]["permission"],
        "iam:service-users:use"
    );
}

#[tokio::test]
async fn repeated_bad_secrets_are_rate_limited_per_source() {
    let server = TestServer::start().await;
    let (id, secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let (other, other_secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    let wrong = format!("{}{last}", &secret[..secret.len() - 1]);
    let max = warden_server::secrets::MAX_FAILURES;
    assert_eq!(max, 20);
    for _ in 0..max {
        let reply = oauth(&server, TOKEN, Auth::Basic(&id, &wrong), &[GRANT]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        server.clock.advance(250);
    }
    // The source's budget is spent: even the right secret waits for the window (from the first
    // failure), for every client, on every endpoint that checks a secret.
    let limited = oauth(&server, TOKEN, Auth::Basic(&id, &secret), &[GRANT]).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers["retry-after"], "55");
    assert_eq!(
        limited.body,
        json!({ "error": "slow_down", "error_description": "too many failed client authentications from your address; retry after 55 seconds" })
    );
    let form = oauth(&server, TOKEN, Auth::Form(&other, &other_secret), &[GRANT]).await;
    assert_eq!(
        form.status,
        StatusCode::TOO_MANY_REQUESTS,
        "whatever the method and the client"
    );
    let revoke = oauth(
        &server,
        "/sso/oauth2/revoke",
        Auth::Basic(&id, &secret),
        &[("token", "x")],
    )
    .await;
    assert_eq!(revoke.status, StatusCode::TOO_MANY_REQUESTS);
    server.clock.advance(54_999);
    assert_eq!(
        oauth(&server, TOKEN, Auth::Basic(&id, &secret), &[GRANT])
            .await
            .headers["retry-after"],
        "1"
    );
    server.clock.advance(1);
    mint(&server, &id, &secret).await;
}

#[tokio::test]
async fn clients_and_tokens_survive_a_restart_and_the_lifetime_is_configurable() {
    let dir = std::env::temp_dir().join(format!("warden-api-ttl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = warden_server::Config {
        db: dir.join("warden.db").display().to_string(),
        token_file: dir.join("admin-token"),
        access_token_ttl: std::time::Duration::from_secs(60),
        ..warden_server::Config::default()
    };
    let server = TestServer::start_with(config, dir).await;
    let acc = acc(&server);
    let (id, secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let issued = oauth(&server, TOKEN, Auth::Basic(&id, &secret), &[GRANT]).await;
    assert_eq!(issued.body["expires_in"], 60);
    let token = issued.body["access_token"].as_str().unwrap().to_owned();

    let server = server.restart().await;
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );
    mint(&server, &id, &secret).await;
    assert_eq!(
        server.get(&format!("{acc}/oauth-clients")).await.body["count"],
        1
    );
    server.clock.advance(60_000);
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
