//! The store's contract, run against SQLite always and against PostgreSQL when
//! `WARDEN_TEST_POSTGRES_URL` is set (`.ci/run` starts a throwaway server and sets it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::sync::atomic::{AtomicUsize, Ordering};

use warden_store::{AuditFilter, Backend, Op, Store, StoreError, Write};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty store per backend: an SQLite file in a temp dir, and a new PostgreSQL database.
async fn fresh_stores() -> Vec<(String, Store)> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("warden-store-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = dir.join("warden.db").display().to_string();
    let mut stores = vec![(sqlite.clone(), Store::open(&sqlite).await.unwrap())];
    if let Ok(url) = std::env::var("WARDEN_TEST_POSTGRES_URL") {
        let admin = Store::open(&url).await.unwrap();
        let name = format!("warden_store_{}_{n}", std::process::id());
        admin
            .execute_raw(format!("DROP DATABASE IF EXISTS {name}"))
            .await
            .unwrap();
        admin
            .execute_raw(format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await;
        let (base, _) = url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        stores.push((url.clone(), Store::open(&url).await.unwrap()));
    }
    stores
}

fn write(action: &str, ops: Vec<Op>) -> Write {
    Write {
        actor: "admin".into(),
        action: action.into(),
        target: "t".into(),
        before: None,
        after: Some("{}".into()),
        request_id: "req".into(),
        at: 1_700_000_000_000,
        ops,
        expected_revision: None,
    }
}

fn group(uuid: &str, name: &str) -> Op {
    Op::PutGroup {
        uuid: uuid.into(),
        name_folded: name.to_lowercase(),
        body: format!("{{\"uuid\":\"{uuid}\",\"name\":\"{name}\"}}"),
    }
}

#[tokio::test]
async fn writes_bump_the_revision_and_append_one_audit_entry() {
    for (url, store) in fresh_stores().await {
        assert_eq!(store.revision().await.unwrap(), 0, "{url}");
        let first = store
            .write(write("group.create", vec![group("g1", "Ops")]))
            .await
            .unwrap();
        let second = store
            .write(write("group.create", vec![group("g2", "Dev")]))
            .await
            .unwrap();
        assert_eq!(
            (first.revision, first.seq, second.revision, second.seq),
            (1, 1, 2, 2),
            "{url}"
        );
        let loaded = store.load().await.unwrap();
        assert_eq!(loaded.revision, 2);
        assert_eq!(loaded.groups.len(), 2);
        let audit = store.audit(&AuditFilter::default()).await.unwrap();
        assert_eq!(audit.iter().map(|e| e.revision).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(audit[1].prev_hash, audit[0].hash);
        // A recorded check appends to the log without a new revision.
        let recorded = store
            .record(write("workflow.authorize-task", vec![]))
            .await
            .unwrap();
        assert_eq!((recorded.revision, recorded.seq), (2, 3), "{url}");
        assert_eq!(store.verify_audit().await.unwrap().problem, None);
    }
}

#[tokio::test]
async fn a_refused_write_changes_nothing() {
    for (url, store) in fresh_stores().await {
        store
            .write(write("group.create", vec![group("g1", "Ops")]))
            .await
            .unwrap();
        let duplicate = store
            .write(write("group.create", vec![group("g2", "OPS")]))
            .await;
        assert!(
            matches!(duplicate, Err(StoreError::Conflict(_))),
            "{url}: {duplicate:?}"
        );
        assert_eq!(store.revision().await.unwrap(), 1, "{url}");
        assert_eq!(store.audit(&AuditFilter::default()).await.unwrap().len(), 1);
        assert_eq!(store.load().await.unwrap().groups.len(), 1);
        // Several operations in one write are all or nothing.
        let mixed = store
            .write(write("bulk", vec![group("g3", "Dev"), group("g4", "ops")]))
            .await;
        assert!(mixed.is_err());
        assert_eq!(
            store.load().await.unwrap().groups.len(),
            1,
            "{url}: the first operation was rolled back"
        );
    }
}

#[tokio::test]
async fn deletes_cascade() {
    for (url, store) in fresh_stores().await {
        let principal = Op::PutPrincipal {
            uid: "u1".into(),
            email: "a@x".into(),
            handle: None,
            body: "{}".into(),
        };
        let binding = Op::PutBinding {
            key: "k1".into(),
            group: "g1".into(),
            policy: "p1".into(),
            body: "{}".into(),
        };
        let policy = Op::PutPolicy {
            uuid: "p1".into(),
            level_type: "account".into(),
            level_id: "acc".into(),
            name_folded: "p".into(),
            body: "{}".into(),
        };
        let membership = Op::SetMemberships {
            uid: "u1".into(),
            groups: vec!["g1".into()],
        };
        let token = Op::PutToken {
            id: "t1".into(),
            owner: "u1".into(),
            body: "{}".into(),
        };
        store
            .write(write(
                "setup",
                vec![
                    group("g1", "Ops"),
                    principal,
                    policy,
                    binding,
                    membership,
                    token,
                ],
            ))
            .await
            .unwrap();
        let loaded = store.load().await.unwrap();
        assert_eq!(
            (
                loaded.memberships.len(),
                loaded.bindings.len(),
                loaded.tokens.len()
            ),
            (1, 1, 1),
            "{url}"
        );
        store
            .write(write(
                "group.delete",
                vec![Op::DeleteGroup { uuid: "g1".into() }],
            ))
            .await
            .unwrap();
        let loaded = store.load().await.unwrap();
        assert_eq!(
            (loaded.memberships.len(), loaded.bindings.len()),
            (0, 0),
            "{url}"
        );
        store
            .write(write(
                "user.delete",
                vec![Op::DeletePrincipal { uid: "u1".into() }],
            ))
            .await
            .unwrap();
        assert_eq!(store.load().await.unwrap().tokens.len(), 0, "{url}");
    }
}

#[tokio::test]
async fn tampering_with_the_audit_log_is_detected() {
    for (url, store) in fresh_stores().await {
        for i in 0..100 {
            store
                .write(write(
                    "group.create",
                    vec![group(&format!("g{i}"), &format!("G{i}"))],
                ))
                .await
                .unwrap();
        }
        assert_eq!(store.verify_audit().await.unwrap().entries, 100);
        store
            .execute_raw("UPDATE audit_log SET actor = 'mallory' WHERE seq = 50".into())
            .await
            .unwrap();
        let problem = store.verify_audit().await.unwrap().problem.unwrap();
        assert_eq!(
            (problem.seq, problem.message.as_str()),
            (50, "entry 50 was changed after it was written"),
            "{url}"
        );
        store
            .execute_raw("UPDATE audit_log SET actor = 'admin' WHERE seq = 50".into())
            .await
            .unwrap();
        assert_eq!(store.verify_audit().await.unwrap().problem, None);
        store
            .execute_raw("DELETE FROM audit_log WHERE seq = 70".into())
            .await
            .unwrap();
        let problem = store.verify_audit().await.unwrap().problem.unwrap();
        assert_eq!(
            problem.message, "entry 70 is missing (the next entry is 71)",
            "{url}"
        );
        store
            .execute_raw("DELETE FROM audit_log WHERE seq >= 70".into())
            .await
            .unwrap();
        let problem = store.verify_audit().await.unwrap().problem.unwrap();
        assert_eq!(
            problem.message,
            "the log ends at entry 69 but the store recorded entry 100 as the last",
            "{url}"
        );
    }
}

#[tokio::test]
async fn concurrent_writers_get_distinct_revisions() {
    for (url, store) in fresh_stores().await {
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .write(write(
                        "group.create",
                        vec![group(&format!("g{i}"), &format!("G{i}"))],
                    ))
                    .await
            }));
        }
        let mut revisions = Vec::new();
        for task in tasks {
            revisions.push(task.await.unwrap().unwrap().revision);
        }
        revisions.sort_unstable();
        assert_eq!(revisions, (1..=40).collect::<Vec<i64>>(), "{url}");
        assert_eq!(store.verify_audit().await.unwrap().problem, None);
    }
}

#[tokio::test]
async fn data_survives_reopening() {
    for (url, store) in fresh_stores().await {
        store
            .write(write(
                "group.create",
                vec![
                    group("g1", "Ops"),
                    Op::PutMeta {
                        key: "account".into(),
                        value: "acc-1".into(),
                    },
                ],
            ))
            .await
            .unwrap();
        store.close().await;
        let reopened = Store::open(&url).await.unwrap();
        assert_eq!(
            reopened.meta("account").await.unwrap().as_deref(),
            Some("acc-1")
        );
        assert_eq!(reopened.load().await.unwrap().groups.len(), 1);
        assert_eq!(reopened.revision().await.unwrap(), 1);
        let expected = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        assert_eq!(reopened.backend(), expected);
    }
}

#[tokio::test]
async fn audit_filters() {
    for (url, store) in fresh_stores().await {
        store
            .write(write("group.create", vec![group("g1", "Ops")]))
            .await
            .unwrap();
        store.write(write("policy.create", vec![])).await.unwrap();
        store
            .write(write(
                "group.delete",
                vec![Op::DeleteGroup { uuid: "g1".into() }],
            ))
            .await
            .unwrap();
        let groups = store
            .audit(&AuditFilter {
                action_prefix: Some("group.".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            groups.iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 3],
            "{url}"
        );
        let page = store
            .audit(&AuditFilter {
                after_seq: Some(1),
                limit: 1,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [2], "{url}");
    }
}

#[tokio::test]
async fn every_write_is_in_the_change_log_and_stale_writers_are_refused() {
    for (url, store) in fresh_stores().await {
        store
            .write(write("group.create", vec![group("g1", "Ops")]))
            .await
            .unwrap();
        store.record(write("check", vec![])).await.unwrap();
        store
            .write(write(
                "group.delete",
                vec![Op::DeleteGroup { uuid: "g1".into() }],
            ))
            .await
            .unwrap();
        let changes = store.changes_since(0).await.unwrap().unwrap();
        assert_eq!(
            changes.iter().map(|(r, _)| *r).collect::<Vec<_>>(),
            [1, 2],
            "{url}: a record is not a change"
        );
        assert_eq!(changes[1].1, vec![Op::DeleteGroup { uuid: "g1".into() }]);
        assert_eq!(store.changes_since(2).await.unwrap().unwrap().len(), 0);

        let stale = Write {
            expected_revision: Some(1),
            ..write("group.create", vec![group("g2", "Dev")])
        };
        assert_eq!(
            store.write(stale).await,
            Err(StoreError::Stale { current: 2 }),
            "{url}"
        );
        assert_eq!(store.revision().await.unwrap(), 2, "nothing changed");
        assert_eq!(store.load().await.unwrap().groups.len(), 0);
        let current = Write {
            expected_revision: Some(2),
            ..write("group.create", vec![group("g2", "Dev")])
        };
        assert_eq!(store.write(current).await.unwrap().revision, 3);

        store
            .execute_raw("DELETE FROM changes WHERE revision = 1".into())
            .await
            .unwrap();
        assert_eq!(
            store.changes_since(0).await.unwrap(),
            None,
            "{url}: a gap means: reload everything"
        );
    }
}

/// The database holds the token key and every hash: its files are the owner's alone, from the
/// first byte, and a file others could read is narrowed when the store opens it.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("warden-store-mode-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("warden.db");
    let store = Store::open(&db.display().to_string()).await.unwrap();
    store
        .write(write("group.create", vec![group("g-1", "Ops")]))
        .await
        .unwrap();
    let wal = dir.join("warden.db-wal");
    let shm = dir.join("warden.db-shm");
    for file in [&db, &wal, &shm] {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    store.close().await;

    // A file made world-readable by hand (or by an older version) is narrowed at the next open.
    for file in [&db, &wal, &shm] {
        if file.exists() {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let store = Store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    assert_eq!(
        store.revision().await.unwrap(),
        1,
        "the data is still there"
    );
    for file in [&db, &wal, &shm] {
        if file.exists() {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
    }
    store.close().await;

    // A missing file in a missing directory is refused with the store's own error, as before.
    let refused = Store::open(&dir.join("no/such/dir/warden.db").display().to_string()).await;
    assert!(matches!(refused, Err(StoreError::Open(_))), "{refused:?}");
}
