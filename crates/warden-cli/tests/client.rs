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
