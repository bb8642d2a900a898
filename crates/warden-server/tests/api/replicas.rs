//! Scale-out on one PostgreSQL (run when `WARDEN_TEST_POSTGRES_URL` is set; `.ci/run` sets it):
//! read-your-writes across replicas with the revision, propagation latency, a stopped replica
//! catching up, and serving from the last snapshot while the store is unreachable.

// Skips and the measured propagation latency are reported on stderr, as the test harness shows it.
#![allow(clippy::print_stderr)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use warden_client::StatusCode;
use warden_server::Config;

use crate::common::TestServer;

async fn primary() -> Option<TestServer> {
    let Some(url) = TestServer::fresh_postgres().await else {
        eprintln!("skipped: WARDEN_TEST_POSTGRES_URL is not set");
        return None;
    };
    let dir = std::env::temp_dir().join(format!(
        "warden-replicas-{}-{}",
        std::process::id(),
        url.rsplit('_').next().unwrap_or("0")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = Config {
        db: url,
        token_file: dir.join("admin-token"),
        environments: vec!["env-prod".into()],
        ..Config::default()
    };
    Some(TestServer::start_with(config, dir).await)
}

/// Creates a user in a new group with a policy granting `settings:objects:read`; returns the
/// policy, group and the revision of the last write.
async fn grant(server: &TestServer, email: &str) -> (String, String, i64) {
    let account = server.account();
    let group = server
        .post(
            &format!("/iam/v1/accounts/{account}/groups"),
            json!([{ "name": format!("g-{email}") }]),
        )
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = server
        .post(&format!("/iam/v1/repo/account/{account}/policies"), json!({ "name": format!("p-{email}"), "statementQuery": "ALLOW settings:objects:read;" }))
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .post(
            &format!("/iam/v1/repo/account/{account}/bindings/{policy}/{group}"),
            json!({}),
        )
        .await;
    server
        .post(
            &format!("/iam/v1/accounts/{account}/users"),
            json!({ "email": email }),
        )
        .await;
    let joined = server
        .post(
            &format!("/iam/v1/accounts/{account}/users/{email}"),
            json!([group]),
        )
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    (policy, group, joined.revision.unwrap())
}

async fn decide(server: &TestServer, email: &str, min_revision: Option<i64>) -> Value {
    let mut body = json!({ "principal": email, "permission": "settings:objects:read" });
    if let Some(revision) = min_revision {
        body["minRevision"] = json!(revision);
    }
    server.post("/iam/v1/authorize", body).await.body
}

#[tokio::test]
async fn a_write_on_one_replica_is_honoured_on_another_with_its_revision() {
    let Some(a) = primary().await else { return };
    let b = a.replica("b").await;
    let (policy, group, revision) = grant(&a, "alice@example.com").await;
    let on_b = decide(&b, "alice@example.com", Some(revision)).await;
    assert_eq!(on_b["decision"], "ALLOW", "{on_b}");
    assert!(on_b["revision"].as_i64().unwrap() >= revision);

    // Revoke on A; with the revision it got back, B never honours the revoked permission.
    let account = a.account();
    let revoked = a
        .delete(&format!(
            "/iam/v1/repo/account/{account}/bindings/{policy}/{group}"
        ))
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let after = decide(&b, "alice@example.com", revoked.revision).await;
    assert_eq!(after["decision"], "DENY", "{after}");

    // A revision the store itself has not reached was never answered by a write: refused at
    // once, never decided on an older snapshot.
    let future = b.post("/iam/v1/authorize", json!({ "principal": "alice@example.com", "permission": "settings:objects:read", "minRevision": 1_000_000 })).await;
    assert_eq!(future.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        future.body["error"]["message"],
        format!(
            "`minRevision` 1000000 is ahead of the store (at revision {}); use the `revision` a write answered with, or leave it out",
            revoked.revision.unwrap()
        )
    );
}

#[tokio::test]
async fn writes_propagate_within_100_ms_at_p99() {
    let Some(a) = primary().await else { return };
    let b = a.replica("b").await;
    let account = a.account();
    let mut latencies = Vec::new();
    for i in 0..40 {
        let group = a
            .post(
                &format!("/iam/v1/accounts/{account}/groups"),
                json!([{ "name": format!("latency-{i}") }]),
            )
            .await;
        let uuid = group.body[0]["uuid"].as_str().unwrap().to_owned();
        let written = Instant::now();
        loop {
            if b.get(&format!("/iam/v1/accounts/{account}/groups/{uuid}"))
                .await
                .status
                == StatusCode::OK
            {
                break;
            }
            assert!(
                written.elapsed() < Duration::from_secs(5),
                "write {i} never reached the other replica"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        latencies.push(written.elapsed());
    }
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99).div_ceil(100) - 1];
    eprintln!(
        "propagation p50 {:?}, p99 {:?}",
        latencies[latencies.len() / 2],
        p99
    );
    assert!(p99 < Duration::from_millis(100), "p99 {p99:?}");
}

#[tokio::test]
async fn replicas_replaying_every_kind_of_write_hold_what_the_writer_holds() {
    let Some(a) = primary().await else { return };
    let follower = a.replica("follower").await;
    let mut stopped = a.replica("stopped").await;
    stopped.stop().await;

    // Every kind of write the API makes.
    let account = a.account();
    let acc = format!("/iam/v1/accounts/{account}");
    let repo = format!("/iam/v1/repo/account/{account}");
    let (policy, group, _) = grant(&a, "carol@example.com").await;
    let boundary = a
        .post(
            &format!("{repo}/boundaries"),
            json!({ "name": "b", "boundaryQuery": "settings:schemaId startsWith \"builtin:\"" }),
        )
        .await;
    let boundary = boundary.body["uuid"].as_str().unwrap().to_owned();
    a.put(
        &format!("{repo}/bindings/{policy}/{group}"),
        json!({ "boundaries": [boundary] }),
    )
    .await;
    a.put(&format!("{repo}/policies/{policy}"), json!({ "name": "p-carol", "statementQuery": "ALLOW settings:objects:read, settings:schemas:read;" })).await;
    let service = a
        .post(
            &format!("{acc}/service-users"),
            json!({ "name": "Replica Bot", "purpose": "tests" }),
        )
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{}", service.body);
    let uid = service.body["uid"].as_str().unwrap().to_owned();
    let client = a
        .post(
            &format!("{acc}/oauth-clients"),
            json!({ "name": "c", "owner": uid, "scopes": ["settings:objects:read"] }),
        )
        .await;
    assert_eq!(client.status, StatusCode::CREATED, "{}", client.body);
    a.post(
        &format!("{acc}/service-users/{uid}/deactivate"),
        json!({ "reason": "paused" }),
    )
    .await;
    let workflow = a
        .post(
            "/automation/v1/workflows",
            json!({ "title": "w", "environment": "env-prod" }),
        )
        .await;
    assert_eq!(workflow.status, StatusCode::CREATED, "{}", workflow.body);
    a.put(
        "/automation/v1/authorization-settings",
        json!({ "environment": "env-prod", "permissions": ["settings:objects:read"] }),
    )
    .await;
    let service_toml = "[service]\nname = \"shop\"\n[conditions.\"shop:region\"]\noperators = [\"=\"]\n[[permissions]]\nname = \"shop:orders:read\"\nconditions = [\"shop:region\"]\n";
    let file = warden_policy::ServiceFile::from_toml("shop.toml", service_toml).unwrap();
    let registered = a
        .post(
            "/iam/v1/catalogue/services",
            serde_json::to_value(&file).unwrap(),
        )
        .await;
    assert_eq!(
        registered.status,
        StatusCode::CREATED,
        "{}",
        registered.body
    );
    let mapped = a
        .put(
            &format!("{acc}/authzen"),
            json!({ "actions": { "can_read_orders": "shop:orders:read" }, "resource_properties": { "region": "shop:region" } }),
        )
        .await;
    assert_eq!(mapped.status, StatusCode::OK, "{}", mapped.body);
    a.delete(&format!("{acc}/groups/{group}")).await;
    let revision = a.get("/health").await.body["revision"].as_i64().unwrap();

    // The follower replays the change log; the restarted one loads and then replays.
    follower.state.catch_up().await.unwrap();
    let restarted = a.replica("restarted").await;
    restarted.state.catch_up().await.unwrap();
    let writer = a.state.model.lock().await.fingerprint();
    assert_eq!(
        follower.get("/health").await.body["revision"].as_i64(),
        Some(revision)
    );
    assert_eq!(
        follower.state.model.lock().await.fingerprint(),
        writer,
        "the follower's replay diverged"
    );
    assert_eq!(
        restarted.state.model.lock().await.fingerprint(),
        writer,
        "the restarted replica diverged"
    );
    assert_eq!(
        decide(&follower, "carol@example.com", Some(revision)).await["decision"],
        "DENY",
        "the group was deleted"
    );
}

#[tokio::test]
async fn store_outage_serves_stale_then_refuses_then_recovers() {
    let Some(a) = primary().await else { return };
    let (_, _, _) = grant(&a, "dave@example.com").await;
    assert_eq!(decide(&a, "dave@example.com", None).await["stale"], false);

    // Cut every connection of this database, and keep new ones out.
    let db = a.config.db.rsplit('/').next().unwrap().to_owned();
    let admin = warden_store::Store::open(&std::env::var("WARDEN_TEST_POSTGRES_URL").unwrap())
        .await
        .unwrap();
    admin
        .execute_raw(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute_raw(format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
        ))
        .await
        .unwrap();

    // Writes fail with 503; decisions come from the last snapshot, marked stale.
    let write = a
        .post(
            &format!("/iam/v1/accounts/{}/groups", a.account()),
            json!([{ "name": "during-outage" }]),
        )
        .await;
    assert_eq!(
        write.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        write.body
    );
    a.clock.advance(5_000);
    let _ = a.state.catch_up().await;
    let stale = decide(&a, "dave@example.com", None).await;
    assert_eq!(
        (stale["decision"].as_str(), stale["stale"].as_bool()),
        (Some("ALLOW"), Some(true)),
        "{stale}"
    );
    // Beyond the bound, decisions are refused.
    a.clock.advance(60_000);
    let refused = a
        .post(
            "/iam/v1/authorize",
            json!({ "principal": "dave@example.com", "permission": "settings:objects:read" }),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );

    // The store comes back: recovery is automatic.
    admin
        .execute_raw(format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        if a.state.catch_up().await.is_ok() {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(recovered, "catch-up never succeeded again");
    let fresh = decide(&a, "dave@example.com", None).await;
    assert_eq!(
        (fresh["decision"].as_str(), fresh["stale"].as_bool()),
        (Some("ALLOW"), Some(false)),
        "{fresh}"
    );
    assert_eq!(
        a.post(
            &format!("/iam/v1/accounts/{}/groups", a.account()),
            json!([{ "name": "after-outage" }])
        )
        .await
        .status,
        StatusCode::CREATED
    );
}

/// A batch is one revision of the change log: another replica replays all of its writes at once,
/// and a batch after another replica's write is planned on that write.
#[tokio::test]
async fn a_batch_is_replayed_whole_on_another_replica() {
    let Some(a) = primary().await else { return };
    let b = a.replica("b").await;
    let account = a.account();
    let batch = |name: &str| {
        json!({ "writes": [
            { "write": "putPolicy", "name": format!("p-{name}"), "statementQuery": "ALLOW settings:objects:read;" },
            { "write": "createGroup", "name": format!("g-{name}") },
            { "write": "bind", "group": format!("g-{name}"), "policy": format!("p-{name}"), "bindings": [{}] },
            { "write": "createUser", "email": format!("{name}@example.com"), "groups": [format!("g-{name}")] },
        ]})
    };
    let applied = a
        .post(&format!("/iam/v1/accounts/{account}/batch"), batch("carol"))
        .await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    let on_b = decide(&b, "carol@example.com", applied.revision).await;
    assert_eq!(on_b["decision"], "ALLOW", "{on_b}");
    assert_eq!(on_b["revision"], applied.body["revision"]);

    // B writes; A's next batch is planned after catching up, so it goes through; the store's
    // chain holds a batch revision with several entries.
    grant(&b, "dave@example.com").await;
    let second = a
        .post(&format!("/iam/v1/accounts/{account}/batch"), batch("erin"))
        .await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let verification = a.state.store.verify_audit().await.unwrap();
    assert_eq!(verification.problem, None);
    let on_b = decide(&b, "erin@example.com", second.revision).await;
    assert_eq!(on_b["decision"], "ALLOW", "{on_b}");
}
