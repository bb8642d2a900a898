//! Complete records: the reason of every change to a service user is kept in the audit log, and its
//! history — its own changes, its memberships, the bindings of the groups it is in — is read back
//! field by field with who, when and why.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::console_writes::Browser;
use crate::credentials::{acc, user_with};

const AT: &str = "2026-05-04T10:00:00Z";

/// The records of a history page as `[action, changes, reason]`, changes as `field: old → new`.
fn summary(page: &Value) -> Vec<Value> {
    page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let changes: Vec<String> = r["changes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    format!(
                        "{}: {} → {}",
                        c["field"].as_str().unwrap(),
                        c["old"].as_str().unwrap_or("-"),
                        c["new"].as_str().unwrap_or("-")
                    )
                })
                .collect();
            json!([r["action"], changes, r["reason"]])
        })
        .collect()
}

#[tokio::test]
async fn every_change_keeps_its_reason_and_the_history_shows_it() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let account = server.account();
    let repo = format!("/iam/v1/repo/account/{account}");
    let me = server.get("/iam/v1/me").await.body;
    let admin = me["uid"].as_str().unwrap().to_owned();
    let ann = server
        .post(
            &format!("{acc}/users"),
            json!({ "email": "ann@example.com" }),
        )
        .await;
    assert_eq!(ann.status, StatusCode::CREATED);

    // Created with a reason: the audit entry keeps it beside the fields.
    let created = server
        .post(
            &format!("{acc}/service-users"),
            json!({ "name": "GitLab deploy pipeline", "purpose": "deploys", "reason": "OPS-1 new pipeline" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let su = format!("{acc}/service-users/gitlab_deploy_pipeline@service");
    let own_name = "gitlab_deploy_pipeline@service (service user)";
    let log = server
        .get(&format!("{acc}/audit-log?action=service-user.create"))
        .await;
    assert_eq!(
        log.body["entries"][0]["after"]["reason"],
        "OPS-1 new pipeline"
    );
    assert!(created.body.get("reason").is_none(), "not a field of it");

    // An update and an owner transfer, each with its reason.
    let updated = server
        .put(
            &su,
            json!({ "description": "GitLab CI", "purpose": "deploys to prod", "reason": "OPS-2 prod too" }),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    let transferred = server
        .put(
            &su,
            json!({ "owner": { "type": "USER", "id": "ann@example.com" }, "reason": "Ann runs deployments now" }),
        )
        .await;
    assert_eq!(transferred.status, StatusCode::OK, "{}", transferred.body);

    // Its scope: it joins `ops`, a binding is added to `ops` and removed.
    let ops = server
        .post(&format!("{acc}/groups"), json!([{ "name": "ops" }]))
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let joined = server
        .post(
            &format!("{acc}/users/gitlab_deploy_pipeline@service"),
            json!([ops]),
        )
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let writer = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "Settings writer", "statementQuery": "ALLOW settings:objects:write;" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let bound = server
        .post(&format!("{repo}/bindings/{writer}/{ops}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let unbound = server
        .delete(&format!("{repo}/bindings/{writer}/{ops}"))
        .await;
    assert_eq!(unbound.status, StatusCode::NO_CONTENT, "{}", unbound.body);
    // A binding to a group it is not in is not its history.
    let other = server
        .post(&format!("{acc}/groups"), json!([{ "name": "other" }]))
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let bound = server
        .post(&format!("{repo}/bindings/{writer}/{other}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);

    // Deactivation needs its reason; reactivation and a review take one.
    let no_reason = server
        .post(&format!("{su}/deactivate"), json!({ "reason": " " }))
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_reason.body["error"]["message"],
        "`reason` must not be empty"
    );
    let long = server
        .post(
            &format!("{su}/reactivate"),
            json!({ "reason": "x".repeat(501) }),
        )
        .await;
    assert_eq!(long.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        long.body["error"]["message"],
        "`reason` is 501 characters long; at most 500 are allowed"
    );
    let unknown = server
        .post(&format!("{su}/reactivate"), json!({ "why": "x" }))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let off = server
        .post(
            &format!("{su}/deactivate"),
            json!({ "reason": "pipeline paused" }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    let on = server
        .post(
            &format!("{su}/reactivate"),
            json!({ "reason": "pipeline resumed" }),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    let reviewed = server
        .post(
            &format!("{su}/review"),
            json!({ "note": "owner confirmed" }),
        )
        .await;
    assert_eq!(reviewed.status, StatusCode::OK, "{}", reviewed.body);

    let history = server.get(&format!("{su}/history")).await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    let binding = format!("policy `Settings writer` to group `ops` at account `{account}`");
    assert_eq!(
        summary(&history.body),
        [
            json!([
                "service-user.create",
                [
                    "name: - → GitLab deploy pipeline",
                    "purpose: - → deploys",
                    "status: - → active"
                ],
                "OPS-1 new pipeline"
            ]),
            json!([
                "service-user.update",
                [
                    "description: - → GitLab CI",
                    "purpose: deploys → deploys to prod"
                ],
                "OPS-2 prod too"
            ]),
            json!([
                "service-user.update",
                ["owner: - → user ann@example.com"],
                "Ann runs deployments now"
            ]),
            json!([
                "user.memberships",
                [format!("groups: {own_name} → {own_name}, ops")],
                null
            ]),
            json!(["binding.create", [format!("binding: - → {binding}")], null]),
            json!(["binding.delete", [format!("binding: {binding} → -")], null]),
            json!([
                "service-user.deactivate",
                ["status: active → deactivated"],
                "pipeline paused"
            ]),
            json!([
                "service-user.reactivate",
                ["status: deactivated → active"],
                "pipeline resumed"
            ]),
            json!([
                "service-user.review",
                [format!("reviewed: - → {AT}")],
                "owner confirmed"
            ]),
        ]
    );
    let first = &history.body["records"][0];
    assert_eq!(first["actor"], admin.as_str());
    assert_eq!(first["actorName"], "admin@warden.local");
    assert_eq!(first["at"], AT);
    assert_eq!(history.body["nextAfterSeq"], Value::Null);
    assert_eq!(history.body["uid"], created.body["uid"]);

    // Paged like the audit log.
    let page = server.get(&format!("{su}/history?limit=4")).await;
    assert_eq!(page.body["records"].as_array().unwrap().len(), 4);
    let next = page.body["nextAfterSeq"].as_i64().unwrap();
    assert_eq!(next, page.body["records"][3]["seq"].as_i64().unwrap());
    let rest = server
        .get(&format!("{su}/history?limit=100&afterSeq={next}"))
        .await;
    assert_eq!(summary(&rest.body), summary(&history.body)[4..]);
    for bad in ["limit=0", "limit=1001", "size=3"] {
        let refused = server.get(&format!("{su}/history?{bad}")).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let missing = server
        .get(&format!("{acc}/service-users/nobody@service/history"))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // A history is audit content: reading service users is not enough.
    let (_, reader) = user_with(
        &server,
        "reader@example.com",
        "ALLOW iam:service-users:read;",
    )
    .await;
    let refused = server
        .call_as(Some(&reader), Method::GET, &format!("{su}/history"), None)
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        refused.body["error"]["details"]["permission"],
        "iam:audit:read"
    );
}

#[tokio::test]
async fn a_justified_elevation_shows_its_justification_in_the_history() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let repo = format!("/iam/v1/repo/account/{}", server.account());
    let created = server
        .post(
            &format!("{acc}/service-users"),
            json!({ "name": "Backup exporter" }),
        )
        .await;
    let own = created.body["groupUuid"].as_str().unwrap().to_owned();
    let writer = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "Token writer", "statementQuery": "ALLOW iam:tokens:write;" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let bound = server
        .post(
            &format!("{repo}/bindings/{writer}/{own}"),
            json!({ "metadata": { "justification": "rotates its own tokens" } }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let history = server
        .get(&format!(
            "{acc}/service-users/backup_exporter@service/history"
        ))
        .await;
    let last = summary(&history.body).pop().unwrap();
    assert_eq!(
        last,
        json!([
            "binding.create",
            [format!(
                "binding: - → policy `Token writer` to group `backup_exporter@service (service user)` at account `{}`",
                server.account()
            )],
            "rotates its own tokens"
        ])
    );
}

#[tokio::test]
async fn the_console_takes_reasons_and_shows_the_history_tab() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let browser = Browser::sign_in(&server).await;
    let made = browser
        .post(
            "/console/service-users",
            &[
                ("name", "GitLab deploy pipeline"),
                ("description", ""),
                ("owner-type", ""),
                ("owner", ""),
                ("purpose", "deploys"),
                ("reason", "OPS-1 new pipeline"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let su = server
        .get(&format!(
            "{acc}/service-users/gitlab_deploy_pipeline@service"
        ))
        .await
        .body;
    let uid = su["uid"].as_str().unwrap().to_owned();
    let page = format!("/console/service-users/{uid}");
    let edited = browser
        .post(
            &page,
            &[
                ("name", "GitLab deploy pipeline"),
                ("description", "GitLab CI"),
                ("owner-type", ""),
                ("owner", ""),
                ("purpose", "deploys"),
                ("reason", "OPS-2 described"),
            ],
        )
        .await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let deactivated = browser
        .post(
            &format!("{page}/lifecycle"),
            &[("action", "deactivate"), ("reason", "paused")],
        )
        .await;
    assert_eq!(deactivated.status, StatusCode::SEE_OTHER);
    let reactivated = browser
        .post(
            &format!("{page}/lifecycle"),
            &[("action", "reactivate"), ("reason", "resumed")],
        )
        .await;
    assert_eq!(reactivated.status, StatusCode::SEE_OTHER);

    // The edit page links the History tab; the tab lists the records with who and why.
    let details = browser.get(&page).await;
    assert!(
        details.body.contains(&format!("href=\"{page}/history\"")),
        "{}",
        details.body
    );
    let tab = browser.get(&format!("{page}/history")).await;
    assert_eq!(tab.status, StatusCode::OK, "{}", tab.body);
    for shown in [
        "History of service user GitLab deploy pipeline",
        "service-user.create",
        "OPS-1 new pipeline",
        "description</code>: — → GitLab CI",
        "OPS-2 described",
        "status</code>: active → deactivated",
        "paused",
        "status</code>: deactivated → active",
        "resumed",
        "admin@warden.local",
    ] {
        assert!(tab.body.contains(shown), "{shown}: {}", tab.body);
    }
    let history = server
        .get(&format!("{acc}/service-users/{uid}/history"))
        .await;
    assert_eq!(
        summary(&history.body)
            .iter()
            .map(|r| r[2].clone())
            .collect::<Vec<_>>(),
        [
            json!("OPS-1 new pipeline"),
            json!("OPS-2 described"),
            json!("paused"),
            json!("resumed")
        ]
    );
}

#[tokio::test]
async fn the_typed_client_reads_a_history_and_justifies_a_membership() {
    use warden_api::service_users::HistoryQuery;
    let server = TestServer::start().await;
    let account = server.account();
    let acc = acc(&server);
    let repo = format!("/iam/v1/repo/account/{account}");
    let api = server.api.with_token(Some(&server.token));
    let ops = server
        .post(&format!("{acc}/groups"), json!([{ "name": "ops" }]))
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let writer = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "Group writer", "statementQuery": "ALLOW iam:groups:write;" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let bound = server
        .post(&format!("{repo}/bindings/{writer}/{ops}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT);
    server
        .post(
            &format!("{acc}/service-users"),
            json!({ "name": "Backup exporter" }),
        )
        .await;
    let key = "backup_exporter@service";
    let refused = api
        .add_user_to_groups(&account, key, std::slice::from_ref(&ops))
        .await;
    assert!(refused.is_err());
    let joined = api
        .add_user_to_groups_justified(&account, key, std::slice::from_ref(&ops), "rota")
        .await
        .unwrap();
    assert_eq!(joined.status, StatusCode::CREATED);
    let page = api
        .service_user_history(
            &account,
            key,
            &HistoryQuery {
                after_seq: None,
                limit: Some(1),
            },
        )
        .await
        .unwrap()
        .body;
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].action, "service-user.create");
    let rest = api
        .service_user_history(
            &account,
            key,
            &HistoryQuery {
                after_seq: page.next_after_seq,
                limit: None,
            },
        )
        .await
        .unwrap()
        .body;
    assert_eq!(rest.records.len(), 1);
    assert_eq!(rest.records[0].action, "user.memberships");
    assert_eq!(rest.records[0].reason.as_deref(), Some("rota"));
    assert_eq!(rest.next_after_seq, None);
}
