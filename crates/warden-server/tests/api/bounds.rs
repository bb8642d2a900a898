//! Resource bounds over HTTP: argon2id work runs in a fixed pool that answers 503 when full and
//! skips the jobs of clients that have gone; failure limits count per source and lock nobody
//! else out; console sessions are capped per user; policy diagnostics, explanations, bind
//! parameters and decision attributes are bounded.
//!
//! Each test asserts the exact statuses and bodies, and the limits by their numbers. A second
//! source address is a client bound to 127.0.0.2 (the whole of 127.0.0.0/8 is loopback).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use warden_client::StatusCode;
use warden_server::Config;
use warden_server::hashing::HashingConfig;

use crate::common::TestServer;
use crate::credentials::{acc, client, user_with};

const TOKEN: &str = "/sso/oauth2/token";
/// The anti-CSRF value of the sign-in form (any 43 characters, sent as cookie and field).
const CSRF: &str = "0123456789012345678901234567890123456789abc";

async fn start_with(hashing: HashingConfig) -> TestServer {
    let dir = std::env::temp_dir().join(format!(
        "warden-bounds-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = Config {
        db: dir.join("warden.db").display().to_string(),
        token_file: dir.join("admin-token"),
        hashing,
        ..Config::default()
    };
    TestServer::start_with(config, dir).await
}

fn rand_suffix() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A client whose connections come from `127.0.0.N`, not following redirects.
pub(crate) fn client_from(n: u8) -> warden_client::Client {
    let options = warden_client::Options {
        local_address: Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, n))),
        ..warden_client::Options::default()
    };
    warden_client::Client::new(&format!("http://127.0.0.{n}:1"), &options).unwrap()
}

fn random_client_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("wdn_client_{hex}")
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    headers: warden_client::HeaderMap,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn answer(answer: warden_client::Answer<String>) -> Answer {
    Answer {
        status: answer.status,
        headers: answer.headers,
        text: answer.body,
    }
}

/// A form sent from `client` to `path` of the server, with extra headers.
pub(crate) async fn form_from(
    server: &TestServer,
    client: &warden_client::Client,
    path: &str,
    form: &str,
    headers: &[(&str, &str)],
) -> Answer {
    let url = warden_client::Url::parse(&format!("{}{path}", server.base)).unwrap();
    let payload = warden_client::Payload::Raw {
        content_type: "application/x-www-form-urlencoded",
        bytes: form.as_bytes(),
    };
    answer(
        client
            .exchange_with_headers(warden_client::Method::POST, url, payload, headers)
            .await
            .unwrap(),
    )
}

/// `POST /sso/oauth2/token` with HTTP Basic from `client`.
pub(crate) async fn token_from(
    server: &TestServer,
    client: &warden_client::Client,
    id: &str,
    secret: &str,
) -> Answer {
    let client = client.with_client_secret(id, secret);
    form_from(server, &client, TOKEN, "grant_type=client_credentials", &[]).await
}

/// A console sign-in with an email and password, or a token, from `client`.
async fn sign_in(
    server: &TestServer,
    client: &warden_client::Client,
    fields: &[(&str, &str)],
) -> Answer {
    let mut form = vec![("csrf", CSRF), ("next", "/console")];
    form.extend_from_slice(fields);
    let cookie = format!("warden_sign_in={CSRF}");
    let body = serde_urlencoded::to_string(&form).unwrap();
    form_from(
        server,
        client,
        "/console/sign-in",
        &body,
        &[("cookie", &cookie)],
    )
    .await
}

/// The `warden_session` cookie a successful sign-in set.
fn session_cookie(signed_in: &Answer) -> String {
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.text
    );
    signed_in
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("warden_session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

/// Whether a console session still works (the console's home page, not the sign-in page).
async fn session_works(server: &TestServer, cookie: &str) -> bool {
    let url = warden_client::Url::parse(&format!("{}/console", server.base)).unwrap();
    let cookie = format!("warden_session={cookie}");
    let answer = client_from(1)
        .exchange_with_headers(
            warden_client::Method::GET,
            url,
            warden_client::Payload::None,
            &[("cookie", &cookie)],
        )
        .await
        .unwrap();
    answer.status == StatusCode::OK
}

async fn set_password(server: &TestServer, email: &str, password: &str) -> Answer {
    let client = server.api.with_token(Some(&server.token));
    let input = warden_api::users::PasswordInput::new(password.to_owned());
    match client.set_password(&server.account(), email, &input).await {
        Ok(done) => Answer {
            status: done.status,
            headers: done.headers,
            text: String::new(),
        },
        Err(warden_client::ClientError::Refused {
            status,
            body,
            retry_after,
            ..
        }) => {
            let mut headers = warden_client::HeaderMap::new();
            if let Some(seconds) = retry_after {
                headers.insert("retry-after", seconds.into());
            }
            Answer {
                status,
                headers,
                text: body.to_string(),
            }
        }
        Err(other) => panic!("{other}"),
    }
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test]
async fn argon2_work_runs_in_a_bounded_pool_that_answers_503_when_full() {
    use std::sync::atomic::Ordering::Relaxed;
    let server = start_with(HashingConfig {
        workers: 1,
        queue: 1,
    })
    .await;
    let hashing = &server.state.hashing;
    let counts = hashing.counts();
    let (id, _) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let set = set_password(&server, "admin@warden.local", "a passphrase of words").await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{}", set.text);
    let revision = server.state.store.revision().await.unwrap();

    // The worker is busy. A token request waits in the queue, and its client disconnects: the
    // server drops the request, and with it the job's receiver.
    let busy = hashing.occupy().unwrap();
    busy.started().await;
    let submitted = counts.submitted.load(Relaxed);
    let base = server.base.clone();
    let gone = tokio::spawn(async move {
        let url = warden_client::Url::parse(&format!("{base}{TOKEN}")).unwrap();
        let payload = warden_client::Payload::Raw {
            content_type: "application/x-www-form-urlencoded",
            bytes: b"grant_type=client_credentials",
        };
        client_from(1)
            .with_client_secret(&random_client_id(), "wdn_cs_ab_x")
            .exchange_raw(warden_client::Method::POST, url, payload)
            .await
    });
    wait_for("the token request to be queued", || {
        counts.submitted.load(Relaxed) > submitted
    })
    .await;
    gone.abort();
    let _ = gone.await;

    // The one place in the queue is taken: every hashing endpoint answers 503 with Retry-After
    // at once, without waiting.
    let started = Instant::now();
    let refused = token_from(&server, &client_from(1), &random_client_id(), "wdn_cs_ab_x").await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.header("retry-after"), "1");
    assert_eq!(refused.header("cache-control"), "no-store");
    assert_eq!(
        refused.json(),
        json!({ "error": "temporarily_unavailable", "error_description": "too many client authentications are waiting; retry shortly" })
    );
    let api_busy = json!({ "error": { "code": "unavailable", "message": "too many password and secret checks are waiting; nothing was changed, retry shortly", "details": null } });
    let password = set_password(&server, "admin@warden.local", "another passphrase").await;
    assert_eq!(
        (password.status, password.json()),
        (StatusCode::SERVICE_UNAVAILABLE, api_busy.clone())
    );
    assert_eq!(password.header("retry-after"), "1");
    let created = server
        .post(
            &format!("{}/oauth-clients", acc(&server)),
            json!({ "name": "ci", "scopes": ["iam:groups:read"] }),
        )
        .await;
    assert_eq!(
        (created.status, created.body),
        (StatusCode::SERVICE_UNAVAILABLE, api_busy.clone())
    );
    let rotated = server
        .post(
            &format!("{}/oauth-clients/{id}/secrets", acc(&server)),
            json!({}),
        )
        .await;
    assert_eq!(
        (rotated.status, rotated.body),
        (StatusCode::SERVICE_UNAVAILABLE, api_busy)
    );
    let console = sign_in(
        &server,
        &client_from(1),
        &[
            ("email", "admin@warden.local"),
            ("password", "a passphrase of words"),
        ],
    )
    .await;
    assert_eq!(console.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(console.header("retry-after"), "1");
    assert!(
        console
            .text
            .contains("Too many sign-ins are being checked right now."),
        "{}",
        console.text
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once"
    );
    assert_eq!(counts.refused.load(Relaxed), 5);
    assert_eq!(
        server.state.store.revision().await.unwrap(),
        revision,
        "nothing was written"
    );

    // Released, the worker skips the job of the client that has gone: never started.
    let completed = counts.completed.load(Relaxed);
    drop(busy);
    wait_for("the abandoned job to be skipped", || {
        counts.abandoned.load(Relaxed) == 1
    })
    .await;
    assert_eq!(
        counts.completed.load(Relaxed),
        completed + 1,
        "only the holding job completed"
    );

    // Free again: an unknown client id is still checked (against the decoy hash) in the pool.
    let unknown = token_from(&server, &client_from(1), &random_client_id(), "wdn_cs_ab_x").await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.json()["error"], "invalid_client");
    assert_eq!(counts.completed.load(Relaxed), completed + 2);
}

#[tokio::test]
async fn failure_limits_count_per_source_and_lock_nobody_else_out() {
    let server = TestServer::start().await;
    let (id, secret) = client(&server, "admin@warden.local", &["iam:groups:read"]).await;
    let wrong = format!("{}x", &secret[..secret.len() - 1]);
    let wrong = if wrong == secret {
        format!("{}y", &secret[..secret.len() - 1])
    } else {
        wrong
    };
    let (a, b) = (client_from(1), client_from(2));

    // Twenty wrong secrets from 127.0.0.1 for a client someone else owns: that source waits...
    for _ in 0..warden_server::secrets::MAX_FAILURES {
        let failed = token_from(&server, &a, &id, &wrong).await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{}", failed.text);
    }
    let limited = token_from(&server, &a, &id, &secret).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.header("retry-after"), "60");
    assert_eq!(limited.json()["error"], "slow_down");
    // ...and the client's owner, from another address, is not locked out.
    let owner = token_from(&server, &b, &id, &secret).await;
    assert_eq!(owner.status, StatusCode::OK, "{}", owner.text);
    assert_eq!(owner.json()["token_type"], "Bearer");

    // The same for console passwords: ten failures from one address refuse that address only.
    let set = set_password(&server, "admin@warden.local", "a passphrase of words").await;
    assert_eq!(set.status, StatusCode::NO_CONTENT);
    let max = warden_server::console::sign_in::MAX_FAILURES;
    assert_eq!(max, 10);
    for i in 0..max {
        // Unknown emails count like wrong passwords (and cost the same).
        let email = format!("nobody{i}@example.com");
        let failed = sign_in(
            &server,
            &a,
            &[("email", &email), ("password", "wrong password")],
        )
        .await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    }
    let right = [
        ("email", "admin@warden.local"),
        ("password", "a passphrase of words"),
    ];
    let refused = sign_in(&server, &a, &right).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.header("retry-after"), "900");
    assert!(
        refused
            .text
            .contains("Too many failed sign-ins from your address."),
        "{}",
        refused.text
    );
    let elsewhere = sign_in(&server, &b, &right).await;
    let admin_session = session_cookie(&elsewhere);
    assert!(session_works(&server, &admin_session).await);

    // Sessions are capped per user: another user signing in again and again ends only their
    // own oldest sessions, never the administrator's.
    let (_, mallory) = user_with(&server, "mallory@example.com", "ALLOW iam:groups:read;").await;
    let cap = warden_server::console::session::MAX_SESSIONS_PER_USER;
    let first = session_cookie(&sign_in(&server, &b, &[("token", &mallory)]).await);
    let mut last = first.clone();
    for _ in 0..cap {
        server.clock.advance(1_000);
        last = session_cookie(&sign_in(&server, &b, &[("token", &mallory)]).await);
    }
    assert!(!session_works(&server, &first).await, "their oldest ended");
    assert!(session_works(&server, &last).await);
    assert!(
        session_works(&server, &admin_session).await,
        "nobody else's"
    );
}

/// A megabyte of one permission repeated: tens of thousands of warnings, of which 100 are
/// answered, with the count of the rest, fast.
#[tokio::test]
async fn policy_diagnostics_are_capped_and_a_megabyte_validates_quickly() {
    let server = TestServer::start().await;
    let policies = format!("/iam/v1/repo/account/{}/policies", server.account());
    let mut statement = String::from("ALLOW storage:logs:read");
    while statement.len() < 60_000 {
        statement.push_str(",\n storage:logs:read");
    }
    statement.push_str(";\n");
    let text = statement.repeat(16);
    let repeats = statement.matches("storage:logs:read").count();
    assert!(text.len() > 950_000 && text.len() < 1_000_000);

    let started = Instant::now();
    let validated = server
        .post(
            &format!("{policies}/validation"),
            json!({ "name": "big", "statementQuery": text }),
        )
        .await;
    let took = started.elapsed();
    assert_eq!(validated.status, StatusCode::OK, "{}", validated.body);
    let diagnostics = validated.body["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 100);
    // Per statement, every repeat after the first warns; each later statement is redundant.
    let found = 16 * (repeats - 1) + 15;
    assert_eq!(validated.body["truncated"], found - 100);
    assert_eq!(validated.body["warnings"].as_array().unwrap().len(), 100);
    assert_eq!(
        diagnostics[0]["message"],
        "permission `storage:logs:read` is repeated in this statement"
    );
    assert_eq!(diagnostics[0]["start"], json!({ "line": 2, "column": 2 }));
    assert!(
        validated.body.to_string().len() < 100_000,
        "the answer is bounded"
    );
    assert!(took < Duration::from_secs(3), "validated in {took:?}");

    // Errors come first when there are more than 100 findings, and a refused save says how
    // many were left out.
    let unknown: Vec<String> = (0..150).map(|i| format!("storage:logs:read{i}")).collect();
    let text = format!(
        "ALLOW storage:logs:read, storage:logs:read;\nALLOW {};",
        unknown.join(", ")
    );
    let refused = server
        .post(
            &policies,
            json!({ "name": "typos", "statementQuery": text }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let details = &refused.body["error"]["details"];
    assert_eq!(details["diagnostics"].as_array().unwrap().len(), 100);
    assert_eq!(details["truncated"], 51);
    assert!(
        details["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["severity"] == "error"),
        "errors first"
    );
    assert_eq!(
        refused.body["error"]["message"],
        "the policy has 150 error(s): 2:7: unknown permission `storage:logs:read0`"
    );
}

#[tokio::test]
async fn explanations_repeat_a_bounded_part_of_the_request() {
    let server = TestServer::start().await;
    let patterns: Vec<String> = (0..1_000).map(|i| format!("\"team{i}-*\"")).collect();
    let text = format!(
        "ALLOW storage:logs:read WHERE storage:bucket-name MATCH ({});",
        patterns.join(", ")
    );
    let (uid, _) = user_with(&server, "eve@example.com", &text).await;
    let values: Vec<String> = (0..20)
        .map(|i| format!("{i:0>3}{}", "x".repeat(250)))
        .collect();
    let request = json!({
        "principal": uid,
        "permission": "storage:logs:read",
        "attributes": { "storage:bucket-name": values },
    });
    let explained = server
        .post("/iam/v1/authorize?explain=true", request.clone())
        .await;
    assert_eq!(explained.status, StatusCode::OK, "{}", explained.body);
    assert_eq!(explained.body["decision"], "DENY");
    let failed = &explained.body["explanation"]["nearest"][0]["failed"];
    assert_eq!(failed["seen"].as_array().unwrap().len(), 10);
    assert_eq!(failed["seenMore"], 10);
    assert_eq!(failed["required"].as_array().unwrap().len(), 10);
    assert_eq!(failed["requiredMore"], 990);
    let shown = failed["seen"][0].as_str().unwrap();
    assert_eq!(shown.chars().count(), 201, "200 characters and `…`");
    assert!(shown.ends_with('…'));
    let why = failed["why"].as_str().unwrap();
    assert!(why.contains("and 10 more but required MATCH"), "{why}");
    assert!(why.ends_with("and 990 more"), "{why}");
    let answer = explained.body.to_string().len();
    let asked = request.to_string().len();
    assert!(
        answer < 30_000,
        "an answer of {answer} bytes for a request of {asked}"
    );
}

#[tokio::test]
async fn bind_parameters_and_decision_attributes_are_bounded() {
    let server = TestServer::start().await;
    let repo = format!("/iam/v1/repo/account/{}", server.account());
    let accounts = acc(&server);
    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "Teams", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name MATCH (\"${bindParam:teams}\");" }),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    let policy = policy.body["uuid"].as_str().unwrap().to_owned();
    let group = server
        .post(&format!("{accounts}/groups"), json!([{ "name": "teams" }]))
        .await;
    let group = group.body[0]["uuid"].as_str().unwrap().to_owned();
    let bind = |parameters: Value| {
        let server = &server;
        let path = format!("{repo}/bindings/{policy}/{group}");
        async move {
            server
                .post(&path, json!({ "parameters": parameters }))
                .await
        }
    };
    let invalid = |message: &str, details: Value| json!({ "error": { "code": "invalid", "message": message, "details": details } });

    let many: Vec<String> = (0..1_001).map(|i| format!("t{i}")).collect();
    let refused = bind(json!({ "teams": many })).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            invalid(
                "parameter `teams` has 1001 values; at most 1000 are allowed, as in a policy list",
                json!({ "parameter": "teams", "limit": "values per parameter", "max": 1000 })
            )
        )
    );
    let refused = bind(json!({ "teams": "x".repeat(1_001) })).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            invalid(
                "a value of parameter `teams` is 1001 characters long; at most 1000 are allowed",
                json!({ "parameter": "teams", "limit": "characters per parameter value", "max": 1000 })
            )
        )
    );
    let mut parameters = serde_json::Map::new();
    for i in 0..101 {
        parameters.insert(format!("p{i}"), json!("v"));
    }
    let refused = bind(Value::Object(parameters)).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            invalid(
                "the binding has 101 parameters; at most 100 are allowed",
                json!({ "limit": "parameters per binding", "max": 100 })
            )
        )
    );
    // At the limits, the binding is made.
    let most: Vec<String> = (0..1_000).map(|i| format!("t{i}")).collect();
    let bound = bind(json!({ "teams": most })).await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);

    // Decisions: values per attribute, in all, attributes, bytes per value.
    let ask = |attributes: Value| {
        let server = &server;
        async move {
            server
                .post(
                    "/iam/v1/authorize",
                    json!({ "principal": "admin@warden.local", "permission": "storage:logs:read", "attributes": attributes }),
                )
                .await
        }
    };
    let values = |n: usize| (0..n).map(|i| format!("v{i}")).collect::<Vec<_>>();
    let allowed = ask(json!({ "storage:bucket-name": values(20) })).await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.body);
    let refused = ask(json!({ "storage:bucket-name": values(21) })).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            invalid(
                "attribute `storage:bucket-name` has 21 values; a decision request may give an attribute at most 20",
                json!({ "attribute": "storage:bucket-name", "limit": "values per attribute", "max": 20 })
            )
        )
    );
    let mut spread = serde_json::Map::new();
    for i in 0..6 {
        spread.insert(format!("x:a{i}"), json!(values(20)));
    }
    let refused = ask(Value::Object(spread)).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            invalid(
                "the request gives more than 100 attribute values in all (reached at attribute `x:a5`)",
                json!({ "attribute": "x:a5", "limit": "attribute values per decision", "max": 100 })
            )
        )
    );
    let mut wide = serde_json::Map::new();
    for i in 0..51 {
        wide.insert(format!("x:a{i}"), json!([]));
    }
    let refused = ask(Value::Object(wide)).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            invalid(
                "the request gives 51 attributes; at most 50 are allowed",
                json!({ "limit": "attributes per decision", "max": 50 })
            )
        )
    );
    let refused = ask(json!({ "storage:bucket-name": "x".repeat(257) })).await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::BAD_REQUEST,
            invalid(
                "a value of attribute `storage:bucket-name` is 257 bytes long; at most 256 are allowed",
                json!({ "attribute": "storage:bucket-name", "limit": "bytes per attribute value", "max": 256 })
            )
        )
    );
    // In a batch too, and through serde's decoding (an escape sequence) as through the scanner.
    let batch = server
        .post(
            "/iam/v1/authorize/batch",
            json!({ "requests": [
                { "principal": "admin@warden.local", "permission": "storage:logs:read" },
                { "principal": "admin@warden.local", "permission": "storage:logs:read", "attributes": { "storage:bucket-name": values(21) } },
            ] }),
        )
        .await;
    assert_eq!(batch.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        batch.body["error"]["details"]["limit"],
        "values per attribute"
    );
    let escaped = format!(
        r#"{{"principal":"admin@warden.local","permission":"storage:logs:read","attributes":{{"storage:bucket-name":[{}]}}}}"#,
        (0..21)
            .map(|i| format!("\"v\\u0030{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let response = server
        .raw(
            warden_client::Method::POST,
            "/iam/v1/authorize",
            "application/json",
            escaped.as_bytes(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}
