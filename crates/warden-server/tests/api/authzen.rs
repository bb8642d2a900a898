//! The AuthZEN Authorization API 1.0 over HTTP, on the Todo interop scenario (roles admin,
//! editor, viewer and evil_genius over a custom `todo` service; `examples/authzen-todo/`): every
//! evaluation's decision, the boxcar's three semantics, the searches, the discovery document, the
//! mapping's checks, the errors of malformed bodies, and who may ask about whom.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::credentials::{acc, grant};

const TODO_SERVICE: &str = r#"
[service]
name = "todo"
[conditions."todo:owner"]
operators = ["=", "!=", "IN", "NOT IN"]
[[permissions]]
name = "todo:users:read"
[[permissions]]
name = "todo:todos:read"
[[permissions]]
name = "todo:todos:create"
[[permissions]]
name = "todo:todos:update"
conditions = ["todo:owner"]
[[permissions]]
name = "todo:todos:delete"
conditions = ["todo:owner"]
"#;

const RICK: &str = "rick@the-citadel.com";
const MORTY: &str = "morty@the-citadel.com";
const SUMMER: &str = "summer@the-smiths.com";
const BETH: &str = "beth@the-smiths.com";
const JERRY: &str = "jerry@the-smiths.com";

/// The scenario's world, built through the API as an administrator would; returns Morty's uid.
async fn todo_world(server: &TestServer) -> String {
    let file = warden_policy::ServiceFile::from_toml("todo.toml", TODO_SERVICE).unwrap();
    let registered = server
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
    let acc = acc(server);
    let roles = [
        ("viewer", "ALLOW todo:users:read, todo:todos:read;"),
        (
            "editor",
            "ALLOW todo:users:read, todo:todos:read, todo:todos:create;\nALLOW todo:todos:update, todo:todos:delete WHERE todo:owner = \"${global:userEmail}\";",
        ),
        (
            "admin",
            "ALLOW todo:users:read, todo:todos:read, todo:todos:create, todo:todos:delete;",
        ),
        (
            "evil_genius",
            "ALLOW todo:users:read, todo:todos:read, todo:todos:update;",
        ),
    ];
    let mut groups = std::collections::BTreeMap::new();
    for (role, text) in roles {
        let group = server
            .post(&format!("{acc}/groups"), json!([{ "name": role }]))
            .await;
        assert_eq!(group.status, StatusCode::CREATED, "{}", group.body);
        let uuid = group.body[0]["uuid"].as_str().unwrap().to_owned();
        grant(server, &uuid, &format!("Todo {role}"), text).await;
        groups.insert(role, uuid);
    }
    let mut morty = String::new();
    for (email, roles) in [
        (RICK, &["admin", "evil_genius"][..]),
        (MORTY, &["editor"][..]),
        (SUMMER, &["editor"][..]),
        (BETH, &["viewer"][..]),
        (JERRY, &["viewer"][..]),
    ] {
        let user = server
            .post(&format!("{acc}/users"), json!({ "email": email }))
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
        if email == MORTY {
            morty = user.body["uid"].as_str().unwrap().to_owned();
        }
        let wanted: Vec<&String> = roles.iter().map(|r| &groups[r]).collect();
        let joined = server
            .post(&format!("{acc}/users/{email}"), json!(wanted))
            .await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    // The example's mapping, as an administrator would PUT it.
    let mapping: Value = serde_json::from_str(include_str!(
        "../../../../examples/authzen-todo/mapping.json"
    ))
    .unwrap();
    let mapped = server.put(&format!("{acc}/authzen"), mapping).await;
    assert_eq!(mapped.status, StatusCode::OK, "{}", mapped.body);
    morty
}

fn evaluation(subject: &str, action: &str, resource: Value) -> Value {
    json!({
        "subject": { "type": "identity", "id": subject },
        "action": { "name": action },
        "resource": resource,
    })
}

fn todo(owner: &str) -> Value {
    json!({ "type": "todo", "id": "7240d0db", "properties": { "ownerID": owner } })
}

fn anything(kind: &str) -> Value {
    json!({ "type": kind, "id": "x" })
}

#[tokio::test]
async fn the_todo_scenario_is_decided_as_its_roles_say() {
    let server = TestServer::start().await;
    todo_world(&server).await;
    let cases = [
        // Everyone reads users and todos.
        (BETH, "can_read_user", anything("user"), true),
        (JERRY, "can_read_todos", anything("todo"), true),
        // Creating takes an editor or an admin.
        (MORTY, "can_create_todo", anything("todo"), true),
        (RICK, "can_create_todo", anything("todo"), true),
        (BETH, "can_create_todo", anything("todo"), false),
        // An editor updates and deletes their own todos only.
        (MORTY, "can_update_todo", todo(MORTY), true),
        (MORTY, "can_update_todo", todo(SUMMER), false),
        (SUMMER, "can_delete_todo", todo(SUMMER), true),
        (SUMMER, "can_delete_todo", todo(RICK), false),
        // An evil genius updates anyone's; an admin deletes anyone's.
        (RICK, "can_update_todo", todo(MORTY), true),
        (RICK, "can_delete_todo", todo(BETH), true),
        // A viewer changes nothing, not even their own.
        (BETH, "can_update_todo", todo(BETH), false),
        (JERRY, "can_delete_todo", todo(JERRY), false),
        // Without the owner, an editor's own-todo rule does not apply.
        (MORTY, "can_update_todo", anything("todo"), false),
    ];
    for (subject, action, resource, expected) in cases {
        let reply = server
            .post(
                "/access/v1/evaluation",
                evaluation(subject, action, resource.clone()),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let want = if expected {
            json!({ "decision": true })
        } else {
            json!({ "decision": false, "context": { "reason": "no-matching-allow" } })
        };
        assert_eq!(reply.body, want, "{subject} {action} {resource}");
    }
    // A permission's own name needs no mapping.
    let direct = server
        .post(
            "/access/v1/evaluation",
            evaluation(MORTY, "todo:todos:update", todo(MORTY)),
        )
        .await;
    assert_eq!(direct.body, json!({ "decision": true }));
}

#[tokio::test]
async fn a_boxcar_runs_with_defaults_and_each_semantic() {
    let server = TestServer::start().await;
    todo_world(&server).await;
    let evaluations = json!([
        { "resource": todo(MORTY) },
        { "resource": todo(SUMMER) },
        { "action": { "name": "can_read_todos" } },
        { "action": { "name": "can_fly" } },
    ]);
    let request = |semantic: &str| {
        json!({
            "subject": { "type": "identity", "id": MORTY },
            "action": { "name": "can_update_todo" },
            "resource": anything("todo"),
            "evaluations": evaluations,
            "options": { "evaluations_semantic": semantic },
        })
    };
    let allow = json!({ "decision": true });
    let deny = json!({ "decision": false, "context": { "reason": "no-matching-allow" } });
    let unmapped = json!({ "decision": false, "context": { "error": { "status": 400,
        "message": "the action `can_fly` is not mapped to a permission; map it in the account's AuthZEN mapping (`actions`) or name a catalogue permission" } } });
    for (semantic, expected) in [
        ("execute_all", json!([allow, deny, allow, unmapped])),
        ("deny_on_first_deny", json!([allow, deny])),
        ("permit_on_first_permit", json!([allow])),
    ] {
        let reply = server
            .post("/access/v1/evaluations", request(semantic))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.body, json!({ "evaluations": expected }), "{semantic}");
    }
    // Without evaluations the defaults are one evaluation, answered as one.
    let single = server
        .post(
            "/access/v1/evaluations",
            evaluation(MORTY, "can_update_todo", todo(MORTY)),
        )
        .await;
    assert_eq!(single.body, allow);
    // An evaluation that has nothing to fill a member with is its own error.
    let incomplete = server
        .post(
            "/access/v1/evaluations",
            json!({ "evaluations": [ evaluation(BETH, "can_read_todos", anything("todo")), { "subject": { "type": "identity", "id": BETH } } ] }),
        )
        .await;
    assert_eq!(
        incomplete.body,
        json!({ "evaluations": [allow, { "decision": false, "context": { "error": { "status": 400,
            "message": "an evaluation has no `action`, and the request gives no default `action`" } } }] })
    );
}

#[tokio::test]
async fn malformed_requests_get_the_specs_error_statuses_and_change_nothing() {
    let server = TestServer::start().await;
    todo_world(&server).await;
    let refused = |body: Value| {
        let server = &server;
        async move { server.post("/access/v1/evaluation", body).await }
    };
    // No subject; a subject that is not an object; an unknown member; an empty id.
    for body in [
        json!({ "action": { "name": "can_read_todos" }, "resource": anything("todo") }),
        json!({ "subject": "rick", "action": { "name": "can_read_todos" }, "resource": anything("todo") }),
        json!({ "subject": { "type": "identity", "id": RICK, "role": "admin" }, "action": { "name": "can_read_todos" }, "resource": anything("todo") }),
    ] {
        let reply = refused(body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.body["error"]["code"], "invalid", "{}", reply.body);
    }
    let empty = refused(evaluation("", "can_read_todos", anything("todo"))).await;
    assert_eq!(
        (empty.status, empty.body["error"]["message"].clone()),
        (StatusCode::BAD_REQUEST, json!("`subject.id` is empty"))
    );
    let unmapped = refused(evaluation(RICK, "can_fly", anything("todo"))).await;
    assert_eq!(unmapped.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        unmapped.body["error"]["details"],
        json!({ "action": "can_fly" })
    );
    // An owner given as an object cannot be read as an attribute.
    let object = refused(evaluation(
        MORTY,
        "can_update_todo",
        json!({ "type": "todo", "id": "1", "properties": { "ownerID": { "email": MORTY } } }),
    ))
    .await;
    assert_eq!(
        (object.status, object.body["error"]["message"].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!(
                "`resource.properties.ownerID` is read as `todo:owner`, which takes a string or a list of strings"
            )
        )
    );
    // Not JSON; no token.
    let text = server
        .raw(Method::POST, "/access/v1/evaluation", "text/plain", b"{}")
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let anonymous = server
        .call_as(
            None,
            Method::POST,
            "/access/v1/evaluation",
            Some(evaluation(RICK, "can_read_todos", anything("todo"))),
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    // Too many evaluations in one boxcar.
    let many: Vec<Value> = (0..1_001).map(|_| json!({})).collect();
    let boxcar = server
        .post(
            "/access/v1/evaluations",
            json!({ "subject": { "type": "identity", "id": RICK }, "action": { "name": "can_read_todos" }, "resource": anything("todo"), "evaluations": many }),
        )
        .await;
    assert_eq!(boxcar.status, StatusCode::BAD_REQUEST, "{}", boxcar.body);
}

#[tokio::test]
async fn a_person_asks_about_themselves_and_not_about_others() {
    let server = TestServer::start().await;
    let morty = todo_world(&server).await;
    let token = crate::journey::token_for(&server, &morty).await;
    let ask = |subject: &str| {
        let (server, token) = (&server, token.clone());
        let body = evaluation(subject, "can_update_todo", todo(MORTY));
        async move {
            server
                .call_as(
                    Some(&token),
                    Method::POST,
                    "/access/v1/evaluation",
                    Some(body),
                )
                .await
        }
    };
    let own = ask(MORTY).await;
    assert_eq!(
        (own.status, own.body),
        (StatusCode::OK, json!({ "decision": true }))
    );
    let other = ask(RICK).await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.body);
    // Searching for subjects is asking about everyone.
    let search = server
        .call_as(
            Some(&token),
            Method::POST,
            "/access/v1/search/subject",
            Some(json!({ "subject": { "type": "user" }, "action": { "name": "can_read_todos" }, "resource": anything("todo") })),
        )
        .await;
    assert_eq!(
        (search.status, search.body["error"]["message"].clone()),
        (
            StatusCode::FORBIDDEN,
            json!(
                "searching for subjects asks about everyone: it takes `iam:effective-permissions:read` for every principal"
            )
        )
    );
    // Nor may Morty read or change the mapping.
    let mapping = format!("{}/authzen", acc(&server));
    let read = server
        .call_as(Some(&token), Method::GET, &mapping, None)
        .await;
    assert_eq!(read.status, StatusCode::FORBIDDEN);
    let write = server
        .call_as(
            Some(&token),
            Method::PUT,
            &mapping,
            Some(json!({ "actions": { "can_read_todos": "todo:todos:delete" } })),
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(
        server.get(&mapping).await.body["actions"]["can_read_todos"],
        "todo:todos:read"
    );
}

#[tokio::test]
async fn searches_page_through_subjects_and_actions() {
    let server = TestServer::start().await;
    todo_world(&server).await;
    let subjects = |page: Value| {
        let server = &server;
        async move {
            server
                .post(
                    "/access/v1/search/subject",
                    json!({ "subject": { "type": "user" }, "action": { "name": "can_delete_todo" }, "resource": todo(SUMMER), "page": page }),
                )
                .await
        }
    };
    // Who may delete Summer's todo: Rick (admin) and Summer (her own); the administrator of the
    // account holds every permission too.
    let all = subjects(json!({})).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(
        all.body,
        json!({ "results": [
            { "type": "user", "id": "admin@warden.local" },
            { "type": "user", "id": RICK },
            { "type": "user", "id": SUMMER },
        ], "page": { "next_token": "" } })
    );
    let first = subjects(json!({ "limit": 2 })).await;
    let next = first.body["page"]["next_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!next.is_empty(), "{}", first.body);
    let rest = subjects(json!({ "limit": 2, "token": next })).await;
    let mut paged: Vec<Value> = first.body["results"].as_array().unwrap().clone();
    let mut token = rest.body["page"]["next_token"].clone();
    paged.extend(rest.body["results"].as_array().unwrap().iter().cloned());
    while token != "" {
        let more = subjects(json!({ "limit": 2, "token": token })).await;
        paged.extend(more.body["results"].as_array().unwrap().iter().cloned());
        token = more.body["page"]["next_token"].clone();
    }
    assert_eq!(Value::Array(paged), all.body["results"]);
    // Searching asks about principals; it is not their use of the action.
    server.state.flush_usage().await.unwrap();
    let summer = server
        .get(&format!("{}/users/{SUMMER}", acc(&server)))
        .await
        .body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let used = server.state.store.usage(Some(&summer)).await.unwrap();
    assert!(used.is_empty(), "{used:?}");
    let forged = subjects(json!({ "token": "page-2" })).await;
    assert_eq!(
        (forged.status, forged.body["error"]["message"].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!("`page.token` `page-2` is not a token this server gave; start without one")
        )
    );

    let actions = server
        .post(
            "/access/v1/search/action",
            json!({ "subject": { "type": "identity", "id": MORTY }, "resource": todo(MORTY) }),
        )
        .await;
    assert_eq!(
        actions.body,
        json!({ "results": [
            { "name": "can_create_todo" },
            { "name": "can_delete_todo" },
            { "name": "can_read_todos" },
            { "name": "can_read_user" },
            { "name": "can_update_todo" },
        ], "page": { "next_token": "" } })
    );
    let theirs = server
        .post(
            "/access/v1/search/action",
            json!({ "subject": { "type": "identity", "id": MORTY }, "resource": todo(RICK) }),
        )
        .await;
    assert_eq!(
        theirs.body["results"],
        json!([{ "name": "can_create_todo" }, { "name": "can_read_todos" }, { "name": "can_read_user" }])
    );
}

#[tokio::test]
async fn the_discovery_document_and_the_mappings_checks() {
    let server = TestServer::start().await;
    let document = server
        .call_as(
            None,
            Method::GET,
            "/.well-known/authzen-configuration",
            None,
        )
        .await;
    let base = &server.base;
    assert_eq!(
        (document.status, document.body),
        (
            StatusCode::OK,
            json!({
                "policy_decision_point": base,
                "access_evaluation_endpoint": format!("{base}/access/v1/evaluation"),
                "access_evaluations_endpoint": format!("{base}/access/v1/evaluations"),
                "search_subject_endpoint": format!("{base}/access/v1/search/subject"),
                "search_resource_endpoint": format!("{base}/access/v1/search/resource"),
                "search_action_endpoint": format!("{base}/access/v1/search/action"),
            })
        )
    );
    let mapping = format!("{}/authzen", acc(&server));
    assert_eq!(
        server.get(&mapping).await.body,
        json!({ "actions": {}, "resource_properties": {}, "subject_properties": {}, "context_properties": {} })
    );
    let typo = server
        .put(
            &mapping,
            json!({ "actions": { "read": "storage:logs:reed" } }),
        )
        .await;
    assert_eq!(
        (typo.status, typo.body["error"]["message"].clone()),
        (
            StatusCode::BAD_REQUEST,
            json!(
                "`actions` maps `read` to `storage:logs:reed`, which is not a permission of the catalogue; did you mean `storage:logs:read`?"
            )
        )
    );
    let attribute = server
        .put(
            &mapping,
            json!({ "resource_properties": { "bucket": "storage:bucket" } }),
        )
        .await;
    assert_eq!(
        attribute.body["error"]["message"],
        "`resource_properties` maps `bucket` to `storage:bucket`, which is not a condition attribute of the catalogue"
    );
    // Nothing was stored by the refusals; a good mapping is, and `null` sections are empty.
    let good = server
        .put(
            &mapping,
            json!({ "actions": { "read": "storage:logs:read" }, "resource_properties": { "bucket": "storage:bucket-name" }, "subject_properties": null }),
        )
        .await;
    assert_eq!(good.status, StatusCode::OK, "{}", good.body);
    assert!(good.revision.is_some());
    assert_eq!(
        server.get(&mapping).await.body,
        json!({ "actions": { "read": "storage:logs:read" }, "resource_properties": { "bucket": "storage:bucket-name" }, "subject_properties": {}, "context_properties": {} })
    );
}

const DOCS_SERVICE: &str = r#"
[service]
name = "docs"
[conditions."docs:id"]
operators = ["=", "!=", "IN", "NOT IN"]
[conditions."docs:team"]
operators = ["=", "!="]
[[permissions]]
name = "docs:documents:read"
conditions = ["docs:id", "docs:team"]
"#;

/// Resource search reads the residual: a list of ids when the policies name ids, 501 with the
/// condition when they do not, nothing when nothing is allowed.
#[tokio::test]
async fn resources_are_found_where_the_policies_list_them() {
    let server = TestServer::start().await;
    let file = warden_policy::ServiceFile::from_toml("docs.toml", DOCS_SERVICE).unwrap();
    let registered = server
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
    let search = |subject: &str| {
        json!({
            "subject": { "type": "user", "id": subject },
            "action": { "name": "read" },
            "resource": { "type": "document" },
        })
    };
    // Without `id` in the mapping, no condition can name a resource.
    let unmapped = server
        .post("/access/v1/search/resource", search("admin@warden.local"))
        .await;
    assert_eq!(
        unmapped.status,
        StatusCode::NOT_IMPLEMENTED,
        "{}",
        unmapped.body
    );
    assert_eq!(unmapped.body["error"]["code"], "not_implemented");
    assert!(
        unmapped.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the account's AuthZEN mapping does not map the resource's `id`"),
        "{}",
        unmapped.body
    );
    let acc = acc(&server);
    let mapped = server
        .put(
            &format!("{acc}/authzen"),
            json!({
                "actions": { "read": "docs:documents:read" },
                "resource_properties": { "id": "docs:id", "team": "docs:team" },
            }),
        )
        .await;
    assert_eq!(mapped.status, StatusCode::OK, "{}", mapped.body);
    crate::credentials::user_with(
        &server,
        "lister@example.com",
        "ALLOW docs:documents:read WHERE docs:id IN (\"d\", \"b\");\nALLOW docs:documents:read WHERE docs:id = \"a\";\nDENY docs:documents:read WHERE docs:id = \"b\";",
    )
    .await;
    crate::credentials::user_with(
        &server,
        "team@example.com",
        "ALLOW docs:documents:read WHERE docs:team = \"red\";",
    )
    .await;

    let listed = server
        .post("/access/v1/search/resource", search("lister@example.com"))
        .await;
    assert_eq!(
        (listed.status, listed.body),
        (
            StatusCode::OK,
            json!({ "results": [
                { "type": "document", "id": "a" },
                { "type": "document", "id": "d" },
            ], "page": { "next_token": "" } })
        )
    );
    let mut paged = search("lister@example.com");
    paged["page"] = json!({ "limit": 1 });
    let first = server
        .post("/access/v1/search/resource", paged.clone())
        .await;
    assert_eq!(
        first.body["results"],
        json!([{ "type": "document", "id": "a" }])
    );
    paged["page"]["token"] = first.body["page"]["next_token"].clone();
    let second = server.post("/access/v1/search/resource", paged).await;
    assert_eq!(
        second.body,
        json!({ "results": [{ "type": "document", "id": "d" }], "page": { "next_token": "" } })
    );

    // A condition on another attribute is not a list: 501, with the condition.
    let team = server
        .post("/access/v1/search/resource", search("team@example.com"))
        .await;
    assert_eq!(team.status, StatusCode::NOT_IMPLEMENTED, "{}", team.body);
    assert!(
        team.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the resources of type `document` that `team@example.com` may `read` are not a list of ids: those where docs:team = \"red\"; Warden keeps no inventory of resources"),
        "{}",
        team.body
    );
    assert_eq!(
        team.body["error"]["details"]["residual"],
        json!({ "attribute": "docs:team", "operator": "=", "values": ["red"] })
    );
    // …unless the request fixes it: then the ids are a list again (here: none for blue).
    let mut blue = search("team@example.com");
    blue["resource"]["properties"] = json!({ "team": "blue" });
    let none = server.post("/access/v1/search/resource", blue).await;
    assert_eq!(
        none.body,
        json!({ "results": [], "page": { "next_token": "" } })
    );
    // Every document is not a list either.
    let admin = server
        .post("/access/v1/search/resource", search("admin@warden.local"))
        .await;
    assert_eq!(admin.status, StatusCode::NOT_IMPLEMENTED, "{}", admin.body);
    assert!(
        admin.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("are not a list of ids: every one;"),
        "{}",
        admin.body
    );
    // Asking about someone else takes what asking their decisions takes.
    let (_, token) = crate::credentials::user_with(
        &server,
        "nosy@example.com",
        "ALLOW docs:documents:read WHERE docs:id = \"n\";",
    )
    .await;
    let nosy = server
        .call_as(
            Some(&token),
            Method::POST,
            "/access/v1/search/resource",
            Some(search("lister@example.com")),
        )
        .await;
    assert_eq!(nosy.status, StatusCode::FORBIDDEN, "{}", nosy.body);
    let own = server
        .call_as(
            Some(&token),
            Method::POST,
            "/access/v1/search/resource",
            Some(search("nosy@example.com")),
        )
        .await;
    assert_eq!(
        own.body,
        json!({ "results": [{ "type": "document", "id": "n" }], "page": { "next_token": "" } })
    );
}
