//! Workflow authorisation over HTTP (SPEC §9): visibility, ownership, the actor rule in its three
//! branches, the confused deputy, consent both ways and its revocation.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::{Reply, TestServer};
use crate::journey::token_for;

struct People {
    alice: String,
    bob: String,
    carol: String,
    dana: String,
    pipeline_email: String,
}

async fn as_(
    server: &TestServer,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    server.call_as(Some(token), method, path, body).await
}

async fn setup(server: &TestServer) -> People {
    let account = server.account();
    let acc = format!("/iam/v1/accounts/{account}");
    let repo = format!("/iam/v1/repo/account/{account}");
    let pipeline = server
        .post(
            &format!("{acc}/service-users"),
            json!({ "name": "Pipeline Automation" }),
        )
        .await;
    assert_eq!(pipeline.status, StatusCode::CREATED, "{}", pipeline.body);
    let pipeline_email = pipeline.body["email"].as_str().unwrap().to_owned();
    let pipeline_group = pipeline.body["groupUuid"].as_str().unwrap().to_owned();
    let groups = server
        .post(
            &format!("{acc}/groups"),
            json!([{ "name": "devs" }, { "name": "wf-admins" }, { "name": "pipeline-users" }]),
        )
        .await;
    let group = |i: usize| groups.body[i]["uuid"].as_str().unwrap().to_owned();
    let policy = |name: &'static str, text: String| {
        let path = format!("{repo}/policies");
        async move {
            server
                .post(&path, json!({ "name": name, "statementQuery": text }))
                .await
                .body["uuid"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let work = policy("workflows", "ALLOW automation:workflows:read, automation:workflows:write, automation:workflows:run;\nALLOW settings:objects:write WHERE settings:schemaId = \"builtin:x\";".into()).await;
    let admin = policy("workflow admin", "ALLOW automation:workflows:admin;".into()).await;
    let use_pipeline = policy(
        "use pipeline",
        format!("ALLOW iam:service-users:use WHERE iam:service-user-email = \"{pipeline_email}\";"),
    )
    .await;
    let settings = policy("settings writer", "ALLOW settings:objects:write;".into()).await;
    for (policy, group) in [
        (&work, group(0)),
        (&work, group(1)),
        (&admin, group(1)),
        (&use_pipeline, group(2)),
        (&settings, pipeline_group),
    ] {
        let reply = server
            .post(&format!("{repo}/bindings/{policy}/{group}"), json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    }
    let mut tokens = Vec::new();
    for (email, groups) in [
        ("alice@example.com", vec![group(0), group(2)]),
        ("bob@example.com", vec![group(0)]),
        ("carol@example.com", vec![group(0)]),
        ("dana@example.com", vec![group(1)]),
    ] {
        let uid = server
            .post(&format!("{acc}/users"), json!({ "email": email }))
            .await
            .body["uid"]
            .as_str()
            .unwrap()
            .to_owned();
        server
            .post(&format!("{acc}/users/{email}"), json!(groups))
            .await;
        tokens.push(token_for(server, &uid).await);
    }
    People {
        alice: tokens[0].clone(),
        bob: tokens[1].clone(),
        carol: tokens[2].clone(),
        dana: tokens[3].clone(),
        pipeline_email,
    }
}

const WF: &str = "/automation/v1/workflows";

#[tokio::test]
async fn visibility_ownership_and_the_actor_rule() {
    let server = TestServer::start().await;
    let people = setup(&server).await;
    let created = as_(
        &server,
        &people.alice,
        Method::POST,
        WF,
        Some(json!({ "title": "Nightly", "environment": "env-prod" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["isPrivate"], true, "private by default");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("{WF}/{id}");
    let alice_uid = created.body["actor"].as_str().unwrap().to_owned();

    // Private: only the owner sees it.
    assert_eq!(
        as_(&server, &people.bob, Method::GET, &path, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        as_(&server, &people.bob, Method::GET, WF, None).await.body["count"],
        0
    );
    assert_eq!(
        as_(&server, &people.alice, Method::GET, WF, None)
            .await
            .body["count"],
        1
    );

    // The owner makes it public; a non-owner cannot make it private again or take it over.
    let public = as_(
        &server,
        &people.alice,
        Method::PUT,
        &path,
        Some(json!({ "isPrivate": false })),
    )
    .await;
    assert_eq!(public.status, StatusCode::OK, "{}", public.body);
    assert_eq!(
        as_(&server, &people.bob, Method::GET, &path, None)
            .await
            .status,
        StatusCode::OK
    );
    let hide = as_(
        &server,
        &people.bob,
        Method::PUT,
        &path,
        Some(json!({ "isPrivate": true })),
    )
    .await;
    assert_eq!(hide.status, StatusCode::FORBIDDEN);
    assert_eq!(
        hide.body["error"]["message"],
        "only the owner of a workflow can change its visibility, even when it is public"
    );
    let take = as_(
        &server,
        &people.bob,
        Method::PUT,
        &path,
        Some(json!({ "owner": "bob@example.com" })),
    )
    .await;
    assert_eq!(take.status, StatusCode::FORBIDDEN);

    // Normal update: the updater becomes the actor.
    let updated = as_(
        &server,
        &people.bob,
        Method::PUT,
        &path,
        Some(json!({ "title": "Nightly export" })),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["actorEmail"], "bob@example.com");

    // Admin mode: the actor stays.
    let no_admin = as_(
        &server,
        &people.bob,
        Method::PUT,
        &format!("{path}?adminAccess=true"),
        Some(json!({ "title": "x" })),
    )
    .await;
    assert_eq!(no_admin.status, StatusCode::FORBIDDEN);
    assert_eq!(
        no_admin.body["error"]["details"]["permission"],
        "automation:workflows:admin"
    );
    let admin = as_(
        &server,
        &people.dana,
        Method::PUT,
        &format!("{path}?adminAccess=true"),
        Some(json!({ "title": "Nightly (fixed)" })),
    )
    .await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.body);
    assert_eq!(admin.body["actorEmail"], "bob@example.com");

    // A service-user actor stays through updates by others.
    let set = as_(
        &server,
        &people.alice,
        Method::PUT,
        &path,
        Some(json!({ "actor": "pipeline_automation@service" })),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["actorEmail"], people.pipeline_email);
    let by_bob = as_(
        &server,
        &people.bob,
        Method::PUT,
        &path,
        Some(json!({ "title": "Nightly v2" })),
    )
    .await;
    assert_eq!(by_bob.body["actorEmail"], people.pipeline_email);

    // Ownership transfer to a group: its members are owners.
    let to_group = as_(
        &server,
        &people.alice,
        Method::PUT,
        &path,
        Some(json!({ "owner": "devs", "ownerType": "GROUP" })),
    )
    .await;
    assert_eq!(to_group.status, StatusCode::OK, "{}", to_group.body);
    let bob_hides = as_(
        &server,
        &people.bob,
        Method::PUT,
        &path,
        Some(json!({ "isPrivate": true })),
    )
    .await;
    assert_eq!(
        bob_hides.status,
        StatusCode::OK,
        "a member of the owning group is an owner"
    );
    let _ = alice_uid;
}

#[tokio::test]
async fn the_confused_deputy_is_refused() {
    let server = TestServer::start().await;
    let people = setup(&server).await;
    let refused = as_(&server, &people.carol, Method::POST, WF, Some(json!({ "title": "Sneaky", "environment": "env-prod", "actor": "pipeline_automation@service" }))).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        refused.body["error"]["details"]["permission"],
        "iam:service-users:use"
    );
    let someone_else = as_(
        &server,
        &people.carol,
        Method::POST,
        WF,
        Some(
            json!({ "title": "As Alice", "environment": "env-prod", "actor": "alice@example.com" }),
        ),
    )
    .await;
    assert_eq!(
        someone_else.status,
        StatusCode::FORBIDDEN,
        "nobody makes another person the actor"
    );
    // On an existing public workflow too.
    let created = as_(
        &server,
        &people.alice,
        Method::POST,
        WF,
        Some(json!({ "title": "Shared", "environment": "env-prod", "isPrivate": false })),
    )
    .await;
    let path = format!("{WF}/{}", created.body["id"].as_str().unwrap());
    let update = as_(
        &server,
        &people.carol,
        Method::PUT,
        &path,
        Some(json!({ "actor": "pipeline_automation@service" })),
    )
    .await;
    assert_eq!(update.status, StatusCode::FORBIDDEN);
    assert_eq!(
        as_(&server, &people.alice, Method::GET, &path, None)
            .await
            .body["actorEmail"],
        "alice@example.com",
        "unchanged"
    );
}

#[tokio::test]
async fn tasks_need_permission_and_consent_and_are_audited() {
    let server = TestServer::start().await;
    let people = setup(&server).await;
    let created = as_(
        &server,
        &people.alice,
        Method::POST,
        WF,
        Some(json!({ "title": "Settings sync", "environment": "env-prod" })),
    )
    .await;
    let id = created.body["id"].as_str().unwrap().to_owned();
    let task = |permission: &str, schema: &str| json!({ "permission": permission, "attributes": { "settings:schemaId": schema } });
    let check = |body: Value| {
        let path = format!("{WF}/{id}/authorize-task");
        let token = people.alice.clone();
        let server = &server;
        async move { as_(server, &token, Method::POST, &path, Some(body)).await }
    };

    // A task's attributes have the limits of a decision request's.
    let many: Vec<String> = (0..21).map(|i| format!("s{i}")).collect();
    let refused = check(json!({ "permission": "settings:objects:write", "attributes": { "settings:schemaId": many } })).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.body["error"]["message"],
        "attribute `settings:schemaId` has 21 values; a decision request may give an attribute at most 20"
    );

    // Held but not consented.
    let no_consent = check(task("settings:objects:write", "builtin:x")).await;
    assert_eq!(no_consent.status, StatusCode::OK, "{}", no_consent.body);
    assert_eq!(
        (
            no_consent.body["outcome"].as_str(),
            no_consent.body["refusedBy"].as_str()
        ),
        (Some("DENY"), Some("consent"))
    );

    // Consented: allowed.
    let consent = as_(&server, &people.alice, Method::PUT, "/automation/v1/authorization-settings", Some(json!({ "environment": "env-prod", "permissions": ["settings:objects:write", "settings:objects:read"] }))).await;
    assert_eq!(consent.status, StatusCode::OK, "{}", consent.body);
    assert_eq!(
        check(task("settings:objects:write", "builtin:x"))
            .await
            .body["outcome"],
        "ALLOW"
    );

    // Consented but not held: consent never grants.
    let not_held = check(task("settings:objects:read", "builtin:x")).await;
    assert_eq!(
        (
            not_held.body["outcome"].as_str(),
            not_held.body["refusedBy"].as_str()
        ),
        (Some("DENY"), Some("actor-permissions"))
    );
    // Held and consented, but the schema is outside the actor's grant.
    assert_eq!(
        check(task("settings:objects:write", "builtin:y"))
            .await
            .body["refusedBy"],
        "actor-permissions"
    );

    // Revoking consent takes effect on the next check.
    as_(
        &server,
        &people.alice,
        Method::PUT,
        "/automation/v1/authorization-settings",
        Some(json!({ "environment": "env-prod", "permissions": [] })),
    )
    .await;
    assert_eq!(
        check(task("settings:objects:write", "builtin:x"))
            .await
            .body["refusedBy"],
        "consent"
    );

    // With a service-user actor, its own permissions decide.
    as_(
        &server,
        &people.alice,
        Method::PUT,
        &format!("{WF}/{id}"),
        Some(json!({ "actor": "pipeline_automation@service" })),
    )
    .await;
    let as_service = check(task("settings:objects:write", "builtin:anything")).await;
    assert_eq!(as_service.body["outcome"], "ALLOW", "{}", as_service.body);

    // Every check is in the audit log, with workflow, actor and caller.
    let audit = server
        .get(&format!(
            "/iam/v1/accounts/{}/audit-log?action=workflow.authorize-task",
            server.account()
        ))
        .await;
    let entries = audit.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    let last: Value = entries[5]["after"].clone();
    assert_eq!(last["workflow"], id);
    assert_eq!(last["decision"], "ALLOW");
    assert!(last["caller"].is_string() && last["actor"].is_string());
}

#[tokio::test]
async fn a_deactivated_service_user_actor_blocks_runs_and_cannot_be_deleted() {
    let server = TestServer::start().await;
    let people = setup(&server).await;
    let created = as_(
        &server,
        &people.alice,
        Method::POST,
        WF,
        Some(json!({ "title": "Nightly", "environment": "env-prod", "actor": "pipeline_automation@service" })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["actorHandle"], "pipeline_automation@service");
    assert_eq!(created.body["ownerName"], "alice@example.com");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let pipeline_uid = created.body["actor"].as_str().unwrap().to_owned();
    let task = || {
        let path = format!("{WF}/{id}/authorize-task");
        let token = people.alice.clone();
        let server = &server;
        async move {
            as_(
                server,
                &token,
                Method::POST,
                &path,
                Some(json!({ "permission": "settings:objects:write", "attributes": { "settings:schemaId": "builtin:x" } })),
            )
            .await
        }
    };
    assert_eq!(task().await.body["outcome"], "ALLOW");

    let su = format!(
        "/iam/v1/accounts/{}/service-users/pipeline_automation@service",
        server.account()
    );
    let off = server
        .post(
            &format!("{su}/deactivate"),
            json!({ "reason": "pipeline retired" }),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);

    // Every task of the workflow is refused, by the actor's side, and says why.
    let refused = task().await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.body);
    assert_eq!(
        (
            refused.body["outcome"].as_str(),
            refused.body["reason"].as_str(),
            refused.body["refusedBy"].as_str(),
        ),
        (
            Some("DENY"),
            Some("inactive-principal"),
            Some("actor-permissions")
        )
    );
    assert_eq!(
        refused.body["summary"],
        "refused by the actor's permissions: denied: principal `pipeline_automation@service` is deactivated"
    );
    assert_eq!(refused.body["actor"], pipeline_uid.as_str());
    // Nobody can make a deactivated service user the actor of another workflow.
    let other = as_(
        &server,
        &people.alice,
        Method::POST,
        WF,
        Some(json!({ "title": "Other", "environment": "env-prod", "actor": "pipeline_automation@service" })),
    )
    .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST, "{}", other.body);
    assert_eq!(
        other.body["error"]["message"],
        "actor `pipeline_automation@service` is deactivated"
    );

    // Deleting it is refused while the workflow runs as it, naming the workflow.
    let delete = server.delete(&su).await;
    assert_eq!(delete.status, StatusCode::CONFLICT, "{}", delete.body);
    assert_eq!(
        delete.body["error"]["message"],
        "service user `pipeline_automation@service` is still used by 1 workflow; delete them or move them to another owner or actor first, or deactivate the service user instead"
    );
    assert_eq!(
        delete.body["error"]["details"]["referrers"],
        json!([{ "type": "workflow", "id": id, "name": "Nightly" }])
    );

    // Reactivated, it runs again; once the workflow is gone, it can be deleted.
    let on = server.post(&format!("{su}/reactivate"), json!({})).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(task().await.body["outcome"], "ALLOW");
    let gone = as_(
        &server,
        &people.alice,
        Method::DELETE,
        &format!("{WF}/{id}"),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.body);
    let deleted = server.delete(&su).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
}
