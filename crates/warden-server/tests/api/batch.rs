//! `POST …/batch`: several writes as one revision or none. Each test reads the store itself
//! (revision, audit log, chain) to show what was and was not written, and attacks the batch as a
//! delegated administrator would: a batch gets no more than the same writes sent one by one.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};
use warden_store::AuditFilter;

use crate::common::{Reply, TestServer};
use crate::credentials::{acc, user_with};

fn batch_path(server: &TestServer) -> String {
    format!("{}/batch", acc(server))
}

async fn batch_as(server: &TestServer, token: Option<&str>, writes: Value) -> Reply {
    server
        .call_as(
            token,
            Method::POST,
            &batch_path(server),
            Some(json!({ "writes": writes })),
        )
        .await
}

/// The store's revision and the audit log's length; the chain must verify.
async fn stored(server: &TestServer) -> (i64, i64) {
    let verification = server.state.store.verify_audit().await.unwrap();
    assert_eq!(verification.problem, None, "the audit chain verifies");
    (
        server.state.store.revision().await.unwrap(),
        verification.entries,
    )
}

async fn group_names(server: &TestServer) -> Vec<String> {
    let reply = server.get(&format!("{}/groups", acc(server))).await;
    let mut names: Vec<String> = reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// `storage:logs:read` for `principal` on `bucket`, in `environment` (at account level when
/// empty).
async fn decision(server: &TestServer, principal: &str, environment: &str, bucket: &str) -> Value {
    let mut body = json!({
        "principal": principal,
        "permission": "storage:logs:read",
        "attributes": { "storage:bucket-name": bucket },
    });
    if !environment.is_empty() {
        body["environment"] = json!(environment);
    }
    let reply = server.post("/iam/v1/authorize", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["decision"].clone()
}

/// Everything a world file makes, named by name, in one revision: the later writes use what the
/// earlier ones created.
fn world_writes() -> Value {
    json!([
        { "write": "createEnvironment", "id": "env-batch" },
        { "write": "putBoundary", "name": "team logs", "boundaryQuery": "storage:bucket-name startsWith \"team_\";" },
        { "write": "putPolicy", "name": "log reader", "statementQuery": "ALLOW storage:logs:read;" },
        { "write": "createGroup", "name": "readers" },
        { "write": "bind", "group": "Readers", "policy": "LOG READER", "environment": "env-batch",
          "bindings": [{ "boundaries": ["team logs"] }] },
        { "write": "createUser", "email": "bee@example.com", "groups": ["readers"] },
        { "write": "createServiceUser", "name": "log shipper", "groups": ["readers"] },
    ])
}

#[tokio::test]
async fn a_batch_is_one_revision_with_an_audit_entry_per_write() {
    let server = TestServer::start().await;
    let (revision, entries) = stored(&server).await;
    let reply = batch_as(&server, Some(&server.token), world_writes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["revision"], revision + 1);
    assert_eq!(reply.revision, Some(revision + 1));
    assert_eq!(reply.body["dryRun"], false);
    let kinds: Vec<&str> = reply.body["writes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["write"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "createEnvironment",
            "putBoundary",
            "putPolicy",
            "createGroup",
            "bind",
            "createUser",
            "createServiceUser"
        ]
    );
    assert_eq!(reply.body["writes"][0]["id"], "env-batch");

    // One revision; an audit entry per use case run (a user created, then given its groups,
    // is two), all of that revision, the chain intact.
    let (after, after_entries) = stored(&server).await;
    assert_eq!(after, revision + 1);
    let log = server
        .state
        .store
        .audit(&AuditFilter {
            after_seq: Some(entries),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "environment.create",
            "boundary.create",
            "policy.create",
            "group.create",
            "binding.create",
            "user.create",
            "user.memberships",
            "service-user.create",
            "user.memberships",
        ]
    );
    assert_eq!(after_entries, entries + 9);
    assert!(log.iter().all(|e| e.revision == revision + 1));

    // The access is what the writes say, at once.
    assert_eq!(
        decision(&server, "bee@example.com", "env-batch", "team_a").await,
        "ALLOW"
    );
    assert_eq!(
        decision(&server, "bee@example.com", "env-batch", "other").await,
        "DENY"
    );
    // …and what a restart reads back from the store.
    let server = server.restart().await;
    assert_eq!(
        decision(&server, "bee@example.com", "env-batch", "team_a").await,
        "ALLOW"
    );
    assert_eq!(stored(&server).await, (after, after_entries));
}

#[tokio::test]
async fn a_refused_write_leaves_the_store_as_it_was() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let groups = group_names(&server).await;
    let reply = batch_as(
        &server,
        Some(&server.token),
        json!([
            { "write": "createGroup", "name": "early" },
            { "write": "putPolicy", "name": "fine", "statementQuery": "ALLOW storage:logs:read;" },
            { "write": "putPolicy", "name": "broken", "statementQuery": "ALLOW storage:logs:reed;" },
            { "write": "createGroup", "name": "late" },
        ]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "write 2 (`putPolicy`) was refused, so nothing was changed: the policy has 1 error(s): 1:7: "
        ),
        "{message}"
    );
    assert_eq!(reply.body["error"]["details"]["write"], 2);
    assert_eq!(reply.body["error"]["details"]["kind"], "putPolicy");
    assert_eq!(stored(&server).await, before);
    assert_eq!(group_names(&server).await, groups);
    // The refused batch left nothing in the server's memory either: the same names are free.
    let reply = batch_as(
        &server,
        Some(&server.token),
        json!([{ "write": "createGroup", "name": "early" }]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn names_that_do_not_exist_are_refused_with_their_write() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let reply = batch_as(
        &server,
        Some(&server.token),
        json!([
            { "write": "createGroup", "name": "ops" },
            { "write": "bind", "group": "ops", "policy": "nope", "bindings": [{}] },
        ]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(
        reply.body["error"]["message"],
        "write 1 (`bind`) was refused, so nothing was changed: policy `nope` does not exist"
    );
    assert_eq!(stored(&server).await, before);
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_stores_nothing() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let reply = server
        .post(
            &batch_path(&server),
            json!({ "writes": world_writes(), "dryRun": true }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["dryRun"], true);
    assert_eq!(reply.body["revision"], before.0 + 1);
    assert_eq!(reply.body["writes"].as_array().unwrap().len(), 7);
    assert_eq!(stored(&server).await, before);
    assert_eq!(
        server
            .get(&format!("{}/environments", acc(&server)))
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["id"] == "env-batch")
            .count(),
        0
    );
}

#[tokio::test]
async fn a_batch_is_bounded_and_checked_like_any_body() {
    let server = TestServer::start().await;
    let before = stored(&server).await;
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({ "write": "createGroup", "name": format!("g{i}") }))
        .collect();
    let reply = batch_as(&server, Some(&server.token), json!(many)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(
        reply.body["error"]["message"],
        "a batch holds at most 1000 writes; this one has 1001: split it into several batches"
    );
    let unknown = batch_as(
        &server,
        Some(&server.token),
        json!([{ "write": "dropEverything" }]),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert_eq!(
        unknown.body["error"]["message"],
        "invalid JSON body: `writes[0].write` is `dropEverything`, which is not one of \
         `setAuthzen`, `createEnvironment`, `putBoundary`, `putPolicy`, `createGroup`, `bind`, \
         `unbind`, `createUser`, `createServiceUser`, `setUserGroups`, `setServiceUserGroups`, \
         `deleteUser`, `deleteServiceUser`, `deleteGroup`, `deletePolicy`, `deleteBoundary` \
         (line 1, column 36)"
    );
    let extra = batch_as(
        &server,
        Some(&server.token),
        json!([{ "write": "createGroup", "name": "x", "owner": "me" }]),
    )
    .await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST, "{}", extra.body);
    let anonymous = batch_as(
        &server,
        None,
        json!([{ "write": "createGroup", "name": "x" }]),
    )
    .await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
    let empty = batch_as(&server, Some(&server.token), json!([])).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.body["revision"], before.0);
    assert_eq!(stored(&server).await, before);
}

/// A delegated administrator who may write groups, policies and bindings, but holds no
/// `storage:*` permission.
const DELEGATED: &str = "ALLOW iam:groups:write, iam:groups:read, iam:policies:write, \
                         iam:policies:read, iam:bindings:write, iam:bindings:read, \
                         iam:users:write, iam:users:read;";

#[tokio::test]
async fn a_delegated_administrator_is_refused_at_the_first_write_it_may_not_make() {
    let server = TestServer::start().await;
    let (_, token) = user_with(&server, "delegate@example.com", DELEGATED).await;
    let before = stored(&server).await;
    let groups = group_names(&server).await;
    let writes = json!([
        { "write": "createGroup", "name": "loggers" },
        { "write": "putPolicy", "name": "all logs", "statementQuery": "ALLOW storage:logs:read;" },
        { "write": "bind", "group": "loggers", "policy": "all logs", "bindings": [{}] },
        { "write": "createGroup", "name": "after" },
    ]);
    let reply = batch_as(&server, Some(&token), writes.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let message = reply.body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("write 2 (`bind`) was refused, so nothing was changed: this binding would give members of group `loggers` `storage:logs:read` at account level, which you do not hold there yourself"),
        "{message}"
    );
    assert_eq!(reply.body["error"]["details"]["write"], 2);
    assert_eq!(reply.body["error"]["details"]["rule"], "no-escalation");
    assert_eq!(
        reply.body["error"]["details"]["permission"],
        "storage:logs:read"
    );
    assert_eq!(stored(&server).await, before, "nothing was stored");
    assert_eq!(
        group_names(&server).await,
        groups,
        "not even the first group"
    );

    // The same batch by someone who holds what it gives goes through.
    let reply = batch_as(&server, Some(&server.token), writes).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn later_writes_are_checked_against_what_earlier_ones_left() {
    let server = TestServer::start().await;
    let (_, token) = user_with(&server, "delegate@example.com", DELEGATED).await;
    let before = stored(&server).await;
    // The delegate leaves the group that lets it write groups, then tries to create one.
    let reply = batch_as(
        &server,
        Some(&token),
        json!([
            { "write": "setUserGroups", "email": "delegate@example.com", "groups": [] },
            { "write": "createGroup", "name": "sneaky" },
        ]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert_eq!(reply.body["error"]["details"]["write"], 1);
    assert_eq!(reply.body["error"]["details"]["kind"], "createGroup");
    assert_eq!(
        reply.body["error"]["details"]["permission"],
        "iam:groups:write"
    );
    assert_eq!(
        stored(&server).await,
        before,
        "still a member, nothing created"
    );
}

#[tokio::test]
async fn a_guardrail_is_not_lifted_through_a_batch() {
    let server = TestServer::start().await;
    let (_, token) = user_with(&server, "delegate@example.com", DELEGATED).await;
    // A victim reads logs, but a guardrail DENY stops it.
    let (_, _) = user_with(&server, "victim@example.com", "ALLOW storage:logs:read;").await;
    let acc = acc(&server);
    let guard = server
        .post(&format!("{acc}/groups"), json!([{ "name": "guarded" }]))
        .await;
    let guarded = guard.body[0]["uuid"].as_str().unwrap().to_owned();
    crate::credentials::grant(&server, &guarded, "no logs", "DENY storage:logs:read;").await;
    let joined = server
        .post(&format!("{acc}/users/victim@example.com"), json!([guarded]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    assert_eq!(
        decision(&server, "victim@example.com", "", "any").await,
        "DENY"
    );
    let before = stored(&server).await;
    for writes in [
        json!([{ "write": "unbind", "group": "guarded", "policy": "no logs" }]),
        json!([{ "write": "deleteGroup", "name": "guarded" }]),
        json!([{ "write": "putPolicy", "name": "no logs", "statementQuery": "DENY storage:logs:read WHERE storage:bucket-name = \"secret\";" }]),
        json!([{ "write": "setUserGroups", "email": "victim@example.com", "groups": ["victim@example.com group"] }]),
    ] {
        let reply = batch_as(&server, Some(&token), writes.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{writes}: {}",
            reply.body
        );
        assert_eq!(
            reply.body["error"]["details"]["rule"], "no-escalation",
            "{writes}"
        );
        assert_eq!(reply.body["error"]["details"]["write"], 0, "{writes}");
        assert_eq!(stored(&server).await, before, "{writes}");
    }
    assert_eq!(
        decision(&server, "victim@example.com", "", "any").await,
        "DENY"
    );
}
