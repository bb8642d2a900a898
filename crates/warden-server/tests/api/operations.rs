//! What an operator watches: `/ready` for load balancers, and `/metrics` latency histograms per
//! route, store write and snapshot build timings, refused tokens by reason.

use serde_json::json;
use warden_client::Method;
use warden_client::StatusCode;

use crate::common::TestServer;

async fn metrics(server: &TestServer) -> String {
    let answer = server
        .raw_as(None, Method::GET, "/metrics", "text/plain", b"")
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    answer.body
}

/// The value of one series (`name{labels}`) in the metrics text.
fn series(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
}

#[tokio::test]
async fn ready_says_the_store_answers_and_the_snapshot_is_current() {
    let server = TestServer::start().await;
    let ready = server.call_as(None, Method::GET, "/ready", None).await;
    assert_eq!(ready.status, StatusCode::OK);
    let revision = ready.body["revision"].as_u64().unwrap();
    assert_eq!(
        ready.body,
        json!({ "status": "ready", "revision": revision, "storeRevision": revision })
    );
}

#[tokio::test]
async fn metrics_time_every_route_write_and_build_and_count_refused_tokens() {
    let server = TestServer::start().await;
    let acc = format!("/iam/v1/accounts/{}", server.account());
    let before = metrics(&server).await;
    let writes_before = series(&before, "warden_store_write_seconds_count").unwrap_or_default();
    for n in 0..3 {
        let created = server
            .post(
                &format!("{acc}/groups"),
                json!([{ "name": format!("timed-{n}") }]),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED);
    }
    for _ in 0..2 {
        assert_eq!(
            server.get(&format!("{acc}/groups")).await.status,
            StatusCode::OK
        );
    }
    let refused = server
        .call_as(
            Some("wdn_pt_nothing"),
            Method::GET,
            &format!("{acc}/groups"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);

    let text = metrics(&server).await;
    let route = "method=\"GET\",route=\"/iam/v1/accounts/{accountId}/groups\"";
    // Two answered, one refused: all three timed under the route's template.
    assert_eq!(
        series(
            &text,
            &format!("warden_http_request_duration_seconds_count{{{route}}}")
        ),
        Some(3.0)
    );
    assert_eq!(
        series(
            &text,
            &format!("warden_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}}")
        ),
        Some(3.0)
    );
    assert_eq!(
        series(&text, "warden_store_write_seconds_count"),
        Some(writes_before + 3.0)
    );
    assert!(series(&text, "warden_snapshot_build_seconds_count").unwrap() >= 3.0);
    assert_eq!(
        series(&text, "warden_token_refusals_total{reason=\"invalid\"}"),
        Some(1.0)
    );
    assert_eq!(
        series(&text, "warden_token_refusals_total{reason=\"expired\"}"),
        Some(0.0)
    );
    assert_eq!(
        series(&text, "warden_rate_limited_total{endpoint=\"oauth_token\"}"),
        Some(0.0)
    );
    assert!(series(&text, "warden_store_freshness_seconds").is_some());
    // Paths are never labels: a request to an unknown path is timed as `(no route)`.
    server.get("/no/such/path/with-secret-looking-part").await;
    let text = metrics(&server).await;
    assert!(!text.contains("with-secret-looking-part"));
    assert_eq!(
        series(
            &text,
            "warden_http_request_duration_seconds_count{method=\"GET\",route=\"(no route)\"}"
        ),
        Some(1.0)
    );
}
