//! Secrets never leak: a full credential flow with every log event captured (TRACE, all
//! targets), then every secret and token it minted is searched for in the logs, in every
//! response that did not mint it, in the audit log (read through the API) and in the database
//! files.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::credentials::{Auth, acc, oauth};

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process-wide log capture (installed once; other tests' events land here too).
fn captured() -> &'static Buffer {
    static LOGS: OnceLock<Buffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        buffer
    })
}

/// Every response text the flow saw, except the ones that showed a secret once.
#[derive(Default)]
struct Seen {
    texts: Vec<String>,
    secrets: Vec<String>,
}

impl Seen {
    fn secret(&mut self, secret: &str) {
        self.secrets.push(secret.to_owned());
        // The random part alone, too (`wdn_<kind>_<id>_<random>`).
        if let Some(random) = secret.splitn(4, '_').nth(3) {
            self.secrets.push(random.to_owned());
        }
    }
}

#[tokio::test]
async fn no_secret_reaches_logs_errors_audit_or_database() {
    let logs = captured();
    let server = TestServer::start().await;
    let acc = acc(&server);
    let mut seen = Seen::default();
    seen.secret(&server.token.clone());
    let call = |method: Method, path: String, body: Option<Value>, token: Option<String>| {
        let server = &server;
        async move {
            let token = token.unwrap_or_else(|| server.token.clone());
            server.call_as(Some(&token), method, &path, body).await
        }
    };

    let su = call(
        Method::POST,
        format!("{acc}/service-users"),
        Some(json!({ "name": "Leak Check" })),
        None,
    )
    .await;
    let email = su.body["email"].as_str().unwrap().to_owned();
    crate::credentials::grant(
        &server,
        su.body["groupUuid"].as_str().unwrap(),
        "leak reads",
        "ALLOW iam:groups:read;",
    )
    .await;
    let created = call(
        Method::POST,
        format!("{acc}/oauth-clients"),
        Some(json!({ "name": "leaky", "owner": email, "scopes": ["iam:groups:read", "iam:users:read"] })),
        None,
    )
    .await;
    let id = created.body["clientId"].as_str().unwrap().to_owned();
    let first = created.body["clientSecret"].as_str().unwrap().to_owned();
    seen.secret(&first);
    let rotated = call(
        Method::POST,
        format!("{acc}/oauth-clients/{id}/secrets"),
        Some(json!({})),
        None,
    )
    .await;
    let second = rotated.body["clientSecret"].as_str().unwrap().to_owned();
    let second_id = rotated.body["secretId"].as_str().unwrap().to_owned();
    seen.secret(&second);

    let minted = oauth(
        &server,
        "/sso/oauth2/token",
        Auth::Basic(&id, &first),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let t1 = minted.body["access_token"].as_str().unwrap().to_owned();
    seen.secret(&t1);
    let minted = oauth(
        &server,
        "/sso/oauth2/token",
        Auth::Form(&id, &second),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "iam:users:read"),
        ],
    )
    .await;
    let t2 = minted.body["access_token"].as_str().unwrap().to_owned();
    seen.secret(&t2);
    let platform = call(
        Method::POST,
        format!("{acc}/platform-tokens"),
        Some(json!({ "name": "leak pt", "scope": ["iam:groups:read"], "expirationDate": "2026-06-01T00:00:00Z", "userUuid": email })),
        None,
    )
    .await;
    let pt = platform.body["token"].as_str().unwrap().to_owned();
    seen.secret(&pt);

    // Failures of every kind, each with a secret in the request.
    let near_miss = format!("{}{}", &second[..second.len() - 2], "zz");
    for reply in [
        oauth(
            &server,
            "/sso/oauth2/token",
            Auth::Basic(&id, &near_miss),
            &[("grant_type", "client_credentials")],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/token",
            Auth::Basic(&id, &first),
            &[("grant_type", "client_credentials"), ("scope", &second)],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/token",
            Auth::Basic(&id, &first),
            &[("grant_type", &t1)],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/token",
            Auth::Basic(&id, &first),
            &[("grant_type", "client_credentials"), ("resource", &pt)],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/token",
            Auth::Form(&id, &first),
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", &second),
            ],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/revoke",
            Auth::Basic(&id, &second),
            &[("token", &pt)],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/introspect",
            Auth::Basic(&id, &second),
            &[("token", &t1)],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/introspect",
            Auth::Bearer(&t2),
            &[("token", &t1)],
        )
        .await,
        oauth(
            &server,
            "/sso/oauth2/revoke",
            Auth::Basic(&id, &second),
            &[("token", &t1)],
        )
        .await,
    ] {
        assert_ne!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
        seen.texts
            .push(format!("{:?} {}", reply.headers, reply.text));
    }
    for (token, path) in [
        (t1.clone(), format!("{acc}/groups")),
        (t2.clone(), format!("{acc}/groups")),
        (pt.clone(), format!("{acc}/users")),
        (format!("{pt}x"), format!("{acc}/groups")),
    ] {
        let reply = call(Method::GET, path, None, Some(token)).await;
        seen.texts.push(reply.body.to_string());
    }
    for body in [
        json!({ "token": t2, "permission": "iam:groups:read" }),
        json!({ "token": pt, "permission": "iam:groups:read" }),
        json!({ "token": first, "permission": "iam:groups:read" }),
        json!({ "token": [pt], "permission": "iam:groups:read" }),
        json!({ "token": t2, "principal": email, "permission": "iam:groups:read" }),
    ] {
        let reply = call(
            Method::POST,
            "/iam/v1/authorize?explain=true".into(),
            Some(body),
            None,
        )
        .await;
        seen.texts.push(reply.body.to_string());
    }
    let revoked = call(
        Method::DELETE,
        format!("{acc}/oauth-clients/{id}/secrets/{second_id}"),
        None,
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = oauth(
        &server,
        "/sso/oauth2/token",
        Auth::Basic(&id, &second),
        &[("grant_type", "client_credentials")],
    )
    .await;
    seen.texts.push(after.text);
    call(
        Method::POST,
        format!("{acc}/service-users/{email}/deactivate"),
        Some(json!({ "reason": "leak test" })),
        None,
    )
    .await;
    let off = call(Method::GET, format!("{acc}/groups"), None, Some(pt.clone())).await;
    seen.texts.push(off.body.to_string());
    for path in [
        format!("{acc}/oauth-clients"),
        format!("{acc}/oauth-clients/{id}"),
        format!("{acc}/platform-tokens"),
        format!("{acc}/service-users/{email}"),
        format!("{acc}/users"),
    ] {
        seen.texts
            .push(call(Method::GET, path, None, None).await.body.to_string());
    }

    let audit = call(
        Method::GET,
        format!("{acc}/audit-log?limit=1000"),
        None,
        None,
    )
    .await
    .body;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "oauth-client.create",
        "oauth-client.secret.create",
        "oauth.token.issue",
        "platform-token.create",
        "oauth.token.revoke",
        "oauth-client.secret.revoke",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    let audit = audit.to_string();
    let log_text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        log_text.contains("access token issued"),
        "the capture works"
    );
    assert!(log_text.contains("oauth client authentication failed"));
    let mut database = Vec::new();
    for file in ["warden.db", "warden.db-wal"] {
        database.extend(std::fs::read(server.dir.join(file)).unwrap_or_default());
    }
    let database = String::from_utf8_lossy(&database);
    for secret in &seen.secrets {
        assert!(
            !log_text.contains(secret.as_str()),
            "a secret reached the logs"
        );
        assert!(
            !audit.contains(secret.as_str()),
            "a secret reached the audit log"
        );
        assert!(
            !database.contains(secret.as_str()),
            "a secret reached the database"
        );
        for text in &seen.texts {
            assert!(
                !text.contains(secret.as_str()),
                "a secret reached a response: {text}"
            );
        }
    }
}
