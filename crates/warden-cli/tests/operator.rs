//! The operator's commands on a store, run as the operator runs them: `warden audit verify --db`
//! on an intact and on a tampered store, and `warden admin recover` once every administrator is
//! gone — its token then used against a real `warden serve` (a child process) on the same store.
//! On SQLite, and on PostgreSQL when `WARDEN_TEST_POSTGRES_URL` is set (`scripts/with-postgres`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly
#![allow(clippy::print_stderr)] // why PostgreSQL is skipped

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use warden_store::{Op, Store, Write};

/// A running `warden serve`, stopped (by its pid) when dropped.
struct Server {
    child: Child,
    url: String,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    #[expect(
        clippy::zombie_processes,
        reason = "the child is reaped on drop, or here when it stops by itself"
    )]
    fn start(dir: &Path, db: &str) -> Server {
        let log = dir.join("server.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .arg("--token-file")
            .arg(dir.join("admin-token"))
            .current_dir(dir)
            .env_remove("WARDEN_LISTEN")
            .env_remove("WARDEN_DB")
            .env("WARDEN_LOG_FILTER", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let status = child.wait().unwrap();
                panic!(
                    "`warden serve` stopped ({status}) before listening:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if let Some(rest) = line.trim().strip_prefix("Warden listening on ") {
                let url = rest.split(' ').next().unwrap().to_owned();
                return Server {
                    child,
                    url,
                    _stdout: stdout,
                };
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-operator-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `warden ARGS…` in `dir`, with nothing taken from the environment.
fn warden(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(dir)
        .env_remove("WARDEN_DB")
        .env_remove("WARDEN_URL")
        .env_remove("WARDEN_TOKEN")
        .env_remove("WARDEN_ACCOUNT")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn expect(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

/// A client command against `server` with the token in `token_file`.
fn client(dir: &Path, server: &Server, token_file: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--server", &server.url, "--token-file"]);
    all.push(token_file.to_str().unwrap());
    warden(dir, &all)
}

/// Runs the client command until it exits 0 (the server follows the store's change log by
/// polling, so another process's write reaches it within a poll interval).
fn eventually(dir: &Path, server: &Server, token_file: &Path, args: &[&str]) -> Output {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let output = client(dir, server, token_file, args);
        if output.status.success() || Instant::now() > deadline {
            return output;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A new, empty PostgreSQL database, or `None` (and a note) without a server to test against.
fn postgres_db(name: &str) -> Option<String> {
    let Ok(admin) = std::env::var("WARDEN_TEST_POSTGRES_URL") else {
        eprintln!("skipped: WARDEN_TEST_POSTGRES_URL is not set (scripts/with-postgres sets it)");
        return None;
    };
    let name = format!("warden_operator_{name}_{}", std::process::id());
    runtime().block_on(async {
        let store = Store::open(&admin).await.unwrap();
        store
            .execute_raw(format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        store
            .execute_raw(format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        store.close().await;
    });
    let (base, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{base}/{name}"))
}

fn test_write(action: &str, ops: Vec<Op>) -> Write {
    Write {
        actor: "test".into(),
        action: action.into(),
        target: "test".into(),
        after: Some("{}".into()),
        request_id: "test".into(),
        at: 1_700_000_000_000,
        ops,
        ..Write::default()
    }
}

// ---- audit verify -------------------------------------------------------------------------------

fn audit_verify_reports_what_is_wrong(db: &str, dir: &Path) {
    runtime().block_on(async {
        let store = Store::open(db).await.unwrap();
        for n in 0..5 {
            let uuid = format!("g{n}");
            store
                .write(test_write(
                    "group.create",
                    vec![Op::PutGroup {
                        uuid: uuid.clone(),
                        name_folded: uuid.clone(),
                        body: format!("{{\"uuid\":\"{uuid}\"}}"),
                    }],
                ))
                .await
                .unwrap();
        }
        store.close().await;
    });
    let intact = warden(dir, &["audit", "verify", "--db", db]);
    expect(&intact, 0);
    assert_eq!(
        stdout(&intact),
        "audit log verified: 5 entries, the chain is intact and matches the store's revision and \
         change log\n"
    );

    // The last two entries and the head removed.
    runtime().block_on(async {
        let store = Store::open(db).await.unwrap();
        store
            .execute_raw("DELETE FROM audit_log WHERE seq > 3".into())
            .await
            .unwrap();
        store
            .execute_raw("DELETE FROM meta WHERE key = 'audit_head'".into())
            .await
            .unwrap();
        store.close().await;
    });
    let broken = warden(dir, &["audit", "verify", "--db", db]);
    expect(&broken, 1);
    let text = stdout(&broken);
    assert!(
        text.starts_with(
            "audit log broken at entry 4: the store is at revision 5 but the audit log ends at \
             entry 3 (revision 3): revisions 4–5 have no audit entry\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with(
            "audit log broken at entry 3: the audit head is missing: the store no longer records \
             which entry is the last (the log ends at entry 3)\n"
        ),
        "{text}"
    );
    let json = warden(dir, &["audit", "verify", "--db", db, "--format", "json"]);
    expect(&json, 1);
    let report: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(report["valid"], false);
    assert_eq!(report["entries"], 3);
    assert_eq!(report["problem"]["seq"], 4);
    assert_eq!(report["problems"].as_array().unwrap().len(), 3, "{report}");
}

#[test]
fn audit_verify_exits_1_naming_what_is_wrong_on_sqlite() {
    let dir = temp_dir("verify-sqlite");
    let db = dir.join("warden.db").display().to_string();
    audit_verify_reports_what_is_wrong(&db, &dir);
    let missing = warden(&dir, &["audit", "verify", "--db", "nowhere.db"]);
    expect(&missing, 2);
    assert!(stderr(&missing).contains("there is no store at `nowhere.db`"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn audit_verify_exits_1_naming_what_is_wrong_on_postgres() {
    let Some(db) = postgres_db("verify") else {
        return;
    };
    let dir = temp_dir("verify-postgres");
    audit_verify_reports_what_is_wrong(&db, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- admin recover ------------------------------------------------------------------------------

/// Deletes both groups that hold every `iam:*` permission and deactivates the administrator,
/// in one write straight on the store (as a broken script, or a careless operator, might).
fn remove_every_administrator(db: &str) {
    runtime().block_on(async {
        let store = Store::open(db).await.unwrap();
        let loaded = store.load().await.unwrap();
        let mut ops = Vec::new();
        for body in &loaded.groups {
            let group: Value = serde_json::from_str(body).unwrap();
            if ["Warden Administrators", "Account Admins"].contains(&group["name"].as_str().unwrap())
            {
                ops.push(Op::DeleteGroup {
                    uuid: group["uuid"].as_str().unwrap().to_owned(),
                });
            }
        }
        assert_eq!(ops.len(), 2);
        for body in &loaded.principals {
            let mut principal: Value = serde_json::from_str(body).unwrap();
            if principal["email"] == "admin@warden.local" {
                principal["deactivation"] =
                    serde_json::json!({ "reason": "left", "at": 1_700_000_000_000_i64, "by": "test" });
                ops.push(Op::PutPrincipal {
                    uid: principal["uid"].as_str().unwrap().to_owned(),
                    email: "admin@warden.local".into(),
                    handle: None,
                    body: principal.to_string(),
                });
            }
        }
        assert_eq!(ops.len(), 3);
        store
            .write(test_write("test.remove-administrators", ops))
            .await
            .unwrap();
        store.close().await;
    });
}

fn revision(db: &str) -> i64 {
    runtime().block_on(async {
        let store = Store::open(db).await.unwrap();
        let revision = store.revision().await.unwrap();
        store.close().await;
        revision
    })
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(not(unix))]
fn mode(_: &Path) -> u32 {
    0o600
}

fn recovery_restores_an_administrator(db: &str, dir: &Path) {
    let server = Server::start(dir, db);
    let admin_token = dir.join("admin-token");
    expect(
        &client(dir, &server, &admin_token, &["group", "create", "before"]),
        0,
    );
    remove_every_administrator(db);
    // The server follows the store: the old administrator's token stops working.
    let deadline = Instant::now() + Duration::from_secs(15);
    while client(dir, &server, &admin_token, &["group", "list"])
        .status
        .success()
    {
        assert!(
            Instant::now() < deadline,
            "the server did not follow the store"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The recovery, beside the running server.
    let recovered_token = dir.join("recovered-token");
    let recovered = warden(
        dir,
        &[
            "admin",
            "recover",
            "--db",
            db,
            "--email",
            "Admin@Warden.local",
            "--token-file",
            "recovered-token",
        ],
    );
    expect(&recovered, 0);
    let text = stdout(&recovered);
    for line in [
        "  user `admin@warden.local` (",
        "): reactivated\n",
        "  group `Warden Administrators` (",
        "): recreated\n",
        "  binding to `Warden Administrator` at account level: restored\n",
        "  membership: added\n",
        ": written to `recovered-token` (readable only by you)\n",
        "audited as `admin.recover` by `operator`",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert_eq!(stderr(&recovered), "", "no warning: nothing else denies");
    assert_eq!(mode(&recovered_token), 0o600);

    // The new token works against the running server once it has caught up.
    expect(
        &eventually(
            dir,
            &server,
            &recovered_token,
            &["group", "create", "after-recovery"],
        ),
        0,
    );
    let members = client(
        dir,
        &server,
        &recovered_token,
        &[
            "group",
            "members",
            "Warden Administrators",
            "--format",
            "json",
        ],
    );
    expect(&members, 0);
    let members: Value = serde_json::from_str(&stdout(&members)).unwrap();
    assert_eq!(members["items"][0]["email"], "admin@warden.local");
    let audit = client(
        dir,
        &server,
        &recovered_token,
        &[
            "audit",
            "list",
            "--action",
            "admin.recover",
            "--format",
            "json",
        ],
    );
    expect(&audit, 0);
    let audit: Value = serde_json::from_str(&stdout(&audit)).unwrap();
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["actor"], "operator");
    let after: Value = entries[0]["after"].clone();
    assert_eq!(after["userChange"], "reactivated");
    assert_eq!(after["group"]["created"], true);
    assert!(
        !entries[0]
            .to_string()
            .contains(std::fs::read_to_string(&recovered_token).unwrap().trim()),
        "the token is never in the audit log"
    );
    expect(&warden(dir, &["audit", "verify", "--db", db]), 0);

    // A second run without `--force` refuses the existing file and changes nothing.
    let at = revision(db);
    let again = warden(
        dir,
        &[
            "admin",
            "recover",
            "--db",
            db,
            "--email",
            "admin@warden.local",
            "--token-file",
            "recovered-token",
        ],
    );
    expect(&again, 2);
    assert!(
        stderr(&again).contains("the token file `recovered-token` already exists")
            && stderr(&again).contains("`--force`"),
        "{}",
        stderr(&again)
    );
    assert_eq!(revision(db), at);

    // With `--force`: only a new token; everything else is already so.
    let first_token = std::fs::read_to_string(&recovered_token).unwrap();
    let forced = warden(
        dir,
        &[
            "admin",
            "recover",
            "--db",
            db,
            "--email",
            "admin@warden.local",
            "--token-file",
            "recovered-token",
            "--force",
            "--format",
            "json",
        ],
    );
    expect(&forced, 0);
    let report: Value = serde_json::from_str(&stdout(&forced)).unwrap();
    let done = &report["recovered"];
    assert_eq!(done["user"], "unchanged", "{report}");
    assert_eq!(done["groupCreated"], false);
    assert_eq!(done["bindingRestored"], false);
    assert_eq!(done["membershipAdded"], false);
    assert_eq!(done["revision"], at + 1);
    assert_eq!(report["audit"]["action"], "admin.recover");
    assert_ne!(
        std::fs::read_to_string(&recovered_token).unwrap(),
        first_token
    );
    assert_eq!(mode(&recovered_token), 0o600);
    assert_eq!(
        std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp"))
            .count(),
        0,
        "no temporary file is left behind"
    );
    expect(
        &eventually(
            dir,
            &server,
            &recovered_token,
            &["group", "create", "second"],
        ),
        0,
    );
    let groups = client(
        dir,
        &server,
        &recovered_token,
        &["group", "list", "--format", "json"],
    );
    let groups: Value = serde_json::from_str(&stdout(&groups)).unwrap();
    let administrators = groups["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["name"] == "Warden Administrators")
        .count();
    assert_eq!(administrators, 1, "{groups}");

    // Another person, who did not exist: created.
    let other = warden(
        dir,
        &[
            "admin",
            "recover",
            "--db",
            db,
            "--email",
            "ops-lead@example.com",
            "--token-file",
            "ops-lead-token",
        ],
    );
    expect(&other, 0);
    assert!(
        stdout(&other).contains("): created\n"),
        "{}",
        stdout(&other)
    );
    expect(
        &eventually(dir, &server, &dir.join("ops-lead-token"), &["user", "list"]),
        0,
    );

    // Refusals: not an email; no store there.
    let invalid = warden(
        dir,
        &[
            "admin",
            "recover",
            "--db",
            db,
            "--email",
            "nobody",
            "--token-file",
            "x",
        ],
    );
    expect(&invalid, 1);
    assert!(stderr(&invalid).contains("`nobody` is not an email address"));
    assert!(
        !dir.join("x").exists(),
        "no token file for a refused recovery"
    );
    let nowhere = warden(
        dir,
        &["admin", "recover", "--db", "nowhere.db", "--email", "a@b.c"],
    );
    expect(&nowhere, 2);
    assert!(stderr(&nowhere).contains("there is no store at `nowhere.db`"));

    drop(server);
    expect(&warden(dir, &["audit", "verify", "--db", db]), 0);
}

#[test]
fn admin_recover_restores_an_administrator_on_sqlite() {
    let dir = temp_dir("recover-sqlite");
    let db = dir.join("warden.db").display().to_string();
    recovery_restores_an_administrator(&db, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn admin_recover_restores_an_administrator_on_postgres() {
    let Some(db) = postgres_db("recover") else {
        return;
    };
    let dir = temp_dir("recover-postgres");
    recovery_restores_an_administrator(&db, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn admin_recover_needs_an_account() {
    let dir = temp_dir("recover-empty");
    let db = dir.join("warden.db").display().to_string();
    runtime().block_on(async { Store::open(&db).await.unwrap().close().await });
    let output = warden(
        &dir,
        &["admin", "recover", "--db", &db, "--email", "a@example.com"],
    );
    expect(&output, 2);
    assert!(stderr(&output).contains("the store has no account yet"));
    assert!(stderr(&output).contains("help: start `warden serve --db"));
    assert!(!dir.join("warden-admin-token").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
