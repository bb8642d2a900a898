//! The sample of allowed requests behind least-privilege suggestions: per principal and
//! permission, the values each attribute carried, whether some request lacked an attribute, and
//! the environments — between two flushes, in memory; then in the store
//! ([`warden_store::UsageSample`]), flushed with the usage counters.
//!
//! Sampling is on the decision path, so it is an append under one of many small locks, never IO,
//! and everything held is bounded: at most [`MAX_PAIRS`] (principal, permission) pairs wait for a
//! flush, [`MAX_ATTRIBUTES`] attributes each, [`MAX_VALUES`] values each of at most
//! [`MAX_VALUE_BYTES`] bytes, [`MAX_ENVIRONMENTS`] environments, and [`MAX_HELD`] values and
//! environments over all pairs. What does not fit is not lost
//! silently: a value not kept (too long, over the cap, holding a NUL byte, or shaped like a
//! secret — a credential is never sampled) marks its attribute capped, and a reader then leaves that attribute
//! unrestricted. Only the attributes the catalogue gives the permission are written.
//!
//! Absence matters as much as values: an ALLOW condition on an attribute a request lacked does
//! not hold, so an attribute is only safe to restrict when every observed request carried it.
//! Each pair counts its requests and each attribute the requests that carried it; fewer carriers
//! than requests is written as [`SampleKind::Absent`].

use std::hash::BuildHasher;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustc_hash::{FxBuildHasher, FxHashMap};
use warden_engine::AttributeValues;
use warden_policy::catalogue::Catalogue;
use warden_store::{SampleKind, UsageSample};

const SHARDS: usize = 64;

/// (principal, permission) pairs held between two flushes at most.
pub const MAX_PAIRS: usize = 10_000;
/// Attributes sampled per pair; further attributes count as absent (so stay unrestricted).
pub const MAX_ATTRIBUTES: usize = 32;
/// Distinct values kept per attribute, in memory and in the store.
pub const MAX_VALUES: usize = 100;
/// Longer values are not kept (the attribute is marked capped).
pub const MAX_VALUE_BYTES: usize = 256;
/// Environments kept per pair.
pub const MAX_ENVIRONMENTS: usize = 100;
/// Values and environments held between two flushes, over all pairs: what bounds the memory
/// (about 100,000 × 300 bytes) and the rows of one flush.
pub const MAX_HELD: usize = 100_000;
/// The pseudo-attribute under which environments beyond the cap are marked.
pub const ENVIRONMENT: &str = "global:environmentId";
/// The permission and name of the row saying that a principal's requests were not all sampled;
/// as a principal, everyone's.
pub const LOST: &str = "*";

#[derive(Debug, Default)]
struct Attribute {
    /// Requests that carried a value.
    carried: u32,
    /// The request (by its number within the pair) last counted, so that a name given twice in
    /// one request counts once.
    counted: u32,
    values: FxHashMap<Box<str>, i64>,
    /// When a value was last not kept (0: never).
    capped: i64,
}

#[derive(Debug, Default)]
struct Observed {
    requests: u32,
    last_seen: i64,
    /// Environment ids (empty: account level) and when last seen.
    environments: FxHashMap<Box<str>, i64>,
    environments_capped: i64,
    attributes: FxHashMap<Box<str>, Attribute>,
}

/// Principal → permission → what its allowed requests carried.
type Shard = FxHashMap<Box<str>, FxHashMap<Box<str>, Observed>>;

/// Allowed requests since the last flush.
#[derive(Debug)]
pub struct Samples {
    shards: Vec<Mutex<Shard>>,
    /// Pairs held (approximately: recorded and drained concurrently).
    pending: AtomicUsize,
    /// Values and environments held, over all pairs.
    held: AtomicUsize,
    /// Rows of a failed flush, written with the next one.
    restored: Mutex<Vec<UsageSample>>,
    /// Principals with a request not sampled (a new pair beyond [`MAX_PAIRS`]), and when; the
    /// key [`LOST`] stands for everyone once [`MAX_PAIRS`] principals are listed.
    lost: Mutex<FxHashMap<Box<str>, i64>>,
}

impl Default for Samples {
    fn default() -> Self {
        Samples {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            pending: AtomicUsize::new(0),
            held: AtomicUsize::new(0),
            restored: Mutex::new(Vec::new()),
            lost: Mutex::new(FxHashMap::default()),
        }
    }
}

fn each_value<'a>(values: &AttributeValues<'a>, mut f: impl FnMut(&'a str)) {
    match values {
        AttributeValues::Strings(values) => values.iter().for_each(|v| f(v)),
        AttributeValues::Borrowed(values) => values.iter().for_each(|v| f(v)),
    }
}

fn is_empty(values: &AttributeValues<'_>) -> bool {
    match values {
        AttributeValues::Strings(values) => values.is_empty(),
        AttributeValues::Borrowed(values) => values.is_empty(),
    }
}

impl Samples {
    fn shard(&self, principal: &str) -> Option<&Mutex<Shard>> {
        let index = usize::try_from(FxBuildHasher.hash_one(principal) % SHARDS as u64).unwrap_or(0);
        self.shards.get(index)
    }

    /// Records one allowed request of `principal` (a uid) for `permission`, made at `now_ms`.
    /// `attributes` visits each attribute of the request with its values.
    pub fn record(
        &self,
        principal: &str,
        permission: &str,
        environment: Option<&str>,
        now_ms: i64,
        attributes: impl FnOnce(&mut dyn FnMut(&str, AttributeValues<'_>)),
    ) {
        if !crate::usage::is_permission_name(permission) {
            return;
        }
        let Some(shard) = self.shard(principal) else {
            return;
        };
        let Ok(mut shard) = shard.lock() else {
            return;
        };
        // Looked up by borrowed text: keys are copied only for a new pair.
        if !shard
            .get(principal)
            .is_some_and(|permissions| permissions.contains_key(permission))
        {
            if self.pending.fetch_add(1, Ordering::Relaxed) >= MAX_PAIRS {
                self.pending.fetch_sub(1, Ordering::Relaxed);
                drop(shard);
                self.lose(principal, now_ms);
                return;
            }
            if !shard.contains_key(principal) {
                shard.insert(principal.into(), FxHashMap::default());
            }
            if let Some(permissions) = shard.get_mut(principal) {
                permissions.insert(permission.into(), Observed::default());
            }
        }
        let Some(observed) = shard
            .get_mut(principal)
            .and_then(|permissions| permissions.get_mut(permission))
        else {
            return;
        };
        let held = &self.held;
        // Takes room for one more value or environment, within [`MAX_HELD`].
        let room = || {
            if held.fetch_add(1, Ordering::Relaxed) >= MAX_HELD {
                held.fetch_sub(1, Ordering::Relaxed);
                false
            } else {
                true
            }
        };
        observed.requests = observed.requests.saturating_add(1);
        observed.last_seen = observed.last_seen.max(now_ms);
        let request = observed.requests;
        let environment = environment.unwrap_or("");
        if let Some(seen) = observed.environments.get_mut(environment) {
            *seen = (*seen).max(now_ms);
        } else if observed.environments.len() < MAX_ENVIRONMENTS && room() {
            observed.environments.insert(environment.into(), now_ms);
        } else {
            observed.environments_capped = now_ms;
        }
        attributes(&mut |name, values| {
            if is_empty(&values) {
                return;
            }
            let attributes = &mut observed.attributes;
            if !attributes.contains_key(name) {
                // Not sampled: counted as absent at the flush, so left unrestricted.
                if attributes.len() >= MAX_ATTRIBUTES {
                    return;
                }
                attributes.insert(name.into(), Attribute::default());
            }
            let Some(attribute) = attributes.get_mut(name) else {
                return;
            };
            if attribute.counted != request {
                attribute.counted = request;
                attribute.carried = attribute.carried.saturating_add(1);
            }
            each_value(&values, |value| {
                if let Some(seen) = attribute.values.get_mut(value) {
                    *seen = (*seen).max(now_ms);
                } else if value.len() > MAX_VALUE_BYTES
                    || attribute.values.len() >= MAX_VALUES
                    // PostgreSQL refuses NUL in text: such a value would fail every flush.
                    || value.contains('\0')
                    || crate::secrets::holds_secret(value)
                    || !room()
                {
                    attribute.capped = now_ms;
                } else {
                    attribute.values.insert(value.into(), now_ms);
                }
            });
        });
    }

    /// Notes that a request of `principal` was not sampled: its suggestions then say they may
    /// miss something.
    fn lose(&self, principal: &str, now_ms: i64) {
        let Ok(mut lost) = self.lost.lock() else {
            return;
        };
        let key = if lost.len() < MAX_PAIRS || lost.contains_key(principal) {
            principal
        } else {
            LOST
        };
        match lost.get_mut(key) {
            Some(at) => *at = (*at).max(now_ms),
            None => {
                lost.insert(key.into(), now_ms);
            }
        }
    }

    /// Takes everything recorded since the last flush, as store rows: only permissions the
    /// catalogue knows, and of their attributes only those it gives the permission.
    pub fn drain(&self, catalogue: &Catalogue) -> Vec<UsageSample> {
        let mut out = match self.restored.lock() {
            Ok(mut restored) => std::mem::take(&mut *restored),
            Err(_) => Vec::new(),
        };
        if let Ok(mut lost) = self.lost.lock() {
            out.extend(
                std::mem::take(&mut *lost)
                    .into_iter()
                    .map(|(principal, at)| UsageSample {
                        principal: principal.into(),
                        permission: LOST.to_owned(),
                        kind: SampleKind::Capped,
                        name: LOST.to_owned(),
                        value: String::new(),
                        last_seen: at,
                    }),
            );
        }
        for shard in &self.shards {
            let Ok(mut shard) = shard.lock() else {
                continue;
            };
            let taken = std::mem::take(&mut *shard);
            drop(shard);
            let pairs: usize = taken.values().map(FxHashMap::len).sum();
            let held: usize = taken
                .values()
                .flat_map(FxHashMap::values)
                .map(|o| {
                    o.environments.len()
                        + o.attributes.values().map(|a| a.values.len()).sum::<usize>()
                })
                .sum();
            for (counter, taken) in [(&self.pending, pairs), (&self.held, held)] {
                let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_sub(taken))
                });
            }
            let taken = taken.into_iter().flat_map(|(principal, permissions)| {
                permissions
                    .into_iter()
                    .map(move |(permission, observed)| (principal.clone(), permission, observed))
            });
            for (principal, permission, observed) in taken {
                let Some(spec) = catalogue.permission(&permission) else {
                    continue;
                };
                let row = |kind: SampleKind, name: &str, value: &str, at: i64| UsageSample {
                    principal: principal.to_string(),
                    permission: permission.to_string(),
                    kind,
                    name: name.to_owned(),
                    value: value.to_owned(),
                    last_seen: at,
                };
                for (environment, at) in &observed.environments {
                    out.push(row(SampleKind::Environment, "", environment, *at));
                }
                if observed.environments_capped > 0 {
                    out.push(row(
                        SampleKind::Capped,
                        ENVIRONMENT,
                        "",
                        observed.environments_capped,
                    ));
                }
                for condition in &spec.conditions {
                    let name = condition.name.as_str();
                    let Some(attribute) = observed.attributes.get(name) else {
                        out.push(row(SampleKind::Absent, name, "", observed.last_seen));
                        continue;
                    };
                    if attribute.carried < observed.requests {
                        out.push(row(SampleKind::Absent, name, "", observed.last_seen));
                    }
                    if attribute.capped > 0 {
                        out.push(row(SampleKind::Capped, name, "", attribute.capped));
                    }
                    for (value, at) in &attribute.values {
                        out.push(row(SampleKind::Value, name, value, *at));
                    }
                }
            }
        }
        out
    }

    /// Puts rows back after a failed flush, so that the next flush carries them. Rows are
    /// complete observations (absence already worked out); rows repeated by several failed
    /// flushes are kept once, with the latest sighting. Beyond [`MAX_HELD`] values and
    /// environments, the rest are not kept but their attribute (or the environment) is marked
    /// capped instead: dropping a row would narrow a suggestion below what was used, marking it
    /// only leaves that attribute unrestricted.
    pub fn restore(&self, rows: Vec<UsageSample>) {
        let Ok(mut restored) = self.restored.lock() else {
            return;
        };
        let mut merged: std::collections::BTreeMap<
            (String, String, SampleKind, String, String),
            i64,
        > = std::collections::BTreeMap::new();
        for row in std::mem::take(&mut *restored).into_iter().chain(rows) {
            let seen = merged
                .entry((row.principal, row.permission, row.kind, row.name, row.value))
                .or_insert(row.last_seen);
            *seen = (*seen).max(row.last_seen);
        }
        let mut kept = 0usize;
        let mut capped: Vec<UsageSample> = Vec::new();
        for ((principal, permission, kind, name, value), last_seen) in merged {
            let listed = matches!(kind, SampleKind::Value | SampleKind::Environment);
            if listed && kept >= MAX_HELD {
                let name = match kind {
                    SampleKind::Environment => ENVIRONMENT.to_owned(),
                    _ => name,
                };
                capped.push(UsageSample {
                    principal,
                    permission,
                    kind: SampleKind::Capped,
                    name,
                    value: String::new(),
                    last_seen,
                });
                continue;
            }
            kept += usize::from(listed);
            restored.push(UsageSample {
                principal,
                permission,
                kind,
                name,
                value,
                last_seen,
            });
        }
        capped.sort_by(|a, b| {
            (&a.principal, &a.permission, &a.name, b.last_seen).cmp(&(
                &b.principal,
                &b.permission,
                &b.name,
                a.last_seen,
            ))
        });
        // One mark per attribute, the latest.
        capped.dedup_by(|later, first| {
            (&later.principal, &later.permission, &later.name)
                == (&first.principal, &first.permission, &first.name)
        });
        restored.extend(capped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        warden_engine::builtin::load_catalogue(&[]).unwrap_or_else(|_| Catalogue::default())
    }

    fn record(
        samples: &Samples,
        permission: &str,
        env: Option<&str>,
        at: i64,
        attrs: &[(&str, &[&str])],
    ) {
        samples.record("u1", permission, env, at, |visit| {
            for (name, values) in attrs {
                visit(name, AttributeValues::Borrowed(values));
            }
        });
    }

    fn rows(samples: &Samples) -> Vec<(SampleKind, String, String, i64)> {
        let mut rows: Vec<_> = samples
            .drain(&catalogue())
            .into_iter()
            .map(|s| (s.kind, s.name, s.value, s.last_seen))
            .collect();
        rows.sort();
        rows
    }

    #[test]
    fn values_absence_and_environments_are_kept_for_the_catalogue_attributes() {
        let samples = Samples::default();
        record(
            &samples,
            "storage:buckets:read",
            Some("env-prod"),
            10,
            &[
                ("storage:bucket-name", &["a", "b"]),
                ("storage:bucket-name", &["a"]),
                ("not:in-catalogue", &["x"]),
            ],
        );
        record(
            &samples,
            "storage:buckets:read",
            None,
            20,
            &[("storage:bucket-name", &["a"])],
        );
        record(&samples, "no:such:permission", None, 20, &[]);
        let value =
            |name: &str, v: &str, at| (SampleKind::Value, name.to_owned(), v.to_owned(), at);
        assert_eq!(
            rows(&samples),
            vec![
                value("storage:bucket-name", "a", 20),
                value("storage:bucket-name", "b", 10),
                // Never carried by either request.
                (
                    SampleKind::Absent,
                    "storage:table-name".into(),
                    String::new(),
                    20
                ),
                (SampleKind::Environment, String::new(), String::new(), 20),
                (
                    SampleKind::Environment,
                    String::new(),
                    "env-prod".into(),
                    10
                ),
            ],
            "a name given twice counts once, so the bucket is carried by every request"
        );
        assert!(samples.drain(&catalogue()).is_empty(), "drained");
    }

    #[test]
    fn what_is_not_kept_marks_the_attribute_capped_and_secrets_are_never_kept() {
        let samples = Samples::default();
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        let secret = "wdn_pt_0123abcd_ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        record(
            &samples,
            "storage:buckets:read",
            Some("env-prod"),
            5,
            &[
                ("storage:bucket-name", &[&long, secret, "a\0b"]),
                ("storage:table-name", &[]),
            ],
        );
        let many: Vec<String> = (0..MAX_VALUES + 5).map(|i| format!("t{i}")).collect();
        for (i, table) in many.iter().enumerate() {
            record(
                &samples,
                "storage:buckets:read",
                Some("env-prod"),
                6 + i as i64,
                &[("storage:table-name", &[table.as_str()])],
            );
        }
        let rows = rows(&samples);
        assert!(
            rows.iter()
                .all(|(_, _, v, _)| !v.contains("wdn_") && v.len() <= MAX_VALUE_BYTES)
        );
        let kinds = |name: &str| {
            let mut kinds: Vec<SampleKind> = rows
                .iter()
                .filter(|(kind, n, _, _)| n == name && *kind != SampleKind::Value)
                .map(|(kind, _, _, _)| *kind)
                .collect();
            kinds.dedup();
            kinds
        };
        assert_eq!(
            kinds("storage:bucket-name"),
            vec![SampleKind::Absent, SampleKind::Capped]
        );
        // An empty list is no value: the first request lacked the table.
        assert_eq!(
            kinds("storage:table-name"),
            vec![SampleKind::Absent, SampleKind::Capped]
        );
        let tables = rows
            .iter()
            .filter(|(kind, n, _, _)| *kind == SampleKind::Value && n == "storage:table-name")
            .count();
        assert_eq!(tables, MAX_VALUES);
    }

    #[test]
    fn pairs_are_bounded_and_a_drain_makes_room() {
        let samples = Samples::default();
        for i in 0..MAX_PAIRS + 3 {
            samples.record(&format!("u{i}"), "storage:logs:read", None, 1, |_| {});
        }
        let drained = samples.drain(&catalogue());
        let environments = drained
            .iter()
            .filter(|s| s.kind == SampleKind::Environment)
            .count();
        assert_eq!(environments, MAX_PAIRS);
        // The requests not sampled are not forgotten: their principals are marked.
        let lost: Vec<&str> = drained
            .iter()
            .filter(|s| s.permission == LOST)
            .map(|s| s.principal.as_str())
            .collect();
        assert_eq!(lost.len(), 3);
        samples.record("u1", "storage:logs:read", None, 2, |_| {});
        assert!(!samples.drain(&catalogue()).is_empty());
    }

    #[test]
    fn values_held_over_all_pairs_are_bounded() {
        let samples = Samples::default();
        let names: Vec<String> = (0..MAX_ATTRIBUTES).map(|i| format!("s:a{i}")).collect();
        let values: Vec<String> = (0..MAX_VALUES).map(|i| format!("v{i}")).collect();
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        for pair in 0..40 {
            samples.record(&format!("u{pair}"), "storage:logs:read", None, 1, |visit| {
                for name in &names {
                    visit(name, AttributeValues::Borrowed(&values));
                }
            });
        }
        assert_eq!(samples.held.load(Ordering::Relaxed), MAX_HELD);
        samples.drain(&catalogue());
        assert_eq!(samples.held.load(Ordering::Relaxed), 0);
        assert_eq!(samples.pending.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_failed_flush_keeps_its_rows_once_and_marks_what_does_not_fit() {
        let samples = Samples::default();
        let row = |kind, name: &str, value: &str, at| UsageSample {
            principal: "u1".into(),
            permission: "storage:logs:read".into(),
            kind,
            name: name.into(),
            value: value.into(),
            last_seen: at,
        };
        samples.restore(vec![row(SampleKind::Value, "s:b", "a", 1)]);
        samples.restore(vec![
            row(SampleKind::Value, "s:b", "a", 5),
            row(SampleKind::Absent, "s:h", "", 5),
        ]);
        assert_eq!(
            samples.drain(&catalogue()),
            vec![
                row(SampleKind::Value, "s:b", "a", 5),
                row(SampleKind::Absent, "s:h", "", 5),
            ]
        );
        let many: Vec<UsageSample> = (0..MAX_HELD + 3)
            .map(|i| row(SampleKind::Value, "s:b", &format!("v{i:06}"), i as i64))
            .chain([row(SampleKind::Environment, "", "env-prod", 9)])
            .collect();
        samples.restore(many);
        let back = samples.drain(&catalogue());
        let values = back.iter().filter(|r| r.kind == SampleKind::Value).count();
        assert_eq!(values, MAX_HELD);
        let marks: Vec<(&str, i64)> = back
            .iter()
            .filter(|r| r.kind == SampleKind::Capped)
            .map(|r| (r.name.as_str(), r.last_seen))
            .collect();
        assert_eq!(
            marks,
            vec![(ENVIRONMENT, 9), ("s:b", (MAX_HELD + 2) as i64)]
        );
    }
}
