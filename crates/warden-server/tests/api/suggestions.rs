//! Least-privilege suggestions: the sample of allowed requests, the suggested policy (golden text
//! for a fixed scenario), and the replay — with the suggestion bound in place of the service
//! user's bindings, every observed request is still allowed and nothing unused is.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::credentials::{acc, grant, service_user, user_with};

/// `(permission, environment, attributes)` of one request.
type Asked = (String, Option<String>, Value);

async fn decide(server: &TestServer, principal: &str, asked: &Asked) -> String {
    let (permission, environment, attributes) = asked;
    let mut body =
        json!({ "principal": principal, "permission": permission, "attributes": attributes });
    if let Some(environment) = environment {
        body["environment"] = json!(environment);
    }
    let reply = server.post("/iam/v1/authorize", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["decision"].as_str().unwrap().to_owned()
}

fn asked(permission: &str, environment: Option<&str>, attributes: Value) -> Asked {
    (
        permission.to_owned(),
        environment.map(str::to_owned),
        attributes,
    )
}

/// Binds `policy` to the service user's own group `group` in place of its bindings `old` (the
/// service users here are in no other group): the switch the suggestion's impact describes.
async fn switch(server: &TestServer, uid: &str, group: &str, old: &[String], policy: &str) {
    let repo = format!("/iam/v1/repo/account/{}", server.account());
    let created = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "least privilege", "statementQuery": policy }),
        )
        .await;
    // Saving runs the same validator as `warden policy check`.
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let uuid = created.body["uuid"].as_str().unwrap();
    for old in old {
        let removed = server
            .delete(&format!("{repo}/bindings/{old}/{group}"))
            .await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    }
    let bound = server
        .post(&format!("{repo}/bindings/{uuid}/{group}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let groups = server
        .get(&format!("{}/service-users/{uid}", acc(server)))
        .await;
    assert_eq!(
        groups.body["groupUuid"], group,
        "its own group, and no other"
    );
}

#[tokio::test]
async fn the_suggestion_allows_every_observed_request_and_nothing_unused_on_sqlite() {
    the_suggestion_allows_every_observed_request_and_nothing_unused(&TestServer::start().await)
        .await;
}

#[tokio::test]
async fn the_suggestion_allows_every_observed_request_and_nothing_unused_on_postgres() {
    let Some(url) = TestServer::fresh_postgres().await else {
        // Run through scripts/with-postgres to cover PostgreSQL.
        return;
    };
    let dir = std::env::temp_dir().join(format!("warden-suggest-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = warden_server::Config {
        db: url,
        token_file: dir.join("admin-token"),
        environments: vec!["env-prod".into(), "env-dev".into()],
        ..warden_server::Config::default()
    };
    let server = TestServer::start_with(config, dir).await;
    the_suggestion_allows_every_observed_request_and_nothing_unused(&server).await;
}

async fn the_suggestion_allows_every_observed_request_and_nothing_unused(server: &TestServer) {
    let acc = acc(server);
    let created = service_user(server, "Log Shipper").await;
    let uid = created["uid"].as_str().unwrap().to_owned();
    let group = created["groupUuid"].as_str().unwrap().to_owned();
    let broad = grant(
        server,
        &group,
        "broad",
        "ALLOW storage:logs:read, storage:metrics:read, storage:buckets:read, storage:spans:read;",
    )
    .await;
    let token = "wdn_pt_0123abcd_ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut observed = vec![
        asked(
            "storage:logs:read",
            Some("env-prod"),
            json!({ "storage:bucket-name": "default_logs", "storage:host.name": "web-1" }),
        ),
        asked(
            "storage:logs:read",
            Some("env-prod"),
            json!({ "storage:bucket-name": ["default_logs", "audit_logs"], "storage:host.name": "web-2" }),
        ),
        // No host name: the host stays unrestricted.
        asked(
            "storage:logs:read",
            Some("env-dev"),
            json!({ "storage:bucket-name": "default_logs" }),
        ),
        // At account level: the environment stays unrestricted. A value the policy language
        // must escape.
        asked(
            "storage:buckets:read",
            None,
            json!({ "storage:table-name": "logs", "storage:bucket-name": "b\"q${x}" }),
        ),
    ];
    for i in 0..25 {
        // One host name is shaped like a token: never sampled, so the host is not restricted.
        let host = if i == 3 { token } else { "h" };
        observed.push(asked(
            "storage:metrics:read",
            Some("env-prod"),
            json!({ "storage:bucket-name": format!("m-{i:02}"), "storage:host.name": host }),
        ));
    }
    for request in &observed {
        assert_eq!(
            decide(server, "log_shipper@service", request).await,
            "ALLOW"
        );
    }
    // A DENY is not a use.
    let denied = asked("storage:events:read", Some("env-prod"), json!({}));
    assert_eq!(decide(server, &uid, &denied).await, "DENY");

    let reply = server
        .get(&format!(
            "{acc}/service-users/log_shipper@service/suggested-policy"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let policy = reply.body["policy"].as_str().unwrap();
    assert_eq!(
        policy,
        r#"// Least privilege for log_shipper@service: what its allowed requests of the last 90 days used.
ALLOW storage:buckets:read WHERE storage:table-name IN ("logs") AND storage:bucket-name IN ("b\"q\${x}");
ALLOW storage:logs:read WHERE storage:bucket-name IN ("audit_logs", "default_logs") AND global:environmentId IN ("env-dev", "env-prod");
// storage:metrics:read, `storage:bucket-name`: 25 values used, more than 20: restricted to their common prefix
// storage:metrics:read, `storage:host.name`: more values were used than are kept; not restricted
ALLOW storage:metrics:read WHERE storage:bucket-name startsWith "m-" AND global:environmentId IN ("env-prod");
"#
    );
    assert_eq!(
        reply.body["permissions"],
        json!([
            "storage:buckets:read",
            "storage:logs:read",
            "storage:metrics:read"
        ])
    );
    assert_eq!(reply.body["days"], 90);
    assert_eq!(reply.body["complete"], true);
    assert_eq!(reply.body["uid"], uid);
    assert_eq!(
        reply.body["diff"],
        json!({
            "kept": ["storage:buckets:read", "storage:logs:read", "storage:metrics:read"],
            "removed": ["storage:spans:read"],
            "added": [],
        })
    );
    let impact = &reply.body["impact"];
    assert_eq!(impact["affectedPrincipals"], 1, "{impact}");
    assert_eq!(impact["hiddenChanges"], 0, "{impact}");
    let changes: Vec<(String, String, String)> = impact["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["uid"], uid);
            (
                c["permission"].as_str().unwrap().to_owned(),
                c["level"].as_str().unwrap().to_owned(),
                c["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut expected = Vec::new();
    for level in ["account", "env-dev", "env-prod"] {
        for permission in [
            "storage:buckets:read",
            "storage:logs:read",
            "storage:metrics:read",
        ] {
            expected.push((permission.to_owned(), level.to_owned(), "loses".to_owned()));
        }
        expected.push((
            "storage:spans:read".to_owned(),
            level.to_owned(),
            "loses".to_owned(),
        ));
    }
    let mut sorted = changes.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "{impact}");
    assert_eq!(impact["totalChanges"], json!(expected.len()));

    // No credential is ever sampled.
    let samples = server.state.store.samples(&uid, 0).await.unwrap();
    assert!(
        samples.iter().all(|s| !s.value.contains("wdn_")),
        "{samples:?}"
    );

    // The switch: every observed request is still allowed, and nothing unused is.
    switch(server, &uid, &group, &[broad], policy).await;
    for request in &observed {
        assert_eq!(
            decide(server, &uid, request).await,
            "ALLOW",
            "{request:?} after the switch"
        );
    }
    for unused in [
        asked("storage:spans:read", Some("env-prod"), json!({})),
        asked(
            "storage:logs:read",
            Some("env-prod"),
            json!({ "storage:bucket-name": "other" }),
        ),
        asked(
            "storage:logs:read",
            None,
            json!({ "storage:bucket-name": "default_logs" }),
        ),
        asked(
            "storage:metrics:read",
            Some("env-dev"),
            json!({ "storage:bucket-name": "m-00" }),
        ),
    ] {
        assert_eq!(decide(server, &uid, &unused).await, "DENY", "{unused:?}");
    }
    // Suggested again after the switch: the same policy, nothing left to remove.
    let again = server
        .get(&format!(
            "{acc}/service-users/{uid}/suggested-policy?days=30"
        ))
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(
        again.body["policy"]
            .as_str()
            .unwrap()
            .replace("30 days", "90 days"),
        policy
    );
    assert_eq!(again.body["diff"]["removed"], json!([]));
    assert_eq!(again.body["impact"]["totalChanges"], 0);
}

#[tokio::test]
async fn the_window_the_caller_and_the_service_user_are_checked() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let created = service_user(&server, "Quiet One").await;
    let uid = created["uid"].as_str().unwrap().to_owned();
    let path = format!("{acc}/service-users/{uid}/suggested-policy");

    // Nothing used: a policy that grants nothing.
    let empty = server.get(&path).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(
        empty.body["policy"],
        "// Least privilege for quiet_one@service: what its allowed requests of the last 90 days used.\n"
    );
    assert_eq!(empty.body["permissions"], json!([]));

    // The window: a use ten days ago counts for 30 days, not for 5; beyond the retention it is
    // gone from the store.
    grant(
        &server,
        created["groupUuid"].as_str().unwrap(),
        "logs",
        "ALLOW storage:logs:read;",
    )
    .await;
    let used = asked("storage:logs:read", Some("env-prod"), json!({}));
    assert_eq!(decide(&server, &uid, &used).await, "ALLOW");
    server.clock.advance(10 * 86_400_000);
    let recent = server.get(&format!("{path}?days=5")).await;
    assert_eq!(recent.body["permissions"], json!([]), "{}", recent.body);
    assert_eq!(recent.body["diff"]["removed"], json!(["storage:logs:read"]));
    let month = server.get(&format!("{path}?days=30")).await;
    assert_eq!(month.body["permissions"], json!(["storage:logs:read"]));
    assert_eq!(
        month.body["policy"],
        "// Least privilege for quiet_one@service: what its allowed requests of the last 30 days used.\n\
         ALLOW storage:logs:read WHERE global:environmentId IN (\"env-prod\");\n"
    );
    server.clock.advance(81 * 86_400_000);
    server.state.flush_usage().await.unwrap();
    assert_eq!(server.state.store.samples(&uid, 0).await.unwrap(), vec![]);

    for days in ["0", "36501", "-1"] {
        let bad = server.get(&format!("{path}?days={days}")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{days}");
        assert_eq!(
            bad.body["error"]["message"],
            format!(
                "`days` is 1–36500, not {days}; leave it out for the 90 days the sample is kept"
            )
        );
    }
    let missing = server
        .get(&format!(
            "{acc}/service-users/nobody@service/suggested-policy"
        ))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);

    // Reading service users is not enough: the answer shows what it holds and used.
    let (_, reader) = user_with(
        &server,
        "reader@example.com",
        "ALLOW iam:service-users:read;",
    )
    .await;
    let refused = server
        .call_as(Some(&reader), Method::GET, &path, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        refused.body["error"]["message"],
        "permission `iam:effective-permissions:read` is required for this request"
    );
    let (_, nobody) = user_with(&server, "nobody@example.com", "ALLOW storage:logs:read;").await;
    let refused = server
        .call_as(Some(&nobody), Method::GET, &path, None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        refused.body["error"]["message"],
        "permission `iam:service-users:read` is required for this request"
    );
    // Allowed for this service user only: another one's suggestion stays closed.
    let other = service_user(&server, "Other One").await;
    let (_, delegated) = user_with(
        &server,
        "delegated@example.com",
        &format!(
            "ALLOW iam:service-users:read; ALLOW iam:effective-permissions:read WHERE iam-param:entity-id = \"{uid}\";"
        ),
    )
    .await;
    let mine = server
        .call_as(Some(&delegated), Method::GET, &path, None)
        .await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    let theirs = server
        .call_as(
            Some(&delegated),
            Method::GET,
            &format!(
                "{acc}/service-users/{}/suggested-policy",
                other["uid"].as_str().unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN, "{}", theirs.body);
}

/// A small deterministic generator (xorshift), so that a failure can be replayed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[tokio::test]
async fn random_observed_requests_are_all_allowed_after_the_switch() {
    const PERMISSIONS: [&str; 4] = [
        "storage:logs:read",
        "storage:buckets:read",
        "storage:events:read",
        "storage:spans:read",
    ];
    const ATTRIBUTES: [&str; 4] = [
        "storage:bucket-name",
        "storage:table-name",
        "storage:host.name",
        "storage:dt.security_context",
    ];
    const VALUES: [&str; 6] = ["a", "ab", "abc", "b", "x\\y", "$"];
    for seed in 1..=4u64 {
        let server = TestServer::start().await;
        let created = service_user(&server, "Random").await;
        let uid = created["uid"].as_str().unwrap().to_owned();
        let group = created["groupUuid"].as_str().unwrap().to_owned();
        let broad = grant(
            &server,
            &group,
            "broad",
            &format!("ALLOW {};", PERMISSIONS.join(", ")),
        )
        .await;
        let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut observed = Vec::new();
        // Only some of the permissions, so that unused ones are dropped.
        let used = 1 + random.below(PERMISSIONS.len() - 1);
        for _ in 0..40 {
            let permission = PERMISSIONS[random.below(used)];
            let environment = match random.below(4) {
                0 => None,
                1 => Some("env-dev"),
                _ => Some("env-prod"),
            };
            let mut attributes = serde_json::Map::new();
            for name in ATTRIBUTES {
                match random.below(4) {
                    0 => {}
                    1 => {
                        let list: Vec<&str> = (0..random.below(3))
                            .map(|_| VALUES[random.below(VALUES.len())])
                            .collect();
                        attributes.insert(name.to_owned(), json!(list));
                    }
                    _ => {
                        attributes
                            .insert(name.to_owned(), json!(VALUES[random.below(VALUES.len())]));
                    }
                }
            }
            let request = asked(permission, environment, Value::Object(attributes));
            assert_eq!(decide(&server, &uid, &request).await, "ALLOW");
            observed.push(request);
        }
        let reply = server
            .get(&format!(
                "{}/service-users/{uid}/suggested-policy",
                acc(&server)
            ))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let mut expected: Vec<&str> = observed.iter().map(|(p, _, _)| p.as_str()).collect();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(reply.body["permissions"], json!(expected), "seed {seed}");
        let policy = reply.body["policy"].as_str().unwrap();
        switch(&server, &uid, &group, &[broad], policy).await;
        for request in &observed {
            assert_eq!(
                decide(&server, &uid, request).await,
                "ALLOW",
                "seed {seed}: {request:?} under\n{policy}"
            );
        }
        for permission in PERMISSIONS.iter().filter(|p| !expected.contains(p)) {
            let unused = asked(permission, Some("env-prod"), json!({}));
            assert_eq!(decide(&server, &uid, &unused).await, "DENY", "seed {seed}");
        }
    }
}

#[tokio::test]
async fn the_console_shows_the_suggestion_escaped() {
    let server = TestServer::start().await;
    let created = service_user(&server, "Console One").await;
    let uid = created["uid"].as_str().unwrap().to_owned();
    let group = created["groupUuid"].as_str().unwrap().to_owned();
    grant(
        &server,
        &group,
        "broad",
        "ALLOW storage:logs:read, storage:spans:read;",
    )
    .await;
    let request = asked(
        "storage:logs:read",
        Some("env-prod"),
        json!({ "storage:bucket-name": "<script>x</script>" }),
    );
    assert_eq!(decide(&server, &uid, &request).await, "ALLOW");
    let browser = crate::console_writes::Browser::sign_in(&server).await;
    let page = browser.get(&format!("/console/service-users/{uid}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("/console/service-users/{uid}/least-privilege"))
    );
    let page = browser
        .get(&format!(
            "/console/service-users/{uid}/least-privilege?days=7"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(
            "<pre data-suggested-policy>// Least privilege for console_one@service: what its allowed requests of the last 7 days used.\n\
             ALLOW storage:logs:read WHERE storage:bucket-name IN (&quot;&lt;script&gt;x&lt;/script&gt;&quot;) AND global:environmentId IN (&quot;env-prod&quot;);\n</pre>"
        ),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>x"));
    assert!(page.body.contains("removed (unused)"));
    assert!(page.body.contains("data-impact=\"6\""), "{}", page.body);
}

#[tokio::test]
async fn calls_to_wardens_own_api_are_use_too() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let created = service_user(&server, "Directory Reader").await;
    let uid = created["uid"].as_str().unwrap().to_owned();
    let group = created["groupUuid"].as_str().unwrap().to_owned();
    let broad = grant(
        &server,
        &group,
        "broad",
        "ALLOW iam:groups:read, iam:users:read;",
    )
    .await;
    let (id, secret) = crate::credentials::client(
        &server,
        "directory_reader@service",
        &["iam:groups:read", "iam:users:read"],
    )
    .await;
    let token = crate::credentials::mint(&server, &id, &secret).await;
    let groups = format!("{acc}/groups");
    let listed = crate::credentials::get_as(&server, &token, &groups).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);

    let reply = server
        .get(&format!("{acc}/service-users/{uid}/suggested-policy"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["permissions"], json!(["iam:groups:read"]));
    assert_eq!(reply.body["diff"]["removed"], json!(["iam:users:read"]));
    let policy = reply.body["policy"].as_str().unwrap();
    switch(&server, &uid, &group, &[broad], policy).await;
    let again = crate::credentials::get_as(&server, &token, &groups).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    let users = crate::credentials::get_as(&server, &token, &format!("{acc}/users")).await;
    assert_eq!(users.status, StatusCode::FORBIDDEN, "{}", users.body);
}

#[tokio::test]
async fn requests_not_sampled_are_said_so() {
    let server = TestServer::start().await;
    let created = service_user(&server, "Busy One").await;
    let uid = created["uid"].as_str().unwrap().to_owned();
    let path = format!("{}/service-users/{uid}/suggested-policy", acc(&server));
    let lost = |principal: &str| warden_store::UsageSample {
        principal: principal.to_owned(),
        permission: "*".into(),
        kind: warden_store::SampleKind::Capped,
        name: "*".into(),
        value: String::new(),
        last_seen: crate::common::START_MS,
    };
    let expected = "// Least privilege for busy_one@service: what its allowed requests of the last 90 days used.\n\
         // Some requests of this window were not sampled (the server held more than it may between two writes): this policy may not allow them.\n";
    for principal in [uid.as_str(), "*"] {
        server
            .state
            .store
            .execute_raw("DELETE FROM usage_samples".into())
            .await
            .unwrap();
        server
            .state
            .store
            .add_samples(&[lost(principal)], 100, 0)
            .await
            .unwrap();
        let reply = server.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body["complete"], false, "{principal}");
        assert_eq!(reply.body["policy"], expected, "{principal}");
        assert_eq!(reply.body["permissions"], json!([]));
    }
}
