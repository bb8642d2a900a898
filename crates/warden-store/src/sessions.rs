//! Console sessions: one row per signed-in browser, in the store so that every replica honours
//! the same sessions.
//!
//! A session is found by the SHA-256 of its id (the server computes it; the id itself never
//! reaches the store). Sessions are not directory data: opening, touching and ending one bumps no
//! revision and appends nothing to the audit log (the server records sign-ins and sign-outs there
//! itself), so a sign-in never makes another replica's write stale. Ending the sessions whose
//! credential stopped holding is [`Op::EndSessions`](crate::Op), part of the write that changed
//! the credential.

use sqlx::{Executor, Row};

use crate::{Backend, Store, StoreError};

/// One stored session. The server gives the columns their meaning; the store only keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// The SHA-256 of the session id, in hex.
    pub key: String,
    pub uid: String,
    /// What the session signed in with (matched by [`Op::EndSessions`](crate::Op)).
    pub credential: String,
    /// The scopes it acts with, as JSON.
    pub scopes: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    pub expires_at: i64,
    /// The last request, written at most once a minute (see [`Store::touch_session`]).
    pub last_seen: i64,
    /// A message for the next page, as JSON.
    pub flash: Option<String>,
    /// Ended by a write that took its credential away ([`Op::EndSessions`](crate::Op)).
    pub revoked: bool,
}

/// Serialises session openings on PostgreSQL, so that a principal's cap holds even when it signs
/// in on two replicas at once (SQLite serialises writers anyway).
const OPEN_LOCK: i64 = 7_412_002;

impl Store {
    /// Stores a new session. In the same transaction it first removes every expired (or revoked)
    /// session (`expires_at <= now`), the principal's idle ones (last seen at or before `idle_before`)
    /// and then its oldest ones until fewer than `cap` remain, so that the new one makes `cap`.
    /// Returns how many of the principal's live sessions were ended to make room.
    pub async fn open_session(
        &self,
        row: &SessionRow,
        now: i64,
        idle_before: i64,
        cap: usize,
    ) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            tx.execute(sqlx::AssertSqlSafe(format!(
                "SELECT pg_advisory_xact_lock({OPEN_LOCK})"
            )))
            .await?;
        }
        // A write first: SQLite takes its write lock here, before anything is read.
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM console_sessions WHERE uid = $1 AND last_seen <= $2")
            .bind(&row.uid)
            .bind(idle_before)
            .execute(&mut *tx)
            .await?;
        let theirs: Vec<String> = sqlx::query_scalar(
            "SELECT session_key FROM console_sessions WHERE uid = $1 \
             ORDER BY created_at DESC, session_key DESC",
        )
        .bind(&row.uid)
        .fetch_all(&mut *tx)
        .await?;
        let keep = cap.saturating_sub(1);
        let mut ended = 0;
        for key in theirs.iter().skip(keep) {
            sqlx::query("DELETE FROM console_sessions WHERE session_key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await?;
            ended += 1;
        }
        sqlx::query(
            "INSERT INTO console_sessions (session_key, uid, credential, scopes, created_at, \
             expires_at, last_seen, flash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&row.key)
        .bind(&row.uid)
        .bind(&row.credential)
        .bind(&row.scopes)
        .bind(row.created_at)
        .bind(row.expires_at)
        .bind(row.last_seen)
        .bind(row.flash.clone())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// The session stored under `key`, as the store holds it now.
    pub async fn session(&self, key: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT session_key, uid, credential, scopes, created_at, expires_at, last_seen, flash, revoked \
             FROM console_sessions WHERE session_key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_row).transpose()
    }

    /// The sessions of a principal, oldest first.
    pub async fn sessions_of(&self, uid: &str) -> Result<Vec<SessionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT session_key, uid, credential, scopes, created_at, expires_at, last_seen, flash, revoked \
             FROM console_sessions WHERE uid = $1 ORDER BY created_at, session_key",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_row).collect()
    }

    /// Records a request of the session at `now`, unless a later one was recorded already (the
    /// server calls it at most once a minute per session).
    pub async fn touch_session(&self, key: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE console_sessions SET last_seen = $1 WHERE session_key = $2 AND last_seen < $1",
        )
        .bind(now)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends a session; whether it existed.
    pub async fn end_session(&self, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE session_key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets (or, with `None`, clears) the message a session shows on its next page.
    pub async fn set_session_flash(
        &self,
        key: &str,
        flash: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE console_sessions SET flash = $1 WHERE session_key = $2")
            .bind(flash.map(str::to_owned))
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

fn session_row(row: &sqlx::any::AnyRow) -> Result<SessionRow, StoreError> {
    Ok(SessionRow {
        key: row.try_get(0)?,
        uid: row.try_get(1)?,
        credential: row.try_get(2)?,
        scopes: row.try_get(3)?,
        created_at: row.try_get(4)?,
        expires_at: row.try_get(5)?,
        last_seen: row.try_get(6)?,
        flash: row.try_get(7)?,
        revoked: row.try_get::<i64, _>(8)? != 0,
    })
}
