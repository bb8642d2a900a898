//! Hostile input over HTTP: oversize and deeply nested bodies, the policy language's limits,
//! invalid UTF-8 and NUL bytes, look-alike emails and names, bind parameters that try to become
//! syntax, path traversal, guessed tokens, slow clients and a thousand connections at once.
//!
//! Every case asserts the exact status and error, that the server still answers afterwards, and
//! (where nothing may be written) that the store did not change: the same revision and the same
//! number of audit entries, with the chain intact. Requests that a URL library would normalise or
//! refuse to send (`..` segments, raw bytes, trickled bodies) go over a raw TCP connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use warden_client::{Method, StatusCode};
use warden_server::Config;
use warden_server::api::MAX_BODY_BYTES;

use crate::common::{Reply, TestServer};

static DIRS: AtomicUsize = AtomicUsize::new(0);

/// A server like [`TestServer::start`], with its own read timeout, or on PostgreSQL.
async fn start(read_timeout: Option<Duration>, db: Option<String>) -> TestServer {
    let n = DIRS.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("warden-hostile-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = Config {
        db: db.unwrap_or_else(|| dir.join("warden.db").display().to_string()),
        token_file: dir.join("admin-token"),
        environments: vec!["env-prod".into()],
        ..Config::default()
    };
    if let Some(timeout) = read_timeout {
        config.read_timeout = timeout;
    }
    TestServer::start_with(config, dir).await
}

/// The account id (waiting for the model, which a replica's catch-up may hold a moment).
async fn account(server: &TestServer) -> String {
    server.state.model.lock().await.account.clone()
}

// ---- what is stored, and raw HTTP ---------------------------------------------------------------

/// The store in two numbers, read from the store itself: its revision and the audit log's length.
/// Also checks that the server answers and the audit chain is intact.
async fn stored(server: &TestServer) -> (i64, i64) {
    let health = server.get("/health").await;
    assert_eq!(health.status, StatusCode::OK, "the server is up");
    assert_eq!(health.body["status"], "ok");
    let verification = server.state.store.verify_audit().await.unwrap();
    assert_eq!(verification.problem, None, "the audit chain verifies");
    let revision = server.state.store.revision().await.unwrap();
    assert_eq!(health.body["revision"], revision, "served what is stored");
    (revision, verification.entries)
}

fn error(status: StatusCode, code: &str, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({ "error": { "code": code, "message": message, "details": null } }),
    )
}

fn reply(reply: &Reply) -> (StatusCode, Value) {
    (reply.status, reply.body.clone())
}

/// A response read off a raw connection.
#[derive(Debug)]
struct Raw {
    status: u16,
    head: String,
    body: Value,
}

impl Raw {
    fn pair(&self) -> (StatusCode, Value) {
        (
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::IM_A_TEAPOT),
            self.body.clone(),
        )
    }

    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    }
}

async fn connect(server: &TestServer) -> TcpStream {
    TcpStream::connect(server.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Sends `request` byte for byte (no URL normalisation) and reads the answer until the server
/// closes the connection.
async fn raw(server: &TestServer, request: &[u8]) -> Raw {
    let mut stream = connect(server).await;
    // The server may answer (and close) before all of a refused body is written.
    let _ = stream.write_all(request).await;
    read_reply(&mut stream).await
}

async fn read_reply(stream: &mut TcpStream) -> Raw {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // Until the server closes the connection (or resets it, after refusing a body).
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
    }
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Raw {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = bytes.get(split + 4..).unwrap_or_default();
    let text = String::from_utf8_lossy(body).into_owned();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Raw { status, head, body }
}

/// An HTTP/1.1 request with a JSON body and the administrator's token; the connection closes
/// after the answer.
fn request(server: &TestServer, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: warden\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.token,
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

async fn decide(
    server: &TestServer,
    principal: &str,
    permission: &str,
    attributes: Value,
) -> String {
    let reply = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": principal, "permission": permission, "attributes": attributes }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    format!(
        "{} {}",
        reply.body["decision"].as_str().unwrap(),
        reply.body["reason"].as_str().unwrap()
    )
}

fn too_large() -> (StatusCode, Value) {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        json!({ "error": { "code": "too_large", "message": "the request body is larger than 1048576 bytes", "details": { "maxBytes": 1_048_576 } } }),
    )
}

// ---- sizes and shapes ---------------------------------------------------------------------------

#[tokio::test]
async fn oversize_bodies_get_413_in_the_error_shape_before_they_are_read() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let acc = account(&server).await;
    let policies = format!("/iam/v1/repo/account/{acc}/policies");

    // A declared length over the limit is refused at once: no byte of the body is sent.
    let started = Instant::now();
    let head = format!(
        "POST {policies} HTTP/1.1\r\nHost: w\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 10000000000\r\n\r\n",
        server.token
    );
    let refused = raw(&server, head.as_bytes()).await;
    assert_eq!(refused.pair(), too_large());
    assert_eq!(refused.header("connection").as_deref(), Some("close"));
    assert!(started.elapsed() < Duration::from_secs(5));

    // One byte over, with its length.
    let body = json!({ "name": "big", "statementQuery": "x".repeat(MAX_BODY_BYTES) });
    assert_eq!(reply(&server.post(&policies, body).await), too_large());

    // Chunked, without a length: counted as it arrives.
    let mut chunked = format!(
        "POST {policies} HTTP/1.1\r\nHost: w\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        server.token
    )
    .into_bytes();
    for _ in 0..17 {
        chunked.extend_from_slice(format!("{:x}\r\n", 64 * 1024).as_bytes());
        chunked.extend_from_slice(&[b' '; 64 * 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    assert_eq!(raw(&server, &chunked).await.pair(), too_large());

    // Forms (the OAuth token endpoint) and decision batches alike.
    let scope = "a".repeat(2 * MAX_BODY_BYTES);
    let form = server
        .raw_as(
            None,
            Method::POST,
            "/sso/oauth2/token",
            "application/x-www-form-urlencoded",
            format!("grant_type=client_credentials&scope={scope}").as_bytes(),
        )
        .await;
    assert_eq!(form.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        serde_json::from_str::<Value>(&form.body).unwrap(),
        too_large().1
    );
    let batch = json!({ "requests": vec![json!({ "principal": "admin@warden.local", "permission": "iam:users:read" }); 20_000] });
    assert_eq!(
        reply(&server.post("/iam/v1/authorize/batch", batch).await),
        too_large()
    );

    // Headers beyond hyper's buffer never reach Warden: 431 from the HTTP layer, no body.
    let huge_header = format!(
        "GET /health HTTP/1.1\r\nHost: w\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
        "f".repeat(512 * 1024)
    );
    let headers = raw(&server, huge_header.as_bytes()).await;
    assert_eq!(headers.status, 431);

    // Exactly at the limit is read, and answered for what it says.
    let mut exact = br#"{"principal":"admin@warden.local","permission":"iam:users:read""#.to_vec();
    exact.resize(MAX_BODY_BYTES - 1, b' ');
    exact.push(b'}');
    let answered = raw(
        &server,
        &request(&server, "POST", "/iam/v1/authorize", &exact),
    )
    .await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.body["decision"], "ALLOW");

    assert_eq!(stored(&server).await, before, "nothing was written");
}

#[tokio::test]
async fn deeply_nested_json_and_oversize_batches_are_refused_with_400() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let acc = account(&server).await;
    let nested = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!(
        r#"{{"principal":"admin@warden.local","permission":"iam:users:read","attributes":{{"a":{nested}}}}}"#
    );
    let refused = raw(
        &server,
        &request(&server, "POST", "/iam/v1/authorize", body.as_bytes()),
    )
    .await;
    let path: String = format!("attributes.a{}", "[0]".repeat(100))
        .chars()
        .take(60)
        .collect();
    assert_eq!(
        refused.pair(),
        error(
            StatusCode::BAD_REQUEST,
            "invalid",
            &format!(
                "invalid JSON body in `{path}…` (line 1, column 208): values are nested more than 128 levels deep; nest them less deeply"
            )
        )
    );

    // Objects nest the same way.
    let objects = format!("{}1{}", r#"{"a":"#.repeat(50_000), "}".repeat(50_000));
    let body = format!(
        r#"{{"principal":"admin@warden.local","permission":"iam:users:read","attributes":{{"a":{objects}}}}}"#
    );
    let refused = raw(
        &server,
        &request(&server, "POST", "/iam/v1/authorize", body.as_bytes()),
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("invalid JSON body in `attributes.a.a.a.a")
            && message.ends_with(
                "…` (line 1, column 708): values are nested more than 128 levels deep; nest them less deeply"
            ),
        "{message}"
    );
    // A body that is one deep array where a list of groups is expected stops at the first level.
    let groups = format!("/iam/v1/accounts/{acc}/groups");
    let refused = raw(
        &server,
        &request(&server, "POST", &groups, nested.as_bytes()),
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.body);

    let batch = json!({ "requests": vec![json!({ "principal": "admin@warden.local", "permission": "iam:users:read" }); 1_001] });
    let refused = server.post("/iam/v1/authorize/batch", batch).await;
    assert_eq!(
        reply(&refused),
        (
            StatusCode::BAD_REQUEST,
            json!({ "error": { "code": "invalid", "message": "the limit of 1000 requests per batch is reached", "details": { "limit": "requests per batch", "max": 1000 } } })
        )
    );
    assert_eq!(stored(&server).await, before, "nothing was written");
}

#[tokio::test]
async fn the_policy_languages_limits_answer_400_with_the_location() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let policies = format!("/iam/v1/repo/account/{}/policies", account(&server).await);
    let refuse = |text: String| {
        let server = &server;
        let policies = policies.clone();
        async move {
            let reply = server
                .post(
                    &policies,
                    json!({ "name": "hostile", "statementQuery": text }),
                )
                .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
            assert_eq!(reply.body["error"]["code"], "invalid");
            let diagnostics = reply.body["error"]["details"]["diagnostics"]
                .as_array()
                .unwrap()
                .clone();
            assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
            (
                reply.body["error"]["message"].as_str().unwrap().to_owned(),
                diagnostics[0].clone(),
            )
        }
    };

    let list = |n: usize| {
        (0..n)
            .map(|i| format!("\"b{i}\""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let (message, diagnostic) = refuse(format!(
        "ALLOW storage:logs:read WHERE storage:bucket-name IN ({});",
        list(1_001)
    ))
    .await;
    assert_eq!(
        message,
        "the policy has 1 error(s): 1:54: list has 1001 values; at most 1000 are allowed"
    );
    assert_eq!(diagnostic["code"], "list-too-long");
    assert_eq!(diagnostic["start"], json!({ "line": 1, "column": 54 }));

    let (message, diagnostic) = refuse("ALLOW storage:logs:read;\n".repeat(101)).await;
    assert_eq!(
        message,
        "the policy has 1 error(s): 101:1: too many statements; a policy has at most 100"
    );
    assert_eq!(diagnostic["start"], json!({ "line": 101, "column": 1 }));

    let (message, diagnostic) = refuse(format!(
        "ALLOW storage:logs:read WHERE storage:bucket-name = \"{}\";",
        "x".repeat(70_000)
    ))
    .await;
    assert_eq!(
        message,
        "the policy has 1 error(s): 1:1: statement is 70055 bytes long; at most 65536 bytes (64 KiB) are allowed"
    );
    assert_eq!(diagnostic["code"], "statement-too-long");

    // Parentheses around conditions do not nest: one error, however deep.
    let (message, _) = refuse(format!(
        "ALLOW storage:logs:read WHERE {}storage:bucket-name = \"a\"{};",
        "(".repeat(10_000),
        ")".repeat(10_000)
    ))
    .await;
    assert!(
        message.starts_with("the policy has 1 error(s): 1:31: "),
        "{message}"
    );

    // At the limits, the policy is valid (checked without saving it).
    let valid = server
        .post(
            &format!("{policies}/validation"),
            json!({ "name": "at the limit", "statementQuery": format!("ALLOW storage:logs:read WHERE storage:bucket-name IN ({});", list(1_000)) }),
        )
        .await;
    assert_eq!(valid.status, StatusCode::OK, "{}", valid.body);
    assert_eq!(stored(&server).await, before, "nothing was written");
}

// ---- bytes and characters -----------------------------------------------------------------------

/// Invalid UTF-8 and NUL bytes: refused where they can do harm, kept exactly where they are data.
async fn invalid_text(server: &TestServer) {
    let before = stored(server).await;
    let acc = account(server).await;
    let groups = format!("/iam/v1/accounts/{acc}/groups");
    let users = format!("/iam/v1/accounts/{acc}/users");
    let send = |path: &str, body: &[u8]| {
        let bytes = request(server, "POST", path, body);
        async move { raw(server, &bytes).await }
    };
    let invalid = |message: &str| error(StatusCode::BAD_REQUEST, "invalid", message);

    assert_eq!(
        send(&groups, b"[{\"name\":\"a\xff\"}]").await.pair(),
        invalid("invalid JSON body in `[0].name` (line 1, column 12): invalid unicode code point")
    );
    assert_eq!(
        send(&groups, b"[{\"name\":\"a\\ud800\"}]").await.pair(),
        invalid(
            "invalid JSON body in `[0].name` (line 1, column 18): unexpected end of hex escape"
        )
    );
    assert_eq!(
        send(&groups, b"[{\"name\":\"a\0b\"}]").await.pair(),
        invalid(
            "invalid JSON body in `[0].name` (line 1, column 12): control character (\\u0000-\\u001F) found while parsing a string"
        )
    );
    assert_eq!(
        reply(&server.post(&groups, json!([{ "name": "a\u{0}b" }])).await),
        invalid("`name` must not contain control characters")
    );
    assert_eq!(
        reply(
            &server
                .post(&users, json!({ "email": "a\u{0}@example.com" }))
                .await
        ),
        invalid("`a\u{0}@example.com` is not an email address")
    );
    assert_eq!(
        reply(
            &server
                .post(
                    &users,
                    json!({ "email": "alice@example.com", "name": "A\u{0}" })
                )
                .await
        ),
        invalid("`name` must not contain control characters")
    );
    let policies = format!("/iam/v1/repo/account/{acc}/policies");

    // In paths: a percent-encoded NUL is just an id nobody has; invalid UTF-8 is refused.
    let path = |p: &str| {
        let bytes = request(server, "GET", p, b"");
        async move { raw(server, &bytes).await }
    };
    assert_eq!(
        path(&format!("{groups}/%00")).await.pair(),
        error(
            StatusCode::NOT_FOUND,
            "not_found",
            "group `\u{0}` does not exist"
        )
    );
    assert_eq!(
        path(&format!("{groups}/%FF%FE")).await.pair(),
        invalid("invalid path: invalid UTF-8 in `groupUuid`; send it percent-encoded as UTF-8")
    );
    // Raw bytes that are not UTF-8 in the request line never reach Warden: hyper answers 400.
    let mut bad = format!("GET {groups}/").into_bytes();
    bad.extend_from_slice(&[0xff, 0xfe]);
    bad.extend_from_slice(b" HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n");
    assert_eq!(raw(server, &bad).await.status, 400);

    // A decision about a permission or attribute with a NUL: an answer, and the usage counters
    // and samples (PostgreSQL refuses NUL in text) still flush.
    let unknown = server
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "admin@warden.local", "permission": "iam:users:read\u{0}" }),
        )
        .await;
    assert_eq!(
        (
            unknown.status,
            &unknown.body["error"]["details"]["suggestion"]
        ),
        (StatusCode::BAD_REQUEST, &json!("iam:users:read"))
    );
    assert_eq!(
        decide(
            server,
            "admin@warden.local",
            "storage:logs:read",
            json!({ "storage:bucket-name\u{0}": "\u{0}", "storage:bucket-name": "a\u{0}b" })
        )
        .await,
        "ALLOW allowed"
    );
    server.state.flush_usage().await.unwrap();
    assert_eq!(stored(server).await, before, "nothing was written");

    // Where text is data, a NUL is kept exactly, on every store.
    let created = server
        .post(
            &groups,
            json!([{ "name": "nul-data", "description": "line\u{0}end" }]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let uuid = created.body[0]["uuid"].as_str().unwrap().to_owned();
    let policy = server
        .post(&policies, json!({ "name": "Bucket", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:bucket}\";" }))
        .await;
    let policy = policy.body["uuid"].as_str().unwrap().to_owned();
    let bound = server
        .post(
            &format!("/iam/v1/repo/account/{acc}/bindings/{policy}/{uuid}"),
            json!({ "parameters": { "bucket": "a\u{0}b" } }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let read = server.get(&format!("{groups}/{uuid}")).await;
    assert_eq!(read.body["description"], "line\u{0}end");
    let text = "ALLOW storage:logs:read WHERE storage:bucket-name = \"a\u{0}\";";
    let literal = server
        .post(&policies, json!({ "name": "nul", "statementQuery": text }))
        .await;
    assert_eq!(literal.status, StatusCode::CREATED, "{}", literal.body);
    let literal = literal.body["uuid"].as_str().unwrap().to_owned();
    let read = server.get(&format!("{policies}/{literal}")).await;
    assert_eq!(read.body["statementQuery"], text);
    let bindings = server
        .get(&format!(
            "/iam/v1/repo/account/{acc}/bindings/{policy}/{uuid}"
        ))
        .await;
    assert_eq!(
        bindings.body["policyBindings"][0]["parameters"],
        json!({ "bucket": "a\u{0}b" })
    );
    assert_eq!(stored(server).await.0, before.0 + 4, "four writes");
}

#[tokio::test]
async fn invalid_utf8_and_nul_bytes_on_sqlite() {
    invalid_text(&TestServer::start().await).await;
}

#[tokio::test]
async fn invalid_utf8_and_nul_bytes_on_postgres() {
    let Some(url) = TestServer::fresh_postgres().await else {
        // Run through scripts/with-postgres to cover PostgreSQL.
        return;
    };
    invalid_text(&start(None, Some(url)).await).await;
}

#[tokio::test]
async fn emails_fold_ascii_case_only_and_look_alikes_never_merge() {
    let server = TestServer::start().await;
    let acc = account(&server).await;
    let users = format!("/iam/v1/accounts/{acc}/users");
    let groups = format!("/iam/v1/accounts/{acc}/groups");
    let create = |email: &str| server.post(&users, json!({ "email": email }));

    let alice = create("Alice@Example.com").await;
    assert_eq!(alice.status, StatusCode::CREATED, "{}", alice.body);
    assert_eq!(alice.body["email"], "alice@example.com");
    let alice_uid = alice.body["uid"].as_str().unwrap().to_owned();
    for variant in [
        "alice@example.com",
        "ALICE@EXAMPLE.COM",
        " alice@Example.com ",
    ] {
        assert_eq!(
            reply(&create(variant).await),
            error(
                StatusCode::CONFLICT,
                "conflict",
                "a user with email `alice@example.com` already exists"
            ),
            "{variant:?}"
        );
    }
    let found = server.get(&format!("{users}/ALICE@example.COM")).await;
    assert_eq!(found.body["uid"], alice_uid.as_str());

    // Look-alikes are other users, kept as written: Cyrillic `а` (U+0430), the Kelvin sign
    // (U+212A, which Unicode lower-casing would turn into `k`), full-width letters, dotless ı.
    let before = stored(&server).await;
    let mut twins = Vec::new();
    for email in [
        "\u{0430}lice@example.com",
        "\u{212A}ate@example.com",
        "\u{FF41}lice@example.com",
        "al\u{0131}ce@example.com",
    ] {
        let twin = create(email).await;
        assert_eq!(twin.status, StatusCode::CREATED, "{email}: {}", twin.body);
        assert_eq!(twin.body["email"], email, "kept as written");
        assert_ne!(twin.body["uid"], alice_uid.as_str());
        twins.push(email);
    }
    let kate = create("kate@example.com").await;
    assert_eq!(
        kate.status,
        StatusCode::CREATED,
        "the Kelvin sign did not take `kate`"
    );
    assert_eq!(stored(&server).await.0, before.0 + 5);

    // Invisible characters are refused: they would make a twin nobody can tell apart.
    let before = stored(&server).await;
    for (email, code) in [
        ("alice\u{200B}@example.com", "U+200B"),
        ("alice@example.com\u{202E}", "U+202E"),
        ("\u{FEFF}alice@example.com", "U+FEFF"),
        ("al\u{00AD}ice@example.com", "U+00AD"),
    ] {
        let refused = create(email).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{email:?}");
        assert_eq!(
            refused.body["error"]["message"],
            format!("`email` must not contain invisible characters (found {code})")
        );
    }

    // The same rules for names of groups (and policies and boundaries): case folds, invisible
    // characters are refused, look-alikes are other groups.
    let ops = server.post(&groups, json!([{ "name": "Ops" }])).await;
    assert_eq!(ops.status, StatusCode::CREATED);
    let ops = ops.body[0]["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        reply(&server.post(&groups, json!([{ "name": "OPS" }])).await),
        error(
            StatusCode::CONFLICT,
            "conflict",
            &format!("a group named `Ops` already exists ({ops})")
        )
    );
    let invisible = server
        .post(&groups, json!([{ "name": "Ops\u{200D}" }]))
        .await;
    assert_eq!(
        invisible.body["error"]["message"],
        "`name` must not contain invisible characters (found U+200D)"
    );
    let policies = format!("/iam/v1/repo/account/{acc}/policies");
    let invisible = server
        .post(
            &policies,
            json!({ "name": "Read\u{2060}Logs", "statementQuery": "ALLOW storage:logs:read;" }),
        )
        .await;
    assert_eq!(
        invisible.body["error"]["message"],
        "`name` must not contain invisible characters (found U+2060)"
    );
    assert_eq!(stored(&server).await.0, before.0 + 1);
    let cyrillic = server
        .post(&groups, json!([{ "name": "\u{041E}ps" }]))
        .await;
    assert_eq!(cyrillic.status, StatusCode::CREATED, "a different group");
    assert_ne!(cyrillic.body[0]["uuid"], ops.as_str());

    // Decisions: alice's rights reach `Alice@…` in any ASCII case and no look-alike.
    let policy = server
        .post(
            &policies,
            json!({ "name": "Logs", "statementQuery": "ALLOW storage:logs:read;" }),
        )
        .await;
    let policy = policy.body["uuid"].as_str().unwrap().to_owned();
    let bound = server
        .post(
            &format!("/iam/v1/repo/account/{acc}/bindings/{policy}/{ops}"),
            json!({}),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let joined = server
        .post(&format!("{users}/ALICE@EXAMPLE.COM"), json!([ops]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    for principal in ["alice@example.com", "ALICE@example.com", alice_uid.as_str()] {
        assert_eq!(
            decide(&server, principal, "storage:logs:read", json!({})).await,
            "ALLOW allowed"
        );
    }
    for twin in &twins {
        assert_eq!(
            decide(&server, twin, "storage:logs:read", json!({})).await,
            "DENY no-matching-allow",
            "{twin}"
        );
    }
    assert_eq!(
        decide(
            &server,
            "alice\u{200B}@example.com",
            "storage:logs:read",
            json!({})
        )
        .await,
        "DENY unknown-principal"
    );
}

// ---- bind parameters ----------------------------------------------------------------------------

#[tokio::test]
async fn bind_parameters_stay_data_and_never_widen_access() {
    let server = TestServer::start().await;
    let acc = account(&server).await;
    let repo = format!("/iam/v1/repo/account/{acc}");
    let accounts = format!("/iam/v1/accounts/{acc}");
    let text = "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:bucket}\";\n\
                ALLOW storage:buckets:read WHERE storage:bucket-name startsWith \"${bindParam:bucket}_\";";
    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "Bucket", "statementQuery": text }),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    let policy = policy.body["uuid"].as_str().unwrap().to_owned();

    let hostile = [
        "x\"; ALLOW iam:*; //",
        "x'; ALLOW iam:*; //",
        "a;b",
        "*",
        "?",
        "\\",
        "\\\"",
        "${bindParam:bucket}",
        "${global:userId}",
        "\") OR (\"1\"=\"1",
        "WHERE",
        "line\nbreak",
        "",
    ];
    for (i, value) in hostile.iter().enumerate() {
        let group = server
            .post(
                &format!("{accounts}/groups"),
                json!([{ "name": format!("g{i}") }]),
            )
            .await;
        let group = group.body[0]["uuid"].as_str().unwrap().to_owned();
        let bound = server
            .post(
                &format!("{repo}/bindings/{policy}/{group}"),
                json!({ "parameters": { "bucket": value } }),
            )
            .await;
        assert_eq!(
            bound.status,
            StatusCode::NO_CONTENT,
            "{value:?}: {}",
            bound.body
        );
        let email = format!("u{i}@example.com");
        let user = server
            .post(&format!("{accounts}/users"), json!({ "email": email }))
            .await;
        let uid = user.body["uid"].as_str().unwrap().to_owned();
        let joined = server
            .post(&format!("{accounts}/users/{email}"), json!([group]))
            .await;
        assert_eq!(joined.status, StatusCode::CREATED);

        let bucket = |b: &str| json!({ "storage:bucket-name": b });
        let ask = |permission: &'static str, attributes: Value| {
            let (server, email) = (&server, email.clone());
            async move { decide(server, &email, permission, attributes).await }
        };
        assert_eq!(
            ask("storage:logs:read", bucket(value)).await,
            "ALLOW allowed",
            "{value:?}"
        );
        assert_eq!(
            ask("storage:buckets:read", bucket(&format!("{value}_x"))).await,
            "ALLOW allowed",
            "{value:?}"
        );
        for other in ["other", "x", "a", "anything", "1", "_", uid.as_str()] {
            if other != *value {
                assert_eq!(
                    ask("storage:logs:read", bucket(other)).await,
                    "DENY no-matching-allow",
                    "{value:?} vs {other}"
                );
            }
        }
        assert_eq!(
            ask("storage:buckets:read", bucket("other_x")).await,
            "DENY no-matching-allow"
        );
        assert_eq!(
            ask("storage:logs:read", json!({})).await,
            "DENY no-matching-allow"
        );
        for permission in [
            "iam:users:write",
            "iam:policies:write",
            "iam:bindings:write",
            "storage:fieldsets:read",
        ] {
            assert_eq!(
                ask(permission, bucket(value)).await,
                "DENY no-matching-allow",
                "{value:?} {permission}"
            );
        }
    }
    let stored_text = server.get(&format!("{repo}/policies/{policy}")).await;
    assert_eq!(
        stored_text.body["statementQuery"], text,
        "the policy's text is unchanged"
    );

    // A list where one string is expected: a binding error.
    let before = stored(&server).await;
    let group = server
        .post(&format!("{accounts}/groups"), json!([{ "name": "lists" }]))
        .await;
    let group = group.body[0]["uuid"].as_str().unwrap().to_owned();
    let listed = server
        .post(
            &format!("{repo}/bindings/{policy}/{group}"),
            json!({ "parameters": { "bucket": ["a", "b"] } }),
        )
        .await;
    assert_eq!(
        reply(&listed),
        error(
            StatusCode::BAD_REQUEST,
            "invalid",
            "parameter `bucket` is a list, but condition `storage:bucket-name` uses it where one string is expected; give one string"
        )
    );

    // In a MATCH pattern `*`, `?` and `\` are syntax: a value with them is refused, so that
    // `team = "*"` cannot turn `"${bindParam:team}_*"` into every team's buckets.
    let matching = server
        .post(&format!("{repo}/policies"), json!({ "name": "Team", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name MATCH \"${bindParam:team}_*\";" }))
        .await;
    let matching = matching.body["uuid"].as_str().unwrap().to_owned();
    for value in ["*", "a?", "x\\", "\\*"] {
        let refused = server
            .post(
                &format!("{repo}/bindings/{matching}/{group}"),
                json!({ "parameters": { "team": value } }),
            )
            .await;
        assert_eq!(
            reply(&refused),
            error(
                StatusCode::BAD_REQUEST,
                "invalid",
                &format!(
                    "parameter `team` fills a MATCH pattern of `storage:bucket-name`, where `*` and `?` are wildcards: its value `{value}` must not contain `*`, `?` or `\\`; write wildcards into the policy"
                )
            )
        );
    }
    assert_eq!(
        stored(&server).await.0,
        before.0 + 2,
        "the group and the MATCH policy only"
    );

    // A bound policy cannot move a parameter into a pattern where its value would be syntax.
    let equals = server
        .post(&format!("{repo}/policies"), json!({ "name": "Equals", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:team}\";" }))
        .await;
    let equals = equals.body["uuid"].as_str().unwrap().to_owned();
    let bound = server
        .post(
            &format!("{repo}/bindings/{equals}/{group}"),
            json!({ "parameters": { "team": "*" } }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT);
    let before = stored(&server).await;
    let moved = server
        .put(
            &format!("{repo}/policies/{equals}"),
            json!({ "name": "Equals", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name MATCH \"${bindParam:team}\";" }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::CONFLICT, "{}", moved.body);
    assert_eq!(
        moved.body["error"]["message"],
        "the policy is bound, and a binding no longer fits it: parameter `team` fills a MATCH pattern of `storage:bucket-name`, where `*` and `?` are wildcards: its value `*` must not contain `*`, `?` or `\\`; write wildcards into the policy"
    );
    assert_eq!(stored(&server).await, before);
}

// ---- paths --------------------------------------------------------------------------------------

#[tokio::test]
async fn path_traversal_in_ids_reaches_nothing() {
    let server = TestServer::start().await;
    let acc = account(&server).await;
    let groups = format!("/iam/v1/accounts/{acc}/groups");
    let created = server.post(&groups, json!([{ "name": "target" }])).await;
    let target = created.body[0]["uuid"].as_str().unwrap().to_owned();
    let before = stored(&server).await;
    let send = |method: &'static str, path: String| {
        let server = &server;
        async move {
            raw(server, &request(server, method, &path, b""))
                .await
                .pair()
        }
    };
    let not_found = |message: String| error(StatusCode::NOT_FOUND, "not_found", &message);
    let no_endpoint = not_found("no such endpoint; `/openapi.json` lists them".to_owned());

    // Ids are looked up, never resolved as paths: `..` is an id nobody has.
    assert_eq!(
        send("GET", format!("{groups}/../users")).await,
        not_found("group `..` does not exist".into())
    );
    assert_eq!(
        send("GET", format!("{groups}/%2e%2e/users")).await,
        not_found("group `..` does not exist".into())
    );
    assert_eq!(
        send("GET", format!("{groups}/%2E%2E")).await,
        not_found("group `..` does not exist".into())
    );
    assert_eq!(
        send("GET", format!("{groups}/..%2F..%2Fusers")).await,
        not_found("group `../../users` does not exist".into())
    );
    assert_eq!(
        send(
            "GET",
            format!("/iam/v1/accounts/{acc}/users/..%2F..%2Fgroups")
        )
        .await,
        not_found("user `../../groups` does not exist".into())
    );
    assert_eq!(
        send("GET", format!("/iam/v1/accounts/..%2F{acc}/groups")).await,
        not_found(format!("account `../{acc}` does not exist"))
    );
    assert_eq!(
        send("GET", "/iam/v1/../../etc/passwd".into()).await,
        no_endpoint
    );
    assert_eq!(
        send("GET", "/iam/v1/%2e%2e/%2e%2e/etc/passwd".into()).await,
        no_endpoint
    );
    assert_eq!(
        send("GET", "/..%2F..%2Fetc%2Fpasswd".into()).await,
        no_endpoint
    );

    // Deleting through a traversal deletes nothing.
    assert_eq!(
        send("DELETE", format!("{groups}/..%2F{target}")).await,
        not_found(format!("group `../{target}` does not exist"))
    );
    assert_eq!(
        send("DELETE", format!("{groups}/{target}%2F..")).await,
        not_found(format!("group `{target}/..` does not exist"))
    );

    // Where the caller chooses an id (upserts), it must be a plain id.
    let id_rule = |field: &str| {
        error(
            StatusCode::BAD_REQUEST,
            "invalid",
            &format!("`{field}` must be 1–64 characters of letters, digits, `.`, `_`, `@` and `-`"),
        )
    };
    let policies = format!("/iam/v1/repo/account/{acc}/policies");
    let policy = json!({ "name": "p", "statementQuery": "ALLOW storage:logs:read;" }).to_string();
    for id in ["..", "%2e%2e", "..%2Fx", "a%2Fb", "%00", "a%20b"] {
        let refused = raw(
            &server,
            &request(
                &server,
                "PUT",
                &format!("{policies}/{id}"),
                policy.as_bytes(),
            ),
        )
        .await;
        assert_eq!(refused.pair(), id_rule("policy uuid"), "{id}");
    }
    let boundary =
        json!({ "name": "b", "boundaryQuery": "global:environmentId = \"env-prod\"" }).to_string();
    let refused = raw(
        &server,
        &request(
            &server,
            "PUT",
            &format!("/iam/v1/repo/account/{acc}/boundaries/..%2F..%2Fx"),
            boundary.as_bytes(),
        ),
    )
    .await;
    assert_eq!(refused.pair(), id_rule("boundary uuid"));

    assert_eq!(stored(&server).await, before, "nothing was written");
    assert_eq!(
        server.get(&format!("{groups}/{target}")).await.status,
        StatusCode::OK
    );
}

// ---- tokens -------------------------------------------------------------------------------------

#[tokio::test]
async fn guessed_and_near_miss_tokens_all_get_the_same_401() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let token = server.token.clone();
    let rest = token.strip_prefix("wdn_pt_").unwrap();
    let (id, secret) = rest.split_once('_').unwrap();
    let flip = |s: &str, at: usize| {
        s.char_indices()
            .map(|(i, c)| {
                if i == at {
                    if c == 'A' { 'B' } else { 'A' }
                } else {
                    c
                }
            })
            .collect::<String>()
    };
    let mut guesses = vec![
        "wdn_".to_owned(),
        "wdn_pt_".to_owned(),
        format!("wdn_pt_{id}_"),
        format!("wdn_pt_{id}"),
        format!("wdn_pt_{id}_{}", flip(secret, 0)),
        format!("wdn_pt_{id}_{}", flip(secret, secret.len() - 1)),
        format!("wdn_pt_{id}_{}", &secret[..secret.len() - 1]),
        format!("{token}A"),
        format!("wdn_pt_{id}_{}", secret.to_ascii_uppercase()),
        format!("wdn_pt_{}_{secret}", flip(id, 0)),
        format!("wdn_pt_{secret}_{id}"),
        format!("wdn_at_{id}_{secret}"),
        format!("wdn_xx_{id}_{secret}"),
        format!("WDN_PT_{id}_{secret}"),
        format!("wdn_pt__{id}_{secret}"),
        token.replace('_', "-"),
        "Bearer".to_owned(),
        "null".to_owned(),
        "' OR '1'='1".to_owned(),
        "../../admin-token".to_owned(),
        "%00".to_owned(),
    ];
    for _ in 0..200 {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let secret = uuid::Uuid::new_v4().simple().to_string();
        guesses.push(format!("wdn_pt_{}_{secret}{}", &id[..18], &id[18..29]));
        guesses.push(format!("wdn_pt_{id}_{secret}"));
    }
    let invalid = json!({ "error": { "code": "unauthenticated", "message": "invalid token", "details": { "help": "send `Authorization: Bearer wdn_…` with a token issued by Warden" } } });
    for guess in &guesses {
        let answer = server
            .api
            .exchange_with_headers(
                Method::GET,
                server.api.url(&["iam", "v1", "me"]),
                warden_client::Payload::None,
                &[("authorization", &format!("Bearer {guess}"))],
            )
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{guess}");
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
        assert_eq!(
            serde_json::from_str::<Value>(&answer.body).unwrap(),
            invalid,
            "{guess}"
        );
        // Asked as a decision's `token`: the same DENY for every one.
        let decision = server
            .post(
                "/iam/v1/authorize",
                json!({ "token": guess, "permission": "iam:users:read" }),
            )
            .await;
        assert_eq!(
            decision.status,
            StatusCode::OK,
            "{guess}: {}",
            decision.body
        );
        assert_eq!(
            (
                decision.body["decision"].as_str(),
                decision.body["reason"].as_str()
            ),
            (Some("DENY"), Some("invalid-token")),
            "{guess}"
        );
    }
    // The real token, after all of that: no lock-out, and nothing was written.
    assert_eq!(server.get("/iam/v1/me").await.status, StatusCode::OK);
    assert_eq!(stored(&server).await, before);
}

// ---- slow clients and many connections ----------------------------------------------------------

#[tokio::test]
async fn slow_clients_are_cut_off_after_the_read_timeout() {
    assert_eq!(
        Config::default().read_timeout,
        Duration::from_secs(15),
        "the default"
    );
    let timeout = Duration::from_millis(400);
    let server = start(Some(timeout), None).await;
    let before = stored(&server).await;

    // Headers a line every 100 ms: the connection is closed after the timeout, without an answer.
    let (mut reader, mut writer) = connect(&server).await.into_split();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let _ = writer
            .write_all(b"GET /health HTTP/1.1\r\nHost: w\r\n")
            .await;
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if writer.write_all(b"X-Slow: 1\r\n").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut answer)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    assert!(answer.is_empty(), "{:?}", String::from_utf8_lossy(&answer));
    assert!(
        elapsed >= timeout && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );

    // A connection that sends nothing is closed after the timeout too.
    let started = Instant::now();
    let mut idle = connect(&server).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut answer)).await;
    assert!(answer.is_empty());
    assert!(started.elapsed() >= timeout && started.elapsed() < Duration::from_secs(3));

    // A body a byte every 100 ms: 408 in the error shape, and the connection closed.
    let (mut reader, mut writer) = connect(&server).await.into_split();
    let head = format!(
        "POST /iam/v1/authorize HTTP/1.1\r\nHost: w\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n",
        server.token
    );
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        for _ in 0..50 {
            if writer.write_all(b" ").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), reader.read_to_end(&mut answer)).await;
    let elapsed = started.elapsed();
    trickle.abort();
    let answer = parse(&answer);
    assert_eq!(
        answer.pair(),
        (
            StatusCode::REQUEST_TIMEOUT,
            json!({ "error": { "code": "timeout", "message": "the request body did not arrive within 400 ms; send it at once", "details": { "readTimeoutMs": 400 } } })
        )
    );
    assert_eq!(answer.header("connection").as_deref(), Some("close"));
    assert!(
        elapsed >= timeout && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );

    // A body in two parts well within the timeout is fine.
    let body = br#"{"principal":"admin@warden.local","permission":"iam:users:read"}"#;
    let mut stream = connect(&server).await;
    let head = request(&server, "POST", "/iam/v1/authorize", body);
    let (first, second) = head.split_at(head.len() - 20);
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.write_all(second).await.unwrap();
    let answer = read_reply(&mut stream).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["decision"], "ALLOW");
    assert_eq!(stored(&server).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_are_all_answered_or_cleanly_refused() {
    const CONNECTIONS: usize = 1_000;
    let server = Arc::new(TestServer::start().await);
    let before = stored(&server).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(CONNECTIONS));
    let mut tasks = Vec::new();
    for i in 0..CONNECTIONS {
        let (server, barrier) = (Arc::clone(&server), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let connected = TcpStream::connect(server.base.trim_start_matches("http://")).await;
            // Every connection is open before any request is sent.
            barrier.wait().await;
            let mut stream = match connected {
                Ok(stream) => stream,
                Err(error) => return Err(error.to_string()),
            };
            let (request, expected) = match i % 3 {
                0 => (
                    b"GET /health HTTP/1.1\r\nHost: w\r\nConnection: close\r\n\r\n".to_vec(),
                    "ok",
                ),
                1 => (
                    request(
                        &server,
                        "POST",
                        "/iam/v1/authorize",
                        br#"{"principal":"admin@warden.local","permission":"iam:users:read"}"#,
                    ),
                    "ALLOW allowed",
                ),
                _ => (
                    request(
                        &server,
                        "POST",
                        "/iam/v1/authorize",
                        br#"{"principal":"nobody@example.com","permission":"iam:users:read"}"#,
                    ),
                    "DENY unknown-principal",
                ),
            };
            if let Err(error) = stream.write_all(&request).await {
                return Err(error.to_string());
            }
            let answer = read_reply(&mut stream).await;
            if answer.status == 0 {
                return Err("closed without an answer".to_owned());
            }
            // Over the connection cap (1,000, and the test's own client holds one): the cap's
            // answer, a clean refusal.
            if answer.status == 503 {
                assert_eq!(
                    answer.body["error"]["message"],
                    "the server has as many connections as it accepts; retry in a second"
                );
                return Err("503 over the connection cap".to_owned());
            }
            let got = match answer.body["status"].as_str() {
                Some(status) => status.to_owned(),
                None => format!(
                    "{} {}",
                    answer.body["decision"].as_str().unwrap_or("?"),
                    answer.body["reason"].as_str().unwrap_or("?")
                ),
            };
            Ok((answer.status, got, expected))
        }));
    }
    let mut answered = 0;
    let mut refused = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok((status, got, expected)) => {
                assert_eq!((status, got.as_str()), (200, expected), "a wrong answer");
                answered += 1;
            }
            Err(error) => refused.push(error),
        }
    }
    assert!(
        answered >= CONNECTIONS * 9 / 10,
        "{answered} answered; refused: {:?}",
        &refused[..refused.len().min(5)]
    );
    assert_eq!(
        stored(&server).await,
        before,
        "the server is up; nothing was written"
    );
}
