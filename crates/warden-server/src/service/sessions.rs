//! Console sessions, kept in the store so that every replica honours the same ones: opening a
//! session at sign-in, finding it at each request, ending it, its one-time message, and which
//! writes end sessions.
//!
//! - A session id is 256 bits from the operating system's generator. Only its SHA-256 is stored
//!   ([`key_of`]); the id travels in the cookie alone. The session's CSRF token is derived from
//!   the id ([`csrf_of`]), so the store holds nothing a forged request could use.
//! - Every console request reads its session from the store: a sign-out or revocation on one
//!   replica is refused by every other one at its next request, with no replication delay.
//! - A session ends after [`IDLE_MS`] without a request, [`ABSOLUTE_MS`] after sign-in in any
//!   case, at sign-out, and as soon as its credential no longer holds. The last-seen time is
//!   written at most once per [`TOUCH_MS`], outside the audit log; the idle check reads it from
//!   the store at each request, so a request served by another replica counts.
//! - A principal has at most [`MAX_SESSIONS_PER_USER`] sessions: signing in once more ends its
//!   oldest one, on every replica. There is no global cap, so that nobody's sign-ins can end
//!   anybody else's sessions.
//! - A write that deactivates or deletes a principal, changes or removes its password, or
//!   disables, revokes or deletes a token also ends the sessions that signed in with it, in the
//!   same transaction ([`ended_by`]): the rows are marked revoked, so that the person's next
//!   request, on any replica, is told why. The check at each request stays as a second line.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warden_store::{Op, SessionRow};

use crate::auth::random_url_safe;
use crate::model::Model;
use crate::records::{PrincipalBody, TokenBody};
use crate::service::Scopes;
use crate::service::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Sessions end after this long without a request.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// Sessions end this long after sign-in in any case.
pub const ABSOLUTE_MS: i64 = 12 * 60 * 60 * 1000;
/// Sessions of one principal kept at most; beyond, its oldest is ended. People sign in from a
/// few browsers and devices; ten is plenty.
pub const MAX_SESSIONS_PER_USER: usize = 10;
/// The last-seen time is written at most this often per session: a busy console costs one small
/// update a minute, and a session may end up to this much earlier than [`IDLE_MS`] after its
/// last request (never later).
pub const TOUCH_MS: i64 = 60 * 1000;

/// What a session signed in with, checked again at every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A platform or access token, by id.
    Token { id: String },
    /// A password, by a digest of the stored hash it matched.
    Password { fingerprint: String },
}

impl Credential {
    /// The stored form, which [`Op::EndSessions`] matches.
    pub fn stored(&self) -> String {
        match self {
            Credential::Token { id } => format!("token:{id}"),
            Credential::Password { fingerprint } => format!("password:{fingerprint}"),
        }
    }

    fn parse(stored: &str) -> Option<Credential> {
        match stored.split_once(':')? {
            ("token", id) => Some(Credential::Token { id: id.to_owned() }),
            ("password", fingerprint) => Some(Credential::Password {
                fingerprint: fingerprint.to_owned(),
            }),
            _ => None,
        }
    }

    /// The credential of a password, by its stored hash.
    pub fn password(hash: &str) -> Credential {
        Credential::Password {
            fingerprint: key_of(hash),
        }
    }
}

/// A message shown once on the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `ok`, `warn` or `bad`.
    pub tone: &'static str,
    pub message: String,
}

impl Flash {
    pub fn ok(message: impl Into<String>) -> Self {
        Flash {
            tone: "ok",
            message: message.into(),
        }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        Flash {
            tone: "bad",
            message: message.into(),
        }
    }

    pub fn warn(message: impl Into<String>) -> Self {
        Flash {
            tone: "warn",
            message: message.into(),
        }
    }
}

/// A flash message as stored.
#[derive(Debug, Serialize, Deserialize)]
struct StoredFlash {
    tone: String,
    message: String,
}

fn flash_to_json(flash: &Flash) -> ApiResult<String> {
    serde_json::to_string(&StoredFlash {
        tone: flash.tone.to_owned(),
        message: flash.message.clone(),
    })
    .map_err(|e| ApiError::internal(format!("cannot store a console message: {e}")))
}

/// A stored message; one that cannot be read is dropped (it is only a message).
fn flash_from_json(text: &str) -> Option<Flash> {
    let stored: StoredFlash = serde_json::from_str(text).ok()?;
    let tone = match stored.tone.as_str() {
        "ok" => "ok",
        "warn" => "warn",
        _ => "bad",
    };
    Some(Flash {
        tone,
        message: stored.message,
    })
}

/// A live session, as read from the store.
#[derive(Debug, Clone)]
pub struct Session {
    /// Its store key ([`key_of`] of the id).
    pub key: String,
    pub uid: String,
    pub credential: Credential,
    pub scopes: Scopes,
    pub created_ms: i64,
    pub seen_ms: i64,
    /// The message waiting for its next page.
    pub flash: Option<Flash>,
}

/// Why a session cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// No cookie, or an unknown id (never issued, signed out, or ended elsewhere).
    None,
    Idle,
    Expired,
    /// The credential it signed in with no longer holds.
    Revoked,
}

impl Ended {
    /// The `ended` query value of the sign-in page.
    pub fn code(self) -> &'static str {
        match self {
            Ended::None => "",
            Ended::Idle => "idle",
            Ended::Expired => "expired",
            Ended::Revoked => "revoked",
        }
    }
}

/// The store key of a session id: its SHA-256, in hex.
pub fn key_of(id: &str) -> String {
    hex(&Sha256::digest(id.as_bytes()))
}

/// The CSRF token of a session id: a hash of the id under another label than [`key_of`], so
/// that it cannot be computed from the stored key.
pub fn csrf_of(id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"warden console csrf\0");
    hasher.update(id.as_bytes());
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn scopes_to_json(scopes: &Scopes) -> ApiResult<String> {
    serde_json::to_string(&scopes.limit())
        .map_err(|e| ApiError::internal(format!("cannot store a session's scopes: {e}")))
}

fn scopes_from_json(text: &str) -> Option<Scopes> {
    let limit: Option<Vec<String>> = serde_json::from_str(text).ok()?;
    Some(limit.map_or(Scopes::All, Scopes::Only))
}

fn unavailable(error: &warden_store::StoreError) -> ApiError {
    tracing::warn!(%error, "console sessions: the store is unavailable");
    ApiError::unavailable(
        "the store is unavailable, so the console cannot check your session; try again in a moment",
        5,
    )
}

impl AppState {
    /// Opens a session for `uid` signed in with `credential`; returns its id (for the cookie
    /// only). Ends the principal's oldest session beyond [`MAX_SESSIONS_PER_USER`].
    pub async fn open_session(
        &self,
        uid: &str,
        credential: &Credential,
        scopes: &Scopes,
        now: i64,
    ) -> ApiResult<String> {
        let id = random_url_safe(32)?;
        let row = SessionRow {
            key: key_of(&id),
            uid: uid.to_owned(),
            credential: credential.stored(),
            scopes: scopes_to_json(scopes)?,
            created_at: now,
            expires_at: now.saturating_add(ABSOLUTE_MS),
            last_seen: now,
            flash: None,
            revoked: false,
        };
        let ended = self
            .store
            .open_session(
                &row,
                now,
                now.saturating_sub(IDLE_MS),
                MAX_SESSIONS_PER_USER,
            )
            .await
            .map_err(|e| unavailable(&e))?;
        if ended > 0 {
            tracing::info!(
                uid,
                ended,
                "console sign-in ended the principal's oldest sessions"
            );
        }
        Ok(id)
    }

    /// The live session of an id, or why there is none. A session found ended is removed from
    /// the store; one used after [`TOUCH_MS`] gets its last-seen time written.
    pub async fn find_session(&self, id: &str, now: i64) -> ApiResult<Result<Session, Ended>> {
        let key = key_of(id);
        let Some(row) = self
            .store
            .session(&key)
            .await
            .map_err(|e| unavailable(&e))?
        else {
            return Ok(Err(Ended::None));
        };
        let parsed = Credential::parse(&row.credential).zip(scopes_from_json(&row.scopes));
        let ended = match &parsed {
            _ if row.revoked => Some(Ended::Revoked),
            None => Some(Ended::Revoked),
            Some(_) if now >= row.expires_at => Some(Ended::Expired),
            Some(_) if now.saturating_sub(row.last_seen) >= IDLE_MS => Some(Ended::Idle),
            Some((credential, _)) if !self.holds_caught_up(&row.uid, credential, now).await? => {
                Some(Ended::Revoked)
            }
            Some(_) => None,
        };
        let (Some((credential, scopes)), None) = (parsed, ended) else {
            self.store
                .end_session(&key)
                .await
                .map_err(|e| unavailable(&e))?;
            return Ok(Err(ended.unwrap_or(Ended::Revoked)));
        };
        if now.saturating_sub(row.last_seen) >= TOUCH_MS
            && let Err(error) = self.store.touch_session(&key, now).await
        {
            // The request is served; the session may only end up to a minute early.
            tracing::warn!(%error, "console session: last-seen time not written");
        }
        Ok(Ok(Session {
            key,
            uid: row.uid,
            credential,
            scopes,
            created_ms: row.created_at,
            seen_ms: row.last_seen,
            flash: row.flash.as_deref().and_then(flash_from_json),
        }))
    }

    /// Ends a session (sign-out), on every replica.
    pub async fn end_session(&self, key: &str) -> ApiResult<()> {
        self.store
            .end_session(key)
            .await
            .map(|_| ())
            .map_err(|e| unavailable(&e))
    }

    /// Sets (or clears) the message a session shows on its next page.
    pub async fn save_flash(&self, key: &str, flash: Option<&Flash>) -> ApiResult<()> {
        let text = flash.map(flash_to_json).transpose()?;
        self.store
            .set_session_flash(key, text.as_deref())
            .await
            .map_err(|e| unavailable(&e))
    }

    /// Whether a session's credential holds. When this replica's view says no, it may only be
    /// behind (a token or password made on another replica a moment ago): it catches up with
    /// the store and asks again before the session is ended.
    async fn holds_caught_up(
        &self,
        uid: &str,
        credential: &Credential,
        now: i64,
    ) -> ApiResult<bool> {
        if self.credential_holds(uid, credential, now).await {
            return Ok(true);
        }
        if let Err(error) = self.catch_up().await {
            tracing::warn!(%error, "console sessions: cannot catch up with the store");
            return Err(ApiError::unavailable(
                "the store is unavailable, so the console cannot check your session; try again in a moment",
                5,
            ));
        }
        Ok(self.credential_holds(uid, credential, now).await)
    }

    /// Whether the credential a session signed in with still holds, on this replica's view of
    /// the directory.
    async fn credential_holds(&self, uid: &str, credential: &Credential, now: i64) -> bool {
        let active = self
            .snapshot()
            .directory()
            .principal(uid)
            .is_some_and(|p| p.active);
        if !active {
            return false;
        }
        match credential {
            Credential::Token { id } => self.tokens.load().get(id).is_some_and(|t| {
                t.owner_uid == uid && t.status == "ACTIVE" && t.expires_at.is_none_or(|at| at > now)
            }),
            Credential::Password { fingerprint } => {
                let model = self.model.lock().await;
                model
                    .principals
                    .get(uid)
                    .and_then(|p| p.password_hash.as_deref())
                    .is_some_and(|hash| key_of(hash) == *fingerprint)
            }
        }
    }
}

/// The [`Op::EndSessions`] a write's operations call for, against the model before the write:
/// a principal deactivated (all its sessions), its password changed or removed (those signed in
/// with the old one), a token disabled, revoked or deleted (those signed in with it). Deleting a
/// principal removes its sessions in the store by itself.
pub fn ended_by(model: &Model, ops: &[Op]) -> Vec<Op> {
    let mut ended = Vec::new();
    let mut end = |uid: &str, credential: Option<Credential>| {
        let op = Op::EndSessions {
            uid: uid.to_owned(),
            credential: credential.as_ref().map(Credential::stored),
        };
        if !ended.contains(&op) {
            ended.push(op);
        }
    };
    for op in ops {
        match op {
            Op::PutPrincipal { uid, body, .. } => {
                let Some(before) = model.principals.get(uid) else {
                    continue;
                };
                // A body that cannot be read ends every session of its principal: never keep
                // access on a doubt.
                let after: Option<PrincipalBody> = serde_json::from_str(body).ok();
                match after {
                    Some(after) if after.active() => {
                        if let Some(old) = before.password_hash.as_deref()
                            && after.password_hash.as_deref() != Some(old)
                        {
                            end(uid, Some(Credential::password(old)));
                        }
                    }
                    _ => end(uid, None),
                }
            }
            Op::PutToken { id, owner, body } => {
                let after: Option<TokenBody> = serde_json::from_str(body).ok();
                if after.is_none_or(|t| t.status != "ACTIVE") {
                    end(owner, Some(Credential::Token { id: id.clone() }));
                }
            }
            Op::DeleteToken { id } => {
                if let Some(token) = model.tokens.get(id) {
                    end(&token.owner_uid, Some(Credential::Token { id: id.clone() }));
                }
            }
            _ => {}
        }
    }
    ended
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keys_and_csrf_tokens_are_distinct_hashes() {
        let id = "the-session-id";
        let key = key_of(id);
        let csrf = csrf_of(id);
        assert_eq!(
            key,
            "6ca2977e6c85dd3435fd7b3141d0613fc66e4985f288e02940903d4af39005ea"
        );
        assert_eq!(
            csrf,
            "21589ff4a1dfe3b52e959e721ea3adfcc10d305281eafea00d0287b72fda7bc3"
        );
        assert_ne!(csrf, key_of(&key), "not derivable from the stored key");
    }

    #[test]
    fn stored_forms_read_back_and_unknown_ones_do_not() {
        for credential in [
            Credential::Token { id: "tok-1".into() },
            Credential::password("$argon2id$v=19$..."),
        ] {
            assert_eq!(Credential::parse(&credential.stored()), Some(credential));
        }
        assert_eq!(Credential::parse("cookie:x"), None);
        assert_eq!(Credential::parse("token"), None);
        assert_eq!(scopes_from_json("null"), Some(Scopes::All));
        assert_eq!(
            scopes_from_json("[\"iam:groups:read\"]"),
            Some(Scopes::Only(vec!["iam:groups:read".into()]))
        );
        assert_eq!(scopes_from_json("{}"), None);
        let flash = Flash::warn("<b>careful</b>");
        assert_eq!(
            flash_from_json(&flash_to_json(&flash).unwrap()),
            Some(flash)
        );
        assert_eq!(
            flash_from_json("{\"tone\":\"evil\",\"message\":\"m\"}"),
            Some(Flash::bad("m")),
            "an unknown tone shows as an alert"
        );
    }
}
