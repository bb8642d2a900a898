//! The client commands as a user runs them: a real server started in-process on a free loopback
//! port (its store in a fresh temp directory), and the real `warden` binary talking to it with
//! `--server` and `--token-file`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::oneshot;
use warden_server::{Config, ManualClock};

/// 2026-05-04T10:00:00Z.
const START_MS: i64 = 1_777_888_800_000;

struct Server {
    url: String,
    dir: PathBuf,
    token_file: PathBuf,
    clock: Arc<ManualClock>,
    state: warden_server::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn start(name: &str) -> Server {
        let dir = temp_dir(name);
        let config = Config {
            db: dir.join("warden.db").display().to_string(),
            token_file: dir.join("admin-token"),
            environments: vec!["env-prod".into()],
            // The review test moves the clock by months; the first start's token must outlive it.
            bootstrap_token_ttl: std::time::Duration::from_secs(400 * 24 * 3600),
            ..Config::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let clock = Arc::new(ManualClock::new(START_MS));
        let (state, _) = runtime
            .block_on(warden_server::start(&config, clock.clone()))
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        runtime.spawn(warden_server::serve(state.clone(), listener, async {
            let _ = rx.await;
        }));
        Server {
            url,
            dir,
            token_file: config.token_file,
            clock,
            state,
            shutdown: Some(tx),
            runtime: Some(runtime),
        }
    }

    /// Runs `warden ARGS… --server URL --token-file FILE` in the server's directory.
    fn warden(&self, args: &[&str]) -> Output {
        run(
            &self.dir,
            args,
            &[
                "--server",
                &self.url,
                "--token-file",
                self.token_file.to_str().unwrap(),
            ],
        )
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.join(name), text).unwrap();
    }

    /// A platform token of a person, written straight to the store: no API call makes one for
    /// somebody else, and the review needs a workflow run by someone who then leaves.
    fn person_token(&self, uid: &str) -> String {
        use warden_server::records::TokenBody;
        use warden_server::service::{Authed, Plan};
        let state = self.state.clone();
        let (id, token, hash) = warden_server::auth::new_token("pt", &state.token_key).unwrap();
        let body = TokenBody {
            id,
            kind: "platform".into(),
            owner_uid: uid.to_owned(),
            name: "test".into(),
            secret_hash: hash,
            scopes: Vec::new(),
            unrestricted: Some(true),
            status: "ACTIVE".into(),
            expires_at: None,
            created_at: START_MS,
            created_by: "test".into(),
            last_used_at: None,
            client_id: None,
        };
        let system = Authed::system("test", "test".into(), START_MS);
        self.runtime
            .as_ref()
            .unwrap()
            .block_on(state.write(&system, |_, _| {
                let mut plan = Plan::new("token.create", "token", ());
                plan.ops = vec![body.op()];
                plan.apply = Box::new(move |model: &mut warden_server::model::Model| {
                    model.tokens.insert(body.id.clone(), Arc::new(body));
                });
                Ok(plan)
            }))
            .unwrap();
        token
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(dir: &Path, args: &[&str], connection: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .args(connection)
        .current_dir(dir)
        .env_remove("WARDEN_URL")
        .env_remove("WARDEN_TOKEN")
        .env_remove("WARDEN_ACCOUNT")
        .output()
        .expect("run warden")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-client-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Asserts the exit code, showing both streams when it differs.
fn expect(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

const TEAM_LOGS: &str =
    "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"${bindParam:team}_\";\n";

const ALLOWED: &str = "ALLOW: an ALLOW statement applies and no DENY statement does (allowed)\n";
const DENIED: &str = "DENY: no ALLOW statement applies (no-matching-allow)\n";

#[test]
fn a_policy_bound_by_names_decides_until_it_is_unbound() {
    let server = Server::start("journey");

    let created = server.warden(&["group", "create", "ops", "--description", "operations"]);
    expect(&created, 0);
    assert!(
        stdout(&created).starts_with("created group `ops` ("),
        "{}",
        stdout(&created)
    );

    server.write("team.policy", TEAM_LOGS);
    let policy = server.warden(&["policy", "create", "--name", "Team Logs", "team.policy"]);
    expect(&policy, 0);
    let text = stdout(&policy);
    assert!(text.starts_with("created policy `Team Logs` ("), "{text}");
    assert!(text.ends_with(") at account\n"), "{text}");

    // Names in any case, a parameter.
    let bound = server.warden(&["bind", "team logs", "OPS", "--param", "team=ops"]);
    expect(&bound, 0);
    assert_eq!(
        stdout(&bound),
        "bound policy `Team Logs` to group `ops` at account with team=\"ops\"\n"
    );

    let user = server.warden(&["user", "create", "alice@example.com"]);
    expect(&user, 0);
    assert!(stdout(&user).starts_with("created user `alice@example.com` ("));

    let unknown = server.warden(&["user", "add-groups", "alice@example.com", "opz"]);
    expect(&unknown, 1);
    assert_eq!(
        stderr(&unknown),
        "error: there is no group `opz`\n  help: did you mean `ops`?\n"
    );
    let joined = server.warden(&["user", "add-groups", "alice@example.com", "Ops"]);
    expect(&joined, 0);
    assert_eq!(
        stdout(&joined),
        "added `alice@example.com` to group `ops`\n"
    );

    let request = |bucket: &str| {
        vec![
            "authorize".to_owned(),
            "alice@example.com".to_owned(),
            "storage:logs:read".to_owned(),
            "--env".to_owned(),
            "env-prod".to_owned(),
            "--attr".to_owned(),
            format!("storage:bucket-name={bucket}"),
        ]
    };
    let ask = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        server.warden(&args)
    };

    let allowed = ask(request("ops_app"));
    expect(&allowed, 0);
    assert_eq!(stdout(&allowed), ALLOWED);

    let denied = ask(request("dev_app"));
    expect(&denied, 3);
    assert_eq!(stdout(&denied), DENIED);

    let mut explain = request("dev_app");
    explain.push("--explain".to_owned());
    let explained = ask(explain);
    expect(&explained, 3);
    let text = stdout(&explained);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], DENIED.trim_end());
    assert!(lines[1].starts_with("  denied: "), "{text}");
    assert_eq!(
        lines[2],
        "  near miss: `ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"ops_\";` \
         of policy `Team Logs`, group `ops`, bound at account: \
         `storage:bucket-name startsWith \"ops_\"` fails: seen \"dev_app\" but required startsWith \"ops_\""
    );

    let mut json = vec!["--format".to_owned(), "json".to_owned()];
    json.extend(request("ops_app"));
    let decision = ask(json);
    expect(&decision, 0);
    let body: Value = serde_json::from_str(&stdout(&decision)).unwrap();
    assert_eq!(body["decision"], "ALLOW");
    assert_eq!(body["reason"], "allowed");

    let effective = server.warden(&["effective", "alice@example.com"]);
    expect(&effective, 0);
    assert_eq!(
        stdout(&effective),
        "\
PERMISSION         EFFECT  CONDITIONS                             FROM
storage:logs:read  ALLOW   storage:bucket-name startsWith \"ops_\"  Team Logs via ops
1 permission for `alice@example.com` at account
"
    );

    let unbound = server.warden(&["unbind", "Team Logs", "ops"]);
    expect(&unbound, 0);
    assert_eq!(
        stdout(&unbound),
        "unbound policy `Team Logs` from group `ops` at account\n"
    );
    let after = ask(request("ops_app"));
    expect(&after, 3);
    assert_eq!(stdout(&after), DENIED);

    let empty = server.warden(&["effective", "--group", "ops"]);
    expect(&empty, 0);
    assert_eq!(
        stdout(&empty),
        "group `ops` has no effective permissions at account\n"
    );
}

#[test]
fn an_invalid_policy_is_refused_with_every_located_diagnostic() {
    let server = Server::start("invalid");
    server.write(
        "bad.policy",
        "ALLOW automation:workflow:read;\n\
         ALLOW storage:logs:read WHERE storage:bucket-name = \"a\" OR storage:bucket-name = \"b\";\n",
    );
    let output = server.warden(&["policy", "create", "--name", "Bad", "bad.policy"]);
    expect(&output, 1);
    assert_eq!(stdout(&output), "");
    let text = stderr(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("error: "), "{text}");
    assert_eq!(
        lines[1..],
        [
            "  bad.policy:1:7: error[unknown-permission]: unknown permission `automation:workflow:read`",
            "    help: did you mean `automation:workflows:read`?",
            "  bad.policy:2:57: error[unsupported-or]: `OR` is not supported",
            "    help: write two statements instead, one for each alternative: statements are combined with OR",
        ]
    );

    let json = server.warden(&[
        "--format",
        "json",
        "policy",
        "create",
        "--name",
        "Bad",
        "bad.policy",
    ]);
    expect(&json, 1);
    let body: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    let diagnostics = body["error"]["details"]["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 2);
    assert_eq!(diagnostics[0]["start"]["line"], 1);
    assert_eq!(diagnostics[0]["start"]["column"], 7);
}

#[test]
fn lists_print_tables_and_the_servers_json() {
    let server = Server::start("lists");
    expect(&server.warden(&["group", "create", "ops"]), 0);
    expect(&server.warden(&["environment", "create", "env-dev"]), 0);

    let environments = server.warden(&["environment", "list"]);
    expect(&environments, 0);
    assert_eq!(
        stdout(&environments),
        "ID        NAME\nenv-dev   env-dev\nenv-prod  env-prod\n2 environments\n"
    );

    let groups = server.warden(&["--format", "json", "group", "list"]);
    expect(&groups, 0);
    let body: Value = serde_json::from_str(&stdout(&groups)).unwrap();
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ops"), "{names:?}");
    assert!(names.contains(&"Environment Users"), "{names:?}");

    let group = server.warden(&["group", "get", "OPS"]);
    expect(&group, 0);
    let text = stdout(&group);
    assert!(text.starts_with("name:    ops\nuuid:    "), "{text}");
    assert!(
        text.ends_with(
            "owner:   LOCAL\ncreated: 2026-05-04T10:00:00Z\nupdated: 2026-05-04T10:00:00Z\n"
        ),
        "{text}"
    );
}

#[test]
fn an_unreachable_server_exits_2_and_names_the_option() {
    let dir = temp_dir("unreachable");
    std::fs::write(dir.join("token"), "wdn_pt_x_y\n").unwrap();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let server = format!("http://127.0.0.1:{port}");
    let output = run(
        &dir,
        &["group", "list"],
        &["--server", &server, "--token-file", "token"],
    );
    expect(&output, 2);
    let text = stderr(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "error: cannot reach the Warden server at `{server}`: "
        )),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "  help: start it with `warden serve`, or give its address with `--server` (or `WARDEN_URL`)"
    );
    assert_eq!(lines.len(), 2, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn without_a_token_nothing_is_sent() {
    let dir = temp_dir("no-token");
    let output = run(
        &dir,
        &["group", "list"],
        &["--server", "http://127.0.0.1:9"],
    );
    expect(&output, 2);
    assert_eq!(
        stderr(&output),
        "error: no API token was given\n  help: give it with `--token`, `--token-file` or `WARDEN_TOKEN` \
         (the first start of `warden serve` writes the administrator's token to `warden-admin-token`)\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The id of the workflow titled `title`, from `warden --format json workflow list --admin`.
const ELEVATED: &str = "error: this binding would give service user `gitlab_deploy_pipeline@service` elevated access without a justification: policy `Group writer` grants `iam:groups:write` to group `ops`; say why in the binding's metadata as `justification` (`POST …/bindings/{policyUuid}/{groupUuid}` with `metadata.justification`, `warden bind … --justification TEXT`, or the console's Justification field)\n";

#[test]
fn an_elevated_binding_or_membership_needs_a_justification_on_the_command_line() {
    let server = Server::start("elevation");
    expect(&server.warden(&["group", "create", "ops"]), 0);
    expect(&server.warden(&["group", "create", "team"]), 0);
    expect(
        &server.warden(&["service-user", "create", "GitLab deploy pipeline"]),
        0,
    );
    expect(
        &server.warden(&[
            "user",
            "add-groups",
            "gitlab_deploy_pipeline@service",
            "ops",
        ]),
        0,
    );
    server.write("writer.policy", "ALLOW iam:groups:write;\n");
    expect(
        &server.warden(&[
            "policy",
            "create",
            "--name",
            "Group writer",
            "writer.policy",
        ]),
        0,
    );

    // Binding to a group the service user is in.
    let refused = server.warden(&["bind", "Group writer", "ops"]);
    expect(&refused, 1);
    // The message, then the details (uuids of the service user, policy and group among them).
    let text = stderr(&refused);
    assert!(text.starts_with(ELEVATED), "{text}");
    // (The details' order depends on serde_json's features in the build: each line alone.)
    assert!(
        text.contains("\n  elevatedPermissions: [\"iam:groups:write\"]\n"),
        "{text}"
    );
    assert!(text.contains("\n  group: "), "{text}");
    assert!(
        text.contains("\n  rule: justification-required\n"),
        "{text}"
    );
    let bound = server.warden(&[
        "bind",
        "Group writer",
        "ops",
        "--justification",
        "creates release groups",
    ]);
    expect(&bound, 0);
    assert_eq!(
        stdout(&bound),
        "bound policy `Group writer` to group `ops` at account\n"
    );
    let listed = server.warden(&["--format", "json", "bindings", "--group", "ops"]);
    expect(&listed, 0);
    let body: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    assert!(
        stdout(&listed).contains("\"justification\": \"creates release groups\""),
        "{body}"
    );

    // Adding the service user to a group already bound: the same elevation.
    expect(&server.warden(&["bind", "Group writer", "team"]), 0);
    let refused = server.warden(&[
        "user",
        "add-groups",
        "gitlab_deploy_pipeline@service",
        "team",
    ]);
    expect(&refused, 1);
    let text = stderr(&refused);
    assert!(
        text.starts_with("error: this membership change would give service user `gitlab_deploy_pipeline@service` elevated access without a justification: policy `Group writer` grants `iam:groups:write` to group `team`; say why with the request's `justification` (`?justification=TEXT`, `warden user add-groups … --justification TEXT`, or the console's Justification field)\n"),
        "{text}"
    );
    let joined = server.warden(&[
        "user",
        "add-groups",
        "gitlab_deploy_pipeline@service",
        "team",
        "--justification",
        "release rota",
    ]);
    expect(&joined, 0);
    assert_eq!(
        stdout(&joined),
        "added `gitlab_deploy_pipeline@service` to group `team`\n"
    );
}

#[test]
fn a_service_users_history_shows_when_who_what_and_why() {
    let server = Server::start("history");
    expect(&server.warden(&["user", "create", "ann@example.com"]), 0);
    let created = server.warden(&[
        "service-user",
        "create",
        "GitLab deploy pipeline",
        "--purpose",
        "deploys",
        "--reason",
        "OPS-1 new pipeline",
    ]);
    expect(&created, 0);
    let handle = "gitlab_deploy_pipeline@service";
    expect(
        &server.warden(&[
            "service-user",
            "update",
            handle,
            "--owner-user",
            "ann@example.com",
            "--reason",
            "Ann runs deployments now",
        ]),
        0,
    );
    let refused = server.warden(&["service-user", "deactivate", handle, "--reason", " "]);
    expect(&refused, 1);
    assert_eq!(stderr(&refused), "error: `reason` must not be empty\n");
    expect(
        &server.warden(&[
            "service-user",
            "deactivate",
            handle,
            "--reason",
            "pipeline paused",
        ]),
        0,
    );
    expect(
        &server.warden(&[
            "service-user",
            "reactivate",
            handle,
            "--reason",
            "pipeline resumed",
        ]),
        0,
    );

    let history = server.warden(&["service-user", "history", handle]);
    expect(&history, 0);
    assert_eq!(
        stdout(&history),
        "\
WHEN                  WHO                 WHAT                     CHANGES                                                                     WHY
2026-05-04T10:00:00Z  admin@warden.local  service-user.create      name: - → GitLab deploy pipeline; purpose: - → deploys; status: - → active  OPS-1 new pipeline
2026-05-04T10:00:00Z  admin@warden.local  service-user.update      owner: - → user ann@example.com                                             Ann runs deployments now
2026-05-04T10:00:00Z  admin@warden.local  service-user.deactivate  status: active → deactivated                                                pipeline paused
2026-05-04T10:00:00Z  admin@warden.local  service-user.reactivate  status: deactivated → active                                                pipeline resumed
4 records
"
    );
    let json = server.warden(&["--format", "json", "service-user", "history", handle]);
    expect(&json, 0);
    let body: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(body["records"][1]["changes"][0]["field"], "owner");
    assert_eq!(body["records"][1]["changes"][0]["old"], Value::Null);
    assert_eq!(
        body["records"][1]["changes"][0]["new"],
        "user ann@example.com"
    );
    assert_eq!(body["records"][2]["reason"], "pipeline paused");

    let missing = server.warden(&["service-user", "history", "nobody@service"]);
    expect(&missing, 1);
}

fn workflow_id(server: &Server, title: &str) -> String {
    let listed = server.warden(&["--format", "json", "workflow", "list", "--admin"]);
    expect(&listed, 0);
    let body: Value = serde_json::from_str(&stdout(&listed)).unwrap();
    body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["title"] == title)
        .unwrap_or_else(|| panic!("no workflow `{title}`: {body}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn workflows_are_managed_and_their_tasks_decided_from_the_command_line() {
    let server = Server::start("workflows");
    expect(
        &server.warden(&["service-user", "create", "Pipeline Automation"]),
        0,
    );

    let created = server.warden(&[
        "workflow",
        "create",
        "Nightly",
        "--env",
        "env-prod",
        "--actor",
        "pipeline_automation@service",
    ]);
    expect(&created, 0);
    let nightly = workflow_id(&server, "Nightly");
    assert_eq!(
        stdout(&created),
        format!(
            "created workflow `Nightly` ({nightly}) in `env-prod`: private, owned by user admin@warden.local, run as `pipeline_automation@service`\n"
        )
    );

    let listed = server.warden(&["workflow", "list"]);
    expect(&listed, 0);
    assert_eq!(
        stdout(&listed),
        format!(
            "\
TITLE    ENVIRONMENT  VISIBILITY  OWNER                    ACTOR                        ID
Nightly  env-prod     private     user admin@warden.local  pipeline_automation@service  {nightly}
1 workflow
"
        )
    );

    // By title, in any case.
    let shown = server.warden(&["workflow", "get", "NIGHTLY"]);
    expect(&shown, 0);
    assert_eq!(
        stdout(&shown),
        format!(
            "\
title:       Nightly
id:          {nightly}
environment: env-prod
visibility:  private
owner:       user admin@warden.local
actor:       pipeline_automation@service (service user)
type:        STANDARD
created:     2026-05-04T10:00:00Z
updated:     2026-05-04T10:00:00Z
"
        )
    );
    let missing = server.warden(&["workflow", "get", "Nighty"]);
    expect(&missing, 1);
    assert_eq!(
        stderr(&missing),
        "error: there is no workflow `Nighty`\n  help: did you mean `Nightly`?\n"
    );

    // A service-user actor: its own permissions decide.
    let task = |workflow: &str| {
        server.warden(&[
            "workflow",
            "authorize-task",
            workflow,
            "settings:objects:write",
            "--attr",
            "settings:schemaId=builtin:x",
        ])
    };
    let refused = task("Nightly");
    expect(&refused, 3);
    assert_eq!(
        stdout(&refused),
        "DENY: refused by the actor's permissions (no-matching-allow)\n  \
         denied: no policy bound to the principal's groups grants `settings:objects:write` in environment `env-prod`\n"
    );
    server.write(
        "x.policy",
        "ALLOW settings:objects:write WHERE settings:schemaId = \"builtin:x\";\n",
    );
    expect(
        &server.warden(&["policy", "create", "--name", "Settings X", "x.policy"]),
        0,
    );
    expect(
        &server.warden(&[
            "bind",
            "Settings X",
            "pipeline_automation@service (service user)",
        ]),
        0,
    );
    let allowed = task(&nightly);
    expect(&allowed, 0);
    assert_eq!(
        stdout(&allowed),
        "ALLOW: the service-user actor may do it (allowed)\n  \
         allowed by `ALLOW settings:objects:write WHERE settings:schemaId = \"builtin:x\";` of policy `Settings X`, \
         bound to group `pipeline_automation@service (service user)` at account level\n"
    );

    // A human actor: permissions and consent.
    let mine = server.warden(&[
        "workflow", "create", "Mine", "--env", "env-prod", "--public",
    ]);
    expect(&mine, 0);
    let mine_id = workflow_id(&server, "Mine");
    assert_eq!(
        stdout(&mine),
        format!(
            "created workflow `Mine` ({mine_id}) in `env-prod`: public, owned by user admin@warden.local, run as `admin@warden.local`\n"
        )
    );
    let no_consent = task("Mine");
    expect(&no_consent, 3);
    assert_eq!(
        stdout(&no_consent),
        "DENY: refused by consent (no-consent)\n  \
         the actor may `settings:objects:write` but did not consent to the automation engine using it in `env-prod`\n"
    );
    let json = server.warden(&[
        "--format",
        "json",
        "workflow",
        "authorize-task",
        "Mine",
        "settings:objects:write",
    ]);
    expect(&json, 3);
    let body: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(
        (&body["outcome"], &body["reason"], &body["refusedBy"]),
        (
            &Value::from("DENY"),
            &Value::from("no-consent"),
            &Value::from("consent")
        )
    );

    let none = server.warden(&["workflow", "consent", "get", "--env", "env-prod"]);
    expect(&none, 0);
    assert_eq!(
        stdout(&none),
        "no consent in `env-prod`: tasks that run as you may do nothing there\n"
    );
    let consented = server.warden(&[
        "workflow",
        "consent",
        "set",
        "--env",
        "env-prod",
        "settings:objects:write",
        "settings:objects:read",
    ]);
    expect(&consented, 0);
    assert_eq!(
        stdout(&consented),
        "consented to 2 permissions in `env-prod`: `settings:objects:write`, `settings:objects:read`\n"
    );
    let got = server.warden(&["workflow", "consent", "get", "--env", "env-prod"]);
    expect(&got, 0);
    assert_eq!(
        stdout(&got),
        "settings:objects:write\nsettings:objects:read\n2 permissions consented to in `env-prod`\n"
    );
    let with_consent = task("mine");
    expect(&with_consent, 0);
    assert_eq!(
        stdout(&with_consent),
        "ALLOW: the actor may do it and consented to it (allowed)\n  \
         allowed by `ALLOW settings:objects:write;` of policy `Warden Administrator`, bound to group `Warden Administrators` at account level\n"
    );
    let typo = server.warden(&[
        "workflow",
        "consent",
        "set",
        "--env",
        "env-prod",
        "settings:object:write",
    ]);
    expect(&typo, 1);
    assert_eq!(
        stderr(&typo),
        "error: unknown permission `settings:object:write`; did you mean `settings:objects:write`?\n"
    );

    // Ownership to a group the administrator is not in: private, it is out of sight but for admin
    // mode.
    expect(&server.warden(&["group", "create", "devs"]), 0);
    let transferred = server.warden(&[
        "workflow",
        "update",
        "Mine",
        "--owner-group",
        "devs",
        "--private",
        "--title",
        "Mine too",
    ]);
    expect(&transferred, 0);
    assert_eq!(
        stdout(&transferred),
        format!(
            "updated workflow `Mine too` ({mine_id}) in `env-prod`: private, owned by group devs, run as `admin@warden.local`\n"
        )
    );
    let visible = server.warden(&["workflow", "list"]);
    expect(&visible, 0);
    assert!(
        stdout(&visible).ends_with(&format!("{nightly}\n1 workflow\n")),
        "{}",
        stdout(&visible)
    );
    let all = server.warden(&["workflow", "list", "--admin"]);
    expect(&all, 0);
    assert_eq!(
        stdout(&all),
        format!(
            "\
TITLE     ENVIRONMENT  VISIBILITY  OWNER                    ACTOR                        ID
Mine too  env-prod     private     group devs               admin@warden.local           {mine_id}
Nightly   env-prod     private     user admin@warden.local  pipeline_automation@service  {nightly}
2 workflows
"
        )
    );

    // A deactivated service-user actor blocks every task, and cannot be deleted while it is one.
    expect(
        &server.warden(&[
            "service-user",
            "deactivate",
            "pipeline_automation@service",
            "--reason",
            "retired",
        ]),
        0,
    );
    let inactive = task("Nightly");
    expect(&inactive, 3);
    assert_eq!(
        stdout(&inactive),
        "DENY: refused by the actor's permissions (inactive-principal)\n  \
         denied: principal `pipeline_automation@service` is deactivated\n"
    );
    let delete = server.warden(&["service-user", "delete", "pipeline_automation@service"]);
    expect(&delete, 1);
    assert_eq!(
        stderr(&delete),
        format!(
            "error: service user `pipeline_automation@service` is still used by 1 workflow; delete them or move them to another owner or actor first, or deactivate the service user instead\n  \
             used by: workflow `Nightly` ({nightly})\n"
        )
    );

    let deleted = server.warden(&["workflow", "delete", "Mine too", "--admin"]);
    expect(&deleted, 0);
    assert_eq!(stdout(&deleted), "deleted workflow `Mine too`\n");
    expect(&server.warden(&["workflow", "delete", &nightly]), 0);
    let empty = server.warden(&["workflow", "list", "--admin"]);
    expect(&empty, 0);
    assert_eq!(
        stdout(&empty),
        "TITLE  ENVIRONMENT  VISIBILITY  OWNER  ACTOR  ID\n0 workflows\n"
    );
}

#[test]
fn the_service_user_review_lists_who_needs_attention() {
    let server = Server::start("review");
    expect(
        &server.warden(&[
            "service-user",
            "create",
            "Reporter",
            "--owner-user",
            "admin@warden.local",
            "--purpose",
            "Reports sales",
        ]),
        0,
    );
    expect(&server.warden(&["service-user", "create", "Orphan"]), 0);
    let looked_for = "unused for 90 days, unreviewed for 90 days, credentials older than 90 days, without an owner or a purpose, an owner deactivated, or unused permissions or memberships";
    let no_workflow = "no workflow runs as a person or as someone deactivated";

    let report = server.warden(&["service-user", "review"]);
    expect(&report, 0);
    assert_eq!(
        stdout(&report),
        format!(
            "\
HANDLE          NAME    STATUS  OWNER  LAST USED  LAST REVIEWED  FINDINGS
orphan@service  Orphan  ACTIVE  none   never      never          no owner, no purpose
1 service user to review ({looked_for})

{no_workflow}
"
        )
    );

    // 100 days later both are unused and unreviewed; a review clears one of them.
    server.clock.advance(100 * 86_400_000);
    expect(
        &server.warden(&["service-user", "mark-reviewed", "reporter@service"]),
        0,
    );
    let later = server.warden(&["service-user", "review"]);
    expect(&later, 0);
    assert_eq!(
        stdout(&later),
        format!(
            "\
HANDLE            NAME      STATUS  OWNER                    LAST USED  LAST REVIEWED         FINDINGS
orphan@service    Orphan    ACTIVE  none                     never      never                 unused, unreviewed, no owner, no purpose
reporter@service  Reporter  ACTIVE  user admin@warden.local  never      2026-08-12T10:00:00Z  unused
2 service users to review ({looked_for})

{no_workflow}
"
        )
    );
    let wide = server.warden(&[
        "service-user",
        "review",
        "--unused-days",
        "365",
        "--unreviewed-days",
        "365",
        "--rotation-days",
        "30",
    ]);
    expect(&wide, 0);
    assert_eq!(
        stdout(&wide),
        "\
HANDLE          NAME    STATUS  OWNER  LAST USED  LAST REVIEWED  FINDINGS
orphan@service  Orphan  ACTIVE  none   never      never          no owner, no purpose
1 service user to review (unused for 365 days, unreviewed for 365 days, credentials older than 30 days, without an owner or a purpose, an owner deactivated, or unused permissions or memberships)

no workflow runs as a person or as someone deactivated
"
    );

    let json = server.warden(&["--format", "json", "service-user", "review"]);
    expect(&json, 0);
    let body: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(body["unusedDays"], 90);
    assert_eq!(
        body["serviceUsers"][1]["owner"]["name"],
        "admin@warden.local"
    );

    let bad = server.warden(&["service-user", "review", "--unused-days", "0"]);
    expect(&bad, 2);
    assert!(
        stderr(&bad).starts_with(
            "error: invalid value '0' for '--unused-days <DAYS>': 0 is not in 1..=36500\n"
        ),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn suggest_policy_prints_a_policy_file_that_passes_the_check() {
    let server = Server::start("suggest");
    let created = server.warden(&["--format", "json", "service-user", "create", "Shipper"]);
    expect(&created, 0);
    let created: Value = serde_json::from_str(&stdout(&created)).unwrap();
    let group = created["groupUuid"].as_str().unwrap().to_owned();
    server.write(
        "broad.policy",
        "ALLOW storage:logs:read, storage:spans:read;\n",
    );
    expect(
        &server.warden(&["policy", "create", "--name", "broad", "broad.policy"]),
        0,
    );
    expect(&server.warden(&["bind", "broad", &group]), 0);
    for bucket in ["app_logs", "audit_logs"] {
        let asked = server.warden(&[
            "authorize",
            "shipper@service",
            "storage:logs:read",
            "--env",
            "env-prod",
            "--attr",
            &format!("storage:bucket-name={bucket}"),
        ]);
        expect(&asked, 0);
    }

    let suggested = server.warden(&["suggest-policy", "shipper@service", "--days", "30"]);
    expect(&suggested, 0);
    let email = created["email"].as_str().unwrap();
    let expected = format!(
        "\
// Least privilege for shipper@service: what its allowed requests of the last 30 days used.
ALLOW storage:logs:read WHERE storage:bucket-name IN (\"app_logs\", \"audit_logs\") AND global:environmentId IN (\"env-prod\");
//
// Against what it holds today:
//   kept: storage:logs:read
//   removed (unused): storage:spans:read
//   added: none
// Switching (this policy bound at account level to its own group, in place of that group's bindings and its other groups):
//   1 principal(s) affected, 4 change(s)
//   {email} loses storage:logs:read at account
//   {email} loses storage:spans:read at account
//   {email} loses storage:logs:read at env-prod
//   {email} loses storage:spans:read at env-prod
"
    );
    assert_eq!(stdout(&suggested), expected);
    // The output is a policy file as it is.
    server.write("suggested.policy", &stdout(&suggested));
    let checked = run(&server.dir, &["policy", "check", "suggested.policy"], &[]);
    expect(&checked, 0);

    let text = server.warden(&[
        "--format",
        "text",
        "suggest-policy",
        "shipper@service",
        "--days",
        "30",
    ]);
    assert_eq!(stdout(&text), expected);
    let json = server.warden(&["--format", "json", "suggest-policy", "shipper@service"]);
    expect(&json, 0);
    let body: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(body["days"], 90);
    assert_eq!(
        body["permissions"],
        serde_json::json!(["storage:logs:read"])
    );
    assert_eq!(
        body["diff"]["removed"],
        serde_json::json!(["storage:spans:read"])
    );

    let bad = server.warden(&["suggest-policy", "shipper@service", "--days", "0"]);
    expect(&bad, 2);
    let unknown = server.warden(&["suggest-policy", "nobody@service"]);
    expect(&unknown, 1);
    assert_eq!(
        stderr(&unknown),
        "error: service user `nobody@service` does not exist\n"
    );
}

#[test]
fn residuals_print_as_text_json_and_parameterised_sql() {
    let server = Server::start("residual");
    server.write(
        "logs.policy",
        "ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"team_\";\n\
         ALLOW storage:logs:read WHERE storage:bucket-name IN (\"shared\", \"it's\");\n\
         DENY storage:logs:read WHERE storage:bucket-name = \"team_secret\";\n",
    );
    expect(&server.warden(&["group", "create", "readers"]), 0);
    expect(
        &server.warden(&["policy", "create", "--name", "Logs", "logs.policy"]),
        0,
    );
    expect(&server.warden(&["bind", "Logs", "readers"]), 0);
    expect(&server.warden(&["user", "create", "bob@example.com"]), 0);
    expect(
        &server.warden(&["user", "add-groups", "bob@example.com", "readers"]),
        0,
    );
    let residual = |extra: &[&str]| {
        let mut args = vec!["residual", "bob@example.com", "storage:logs:read"];
        args.extend_from_slice(extra);
        server.warden(&args)
    };

    let text = residual(&[]);
    expect(&text, 0);
    assert_eq!(
        stdout(&text),
        "CONDITIONAL: allowed when\n  \
         storage:bucket-name != \"team_secret\" \
         AND (storage:bucket-name IN (\"it's\", \"shared\") OR storage:bucket-name startsWith \"team_\")\n"
    );
    let same = residual(&["--format", "text"]);
    expect(&same, 0);
    assert_eq!(stdout(&same), stdout(&text));

    // Fixed attributes decide: ALLOW exits 0, DENY 3.
    let allowed = residual(&["--attr", "storage:bucket-name=team_a"]);
    expect(&allowed, 0);
    assert_eq!(
        stdout(&allowed),
        "ALLOW: allowed whatever the free attributes are\n"
    );
    let denied = residual(&["--attr", "storage:bucket-name=team_secret"]);
    expect(&denied, 3);
    assert_eq!(
        stdout(&denied),
        "DENY: denied whatever the free attributes are\n"
    );

    let json = residual(&["--format", "json"]);
    expect(&json, 0);
    let body: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(body["decision"], "CONDITIONAL");
    assert_eq!(
        body["residual"]["all"][0],
        serde_json::json!({ "attribute": "storage:bucket-name", "operator": "!=", "values": ["team_secret"] })
    );

    // SQL: placeholders only; the values, quote and all, come as parameters.
    let sqlite = residual(&["--format", "sql", "--column", "storage:bucket-name=bucket"]);
    expect(&sqlite, 0);
    assert_eq!(
        stdout(&sqlite),
        "WHERE ((\"bucket\" IS NULL OR NOT (\"bucket\" = ?1)) \
         AND ((\"bucket\" IS NOT NULL AND (\"bucket\" IN (?2, ?3))) OR (\"bucket\" IS NOT NULL AND (\"bucket\" GLOB ?4))))\n\
         parameters: [\"team_secret\",\"it's\",\"shared\",\"team_*\"]\n"
    );
    let postgres = residual(&[
        "--format",
        "sql",
        "--column",
        "storage:bucket-name=bucket",
        "--dialect",
        "postgres",
    ]);
    expect(&postgres, 0);
    assert_eq!(
        stdout(&postgres),
        "WHERE ((\"bucket\" IS NULL OR NOT (\"bucket\" = $1)) \
         AND ((\"bucket\" IS NOT NULL AND (\"bucket\" IN ($2, $3))) OR (\"bucket\" IS NOT NULL AND (\"bucket\" LIKE $4 ESCAPE '\\'))))\n\
         parameters: [\"team_secret\",\"it's\",\"shared\",\"team\\\\_%\"]\n"
    );

    // Mistakes: a missing column, a column that is not a plain name, a misspelt permission (in
    // JSON with `--format json`), `--format sql` elsewhere.
    let no_column = residual(&["--format", "sql"]);
    expect(&no_column, 2);
    assert_eq!(
        stderr(&no_column),
        "error: the residual tests the attribute `storage:bucket-name`, which has no column\n  \
         help: name its column, as in `--column storage:bucket-name=COLUMN`\n"
    );
    let injected = residual(&[
        "--format",
        "sql",
        "--column",
        "storage:bucket-name=bucket\"; DROP TABLE logs; --",
    ]);
    expect(&injected, 2);
    assert_eq!(
        stderr(&injected),
        "error: `bucket\"; DROP TABLE logs; --` is not a plain column name\n  \
         help: use letters, digits and `_`, starting with a letter or `_`\n"
    );
    assert!(stdout(&injected).is_empty());
    let typo = server.warden(&["residual", "bob@example.com", "storage:logs:raed"]);
    expect(&typo, 1);
    assert_eq!(
        stderr(&typo),
        "error: unknown permission `storage:logs:raed`; did you mean `storage:logs:read`?\n"
    );
    let typo_json = server.warden(&[
        "--format",
        "json",
        "residual",
        "bob@example.com",
        "storage:logs:raed",
    ]);
    expect(&typo_json, 1);
    let error: Value = serde_json::from_str(&stdout(&typo_json)).unwrap();
    assert_eq!(error["error"]["code"], "invalid");
    assert_eq!(error["error"]["details"]["suggestion"], "storage:logs:read");
    let elsewhere = server.warden(&["--format", "sql", "group", "list"]);
    expect(&elsewhere, 2);
    assert_eq!(
        stderr(&elsewhere),
        "error: `--format sql` is only for `warden residual`\n  help: use `--format human` or `--format json`\n"
    );
}

/// Compares `actual` with the golden file `tests/golden/NAME`, or rewrites it under
/// `WARDEN_BLESS=1`.
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("WARDEN_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run with WARDEN_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{} differs; run with WARDEN_BLESS=1 after an intended change",
        path.display()
    );
}

/// The review report of a fixed world on the manual clock — a pipeline with an unused
/// membership and credentials due for rotation, a service user whose owner left, one without a
/// purpose whose owning group is empty, and workflows run by people — as text, JSON and CSV,
/// each compared with its golden file (ids, random by design, named instead).
#[test]
fn the_review_report_of_a_fixed_world_matches_its_golden_files() {
    let server = Server::start("review-golden");
    let ok = |args: &[&str]| -> String {
        let output = server.warden(args);
        expect(&output, 0);
        stdout(&output)
    };
    let json = |text: String| -> Value { serde_json::from_str(&text).unwrap() };
    for (policy, file, text, group) in [
        (
            "Read logs",
            "logs.policy",
            "ALLOW storage:logs:read;\n",
            "Deployers",
        ),
        (
            "Read groups",
            "groups.policy",
            "ALLOW iam:groups:read;\n",
            "Legacy Ops",
        ),
        (
            "No settings",
            "deny.policy",
            "DENY settings:objects:write;\n",
            "Blocked",
        ),
        (
            "Workflows",
            "workflows.policy",
            "ALLOW automation:workflows:read, automation:workflows:write, automation:workflows:run;\n",
            "Automation",
        ),
    ] {
        server.write(file, text);
        ok(&["group", "create", group]);
        ok(&["policy", "create", "--name", policy, file]);
        ok(&["bind", policy, group]);
    }
    ok(&["group", "create", "Grafana owners"]);
    let alice = json(ok(&[
        "--format",
        "json",
        "user",
        "create",
        "alice@example.com",
    ]));
    let alice = alice["uid"].as_str().unwrap().to_owned();
    ok(&["user", "create", "bob@example.com"]);
    ok(&["user", "add-groups", "alice@example.com", "Automation"]);
    ok(&[
        "service-user",
        "create",
        "GitLab deploy pipeline",
        "--purpose",
        "Deploys the shop",
        "--owner-user",
        "bob@example.com",
    ]);
    ok(&[
        "service-user",
        "create",
        "Grafana sync",
        "--description",
        "Reads logs for the dashboards",
        "--owner-user",
        "alice@example.com",
    ]);
    ok(&[
        "service-user",
        "create",
        "Old importer",
        "--owner-group",
        "Grafana owners",
    ]);
    let gitlab = "gitlab_deploy_pipeline@service";
    ok(&[
        "user",
        "add-groups",
        gitlab,
        "Deployers",
        "Legacy Ops",
        "Blocked",
    ]);
    ok(&["user", "add-groups", "grafana_sync@service", "Deployers"]);
    let client = json(ok(&[
        "--format",
        "json",
        "oauth-client",
        "create",
        "gitlab",
        "--scope",
        "storage:logs:read",
        "--owner",
        gitlab,
        "--secret-file",
        "gitlab.secret",
    ]));
    let client = client["clientId"].as_str().unwrap().to_owned();
    ok(&[
        "token",
        "create",
        "nightly",
        "--scope",
        "iam:groups:read",
        "--expires",
        "2027-05-04T10:00:00Z",
        "--user",
        gitlab,
        "--token-out",
        "nightly.token",
    ]);
    ok(&["workflow", "create", "Weekly report", "--env", "env-prod"]);
    ok(&[
        "workflow",
        "create",
        "Cleanup",
        "--env",
        "env-prod",
        "--actor",
        "old_importer@service",
    ]);
    ok(&[
        "workflow", "create", "Deploy", "--env", "env-prod", "--actor", gitlab,
    ]);
    server.write("alice.token", &server.person_token(&alice));
    let by_alice = run(
        &server.dir,
        &[
            "workflow",
            "create",
            "Nightly export",
            "--env",
            "env-prod",
            "--public",
        ],
        &["--server", &server.url, "--token-file", "alice.token"],
    );
    expect(&by_alice, 0);

    // 100 days on the client gets a second secret; 120 days on alice has left, the importer is
    // retired, the pipeline is reviewed, and the pipeline and Grafana read logs.
    server.clock.advance(100 * 86_400_000);
    ok(&[
        "oauth-client",
        "rotate",
        &client,
        "--secret-file",
        "gitlab2.secret",
    ]);
    server.clock.advance(20 * 86_400_000);
    ok(&["user", "delete", "alice@example.com"]);
    ok(&[
        "service-user",
        "deactivate",
        "old_importer@service",
        "--reason",
        "replaced by the new importer",
    ]);
    ok(&["service-user", "mark-reviewed", gitlab]);
    let minted = run(
        &server.dir,
        &["oauth", "token", &client, "--secret-file", "gitlab.secret"],
        &["--server", &server.url],
    );
    expect(&minted, 0);
    ok(&["authorize", gitlab, "storage:logs:read"]);
    ok(&["authorize", "grafana_sync@service", "storage:logs:read"]);

    let text = ok(&["service-user", "review"]);
    let report = ok(&["--format", "json", "service-user", "review"]);
    let csv = ok(&["--format", "csv", "service-user", "review"]);
    let parsed: Value = serde_json::from_str(&report).unwrap();
    // Ids are random: each is named after what it identifies, longest first.
    let mut ids: Vec<(String, String)> = vec![
        (alice, "<alice>".to_owned()),
        (client, "<client gitlab>".to_owned()),
    ];
    let text_of = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    for user in parsed["serviceUsers"].as_array().unwrap() {
        let handle = text_of(&user["handle"]);
        ids.push((
            text_of(&user["uid"]),
            format!("<{}>", handle.trim_end_matches("@service")),
        ));
        if let Some(name) = user["owner"]["name"].as_str() {
            ids.push((text_of(&user["owner"]["id"]), format!("<{name}>")));
        }
        for group in user["unusedMemberships"].as_array().unwrap() {
            ids.push((
                text_of(&group["uuid"]),
                format!("<group {}>", text_of(&group["name"])),
            ));
        }
        for credential in user["rotationDue"].as_array().unwrap() {
            ids.push((
                text_of(&credential["id"]),
                format!(
                    "<{} {}>",
                    text_of(&credential["type"]),
                    text_of(&credential["name"])
                ),
            ));
        }
    }
    for workflow in parsed["workflows"].as_array().unwrap() {
        ids.push((
            text_of(&workflow["id"]),
            format!("<workflow {}>", text_of(&workflow["title"])),
        ));
        if let Some(email) = workflow["actorEmail"].as_str() {
            ids.push((text_of(&workflow["actor"]), format!("<{email}>")));
        }
    }
    ids.retain(|(id, _)| !id.is_empty());
    ids.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    ids.dedup_by(|a, b| a.0 == b.0);
    let redact = |text: &str| -> String {
        ids.iter().fold(text.to_owned(), |text, (id, label)| {
            text.replace(id.as_str(), label)
        })
    };
    golden("review.txt", &redact(&text));
    golden("review.json", &redact(&report));
    golden("review.csv", &redact(&csv));

    // `get` and `list` show the last use too.
    let got = ok(&["service-user", "get", gitlab]);
    assert!(
        got.contains("last used:     2026-09-01T10:00:00Z\n"),
        "{got}"
    );
    let listed = ok(&["service-user", "list"]);
    assert!(
        listed.contains(
            "old_importer@service            Old importer            INACTIVE  never                 "
        ),
        "{listed}"
    );
    let elsewhere = server.warden(&["--format", "csv", "group", "list"]);
    expect(&elsewhere, 2);
    assert_eq!(
        stderr(&elsewhere),
        "error: `--format csv` is only for `warden service-user review`\n  help: use `--format human` or `--format json`\n"
    );
}
