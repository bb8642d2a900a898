//! `warden export`, `warden plan` and `warden apply` as a platform team runs them from CI: a real
//! server in-process on a free loopback port, the real `warden` binary talking to it. The round
//! trip (apply, export, apply to an empty server, export again), the exit codes of plan, an
//! invalid file that changes nothing, and a delegated administrator refused mid-way (with
//! `--atomic`: refused with nothing applied).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::oneshot;
use warden_server::{Config, ManualClock};

/// 2026-05-04T10:00:00Z.
const START_MS: i64 = 1_777_888_800_000;

/// A rich account: environments, a boundary, account policies, groups (one empty, a default
/// group with an extra binding), bindings with parameters and boundaries at both levels, a
/// global policy by name, users and a service user. Written in the order `warden export` writes.
const RICH: &str = "\
environments: [env-dev, env-prod]
boundaries:
  Zone A: |
    environment:management-zone IN (\"zone-a\");
policies:
  Buckets Read: |
    ALLOW storage:buckets:read;
  Team Logs: |
    ALLOW storage:logs:read WHERE storage:bucket-name startsWith \"${bindParam:team}_\";
groups:
  empty team: []
  Environment Users:
    - policy: Buckets Read
      level: environment:env-dev
  ops:
    - policy: Standard User
      level: account
    - policy: Team Logs
      level: environment:env-prod
      parameters: { team: ops }
      boundaries: [Zone A]
users:
  admin@warden.local: [Account Admins]
  alice@example.com: [Environment Users, ops]
  bob@example.com: []
service_users:
  Pipeline Automation: [ops]
";

struct Server {
    url: String,
    dir: PathBuf,
    token_file: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn start(name: &str) -> Server {
        let dir = std::env::temp_dir().join(format!("warden-world-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            db: dir.join("warden.db").display().to_string(),
            token_file: dir.join("admin-token"),
            ..Config::default()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (state, _) = runtime
            .block_on(warden_server::start(
                &config,
                Arc::new(ManualClock::new(START_MS)),
            ))
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        runtime.spawn(warden_server::serve(state, listener, async {
            let _ = rx.await;
        }));
        Server {
            url,
            dir,
            token_file: config.token_file,
            shutdown: Some(tx),
            runtime: Some(runtime),
        }
    }

    /// `warden ARGS… --server URL --token-file FILE` (the administrator).
    fn admin(&self, args: &[&str]) -> Output {
        let token_file = self.token_file.to_str().unwrap().to_owned();
        self.run(args, &["--token-file", &token_file])
    }

    fn run(&self, args: &[&str], auth: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(args)
            .args(["--server", &self.url])
            .args(auth)
            .current_dir(&self.dir)
            .env_remove("WARDEN_URL")
            .env_remove("WARDEN_TOKEN")
            .env_remove("WARDEN_ACCOUNT")
            .output()
            .expect("run warden")
    }

    /// Writes a file in the server's directory; its path.
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    fn path_of(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn export(&self) -> String {
        expect(&self.admin(&["export"]), 0)
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
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

#[track_caller]
fn expect(output: &Output, code: i32) -> String {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(output)
}

#[test]
fn an_exported_account_applied_to_an_empty_server_exports_the_same() {
    let a = Server::start("a");
    let rich = a.file("rich.yaml", RICH);

    let plan = expect(&a.admin(&["plan", &rich]), 2);
    assert_eq!(
        plan,
        "13 changes (13 to create, 0 to update, 0 to delete)
+ environment `env-dev`
+ environment `env-prod`
+ boundary `Zone A`
+ policy `Buckets Read`
+ policy `Team Logs`
+ group `empty team`
+ group `ops`
+ binding of policy `Buckets Read` to group `Environment Users` at environment:env-dev
+ binding of policy `Standard User` to group `ops` at account
+ binding of policy `Team Logs` to group `ops` at environment:env-prod (team=ops, boundaries [Zone A])
+ user `alice@example.com` in [Environment Users, ops]
+ user `bob@example.com` in []
+ service user `Pipeline Automation` in [ops]
impact: 2 principals gain or lose access:
  Pipeline Automation gains at account: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 44 more
  Pipeline Automation gains at environment:env-dev: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 44 more
  Pipeline Automation gains at environment:env-prod: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 44 more
  Pipeline Automation gains at environment:env-prod: `storage:logs:read` when storage:bucket-name startsWith \"ops_\"
  alice@example.com gains at account: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 51 more
  alice@example.com gains at account: `storage:buckets:read` when storage:table-name IN (\"entities\", \"logs\", \"metrics\", \"spans\", \"user.sessions\") OR (storage:table-name = \"events\" AND storage:bucket-name NOT IN (\"default_security_custom_events\", \"default_security_events\") AND storage:bucket-name IS PRESENT)
  alice@example.com gains at environment:env-dev: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 52 more
  alice@example.com gains at environment:env-prod: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 51 more
  alice@example.com gains at environment:env-prod: `storage:buckets:read` when storage:table-name IN (\"entities\", \"logs\", \"metrics\", \"spans\", \"user.sessions\") OR (storage:table-name = \"events\" AND storage:bucket-name NOT IN (\"default_security_custom_events\", \"default_security_events\") AND storage:bucket-name IS PRESENT)
"
    );
    let applied = expect(&a.admin(&["apply", &rich, "--yes"]), 0);
    assert!(
        applied.starts_with("applied 13 changes (13 to create, 0 to update, 0 to delete)\n"),
        "{applied}"
    );
    // The account is as the file says: exported, it is the file.
    let exported = a.export();
    assert_eq!(exported, RICH);
    assert_eq!(expect(&a.admin(&["plan", &rich]), 0), "0 changes\n");
    assert_eq!(
        expect(&a.admin(&["apply", &rich, "--yes"]), 0),
        "0 changes\n"
    );
    let json: Value =
        serde_json::from_str(&expect(&a.admin(&["plan", &rich, "--format", "json"]), 0)).unwrap();
    assert_eq!(json["changes"], 0);

    // Updates: a binding's parameter becomes a list, a user joins a group.
    let changed = RICH
        .replace("{ team: ops }", "{ team: sre }")
        .replace("bob@example.com: []", "bob@example.com: [empty team]");
    let changed_file = a.file("changed.yaml", &changed);
    assert_eq!(
        expect(&a.admin(&["plan", &changed_file]), 2),
        "2 changes (0 to create, 2 to update, 0 to delete)
~ binding of policy `Team Logs` to group `ops` at environment:env-prod (team=sre, boundaries [Zone A])
~ groups of user `bob@example.com`: [] → [empty team]
impact: 1 principal gains or loses access:
  Pipeline Automation has other conditions at environment:env-prod: `storage:logs:read` when storage:bucket-name startsWith \"ops_\" → when storage:bucket-name startsWith \"sre_\"
"
    );
    expect(&a.admin(&["apply", &changed_file, "--yes"]), 0);
    assert_eq!(a.export(), changed);
    expect(&a.admin(&["apply", &rich, "--yes"]), 0);
    assert_eq!(a.export(), RICH);

    // The file may carry cases: `warden test` runs them, plan and apply ignore them.
    let tested = a.file(
        "tested.yaml",
        &format!(
            "{RICH}cases:
  - principal: alice@example.com
    permission: storage:buckets:read
    environment: env-dev
    expect: allow
  - principal: bob@example.com
    permission: storage:buckets:read
    environment: env-dev
    expect: deny
"
        ),
    );
    assert_eq!(
        expect(
            &Command::new(env!("CARGO_BIN_EXE_warden"))
                .args(["test", &tested])
                .output()
                .unwrap(),
            0
        )
        .lines()
        .last(),
        Some("2 passed, 0 failed")
    );
    assert_eq!(expect(&a.admin(&["plan", &tested]), 0), "0 changes\n");

    // To an empty server, pruning what the file does not name: the same export.
    let b = Server::start("b");
    let copy = b.file("copy.yaml", &exported);
    expect(&b.admin(&["apply", &copy, "--prune", "--yes"]), 0);
    assert_eq!(b.export(), exported);
    assert_eq!(
        expect(&b.admin(&["plan", &copy, "--prune"]), 0),
        "0 changes\n"
    );

    // A smaller file: without --prune nothing goes; with it, what the file no longer names.
    let smaller = b.file(
        "smaller.yaml",
        "environments: [env-dev, env-prod]\ngroups:\n  ops: []\nusers:\n  admin@warden.local: [Account Admins]\n",
    );
    assert_eq!(expect(&b.admin(&["plan", &smaller]), 0), "0 changes\n");
    let pruned = expect(&b.admin(&["plan", &smaller, "--prune"]), 2);
    assert_eq!(
        pruned,
        "10 changes (0 to create, 0 to update, 10 to delete)
- user `alice@example.com`
- user `bob@example.com`
- service user `Pipeline Automation`
- binding of policy `Buckets Read` to group `Environment Users` at environment:env-dev
- binding of policy `Standard User` to group `ops` at account
- binding of policy `Team Logs` to group `ops` at environment:env-prod
- group `empty team`
- policy `Buckets Read`
- policy `Team Logs`
- boundary `Zone A`
impact: 2 principals gain or lose access:
  Pipeline Automation loses at account: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 44 more
  Pipeline Automation loses at environment:env-dev: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 44 more
  Pipeline Automation loses at environment:env-prod: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 44 more
  Pipeline Automation loses at environment:env-prod: `storage:logs:read` (was when storage:bucket-name startsWith \"ops_\")
  alice@example.com loses at account: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 51 more
  alice@example.com loses at account: `storage:buckets:read` (was when storage:table-name IN (\"entities\", \"logs\", \"metrics\", \"spans\", \"user.sessions\") OR (storage:table-name = \"events\" AND storage:bucket-name NOT IN (\"default_security_custom_events\", \"default_security_events\") AND storage:bucket-name IS PRESENT))
  alice@example.com loses at environment:env-dev: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 52 more
  alice@example.com loses at environment:env-prod: `app-engine:apps:run`, `app-engine:edge-connects:read`, `app-engine:functions:run`, `app-settings:objects:read`, `automation:calendars:read`, and 51 more
  alice@example.com loses at environment:env-prod: `storage:buckets:read` (was when storage:table-name IN (\"entities\", \"logs\", \"metrics\", \"spans\", \"user.sessions\") OR (storage:table-name = \"events\" AND storage:bucket-name NOT IN (\"default_security_custom_events\", \"default_security_events\") AND storage:bucket-name IS PRESENT))
"
    );
    // The same plan as JSON lists every change of access.
    let json: Value = serde_json::from_str(&expect(
        &b.admin(&["plan", &smaller, "--prune", "--format", "json"]),
        2,
    ))
    .unwrap();
    assert_eq!(json["changes"], 10);
    assert_eq!(
        json["steps"][0],
        serde_json::json!({"step": "deleteUser", "serviceUser": false, "name": "alice@example.com"})
    );
    let losses = json["impact"].as_array().unwrap();
    // The unconditional losses, and three conditional ones (with the condition lost).
    assert_eq!(losses.len(), 49 * 3 + 56 + 57 + 56 + 3);
    assert!(losses.contains(&serde_json::json!({
        "principal": "alice@example.com",
        "permission": "storage:buckets:read",
        "level": "environment:env-dev",
        "change": "loses"
    })));
    assert!(losses.contains(&serde_json::json!({
        "principal": "Pipeline Automation",
        "permission": "storage:logs:read",
        "level": "environment:env-prod",
        "change": "loses",
        "before": "storage:bucket-name startsWith \"ops_\""
    })));
    assert!(losses.iter().all(|l| l["change"] == "loses"));
    expect(&b.admin(&["apply", &smaller, "--prune", "--yes"]), 0);
    assert_eq!(
        b.export(),
        "environments: [env-dev, env-prod]\ngroups:\n  ops: []\nusers:\n  admin@warden.local: [Account Admins]\n"
    );

    // The same two applies, each as one transaction: the same accounts.
    let c = Server::start("c");
    let copy = c.file("copy.yaml", &exported);
    let applied = expect(
        &c.admin(&["apply", &copy, "--prune", "--yes", "--atomic"]),
        0,
    );
    assert!(
        applied
            .starts_with("applied 13 changes (13 to create, 0 to update, 0 to delete) (atomic)\n"),
        "{applied}"
    );
    assert_eq!(c.export(), exported);
    assert_eq!(
        expect(
            &c.admin(&["apply", &copy, "--prune", "--yes", "--atomic"]),
            0
        ),
        "0 changes\n"
    );
    let smaller = c.file(
        "smaller.yaml",
        "environments: [env-dev, env-prod]\ngroups:\n  ops: []\nusers:\n  admin@warden.local: [Account Admins]\n",
    );
    expect(
        &c.admin(&["apply", &smaller, "--prune", "--yes", "--atomic"]),
        0,
    );
    assert_eq!(c.export(), b.export());
}

#[test]
fn an_invalid_file_changes_nothing_and_says_where() {
    let server = Server::start("invalid");
    let before = server.export();
    let bad = server.file(
        "bad.yaml",
        "environments: [env-prod]
policies:
  Team Logs: |
    ALLOW storage:logs:reed;
groups:
  ops:
    - policy: Nope
      level: environment:env-test
users:
  alice@example.com: [ops, opz]
",
    );
    let output = server.admin(&["apply", &bad, "--yes"]);
    let printed = expect(&output, 1);
    let lines: Vec<&str> = printed
        .lines()
        .filter(|l| !l.starts_with("  help"))
        .collect();
    assert_eq!(
        lines,
        [
            format!(
                "{bad}:4:11: error: policy `Team Logs`: unknown permission `storage:logs:reed`"
            ),
            format!("{bad}:7:15: error: unknown policy `Nope`"),
            format!("{bad}:8:14: error: unknown environment `env-test`"),
            format!("{bad}:10:28: error: unknown group `opz`"),
            format!("{bad}: 4 errors; nothing was changed"),
        ]
    );
    assert_eq!(server.export(), before);
    // Plan says the same, with its own exit code for "invalid" (2 means "changes"), and so for
    // a server it cannot reach.
    expect(&server.admin(&["plan", &bad]), 1);
    let valid = server.file("valid.yaml", "environments: [env-x]\n");
    expect(&server.admin(&["plan", &valid]), 2);
    let unreachable = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args([
            "plan",
            &valid,
            "--server",
            "http://127.0.0.1:9",
            "--token",
            "x",
        ])
        .output()
        .unwrap();
    expect(&unreachable, 1);
    assert!(
        String::from_utf8_lossy(&unreachable.stderr)
            .starts_with("error: cannot reach the Warden server at `http://127.0.0.1:9`"),
        "{}",
        String::from_utf8_lossy(&unreachable.stderr)
    );
    // Sections apply does not make so are refused where they are.
    let workflows = server.file(
        "workflows.yaml",
        "environments: [env-prod]\nworkflows:\n  nightly: { environment: env-prod }\n",
    );
    let printed = expect(&server.admin(&["plan", &workflows]), 1);
    assert!(
        printed.starts_with(&format!(
            "{workflows}:2:1: error: `workflows:` is not applied by `warden plan` and `warden apply`\n"
        )),
        "{printed}"
    );
    // The group Warden keeps for itself is not part of a world, even defined by the file.
    let reserved = server.file(
        "reserved.yaml",
        "groups:\n  Warden Administrators: []\nusers:\n  admin@warden.local: [Account Admins, Warden Administrators]\n",
    );
    let help = "  help: leave it out: memberships in it are kept as they are; grant administration through a group of your own";
    assert_eq!(
        expect(&server.admin(&["apply", &reserved, "--yes"]), 1),
        format!(
            "{reserved}:2:3: error: group `Warden Administrators` is Warden's own and not part of a world file
{help}
{reserved}:4:3: error: `admin@warden.local` is listed in group `Warden Administrators`, which is Warden's own and not part of a world file
{help}
{reserved}: 2 errors; nothing was changed
"
        )
    );
    assert_eq!(server.export(), before);
}

/// What the delegated administrator holds: every read, and writes of policies and groups, but
/// not of bindings.
const DELEGATED: &str = "\
ALLOW iam:policies:read;
ALLOW iam:policies:write;
ALLOW iam:groups:read;
ALLOW iam:groups:write;
ALLOW iam:users:read;
ALLOW iam:bindings:read;
ALLOW iam:boundaries:read;
ALLOW iam:service-users:read;
ALLOW iam:environments:read;
";

#[test]
fn a_delegated_administrator_is_refused_at_the_first_write_it_may_not_make() {
    let server = Server::start("delegated");
    let rich = server.file("rich.yaml", RICH);
    expect(&server.admin(&["apply", &rich, "--yes"]), 0);
    let policy = server.file("delegated.policy", DELEGATED);
    expect(
        &server.admin(&["policy", "create", "--name", "Delegated Admin", &policy]),
        0,
    );
    expect(&server.admin(&["service-user", "create", "Delegate"]), 0);
    // It lets the service user change Warden: the binding says why.
    expect(
        &server.admin(&[
            "bind",
            "Delegated Admin",
            "delegate@service (service user)",
            "--justification",
            "applies the team's world file from CI",
        ]),
        0,
    );
    // The token may ask for binding writes: what refuses them is what the delegate holds.
    let mut scopes: Vec<&str> = DELEGATED
        .lines()
        .filter_map(|l| l.strip_prefix("ALLOW ")?.strip_suffix(';'))
        .collect();
    scopes.push("iam:bindings:write");
    let mut create = vec![
        "oauth-client",
        "create",
        "ci",
        "--owner",
        "delegate@service",
    ];
    for scope in &scopes {
        create.extend(["--scope", scope]);
    }
    let secret = server.path_of("ci.secret");
    create.extend(["--secret-file", &secret, "--format", "json"]);
    let client: Value = serde_json::from_str(&expect(&server.admin(&create), 0)).unwrap();
    let client_id = client["clientId"].as_str().unwrap();
    let token = expect(
        &server.run(
            &["oauth", "token", client_id, "--secret-file", &secret],
            &[],
        ),
        0,
    );
    let token = token.trim().to_owned();

    // The administrator's world, plus a policy, a group and a binding of the delegate's.
    let exported = server.export();
    let more = server.file(
        "more.yaml",
        &format!(
            "{}\n{}",
            exported
                .replace(
                    "policies:\n",
                    "policies:\n  Audit Read: |\n    ALLOW iam:groups:read;\n"
                )
                .replace(
                    "groups:\n",
                    "groups:\n  auditors:\n    - policy: Audit Read\n      level: account\n"
                ),
            ""
        ),
    );
    // As one transaction: refused at the binding, and the policy and the group before it are
    // not there either.
    let output = server.run(&["apply", &more, "--yes", "--atomic"], &["--token", &token]);
    let printed = expect(&output, 1);
    assert_eq!(
        printed,
        "refused at change 3 of 3: + binding of policy `Audit Read` to group `auditors` at account
  error: permission `iam:bindings:write` is required for this request
  missing permission: `iam:bindings:write`
nothing was applied (atomic): the account is as it was; not applied (3):
  + policy `Audit Read`
  + group `auditors`
  + binding of policy `Audit Read` to group `auditors` at account
",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(server.export(), exported);
    let json: Value = serde_json::from_str(&expect(
        &server.run(
            &["apply", &more, "--yes", "--atomic", "--format", "json"],
            &["--token", &token],
        ),
        1,
    ))
    .unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["changes"], 0);
    assert_eq!(json["failed"]["step"]["step"], "bind");
    assert_eq!(json["failed"]["code"], "forbidden");
    assert_eq!(json["notApplied"].as_array().unwrap().len(), 3);
    assert_eq!(server.export(), exported);

    // One write at a time: refused at the binding, with what came before it applied.
    let output = server.run(&["apply", &more, "--yes"], &["--token", &token]);
    let printed = expect(&output, 1);
    assert_eq!(
        printed,
        "failed after 2 changes of 3: + binding of policy `Audit Read` to group `auditors` at account
  error: permission `iam:bindings:write` is required for this request
  missing permission: `iam:bindings:write`
applied (2):
  + policy `Audit Read`
  + group `auditors`
not applied (1):
  + binding of policy `Audit Read` to group `auditors` at account
",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // What was applied is there, and nothing else.
    let now = server.export();
    assert!(now.contains("  Audit Read: |\n"), "{now}");
    assert!(now.contains("  auditors: []\n"), "{now}");
    let json: Value = serde_json::from_str(&expect(
        &server.run(&["plan", &more, "--format", "json"], &["--token", &token]),
        2,
    ))
    .unwrap();
    assert_eq!(json["changes"], 1);
    assert_eq!(json["steps"][0]["step"], "bind");
}

#[test]
fn bindings_of_environment_level_policies_are_left_out_and_never_changed() {
    let server = Server::start("env-policies");
    expect(&server.admin(&["environment", "create", "env-prod"]), 0);
    expect(&server.admin(&["group", "create", "ops"]), 0);
    let policy = server.file("local.policy", "ALLOW storage:buckets:read;\n");
    expect(
        &server.admin(&[
            "policy",
            "create",
            "--name",
            "Local",
            "--level",
            "environment:env-prod",
            &policy,
        ]),
        0,
    );
    expect(
        &server.admin(&["bind", "Local", "ops", "--level", "environment:env-prod"]),
        0,
    );
    let output = server.admin(&["export"]);
    let exported = expect(&output, 0);
    assert_eq!(
        exported,
        "environments: [env-prod]\ngroups:\n  ops: []\nusers:\n  admin@warden.local: [Account Admins]\n"
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(
            "warning: 1 binding of environment-level policies left out (a world file binds account and global policies); they are not changed"
        ),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = server.file("world.yaml", &exported);
    assert_eq!(
        expect(&server.admin(&["plan", &file, "--prune"]), 0),
        "0 changes\n"
    );
    let bindings = expect(
        &server.admin(&["bindings", "--level", "environment:env-prod"]),
        0,
    );
    assert!(bindings.contains("Local"), "{bindings}");
}

#[test]
fn a_default_groups_own_binding_survives_changes_to_what_the_file_added() {
    let server = Server::start("default-own");
    // The file adds a bounded binding of a policy the default group already holds on its own.
    let with_zone = "\
boundaries:
  Zone A: |
    environment:management-zone IN (\"zone-a\");
  Zone B: |
    environment:management-zone IN (\"zone-b\");
groups:
  Environment Users:
    - policy: Storage Logs Read
      level: account
      boundaries: [Zone A]
";
    let bindings = |server: &Server| -> Vec<Value> {
        let listed = expect(
            &server.admin(&[
                "--format",
                "json",
                "bindings",
                "--group",
                "Environment Users",
                "--policy",
                "Storage Logs Read",
            ]),
            0,
        );
        let listed: Value = serde_json::from_str(&listed).unwrap();
        listed["policyBindings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| serde_json::json!(b["boundaries"].as_array().unwrap().len()))
            .collect()
    };
    // The group's own binding, unbounded.
    assert_eq!(bindings(&server), vec![serde_json::json!(0)]);
    // Bindings are one per policy, group and parameters: the file's bounded one takes its place.
    let first = server.file("zone-a.yaml", with_zone);
    expect(&server.admin(&["apply", &first, "--yes"]), 0);
    assert_eq!(bindings(&server), vec![serde_json::json!(1)]);
    let zone_b = server.file("zone-b.yaml", &with_zone.replace("[Zone A]", "[Zone B]"));
    expect(&server.admin(&["apply", &zone_b, "--yes"]), 0);
    assert_eq!(bindings(&server), vec![serde_json::json!(1)]);
    // Dropped with --prune: the group's own binding is back, not nothing.
    let dropped = server.file(
        "dropped.yaml",
        &with_zone.replace(
            "groups:\n  Environment Users:\n    - policy: Storage Logs Read\n      level: account\n      boundaries: [Zone A]\n",
            "",
        ),
    );
    expect(&server.admin(&["apply", &dropped, "--prune", "--yes"]), 0);
    assert_eq!(bindings(&server), vec![serde_json::json!(0)]);
}

#[test]
fn the_authzen_mapping_is_part_of_the_world() {
    let server = Server::start("authzen");
    let file = "\
users:
  admin@warden.local: [Account Admins]
authzen:
  actions:
    can_read_logs: storage:logs:read
  resource_properties:
    bucket: storage:bucket-name
";
    let path = server.file("authzen.yaml", file);
    assert_eq!(
        expect(&server.admin(&["plan", &path]), 2),
        "1 change (1 to create, 0 to update, 0 to delete)
+ AuthZEN mapping (1 actions, 1 resource_properties)
impact: nobody gains or loses access
"
    );
    expect(&server.admin(&["apply", &path, "--yes"]), 0);
    assert_eq!(server.export(), file);
    assert_eq!(expect(&server.admin(&["plan", &path]), 0), "0 changes\n");
    // A wrong target is refused by the server before anything else is written.
    let wrong = server.file(
        "wrong.yaml",
        &format!(
            "policies:\n  Later: |\n    ALLOW storage:logs:read;\n{}",
            file.replace("storage:logs:read", "storage:logs:reed")
        ),
    );
    let refused = server.admin(&["apply", &wrong, "--yes"]);
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert_eq!(server.export(), file);
    // Without the section the mapping stays; with --prune it goes.
    let users = "users:\n  admin@warden.local: [Account Admins]\n";
    let none = server.file("none.yaml", users);
    assert_eq!(expect(&server.admin(&["plan", &none]), 0), "0 changes\n");
    expect(&server.admin(&["apply", &none, "--prune", "--yes"]), 0);
    assert_eq!(server.export(), users);
}

#[test]
fn an_elevated_binding_of_a_service_user_is_refused_by_apply_with_the_servers_reason() {
    let server = Server::start("elevation");
    let world = server.file(
        "world.yaml",
        "\
policies:
  Group writer: |
    ALLOW iam:groups:write;
groups:
  ops:
    - policy: Group writer
service_users:
  GitLab deploy pipeline: [ops]
",
    );
    let output = server.admin(&["apply", &world, "--yes"]);
    let text = expect(&output, 1);
    assert!(
        text.starts_with(
            "failed after 3 changes of 4: + service user `GitLab deploy pipeline` in [ops]\n  error: this membership change would give service user `gitlab_deploy_pipeline@service` elevated access without a justification: policy `Group writer` grants `iam:groups:write` to group `ops`;"
        ),
        "{text}"
    );
    assert!(
        text.contains("\n  help: a binding of the file says why with `justification:`; a membership cannot: make it by hand (`warden user add-groups … --justification TEXT`), then apply the same file again\napplied (3):\n"),
        "{text}"
    );
    // Made by hand with its justification, the same file then applies: nothing left to do.
    expect(
        &server.admin(&[
            "user",
            "add-groups",
            "gitlab_deploy_pipeline@service",
            "ops",
            "--justification",
            "creates release groups",
        ]),
        0,
    );
    assert_eq!(
        expect(&server.admin(&["apply", &world, "--yes"]), 0),
        "0 changes\n"
    );

    // A binding of the file can say why itself: `justification:`, given when apply makes it.
    let elevated = "\
policies:
  Group writer: |
    ALLOW iam:groups:write;
  Token writer: |
    ALLOW iam:tokens:write;
groups:
  ops:
    - policy: Group writer
    - policy: Token writer
      justification: rotates the release tokens
service_users:
  GitLab deploy pipeline: [ops]
";
    let unjustified = server.file(
        "unjustified.yaml",
        &elevated.replace("      justification: rotates the release tokens\n", ""),
    );
    let text = expect(&server.admin(&["apply", &unjustified, "--yes"]), 1);
    assert!(
        text.contains("  error: this binding would give service user `gitlab_deploy_pipeline@service` elevated access without a justification: policy `Token writer` grants `iam:tokens:write` to group `ops`;"),
        "{text}"
    );
    let justified = server.file("justified.yaml", elevated);
    expect(&server.admin(&["apply", &justified, "--yes"]), 0);
    let exported = expect(&server.admin(&["export"]), 0);
    assert!(
        exported.contains(
            "  ops:\n    - policy: Group writer\n      level: account\n    - policy: Token writer\n      level: account\n      justification: rotates the release tokens\n"
        ),
        "{exported}"
    );
    // Not what makes two bindings the same: a changed justification alone changes nothing.
    let reworded = server.file(
        "reworded.yaml",
        &elevated.replace("rotates the release tokens", "rotates tokens"),
    );
    assert_eq!(
        expect(&server.admin(&["plan", &reworded]), 0),
        "0 changes\n"
    );
}
