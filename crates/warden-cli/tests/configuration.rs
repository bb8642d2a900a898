//! The operator's side of `warden serve`: settings layered from a file, the environment and
//! flags (and every way they can be wrong), the store file's permissions, and JSON log lines that
//! carry request ids and never a credential — all against the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::{Server, http, json_field, run, stderr, temp_dir, warden};

#[test]
fn a_flag_beats_a_variable_beats_the_file_beats_the_default() {
    let dir = temp_dir("precedence");
    std::fs::write(
        dir.join("warden.toml"),
        "db = \"file.db\"\nlisten = \"127.0.0.1:7000\"\ndomain = \"file.example\"\n\
         environments = [\"env-a\"]\n",
    )
    .unwrap();
    let printed = run(warden(&dir)
        .args([
            "config",
            "print",
            "--format",
            "json",
            "--config",
            "warden.toml",
        ])
        .args(["--listen", "127.0.0.1:9000"])
        .env("WARDEN_LISTEN", "127.0.0.1:8000")
        .env("WARDEN_DOMAIN", "env.example"));
    assert!(printed.status.success(), "{}", stderr(&printed));
    let settings: Value = serde_json::from_slice(&printed.stdout).unwrap();
    let get = |key: &str| {
        settings
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["key"] == key)
            .cloned()
            .unwrap()
    };
    assert_eq!(get("listen")["value"], "\"127.0.0.1:9000\"");
    assert_eq!(get("listen")["origin"], "the flag `--listen`");
    assert_eq!(get("domain")["value"], "\"env.example\"");
    assert_eq!(
        get("domain")["origin"],
        "the environment variable `WARDEN_DOMAIN`"
    );
    assert_eq!(get("db")["value"], "\"file.db\"");
    assert_eq!(get("db")["origin"], "`warden.toml`:1:1");
    assert_eq!(get("environments")["value"], "[\"env-a\"]");
    assert_eq!(get("environments")["origin"], "`warden.toml`:4:1");
    assert_eq!(get("read_timeout_seconds")["value"], "15");
    assert_eq!(get("read_timeout_seconds")["origin"], "the default");
}

/// Each broken setting: the exact message and help, exit 2, and `warden serve` refuses to start
/// with it (no store is created).
#[test]
fn every_invalid_setting_is_named_with_where_it_came_from() {
    let dir = temp_dir("invalid");
    // (settings file, variables, flags, message, help)
    type Case<'a> = (
        &'a str,
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a str,
        &'a str,
    );
    let cases: &[Case] = &[
        (
            "db = \"a.db\"\nlistn = \"0.0.0.0:1\"\n",
            &[],
            &[],
            "unknown setting `listn` in `warden.toml`:2:1",
            "did you mean `listen`? `warden config docs` lists every setting",
        ),
        (
            "read_timeout_seconds = \"soon\"\n",
            &[],
            &[],
            "setting `read_timeout_seconds` from `warden.toml`:1:1: invalid type: found string \"soon\", expected u64",
            "`warden config docs` says what each setting takes",
        ),
        (
            "db = \"a.db\"\nlisten = \n",
            &[],
            &[],
            "`warden.toml`:2:10: string values must be quoted, expected literal string",
            "the settings file is TOML: `key = value`, strings in quotes",
        ),
        (
            "",
            &[("WARDEN_LISTEN", "everywhere")],
            &[],
            "setting `listen` from the environment variable `WARDEN_LISTEN`: `everywhere` is not an address and port",
            "write it as `127.0.0.1:8080` or `[::1]:8080`",
        ),
        (
            "",
            &[],
            &["--read-timeout", "0"],
            "setting `read_timeout_seconds` from the flag `--read-timeout`: 0 is outside 1 to 3600",
            "choose a value in that range",
        ),
        (
            "access_token_ttl_seconds = 10\n",
            &[],
            &[],
            "setting `access_token_ttl_seconds` from `warden.toml`:1:1: 10 is outside 60 to 86400",
            "choose a value in that range",
        ),
        (
            "stale_after_ms = 5000\nmax_stale_ms = 10\n",
            &[],
            &[],
            "setting `max_stale_ms` from `warden.toml`:2:1: 10 is below `stale_after_ms` (5000)",
            "decisions are marked stale before they are refused: raise `max_stale_ms`",
        ),
        (
            "admin_email = \"root\"\n",
            &[],
            &[],
            "setting `admin_email` from `warden.toml`:1:1: `root` is not an email address",
            "write it as `name@example.com`",
        ),
        (
            "bootstrap_token_ttl_hours = 9000\n",
            &[],
            &[],
            "setting `bootstrap_token_ttl_hours` from `warden.toml`:1:1: 9000 is outside 1 to 720",
            "choose a value in that range",
        ),
        (
            "",
            &[],
            &["--max-connections", "0"],
            "setting `max_connections` from the flag `--max-connections`: 0 is outside 1 to 1000000",
            "choose a value in that range",
        ),
        (
            "",
            &[("WARDEN_UNAUTHENTICATED_RATE_PER_SECOND", "0")],
            &[],
            "setting `unauthenticated_rate_per_second` from the environment variable `WARDEN_UNAUTHENTICATED_RATE_PER_SECOND`: 0 is outside 1 to 100000",
            "choose a value in that range",
        ),
        (
            "unauthenticated_burst = 200000\n",
            &[],
            &[],
            "setting `unauthenticated_burst` from `warden.toml`:1:1: 200000 is outside 1 to 100000",
            "choose a value in that range",
        ),
        (
            "log_format = \"xml\"\n",
            &[],
            &[],
            "setting `log_format` from `warden.toml`:1:1: unknown variant: found `xml`, expected `one of `auto`, `text`, `json``",
            "`warden config docs` says what each setting takes",
        ),
    ];
    for (file, env, flags, message, help) in cases {
        std::fs::write(dir.join("warden.toml"), file).unwrap();
        for subcommand in [&["config", "check"][..], &["serve"][..]] {
            let output = run(warden(&dir)
                .args(subcommand)
                .args(["--format", "json", "--config", "warden.toml"])
                .args(*flags)
                .envs(env.iter().copied()));
            assert_eq!(
                output.status.code(),
                Some(2),
                "{file:?}: {}",
                stderr(&output)
            );
            let error: Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|_| serde_json::from_slice(&output.stderr).unwrap());
            assert_eq!(
                error["error"]["message"], *message,
                "{file:?} {env:?} {flags:?}"
            );
            assert_eq!(error["error"]["details"]["help"], *help);
            assert!(
                !dir.join("warden.db").exists(),
                "{file:?}: a store was created"
            );
        }
    }
}

#[test]
fn log_lines_are_json_with_request_ids_and_never_a_credential() {
    let dir = temp_dir("logs");
    let server = Server::start(&dir, &["--log-format", "json", "--db", "warden.db"]);
    let address = server.address.clone();
    let token = std::fs::read_to_string(dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let json = ("Content-Type", "application/json");

    let (status, headers, body) = http(
        &address,
        "GET",
        "/iam/v1/me",
        &[("Authorization", &bearer), ("X-Request-Id", "trace-7f3a")],
        "",
    );
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains(&("x-request-id".to_owned(), "trace-7f3a".to_owned())));
    let account = json_field(&body, "account");

    // Every credential kind, used once: an OAuth client's secret and its access token, a
    // password, a platform token in a query string (refused, and still not logged).
    let (status, _, body) = http(
        &address,
        "POST",
        &format!("/iam/v1/accounts/{account}/oauth-clients"),
        &[("Authorization", &bearer), json],
        r#"{"name":"logs","scopes":["iam:groups:read"]}"#,
    );
    assert_eq!(status, 201, "{body}");
    let client_id = json_field(&body, "clientId");
    let client_secret = json_field(&body, "clientSecret");
    let form = format!(
        "grant_type=client_credentials&client_id={client_id}&client_secret={client_secret}"
    );
    let (status, _, body) = http(
        &address,
        "POST",
        "/sso/oauth2/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(status, 200, "{body}");
    let access_token = json_field(&body, "access_token");
    let (status, _, _) = http(
        &address,
        "GET",
        &format!("/iam/v1/accounts/{account}/groups"),
        &[("Authorization", &format!("Bearer {access_token}"))],
        "",
    );
    assert_eq!(status, 200);
    let password = "correct horse battery staple 42";
    let (status, _, body) = http(
        &address,
        "PUT",
        &format!("/iam/v1/accounts/{account}/users/admin@warden.local/password"),
        &[("Authorization", &bearer), json],
        &format!(r#"{{"password":"{password}"}}"#),
    );
    assert_eq!(status, 204, "{body}");
    let sign_in = format!(
        "csrf=0123456789abcdef&next=%2Fconsole&email=admin%40warden.local&password={}",
        password.replace(' ', "+")
    );
    let (status, _, _) = http(
        &address,
        "POST",
        "/console/sign-in",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", "warden_sign_in=0123456789abcdef"),
            ("Origin", &format!("http://{address}")),
        ],
        &sign_in,
    );
    assert_eq!(status, 303);
    let (status, _, _) = http(
        &address,
        "GET",
        &format!("/iam/v1/accounts/{account}/groups?access_token={token}"),
        &[],
        "",
    );
    assert_eq!(status, 401);
    server.stop();

    let log = std::fs::read_to_string(dir.join("serve.log")).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let access: Vec<&Value> = lines
        .iter()
        .filter(|line| line["target"] == "warden::access")
        .collect();
    assert_eq!(access.len(), 7, "{log}");
    let me = access.first().unwrap();
    assert_eq!(me["method"], "GET");
    assert_eq!(me["route"], "/iam/v1/me");
    assert_eq!(me["status"], 200);
    assert_eq!(me["request_id"], "trace-7f3a");
    assert_eq!(me["caller"].as_str().map(str::len), Some(36));
    assert!(me["latency_us"].is_u64());
    assert_eq!(
        access.get(1).unwrap()["route"],
        "/iam/v1/accounts/{accountId}/oauth-clients"
    );
    for line in &access {
        assert!(line["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    }
    for secret in [
        token.as_str(),
        &client_secret,
        &access_token,
        password,
        "correct+horse",
    ] {
        assert!(!log.contains(secret), "a credential was logged: {log}");
    }
    assert!(!log.contains('\u{1b}'), "colour codes in a log file");
}

#[cfg(unix)]
#[test]
fn a_store_others_can_read_is_refused_unless_allowed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("permissions");
    let store = dir.join("warden.db");
    std::fs::write(&store, b"").unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o644)).unwrap();
    let refused = run(warden(&dir).args(["serve", "--format", "json", "--db", "warden.db"]));
    assert_eq!(refused.status.code(), Some(2));
    let error: Value = serde_json::from_slice(&refused.stdout)
        .unwrap_or_else(|_| serde_json::from_slice(&refused.stderr).unwrap());
    assert_eq!(
        error["error"]["message"],
        "the store `warden.db` can be read or written by other users (mode 644); it holds the token key and password hashes"
    );
    assert_eq!(
        std::fs::metadata(&store).unwrap().permissions().mode() & 0o777,
        0o644,
        "a refused start changes nothing"
    );
    let server = Server::start(&dir, &["--db", "warden.db", "--allow-insecure-permissions"]);
    assert_eq!(
        std::fs::metadata(&store).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(dir.join("admin-token"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    server.stop();
}

#[test]
fn completions_and_the_man_page_cover_every_command() {
    let dir = temp_dir("completions");
    for shell in ["bash", "zsh", "fish"] {
        let output = run(warden(&dir).args(["completions", shell]));
        assert!(output.status.success());
        let script = String::from_utf8(output.stdout).unwrap();
        for command in ["serve", "config", "policy", "service-user", "health"] {
            assert!(script.contains(command), "{shell}: `{command}` missing");
        }
    }
    let man = run(warden(&dir).arg("man"));
    assert!(man.status.success());
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(page.contains(".TH warden 1"), "{page}");
    assert!(page.contains("serve") && page.contains("config"));
    // `bash -n`: the completion script is valid shell.
    if let Ok(mut bash) = Command::new("bash").arg("-n").stdin(Stdio::piped()).spawn() {
        let script = run(warden(&dir).args(["completions", "bash"])).stdout;
        bash.stdin.take().unwrap().write_all(&script).unwrap();
        assert!(bash.wait().unwrap().success());
    }
}

#[test]
fn the_health_command_reports_a_running_server_and_an_unreachable_one() {
    let dir = temp_dir("health");
    let server = Server::start(&dir, &["--db", "warden.db"]);
    let url = format!("http://{}", server.address);
    let healthy = run(warden(&dir).args(["health", "--format", "json", "--server", &url]));
    assert_eq!(healthy.status.code(), Some(0), "{}", stderr(&healthy));
    let body: Value = serde_json::from_slice(&healthy.stdout).unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    server.stop();
    let gone = run(warden(&dir).args(["health", "--server", &url]));
    assert_eq!(gone.status.code(), Some(2));
}
