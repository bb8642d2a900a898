//! Backups, restores and upgrades of an SQLite store with the real binary: a backup taken while a
//! server keeps writing holds every write acknowledged before it began and nothing that was never
//! acknowledged, and restores with an intact audit chain; a store written by release 0.1.0 (the
//! fixture `store-0.1.0.db`) is upgraded by `warden serve` without losing a row.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use support::{Server, http, json_field, run, stderr, temp_dir, warden};

fn group_names(address: &str, token: &str, account: &str) -> BTreeSet<String> {
    let (status, _, body) = http(
        address,
        "GET",
        &format!("/iam/v1/accounts/{account}/groups"),
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).unwrap();
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["name"].as_str().unwrap().to_owned())
        .filter(|name| name.starts_with("load-"))
        .collect()
}

#[test]
fn a_backup_under_write_load_restores_every_acknowledged_write_with_an_intact_chain() {
    let dir = temp_dir("backup");
    let server = Server::start(&dir, &["--db", "warden.db"]);
    let address = server.address.clone();
    let token = std::fs::read_to_string(dir.join("admin-token"))
        .unwrap()
        .trim()
        .to_owned();
    let (_, _, me) = http(
        &address,
        "GET",
        "/iam/v1/me",
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    let account = json_field(&me, "account");

    // A writer creating groups one after another; each name is recorded once acknowledged.
    let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (acknowledged, writing) = (acknowledged.clone(), writing.clone());
        let (address, token, account) = (address.clone(), token.clone(), account.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while writing.load(Ordering::Relaxed) {
                let name = format!("load-{n:05}");
                let (status, _, body) = http(
                    &address,
                    "POST",
                    &format!("/iam/v1/accounts/{account}/groups"),
                    &[
                        ("Authorization", &format!("Bearer {token}")),
                        ("Content-Type", "application/json"),
                    ],
                    &format!(r#"[{{"name":"{name}"}}]"#),
                );
                assert_eq!(status, 201, "{body}");
                acknowledged.lock().unwrap().push(name);
                n += 1;
            }
        })
    };
    while acknowledged.lock().unwrap().len() < 40 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let before: BTreeSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    let backup = run(warden(&dir).args(["backup", "--db", "warden.db", "backup.db"]));
    assert!(backup.status.success(), "{}", stderr(&backup));
    while acknowledged.lock().unwrap().len() < before.len() + 20 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    writing.store(false, Ordering::Relaxed);
    writer.join().unwrap();
    let all: BTreeSet<String> = acknowledged.lock().unwrap().iter().cloned().collect();
    server.stop();

    let restore = run(warden(&dir).args([
        "restore",
        "backup.db",
        "--db",
        "restored.db",
        "--format",
        "json",
    ]));
    assert!(restore.status.success(), "{}", stderr(&restore));
    let restored: Value = serde_json::from_slice(&restore.stdout).unwrap();
    let verify = run(warden(&dir).args(["audit", "verify", "--db", "restored.db"]));
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));

    let restored_server = Server::start(&dir, &["--db", "restored.db"]);
    let names = group_names(&restored_server.address, &token, &account);
    assert!(
        before.is_subset(&names),
        "acknowledged before the backup but missing: {:?}",
        before.difference(&names).collect::<Vec<_>>()
    );
    assert!(
        names.is_subset(&all),
        "never acknowledged: {:?}",
        names.difference(&all).collect::<Vec<_>>()
    );
    // One audit entry per write: the first start, then one per group.
    assert_eq!(
        restored["auditEntries"].as_u64(),
        Some(names.len() as u64 + 1)
    );
    restored_server.stop();

    // A second restore onto an existing store needs --force, and changes nothing without it.
    let refused = run(warden(&dir).args(["restore", "backup.db", "--db", "restored.db"]));
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        stderr(&refused).lines().next().unwrap(),
        "error: there is already a store at `restored.db`"
    );
}

#[test]
fn a_store_of_release_0_1_0_upgrades_without_losing_a_row() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("upgrade");
    let store = dir.join("warden.db");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/store-0.1.0.db"),
        &store,
    )
    .unwrap();
    std::fs::set_permissions(&store, std::fs::Permissions::from_mode(0o600)).unwrap();
    let status = |when: &str| -> Value {
        let output =
            run(warden(&dir).args(["migrate", "status", "--db", "warden.db", "--format", "json"]));
        assert!(output.status.success(), "{when}: {}", stderr(&output));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let rows = |status: &Value| -> BTreeMap<String, i64> {
        status["tables"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|t| Some((t["table"].as_str()?.to_owned(), t["rows"].as_i64()?)))
            .collect()
    };
    let applied = |status: &Value| -> Vec<i64> {
        status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["applied"] == true)
            .map(|m| m["version"].as_i64().unwrap())
            .collect()
    };
    let before = status("before");
    // 0.1.0 had applied the first four migrations; the upgrade has the rest to do.
    assert_eq!(applied(&before), [1, 2, 3, 4], "{before}");
    // What 0.1.0 wrote (`tests/fixtures/make-store-0.1.0.sh` prints these counts): 8 audited
    // writes (the first start, two groups, a user and her membership, a policy, its binding with a
    // parameter, a service user), their 8 change-log rows, and the usage counters of the
    // administrator's calls and of three decisions.
    let fixture: BTreeMap<String, i64> = [
        ("meta", 3),
        ("store_revision", 1),
        ("environments", 0),
        ("principals", 3),
        ("user_groups", 9),
        ("memberships", 4),
        ("policies", 1),
        ("boundaries", 0),
        ("bindings", 21),
        ("tokens", 1),
        ("custom_services", 0),
        ("audit_log", 8),
        ("oauth_clients", 0),
        ("usage_counters", 10),
        ("workflows", 0),
        ("consents", 0),
        ("changes", 8),
    ]
    .into_iter()
    .map(|(table, rows)| (table.to_owned(), rows))
    .collect();
    assert_eq!(rows(&before), fixture);

    let server = Server::start(&dir, &["--db", "warden.db"]);
    server.stop();
    let after = status("after");
    let all: Vec<i64> = after["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_i64().unwrap())
        .collect();
    assert_eq!(applied(&after), all, "{after}");
    // Every table of the old store keeps every row, and the upgrade itself writes none.
    let now = rows(&after);
    for (table, count) in &fixture {
        assert_eq!(now.get(table), Some(count), "table `{table}`");
    }
    let verify = run(warden(&dir).args(["audit", "verify", "--db", "warden.db"]));
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));
}
