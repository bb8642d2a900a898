//! The service-user review report over HTTP: every finding on a world built through the API, on
//! the manual clock, compared whole (ids, random by design, replaced by names).

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::credentials::{acc, client, mint};

const DAY_MS: i64 = 86_400_000;

/// `text` with each id replaced by its label.
fn redact(value: &Value, ids: &[(String, String)]) -> Value {
    let mut text = value.to_string();
    for (id, label) in ids {
        text = text.replace(id.as_str(), label);
    }
    serde_json::from_str(&text).unwrap()
}

async fn created(server: &TestServer, path: &str, body: Value) -> Value {
    let reply = server.post(path, body).await;
    assert!(reply.status.is_success(), "{path}: {}", reply.body);
    reply.body
}

#[tokio::test]
async fn the_review_names_every_finding() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let repo = format!("/iam/v1/repo/account/{}", server.account());
    let mut ids: Vec<(String, String)> = Vec::new();
    let mut label = |id: &str, name: &str| ids.push((id.to_owned(), format!("<{name}>")));

    let groups = created(
        &server,
        &format!("{acc}/groups"),
        json!([{ "name": "Deployers" }, { "name": "Legacy Ops" }, { "name": "Blocked" }, { "name": "Automation" }, { "name": "Grafana owners" }]),
    )
    .await;
    let group = |i: usize| groups[i]["uuid"].as_str().unwrap().to_owned();
    for (i, name) in [
        "deployers",
        "legacy-ops",
        "blocked",
        "automation",
        "grafana-owners",
    ]
    .iter()
    .enumerate()
    {
        label(&group(i), name);
    }
    for (name, text, to) in [
        ("Read logs", "ALLOW storage:logs:read;", group(0)),
        ("Read groups", "ALLOW iam:groups:read;", group(1)),
        ("No settings", "DENY settings:objects:write;", group(2)),
        (
            "Workflows",
            "ALLOW automation:workflows:read, automation:workflows:write, automation:workflows:run;",
            group(3),
        ),
    ] {
        let policy = created(
            &server,
            &format!("{repo}/policies"),
            json!({ "name": name, "statementQuery": text }),
        )
        .await;
        let uuid = policy["uuid"].as_str().unwrap();
        let bound = server
            .post(&format!("{repo}/bindings/{uuid}/{to}"), json!({}))
            .await;
        assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    }
    let alice = created(
        &server,
        &format!("{acc}/users"),
        json!({ "email": "alice@example.com" }),
    )
    .await;
    let alice = alice["uid"].as_str().unwrap().to_owned();
    label(&alice, "alice");
    created(
        &server,
        &format!("{acc}/users"),
        json!({ "email": "bob@example.com" }),
    )
    .await;
    server
        .post(&format!("{acc}/users/alice@example.com"), json!([group(3)]))
        .await;

    let gitlab = created(
        &server,
        &format!("{acc}/service-users"),
        json!({ "name": "GitLab deploy pipeline", "purpose": "Deploys the shop", "owner": { "type": "USER", "id": "bob@example.com" } }),
    )
    .await;
    let grafana = created(
        &server,
        &format!("{acc}/service-users"),
        json!({ "name": "Grafana sync", "description": "Reads logs for the dashboards", "owner": { "type": "USER", "id": "alice@example.com" } }),
    )
    .await;
    let importer = created(
        &server,
        &format!("{acc}/service-users"),
        json!({ "name": "Old importer", "owner": { "type": "GROUP", "id": "Grafana owners" } }),
    )
    .await;
    let uid = |v: &Value| v["uid"].as_str().unwrap().to_owned();
    let (gitlab, grafana, importer) = (uid(&gitlab), uid(&grafana), uid(&importer));
    label(&gitlab, "gitlab");
    label(&grafana, "grafana");
    label(&importer, "importer");
    for (who, groups) in [
        (&gitlab, vec![group(0), group(1), group(2)]),
        (&grafana, vec![group(0)]),
    ] {
        let added = server
            .post(&format!("{acc}/users/{who}"), json!(groups))
            .await;
        assert!(added.status.is_success(), "{}", added.body);
    }
    let (client_id, secret) = client(&server, &gitlab, &["storage:logs:read"]).await;
    label(&client_id, "gitlab-client");
    let shown = server
        .get(&format!("{acc}/oauth-clients/{client_id}"))
        .await
        .body;
    label(shown["secrets"][0]["id"].as_str().unwrap(), "first-secret");
    let token = created(
        &server,
        &format!("{acc}/platform-tokens"),
        json!({ "name": "nightly", "scope": ["iam:groups:read"], "expirationDate": "2027-05-04T10:00:00Z", "userUuid": gitlab }),
    )
    .await;
    label(token["tokenId"].as_str().unwrap(), "nightly");

    // Workflows: one run by the administrator, one by alice, one by the importer.
    let weekly = created(
        &server,
        "/automation/v1/workflows",
        json!({ "title": "Weekly report", "environment": "env-prod" }),
    )
    .await;
    label(weekly["id"].as_str().unwrap(), "weekly");
    let alice_token = crate::journey::token_for(&server, &alice).await;
    let nightly = server
        .call_as(
            Some(&alice_token),
            Method::POST,
            "/automation/v1/workflows",
            Some(
                json!({ "title": "Nightly export", "environment": "env-prod", "isPrivate": false }),
            ),
        )
        .await;
    assert_eq!(nightly.status, StatusCode::CREATED, "{}", nightly.body);
    label(nightly.body["id"].as_str().unwrap(), "nightly-export");
    let cleanup = created(
        &server,
        "/automation/v1/workflows",
        json!({ "title": "Cleanup", "environment": "env-prod", "actor": importer }),
    )
    .await;
    label(cleanup["id"].as_str().unwrap(), "cleanup");
    created(
        &server,
        "/automation/v1/workflows",
        json!({ "title": "Deploy", "environment": "env-prod", "actor": gitlab }),
    )
    .await;

    // 100 days on, the client gets a second secret; 120 days on, the pipeline and Grafana read
    // logs, alice leaves and the importer is deactivated.
    server.clock.advance(100 * DAY_MS);
    let rotated = created(
        &server,
        &format!("{acc}/oauth-clients/{client_id}/secrets"),
        json!({}),
    )
    .await;
    label(rotated["secretId"].as_str().unwrap(), "second-secret");
    server.clock.advance(20 * DAY_MS);
    mint(&server, &client_id, &secret).await;
    for principal in [&gitlab, &grafana] {
        let decided = server
            .post(
                "/iam/v1/authorize",
                json!({ "principal": principal, "permission": "storage:logs:read" }),
            )
            .await;
        assert_eq!(decided.body["decision"], "ALLOW", "{}", decided.body);
    }
    assert_eq!(
        server
            .delete(&format!("{acc}/users/alice@example.com"))
            .await
            .status,
        StatusCode::OK
    );
    let deactivated = server
        .post(
            &format!("{acc}/service-users/{importer}/deactivate"),
            json!({ "reason": "replaced by the new importer" }),
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::OK, "{}", deactivated.body);
    server
        .post(&format!("{acc}/service-users/{gitlab}/review"), json!({}))
        .await;

    let report = server.get(&format!("{acc}/service-users/review")).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let expected = json!({
        "generatedAt": "2026-09-01T10:00:00Z",
        "unusedDays": 90,
        "unreviewedDays": 90,
        "rotationDays": 90,
        "serviceUsers": [
            {
                "uid": "<gitlab>",
                "name": "GitLab deploy pipeline",
                "handle": "gitlab_deploy_pipeline@service",
                "email": "<gitlab>@service.warden.local",
                "owner": { "type": "USER", "id": "<bob>", "name": "bob@example.com" },
                "active": true,
                "createdAt": "2026-05-04T10:00:00Z",
                "lastUsedAt": "2026-09-01T10:00:00Z",
                "lastReviewedAt": "2026-09-01T10:00:00Z",
                "findings": ["unused-permissions", "unused-membership", "rotation-due"],
                "unusedPermissions": ["iam:groups:read"],
                "unusedMemberships": [{ "uuid": "<legacy-ops>", "name": "Legacy Ops" }],
                "rotationDue": [
                    { "type": "client-secret", "id": "<first-secret>", "name": "pipeline", "clientId": "<gitlab-client>", "createdAt": "2026-05-04T10:00:00Z", "ageDays": 120 },
                    { "type": "platform-token", "id": "<nightly>", "name": "nightly", "clientId": null, "createdAt": "2026-05-04T10:00:00Z", "ageDays": 120 }
                ]
            },
            {
                "uid": "<grafana>",
                "name": "Grafana sync",
                "handle": "grafana_sync@service",
                "email": "<grafana>@service.warden.local",
                "owner": { "type": "USER", "id": "<alice>", "name": null },
                "active": true,
                "createdAt": "2026-05-04T10:00:00Z",
                "lastUsedAt": "2026-09-01T10:00:00Z",
                "lastReviewedAt": null,
                "findings": ["unreviewed", "owner-deactivated"],
                "unusedPermissions": [],
                "unusedMemberships": [],
                "rotationDue": []
            },
            {
                "uid": "<importer>",
                "name": "Old importer",
                "handle": "old_importer@service",
                "email": "<importer>@service.warden.local",
                "owner": { "type": "GROUP", "id": "<grafana-owners>", "name": "Grafana owners" },
                "active": false,
                "createdAt": "2026-05-04T10:00:00Z",
                "lastUsedAt": null,
                "lastReviewedAt": null,
                "findings": ["unused", "unreviewed", "owner-deactivated", "no-purpose"],
                "unusedPermissions": [],
                "unusedMemberships": [],
                "rotationDue": []
            }
        ],
        "workflows": [
            {
                "id": "<cleanup>",
                "title": "Cleanup",
                "environment": "env-prod",
                "actor": "<importer>",
                "actorEmail": "<importer>@service.warden.local",
                "actorHandle": "old_importer@service",
                "actorType": "SERVICE_USER",
                "actorActive": false,
                "findings": ["actor-deactivated"],
                "suggestion": "its tasks are refused while its actor is deactivated: give it a service user as its actor (`warden workflow update ID --actor SERVICE_USER`)"
            },
            {
                "id": "<nightly-export>",
                "title": "Nightly export",
                "environment": "env-prod",
                "actor": "<alice>",
                "actorEmail": null,
                "actorHandle": null,
                "actorType": null,
                "actorActive": false,
                "findings": ["workflows-run-by-person", "actor-deactivated"],
                "suggestion": "its tasks are refused while its actor is deactivated: give it a service user as its actor (`warden workflow update ID --actor SERVICE_USER`)"
            },
            {
                "id": "<weekly>",
                "title": "Weekly report",
                "environment": "env-prod",
                "actor": "<admin>",
                "actorEmail": "admin@warden.local",
                "actorHandle": null,
                "actorType": "USER",
                "actorActive": true,
                "findings": ["workflows-run-by-person"],
                "suggestion": "run it as a service user, so that it keeps running when people leave: `warden workflow update ID --actor SERVICE_USER`"
            }
        ]
    });
    let me = server.get("/iam/v1/me").await.body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = server
        .get(&format!("{acc}/users/bob@example.com"))
        .await
        .body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    ids.push((me, "<admin>".into()));
    ids.push((bob, "<bob>".into()));
    assert_eq!(redact(&report.body, &ids), expected);

    // A shorter rotation window flags the second secret too; a window out of range is refused.
    let short = server
        .get(&format!("{acc}/service-users/review?rotationDays=10"))
        .await;
    assert_eq!(
        short.body["serviceUsers"][0]["rotationDue"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let refused = server
        .get(&format!("{acc}/service-users/review?rotationDays=0"))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["error"]["message"],
        "`unusedDays`, `unreviewedDays` and `rotationDays` are 1–36500"
    );

    // The console shows the same: the report's page and the workflow list.
    let browser = crate::console_writes::Browser::sign_in(&server).await;
    let page = browser.get("/console/service-users/review").await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "unused-permissions, unused-membership, rotation-due",
        "unused-membership: Legacy Ops",
        "owner-deactivated: user ",
        "owner-deactivated: group Grafana owners",
        "<h2>Workflows run by a person</h2>",
        "workflows-run-by-person, actor-deactivated",
        "run it as a service user, so that it keeps running when people leave: `warden workflow update ID --actor SERVICE_USER`",
    ] {
        assert!(page.body.contains(shown), "{shown} not in {}", page.body);
    }
    let csv = browser
        .get("/console/service-users/review.csv?unusedDays=90&unreviewedDays=90&rotationDays=90")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let rows: Vec<&str> = csv.body.split("\r\n").collect();
    assert_eq!(
        rows[0],
        "type,id,name,handle,owner,finding,details,lastUsedAt,lastReviewedAt"
    );
    assert_eq!(rows.len(), 15, "13 findings, the header and the end");
    let own_page = browser
        .get(&format!("/console/service-users/{gitlab}"))
        .await;
    assert!(
        own_page
            .body
            .contains("<dt>Last used</dt><dd>2026-09-01T10:00:00Z</dd>"),
        "{}",
        own_page.body
    );
    let workflows = browser.get("/console/workflows").await;
    assert_eq!(workflows.status, StatusCode::OK);
    let body = &workflows.body;
    assert!(
        body.contains("2 of these run as a person and stop when that person is deactivated"),
        "{body}"
    );
    assert_eq!(
        body.matches(r#"<span class="badge neutral">person</span>"#)
            .count(),
        2
    );
    assert_eq!(
        body.matches(r#"<span class="badge bad">actor deactivated</span>"#)
            .count(),
        2,
        "Nightly export and Cleanup"
    );
}
