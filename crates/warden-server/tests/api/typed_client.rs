//! The typed client (`warden-client`) against the real server: every resource through its typed
//! methods, so that a body the client reads or writes differently from the server fails here.

use std::collections::BTreeMap;

use warden_api::bindings::{BindingInput, ParameterValue};
use warden_api::boundaries::BoundaryInput;
use warden_api::groups::GroupInput;
use warden_api::oauth_clients::ClientInput;
use warden_api::paging::{KeyPageQuery, NumberPageQuery};
use warden_api::platform_tokens::{TokenInput, TokenQuery};
use warden_api::policies::PolicyInput;
use warden_api::users::{PasswordInput, UserInput};
use warden_client::pending::{
    AuditQuery, BatchRequest, BatchSlot, BindingFilter, Consent, DecisionRequest, EffectiveQuery,
    EnvironmentInput, OwnerInput, ServiceUserInput, ServiceUserUpdate, TaskInput, TokenRequest,
    WorkflowInput,
};
use warden_client::{Level, StatusCode};

use crate::common::TestServer;

fn group(name: &str) -> GroupInput {
    GroupInput {
        name: name.to_owned(),
        description: String::new(),
        federated_attribute_values: Vec::new(),
    }
}

fn policy(name: &str, text: &str) -> PolicyInput {
    PolicyInput {
        name: name.to_owned(),
        description: String::new(),
        tags: Vec::new(),
        statement_query: text.to_owned(),
        category: None,
    }
}

#[tokio::test]
async fn groups_users_policies_boundaries_and_bindings_round_trip() {
    let server = TestServer::start().await;
    let api = server.api.with_token(Some(&server.token));
    let acc = server.account();
    let level = Level::Account(acc.clone());

    let me = api.me().await.unwrap().body;
    assert_eq!(me.account, acc);
    assert_eq!(api.health().await.unwrap().body.status, "ok");

    let created = api.create_groups(&acc, &[group("ops")]).await.unwrap();
    assert_eq!(created.status, StatusCode::CREATED);
    assert!(created.revision.is_some());
    let ops = created.body.into_iter().next().unwrap();
    assert_eq!(ops.name, "ops");
    let listed = api.groups(&acc).await.unwrap().body;
    assert!(listed.items.iter().any(|g| g.uuid == ops.uuid));
    let renamed = api
        .update_group(&acc, &ops.uuid, &group("operations"))
        .await
        .unwrap()
        .body;
    assert_eq!(renamed.name, "operations");

    let user = UserInput {
        email: "ann@example.com".to_owned(),
        name: "Ann".to_owned(),
        surname: String::new(),
        uid: String::new(),
    };
    let ann = api.create_user(&acc, &user).await.unwrap().body;
    assert_eq!(ann.email, "ann@example.com");
    api.add_user_to_groups(&acc, &ann.email, std::slice::from_ref(&ops.uuid))
        .await
        .unwrap();
    let detail = api.user(&acc, &ann.email).await.unwrap().body;
    assert_eq!(detail.groups.len(), 1);
    assert_eq!(detail.groups[0].uuid, ops.uuid);
    let members = api.group_members(&acc, &ops.uuid).await.unwrap().body;
    assert_eq!(members.count, 1);
    api.set_password(
        &acc,
        &ann.email,
        &PasswordInput::new("a long enough passphrase".to_owned()),
    )
    .await
    .unwrap();
    let people = api.users(&acc, Some(false)).await.unwrap().body;
    assert!(people.items.iter().all(|u| !u.service_user));

    let text = "ALLOW storage:logs:read WHERE storage:bucket-name = \"${bindParam:bucket}\";";
    let saved = api
        .create_policy(&level, &policy("logs", text))
        .await
        .unwrap();
    assert_eq!(saved.status, StatusCode::CREATED);
    let logs = saved.body;
    let validated = api
        .validate_policy(&level, &policy("logs", text))
        .await
        .unwrap()
        .body;
    assert!(validated.diagnostics.is_empty());
    let invalid = api
        .create_policy(&level, &policy("bad", "ALLOW nothing:at:all;"))
        .await
        .unwrap_err();
    assert_eq!(invalid.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(invalid.code(), Some("invalid"));
    let changed = api
        .put_policy(&level, &logs.uuid, &policy("logs", text))
        .await
        .unwrap();
    assert_eq!(
        (changed.status, changed.body.is_none()),
        (StatusCode::NO_CONTENT, true)
    );
    let names = api.policies(&level, Some("log")).await.unwrap().body;
    assert_eq!(names.policies.len(), 1);

    let boundary = api
        .create_boundary(
            &acc,
            &BoundaryInput {
                name: "ops buckets".to_owned(),
                boundary_query: "storage:bucket-name = \"ops_logs\";".to_owned(),
                metadata: BTreeMap::new(),
            },
        )
        .await
        .unwrap()
        .body;
    assert_eq!(boundary.boundary_conditions.len(), 1);
    let page = api
        .boundaries(&acc, &NumberPageQuery::default())
        .await
        .unwrap()
        .body;
    assert_eq!(page.total_count, 1);
    assert_eq!(
        api.boundary(&acc, &boundary.uuid).await.unwrap().body.name,
        "ops buckets"
    );

    let binding = BindingInput {
        parameters: BTreeMap::from([(
            "bucket".to_owned(),
            ParameterValue::One("ops_logs".to_owned()),
        )]),
        ..BindingInput::default()
    };
    let bound = api
        .bind(&level, &logs.uuid, &ops.uuid, &binding)
        .await
        .unwrap();
    assert_eq!(bound.status, StatusCode::NO_CONTENT);
    let at_level = api.bindings(&level).await.unwrap().body;
    assert_eq!(at_level.level_type, "account");
    let one = at_level
        .policy_bindings
        .iter()
        .find(|b| b.policy_uuid == logs.uuid)
        .unwrap();
    assert_eq!(one.groups, vec![ops.uuid.clone()]);
    assert_eq!(one.parameters, binding.parameters);
    let of_group = api
        .group_bindings(&level, &ops.uuid, true)
        .await
        .unwrap()
        .body;
    assert_eq!(of_group.policy_uuids, vec![logs.uuid.clone()]);
    assert_eq!(of_group.bindings_details.unwrap().len(), 1);
    let limits = api.limits(&level).await.unwrap().body;
    assert!(limits.bindings.count >= 1);

    let allowed = api
        .authorize(
            &DecisionRequest {
                principal: Some(ann.email.clone()),
                permission: "storage:logs:read".to_owned(),
                environment: Some("env-prod".to_owned()),
                attributes: BTreeMap::from([(
                    "storage:bucket-name".to_owned(),
                    ParameterValue::One("ops_logs".to_owned()),
                )]),
                ..DecisionRequest::default()
            },
            true,
        )
        .await
        .unwrap()
        .body;
    assert_eq!(
        (allowed.decision.as_str(), allowed.reason.as_str()),
        ("ALLOW", "allowed")
    );
    assert!(allowed.explanation.is_some());
    let batch = api
        .authorize_batch(&BatchRequest {
            requests: vec![
                DecisionRequest {
                    principal: Some(ann.email.clone()),
                    permission: "storage:logs:read".to_owned(),
                    environment: Some("env-prod".to_owned()),
                    ..DecisionRequest::default()
                },
                DecisionRequest {
                    principal: Some(ann.email.clone()),
                    permission: "storage:logz:read".to_owned(),
                    ..DecisionRequest::default()
                },
            ],
            min_revision: None,
        })
        .await
        .unwrap()
        .body;
    assert_eq!(batch.results.len(), 2);
    assert!(matches!(&batch.results[0], BatchSlot::Decision(d) if d.decision == "DENY"));
    assert!(matches!(&batch.results[1], BatchSlot::Error(e) if e.error.code == "invalid"));

    let effective = api
        .effective_permissions(
            &level,
            &EffectiveQuery {
                entity_type: "user".to_owned(),
                entity_id: ann.uid.clone(),
                services: vec!["storage".to_owned()],
                ..EffectiveQuery::default()
            },
        )
        .await
        .unwrap()
        .body;
    assert!(
        effective
            .effective_permissions
            .iter()
            .any(|p| p.permission == "storage:logs:read")
    );

    let catalogue = api.catalogue().await.unwrap().body;
    assert!(catalogue.services.iter().any(|s| s.name == "storage"));
    let entry = api
        .catalogue_permission("storage:logs:read")
        .await
        .unwrap()
        .body;
    assert_eq!(entry.permission.service, "storage");

    api.unbind(
        &level,
        &logs.uuid,
        Some(&ops.uuid),
        &BindingFilter::default(),
    )
    .await
    .unwrap();
    let left = api.bindings(&level).await.unwrap().body;
    assert!(
        left.policy_bindings
            .iter()
            .all(|b| b.policy_uuid != logs.uuid)
    );
    api.delete_policy(&level, &logs.uuid, false).await.unwrap();
    api.delete_boundary(&acc, &boundary.uuid).await.unwrap();
    let gone = api.policy(&level, &logs.uuid).await.unwrap_err();
    assert_eq!(gone.status(), Some(StatusCode::NOT_FOUND));
    api.remove_user_from_groups(&acc, &ann.email, std::slice::from_ref(&ops.uuid))
        .await
        .unwrap();
    api.delete_group(&acc, &ops.uuid).await.unwrap();
    api.delete_user(&acc, &ann.email).await.unwrap();

    let audit = api
        .audit_log(
            &acc,
            &AuditQuery {
                action: Some("group.".to_owned()),
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap()
        .body;
    assert!(audit.entries.iter().all(|e| e.action.starts_with("group.")));
    assert!(!audit.entries.is_empty());
    assert!(api.verify_audit_log(&acc).await.unwrap().body.valid);
}

#[tokio::test]
async fn credentials_service_users_environments_and_workflows_round_trip() {
    let server = TestServer::start().await;
    let api = server.api.with_token(Some(&server.token));
    let acc = server.account();

    let environment = api
        .create_environment(
            &acc,
            &EnvironmentInput {
                id: "env-test".to_owned(),
                name: Some("Test".to_owned()),
            },
        )
        .await
        .unwrap()
        .body;
    assert_eq!(
        (environment.id.as_str(), environment.name.as_str()),
        ("env-test", "Test")
    );
    let listed = api.environments(&acc).await.unwrap().body;
    assert_eq!(listed.count, 3);
    let dynatrace = api.dynatrace_environments(&acc).await.unwrap().body;
    assert_eq!(dynatrace.data.len(), 3);

    let bot = api
        .create_service_user(
            &acc,
            &ServiceUserInput {
                name: "Deploy bot".to_owned(),
                owner: Some(OwnerInput {
                    kind: "USER".to_owned(),
                    id: "admin@warden.local".to_owned(),
                }),
                ..ServiceUserInput::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(bot.status, StatusCode::CREATED);
    let bot = bot.body;
    assert!(bot.active);
    assert_eq!(bot.owner.as_ref().unwrap().kind, "USER");
    let updated = api
        .update_service_user(
            &acc,
            &bot.uid,
            &ServiceUserUpdate {
                purpose: Some("deploys".to_owned()),
                owner: Some(None),
                ..ServiceUserUpdate::default()
            },
        )
        .await
        .unwrap()
        .body;
    assert_eq!(
        (updated.purpose.as_str(), updated.owner.is_none()),
        ("deploys", true)
    );
    let page = api
        .service_users(&acc, &KeyPageQuery::default())
        .await
        .unwrap()
        .body;
    assert_eq!(page.total_count, 1);
    let reviewed = api
        .mark_service_user_reviewed(&acc, &bot.uid, Some("checked"))
        .await
        .unwrap()
        .body;
    assert!(reviewed.last_reviewed_at.is_some());
    let report = api
        .service_user_review(
            &acc,
            &warden_api::service_users::ReviewQuery {
                rotation_days: Some(30),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .body;
    assert_eq!(
        (report.unused_days, report.rotation_days),
        (90, 30),
        "the windows asked for, or the defaults"
    );
    let deactivated = api
        .deactivate_service_user(&acc, &bot.uid, "rotation")
        .await
        .unwrap()
        .body;
    assert_eq!(deactivated.deactivation.unwrap().reason, "rotation");
    let reactivated = api
        .reactivate_service_user(&acc, &bot.uid, None)
        .await
        .unwrap()
        .body;
    assert!(reactivated.active);

    let token = api
        .create_platform_token(
            &acc,
            &TokenInput {
                name: "ci".to_owned(),
                scope: vec!["iam:groups:read".to_owned()],
                expiration_date: "2027-01-01T00:00:00Z".to_owned(),
                user_uuid: None,
                resource: Vec::new(),
                tags: Vec::new(),
            },
        )
        .await
        .unwrap()
        .body;
    assert!(token.token.starts_with("wdn_pt_"));
    let tokens = api
        .platform_tokens(&acc, &TokenQuery::default())
        .await
        .unwrap()
        .body;
    let listed = tokens
        .items
        .iter()
        .find(|t| t.token_id == token.token_id)
        .unwrap();
    assert_eq!(listed.name, "ci");
    api.delete_platform_token(&acc, &token.token_id)
        .await
        .unwrap();

    let created = api
        .create_oauth_client(
            &acc,
            &ClientInput {
                name: "ci".to_owned(),
                owner: None,
                scopes: vec!["iam:groups:read".to_owned()],
            },
        )
        .await
        .unwrap()
        .body;
    let id = created.client.client_id.clone();
    let issued = server
        .api
        .with_client_secret(&id, &created.client_secret)
        .access_token(&TokenRequest::default())
        .await
        .unwrap()
        .body;
    assert_eq!(
        (issued.token_type.as_str(), issued.scope.as_str()),
        ("Bearer", "iam:groups:read")
    );
    let as_client = server.api.with_token(Some(&issued.access_token));
    assert_eq!(as_client.groups(&acc).await.unwrap().status, StatusCode::OK);
    let refused = server
        .api
        .with_client_secret(&id, "wdn_cs_wrong")
        .access_token(&TokenRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(StatusCode::UNAUTHORIZED));
    let secret = api.add_oauth_secret(&acc, &id).await.unwrap().body;
    api.revoke_oauth_secret(&acc, &id, &secret.secret_id)
        .await
        .unwrap();
    let client = api.oauth_client(&acc, &id).await.unwrap().body;
    assert_eq!(client.secrets.iter().filter(|s| s.active).count(), 1);
    assert_eq!(api.oauth_clients(&acc).await.unwrap().body.count, 1);
    api.delete_oauth_client(&acc, &id).await.unwrap();

    let workflow = api
        .create_workflow(&WorkflowInput {
            title: "Nightly".to_owned(),
            environment: "env-prod".to_owned(),
            ..WorkflowInput::default()
        })
        .await
        .unwrap()
        .body;
    assert_eq!(workflow.title, "Nightly");
    assert_eq!(api.workflows(false).await.unwrap().body.count, 1);
    let consent = api
        .set_consent(&Consent {
            environment: "env-prod".to_owned(),
            permissions: vec!["storage:logs:read".to_owned()],
        })
        .await
        .unwrap()
        .body;
    assert_eq!(consent.permissions, vec!["storage:logs:read".to_owned()]);
    assert_eq!(api.consent("env-prod").await.unwrap().body, consent);
    let task = api
        .authorize_task(
            &workflow.id,
            &TaskInput {
                permission: "storage:logs:read".to_owned(),
                attributes: BTreeMap::new(),
            },
            false,
        )
        .await
        .unwrap()
        .body;
    assert_eq!(task.outcome, "ALLOW");
    assert!(task.audit_seq > 0);
    api.delete_workflow(&workflow.id, false).await.unwrap();
    api.delete_service_user(&acc, &bot.uid).await.unwrap();
}
