//! Console sessions every replica honours: two servers on one store — an SQLite file always, and
//! a PostgreSQL database when `WARDEN_TEST_POSTGRES_URL` is set — with each request sent to
//! either, as a round-robin load balancer would. Sessions made on one are honoured on the other;
//! signing out, a changed password, a disabled token, a deactivation or a deletion on one ends
//! them on the other at its next request; idle time counts requests served by either.

use serde_json::json;
use warden_client::{HeaderMap, Method, Payload, StatusCode};
use warden_server::Config;
use warden_server::console::session::{ABSOLUTE_MS, IDLE_MS, key_of};

use crate::common::TestServer;

const CSRF: &str = "0123456789012345678901234567890123456789abc";
const PASSWORD: &str = "correct horse battery staple";

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The `warden_session` cookie a sign-in set.
    fn session(&self) -> String {
        assert_eq!(self.status, StatusCode::SEE_OTHER, "{}", self.text);
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("warden_session="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned()
    }

    /// The CSRF token a console page carries.
    fn csrf(&self) -> String {
        self.text
            .split("name=\"csrf-token\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned()
    }
}

/// A request to `server` with extra headers, as a browser sends it (redirects not followed).
async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    payload: Payload<'_>,
    headers: &[(&str, &str)],
) -> Answer {
    let url = warden_client::Url::parse(&format!("{}{path}", server.base)).unwrap();
    let answer = server
        .api
        .with_token(None)
        .exchange_with_headers(method, url, payload, headers)
        .await
        .unwrap();
    Answer {
        status: answer.status,
        headers: answer.headers,
        text: answer.body,
    }
}

/// A console form, posted as a browser on the server's own page would.
async fn post(server: &TestServer, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Answer {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let payload = Payload::Raw {
        content_type: "application/x-www-form-urlencoded",
        bytes: body.as_bytes(),
    };
    let headers = [("cookie", cookie), ("origin", server.base.as_str())];
    send(server, Method::POST, path, payload, &headers).await
}

async fn page(server: &TestServer, path: &str, session: &str) -> Answer {
    let cookie = format!("warden_session={session}");
    send(
        server,
        Method::GET,
        path,
        Payload::None,
        &[("cookie", &cookie)],
    )
    .await
}

/// Signs in on `server` with a token or an email and password; returns the session cookie.
async fn sign_in(server: &TestServer, fields: &[(&str, &str)]) -> String {
    let mut form = vec![("csrf", CSRF), ("next", "/console")];
    form.extend_from_slice(fields);
    let signed_in = post(
        server,
        "/console/sign-in",
        &format!("warden_sign_in={CSRF}"),
        &form,
    )
    .await;
    assert_eq!(
        signed_in.location(),
        "/console",
        "{}: {}",
        signed_in.status,
        signed_in.text
    );
    signed_in.session()
}

/// Where a request of a session that ended is sent: the sign-in page, saying why.
async fn refused(server: &TestServer, session: &str) -> String {
    let answer = page(server, "/console", session).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text);
    answer.location().to_owned()
}

async fn works(server: &TestServer, session: &str) -> bool {
    let answer = page(server, "/console", session).await;
    answer.status == StatusCode::OK && answer.text.contains("Signed in as")
}

const REVOKED: &str = "/console/sign-in?next=%2Fconsole&ended=revoked";

/// Two servers on one store, named by their backend.
async fn pairs() -> Vec<(&'static str, TestServer, TestServer)> {
    let a = TestServer::start().await;
    let b = a.replica("b").await;
    let mut pairs = vec![("sqlite", a, b)];
    if let Some(url) = TestServer::fresh_postgres().await {
        let dir = std::env::temp_dir().join(format!(
            "warden-sessions-{}-{}",
            std::process::id(),
            url.rsplit('_').next().unwrap_or("0")
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            db: url,
            token_file: dir.join("admin-token"),
            environments: vec!["env-prod".into()],
            bootstrap_token_ttl: std::time::Duration::from_secs(400 * 24 * 3600),
            ..Config::default()
        };
        let a = TestServer::start_with(config, dir).await;
        let b = a.replica("b").await;
        pairs.push(("postgres", a, b));
    }
    pairs
}

/// Waits until `server` has replayed the store's writes up to `revision`.
async fn reached(server: &TestServer, revision: i64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while i64::try_from(server.state.snapshot().revision).unwrap() < revision {
        assert!(std::time::Instant::now() < deadline, "replication stalled");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_session_made_on_one_replica_is_honoured_by_the_other_until_signed_out_there() {
    for (backend, a, b) in pairs().await {
        let session = sign_in(&a, &[("token", &a.token)]).await;
        let cookie = format!("warden_session={session}");

        // Honoured on B, with the same CSRF token.
        let on_b = page(&b, "/console/groups", &session).await;
        assert_eq!(on_b.status, StatusCode::OK, "{backend}: {}", on_b.text);
        let csrf = on_b.csrf();
        assert_eq!(
            page(&a, "/console", &session).await.csrf(),
            csrf,
            "{backend}"
        );

        // A form on B; its message is shown on A, once.
        let created = post(
            &b,
            "/console/groups",
            &cookie,
            &[("csrf", &csrf), ("name", "Replicated")],
        )
        .await;
        assert_eq!(
            created.status,
            StatusCode::SEE_OTHER,
            "{backend}: {}",
            created.text
        );
        let group = created.location().to_owned();
        assert!(group.starts_with("/console/groups/"), "{backend}: {group}");
        reached(&a, b.state.store.revision().await.unwrap()).await;
        let shown = page(&a, &group, &session).await;
        assert_eq!(shown.status, StatusCode::OK, "{backend}: {}", shown.text);
        assert!(
            shown
                .text
                .contains("<p class=\"flash ok\" role=\"status\">Created group `Replicated`.</p>"),
            "{backend}: {}",
            shown.text
        );
        let again = page(&b, &group, &session).await;
        assert_eq!(again.status, StatusCode::OK);
        assert!(
            !again.text.contains("class=\"flash"),
            "{backend}: shown once"
        );

        // A forged form (no CSRF token) is refused on either.
        let forged = post(&a, "/console/groups", &cookie, &[("name", "Forged")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{backend}");

        // Sign out on B: the cookie is cleared, the session is gone from the store, and A
        // refuses it at the next request.
        let signed_out = post(&b, "/console/sign-out", &cookie, &[("csrf", &csrf)]).await;
        assert_eq!(signed_out.status, StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            signed_out.location(),
            "/console/sign-in?ended=signed-out&next=%2Fconsole"
        );
        assert_eq!(
            signed_out.headers.get("set-cookie").unwrap(),
            "warden_session=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
        );
        assert_eq!(
            a.state.store.session(&key_of(&session)).await.unwrap(),
            None
        );
        let after = page(&a, "/console/groups", &session).await;
        assert_eq!(after.status, StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(
            after.location(),
            "/console/sign-in?next=%2Fconsole%2Fgroups"
        );
        let form_after = post(
            &a,
            "/console/groups",
            &cookie,
            &[("csrf", &csrf), ("name", "Late")],
        )
        .await;
        assert_eq!(form_after.status, StatusCode::SEE_OTHER, "{backend}");
        assert_eq!(form_after.location(), "/console/sign-in");
        let names = a
            .get(&format!("/iam/v1/accounts/{}/groups", a.account()))
            .await
            .body
            .to_string();
        assert!(
            !names.contains("Late") && !names.contains("Forged"),
            "{backend}: {names}"
        );
    }
}

#[tokio::test]
async fn credential_changes_on_one_replica_end_the_sessions_on_the_other() {
    for (backend, a, b) in pairs().await {
        let acc = format!("/iam/v1/accounts/{}", a.account());
        let admin = sign_in(&a, &[("token", &a.token)]).await;

        // A changed password (set on B) ends the sessions that signed in with the old one, at
        // once: the write marks them in the store, whatever A's snapshot holds yet.
        let user = a
            .post(
                &format!("{acc}/users"),
                json!({ "email": "alice@example.com" }),
            )
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{backend}: {}", user.body);
        let set = a
            .put(
                &format!("{acc}/users/alice@example.com/password"),
                json!({ "password": PASSWORD }),
            )
            .await;
        assert_eq!(
            set.status,
            StatusCode::NO_CONTENT,
            "{backend}: {}",
            set.body
        );
        let email = [("email", "alice@example.com"), ("password", PASSWORD)];
        let first = sign_in(&a, &email).await;
        reached(&b, set.revision.unwrap()).await;
        let second = sign_in(&b, &email).await;
        assert!(
            works(&b, &first).await && works(&a, &second).await,
            "{backend}"
        );
        let changed = b
            .put(
                &format!("{acc}/users/alice@example.com/password"),
                json!({ "password": "another long passphrase" }),
            )
            .await;
        assert_eq!(changed.status, StatusCode::NO_CONTENT, "{backend}");
        assert_eq!(refused(&a, &first).await, REVOKED, "{backend}");
        assert_eq!(refused(&a, &second).await, REVOKED, "{backend}");

        // A disabled token (on B) ends the sessions that signed in with it (on A), and only those.
        let created = a
            .post(&format!("{acc}/platform-tokens"), json!({ "name": "console", "scope": ["iam:groups:read"], "expirationDate": "2027-01-01T00:00:00Z" }))
            .await;
        assert_eq!(
            created.status,
            StatusCode::OK,
            "{backend}: {}",
            created.body
        );
        let token = created.body["token"].as_str().unwrap().to_owned();
        let id = created.body["tokenId"].as_str().unwrap().to_owned();
        let with_token = sign_in(&a, &[("token", &token)]).await;
        assert!(works(&b, &with_token).await, "{backend}");
        let disabled = b
            .put(
                &format!("{acc}/platform-tokens/{id}/status"),
                json!({ "status": "INACTIVE" }),
            )
            .await;
        assert_eq!(
            disabled.status,
            StatusCode::NO_CONTENT,
            "{backend}: {}",
            disabled.body
        );
        assert_eq!(refused(&a, &with_token).await, REVOKED, "{backend}");
        assert!(
            works(&a, &admin).await,
            "{backend}: the administrator's session stays"
        );

        // A deactivated service user (on A): its token's session (made on B) ends.
        let bot = a
            .post(
                &format!("{acc}/service-users"),
                json!({ "name": "Console Bot" }),
            )
            .await;
        assert_eq!(bot.status, StatusCode::CREATED, "{backend}: {}", bot.body);
        let uid = bot.body["uid"].as_str().unwrap().to_owned();
        let bot_token = a
            .post(&format!("{acc}/platform-tokens"), json!({ "name": "bot", "scope": ["iam:groups:read"], "expirationDate": "2027-01-01T00:00:00Z", "userUuid": uid }))
            .await;
        assert_eq!(
            bot_token.status,
            StatusCode::OK,
            "{backend}: {}",
            bot_token.body
        );
        reached(&b, a.state.store.revision().await.unwrap()).await;
        let bot_session =
            sign_in(&b, &[("token", bot_token.body["token"].as_str().unwrap())]).await;
        assert!(works(&a, &bot_session).await, "{backend}");
        let paused = a
            .post(
                &format!("{acc}/service-users/{uid}/deactivate"),
                json!({ "reason": "paused" }),
            )
            .await;
        assert!(paused.status.is_success(), "{backend}: {}", paused.body);
        assert_eq!(refused(&b, &bot_session).await, REVOKED, "{backend}");

        // A deleted user (on A): the session made on B with the new password ends.
        let third = sign_in(
            &b,
            &[
                ("email", "alice@example.com"),
                ("password", "another long passphrase"),
            ],
        )
        .await;
        let alice = a.get(&format!("{acc}/users/alice@example.com")).await.body["uid"]
            .as_str()
            .unwrap()
            .to_owned();
        let deleted = a.delete(&format!("{acc}/users/alice@example.com")).await;
        assert!(deleted.status.is_success(), "{backend}: {}", deleted.body);
        assert_eq!(refused(&b, &third).await, REVOKED, "{backend}");

        // What the store holds: nothing of Alice's or the bot's left live.
        for uid in [alice.as_str(), uid.as_str()] {
            let rows = a.state.store.sessions_of(uid).await.unwrap();
            assert!(rows.iter().all(|s| s.revoked), "{backend}: {rows:?}");
        }
        assert!(works(&b, &admin).await, "{backend}");
    }
}

#[tokio::test]
async fn idle_time_counts_requests_on_either_replica_and_the_lifetime_is_absolute() {
    for (backend, a, b) in pairs().await {
        let advance = |ms: i64| {
            a.clock.advance(ms);
            b.clock.advance(ms);
        };
        let session = sign_in(&a, &[("token", &a.token)]).await;
        // 20 minutes later, a request on B; 20 more, one on A: 40 minutes since sign-in, but
        // only 20 since the last request, which B wrote to the store.
        advance(20 * 60_000);
        assert!(works(&b, &session).await, "{backend}");
        advance(20 * 60_000);
        assert!(works(&a, &session).await, "{backend}");
        advance(IDLE_MS);
        assert_eq!(
            refused(&b, &session).await,
            "/console/sign-in?next=%2Fconsole&ended=idle",
            "{backend}"
        );
        assert_eq!(
            a.state.store.session(&key_of(&session)).await.unwrap(),
            None
        );

        // Used every 20 minutes, alternating replicas: ends 12 hours after sign-in.
        let session = sign_in(&b, &[("token", &a.token)]).await;
        let mut elapsed = 0;
        let mut n = 0;
        while elapsed + 20 * 60_000 < ABSOLUTE_MS {
            advance(20 * 60_000);
            elapsed += 20 * 60_000;
            let on = if n % 2 == 0 { &a } else { &b };
            assert!(works(on, &session).await, "{backend}: after {elapsed} ms");
            n += 1;
        }
        advance(ABSOLUTE_MS - elapsed);
        assert_eq!(
            refused(&a, &session).await,
            "/console/sign-in?next=%2Fconsole&ended=expired",
            "{backend}"
        );
    }
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let server = TestServer::start().await;
    let session = sign_in(&server, &[("token", &server.token)]).await;
    let server = server.restart().await;
    assert!(works(&server, &session).await);
    // An unknown or malformed cookie is simply not signed in.
    for cookie in ["", "x", &"A".repeat(43), &session.to_uppercase()] {
        let answer = page(&server, "/console/groups", cookie).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
        assert_eq!(
            answer.location(),
            "/console/sign-in?next=%2Fconsole%2Fgroups"
        );
    }
}

#[tokio::test]
async fn the_per_user_cap_holds_across_replicas() {
    for (backend, a, b) in pairs().await {
        let cap = warden_server::console::session::MAX_SESSIONS_PER_USER;
        let mut sessions = Vec::new();
        for n in 0..=cap {
            a.clock.advance(1_000);
            b.clock.advance(1_000);
            let on = if n % 2 == 0 { &a } else { &b };
            sessions.push(sign_in(on, &[("token", &a.token)]).await);
        }
        let first = sessions.remove(0);
        assert_eq!(
            refused(&b, &first).await,
            "/console/sign-in?next=%2Fconsole",
            "{backend}: the oldest ended"
        );
        for (n, session) in sessions.iter().enumerate() {
            let on = if n % 2 == 0 { &b } else { &a };
            assert!(works(on, session).await, "{backend}: session {n}");
        }
    }
}

#[tokio::test]
async fn a_session_is_not_ended_when_the_store_cannot_be_read() {
    let server = TestServer::start().await;
    let session = sign_in(&server, &[("token", &server.token)]).await;
    server.state.store.close().await;
    let answer = page(&server, "/console/groups", &session).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text
    );
    assert_eq!(answer.headers.get("retry-after").unwrap(), "5");
    assert!(
        answer.headers.get("set-cookie").is_none(),
        "the cookie is kept"
    );
    assert!(
        answer.text.contains("the store is unavailable, so the console cannot check your session; try again in a moment"),
        "{}",
        answer.text
    );
}
