//! The guardrails of delegated administration, attacked over HTTP (SPEC §3, §6, §9).
//!
//! Each test sets up a victim's situation as an administrator would, then acts as a delegated
//! attacker — a user holding only the permissions it names, through a platform token of its own
//! — and sends exactly the attack's request. It asserts the refusal (status and the whole error
//! body), that the store's revision did not move and the target is as it was, and that the
//! victim's decision is still what it was. Where the same request by someone who holds what it
//! takes must succeed, that is tested too, so that no test passes by refusing everything.

use serde_json::{Value, json};
use warden_client::{Method, StatusCode};

use crate::common::{Reply, TestServer};
use crate::credentials::{acc, user_with};
use crate::journey::token_for;

const WF: &str = "/automation/v1/workflows";
const CONSENT: &str = "/automation/v1/authorization-settings";

// ---- helpers ------------------------------------------------------------------------------------

fn repo(server: &TestServer) -> String {
    format!("/iam/v1/repo/account/{}", server.account())
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

/// The store's revision, read from the store itself.
async fn revision(server: &TestServer) -> i64 {
    server.state.store.revision().await.unwrap()
}

async fn group(server: &TestServer, name: &str) -> String {
    let reply = server
        .post(
            &format!("{}/groups", acc(server)),
            json!([{ "name": name }]),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body[0]["uuid"].as_str().unwrap().to_owned()
}

/// A policy at the level of `repo` (`/iam/v1/repo/{levelType}/{levelId}`).
async fn policy(server: &TestServer, repo: &str, name: &str, text: &str) -> String {
    let reply = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": name, "statementQuery": text }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["uuid"].as_str().unwrap().to_owned()
}

/// Binds `policy` to `group` at the level of `repo`.
async fn bind(server: &TestServer, repo: &str, policy: &str, group: &str) {
    let reply = server
        .post(&format!("{repo}/bindings/{policy}/{group}"), json!({}))
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
}

/// A user in `groups`; returns the uid.
async fn user_in(server: &TestServer, email: &str, groups: &[&str]) -> String {
    let acc = acc(server);
    let user = server
        .post(&format!("{acc}/users"), json!({ "email": email }))
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    if !groups.is_empty() {
        let joined = server
            .post(&format!("{acc}/users/{email}"), json!(groups))
            .await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    user.body["uid"].as_str().unwrap().to_owned()
}

/// The uuids of a user's groups, sorted.
async fn groups_of(server: &TestServer, email: &str) -> Vec<String> {
    let reply = server.get(&format!("{}/users/{email}", acc(server))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut groups: Vec<String> = reply.body["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["uuid"].as_str().unwrap().to_owned())
        .collect();
    groups.sort();
    groups
}

/// The uuid of a group by name.
async fn group_named(server: &TestServer, name: &str) -> String {
    let reply = server.get(&format!("{}/groups", acc(server))).await;
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == name)
        .unwrap_or_else(|| panic!("no group `{name}`"))["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The decision for `principal`, asked by the administrator (in `environment`, or at account
/// level).
async fn decide(
    server: &TestServer,
    principal: &str,
    permission: &str,
    environment: Option<&str>,
    attributes: Value,
) -> String {
    explain(server, principal, permission, environment, attributes).await["decision"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The decision with its explanation.
async fn explain(
    server: &TestServer,
    principal: &str,
    permission: &str,
    environment: Option<&str>,
    attributes: Value,
) -> Value {
    let mut body =
        json!({ "principal": principal, "permission": permission, "attributes": attributes });
    if let Some(environment) = environment {
        body["environment"] = json!(environment);
    }
    let reply = server.post("/iam/v1/authorize?explain=true", body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// Who a refused grant would have reached.
#[derive(Clone, Copy)]
enum Whom<'a> {
    Principal(&'a str),
    /// Whoever is or becomes a member of the group: `(uuid, name)`.
    Group(&'a str, &'a str),
}

/// The 403 of a change that would give `whom` a `permission` at `level` that its author does not
/// hold there (SPEC §6); `what` names the change as the server does.
fn escalation(what: &str, whom: Whom<'_>, permission: &str, level: &str) -> Value {
    let (whom, key, value) = match whom {
        Whom::Principal(email) => (format!("`{email}`"), "principal", email),
        Whom::Group(uuid, name) => (format!("members of group `{name}`"), "group", uuid),
    };
    let mut details = json!({ "permission": permission, "rule": "no-escalation", "level": level });
    details[key] = json!(value);
    json!({ "error": {
        "code": "forbidden",
        "message": format!("{what} would give {whom} `{permission}` at {level} level, which you do not hold there yourself; only someone who holds it there may grant it (or take away a DENY of it)"),
        "details": details,
    } })
}

/// The 403 of acting as someone who holds what the caller does not.
fn acting_as(what: &str, email: &str, permission: &str, level: &str) -> Value {
    json!({ "error": {
        "code": "forbidden",
        "message": format!("{what} would let you act as `{email}`, who holds `{permission}` at {level} level where you do not; acting as someone needs everything they hold"),
        "details": { "permission": permission, "rule": "no-escalation", "level": level, "principal": email },
    } })
}

/// The 403 of a caller without the permission an endpoint needs.
fn lacking(permission: &str) -> Value {
    json!({ "error": {
        "code": "forbidden",
        "message": format!("permission `{permission}` is required for this request"),
        "details": { "permission": permission },
    } })
}

/// The 409 of a change that would leave the account without an administrator.
fn last_administrator() -> Value {
    json!({ "error": {
        "code": "conflict",
        "message": "this change would leave the account without an administrator (an active user or service user holding every `iam:*` permission); make someone else an administrator first",
        "details": { "rule": "last-administrator" },
    } })
}

fn not_found(kind: &str, id: &str) -> Value {
    json!({ "error": {
        "code": "not_found",
        "message": format!("{kind} `{id}` does not exist"),
        "details": null,
    } })
}

fn refused(reply: &Reply) -> (StatusCode, Value) {
    (reply.status, reply.body.clone())
}

// ---- 1. guardrails removed by people who do not hold the permission -----------------------------

/// A victim allowed `settings:objects:read` through one group and denied it for schema `x`
/// through another (the guard), both bound at account level.
struct Guarded {
    readers: String,
    guard: String,
    deny: String,
    deny_name: String,
    victim: String,
}

const DENY_X: &str = "DENY settings:objects:read WHERE settings:schemaId = \"x\";";

async fn guarded(server: &TestServer, tag: &str) -> Guarded {
    let repo = repo(server);
    let readers = group(server, &format!("{tag} readers")).await;
    let guard = group(server, &format!("{tag} guard")).await;
    let allow = policy(
        server,
        &repo,
        &format!("{tag} settings read"),
        "ALLOW settings:objects:read;",
    )
    .await;
    let deny_name = format!("{tag} no schema x");
    let deny = policy(server, &repo, &deny_name, DENY_X).await;
    bind(server, &repo, &allow, &readers).await;
    bind(server, &repo, &deny, &guard).await;
    let victim = format!("victim-{tag}@example.com");
    user_in(server, &victim, &[&readers, &guard]).await;
    let scene = Guarded {
        readers,
        guard,
        deny,
        deny_name,
        victim,
    };
    assert_eq!(schema(server, &scene, "x").await, "DENY");
    assert_eq!(schema(server, &scene, "y").await, "ALLOW");
    scene
}

/// The victim's decision for `settings:objects:read` on a schema, in env-prod.
async fn schema(server: &TestServer, scene: &Guarded, schema: &str) -> String {
    decide(
        server,
        &scene.victim,
        "settings:objects:read",
        Some("env-prod"),
        json!({ "settings:schemaId": schema }),
    )
    .await
}

/// What the attacks on a guard target: the DENY policy, its binding, the victim's groups, the
/// guard group.
async fn guard_state(server: &TestServer, scene: &Guarded) -> (Value, Value, Vec<String>, Value) {
    let repo = repo(server);
    let policy = server
        .get(&format!("{repo}/policies/{}", scene.deny))
        .await
        .body;
    let binding = server
        .get(&format!("{repo}/bindings/{}/{}", scene.deny, scene.guard))
        .await
        .body;
    let group = server
        .get(&format!("{}/groups/{}", acc(server), scene.guard))
        .await
        .body;
    (
        policy,
        binding,
        groups_of(server, &scene.victim).await,
        group,
    )
}

/// The five ways of taking the guard away, as requests: `(what the server calls the change,
/// method, path, body)`.
fn guard_removals(
    server: &TestServer,
    scene: &Guarded,
) -> Vec<(&'static str, Method, String, Option<Value>)> {
    let (repo, acc) = (repo(server), acc(server));
    vec![
        // (a) the DENY edited away (the new text denies something else)
        (
            "this policy change",
            Method::PUT,
            format!("{repo}/policies/{}", scene.deny),
            Some(
                json!({ "name": scene.deny_name, "statementQuery": "DENY settings:objects:write WHERE settings:schemaId = \"x\";" }),
            ),
        ),
        // (b) the DENY policy deleted with its bindings
        (
            "this policy change",
            Method::DELETE,
            format!("{repo}/policies/{}?force=true", scene.deny),
            None,
        ),
        // (c) the DENY unbound
        (
            "this binding",
            Method::DELETE,
            format!("{repo}/bindings/{}/{}", scene.deny, scene.guard),
            None,
        ),
        // (d) the victim taken out of the guard group
        (
            "this membership change",
            Method::DELETE,
            format!(
                "{acc}/users/{}/groups?group-uuid={}",
                scene.victim, scene.guard
            ),
            None,
        ),
        // (e) the guard group deleted
        (
            "this group change",
            Method::DELETE,
            format!("{acc}/groups/{}", scene.guard),
            None,
        ),
    ]
}

#[tokio::test]
async fn guardrails_cannot_be_removed_by_people_who_do_not_hold_the_permission() {
    let server = TestServer::start().await;
    let scene = guarded(&server, "g").await;
    // One attacker per removal, each holding only the `iam:*` permission it needs.
    let (_, policies) =
        user_with(&server, "policies@example.com", "ALLOW iam:policies:write;").await;
    let (_, bindings) = user_with(
        &server,
        "bindings@example.com",
        &format!(
            "ALLOW iam:bindings:write WHERE iam:boundGroup = \"{}\";",
            scene.guard
        ),
    )
    .await;
    let (_, users) = user_with(&server, "users@example.com", "ALLOW iam:users:write;").await;
    let (_, groups) = user_with(&server, "groups@example.com", "ALLOW iam:groups:write;").await;
    let attackers = [&policies, &policies, &bindings, &users, &groups];

    let target = guard_state(&server, &scene).await;
    let at = revision(&server).await;
    for ((what, method, path, body), token) in
        guard_removals(&server, &scene).into_iter().zip(attackers)
    {
        let reply = as_(&server, token, method.clone(), &path, body).await;
        assert_eq!(
            refused(&reply),
            (
                StatusCode::FORBIDDEN,
                escalation(
                    what,
                    Whom::Principal(&scene.victim),
                    "settings:objects:read",
                    "account"
                )
            ),
            "{method} {path}"
        );
        assert_eq!(revision(&server).await, at, "{method} {path} wrote nothing");
        assert_eq!(
            guard_state(&server, &scene).await,
            target,
            "{method} {path}"
        );
        assert_eq!(
            schema(&server, &scene, "x").await,
            "DENY",
            "{method} {path}"
        );
    }
    // Other spellings of the same removals: the victim's groups replaced by a list without the
    // guard, every binding of the DENY policy removed, the guard group's bindings set to none,
    // and the DENY narrowed to another environment.
    let (acc, repo) = (acc(&server), repo(&server));
    let variants = [
        (
            &users,
            "this membership change",
            Method::PUT,
            format!("{acc}/users/{}/groups", scene.victim),
            json!([scene.readers]),
            "account",
        ),
        (
            &bindings,
            "this binding",
            Method::DELETE,
            format!("{repo}/bindings/{}", scene.deny),
            Value::Null,
            "account",
        ),
        (
            &bindings,
            "this binding",
            Method::PUT,
            format!("{repo}/bindings/groups/{}", scene.guard),
            json!({ "policyUuids": [] }),
            "account",
        ),
        (
            &policies,
            "this policy change",
            Method::PUT,
            format!("{repo}/policies/{}", scene.deny),
            json!({ "name": scene.deny_name, "statementQuery": "DENY settings:objects:read WHERE settings:schemaId = \"x\" AND global:environmentId = \"env-dev\";" }),
            "environment:env-prod",
        ),
    ];
    for (token, what, method, path, body, level) in variants {
        let body = (!body.is_null()).then_some(body);
        let reply = as_(&server, token, method.clone(), &path, body).await;
        assert_eq!(
            refused(&reply),
            (
                StatusCode::FORBIDDEN,
                escalation(
                    what,
                    Whom::Principal(&scene.victim),
                    "settings:objects:read",
                    level
                )
            ),
            "{method} {path}"
        );
        assert_eq!(revision(&server).await, at, "{method} {path} wrote nothing");
        assert_eq!(
            guard_state(&server, &scene).await,
            target,
            "{method} {path}"
        );
        assert_eq!(
            schema(&server, &scene, "x").await,
            "DENY",
            "{method} {path}"
        );
    }

    // The bindings delegate is refused by its own limit outside the guard group, before any
    // question of what the change gives.
    let elsewhere = as_(
        &server,
        &bindings,
        Method::DELETE,
        &format!("{repo}/bindings/{}/{}", scene.deny, scene.readers),
        None,
    )
    .await;
    assert_eq!(
        refused(&elsewhere),
        (StatusCode::FORBIDDEN, lacking("iam:bindings:write"))
    );

    // Someone who holds `settings:objects:read` outright may take the DENY away: the refusals
    // were about the permission, not about the kind of change.
    let (_, holder) = user_with(
        &server,
        "holder@example.com",
        "ALLOW iam:policies:write;\nALLOW settings:objects:read;",
    )
    .await;
    let (_, method, path, body) = guard_removals(&server, &scene).swap_remove(0);
    let edited = as_(&server, &holder, method, &path, body).await;
    assert_eq!(edited.status, StatusCode::NO_CONTENT, "{}", edited.body);
    assert_eq!(schema(&server, &scene, "x").await, "ALLOW");
}

#[tokio::test]
async fn an_administrator_can_still_remove_each_guardrail() {
    let server = TestServer::start().await;
    for (i, expected) in [
        StatusCode::NO_CONTENT,
        StatusCode::NO_CONTENT,
        StatusCode::NO_CONTENT,
        StatusCode::OK,
        StatusCode::OK,
    ]
    .into_iter()
    .enumerate()
    {
        let scene = guarded(&server, &format!("case{i}")).await;
        let (_, method, path, body) = guard_removals(&server, &scene).swap_remove(i);
        let reply = server.call(method.clone(), &path, body).await;
        assert_eq!(reply.status, expected, "{method} {path}: {}", reply.body);
        assert_eq!(
            schema(&server, &scene, "x").await,
            "ALLOW",
            "{method} {path} took the DENY away"
        );
    }
}

/// A restriction is a guardrail too: a boundary widened, or a DENY's bind parameter moved, takes
/// access away from no one and gives it to the victim.
#[tokio::test]
async fn restrictions_cannot_be_lifted_by_a_boundary_or_a_parameter_change() {
    let server = TestServer::start().await;
    let repo = repo(&server);
    let zone = group(&server, "zone").await;
    let reads = policy(&server, &repo, "reads", "ALLOW settings:objects:read;").await;
    let boundary = server
        .post(
            &format!("{repo}/boundaries"),
            json!({ "name": "schemas y", "boundaryQuery": "settings:schemaId startsWith \"y\"" }),
        )
        .await;
    assert_eq!(boundary.status, StatusCode::CREATED, "{}", boundary.body);
    let boundary = boundary.body["uuid"].as_str().unwrap().to_owned();
    let bound = server
        .post(
            &format!("{repo}/bindings/{reads}/{zone}"),
            json!({ "boundaries": [boundary] }),
        )
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    let guard = group(&server, "guard").await;
    let deny = policy(
        &server,
        &repo,
        "no schema",
        "DENY settings:objects:read WHERE settings:schemaId = \"${bindParam:schema}\";",
    )
    .await;
    let denied = server
        .post(
            &format!("{repo}/bindings/{deny}/{guard}"),
            json!({ "parameters": { "schema": "y-secret" } }),
        )
        .await;
    assert_eq!(denied.status, StatusCode::NO_CONTENT, "{}", denied.body);
    let victim = "victim@example.com";
    user_in(&server, victim, &[&zone, &guard]).await;
    let schema = |schema: &'static str| {
        let server = &server;
        async move {
            decide(
                server,
                victim,
                "settings:objects:read",
                Some("env-prod"),
                json!({ "settings:schemaId": schema }),
            )
            .await
        }
    };
    assert_eq!(schema("y").await, "ALLOW");
    assert_eq!(schema("y-secret").await, "DENY");
    assert_eq!(schema("x").await, "DENY");

    let (_, boundaries) = user_with(
        &server,
        "boundaries@example.com",
        "ALLOW iam:boundaries:write;",
    )
    .await;
    let (_, bindings) = user_with(
        &server,
        "bindings@example.com",
        &format!("ALLOW iam:bindings:write WHERE iam:boundGroup = \"{guard}\";"),
    )
    .await;
    let boundary_path = format!("{repo}/boundaries/{boundary}");
    let binding_path = format!("{repo}/bindings/{deny}/{guard}");
    let before = (
        server.get(&boundary_path).await.body,
        server.get(&binding_path).await.body,
    );
    let at = revision(&server).await;
    for (token, what, path, body) in [
        (
            &boundaries,
            "this boundary change",
            boundary_path.clone(),
            json!({ "name": "schemas y", "boundaryQuery": "settings:schemaId startsWith \"y\"\nsettings:schemaId = \"x\"" }),
        ),
        (
            &bindings,
            "this binding",
            format!("{binding_path}?parameters%5Bschema%5D=y-secret"),
            json!({ "parameters": { "schema": "z" } }),
        ),
    ] {
        let reply = as_(&server, token, Method::PUT, &path, Some(body)).await;
        assert_eq!(
            refused(&reply),
            (
                StatusCode::FORBIDDEN,
                escalation(
                    what,
                    Whom::Principal(victim),
                    "settings:objects:read",
                    "account"
                )
            ),
            "PUT {path}"
        );
        assert_eq!(revision(&server).await, at, "PUT {path} wrote nothing");
        assert_eq!(
            (
                server.get(&boundary_path).await.body,
                server.get(&binding_path).await.body
            ),
            before,
            "PUT {path}"
        );
        assert_eq!(schema("x").await, "DENY", "PUT {path}");
        assert_eq!(schema("y-secret").await, "DENY", "PUT {path}");
    }
    // The administrator may do both.
    let widened = server
        .put(&boundary_path, json!({ "name": "schemas y", "boundaryQuery": "settings:schemaId startsWith \"y\"\nsettings:schemaId = \"x\"" }))
        .await;
    assert_eq!(widened.status, StatusCode::NO_CONTENT, "{}", widened.body);
    assert_eq!(schema("x").await, "ALLOW");
    let moved = server
        .call(
            Method::PUT,
            &format!("{binding_path}?parameters%5Bschema%5D=y-secret"),
            Some(json!({ "parameters": { "schema": "z" } })),
        )
        .await;
    assert_eq!(moved.status, StatusCode::NO_CONTENT, "{}", moved.body);
    assert_eq!(schema("y-secret").await, "ALLOW");
}

// ---- 2. a policy of another level, through this level's path ------------------------------------

const PROD: &str = "/iam/v1/repo/environment/env-prod";
const DEV: &str = "/iam/v1/repo/environment/env-dev";

/// An attacker who administers policies and bindings in env-prod only, and a policy of env-dev
/// bound there to a group with a member.
struct Foreign {
    attacker: String,
    delegates: String,
    dev_team: String,
    /// env-dev's policy.
    secret: String,
    /// A policy of env-prod.
    own: String,
    seen: Seen,
}

async fn foreign(server: &TestServer) -> Foreign {
    // An account-level policy bound at env-prod: SPEC §6 gives `iam:policies:*` no conditions
    // (so `WHERE iam:levelType = "environment"` is not valid on them); the binding's level is
    // what confines the delegation to env-prod.
    let delegates = group(server, "env-prod delegates").await;
    let delegation = policy(
        server,
        &repo(server),
        "env-prod administration",
        "ALLOW iam:policies:read, iam:policies:write, iam:bindings:read, iam:bindings:write;",
    )
    .await;
    bind(server, PROD, &delegation, &delegates).await;
    let attacker = user_in(server, "attacker@example.com", &[&delegates]).await;
    let attacker = token_for(server, &attacker).await;

    let dev_team = group(server, "dev team").await;
    let secret = policy(server, DEV, "dev secrets", "ALLOW settings:objects:read;").await;
    bind(server, DEV, &secret, &dev_team).await;
    user_in(server, "dev@example.com", &[&dev_team]).await;
    let own = policy(server, PROD, "prod reads", "ALLOW settings:objects:read;").await;

    let stored_policy = server.get(&format!("{DEV}/policies/{secret}")).await;
    assert_eq!(stored_policy.status, StatusCode::OK);
    let stored_bindings = server.get(&format!("{DEV}/bindings/{secret}")).await;
    assert_eq!(
        stored_bindings.body["policyBindings"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let seen = Seen {
        at: revision(server).await,
        secret: secret.clone(),
        policy: stored_policy.body,
        bindings: stored_bindings.body,
    };
    Foreign {
        attacker,
        delegates,
        dev_team,
        secret,
        own,
        seen,
    }
}

/// The requests that would bind env-dev's policy through env-prod's path.
fn foreign_bindings(scene: &Foreign) -> Vec<(Method, String, Value)> {
    let (secret, own, delegates) = (&scene.secret, &scene.own, &scene.delegates);
    vec![
        (
            Method::POST,
            format!("{PROD}/bindings/{secret}/{delegates}"),
            json!({}),
        ),
        (
            Method::PUT,
            format!("{PROD}/bindings/{secret}/{delegates}"),
            json!({}),
        ),
        (
            Method::POST,
            format!("{PROD}/bindings/{secret}"),
            json!({ "groups": [delegates] }),
        ),
        (
            Method::PUT,
            format!("{PROD}/bindings/groups/{delegates}"),
            json!({ "policyUuids": [own, secret] }),
        ),
    ]
}

#[tokio::test]
async fn a_policy_of_another_environment_is_out_of_reach_through_this_environments_path() {
    let server = TestServer::start().await;
    let scene = foreign(&server).await;
    let (attacker, secret) = (&scene.attacker, &scene.secret);
    let unchanged = |what: &'static str| scene.seen.check(&server, what);

    for force in ["", "?force=true"] {
        let delete = as_(
            &server,
            attacker,
            Method::DELETE,
            &format!("{PROD}/policies/{secret}{force}"),
            None,
        )
        .await;
        assert_eq!(
            refused(&delete),
            (StatusCode::NOT_FOUND, not_found("policy", secret)),
            "DELETE{force}"
        );
        unchanged("DELETE").await;
    }
    let get = as_(
        &server,
        attacker,
        Method::GET,
        &format!("{PROD}/policies/{secret}"),
        None,
    )
    .await;
    assert_eq!(
        refused(&get),
        (StatusCode::NOT_FOUND, not_found("policy", secret))
    );
    // A save under the uuid is a conflict: the uuid is taken, at a level this path is not.
    let put = as_(
        &server,
        attacker,
        Method::PUT,
        &format!("{PROD}/policies/{secret}"),
        Some(json!({ "name": "dev secrets", "statementQuery": "ALLOW settings:objects:write;" })),
    )
    .await;
    assert_eq!(
        refused(&put),
        (
            StatusCode::CONFLICT,
            json!({ "error": { "code": "conflict", "message": format!("policy `{secret}` belongs to another level"), "details": null } })
        )
    );
    unchanged("PUT").await;

    // Bindings of env-dev's policy, through env-prod's path: none are seen, none are removed or
    // made.
    let listed = as_(
        &server,
        attacker,
        Method::GET,
        &format!("{PROD}/bindings/{secret}"),
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body,
        json!({ "levelType": "environment", "levelId": "env-prod", "policyBindings": [] })
    );
    for path in [
        format!("{PROD}/bindings/{secret}/{}", scene.dev_team),
        format!("{PROD}/bindings/{secret}"),
    ] {
        let unbind = as_(&server, attacker, Method::DELETE, &path, None).await;
        assert_eq!(
            refused(&unbind),
            (
                StatusCode::NOT_FOUND,
                json!({ "error": { "code": "not_found", "message": "no binding matches", "details": null } })
            ),
            "DELETE {path}"
        );
        unchanged("DELETE binding").await;
    }
    for (method, path, body) in foreign_bindings(&scene) {
        let reply = as_(&server, attacker, method.clone(), &path, Some(body)).await;
        assert!(
            reply.status.is_client_error(),
            "{method} {path}: {}",
            reply.body
        );
        unchanged("binding").await;
    }

    // Through env-dev's own path the attacker holds nothing.
    let there = as_(
        &server,
        attacker,
        Method::DELETE,
        &format!("{DEV}/policies/{secret}?force=true"),
        None,
    )
    .await;
    assert_eq!(
        refused(&there),
        (StatusCode::FORBIDDEN, lacking("iam:policies:write"))
    );
    unchanged("DELETE at env-dev").await;
    // Its own environment's policy it may delete.
    let mine = as_(
        &server,
        attacker,
        Method::DELETE,
        &format!("{PROD}/policies/{}", scene.own),
        None,
    )
    .await;
    assert_eq!(mine.status, StatusCode::NO_CONTENT, "{}", mine.body);
}

/// A policy of another environment does not exist for this environment's path — as it does not
/// for GET and DELETE — so binding it here is 404, and the refusal does not reveal the name of a
/// policy that the caller cannot read where it is defined.
#[tokio::test]
async fn binding_a_policy_of_another_environment_through_this_path_does_not_reveal_it() {
    let server = TestServer::start().await;
    let scene = foreign(&server).await;
    let mut answers = Vec::new();
    let mut expected = Vec::new();
    for (method, path, body) in foreign_bindings(&scene) {
        let reply = as_(&server, &scene.attacker, method.clone(), &path, Some(body)).await;
        scene.seen.check(&server, "binding").await;
        answers.push((format!("{method} {path}"), refused(&reply)));
        expected.push((
            format!("{method} {path}"),
            (StatusCode::NOT_FOUND, not_found("policy", &scene.secret)),
        ));
    }
    assert_eq!(answers, expected);
}

/// env-dev's policy as it was before the attacks: nothing written, nothing changed, its member
/// still allowed.
struct Seen {
    at: i64,
    secret: String,
    policy: Value,
    bindings: Value,
}

impl Seen {
    async fn check(&self, server: &TestServer, what: &str) {
        assert_eq!(revision(server).await, self.at, "{what} wrote nothing");
        let policy = server.get(&format!("{DEV}/policies/{}", self.secret)).await;
        assert_eq!(policy.body, self.policy, "{what}");
        let bindings = server.get(&format!("{DEV}/bindings/{}", self.secret)).await;
        assert_eq!(bindings.body, self.bindings, "{what}");
        assert_eq!(
            decide(
                server,
                "dev@example.com",
                "settings:objects:read",
                Some("env-dev"),
                json!({})
            )
            .await,
            "ALLOW",
            "{what}"
        );
    }
}

// ---- 3. taking over other people ----------------------------------------------------------------

#[tokio::test]
async fn joining_a_group_that_a_user_group_placeholder_rewards_is_refused() {
    let server = TestServer::start().await;
    let repo = repo(&server);
    // Everyone may read the log buckets named after their groups.
    let everyone = group(&server, "everyone").await;
    let by_group = policy(
        &server,
        &repo,
        "logs of my groups",
        "ALLOW storage:logs:read WHERE storage:bucket-name IN (\"${global:userGroup}\");",
    )
    .await;
    bind(&server, &repo, &by_group, &everyone).await;
    // A group with no bindings at all, whose bucket holds what its members may read.
    let finance = group(&server, "finance").await;
    user_in(&server, "cfo@example.com", &[&everyone, &finance]).await;
    let (_, attacker) = user_with(&server, "attacker@example.com", "ALLOW iam:users:write;").await;
    let joined = server
        .post(
            &format!("{}/users/attacker@example.com", acc(&server)),
            json!([everyone]),
        )
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let bucket = json!({ "storage:bucket-name": finance });
    assert_eq!(
        decide(
            &server,
            "cfo@example.com",
            "storage:logs:read",
            Some("env-prod"),
            bucket.clone()
        )
        .await,
        "ALLOW"
    );
    assert_eq!(
        decide(
            &server,
            "attacker@example.com",
            "storage:logs:read",
            Some("env-prod"),
            bucket.clone()
        )
        .await,
        "DENY"
    );

    let before = groups_of(&server, "attacker@example.com").await;
    let at = revision(&server).await;
    let join = as_(
        &server,
        &attacker,
        Method::POST,
        &format!("{}/users/attacker@example.com", acc(&server)),
        Some(json!([finance])),
    )
    .await;
    assert_eq!(
        refused(&join),
        (
            StatusCode::FORBIDDEN,
            escalation(
                "this membership change",
                Whom::Principal("attacker@example.com"),
                "storage:logs:read",
                "account"
            )
        )
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(groups_of(&server, "attacker@example.com").await, before);
    assert_eq!(
        decide(
            &server,
            "attacker@example.com",
            "storage:logs:read",
            Some("env-prod"),
            bucket.clone()
        )
        .await,
        "DENY"
    );

    // The administrator may.
    let admitted = server
        .post(
            &format!("{}/users/attacker@example.com", acc(&server)),
            json!([finance]),
        )
        .await;
    assert_eq!(admitted.status, StatusCode::CREATED, "{}", admitted.body);
    assert_eq!(
        decide(
            &server,
            "attacker@example.com",
            "storage:logs:read",
            Some("env-prod"),
            bucket
        )
        .await,
        "ALLOW"
    );
}

#[tokio::test]
async fn joining_a_group_that_owns_a_private_workflow_is_refused() {
    let server = TestServer::start().await;
    let owners = group(&server, "payroll").await;
    user_in(&server, "payroll@example.com", &[&owners]).await;
    let created = server
        .post(
            WF,
            json!({ "title": "Payroll export", "environment": "env-prod", "owner": "payroll", "ownerType": "GROUP" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["isPrivate"], true);
    let workflow = format!("{WF}/{}", created.body["id"].as_str().unwrap());
    // The attacker may read workflows it can see, and change memberships.
    let (_, attacker) = user_with(
        &server,
        "attacker@example.com",
        "ALLOW iam:users:write;\nALLOW automation:workflows:read;",
    )
    .await;
    let hidden = as_(&server, &attacker, Method::GET, &workflow, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{}", hidden.body);

    let before = groups_of(&server, "attacker@example.com").await;
    let at = revision(&server).await;
    let join = as_(
        &server,
        &attacker,
        Method::POST,
        &format!("{}/users/attacker@example.com", acc(&server)),
        Some(json!([owners])),
    )
    .await;
    assert_eq!(
        refused(&join),
        (
            StatusCode::FORBIDDEN,
            json!({ "error": {
                "code": "forbidden",
                "message": "`attacker@example.com` would join a group that owns workflow `Payroll export` in `env-prod`, which you neither belong to nor administer; that needs membership of the group or `automation:workflows:admin` there",
                "details": {
                    "permission": "automation:workflows:admin",
                    "rule": "no-escalation",
                    "level": "environment:env-prod",
                    "principal": "attacker@example.com",
                },
            } })
        )
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(groups_of(&server, "attacker@example.com").await, before);
    assert_eq!(
        as_(&server, &attacker, Method::GET, &workflow, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The administrator (who holds `automation:workflows:admin`) may; then the workflow is the
    // new member's to see.
    let admitted = server
        .post(
            &format!("{}/users/attacker@example.com", acc(&server)),
            json!([owners]),
        )
        .await;
    assert_eq!(admitted.status, StatusCode::CREATED, "{}", admitted.body);
    assert_eq!(
        as_(&server, &attacker, Method::GET, &workflow, None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn setting_the_password_of_someone_who_holds_more_is_refused() {
    let server = TestServer::start().await;
    let readers = group(&server, "readers").await;
    let reads = policy(
        &server,
        &repo(&server),
        "reads",
        "ALLOW settings:objects:read;",
    )
    .await;
    bind(&server, &repo(&server), &reads, &readers).await;
    let victim = user_in(&server, "victim@example.com", &[&readers]).await;
    let (_, attacker) = user_with(&server, "attacker@example.com", "ALLOW iam:users:write;").await;
    let path = format!("{}/users/victim@example.com/password", acc(&server));
    let password = json!({ "password": "correct horse battery staple" });
    let password_set = |uid: String| {
        let server = &server;
        async move {
            server.state.model.lock().await.principals[&uid]
                .password_hash
                .is_some()
        }
    };

    let at = revision(&server).await;
    let set = as_(
        &server,
        &attacker,
        Method::PUT,
        &path,
        Some(password.clone()),
    )
    .await;
    assert_eq!(
        refused(&set),
        (
            StatusCode::FORBIDDEN,
            acting_as(
                "setting this password",
                "victim@example.com",
                "settings:objects:read",
                "account"
            )
        )
    );
    assert_eq!(revision(&server).await, at);
    assert!(
        !password_set(victim.clone()).await,
        "no password was stored"
    );
    // Nor the administrator's (who holds everything; the first permission found is named).
    let admin = as_(
        &server,
        &attacker,
        Method::PUT,
        &format!("{}/users/admin@warden.local/password", acc(&server)),
        Some(password.clone()),
    )
    .await;
    assert_eq!(admin.status, StatusCode::FORBIDDEN, "{}", admin.body);
    assert_eq!(admin.body["error"]["details"]["rule"], "no-escalation");
    assert_eq!(
        admin.body["error"]["details"]["principal"],
        "admin@warden.local"
    );
    assert_eq!(revision(&server).await, at);

    // Someone who holds everything the victim holds may.
    let (_, holder) = user_with(
        &server,
        "holder@example.com",
        "ALLOW iam:users:write;\nALLOW settings:objects:read;",
    )
    .await;
    let ok = as_(&server, &holder, Method::PUT, &path, Some(password)).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.body);
    assert!(password_set(victim).await);
}

#[tokio::test]
async fn removing_every_administrator_is_refused_at_the_last_one() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let wardens = group_named(&server, "Warden Administrators").await;
    let admins = group_named(&server, "Account Admins").await;
    let admin = "admin@warden.local";
    let (_, attacker) = user_with(&server, "attacker@example.com", "ALLOW iam:users:write;").await;
    let remove = |group: &str| format!("{acc}/users/{admin}/groups?group-uuid={group}");

    // Taking the administrator out of one of the two groups leaves them an administrator.
    let first = as_(&server, &attacker, Method::DELETE, &remove(&wardens), None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let before = groups_of(&server, admin).await;
    assert_eq!(before, vec![admins.clone()]);
    let at = revision(&server).await;
    let last = as_(&server, &attacker, Method::DELETE, &remove(&admins), None).await;
    assert_eq!(refused(&last), (StatusCode::CONFLICT, last_administrator()));
    assert_eq!(revision(&server).await, at);
    assert_eq!(groups_of(&server, admin).await, before);
    assert_eq!(
        decide(&server, admin, "iam:users:write", None, json!({})).await,
        "ALLOW"
    );
    // Nor may the administrator be deleted.
    let deleted = as_(
        &server,
        &attacker,
        Method::DELETE,
        &format!("{acc}/users/{admin}"),
        None,
    )
    .await;
    assert_eq!(
        refused(&deleted),
        (StatusCode::CONFLICT, last_administrator())
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(
        decide(&server, admin, "iam:users:write", None, json!({})).await,
        "ALLOW"
    );

    // With a second administrator, the first may go.
    user_in(&server, "second@example.com", &[&admins]).await;
    let gone = as_(&server, &attacker, Method::DELETE, &remove(&admins), None).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
}

#[tokio::test]
async fn the_administrator_cannot_remove_themself_from_the_last_administrator_group() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let wardens = group_named(&server, "Warden Administrators").await;
    let admins = group_named(&server, "Account Admins").await;
    let admin = "admin@warden.local";
    let remove = |group: &str| format!("{acc}/users/{admin}/groups?group-uuid={group}");

    // Both groups at once, by removal or by replacement.
    let at = revision(&server).await;
    let both = server
        .call(
            Method::DELETE,
            &format!("{acc}/users/{admin}/groups?group-uuid={wardens}&group-uuid={admins}"),
            None,
        )
        .await;
    assert_eq!(refused(&both), (StatusCode::CONFLICT, last_administrator()));
    let replaced = server
        .call(
            Method::PUT,
            &format!("{acc}/users/{admin}/groups"),
            Some(json!([])),
        )
        .await;
    assert_eq!(
        refused(&replaced),
        (StatusCode::CONFLICT, last_administrator())
    );
    assert_eq!(revision(&server).await, at);
    // One by one: the second is refused.
    let one = server.call(Method::DELETE, &remove(&wardens), None).await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.body);
    let at = revision(&server).await;
    let other = server.call(Method::DELETE, &remove(&admins), None).await;
    assert_eq!(
        refused(&other),
        (StatusCode::CONFLICT, last_administrator())
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(groups_of(&server, admin).await, vec![admins.clone()]);
    assert_eq!(
        decide(&server, admin, "iam:users:write", None, json!({})).await,
        "ALLOW"
    );
}

#[tokio::test]
async fn deleting_every_administrator_group_is_refused_at_the_last_one() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let wardens = group_named(&server, "Warden Administrators").await;
    let admins = group_named(&server, "Account Admins").await;
    let (_, attacker) = user_with(&server, "attacker@example.com", "ALLOW iam:groups:write;").await;

    let first = as_(
        &server,
        &attacker,
        Method::DELETE,
        &format!("{acc}/groups/{wardens}"),
        None,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let at = revision(&server).await;
    let last = as_(
        &server,
        &attacker,
        Method::DELETE,
        &format!("{acc}/groups/{admins}"),
        None,
    )
    .await;
    assert_eq!(refused(&last), (StatusCode::CONFLICT, last_administrator()));
    assert_eq!(revision(&server).await, at);
    assert_eq!(
        server.get(&format!("{acc}/groups/{admins}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        groups_of(&server, "admin@warden.local").await,
        vec![admins.clone()]
    );
    assert_eq!(
        decide(
            &server,
            "admin@warden.local",
            "iam:groups:write",
            None,
            json!({})
        )
        .await,
        "ALLOW"
    );
    // Nor may the administrator delete it.
    let own = server.delete(&format!("{acc}/groups/{admins}")).await;
    assert_eq!(refused(&own), (StatusCode::CONFLICT, last_administrator()));
}

// ---- 4. what the author holds, not more ---------------------------------------------------------

#[tokio::test]
async fn a_deny_in_one_environment_limits_what_its_holder_may_grant() {
    let server = TestServer::start().await;
    let repo = repo(&server);
    let prod = "/iam/v1/repo/environment/env-prod";
    // The attacker reads settings at account level, is denied them in env-prod, and may bind.
    let (_, attacker) = user_with(
        &server,
        "attacker@example.com",
        "ALLOW iam:bindings:write;\nALLOW settings:objects:read;",
    )
    .await;
    let own = group_named(&server, "attacker@example.com group").await;
    let no_prod = policy(
        &server,
        &repo,
        "no settings reads",
        "DENY settings:objects:read;",
    )
    .await;
    bind(&server, prod, &no_prod, &own).await;
    assert_eq!(
        decide(
            &server,
            "attacker@example.com",
            "settings:objects:read",
            Some("env-dev"),
            json!({})
        )
        .await,
        "ALLOW"
    );
    assert_eq!(
        decide(
            &server,
            "attacker@example.com",
            "settings:objects:read",
            Some("env-prod"),
            json!({})
        )
        .await,
        "DENY"
    );

    let others = group(&server, "others").await;
    user_in(&server, "victim@example.com", &[&others]).await;
    let reads = policy(&server, &repo, "reads", "ALLOW settings:objects:read;").await;
    let bindings = format!("{repo}/bindings/groups/{others}");
    let before = server.get(&bindings).await.body;
    let at = revision(&server).await;
    let bound = as_(
        &server,
        &attacker,
        Method::POST,
        &format!("{repo}/bindings/{reads}/{others}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        refused(&bound),
        (
            StatusCode::FORBIDDEN,
            escalation(
                "this binding",
                Whom::Principal("victim@example.com"),
                "settings:objects:read",
                "environment:env-prod"
            )
        )
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(server.get(&bindings).await.body, before);
    assert_eq!(
        decide(
            &server,
            "victim@example.com",
            "settings:objects:read",
            Some("env-prod"),
            json!({})
        )
        .await,
        "DENY"
    );
    // Bound at env-dev, where the attacker holds it, the same policy may be granted.
    let dev = as_(
        &server,
        &attacker,
        Method::POST,
        &format!("/iam/v1/repo/environment/env-dev/bindings/{reads}/{others}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(dev.status, StatusCode::NO_CONTENT, "{}", dev.body);
    assert_eq!(
        decide(
            &server,
            "victim@example.com",
            "settings:objects:read",
            Some("env-dev"),
            json!({})
        )
        .await,
        "ALLOW"
    );
    assert_eq!(
        decide(
            &server,
            "victim@example.com",
            "settings:objects:read",
            Some("env-prod"),
            json!({})
        )
        .await,
        "DENY"
    );
}

#[tokio::test]
async fn a_conditional_deny_limits_what_its_holder_may_grant_to_future_members_too() {
    let server = TestServer::start().await;
    let repo = repo(&server);
    let (_, attacker) = user_with(
        &server,
        "attacker@example.com",
        "ALLOW iam:bindings:write;\nALLOW settings:objects:read;\nDENY settings:objects:read WHERE settings:schemaId = \"builtin:secrets\";",
    )
    .await;
    // Nobody is in the group yet: what it grants is checked for whoever joins it later.
    let newcomers = group(&server, "newcomers").await;
    let reads = policy(&server, &repo, "reads", "ALLOW settings:objects:read;").await;
    let others = policy(
        &server,
        &repo,
        "reads but secrets",
        "ALLOW settings:objects:read WHERE settings:schemaId != \"builtin:secrets\";",
    )
    .await;
    let at = revision(&server).await;
    let bound = as_(
        &server,
        &attacker,
        Method::POST,
        &format!("{repo}/bindings/{reads}/{newcomers}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        refused(&bound),
        (
            StatusCode::FORBIDDEN,
            escalation(
                "this binding",
                Whom::Group(&newcomers, "newcomers"),
                "settings:objects:read",
                "account"
            )
        )
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(
        server
            .get(&format!("{repo}/bindings/groups/{newcomers}"))
            .await
            .body["policyUuids"],
        json!([])
    );
    // What the attacker holds, exactly, it may grant.
    let within = as_(
        &server,
        &attacker,
        Method::POST,
        &format!("{repo}/bindings/{others}/{newcomers}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(within.status, StatusCode::NO_CONTENT, "{}", within.body);
    user_in(&server, "newcomer@example.com", &[&newcomers]).await;
    let secrets = json!({ "settings:schemaId": "builtin:secrets" });
    assert_eq!(
        decide(
            &server,
            "newcomer@example.com",
            "settings:objects:read",
            Some("env-prod"),
            secrets
        )
        .await,
        "DENY"
    );
}

#[tokio::test]
async fn a_deny_of_viewer_denies_every_role_to_grant() {
    let server = TestServer::start().await;
    let repo = repo(&server);
    let (_, attacker) = user_with(
        &server,
        "attacker@example.com",
        "ALLOW iam:bindings:write;\nALLOW environment:roles:manage-settings;\nDENY environment:roles:viewer;",
    )
    .await;
    assert_eq!(
        decide(
            &server,
            "attacker@example.com",
            "environment:roles:manage-settings",
            Some("env-prod"),
            json!({})
        )
        .await,
        "DENY"
    );
    let others = group(&server, "others").await;
    user_in(&server, "victim@example.com", &[&others]).await;
    let manage = policy(
        &server,
        &repo,
        "manage settings",
        "ALLOW environment:roles:manage-settings;",
    )
    .await;
    let at = revision(&server).await;
    let bound = as_(
        &server,
        &attacker,
        Method::POST,
        &format!("{repo}/bindings/{manage}/{others}"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        refused(&bound),
        (
            StatusCode::FORBIDDEN,
            escalation(
                "this binding",
                Whom::Principal("victim@example.com"),
                "environment:roles:manage-settings",
                "account"
            )
        )
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(
        server.get(&format!("{repo}/bindings/{manage}")).await.body["policyBindings"],
        json!([])
    );
    for permission in [
        "environment:roles:manage-settings",
        "environment:roles:viewer",
    ] {
        assert_eq!(
            decide(
                &server,
                "victim@example.com",
                permission,
                Some("env-prod"),
                json!({})
            )
            .await,
            "DENY"
        );
    }
    // The administrator may.
    bind(&server, &repo, &manage, &others).await;
    assert_eq!(
        decide(
            &server,
            "victim@example.com",
            "environment:roles:manage-settings",
            Some("env-prod"),
            json!({})
        )
        .await,
        "ALLOW"
    );
}

// ---- 5. implication with DENY (SPEC §3 step 4) --------------------------------------------------

#[tokio::test]
async fn a_deny_of_a_role_spares_viewer_and_a_deny_of_viewer_denies_every_role() {
    let server = TestServer::start().await;
    let repo = repo(&server);
    let one = group(&server, "viewer but not settings").await;
    let other = group(&server, "settings but not viewer").await;
    let p1 = policy(
        &server,
        &repo,
        "viewer but not settings",
        "ALLOW environment:roles:viewer;\nDENY environment:roles:manage-settings;",
    )
    .await;
    let p2 = policy(
        &server,
        &repo,
        "settings but not viewer",
        "ALLOW environment:roles:manage-settings;\nDENY environment:roles:viewer;",
    )
    .await;
    bind(&server, &repo, &p1, &one).await;
    bind(&server, &repo, &p2, &other).await;
    user_in(&server, "one@example.com", &[&one]).await;
    user_in(&server, "other@example.com", &[&other]).await;

    for (principal, permission, decision, statement) in [
        (
            "one@example.com",
            "environment:roles:viewer",
            "ALLOW",
            "ALLOW environment:roles:viewer;",
        ),
        (
            "one@example.com",
            "environment:roles:manage-settings",
            "DENY",
            "DENY environment:roles:manage-settings;",
        ),
        (
            "other@example.com",
            "environment:roles:viewer",
            "DENY",
            "DENY environment:roles:viewer;",
        ),
        (
            "other@example.com",
            "environment:roles:manage-settings",
            "DENY",
            "DENY environment:roles:viewer;",
        ),
    ] {
        let answer = explain(&server, principal, permission, Some("env-prod"), json!({})).await;
        assert_eq!(
            answer["decision"], decision,
            "{principal} {permission}: {answer}"
        );
        let deciding = answer["explanation"]["deciding"].as_array().unwrap();
        assert_eq!(deciding.len(), 1, "{principal} {permission}: {answer}");
        assert_eq!(
            deciding[0]["statement"], statement,
            "{principal} {permission}"
        );
        assert_eq!(deciding[0]["policy"]["name"], principal_policy(principal));
    }
}

fn principal_policy(principal: &str) -> &'static str {
    if principal.starts_with("one") {
        "viewer but not settings"
    } else {
        "settings but not viewer"
    }
}

// ---- 6. legacy default policies -----------------------------------------------------------------

#[tokio::test]
async fn a_legacy_default_policy_cannot_be_bound_even_by_the_administrator() {
    let server = TestServer::start().await;
    let repo = repo(&server);
    let globals = server.get("/iam/v1/repo/global/global/policies").await;
    let id_of = |name: &str| {
        globals.body["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no global policy `{name}`"))["uuid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let legacy = id_of("AppEngine - Admin");
    let current = id_of("Standard User");
    let team = group(&server, "team").await;
    user_in(&server, "member@example.com", &[&team]).await;
    let refusal = json!({ "error": {
        "code": "conflict",
        "message": "`AppEngine - Admin` is a legacy default policy: existing bindings of it stay until removed, but it cannot be bound again; bind one of the current default policies instead",
        "details": { "policy": "AppEngine - Admin", "rule": "legacy-policy" },
    } });
    let bindings = format!("{repo}/bindings/groups/{team}");
    let before = server.get(&bindings).await.body;
    let at = revision(&server).await;
    for (method, path, body) in [
        (
            Method::POST,
            format!("{repo}/bindings/{legacy}/{team}"),
            json!({}),
        ),
        (
            Method::POST,
            format!("{repo}/bindings/{legacy}"),
            json!({ "groups": [team] }),
        ),
        (
            Method::PUT,
            bindings.clone(),
            json!({ "policyUuids": [legacy] }),
        ),
        (
            Method::POST,
            format!("/iam/v1/repo/environment/env-prod/bindings/{legacy}/{team}"),
            json!({}),
        ),
    ] {
        let reply = server.call(method.clone(), &path, Some(body)).await;
        assert_eq!(
            refused(&reply),
            (StatusCode::CONFLICT, refusal.clone()),
            "{method} {path}"
        );
        assert_eq!(revision(&server).await, at, "{method} {path}");
        assert_eq!(server.get(&bindings).await.body, before, "{method} {path}");
    }
    assert_eq!(
        decide(
            &server,
            "member@example.com",
            "app-engine:apps:install",
            Some("env-prod"),
            json!({})
        )
        .await,
        "DENY"
    );
    // A current default policy binds.
    bind(&server, &repo, &current, &team).await;
}

// ---- 7. scoped tokens acting beyond their scopes ------------------------------------------------

const EXPIRY: &str = "2026-06-01T00:00:00Z";

/// A platform token of the caller's own with these scopes.
async fn scoped(server: &TestServer, token: &str, scopes: &[&str]) -> String {
    let reply = as_(
        server,
        token,
        Method::POST,
        &format!("{}/platform-tokens", acc(server)),
        Some(json!({ "name": "scoped", "scope": scopes, "expirationDate": EXPIRY })),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["token"].as_str().unwrap().to_owned()
}

/// The id of `wdn_pt_<id>_<secret>`.
fn token_id(token: &str) -> String {
    token.split('_').nth(2).unwrap().to_owned()
}

/// A platform token as the list shows it.
async fn listed_token(server: &TestServer, id: &str) -> Value {
    let reply = server
        .get(&format!("{}/platform-tokens?size=100", acc(server)))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tokenId"] == id)
        .cloned()
        .unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_token_scoped_to_reading_logs_cannot_change_its_owners_consent() {
    let server = TestServer::start().await;
    let (_, owner) = user_with(
        &server,
        "owner@example.com",
        "ALLOW iam:tokens:write;\nALLOW storage:logs:read, settings:objects:write;",
    )
    .await;
    let logs = scoped(&server, &owner, &["storage:logs:read"]).await;
    let consent =
        |permissions: Value| json!({ "environment": "env-prod", "permissions": permissions });
    let given = as_(
        &server,
        &owner,
        Method::PUT,
        CONSENT,
        Some(consent(json!(["settings:objects:write"]))),
    )
    .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    let read = format!("{CONSENT}?environment=env-prod");
    let before = as_(&server, &owner, Method::GET, &read, None).await;
    assert_eq!(
        before.body["permissions"],
        json!(["settings:objects:write"])
    );

    let at = revision(&server).await;
    // Adding what the token does not carry, or taking away what it does not carry.
    for (permissions, outside) in [
        (
            json!(["settings:objects:write", "automation:workflows:run"]),
            "automation:workflows:run",
        ),
        (json!([]), "settings:objects:write"),
    ] {
        let changed = as_(
            &server,
            &logs,
            Method::PUT,
            CONSENT,
            Some(consent(permissions)),
        )
        .await;
        assert_eq!(
            refused(&changed),
            (
                StatusCode::FORBIDDEN,
                json!({ "error": {
                    "code": "forbidden",
                    "message": format!("the token you are using does not include `{outside}`, so it cannot change your consent for it; change it from the console or with a token that includes it"),
                    "details": { "permission": outside, "rule": "token-scopes" },
                } })
            )
        );
        assert_eq!(revision(&server).await, at);
        assert_eq!(
            as_(&server, &owner, Method::GET, &read, None).await.body,
            before.body
        );
    }
    // Within its scopes it may.
    let within = as_(
        &server,
        &logs,
        Method::PUT,
        CONSENT,
        Some(consent(json!([
            "settings:objects:write",
            "storage:logs:read"
        ]))),
    )
    .await;
    assert_eq!(within.status, StatusCode::OK, "{}", within.body);
}

#[tokio::test]
async fn a_scoped_token_of_the_administrator_cannot_re_enable_the_administrator_token() {
    let mut server = TestServer::start().await;
    let acc = acc(&server);
    let admin_uid = server.get("/iam/v1/me").await.body["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = server.token.clone();
    let first_id = token_id(&first);
    // A second unrestricted credential, for the administrator's own requests below.
    let console = token_for(&server, &admin_uid).await;
    let tokens_only = scoped(&server, &first, &["iam:tokens:write"]).await;
    let off = server
        .put(
            &format!("{acc}/platform-tokens/{first_id}/status"),
            json!({ "status": "INACTIVE" }),
        )
        .await;
    assert_eq!(off.status, StatusCode::NO_CONTENT, "{}", off.body);
    server.token = console;
    assert_eq!(
        server
            .call_as(Some(&first), Method::GET, &format!("{acc}/groups"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let before = listed_token(&server, &first_id).await;
    assert_eq!(before["status"], "INACTIVE");
    let at = revision(&server).await;
    let on = as_(
        &server,
        &tokens_only,
        Method::PUT,
        &format!("{acc}/platform-tokens/{first_id}/status"),
        Some(json!({ "status": "ACTIVE" })),
    )
    .await;
    assert_eq!(on.status, StatusCode::FORBIDDEN, "{}", on.body);
    assert_eq!(
        on.body["error"]["details"]["rule"], "no-escalation",
        "{}",
        on.body
    );
    assert_eq!(
        on.body["error"]["details"]["principal"], "admin@warden.local",
        "{}",
        on.body
    );
    let named = on.body["error"]["details"]["permission"].as_str().unwrap();
    assert_ne!(
        named, "iam:tokens:write",
        "a permission outside the token's scopes is named"
    );
    assert_eq!(
        on.body["error"]["message"],
        format!(
            "this credential would let you act as `admin@warden.local`, who holds `{named}` at account level where you do not; acting as someone needs everything they hold"
        )
    );
    assert_eq!(revision(&server).await, at);
    assert_eq!(listed_token(&server, &first_id).await, before);
    assert_eq!(
        server
            .call_as(Some(&first), Method::GET, &format!("{acc}/groups"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // The administrator, unscoped, may.
    let back = server
        .put(
            &format!("{acc}/platform-tokens/{first_id}/status"),
            json!({ "status": "ACTIVE" }),
        )
        .await;
    assert_eq!(back.status, StatusCode::NO_CONTENT, "{}", back.body);
    assert_eq!(
        server
            .call_as(Some(&first), Method::GET, &format!("{acc}/groups"), None)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_scoped_token_cannot_set_a_password() {
    let server = TestServer::start().await;
    user_in(&server, "someone@example.com", &[]).await;
    let users_only = scoped(&server, &server.token, &["iam:users:write"]).await;
    let at = revision(&server).await;
    let set = as_(
        &server,
        &users_only,
        Method::PUT,
        &format!("{}/users/someone@example.com/password", acc(&server)),
        Some(json!({ "password": "correct horse battery staple" })),
    )
    .await;
    assert_eq!(
        refused(&set),
        (
            StatusCode::FORBIDDEN,
            json!({ "error": {
                "code": "forbidden",
                "message": "a password gives every permission of its user: set it with an unscoped token or from a console session, not with a scoped token",
                "details": { "permission": "iam:users:write", "rule": "unscoped-caller-only" },
            } })
        )
    );
    assert_eq!(revision(&server).await, at);
}

#[tokio::test]
async fn a_delegated_token_administrator_cannot_disable_the_administrators_token() {
    let server = TestServer::start().await;
    let acc = acc(&server);
    let (_, attacker) = user_with(
        &server,
        "attacker@example.com",
        "ALLOW iam:tokens:write, iam:tokens:read;",
    )
    .await;
    let id = token_id(&server.token);
    let before = listed_token(&server, &id).await;
    let at = revision(&server).await;
    for (method, path, body) in [
        (
            Method::PUT,
            format!("{acc}/platform-tokens/{id}/status"),
            Some(json!({ "status": "INACTIVE" })),
        ),
        (Method::DELETE, format!("{acc}/platform-tokens/{id}"), None),
    ] {
        let reply = as_(&server, &attacker, method.clone(), &path, body).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            reply.body
        );
        assert_eq!(
            reply.body["error"]["details"]["rule"], "no-escalation",
            "{}",
            reply.body
        );
        assert_eq!(
            reply.body["error"]["details"]["principal"], "admin@warden.local",
            "{}",
            reply.body
        );
        let named = reply.body["error"]["details"]["permission"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            reply.body["error"]["message"],
            format!(
                "changing this credential would let you act as `admin@warden.local`, who holds `{named}` at account level where you do not; acting as someone needs everything they hold"
            )
        );
        assert_eq!(revision(&server).await, at);
        assert_eq!(listed_token(&server, &id).await, before);
    }
    assert_eq!(
        server.get(&format!("{acc}/groups")).await.status,
        StatusCode::OK,
        "the token still works"
    );
}

#[tokio::test]
async fn an_empty_scope_list_is_refused_not_taken_as_everything() {
    let server = TestServer::start().await;
    let at = revision(&server).await;
    let reply = server
        .post(
            &format!("{}/platform-tokens", acc(&server)),
            json!({ "name": "everything?", "scope": [], "expirationDate": EXPIRY }),
        )
        .await;
    assert_eq!(
        refused(&reply),
        (
            StatusCode::BAD_REQUEST,
            json!({ "error": { "code": "invalid", "message": "`scope` must name at least one permission", "details": null } })
        )
    );
    assert_eq!(revision(&server).await, at);
}
