//! The audit log's hash chain: each entry's hash covers its fields and the previous entry's hash,
//! so changing or removing any entry breaks every later link.

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
    /// `None` when the chain is intact.
    pub problem: Option<ChainProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainProblem {
    pub seq: i64,
    pub message: String,
}

/// Checks entries given in `seq` order; `head` is the `(seq, hash)` the store recorded as the
/// last entry, which catches a removed tail.
pub fn verify<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
    head: Option<(i64, &str)>,
) -> Verification {
    let mut expected_seq = 1;
    let mut previous = GENESIS.to_owned();
    let mut count = 0;
    for entry in entries {
        count += 1;
        let problem = if entry.seq != expected_seq {
            Some(ChainProblem {
                seq: expected_seq,
                message: format!(
                    "entry {expected_seq} is missing (the next entry is {})",
                    entry.seq
                ),
            })
        } else if entry.prev_hash != previous {
            Some(ChainProblem {
                seq: entry.seq,
                message: format!(
                    "entry {} does not link to entry {}",
                    entry.seq,
                    entry.seq - 1
                ),
            })
        } else if entry_hash(entry) != entry.hash {
            Some(ChainProblem {
                seq: entry.seq,
                message: format!("entry {} was changed after it was written", entry.seq),
            })
        } else {
            None
        };
        if problem.is_some() {
            return Verification {
                entries: count,
                problem,
            };
        }
        previous = entry.hash.clone();
        expected_seq += 1;
    }
    let last = expected_seq - 1;
    let problem = match head {
        Some((seq, hash)) if seq != last || (seq > 0 && hash != previous) => Some(ChainProblem {
            seq: seq.max(last),
            message: format!(
                "the log ends at entry {last} but the store recorded entry {seq} as the last"
            ),
        }),
        _ => None,
    };
    Verification {
        entries: count,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev_hash = out
                .last()
                .map_or_else(|| GENESIS.to_owned(), |e| e.hash.clone());
            let mut entry = AuditEntry {
                seq,
                revision: seq,
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

    #[test]
    fn an_intact_chain_verifies() {
        let entries = chain(100);
        let head = entries.last().map(|e| (e.seq, e.hash.as_str()));
        assert_eq!(
            verify(&entries, head),
            Verification {
                entries: 100,
                problem: None
            }
        );
    }

    #[test]
    fn a_changed_entry_is_named() {
        let mut entries = chain(100);
        entries[49].actor = "mallory".into();
        let head = entries.last().map(|e| (e.seq, e.hash.clone()));
        let result = verify(&entries, head.as_ref().map(|(s, h)| (*s, h.as_str())));
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
        let head = entries.last().map(|e| (e.seq, e.hash.clone())).unwrap();
        entries.remove(69);
        let result = verify(&entries, Some((head.0, &head.1)));
        assert_eq!(
            result.problem.unwrap().message,
            "entry 70 is missing (the next entry is 71)"
        );
        entries.truncate(60);
        let result = verify(&entries, Some((head.0, &head.1)));
        assert_eq!(
            result.problem.unwrap().message,
            "the log ends at entry 60 but the store recorded entry 100 as the last"
        );
    }
}
