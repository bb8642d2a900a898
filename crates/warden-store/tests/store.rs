//! The store's contract, run against SQLite always and against PostgreSQL when
//! `WARDEN_TEST_POSTGRES_URL` is set (`.ci/run` starts a throwaway server and sets it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code fails loudly

use std::sync::atomic::{AtomicUsize, Ordering};

use warden_store::{AuditEntry, AuditFilter, Backend, Op, Store, StoreError, Write, audit};

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
        let verification = store.verify_audit().await.unwrap();
        assert_eq!(
            verification.problem.unwrap().message,
            "the store is at revision 100 but the audit log ends at entry 69 (revision 69): \
             revisions 70–100 have no audit entry",
            "{url}"
        );
        assert!(
            verification.problems.iter().any(|p| p.message
                == "the log ends at entry 69 but the store recorded entry 100 as the last"),
            "{url}: {:?}",
            verification.problems
        );
    }
}

// ---- tampering with the end of the log, the head, and the tie to the change log --------------

/// 60 writes with a recorded check after every fifth, and two more checks at the end: 74 entries,
/// revision 60, the last two entries without a revision of their own.
async fn seeded(store: &Store) {
    for i in 0..60 {
        store
            .write(write(
                "group.create",
                vec![group(&format!("g{i}"), &format!("G{i}"))],
            ))
            .await
            .unwrap();
        if i % 5 == 4 {
            store.record(write("check", vec![])).await.unwrap();
        }
    }
    store.record(write("check", vec![])).await.unwrap();
    store.record(write("check", vec![])).await.unwrap();
    let verification = store.verify_audit().await.unwrap();
    assert_eq!(
        (verification.entries, verification.problem),
        (74, None),
        "{:?}",
        verification.problems
    );
    assert_eq!(store.revision().await.unwrap(), 60);
}

async fn entries(store: &Store) -> Vec<AuditEntry> {
    store.audit(&AuditFilter::default()).await.unwrap()
}

/// The entry of the write that produced `revision`.
async fn entry_of(store: &Store, revision: i64) -> AuditEntry {
    entries(store)
        .await
        .into_iter()
        .find(|e| e.revision == revision)
        .unwrap()
}

async fn problems(store: &Store) -> Vec<String> {
    let verification = store.verify_audit().await.unwrap();
    assert_eq!(
        verification.problem.as_ref(),
        verification.problems.first(),
        "the first problem is the one reported"
    );
    verification
        .problems
        .into_iter()
        .map(|p| p.message)
        .collect()
}

async fn set_head(store: &Store, value: &str) {
    store
        .execute_raw(format!(
            "UPDATE meta SET value = '{value}' WHERE key = 'audit_head'"
        ))
        .await
        .unwrap();
}

fn sql_text(value: Option<&str>) -> String {
    value.map_or_else(
        || "NULL".to_owned(),
        |v| format!("'{}'", v.replace('\'', "''")),
    )
}

/// What someone with write access to the database does to hide entries: removes them, renumbers
/// and re-links everything after them, and points the head (and, with `revision_row`, the
/// revision row) at the new end.
async fn forge_without(store: &Store, removed: &[i64], revision_row: bool) {
    let mut kept: Vec<AuditEntry> = Vec::new();
    for entry in entries(store).await {
        if removed.contains(&entry.seq) {
            continue;
        }
        let mut entry = entry;
        entry.seq = kept.len() as i64 + 1;
        entry.prev_hash = kept
            .last()
            .map_or_else(|| audit::GENESIS.to_owned(), |e| e.hash.clone());
        entry.hash = audit::entry_hash(&entry);
        kept.push(entry);
    }
    store
        .execute_raw("DELETE FROM audit_log".into())
        .await
        .unwrap();
    for e in &kept {
        store
            .execute_raw(format!(
                "INSERT INTO audit_log (seq, revision, at, actor, action, target, before_state, \
                 after_state, request_id, prev_hash, hash) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, \
                 {}, {}, {})",
                e.seq,
                e.revision,
                e.at,
                sql_text(Some(&e.actor)),
                sql_text(Some(&e.action)),
                sql_text(Some(&e.target)),
                sql_text(e.before.as_deref()),
                sql_text(e.after.as_deref()),
                sql_text(Some(&e.request_id)),
                sql_text(Some(&e.prev_hash)),
                sql_text(Some(&e.hash)),
            ))
            .await
            .unwrap();
    }
    let (seq, hash) = kept
        .last()
        .map_or((0, audit::GENESIS.to_owned()), |e| (e.seq, e.hash.clone()));
    set_head(store, &format!("{seq}:{hash}")).await;
    if revision_row {
        store
            .execute_raw(format!(
                "UPDATE store_revision SET audit_seq = {seq}, audit_hash = '{hash}'"
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn removing_the_end_of_the_log_and_its_head_is_detected() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        let last_kept = entries(&store).await[49].clone();
        store
            .execute_raw("DELETE FROM audit_log WHERE seq > 50".into())
            .await
            .unwrap();
        store
            .execute_raw("DELETE FROM meta WHERE key = 'audit_head'".into())
            .await
            .unwrap();
        let found = problems(&store).await;
        assert_eq!(
            found[0],
            format!(
                "the store is at revision 60 but the audit log ends at entry 50 (revision {}): \
                 revisions {}–60 have no audit entry",
                last_kept.revision,
                last_kept.revision + 1
            ),
            "{url}"
        );
        assert_eq!(
            found.last().unwrap(),
            "the audit head is missing: the store no longer records which entry is the last (the \
             log ends at entry 50)",
            "{url}"
        );
        // Later writes do not close the gap: they chain onto the entry the store recorded last.
        store
            .write(write("group.create", vec![group("late", "Late")]))
            .await
            .unwrap();
        assert_eq!(
            problems(&store).await,
            ["entry 51 is missing (the next entry is 75)"],
            "{url}"
        );
    }
}

#[tokio::test]
async fn removing_every_entry_and_the_head_is_detected() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        store
            .execute_raw("DELETE FROM audit_log".into())
            .await
            .unwrap();
        store
            .execute_raw("DELETE FROM meta WHERE key = 'audit_head'".into())
            .await
            .unwrap();
        let found = problems(&store).await;
        assert_eq!(
            found[0],
            "the store is at revision 60 but the audit log is empty: revisions 1–60 have no audit \
             entry",
            "{url}"
        );
        assert!(
            found
                .iter()
                .any(|m| m.starts_with("the audit head is missing")),
            "{url}: {found:?}"
        );
    }
}

#[tokio::test]
async fn a_garbage_head_is_detected() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        for garbage in ["garbage", "74:", "74:zz", ":", "-1:0"] {
            set_head(&store, garbage).await;
            assert_eq!(
                problems(&store).await,
                [format!(
                    "the audit head `{garbage}` cannot be read (expected `SEQ:HASH`; the log ends \
                     at entry 74)"
                )],
                "{url}"
            );
        }
        let last = entries(&store).await.pop().unwrap();
        set_head(&store, &format!("74:{}", "0".repeat(64))).await;
        assert_eq!(
            problems(&store).await,
            [format!(
                "the audit head records hash 000000000000… for entry 74, but entry 74 has hash {}…",
                &last.hash[..12]
            )],
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_head_pointing_earlier_is_detected() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        let earlier = entries(&store).await[39].clone();
        set_head(&store, &format!("40:{}", earlier.hash)).await;
        assert_eq!(
            problems(&store).await,
            ["the log ends at entry 74 but the store recorded entry 40 as the last"],
            "{url}"
        );
        // The entries after it removed too: the revision and the revision row still know.
        store
            .execute_raw("DELETE FROM audit_log WHERE seq > 40".into())
            .await
            .unwrap();
        let found = problems(&store).await;
        assert_eq!(
            found[0],
            format!(
                "the store is at revision 60 but the audit log ends at entry 40 (revision {}): \
                 revisions {}–60 have no audit entry",
                earlier.revision,
                earlier.revision + 1
            ),
            "{url}"
        );
        assert!(
            found[1].starts_with("the store's revision row records entry 74 (hash "),
            "{url}: {found:?}"
        );
    }
}

#[tokio::test]
async fn removing_recorded_checks_at_the_end_is_detected() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        // The last two entries changed nothing: the revision and the change log do not name
        // them, and the head is pointed at the entry before. The revision row still records 74.
        let last_kept = entries(&store).await[71].clone();
        store
            .execute_raw("DELETE FROM audit_log WHERE seq > 72".into())
            .await
            .unwrap();
        set_head(&store, &format!("72:{}", last_kept.hash)).await;
        let found = problems(&store).await;
        assert_eq!(found.len(), 1, "{url}: {found:?}");
        assert!(
            found[0].starts_with("the store's revision row records entry 74 (hash ")
                && found[0].ends_with(&format!(
                    "as the last, but the log ends at entry 72 (hash {}…)",
                    &last_kept.hash[..12]
                )),
            "{url}: {found:?}"
        );
    }
}

#[tokio::test]
async fn removing_a_revisions_entry_in_the_middle_is_detected() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        let gone = entry_of(&store, 31).await;
        store
            .execute_raw(format!("DELETE FROM audit_log WHERE seq = {}", gone.seq))
            .await
            .unwrap();
        assert_eq!(
            problems(&store).await,
            [format!(
                "entry {} is missing (the next entry is {})",
                gone.seq,
                gone.seq + 1
            )],
            "{url}"
        );
        // Renumbered and re-linked, with the head and the revision row moved to the new end:
        // the chain is whole again, but revision 31 has no entry.
        forge_without(&store, &[], true).await;
        let found = problems(&store).await;
        assert_eq!(
            found,
            [format!(
                "entry {} is for revision 32, but the entry before it is for revision 30: \
                 revision 31 has no audit entry",
                gone.seq
            )],
            "{url}"
        );
    }
}

#[tokio::test]
async fn entries_that_do_not_match_the_change_log_are_detected() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        // A whole tail of writes removed and the chain re-forged to end earlier: the change log
        // still has those revisions.
        let from = entry_of(&store, 55).await;
        let tail: Vec<i64> = (from.seq..=74).collect();
        forge_without(&store, &tail, true).await;
        let found = problems(&store).await;
        assert!(
            found[0].starts_with("the store is at revision 60 but the audit log ends at entry"),
            "{url}: {found:?}"
        );

        // The revision lowered too, to hide that: the change log has revisions beyond it.
        store
            .execute_raw("UPDATE store_revision SET value = 54".into())
            .await
            .unwrap();
        let found = problems(&store).await;
        assert_eq!(
            found,
            ["the change log has revision 55, beyond the store's revision 54"],
            "{url}"
        );
    }
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        let entry = entry_of(&store, 30).await;
        store
            .execute_raw("DELETE FROM changes WHERE revision = 30".into())
            .await
            .unwrap();
        assert_eq!(
            problems(&store).await,
            [format!(
                "revision 30 (entry {}) is missing from the change log",
                entry.seq
            )],
            "{url}"
        );
        store
            .execute_raw(format!(
                "INSERT INTO changes (revision, at, ops, audit_seq, audit_hash) VALUES (30, {}, '[]', {}, '{}')",
                entry.at,
                entry.seq + 1,
                entry.hash
            ))
            .await
            .unwrap();
        assert_eq!(
            problems(&store).await,
            [format!(
                "the change log ties revision 30 to entry {} (hash {h}…), but the log's entry for \
                 revision 30 is entry {} (hash {h}…)",
                entry.seq + 1,
                entry.seq,
                h = &entry.hash[..12]
            )],
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_store_written_before_the_tie_verifies_after_the_upgrade() {
    for (url, store) in fresh_stores().await {
        seeded(&store).await;
        // The store as the previous version left it: no audit columns, no migration 5, and a
        // change log that begins at revision 11 (the store predates the change log, too).
        for statement in [
            "ALTER TABLE store_revision DROP COLUMN audit_seq",
            "ALTER TABLE store_revision DROP COLUMN audit_hash",
            "ALTER TABLE store_revision DROP COLUMN tied_from",
            "ALTER TABLE changes DROP COLUMN audit_seq",
            "ALTER TABLE changes DROP COLUMN audit_hash",
            "DELETE FROM changes WHERE revision <= 10",
            "DELETE FROM schema_migrations WHERE version = 5",
        ] {
            store.execute_raw(statement.into()).await.unwrap();
        }
        store.close().await;
        let store = Store::open(&url).await.unwrap();
        assert_eq!(problems(&store).await, Vec::<String>::new(), "{url}");
        store
            .write(write("group.create", vec![group("new", "New")]))
            .await
            .unwrap();
        store.record(write("check", vec![])).await.unwrap();
        assert_eq!(problems(&store).await, Vec::<String>::new(), "{url}");
        assert_eq!(store.changes_since(10).await.unwrap().unwrap().len(), 51);

        // Writes from after the upgrade are tied to the change log like any other.
        let entry = entry_of(&store, 61).await;
        store
            .execute_raw(
                "UPDATE changes SET audit_seq = NULL, audit_hash = NULL WHERE revision = 61".into(),
            )
            .await
            .unwrap();
        assert_eq!(
            problems(&store).await,
            [format!(
                "the change log names no audit entry for revision 61 (expected entry {})",
                entry.seq
            )],
            "{url}"
        );
        // Those from before are checked on what they have (the time of the write).
        store
            .execute_raw("UPDATE changes SET at = at + 1 WHERE revision = 20".into())
            .await
            .unwrap();
        let before = entry_of(&store, 20).await;
        assert_eq!(
            problems(&store).await[0],
            format!(
                "entry {} and the change log disagree on when revision 20 was written: at {} in \
                 the entry, at {} in the change log",
                before.seq,
                before.at,
                before.at + 1
            ),
            "{url}"
        );
    }
}

#[tokio::test]
async fn a_new_store_verifies_before_and_after_its_first_write() {
    for (url, store) in fresh_stores().await {
        assert_eq!(problems(&store).await, Vec::<String>::new(), "{url}");
        store.record(write("check", vec![])).await.unwrap();
        store
            .write(write("group.create", vec![group("g", "G")]))
            .await
            .unwrap();
        assert_eq!(problems(&store).await, Vec::<String>::new(), "{url}");
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

fn session(key: &str, uid: &str, credential: &str, at: i64) -> warden_store::SessionRow {
    warden_store::SessionRow {
        key: key.into(),
        uid: uid.into(),
        credential: credential.into(),
        scopes: "\"all\"".into(),
        created_at: at,
        expires_at: at + 1_000,
        last_seen: at,
        flash: None,
        revoked: false,
    }
}

/// The keys of a principal's sessions that are not revoked.
async fn keys_of(store: &Store, uid: &str) -> Vec<String> {
    store
        .sessions_of(uid)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| !s.revoked)
        .map(|s| s.key)
        .collect()
}

#[tokio::test]
async fn sessions_are_capped_per_principal_and_swept_when_expired_or_idle() {
    for (url, store) in fresh_stores().await {
        let revision = store.revision().await.unwrap();
        for n in 0..5_i64 {
            let ended = store
                .open_session(
                    &session(&format!("k{n}"), "mallory", "token:t", n),
                    n,
                    -1,
                    3,
                )
                .await
                .unwrap();
            assert_eq!(ended, usize::from(n >= 3), "{url} {n}");
        }
        store
            .open_session(&session("v", "victim", "token:v", 10), 10, -1, 3)
            .await
            .unwrap();
        assert_eq!(
            keys_of(&store, "mallory").await,
            ["k2", "k3", "k4"],
            "{url}"
        );
        assert_eq!(keys_of(&store, "victim").await, ["v"], "{url}");
        assert_eq!(
            store.revision().await.unwrap(),
            revision,
            "sessions are not directory writes: {url}"
        );
        assert!(entries(&store).await.is_empty(), "nor audited: {url}");

        // Touching moves the last-seen time forward only.
        store.touch_session("k3", 500).await.unwrap();
        store.touch_session("k3", 400).await.unwrap();
        assert_eq!(store.session("k3").await.unwrap().unwrap().last_seen, 500);

        // The next opening sweeps everyone's expired sessions and the principal's idle ones.
        store
            .open_session(&session("k5", "mallory", "token:t", 1_002), 1_002, 100, 3)
            .await
            .unwrap();
        assert_eq!(keys_of(&store, "mallory").await, ["k3", "k5"], "{url}");
        store
            .open_session(&session("w", "victim", "token:v", 1_011), 1_011, -1, 3)
            .await
            .unwrap();
        assert_eq!(keys_of(&store, "victim").await, ["w"], "expired: {url}");
        assert!(store.session("v").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn sessions_end_by_key_by_credential_and_with_their_principal() {
    for (url, store) in fresh_stores().await {
        for (key, uid, credential) in [
            ("a1", "alice", "token:t1"),
            ("a2", "alice", "token:t2"),
            ("a3", "alice", "password:p"),
            ("b1", "bob", "token:t1"),
        ] {
            store
                .open_session(&session(key, uid, credential, 0), 0, -1, 10)
                .await
                .unwrap();
        }
        store
            .set_session_flash("a1", Some("{\"tone\":\"ok\"}"))
            .await
            .unwrap();
        assert_eq!(
            store.session("a1").await.unwrap().unwrap().flash.as_deref(),
            Some("{\"tone\":\"ok\"}")
        );
        store.set_session_flash("a1", None).await.unwrap();
        assert_eq!(store.session("a1").await.unwrap().unwrap().flash, None);

        assert!(store.end_session("a1").await.unwrap());
        assert!(!store.end_session("a1").await.unwrap(), "{url}");

        let end = |uid: &str, credential: Option<&str>| Op::EndSessions {
            uid: uid.into(),
            credential: credential.map(str::to_owned),
        };
        let written = store
            .write(write("token.revoke", vec![end("alice", Some("token:t2"))]))
            .await
            .unwrap();
        assert_eq!(keys_of(&store, "alice").await, ["a3"], "{url}");
        assert_eq!(
            keys_of(&store, "bob").await,
            ["b1"],
            "another's stays: {url}"
        );
        // The change log carries it, as every operation.
        let changes = store
            .changes_since(written.revision - 1)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(changes[0].1, vec![end("alice", Some("token:t2"))]);

        store
            .write(write("user.deactivate", vec![end("alice", None)]))
            .await
            .unwrap();
        assert!(keys_of(&store, "alice").await.is_empty(), "{url}");
        store
            .write(write(
                "user.delete",
                vec![Op::DeletePrincipal { uid: "bob".into() }],
            ))
            .await
            .unwrap();
        assert!(keys_of(&store, "bob").await.is_empty(), "{url}");
    }
}

fn sample(
    permission: &str,
    kind: warden_store::SampleKind,
    name: &str,
    value: &str,
    at: i64,
) -> warden_store::UsageSample {
    warden_store::UsageSample {
        principal: "su".into(),
        permission: permission.into(),
        kind,
        name: name.into(),
        value: value.into(),
        last_seen: at,
    }
}

#[tokio::test]
async fn samples_keep_the_latest_sighting_cap_values_and_expire() {
    use warden_store::SampleKind::{Absent, Capped, Environment, Value};
    for (url, store) in fresh_stores().await {
        let first = [
            sample("s:t:read", Value, "s:bucket", "a", 10),
            sample("s:t:read", Value, "s:bucket", "b", 10),
            sample("s:t:read", Environment, "", "env-1", 10),
            sample("s:t:write", Absent, "s:bucket", "", 5),
        ];
        store.add_samples(&first, 2, 0).await.unwrap();
        // `a` again, later; `c` is beyond the cap of two values, so the attribute is capped.
        let second = [
            sample("s:t:read", Value, "s:bucket", "a", 20),
            sample("s:t:read", Value, "s:bucket", "c", 20),
        ];
        store.add_samples(&second, 2, 0).await.unwrap();
        let got = store.samples("su", 0).await.unwrap();
        assert_eq!(
            got,
            vec![
                sample("s:t:read", Value, "s:bucket", "a", 20),
                sample("s:t:read", Value, "s:bucket", "b", 10),
                sample("s:t:read", Capped, "s:bucket", "", 20),
                sample("s:t:read", Environment, "", "env-1", 10),
                sample("s:t:write", Absent, "s:bucket", "", 5),
            ],
            "{url}"
        );
        assert_eq!(store.samples("su", 11).await.unwrap().len(), 2, "{url}");
        // The cap holds within one flush too.
        let within = [
            sample("s:t:list", Value, "s:bucket", "x", 30),
            sample("s:t:list", Value, "s:bucket", "y", 30),
            sample("s:t:list", Value, "s:bucket", "z", 30),
        ];
        store.add_samples(&within, 2, 0).await.unwrap();
        let listed: Vec<_> = store
            .samples("su", 30)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.kind, s.value))
            .collect();
        assert_eq!(
            listed,
            vec![
                (Value, "x".to_owned()),
                (Value, "y".to_owned()),
                (Capped, String::new())
            ],
            "{url}"
        );
        assert!(store.samples("other", 0).await.unwrap().is_empty());
        // A flush removes what the retention no longer keeps.
        store.add_samples(&[], 2, 11).await.unwrap();
        store
            .execute_raw("DELETE FROM usage_samples WHERE permission = 's:t:list'".into())
            .await
            .unwrap();
        assert_eq!(
            store.samples("su", 0).await.unwrap(),
            vec![
                sample("s:t:read", Value, "s:bucket", "a", 20),
                sample("s:t:read", Capped, "s:bucket", "", 20),
            ],
            "{url}"
        );
    }
}

#[tokio::test]
async fn last_use_only_moves_forward_and_goes_with_its_principal() {
    for (url, store) in fresh_stores().await {
        store
            .add_usage(&[warden_store::UsageDelta {
                principal: "u0".into(),
                permission: "a:b:c".into(),
                last_used: 5,
                last_allowed: 5,
                allows: 1,
                denies: 0,
            }])
            .await
            .unwrap();
        store
            .touch_last_used(&[("u1".into(), 100), ("u2".into(), 50)])
            .await
            .unwrap();
        store
            .touch_last_used(&[("u1".into(), 90), ("u2".into(), 70)])
            .await
            .unwrap();
        let all = store.last_used(None).await.unwrap();
        assert_eq!(
            all.into_iter().collect::<Vec<_>>(),
            [("u1".to_owned(), 100), ("u2".to_owned(), 70)],
            "{url}: an earlier instant is ignored, a later one kept; counters are not copied after the upgrade"
        );
        assert_eq!(
            store.last_used(Some("u2")).await.unwrap().get("u2"),
            Some(&70),
            "{url}"
        );
        store
            .write(write(
                "user.delete",
                vec![Op::DeletePrincipal { uid: "u1".into() }],
            ))
            .await
            .unwrap();
        assert!(
            store.last_used(Some("u1")).await.unwrap().is_empty(),
            "{url}"
        );
    }
}
