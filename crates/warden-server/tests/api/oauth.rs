//! OAuth2 client credentials (SPEC §8): the token endpoint and its errors, expiry on the manual
//! clock, rotation with overlap, revocation (RFC 7009), introspection (RFC 7662). What the tokens
//! may do is in `oauth_rights.rs`.

use serde_json::json;
use warden_client::StatusCode;

use crate::common::TestServer;
use crate::credentials::{Auth, acc, client, client_as, get_as, mint, oauth};

const TOKEN: &str = "/sso/oauth2/token";
const GRANT: (&str, &str) = ("grant_type", "client_credentials");

#[tokio::test]
async fn the_token_endpoint_follows_rfc_6749() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let account = server.account();
    let created = client_as(&server, None, None, &["iam:groups:read", "iam:users:read"]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["clientId"].as_str().unwrap().to_owned();
    let secret = created.body["clientSecret"].as_str().unwrap().to_owned();
    assert!(id.starts_with("wdn_client_") && secret.starts_with("wdn_cs_"));
    assert_eq!(created.body["owner"]["email"], "admin@warden.local");
    // Never shown again, never with a hash.
    let shown = server
        .get(&format!("{acc}/oauth-clients/{id}"))
        .await
        .body
        .to_string();
    assert!(
        !shown.contains(&secret) && !shown.contains("argon2") && !shown.contains("clientSecret"),
        "{shown}"
    );
    let listed = server.get(&format!("{acc}/oauth-clients")).await.body;
    assert_eq!(listed["count"], 1);

    let issued = oauth(&server, TOKEN, Auth::Basic(&id, &secret), &[GRANT]).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text);
    assert_eq!(issued.headers["cache-control"], "no-store");
    let body = &issued.body;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "iam:groups:read iam:users:read");
    assert_eq!(body["resource"], format!("urn:dtaccount:{account}"));
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token (§4.4.3)"
    );
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("wdn_at_"));
    assert_eq!(
        get_as(&server, token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );
    let outside = get_as(
        &server,
        token,
        &format!("/iam/v1/repo/account/{account}/policies"),
    )
    .await;
    assert_eq!(outside.status, StatusCode::FORBIDDEN);
    assert_eq!(
        outside.body["error"]["message"],
        "the token's scopes do not include `iam:policies:read`"
    );

    // Form authentication, a narrower scope, the account as resource.
    let narrow = oauth(
        &server,
        TOKEN,
        Auth::Form(&id, &secret),
        &[
            GRANT,
            ("scope", "iam:users:read"),
            ("resource", &format!("urn:dtaccount:{account}")),
        ],
    )
    .await;
    assert_eq!(narrow.status, StatusCode::OK, "{}", narrow.text);
    assert_eq!(narrow.body["scope"], "iam:users:read");
    let narrow_token = narrow.body["access_token"].as_str().unwrap();
    assert_eq!(
        get_as(&server, narrow_token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let other_account = format!(
        "resource `urn:dtaccount:other` is not this server's account; use `urn:dtaccount:{account}`"
    );
    let not_supported = format!(
        "resource `https://example.com` is not supported; use `urn:dtaccount:{account}` or leave it out"
    );
    // (authentication, parameters, status, error, description)
    type Case<'a> = (
        Auth<'a>,
        Vec<(&'a str, &'a str)>,
        StatusCode,
        &'a str,
        &'a str,
    );
    let errors: Vec<Case<'_>> = vec![
        (
            Auth::Basic(&id, &secret),
            vec![GRANT, ("scope", "iam:policies:read")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "scope `iam:policies:read` is not one of the client's scopes (iam:groups:read iam:users:read)",
        ),
        (
            Auth::Basic(&id, &secret),
            vec![GRANT, ("scope", " ")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "`scope` is empty; leave it out to get every scope of the client",
        ),
        (
            Auth::Basic(&id, &secret),
            vec![GRANT, ("resource", "urn:dtaccount:other")],
            StatusCode::BAD_REQUEST,
            "invalid_target",
            &other_account,
        ),
        (
            Auth::Basic(&id, &secret),
            vec![GRANT, ("resource", "https://example.com")],
            StatusCode::BAD_REQUEST,
            "invalid_target",
            &not_supported,
        ),
        (
            Auth::Basic(&id, &secret),
            vec![("grant_type", "password")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type `password` is not supported; use `client_credentials`",
        ),
        (
            Auth::Basic(&id, &secret),
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "`grant_type` is missing; use `client_credentials`",
        ),
        (
            Auth::Basic(&id, &secret),
            vec![GRANT, GRANT],
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "parameter `grant_type` is given more than once",
        ),
        (
            Auth::None,
            vec![GRANT],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication is required: HTTP Basic or `client_id` and `client_secret`",
        ),
        (
            Auth::Basic(&id, "wdn_cs_0_wrong"),
            vec![GRANT],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ),
        (
            Auth::Basic("wdn_client_00000000000000000000000000000000", &secret),
            vec![GRANT],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        ),
        (
            Auth::Basic(&id, &secret),
            vec![GRANT, ("client_id", &id)],
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "use one client authentication method: HTTP Basic or the `client_id` and `client_secret` parameters, not both",
        ),
        (
            Auth::None,
            vec![GRANT, ("client_id", &id)],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "`client_secret` is missing: every Warden client is confidential",
        ),
    ];
    for (auth, params, status, error, description) in errors {
        let reply = oauth(&server, TOKEN, auth, &params).await;
        assert_eq!(reply.status, status, "{params:?}: {}", reply.text);
        assert_eq!(
            reply.body,
            json!({ "error": error, "error_description": description }),
            "{params:?}"
        );
        assert_eq!(reply.headers["cache-control"], "no-store");
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(
                reply.headers["www-authenticate"],
                "Basic realm=\"warden\", charset=\"UTF-8\""
            );
        }
    }
    let as_client = server.api.with_client_secret(&id, &secret);
    let json_body = as_client
        .exchange(
            warden_client::Method::POST,
            as_client.url_of(TOKEN).unwrap(),
            warden_client::Payload::Json(&json!({ "grant_type": "client_credentials" })),
        )
        .await
        .unwrap();
    assert_eq!(json_body.status, StatusCode::BAD_REQUEST);
    assert_eq!(json_body.body["error"], "invalid_request");
}

#[tokio::test]
async fn access_tokens_expire_on_the_clock() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let (id, secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let token = mint(&server, &id, &secret).await;
    let token_id = token.split('_').nth(2).unwrap().to_owned();
    server.clock.advance(299_999);
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
    let introspected = oauth(
        &server,
        "/sso/oauth2/introspect",
        Auth::Basic(&id, &secret),
        &[("token", &token)],
    )
    .await;
    assert_eq!(introspected.body, json!({ "active": false }));
    // The next mint purges the client's expired tokens in the same write.
    assert!(server.state.tokens.load().contains_key(&token_id));
    mint(&server, &id, &secret).await;
    assert!(!server.state.tokens.load().contains_key(&token_id));
}

#[tokio::test]
async fn rotation_keeps_the_old_secret_until_it_is_revoked() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let (id, first) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let rotated = server
        .post(&format!("{acc}/oauth-clients/{id}/secrets"), json!({}))
        .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.body);
    let second = rotated.body["clientSecret"].as_str().unwrap().to_owned();
    let second_id = rotated.body["secretId"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    // Overlap: both work.
    let old_token = mint(&server, &id, &first).await;
    mint(&server, &id, &second).await;
    let shown = server.get(&format!("{acc}/oauth-clients/{id}")).await.body;
    let secrets = shown["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 2);
    let first_id = secrets[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(first_id, second_id);

    let revoked = server
        .delete(&format!("{acc}/oauth-clients/{id}/secrets/{first_id}"))
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    let refused = oauth(&server, TOKEN, Auth::Basic(&id, &first), &[GRANT]).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.body["error"], "invalid_client");
    mint(&server, &id, &second).await;
    // Tokens already issued with the revoked secret run until they expire or are revoked.
    assert_eq!(
        get_as(&server, &old_token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK
    );
    let again = server
        .delete(&format!("{acc}/oauth-clients/{id}/secrets/{first_id}"))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        again.body["error"]["message"],
        format!("secret `{first_id}` was already revoked at 2026-05-04T10:00:00Z")
    );
    let shown = server.get(&format!("{acc}/oauth-clients/{id}")).await.body;
    assert_eq!(shown["secrets"][0]["active"], false);
    assert_eq!(shown["secrets"][0]["revokedAt"], "2026-05-04T10:00:00Z");
    assert_eq!(shown["secrets"][1]["active"], true);
    // Deleting the client ends its tokens.
    assert_eq!(
        server
            .delete(&format!("{acc}/oauth-clients/{id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get_as(&server, &old_token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        oauth(&server, TOKEN, Auth::Basic(&id, &second), &[GRANT])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn revocation_follows_rfc_7009() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let (a, a_secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let (b, b_secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let token = mint(&server, &a, &a_secret).await;
    const REVOKE: &str = "/sso/oauth2/revoke";

    let unauthenticated = oauth(&server, REVOKE, Auth::None, &[("token", &token)]).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    let other = oauth(
        &server,
        REVOKE,
        Auth::Basic(&b, &b_secret),
        &[("token", &token)],
    )
    .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        other.body,
        json!({ "error": "unauthorized_client", "error_description": format!("the token was not issued to client `{b}`") })
    );
    assert_eq!(
        get_as(&server, &token, &format!("{acc}/groups"))
            .await
            .status,
        StatusCode::OK,
        "still works"
    );
    let unknown = oauth(
        &server,
        REVOKE,
        Auth::Basic(&a, &a_secret),
        &[("token", "wdn_at_0123_nothing")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::OK);
    let missing = oauth(&server, REVOKE, Auth::Basic(&a, &a_secret), &[]).await;
    assert_eq!(missing.body["error"], "invalid_request");

    let revoked = oauth(
        &server,
        REVOKE,
        Auth::Basic(&a, &a_secret),
        &[("token", &token), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(revoked.text, "");
    let after = get_as(&server, &token, &format!("{acc}/groups")).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.body["error"]["message"], "invalid token");
    let twice = oauth(
        &server,
        REVOKE,
        Auth::Basic(&a, &a_secret),
        &[("token", &token)],
    )
    .await;
    assert_eq!(twice.status, StatusCode::OK);
}

#[tokio::test]
async fn introspection_follows_rfc_7662() {
    let server = TestServer::start().await;
    let (a, a_secret) = client(
        &server,
        "admin@warden.local",
        &["iam:groups:read", "iam:users:read"],
    )
    .await;
    let (b, b_secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let token = mint(&server, &a, &a_secret).await;
    const INTROSPECT: &str = "/sso/oauth2/introspect";
    let admin = server.get("/iam/v1/me").await.body["uid"].clone();

    let unauthenticated = oauth(&server, INTROSPECT, Auth::None, &[("token", &token)]).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unauthenticated.body["error"], "invalid_client");
    let own = oauth(
        &server,
        INTROSPECT,
        Auth::Basic(&a, &a_secret),
        &[("token", &token)],
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    assert_eq!(own.headers["cache-control"], "no-store");
    let exp = crate::common::START_MS / 1000 + 300;
    assert_eq!(
        own.body,
        json!({
            "active": true,
            "scope": "iam:groups:read iam:users:read",
            "client_id": a,
            "sub": admin,
            "username": "admin@warden.local",
            "exp": exp,
            "iat": crate::common::START_MS / 1000,
            "token_type": "Bearer",
        })
    );
    // Another client without `iam:tokens:read` learns nothing about a token not issued to it.
    let not_yours = oauth(
        &server,
        INTROSPECT,
        Auth::Basic(&b, &b_secret),
        &[("token", &token)],
    )
    .await;
    assert_eq!(not_yours.body, json!({ "active": false }));
    // A bearer token holding iam:tokens:read may introspect any token.
    let bearer = oauth(
        &server,
        INTROSPECT,
        Auth::Bearer(&server.token),
        &[("token", &token)],
    )
    .await;
    assert_eq!(bearer.body["active"], true);
    assert_eq!(bearer.body["client_id"], a);
    let scoped = mint(&server, &b, &b_secret).await;
    let lacking = oauth(
        &server,
        INTROSPECT,
        Auth::Bearer(&scoped),
        &[("token", &token)],
    )
    .await;
    assert_eq!(lacking.status, StatusCode::FORBIDDEN);
    assert_eq!(lacking.body["error"], "insufficient_scope");
    let bad_bearer = oauth(
        &server,
        INTROSPECT,
        Auth::Bearer("wdn_pt_00_nope"),
        &[("token", &token)],
    )
    .await;
    assert_eq!(bad_bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(bad_bearer.body["error"], "invalid_token");
    for garbage in ["", "wdn_at_", "wdn_at_abc_def", "Bearer x"] {
        let reply = oauth(
            &server,
            INTROSPECT,
            Auth::Basic(&a, &a_secret),
            &[("token", garbage)],
        )
        .await;
        assert_eq!(reply.body, json!({ "active": false }), "{garbage}");
    }
    oauth(
        &server,
        "/sso/oauth2/revoke",
        Auth::Basic(&a, &a_secret),
        &[("token", &token)],
    )
    .await;
    let revoked = oauth(
        &server,
        INTROSPECT,
        Auth::Basic(&a, &a_secret),
        &[("token", &token)],
    )
    .await;
    assert_eq!(revoked.text, r#"{"active":false}"#);
}
