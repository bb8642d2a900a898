//! Justified elevation: a binding that gives a service user an `iam:` write permission or a global
//! Admin policy says why — whichever way the elevation comes (a binding, Dynatrace's bindings
//! endpoints, a membership, a policy edit, the console), and whoever makes it.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::TestServer;
use crate::console_writes::Browser;
use crate::credentials::{acc, service_user, user_with};

const HANDLE: &str = "gitlab_deploy_pipeline@service";

fn repo(server: &TestServer) -> String {
    format!("/iam/v1/repo/account/{}", server.account())
}

async fn group(server: &TestServer, name: &str) -> String {
    let made = server
        .post(
            &format!("{}/groups", acc(server)),
            json!([{ "name": name }]),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.body[0]["uuid"].as_str().unwrap().to_owned()
}

async fn policy(server: &TestServer, name: &str, text: &str) -> String {
    let made = server
        .post(
            &format!("{}/policies", repo(server)),
            json!({ "name": name, "statementQuery": text }),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.body["uuid"].as_str().unwrap().to_owned()
}

async fn global(server: &TestServer, name: &str) -> String {
    let globals = server.get("/iam/v1/repo/global/global/policies").await;
    globals.body["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap()["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The bindings of a group at account level, as `(policy, metadata)`.
async fn bindings_of(server: &TestServer, group: &str) -> Vec<(String, Value)> {
    let listed = server
        .get(&format!(
            "{}/bindings/groups/{group}?details=true",
            repo(server)
        ))
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    listed.body["bindingsDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["policyUuid"].as_str().unwrap().to_owned(),
                b["metadata"].clone(),
            )
        })
        .collect()
}

async fn groups_of(server: &TestServer, key: &str) -> Vec<String> {
    let user = server.get(&format!("{}/users/{key}", acc(server))).await;
    let mut names: Vec<String> = user.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["groupName"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn last_audit(server: &TestServer) -> Value {
    let log = server
        .get(&format!("{}/audit-log?limit=1000", acc(server)))
        .await;
    log.body["entries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

const BINDING_FIX: &str = "say why in the binding's metadata as `justification` (`POST …/bindings/{policyUuid}/{groupUuid}` with `metadata.justification`, `warden bind … --justification TEXT`, or the console's Justification field)";
const MEMBERSHIP_FIX: &str = "say why with the request's `justification` (`?justification=TEXT`, `warden user add-groups … --justification TEXT`, or the console's Justification field)";
const NO_PLACE_FIX: &str = "this kind of change cannot carry a justification: take the service user out of the group first, then add it back with a `justification`, or bind the policy with one";

fn refusal(what: &str, policy: &str, grants: &str, fix: &str) -> String {
    format!(
        "{what} would give service user `{HANDLE}` elevated access without a justification: policy `{policy}` {grants}; {fix}"
    )
}

#[tokio::test]
async fn binding_an_elevated_policy_to_a_service_users_group_needs_a_justification() {
    let server = TestServer::start().await;
    let (acc, repo) = (acc(&server), repo(&server));
    let deployers = group(&server, "deployers").await;
    service_user(&server, "GitLab deploy pipeline").await;
    // Joining a group with no elevated binding needs nothing.
    let joined = server
        .post(&format!("{acc}/users/{HANDLE}"), json!([deployers]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let writer = policy(
        &server,
        "Group writer",
        "ALLOW iam:groups:read, iam:groups:write, iam:users:write;",
    )
    .await;
    let expected = refusal(
        "this binding",
        "Group writer",
        "grants `iam:groups:write`, `iam:users:write` to group `deployers`",
        BINDING_FIX,
    );

    // Without a justification, or with a blank one: 400, nothing bound.
    for body in [
        json!({}),
        json!({ "metadata": { "justification": "  " } }),
        json!({ "metadata": { "ticket": "OPS-1" } }),
    ] {
        let refused = server
            .post(&format!("{repo}/bindings/{writer}/{deployers}"), body)
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.body["error"]["message"], expected.as_str());
        let details = &refused.body["error"]["details"];
        assert_eq!(details["rule"], "justification-required");
        assert_eq!(
            details["elevatedPermissions"],
            json!(["iam:groups:write", "iam:users:write"])
        );
        assert_eq!(details["adminPolicy"], false);
    }
    assert_eq!(bindings_of(&server, &deployers).await, []);

    // Dynatrace's endpoints cannot carry one: refused the same way.
    let dynatrace = server
        .post(
            &format!("{repo}/bindings/{writer}"),
            json!({ "groups": [deployers] }),
        )
        .await;
    assert_eq!(dynatrace.status, StatusCode::BAD_REQUEST);
    assert_eq!(dynatrace.body["error"]["message"], expected.as_str());
    let set = server
        .put(
            &format!("{repo}/bindings/groups/{deployers}"),
            json!({ "policyUuids": [writer] }),
        )
        .await;
    assert_eq!(set.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        set.body["error"]["message"],
        refusal(
            "this binding",
            "Group writer",
            "grants `iam:groups:write`, `iam:users:write` to group `deployers`",
            NO_PLACE_FIX
        )
        .as_str()
    );
    assert_eq!(bindings_of(&server, &deployers).await, []);

    // With one: bound, the justification kept with the binding and in the audit entry.
    let why = "deploys create a group per release (OPS-1234)";
    let bound = server
        .post(
            &format!("{repo}/bindings/{writer}/{deployers}"),
            json!({ "metadata": { "justification": why } }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    assert_eq!(
        bindings_of(&server, &deployers).await,
        [(writer.clone(), json!({ "justification": why }))]
    );
    let entry = last_audit(&server).await;
    assert_eq!(entry["action"], "binding.create");
    assert_eq!(entry["after"][0]["metadata"]["justification"], why);
    assert_eq!(entry["after"][0]["groupUuid"], deployers.as_str());

    // A global Admin policy is elevated by its kind: `Admin User` also grants
    // `iam:service-users:use`.
    let admin_user = global(&server, "Admin User").await;
    let refused = server
        .post(
            &format!("{repo}/bindings/{admin_user}/{deployers}"),
            json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(
        refused.body["error"]["message"],
        refusal(
            "this binding",
            "Admin User",
            "(a global Admin policy) grants `iam:service-users:use` to group `deployers`",
            BINDING_FIX
        )
        .as_str()
    );
    assert_eq!(refused.body["error"]["details"]["adminPolicy"], true);

    // Not elevated: reading `iam:`, or writing elsewhere — no justification asked.
    for (name, text) in [
        ("Group reader", "ALLOW iam:groups:read, iam:audit:read;"),
        ("Settings writer", "ALLOW settings:objects:write;"),
    ] {
        let plain = policy(&server, name, text).await;
        let bound = server
            .post(&format!("{repo}/bindings/{plain}/{deployers}"), json!({}))
            .await;
        assert_eq!(
            bound.status,
            StatusCode::NO_CONTENT,
            "{name}: {}",
            bound.body
        );
    }
    // Nor to a group of people only.
    let people = group(&server, "people").await;
    let bound = server
        .post(&format!("{repo}/bindings/{writer}/{people}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
}

#[tokio::test]
async fn a_service_user_joining_an_elevated_group_needs_a_justification() {
    let server = TestServer::start().await;
    let (acc, repo) = (acc(&server), repo(&server));
    let ops = group(&server, "ops").await;
    let writer = policy(&server, "Group writer", "ALLOW iam:groups:write;").await;
    // Bound first, while only people are in the group: nothing to justify yet.
    let bound = server
        .post(&format!("{repo}/bindings/{writer}/{ops}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let bot = service_user(&server, "GitLab deploy pipeline").await;
    let own = bot["groupUuid"].as_str().unwrap().to_owned();
    let before = groups_of(&server, HANDLE).await;
    let expected = refusal(
        "this membership change",
        "Group writer",
        "grants `iam:groups:write` to group `ops`",
        MEMBERSHIP_FIX,
    );

    // Adding the service user after is the same elevation: refused, by add and by replace.
    let added = server
        .post(&format!("{acc}/users/{HANDLE}"), json!([ops]))
        .await;
    assert_eq!(added.status, StatusCode::BAD_REQUEST, "{}", added.body);
    assert_eq!(added.body["error"]["message"], expected.as_str());
    let replaced = server
        .put(&format!("{acc}/users/{HANDLE}/groups"), json!([own, ops]))
        .await;
    assert_eq!(replaced.status, StatusCode::BAD_REQUEST);
    assert_eq!(replaced.body["error"]["message"], expected.as_str());
    let blank = server
        .post(
            &format!("{acc}/users/{HANDLE}?justification=%20"),
            json!([ops]),
        )
        .await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    assert_eq!(groups_of(&server, HANDLE).await, before);

    // With a justification: joined, and the audit entry keeps why.
    let joined = server
        .post(
            &format!("{acc}/users/{HANDLE}?justification=creates%20release%20groups"),
            json!([ops]),
        )
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let entry = last_audit(&server).await;
    assert_eq!(entry["action"], "user.memberships");
    assert_eq!(entry["after"]["justification"], "creates release groups");
    assert_eq!(entry["after"]["groups"], json!([own, ops]));
    assert_eq!(entry["before"]["groups"], json!([own]));

    // A second service user is a new elevation: the first one's justification does not count.
    service_user(&server, "Backup exporter").await;
    let second = server
        .post(
            &format!("{acc}/users/backup_exporter@service"),
            json!([ops]),
        )
        .await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST, "{}", second.body);
    // A person joins without one.
    let person = server
        .post(
            &format!("{acc}/users"),
            json!({ "email": "ann@example.com" }),
        )
        .await;
    assert_eq!(person.status, StatusCode::CREATED);
    let joined = server
        .post(&format!("{acc}/users/ann@example.com"), json!([ops]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);

    // A policy edit that makes a bound policy elevated cannot carry a justification.
    let reader = policy(&server, "Reader", "ALLOW iam:groups:read;").await;
    let bound = server
        .post(&format!("{repo}/bindings/{reader}/{own}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let edited = server
        .put(
            &format!("{repo}/policies/{reader}"),
            json!({ "name": "Reader", "statementQuery": "ALLOW iam:groups:read, iam:tokens:write;" }),
        )
        .await;
    assert_eq!(edited.status, StatusCode::BAD_REQUEST, "{}", edited.body);
    let own_name = server.get(&format!("{acc}/groups/{own}")).await.body["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        edited.body["error"]["message"],
        refusal(
            "this policy change",
            "Reader",
            &format!("grants `iam:tokens:write` to group `{own_name}`"),
            NO_PLACE_FIX
        )
        .as_str()
    );
}

#[tokio::test]
async fn a_delegated_administrator_cannot_bypass_the_justification() {
    let server = TestServer::start().await;
    let (acc, repo) = (acc(&server), repo(&server));
    let team = group(&server, "team").await;
    // Dana administers the bindings and members of `team`, and holds `iam:groups:write` herself,
    // so that granting it is within what she holds (no escalation): only the justification is
    // missing in each attempt below.
    let (_, dana) = user_with(
        &server,
        "dana@example.com",
        &format!(
            "ALLOW iam:bindings:write, iam:bindings:read WHERE iam:boundGroup = \"{team}\";\nALLOW iam:users:write, iam:users:read, iam:groups:read, iam:groups:write, iam:policies:read;"
        ),
    )
    .await;
    let writer = policy(&server, "Group writer", "ALLOW iam:groups:write;").await;
    service_user(&server, "GitLab deploy pipeline").await;
    let srv = &server;
    let as_dana = move |method: Method, path: String, body: Value| {
        let dana = dana.clone();
        async move { srv.call_as(Some(&dana), method, &path, Some(body)).await }
    };
    let message = |reply: &crate::common::Reply| {
        reply.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // Binding first, adding the service user after.
    let bound = as_dana(
        Method::POST,
        format!("{repo}/bindings/{writer}/{team}"),
        json!({}),
    )
    .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let added = as_dana(Method::POST, format!("{acc}/users/{HANDLE}"), json!([team])).await;
    assert_eq!(added.status, StatusCode::BAD_REQUEST, "{}", added.body);
    assert_eq!(
        message(&added),
        refusal(
            "this membership change",
            "Group writer",
            "grants `iam:groups:write` to group `team`",
            MEMBERSHIP_FIX
        )
    );
    let own = server
        .get(&format!("{acc}/service-users/{HANDLE}"))
        .await
        .body["groupUuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let replaced = as_dana(
        Method::PUT,
        format!("{acc}/users/{HANDLE}/groups"),
        json!([own, team]),
    )
    .await;
    assert_eq!(
        replaced.status,
        StatusCode::BAD_REQUEST,
        "{}",
        replaced.body
    );
    assert_eq!(groups_of(&server, HANDLE).await.len(), 1);

    // The service user in first (the administrator adds it, with nothing elevated bound), then
    // every binding path Dana has.
    let unbound = server
        .delete(&format!("{repo}/bindings/{writer}/{team}"))
        .await;
    assert_eq!(unbound.status, StatusCode::NO_CONTENT, "{}", unbound.body);
    let joined = server
        .post(&format!("{acc}/users/{HANDLE}"), json!([team]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let expected = refusal(
        "this binding",
        "Group writer",
        "grants `iam:groups:write` to group `team`",
        BINDING_FIX,
    );
    let attempts = [
        (
            Method::POST,
            format!("{repo}/bindings/{writer}/{team}"),
            json!({ "metadata": {} }),
        ),
        (
            Method::POST,
            format!("{repo}/bindings/{writer}"),
            json!({ "groups": [team] }),
        ),
        (
            Method::PUT,
            format!("{repo}/bindings/{writer}/{team}"),
            json!({ "parameters": {} }),
        ),
    ];
    for (method, path, body) in attempts {
        let refused = as_dana(method.clone(), path.clone(), body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            refused.body
        );
        assert_eq!(message(&refused), expected, "{method} {path}");
    }
    let set = as_dana(
        Method::PUT,
        format!("{repo}/bindings/groups/{team}"),
        json!({ "policyUuids": [writer] }),
    )
    .await;
    assert_eq!(set.status, StatusCode::BAD_REQUEST, "{}", set.body);
    assert!(message(&set).ends_with(NO_PLACE_FIX), "{}", set.body);
    assert_eq!(bindings_of(&server, &team).await, []);

    // With a justification, Dana may.
    let bound = as_dana(
        Method::POST,
        format!("{repo}/bindings/{writer}/{team}"),
        json!({ "metadata": { "justification": "release groups" } }),
    )
    .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
}

#[tokio::test]
async fn the_console_asks_a_delegated_administrator_for_the_justification_too() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let team = group(&server, "team").await;
    let ops = group(&server, "ops").await;
    let writer = policy(&server, "Group writer", "ALLOW iam:groups:write;").await;
    service_user(&server, "GitLab deploy pipeline").await;
    let joined = server
        .post(&format!("{acc}/users/{HANDLE}"), json!([team]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED);
    // Dana administers the bindings and members of `team` and `ops`, and holds what she grants.
    let (_, dana) = user_with(
        &server,
        "dana@example.com",
        &format!(
            "ALLOW iam:bindings:write, iam:bindings:read WHERE iam:boundGroup IN (\"{team}\", \"{ops}\");\nALLOW iam:users:write, iam:users:read, iam:groups:read, iam:groups:write, iam:policies:read, iam:service-users:read, iam:boundaries:read;"
        ),
    )
    .await;
    // The console's bindings page lists every binding of the level, which Dana may not read: its
    // form is the administrator's; the group's member form is Dana's.
    let browser = Browser::sign_in(&server).await;
    let delegated = Browser::sign_in_with(&server, &dana).await;

    // The binding form: refused without the field, the message shown; bound with it.
    let form = |justification: &'static str| {
        vec![
            ("level", "account"),
            ("return", ""),
            ("policy", writer.as_str()),
            ("group", team.as_str()),
            ("parameters", ""),
            ("justification", justification),
            ("action", "save"),
        ]
    };
    let refused = browser.post("/console/bindings", &form("")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains(
            "would give service user `gitlab_deploy_pipeline@service` elevated access without a justification: policy `Group writer` grants `iam:groups:write` to group `team`"
        ),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("name=\"justification\""));
    assert_eq!(bindings_of(&server, &team).await, []);
    let bound = browser
        .post("/console/bindings", &form("release groups"))
        .await;
    assert_eq!(bound.status, StatusCode::SEE_OTHER, "{}", bound.body);
    assert_eq!(
        bindings_of(&server, &team).await,
        [(writer.clone(), json!({ "justification": "release groups" }))]
    );
    let listed = browser.get("/console/bindings?level=account").await;
    assert!(
        listed.body.contains("<th scope=\"col\">Justification</th>"),
        "{}",
        listed.body
    );
    assert!(
        listed
            .body
            .contains("<td data-label=\"Justification\">release groups</td>"),
        "{}",
        listed.body
    );

    // The group's member form: the reverse path (bound first, while nobody is in `ops`).
    let bound = server
        .call_as(
            Some(&dana),
            Method::POST,
            &format!("{}/bindings/{writer}/{ops}", repo(&server)),
            Some(json!({})),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let path = format!("/console/groups/{ops}/members");
    let refused = delegated
        .post(&path, &[("principal", HANDLE), ("justification", "")])
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("this membership change would give service user"),
        "{}",
        refused.body
    );
    assert_eq!(groups_of(&server, HANDLE).await.len(), 2);
    let added = delegated
        .post(
            &path,
            &[("principal", HANDLE), ("justification", "ops rota")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(groups_of(&server, HANDLE).await.len(), 3);
}
