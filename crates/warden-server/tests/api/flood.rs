//! Limits per replica against floods: the per-source request rate of the endpoints that answer
//! without a token, and the cap on concurrent connections. Each test is bounded in count and
//! time, runs on loopback only (a second source is a client bound to 127.0.0.2), and asserts the
//! exact refusals and that nobody else is refused.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use warden_client::{Method, StatusCode};
use warden_server::Config;
use warden_server::rate::RateConfig;

use crate::bounds::{client_from, form_from, token_from};
use crate::common::TestServer;
use crate::credentials::client;

async fn start(config: Config) -> TestServer {
    let dir = std::env::temp_dir().join(format!(
        "warden-flood-{}-{}",
        std::process::id(),
        config.max_connections
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = Config {
        db: dir.join("warden.db").display().to_string(),
        token_file: dir.join("admin-token"),
        ..config
    };
    TestServer::start_with(config, dir).await
}

/// A client-credentials token request: the status, `Retry-After` and the JSON body.
async fn token(
    server: &TestServer,
    from: &warden_client::Client,
    id: &str,
    secret: &str,
) -> (StatusCode, String, Value) {
    let answer = token_from(server, from, id, secret).await;
    (
        answer.status,
        answer.header("retry-after").to_owned(),
        answer.json(),
    )
}

async fn metric(server: &TestServer, line: &str) -> String {
    let text = server
        .raw_as(None, Method::GET, "/metrics", "text/plain", b"")
        .await
        .body;
    text.lines()
        .find(|l| l.starts_with(line))
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn the_endpoints_without_a_token_are_limited_per_source() {
    let server = start(Config {
        unauthenticated_rate: RateConfig {
            per_second: 2,
            burst: 3,
        },
        max_connections: 101,
        ..Config::default()
    })
    .await;
    let (id, secret) = client(&server, "admin@warden.local", &["iam:users:read"]).await;
    let first = client_from(1);
    for _ in 0..3 {
        let (status, _, body) = token(&server, &first, &id, &secret).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, retry, body) = token(&server, &first, &id, &secret).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry, "1");
    assert_eq!(
        body,
        json!({
            "error": "slow_down",
            "error_description": "too many requests from your address to this endpoint; retry in 1 s"
        })
    );
    // The same bucket covers introspection and the console's sign-in form.
    let introspect = form_from(
        &server,
        &first.with_client_secret(&id, &secret),
        "/sso/oauth2/introspect",
        "token=x",
        &[],
    )
    .await;
    assert_eq!(introspect.status, StatusCode::TOO_MANY_REQUESTS);
    let sign_in = form_from(
        &server,
        &first,
        "/console/sign-in",
        "email=a%40example.com&password=x",
        &[],
    )
    .await;
    assert_eq!(sign_in.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sign_in.header("retry-after"), "1");
    assert!(
        sign_in
            .text
            .contains("Too many requests from your address. Retry in 1 s.")
    );
    // Another source is untouched, and so are the endpoints that need a token.
    let (status, _, body) = token(&server, &client_from(2), &id, &secret).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(server.get("/iam/v1/me").await.status, StatusCode::OK);
    // Half a second later (2 a second) one request has come back, and only one.
    server.clock.advance(500);
    assert_eq!(token(&server, &first, &id, &secret).await.0, StatusCode::OK);
    assert_eq!(
        token(&server, &first, &id, &secret).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        metric(
            &server,
            "warden_rate_limited_total{endpoint=\"unauthenticated_rate\"}"
        )
        .await,
        "warden_rate_limited_total{endpoint=\"unauthenticated_rate\"} 4"
    );
}

#[tokio::test]
async fn a_flood_from_one_source_leaves_another_answered() {
    let server = start(Config {
        max_connections: 1_000,
        ..Config::default()
    })
    .await;
    let (id, secret) = client(&server, "admin@warden.local", &["iam:users:read"]).await;
    let flooder = client_from(3);
    // 300 requests at once from one source with a wrong secret: the default burst (50) is
    // answered, the rest refused at once without an argon2 check.
    let flood: Vec<_> = (0..300)
        .map(|_| {
            let flooder = flooder.with_client_secret(&id, "wrong");
            let url =
                warden_client::Url::parse(&format!("{}/sso/oauth2/token", server.base)).unwrap();
            tokio::spawn(async move {
                let payload = warden_client::Payload::Raw {
                    content_type: "application/x-www-form-urlencoded",
                    bytes: b"grant_type=client_credentials",
                };
                flooder
                    .exchange_raw(Method::POST, url, payload)
                    .await
                    .map(|answer| answer.status)
            })
        })
        .collect();
    // Meanwhile another source gets its tokens within the bound. While the flood's first
    // (at most 20: the failure limit) wrong secrets wait for argon2, the pool's queue may be full
    // and answer 503 with `Retry-After`: a well-behaved client retries, and gets through.
    let other = client_from(4);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut tokens = 0;
    while tokens < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "the other source got {tokens} tokens in 20 s"
        );
        let (status, retry, body) = token(&server, &other, &id, &secret).await;
        match status {
            StatusCode::OK => tokens += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(retry, "1");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            _ => panic!("the other source was refused: {status} {body}"),
        }
    }
    let mut refused = 0;
    for request in flood {
        let status = request.await.unwrap().unwrap();
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        } else {
            // Within the burst: the wrong secret, or the failure limit of that source.
            assert!(
                status == StatusCode::UNAUTHORIZED || status == StatusCode::SERVICE_UNAVAILABLE,
                "{status}"
            );
        }
    }
    assert!(refused >= 250, "only {refused} of 300 refused");
}

/// Sends a request on a raw connection and reads the whole answer.
async fn exchange(address: &str, request: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn connections_over_the_cap_are_answered_503_at_once_and_closed() {
    let server = start(Config {
        max_connections: 2,
        ..Config::default()
    })
    .await;
    let address = server.base.trim_start_matches("http://").to_owned();
    // Two idle connections take both places.
    let held: Vec<_> = [
        tokio::net::TcpStream::connect(&address).await.unwrap(),
        tokio::net::TcpStream::connect(&address).await.unwrap(),
    ]
    .into();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let answer = exchange(
        &address,
        "GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(
        answer.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\r\nretry-after: 1\r\n"), "{answer}");
    assert!(answer.ends_with(
        r#"{"error":{"code":503,"errorCode":"unavailable","message":"the server has as many connections as it accepts; retry in a second"}}"#
    ), "{answer}");
    // A place freed is a place taken again.
    drop(held);
    let mut served = String::new();
    for _ in 0..50 {
        served = exchange(
            &address,
            "GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await;
        if served.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served.starts_with("HTTP/1.1 200 OK\r\n"), "{served}");
    assert_eq!(
        metric(&server, "warden_connections_refused_total ").await,
        "warden_connections_refused_total 1"
    );
}
