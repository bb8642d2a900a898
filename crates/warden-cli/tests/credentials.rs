//! `warden service-user`, `warden oauth-client`, `warden oauth token` and `warden token` as a user
//! runs them: a real server in-process on a free loopback port, the real `warden` binary talking
//! to it — the walk of the README's "Automating with service users".

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
        let dir = std::env::temp_dir().join(format!("warden-cred-{name}-{}", std::process::id()));
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

    /// `warden ARGS… --server URL --token TOKEN`.
    fn with_token(&self, token: &str, args: &[&str]) -> Output {
        self.run(args, &["--token", token])
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

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
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

fn json(output: &Output) -> Value {
    serde_json::from_str(&expect(output, 0)).unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().trim().to_owned()
}

#[test]
fn a_service_user_automates_with_a_client_and_a_platform_token() {
    let server = Server::start("walk");
    let created = expect(
        &server.admin(&[
            "service-user",
            "create",
            "Pipeline Automation",
            "--purpose",
            "deploys the shop",
            "--owner-user",
            "admin@warden.local",
        ]),
        0,
    );
    assert!(
        created.contains("as `pipeline_automation@service`"),
        "{created}"
    );
    std::fs::write(server.dir.join("deploy.policy"), "ALLOW iam:groups:read;\n").unwrap();
    expect(
        &server.admin(&[
            "policy",
            "create",
            "--name",
            "Deploy",
            &server.path("deploy.policy"),
        ]),
        0,
    );
    expect(
        &server.admin(&[
            "bind",
            "Deploy",
            "pipeline_automation@service (service user)",
        ]),
        0,
    );

    // A client for it, the secret straight into a file.
    let client = json(&server.admin(&[
        "oauth-client",
        "create",
        "ci",
        "--scope",
        "iam:groups:read",
        "--owner",
        "pipeline_automation@service",
        "--secret-file",
        &server.path("ci.secret"),
        "--format",
        "json",
    ]));
    let client_id = client["clientId"].as_str().unwrap().to_owned();
    assert!(
        client.get("clientSecret").is_none(),
        "not printed when written to a file"
    );
    assert!(read(&server.dir.join("ci.secret")).starts_with("wdn_cs_"));
    let listed = expect(&server.admin(&["oauth-client", "list"]), 0);
    assert!(
        listed.contains(&client_id) && listed.contains("1 active"),
        "{listed}"
    );

    // An access token, and a call with it.
    let token = expect(
        &server.run(
            &[
                "oauth",
                "token",
                &client_id,
                "--secret-file",
                &server.path("ci.secret"),
            ],
            &[],
        ),
        0,
    );
    let token = token.trim();
    assert!(token.starts_with("wdn_at_"), "{token}");
    expect(&server.with_token(token, &["group", "list"]), 0);
    let refused = server.with_token(token, &["user", "list"]);
    expect(&refused, 1);
    let wrong = server.run(
        &[
            "oauth",
            "token",
            &client_id,
            "--secret-file",
            &server.path("deploy.policy"),
        ],
        &[],
    );
    expect(&wrong, 1);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("client authentication failed"));

    // Rotation: a second secret, then the first revoked.
    expect(
        &server.admin(&[
            "oauth-client",
            "rotate",
            &client_id,
            "--secret-file",
            &server.path("ci2.secret"),
        ]),
        0,
    );
    let shown = json(&server.admin(&["oauth-client", "get", &client_id, "--format", "json"]));
    let first = shown["secrets"][0]["id"].as_str().unwrap().to_owned();
    expect(
        &server.admin(&["oauth-client", "revoke-secret", &client_id, &first]),
        0,
    );
    expect(
        &server.run(
            &[
                "oauth",
                "token",
                &client_id,
                "--secret-file",
                &server.path("ci.secret"),
            ],
            &[],
        ),
        1,
    );
    expect(
        &server.run(
            &[
                "oauth",
                "token",
                &client_id,
                "--secret-file",
                &server.path("ci2.secret"),
            ],
            &[],
        ),
        0,
    );

    // A platform token: disable, enable, revoke.
    let made = expect(
        &server.admin(&[
            "token",
            "create",
            "nightly",
            "--scope",
            "iam:groups:read",
            "--expires",
            "2026-06-01T00:00:00Z",
            "--user",
            "pipeline_automation@service",
            "--token-out",
            &server.path("pt"),
        ]),
        0,
    );
    assert!(made.contains("created platform token `nightly`"), "{made}");
    let pt = read(&server.dir.join("pt"));
    let id = pt.split('_').nth(2).unwrap().to_owned();
    let tokens = expect(&server.admin(&["token", "list", "--search", "nightly"]), 0);
    assert!(
        tokens.contains(&id) && tokens.contains("ACTIVE"),
        "{tokens}"
    );
    expect(&server.admin(&["token", "disable", &id]), 0);
    expect(&server.with_token(&pt, &["group", "list"]), 1);
    expect(&server.admin(&["token", "enable", &id]), 0);
    expect(&server.with_token(&pt, &["group", "list"]), 0);

    // Deactivation stops both at once; reactivation brings them back.
    expect(
        &server.admin(&[
            "service-user",
            "deactivate",
            "pipeline_automation@service",
            "--reason",
            "paused",
        ]),
        0,
    );
    expect(&server.with_token(&pt, &["group", "list"]), 1);
    expect(
        &server.run(
            &[
                "oauth",
                "token",
                &client_id,
                "--secret-file",
                &server.path("ci2.secret"),
            ],
            &[],
        ),
        1,
    );
    expect(
        &server.admin(&["service-user", "reactivate", "pipeline_automation@service"]),
        0,
    );
    expect(&server.with_token(&pt, &["group", "list"]), 0);

    expect(
        &server.admin(&[
            "service-user",
            "update",
            "pipeline_automation@service",
            "--owner-group",
            "Account Admins",
            "--name",
            "Pipeline",
        ]),
        0,
    );
    expect(
        &server.admin(&[
            "service-user",
            "mark-reviewed",
            "pipeline_automation@service",
            "--note",
            "ok",
        ]),
        0,
    );
    let shown = expect(
        &server.admin(&["service-user", "get", "pipeline_automation@service"]),
        0,
    );
    assert!(
        shown.contains("group Account Admins") && shown.contains("deploys the shop"),
        "{shown}"
    );
    assert!(shown.contains("2026-05-04T10:00:00Z"), "reviewed: {shown}");

    // Deletion is refused while the client and the token exist.
    let refused = server.admin(&["service-user", "delete", "pipeline_automation@service"]);
    expect(&refused, 1);
    expect(&server.admin(&["token", "revoke", &id]), 0);
    expect(&server.admin(&["oauth-client", "delete", &client_id]), 0);
    expect(
        &server.admin(&["service-user", "delete", "pipeline_automation@service"]),
        0,
    );
}
