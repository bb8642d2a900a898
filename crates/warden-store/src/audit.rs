//! The audit log's hash chain: each entry's hash covers its fields and the previous entry's hash,
//! so changing or removing any entry breaks every later link. Removing the end of the chain, or
//! rewriting it whole, is caught by what the rest of the store records in the same transactions
//! ([`Anchors`]): the revision, the last entry, the audit head and the change log.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash the first entry links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub seq: i64,
    /// The store revision the write produced (the current one for entries that changed nothing).
    pub revision: i64,
    /// Milliseconds since the epoch.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub request_id: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry's content and its predecessor's hash. Fields are encoded as one JSON
/// array, so no choice of field values can make two different entries hash the same input.
pub fn entry_hash(entry: &AuditEntry) -> String {
    let fields = serde_json::json!([
        entry.seq,
        entry.revision,
        entry.at,
        entry.actor,
        entry.action,
        entry.target,
        entry.before,
        entry.after,
        entry.request_id,
        entry.prev_hash,
    ]);
    let digest = Sha256::digest(fields.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The outcome of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub entries: i64,
    /// The first problem found; `None` when the log is intact.
    pub problem: Option<ChainProblem>,
    /// Every problem found, the first one included.
    pub problems: Vec<ChainProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainProblem {
    pub seq: i64,
    pub message: String,
}

/// One row of the change log, as far as the audit log is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeStamp {
    pub revision: i64,
    pub at: i64,
    /// The `(seq, hash)` of the write's audit entry; `None` for rows committed before the change
    /// log recorded it.
    pub audit: Option<(i64, String)>,
}

/// What the rest of the store says about the log, read in the same transaction as its entries.
///
/// Every commit updates the revision row, and a write also appends to the change log, in the
/// transaction that appends its audit entry; so removing entries, or rewriting them, shows up as
/// a disagreement with these unless they are forged too.
#[derive(Debug, Clone, Copy)]
pub struct Anchors<'a> {
    /// The store's revision.
    pub revision: i64,
    /// Revisions up to this one were committed before the change log named their audit entries
    /// (the store was upgraded then); their change-log rows may be missing or unnamed.
    pub tied_from: i64,
    /// The last entry `(seq, hash)` as the revision row records it.
    pub last: (i64, &'a str),
    /// The `audit_head` meta value as stored (`SEQ:HASH`), `None` when the row is missing.
    pub head: Option<&'a str>,
    /// The change log, in revision order.
    pub changes: &'a [ChangeStamp],
}

/// The beginning of a hash, enough to tell two apart in a message.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

fn range(first: i64, last: i64) -> String {
    if first == last {
        format!("revision {first} has")
    } else {
        format!("revisions {first}–{last} have")
    }
}

fn problem(seq: i64, message: String) -> Option<ChainProblem> {
    Some(ChainProblem { seq, message })
}

/// Checks entries given in `seq` order: each links to the one before and hashes to its recorded
/// hash; revisions advance by one at each write and stay put at each recorded check; each write's
/// entry is the one its change-log row names; the log ends at the store's revision and at the
/// last entry that both the revision row and the audit head record.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    anchors: &Anchors<'_>,
) -> Verification {
    let changes: BTreeMap<i64, &ChangeStamp> =
        anchors.changes.iter().map(|c| (c.revision, c)).collect();
    let mut problems = Vec::new();
    let mut expected_seq = 1;
    let mut previous = GENESIS.to_owned();
    let mut count = 0;
    // The revision of the entries so far: a write's entry moves it on by one.
    let mut revision = 0;
    let mut walked = true;
    for entry in entries {
        count += 1;
        let found = check_entry(entry, expected_seq, &previous, revision, anchors, &changes);
        if let Some(found) = found {
            problems.push(found);
            walked = false;
            break;
        }
        previous = entry.hash.clone();
        revision = entry.revision;
        expected_seq += 1;
    }
    let last = expected_seq - 1;
    if walked {
        problems.extend(check_end(last, &previous, revision, anchors));
    }
    problems.extend(check_head(anchors.head, walked, last, &previous));
    Verification {
        entries: count,
        problem: problems.first().cloned(),
        problems,
    }
}

/// One entry against the one before it and against the change log.
fn check_entry(
    entry: &AuditEntry,
    expected_seq: i64,
    previous: &str,
    revision: i64,
    anchors: &Anchors<'_>,
    changes: &BTreeMap<i64, &ChangeStamp>,
) -> Option<ChainProblem> {
    let seq = entry.seq;
    let r = entry.revision;
    if seq != expected_seq {
        return problem(
            expected_seq,
            format!("entry {expected_seq} is missing (the next entry is {seq})"),
        );
    }
    if entry.prev_hash != previous {
        return problem(
            seq,
            format!("entry {seq} does not link to entry {}", seq - 1),
        );
    }
    if entry_hash(entry) != entry.hash {
        return problem(seq, format!("entry {seq} was changed after it was written"));
    }
    if r > revision + 1 {
        return problem(
            seq,
            format!(
                "entry {seq} is for revision {r}, but the entry before it is for revision \
                 {revision}: {} no audit entry",
                range(revision + 1, r - 1)
            ),
        );
    }
    if r < revision {
        return problem(
            seq,
            format!(
                "entry {seq} is for revision {r}, earlier than revision {revision} of the entry \
                 before it"
            ),
        );
    }
    if r > anchors.revision {
        return problem(
            seq,
            format!(
                "entry {seq} is for revision {r}, beyond the store's revision {}",
                anchors.revision
            ),
        );
    }
    if r == revision {
        // A recorded check: no revision of its own, nothing in the change log.
        return None;
    }
    // The write of revision `r`: its change-log row must name this entry.
    let Some(change) = changes.get(&r) else {
        return (r > anchors.tied_from).then(|| ChainProblem {
            seq,
            message: format!("revision {r} (entry {seq}) is missing from the change log"),
        });
    };
    if change.at != entry.at {
        return problem(
            seq,
            format!(
                "entry {seq} and the change log disagree on when revision {r} was written: at {} \
                 in the entry, at {} in the change log",
                entry.at, change.at
            ),
        );
    }
    match &change.audit {
        Some((named, hash)) if *named != seq || *hash != entry.hash => problem(
            seq,
            format!(
                "the change log ties revision {r} to entry {named} (hash {}…), but the log's \
                 entry for revision {r} is entry {seq} (hash {}…)",
                short(hash),
                short(&entry.hash)
            ),
        ),
        None if r > anchors.tied_from => problem(
            seq,
            format!("the change log names no audit entry for revision {r} (expected entry {seq})"),
        ),
        _ => None,
    }
}

/// The end of an intact chain against the store's revision, change log and revision row.
fn check_end(
    last: i64,
    last_hash: &str,
    revision: i64,
    anchors: &Anchors<'_>,
) -> Vec<ChainProblem> {
    let mut problems = Vec::new();
    if revision < anchors.revision {
        let ends = if last == 0 {
            "the audit log is empty".to_owned()
        } else {
            format!("the audit log ends at entry {last} (revision {revision})")
        };
        problems.extend(problem(
            last + 1,
            format!(
                "the store is at revision {} but {ends}: {} no audit entry",
                anchors.revision,
                range(revision + 1, anchors.revision)
            ),
        ));
    }
    if let Some(beyond) = anchors
        .changes
        .iter()
        .find(|c| c.revision > anchors.revision)
    {
        problems.extend(problem(
            last,
            format!(
                "the change log has revision {}, beyond the store's revision {}",
                beyond.revision, anchors.revision
            ),
        ));
    }
    if anchors.tied_from > anchors.revision {
        problems.extend(problem(
            last,
            format!(
                "the store says its change log names audit entries from revision {} on, beyond \
                 its revision {}",
                anchors.tied_from + 1,
                anchors.revision
            ),
        ));
    }
    let (recorded, hash) = anchors.last;
    if recorded != last || hash != last_hash {
        problems.extend(problem(
            recorded.max(last),
            format!(
                "the store's revision row records entry {recorded} (hash {}…) as the last, but \
                 the log ends at entry {last} (hash {}…)",
                short(hash),
                short(last_hash)
            ),
        ));
    }
    problems
}

/// The audit head must be there and readable; when the chain is intact it must name its end.
fn check_head(
    head: Option<&str>,
    walked: bool,
    last: i64,
    last_hash: &str,
) -> Option<ChainProblem> {
    let Some(text) = head else {
        return problem(
            last,
            format!(
                "the audit head is missing: the store no longer records which entry is the last \
                 (the log ends at entry {last})"
            ),
        );
    };
    let Some((seq, hash)) = parse_head(text) else {
        return problem(
            last,
            format!(
                "the audit head `{}` cannot be read (expected `SEQ:HASH`; the log ends at entry \
                 {last})",
                text.chars().take(80).collect::<String>()
            ),
        );
    };
    if !walked {
        return None;
    }
    if seq != last {
        return problem(
            seq.max(last),
            format!("the log ends at entry {last} but the store recorded entry {seq} as the last"),
        );
    }
    if hash != last_hash {
        return problem(
            seq,
            format!(
                "the audit head records hash {}… for entry {seq}, but entry {seq} has hash {}…",
                short(hash),
                short(last_hash)
            ),
        );
    }
    None
}

/// `SEQ:HASH`, as the store records the head.
fn parse_head(text: &str) -> Option<(i64, &str)> {
    let (seq, hash) = text.split_once(':')?;
    let seq: i64 = seq.parse().ok()?;
    let well_formed = seq >= 0 && hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then_some((seq, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` entries; every third one (from the fourth on) a recorded check without a revision.
    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        let mut revision = 0;
        for seq in 1..=n {
            let prev_hash = out
                .last()
                .map_or_else(|| GENESIS.to_owned(), |e| e.hash.clone());
            if seq < 4 || seq % 3 != 0 {
                revision += 1;
            }
            let mut entry = AuditEntry {
                seq,
                revision,
                at: 1_000 * seq,
                actor: "admin".into(),
                action: "group.create".into(),
                target: format!("group/{seq}"),
                before: None,
                after: Some(format!("{{\"n\":{seq}}}")),
                request_id: format!("req-{seq}"),
                prev_hash,
                hash: String::new(),
            };
            entry.hash = entry_hash(&entry);
            out.push(entry);
        }
        out
    }

    /// What the store records beside a log it wrote itself.
    struct Store {
        revision: i64,
        last: (i64, String),
        head: Option<String>,
        changes: Vec<ChangeStamp>,
    }

    impl Store {
        fn of(entries: &[AuditEntry]) -> Store {
            let mut changes = Vec::new();
            let mut revision = 0;
            for entry in entries {
                if entry.revision > revision {
                    changes.push(ChangeStamp {
                        revision: entry.revision,
                        at: entry.at,
                        audit: Some((entry.seq, entry.hash.clone())),
                    });
                }
                revision = entry.revision;
            }
            let last = entries
                .last()
                .map_or((0, GENESIS.to_owned()), |e| (e.seq, e.hash.clone()));
            Store {
                revision,
                head: Some(format!("{}:{}", last.0, last.1)),
                last,
                changes,
            }
        }

        fn verify(&self, entries: &[AuditEntry]) -> Verification {
            verify(
                entries,
                &Anchors {
                    revision: self.revision,
                    tied_from: 0,
                    last: (self.last.0, &self.last.1),
                    head: self.head.as_deref(),
                    changes: &self.changes,
                },
            )
        }
    }

    fn messages(verification: &Verification) -> Vec<&str> {
        verification
            .problems
            .iter()
            .map(|p| p.message.as_str())
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(100);
        let store = Store::of(&entries);
        assert_eq!(
            store.verify(&entries),
            Verification {
                entries: 100,
                problem: None,
                problems: Vec::new(),
            }
        );
        let empty = Store::of(&[]);
        assert_eq!(empty.verify(&[]).problem, None);
    }

    #[test]
    fn a_changed_entry_is_named() {
        let mut entries = chain(100);
        let store = Store::of(&entries);
        entries[49].actor = "mallory".into();
        let result = store.verify(&entries);
        assert_eq!(
            result.problem.unwrap(),
            ChainProblem {
                seq: 50,
                message: "entry 50 was changed after it was written".into()
            }
        );
    }

    #[test]
    fn removed_entries_are_found() {
        let mut entries = chain(100);
        let store = Store::of(&entries);
        entries.remove(69);
        assert_eq!(
            store.verify(&entries).problem.unwrap().message,
            "entry 70 is missing (the next entry is 71)"
        );
        entries.truncate(60);
        // Entry 60 is a recorded check of revision 41.
        assert_eq!(
            messages(&store.verify(&entries)),
            [
                "the store is at revision 68 but the audit log ends at entry 60 (revision 41): \
                 revisions 42–68 have no audit entry",
                &format!(
                    "the store's revision row records entry 100 (hash {}…) as the last, but the \
                     log ends at entry 60 (hash {}…)",
                    &store.last.1[..12],
                    &entries[59].hash[..12]
                ),
                "the log ends at entry 60 but the store recorded entry 100 as the last",
            ]
        );
    }

    #[test]
    fn the_head_is_required_and_must_be_readable() {
        let entries = chain(10);
        let mut store = Store::of(&entries);
        store.head = None;
        assert_eq!(
            store.verify(&entries).problem.unwrap().message,
            "the audit head is missing: the store no longer records which entry is the last (the \
             log ends at entry 10)"
        );
        store.head = Some("garbage".into());
        assert_eq!(
            store.verify(&entries).problem.unwrap().message,
            "the audit head `garbage` cannot be read (expected `SEQ:HASH`; the log ends at entry \
             10)"
        );
        store.head = Some(format!("10:{}", "f".repeat(64)));
        assert!(
            store
                .verify(&entries)
                .problem
                .unwrap()
                .message
                .starts_with("the audit head records hash ffffffffffff… for entry 10")
        );
    }

    #[test]
    fn trailing_recorded_checks_are_tied_to_the_revision_row() {
        // Entry 99 is a recorded check after the last write (entry 98).
        let mut entries = chain(99);
        let store = Store::of(&entries);
        assert_eq!(store.verify(&entries).problem, None);
        entries.pop();
        let mut forged = Store::of(&entries);
        // The head and the change log agree with the shortened log; the revision row does not.
        forged.last = store.last.clone();
        assert_eq!(forged.revision, store.revision);
        assert!(
            forged
                .verify(&entries)
                .problem
                .unwrap()
                .message
                .starts_with("the store's revision row records entry 99")
        );
    }

    #[test]
    fn a_rewritten_chain_does_not_match_the_change_log() {
        let entries = chain(30);
        let store = Store::of(&entries);
        // Entry 19 (revision 14) removed, and everything after it re-linked and re-hashed.
        let mut forged: Vec<AuditEntry> = Vec::new();
        for entry in entries.iter().filter(|e| e.seq != 19) {
            let mut entry = entry.clone();
            entry.seq = forged.len() as i64 + 1;
            entry.prev_hash = forged
                .last()
                .map_or_else(|| GENESIS.to_owned(), |e| e.hash.clone());
            entry.hash = entry_hash(&entry);
            forged.push(entry);
        }
        let mut store = store;
        let last = forged.last().unwrap();
        store.last = (last.seq, last.hash.clone());
        store.head = Some(format!("{}:{}", last.seq, last.hash));
        assert_eq!(
            store.verify(&forged).problem.unwrap(),
            ChainProblem {
                seq: 19,
                message: "entry 19 is for revision 15, but the entry before it is for revision \
                          13: revision 14 has no audit entry"
                    .into()
            }
        );
        // Renumbering the revisions too leaves the change log naming other entries.
        for entry in forged.iter_mut().filter(|e| e.seq >= 19) {
            entry.revision -= 1;
        }
        for i in 18..forged.len() {
            forged[i].prev_hash = forged[i - 1].hash.clone();
            forged[i].hash = entry_hash(&forged[i]);
        }
        let message = store.verify(&forged).problem.unwrap().message;
        assert!(
            message.starts_with("entry 19 and the change log disagree on when revision 14"),
            "{message}"
        );
    }

    #[test]
    fn stores_from_before_the_tie_are_checked_on_what_they_have() {
        let entries = chain(20);
        let mut store = Store::of(&entries);
        // Upgraded at revision 10; the change log began at revision 4.
        store.changes.retain(|c| c.revision >= 4);
        for change in store.changes.iter_mut().filter(|c| c.revision <= 10) {
            change.audit = None;
        }
        let result = verify(
            &entries,
            &Anchors {
                revision: store.revision,
                tied_from: 10,
                last: (store.last.0, &store.last.1),
                head: store.head.as_deref(),
                changes: &store.changes,
            },
        );
        assert_eq!(result.problem, None);
        let untied = verify(
            &entries,
            &Anchors {
                revision: store.revision,
                tied_from: 9,
                last: (store.last.0, &store.last.1),
                head: store.head.as_deref(),
                changes: &store.changes,
            },
        );
        assert_eq!(
            untied.problem.unwrap().message,
            "the change log names no audit entry for revision 10 (expected entry 13)"
        );
    }
}
