//! Usage samples: for each principal and permission, what its allowed requests carried — a
//! bounded set of values per attribute, the attributes some request lacked, the attributes whose
//! values were not all kept, and the environments (the empty name: account level) — each with the
//! time it was last seen. Least-privilege suggestions are built from them.
//!
//! Like the usage counters these are telemetry, not directory data: written in the background in
//! one transaction per flush, outside the revision and the audit log. The store keeps at most
//! `cap` values per (principal, permission, attribute): a value beyond it is not stored, and the
//! attribute is marked [`SampleKind::Capped`] instead, so that a reader knows the list is not
//! the whole story. Rows not seen within the retention are removed on each flush.

use std::collections::HashMap;

use sqlx::Row;

use crate::{Store, StoreError};

/// What one sample row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SampleKind {
    /// `name` carried `value`.
    Value,
    /// A request lacked `name` (or gave it an empty list); `value` is empty.
    Absent,
    /// Values of `name` were seen that are not stored (over the cap, too long, or shaped like a
    /// secret); `value` is empty.
    Capped,
    /// A request in environment `value` (empty: at account level); `name` is empty.
    Environment,
}

impl SampleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SampleKind::Value => "value",
            SampleKind::Absent => "absent",
            SampleKind::Capped => "capped",
            SampleKind::Environment => "environment",
        }
    }

    fn parse(text: &str) -> Result<SampleKind, StoreError> {
        match text {
            "value" => Ok(SampleKind::Value),
            "absent" => Ok(SampleKind::Absent),
            "capped" => Ok(SampleKind::Capped),
            "environment" => Ok(SampleKind::Environment),
            other => Err(StoreError::Corrupt(format!(
                "usage sample of unknown kind `{other}`"
            ))),
        }
    }
}

/// One observation of a principal's use of a permission.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsageSample {
    pub principal: String,
    pub permission: String,
    pub kind: SampleKind,
    /// The attribute (empty for an environment).
    pub name: String,
    /// The value or environment id (empty for absent and capped).
    pub value: String,
    /// Milliseconds since the epoch.
    pub last_seen: i64,
}

const UPSERT: &str = "INSERT INTO usage_samples (principal, permission, kind, name, value, last_seen) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (principal, permission, kind, name, value) DO UPDATE SET \
     last_seen = CASE WHEN excluded.last_seen > usage_samples.last_seen THEN excluded.last_seen \
     ELSE usage_samples.last_seen END";

impl Store {
    /// Adds samples in one transaction, keeping at most `cap` values per (principal, permission,
    /// attribute), and removes the rows last seen before `keep_from` (the retention).
    pub async fn add_samples(
        &self,
        samples: &[UsageSample],
        cap: i64,
        keep_from: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM usage_samples WHERE last_seen < $1")
            .bind(keep_from)
            .execute(&mut *tx)
            .await?;
        // Values held per (principal, permission, attribute), read once per flush.
        let mut held: HashMap<(&str, &str, &str), i64> = HashMap::new();
        for sample in samples {
            let mut kind = sample.kind;
            let mut value = sample.value.as_str();
            if kind == SampleKind::Value {
                // A value already kept (the usual case) is one statement.
                let seen = sqlx::query(
                    "UPDATE usage_samples SET last_seen = CASE WHEN $5 > last_seen THEN $5 \
                     ELSE last_seen END WHERE principal = $1 AND permission = $2 AND kind = 'value' \
                     AND name = $3 AND value = $4",
                )
                .bind(&sample.principal)
                .bind(&sample.permission)
                .bind(&sample.name)
                .bind(value)
                .bind(sample.last_seen)
                .execute(&mut *tx)
                .await?;
                if seen.rows_affected() > 0 {
                    continue;
                }
                let key = (
                    sample.principal.as_str(),
                    sample.permission.as_str(),
                    sample.name.as_str(),
                );
                let count = match held.get(&key) {
                    Some(count) => *count,
                    None => {
                        sqlx::query_scalar(
                            "SELECT COUNT(*) FROM usage_samples WHERE principal = $1 \
                             AND permission = $2 AND kind = 'value' AND name = $3",
                        )
                        .bind(&sample.principal)
                        .bind(&sample.permission)
                        .bind(&sample.name)
                        .fetch_one(&mut *tx)
                        .await?
                    }
                };
                if count >= cap {
                    kind = SampleKind::Capped;
                    value = "";
                }
                held.insert(key, count + i64::from(kind == SampleKind::Value));
            }
            sqlx::query(UPSERT)
                .bind(&sample.principal)
                .bind(&sample.permission)
                .bind(kind.as_str())
                .bind(&sample.name)
                .bind(value)
                .bind(sample.last_seen)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The samples of one principal last seen at or after `since`, ordered by permission, kind,
    /// name and value.
    pub async fn samples(
        &self,
        principal: &str,
        since: i64,
    ) -> Result<Vec<UsageSample>, StoreError> {
        let rows = sqlx::query(
            "SELECT principal, permission, kind, name, value, last_seen FROM usage_samples \
             WHERE principal = $1 AND last_seen >= $2 ORDER BY permission, kind, name, value",
        )
        .bind(principal)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let kind: String = row.try_get(2)?;
            out.push(UsageSample {
                principal: row.try_get(0)?,
                permission: row.try_get(1)?,
                kind: SampleKind::parse(&kind)?,
                name: row.try_get(3)?,
                value: row.try_get(4)?,
                last_seen: row.try_get(5)?,
            });
        }
        // The database's collation orders `kind` as text; the callers want the enum's order.
        out.sort_by(|a, b| {
            (&a.permission, a.kind, &a.name, &a.value).cmp(&(
                &b.permission,
                b.kind,
                &b.name,
                &b.value,
            ))
        });
        Ok(out)
    }
}
