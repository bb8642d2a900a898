//! The journey of a new administrator, over HTTP, and what a delegated administrator may not do.

use serde_json::{Value, json};
use warden_client::StatusCode;

use crate::common::TestServer;

/// Mints a platform token for a principal directly through the write pipeline (the token API
/// itself has its own tests).
pub async fn token_for(server: &TestServer, uid: &str) -> String {
    use warden_server::records::TokenBody;
    use warden_server::service::{Authed, Plan};
    let (id, token, hash) = warden_server::auth::new_token("pt", &server.state.token_key).unwrap();
    let body = TokenBody {
        id: id.clone(),
        kind: "platform".into(),
        owner_uid: uid.to_owned(),
        name: "test".into(),
        secret_hash: hash,
        scopes: Vec::new(),
        unrestricted: Some(true),
        status: "ACTIVE".into(),
        expires_at: None,
        created_at: 0,
        created_by: "test".into(),
        last_used_at: None,
        client_id: None,
    };
    let system = Authed::system("test", "test".into(), 0);
    server
        .state
        .write(&system, |_, _| {
            let mut plan = Plan::new("token.create", "token", ());
            plan.ops = vec![body.op()];
            plan.apply = Box::new(move |model: &mut warden_server::model::Model| {
                model
                    .tokens
                    .insert(body.id.clone(), std::sync::Arc::new(body));
            });
            Ok(plan)
        })
        .await
        .unwrap();
    token
}

async fn decide(
    server: &TestServer,
    principal: &str,
    permission: &str,
    attributes: Value,
    explain: bool,
) -> Value {
    let path = if explain {
        "/iam/v1/authorize?explain=true"
    } else {
        "/iam/v1/authorize"
    };
    let reply = server.post(path, json!({ "principal": principal, "permission": permission, "environment": "env-prod", "attributes": attributes })).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

#[tokio::test]
async fn a_new_administrators_journey() {
    let server = TestServer::start().await;
    let account = server.account();
    let acc = format!("/iam/v1/accounts/{account}");
    let repo = format!("/iam/v1/repo/account/{account}");

    // A group, a parameterised policy, a boundary.
    let groups = server
        .post(
            &format!("{acc}/groups"),
            json!([{ "name": "ops", "description": "operations" }]),
        )
        .await;
    assert_eq!(groups.status, StatusCode::CREATED, "{}", groups.body);
    let group = groups.body[0]["uuid"].as_str().unwrap().to_owned();
    let policy = server
        .post(&format!("{repo}/policies"), json!({ "name": "Team Logs", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"${bindParam:team}_\";" }))
        .await;
    let policy = policy.body["uuid"].as_str().unwrap().to_owned();
    let boundary = server
        .post(
            &format!("{repo}/boundaries"),
            json!({ "name": "prod only", "boundaryQuery": "global:environmentId = \"env-prod\"" }),
        )
        .await;
    assert_eq!(boundary.status, StatusCode::CREATED, "{}", boundary.body);
    let boundary = boundary.body["uuid"].as_str().unwrap().to_owned();

    // Bind with parameters and the boundary.
    let bound = server
        .post(
            &format!("{repo}/bindings/{policy}/{group}"),
            json!({ "parameters": { "team": "ops" }, "boundaries": [boundary] }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let bound_revision = bound.revision.unwrap();

    // A user in the group.
    let user = server
        .post(
            &format!("{acc}/users"),
            json!({ "email": "Alice@Example.com" }),
        )
        .await;
    assert_eq!(user.body["email"], "alice@example.com");
    let joined = server
        .post(&format!("{acc}/users/alice@example.com"), json!([group]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);

    // Decide and explain.
    let allowed = decide(
        &server,
        "alice@example.com",
        "storage:logs:read",
        json!({ "storage:bucket-name": "ops_app" }),
        false,
    )
    .await;
    assert_eq!(allowed["decision"], "ALLOW");
    assert!(allowed["revision"].as_u64().unwrap() > bound_revision as u64);
    let denied = decide(
        &server,
        "alice@example.com",
        "storage:logs:read",
        json!({ "storage:bucket-name": "dev_app" }),
        true,
    )
    .await;
    assert_eq!(denied["decision"], "DENY");
    assert_eq!(denied["reason"], "no-matching-allow");
    let near = &denied["explanation"]["nearest"][0];
    assert_eq!(near["policy"]["name"], "Team Logs");
    assert_eq!(near["group"]["name"], "ops");
    assert_eq!(near["boundary"]["name"], "prod only");
    assert_eq!(
        near["failed"]["why"],
        "seen \"dev_app\" but required startsWith \"ops_\""
    );

    // Effective permissions.
    let effective = server
        .get("/iam/v1/resolution/environment/env-prod/effectivepermissions?entityType=user&entityId=alice@example.com")
        .await;
    assert_eq!(effective.status, StatusCode::OK, "{}", effective.body);
    let entry = &effective.body["effectivePermissions"][0];
    assert_eq!(entry["permission"], "storage:logs:read");
    assert_eq!(
        entry["effects"][0]["conditions"],
        json!([
            { "name": "storage:bucket-name", "operator": "STARTS_WITH", "values": ["ops_"] },
            { "name": "global:environmentId", "operator": "EQ", "values": ["env-prod"] }
        ])
    );
    assert_eq!(
        entry["effects"][0]["effectivePolicies"][0]["binding"]["groupUuid"],
        group
    );

    // Unbind: the next decision sees it, with or without minRevision.
    let unbound = server
        .delete(&format!("{repo}/bindings/{policy}/{group}"))
        .await;
    assert_eq!(unbound.status, StatusCode::NO_CONTENT);
    let after = server
        .post("/iam/v1/authorize", json!({ "principal": "alice@example.com", "permission": "storage:logs:read", "environment": "env-prod", "attributes": { "storage:bucket-name": "ops_app" }, "minRevision": unbound.revision }))
        .await;
    assert_eq!(after.body["decision"], "DENY");

    // The audit log recorded it all, and verifies.
    let audit = server.get(&format!("{acc}/audit-log?limit=1000")).await;
    let actions: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "account.bootstrap",
            "group.create",
            "policy.create",
            "boundary.create",
            "binding.create",
            "user.create",
            "user.memberships",
            "binding.delete"
        ]
    );
    assert_eq!(
        server.get(&format!("{acc}/audit-log/verify")).await.body["valid"],
        true
    );

    // And it all survives a restart.
    let server = server.restart().await;
    let bindings = server.get(&format!("{repo}/bindings")).await;
    assert_eq!(
        bindings.body["policyBindings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["policyUuid"] == policy)
            .count(),
        0
    );
    assert_eq!(
        server
            .get(&format!("{acc}/users/alice@example.com"))
            .await
            .body["groups"][0]["uuid"],
        group
    );
}

#[tokio::test]
async fn boundaries_in_use_and_policies_in_use_are_conflicts() {
    let server = TestServer::start().await;
    let account = server.account();
    let repo = format!("/iam/v1/repo/account/{account}");
    let group = server
        .post(
            &format!("/iam/v1/accounts/{account}/groups"),
            json!([{ "name": "g" }]),
        )
        .await
        .body[0]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "p", "statementQuery": "ALLOW storage:logs:read;" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let boundary = server
        .post(
            &format!("{repo}/boundaries"),
            json!({ "name": "b", "boundaryQuery": "storage:bucket-name = \"x\"" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .post(
            &format!("{repo}/bindings/{policy}/{group}"),
            json!({ "boundaries": [boundary] }),
        )
        .await;

    let in_use = server
        .delete(&format!("{repo}/boundaries/{boundary}"))
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert_eq!(
        in_use.body["error"]["details"]["bindings"][0]["groupUuid"],
        group
    );
    let bound = server.delete(&format!("{repo}/policies/{policy}")).await;
    assert_eq!(bound.status, StatusCode::CONFLICT);
    assert_eq!(
        bound.body["error"]["details"]["bindings"][0]["groupUuid"],
        group
    );
    let forced = server
        .call(
            warden_client::Method::DELETE,
            &format!("{repo}/policies/{policy}?force=true"),
            None,
        )
        .await;
    assert_eq!(forced.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server
            .delete(&format!("{repo}/boundaries/{boundary}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let missing_group = server
        .post(
            &format!("{repo}/bindings/{policy}/no-such-group"),
            json!({}),
        )
        .await;
    assert_eq!(missing_group.status, StatusCode::NOT_FOUND);
    let params = server.post(&format!("{repo}/policies"), json!({ "name": "q", "statementQuery": "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:b}\";" })).await;
    let q = params.body["uuid"].as_str().unwrap().to_owned();
    let no_params = server
        .post(&format!("{repo}/bindings/{q}/{group}"), json!({}))
        .await;
    assert_eq!(no_params.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        no_params.body["error"]["message"],
        "missing parameter `b`: the policy references it"
    );
}

#[tokio::test]
async fn delegated_administration_and_escalation() {
    let server = TestServer::start().await;
    let account = server.account();
    let acc = format!("/iam/v1/accounts/{account}");
    let repo = format!("/iam/v1/repo/account/{account}");
    let team = server
        .post(
            &format!("{acc}/groups"),
            json!([{ "name": "team" }, { "name": "admins-of-team" }]),
        )
        .await;
    let (team, delegates) = (
        team.body[0]["uuid"].as_str().unwrap().to_owned(),
        team.body[1]["uuid"].as_str().unwrap().to_owned(),
    );

    // Bob may administer the bindings of `team` only, and holds settings:objects:read himself.
    let delegation = format!(
        "ALLOW iam:bindings:write, iam:bindings:read WHERE iam:boundGroup = \"{team}\";\nALLOW iam:policies:read;\nALLOW settings:objects:read;"
    );
    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "team admin", "statementQuery": delegation }),
        )
        .await;
    let policy = policy.body["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        server
            .post(&format!("{repo}/bindings/{policy}/{delegates}"), json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let bob = server
        .post(
            &format!("{acc}/users"),
            json!({ "email": "bob@example.com" }),
        )
        .await
        .body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .post(&format!("{acc}/users/bob@example.com"), json!([delegates]))
        .await;
    let bob_token = crate::journey::token_for(&server, &bob).await;

    let reads = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "reads", "statementQuery": "ALLOW settings:objects:read;" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let writes = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": "writes", "statementQuery": "ALLOW settings:objects:write;" }),
        )
        .await
        .body["uuid"]
        .as_str()
        .unwrap()
        .to_owned();

    // 403 naming the permission: Bob cannot create policies.
    let create = server
        .call_as(
            Some(&bob_token),
            warden_client::Method::POST,
            &format!("{repo}/policies"),
            Some(json!({ "name": "x", "statementQuery": "ALLOW hub:catalog:read;" })),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert_eq!(
        create.body["error"]["details"]["permission"],
        "iam:policies:write"
    );

    // Bob may bind what he holds to his team…
    let ok = server
        .call_as(
            Some(&bob_token),
            warden_client::Method::POST,
            &format!("{repo}/bindings/{reads}/{team}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    // …but not to another group,
    let other = server
        .call_as(
            Some(&bob_token),
            warden_client::Method::POST,
            &format!("{repo}/bindings/{reads}/{delegates}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    assert_eq!(
        other.body["error"]["details"]["permission"],
        "iam:bindings:write"
    );
    // …and not what he does not hold himself (no escalation).
    let escalation = server
        .call_as(
            Some(&bob_token),
            warden_client::Method::POST,
            &format!("{repo}/bindings/{writes}/{team}"),
            Some(json!({})),
        )
        .await;
    assert_eq!(escalation.status, StatusCode::FORBIDDEN);
    assert_eq!(
        escalation.body["error"]["details"]["permission"],
        "settings:objects:write"
    );
    assert_eq!(escalation.body["error"]["details"]["rule"], "no-escalation");
    assert_eq!(
        escalation.body["error"]["message"],
        "this binding would give members of group `team` `settings:objects:write` at account level, which you do not hold there yourself; only someone who holds it there may grant it (or take away a DENY of it)"
    );
    let bindings = server.get(&format!("{repo}/bindings/groups/{team}")).await;
    assert_eq!(
        bindings.body["policyUuids"],
        json!([reads]),
        "the refused binding was not written"
    );

    // Bob cannot make himself an administrator either.
    let admins = server.get(&format!("{acc}/groups")).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "Account Admins")
        .unwrap()["uuid"]
        .clone();
    let join = server
        .call_as(
            Some(&bob_token),
            warden_client::Method::POST,
            &format!("{acc}/users/bob@example.com"),
            Some(json!([admins])),
        )
        .await;
    assert_eq!(join.status, StatusCode::FORBIDDEN);
    assert_eq!(
        join.body["error"]["details"]["permission"],
        "iam:users:write"
    );
}
