//! The operations a write can carry, and the SQL each runs inside the write's transaction.
//! Deleting a group, principal or policy also deletes what hangs off it (memberships, bindings,
//! tokens, console sessions), so that no dangling row survives.

use sqlx::{Any, Transaction};

use crate::StoreError;

/// Serialisable, so that every write's operations can be kept in the change log and replayed by
/// other replicas.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum Op {
    PutMeta {
        key: String,
        value: String,
    },
    PutEnvironment {
        id: String,
        body: String,
    },
    PutPrincipal {
        uid: String,
        email: String,
        handle: Option<String>,
        body: String,
    },
    DeletePrincipal {
        uid: String,
    },
    SetMemberships {
        uid: String,
        groups: Vec<String>,
    },
    AddMembership {
        uid: String,
        group: String,
    },
    RemoveMembership {
        uid: String,
        group: String,
    },
    PutGroup {
        uuid: String,
        name_folded: String,
        body: String,
    },
    DeleteGroup {
        uuid: String,
    },
    PutPolicy {
        uuid: String,
        level_type: String,
        level_id: String,
        name_folded: String,
        body: String,
    },
    DeletePolicy {
        uuid: String,
    },
    PutBoundary {
        uuid: String,
        name_folded: String,
        body: String,
    },
    DeleteBoundary {
        uuid: String,
    },
    PutBinding {
        key: String,
        group: String,
        policy: String,
        body: String,
    },
    DeleteBinding {
        key: String,
    },
    PutToken {
        id: String,
        owner: String,
        body: String,
    },
    DeleteToken {
        id: String,
    },
    PutCustomService {
        name: String,
        body: String,
    },
    PutOAuthClient {
        client_id: String,
        owner: String,
        body: String,
    },
    DeleteOAuthClient {
        client_id: String,
    },
    PutWorkflow {
        id: String,
        actor: String,
        body: String,
    },
    DeleteWorkflow {
        id: String,
    },
    PutConsent {
        uid: String,
        environment: String,
        body: String,
    },
    /// Ends console sessions of `uid`: all of them, or (with `credential`) those signed in with
    /// that credential. Part of the write that made the credential stop holding (a deactivation,
    /// a changed password, a revoked token), so every replica refuses them from its commit on.
    EndSessions {
        uid: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        credential: Option<String>,
    },
}

type Tx<'c> = Transaction<'c, Any>;

/// Ended sessions are marked, not removed: the next request of one is told that its credential
/// changed (rather than shown a bare sign-in page), and the mark's expiry lets the next
/// sign-in's sweep remove it.
const END_SESSIONS: &str =
    "UPDATE console_sessions SET revoked = 1, expires_at = created_at WHERE uid = $1";
const END_CREDENTIAL_SESSIONS: &str = "UPDATE console_sessions SET revoked = 1, expires_at = created_at \
     WHERE uid = $1 AND credential = $2";

async fn run(tx: &mut Tx<'_>, sql: &'static str, args: &[&str]) -> Result<(), StoreError> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = query.bind(*arg);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

pub(crate) async fn put_meta(tx: &mut Tx<'_>, key: &str, value: &str) -> Result<(), StoreError> {
    run(tx, "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", &[key, value])
        .await
}

impl Op {
    pub(crate) async fn apply(&self, tx: &mut Tx<'_>) -> Result<(), StoreError> {
        match self {
            Op::PutMeta { key, value } => put_meta(tx, key, value).await,
            Op::PutEnvironment { id, body } => {
                run(tx, "INSERT INTO environments (id, body) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET body = excluded.body", &[id, body])
                    .await
            }
            Op::PutPrincipal { uid, email, handle, body } => {
                let mut query = sqlx::query(
                    "INSERT INTO principals (uid, email, handle, body) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (uid) DO UPDATE SET email = excluded.email, handle = excluded.handle, body = excluded.body",
                )
                .bind(uid.as_str())
                .bind(email.as_str());
                query = query.bind(handle.clone());
                query.bind(body.as_str()).execute(&mut **tx).await?;
                Ok(())
            }
            Op::DeletePrincipal { uid } => {
                run(tx, "DELETE FROM memberships WHERE uid = $1", &[uid]).await?;
                run(tx, "DELETE FROM tokens WHERE owner_uid = $1", &[uid]).await?;
                run(tx, "DELETE FROM oauth_clients WHERE owner_uid = $1", &[uid]).await?;
                run(tx, "DELETE FROM usage_counters WHERE principal = $1", &[uid]).await?;
                run(tx, "DELETE FROM last_used WHERE principal = $1", &[uid]).await?;
                run(tx, "DELETE FROM consents WHERE uid = $1", &[uid]).await?;
                run(tx, END_SESSIONS, &[uid]).await?;
                run(tx, "DELETE FROM principals WHERE uid = $1", &[uid]).await
            }
            Op::SetMemberships { uid, groups } => {
                run(tx, "DELETE FROM memberships WHERE uid = $1", &[uid]).await?;
                for group in groups {
                    run(tx, "INSERT INTO memberships (uid, group_uuid) VALUES ($1, $2)", &[uid, group]).await?;
                }
                Ok(())
            }
            Op::AddMembership { uid, group } => {
                run(
                    tx,
                    "INSERT INTO memberships (uid, group_uuid) VALUES ($1, $2) ON CONFLICT (uid, group_uuid) DO NOTHING",
                    &[uid, group],
                )
                .await
            }
            Op::RemoveMembership { uid, group } => {
                run(tx, "DELETE FROM memberships WHERE uid = $1 AND group_uuid = $2", &[uid, group]).await
            }
            Op::PutGroup { uuid, name_folded, body } => {
                run(
                    tx,
                    "INSERT INTO user_groups (uuid, name_folded, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (uuid) DO UPDATE SET name_folded = excluded.name_folded, body = excluded.body",
                    &[uuid, name_folded, body],
                )
                .await
            }
            Op::DeleteGroup { uuid } => {
                run(tx, "DELETE FROM memberships WHERE group_uuid = $1", &[uuid]).await?;
                run(tx, "DELETE FROM bindings WHERE group_uuid = $1", &[uuid]).await?;
                run(tx, "DELETE FROM user_groups WHERE uuid = $1", &[uuid]).await
            }
            Op::PutPolicy { uuid, level_type, level_id, name_folded, body } => {
                run(
                    tx,
                    "INSERT INTO policies (uuid, level_type, level_id, name_folded, body) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (uuid) DO UPDATE SET level_type = excluded.level_type, level_id = excluded.level_id, \
                     name_folded = excluded.name_folded, body = excluded.body",
                    &[uuid, level_type, level_id, name_folded, body],
                )
                .await
            }
            Op::DeletePolicy { uuid } => {
                run(tx, "DELETE FROM bindings WHERE policy_uuid = $1", &[uuid]).await?;
                run(tx, "DELETE FROM policies WHERE uuid = $1", &[uuid]).await
            }
            Op::PutBoundary { uuid, name_folded, body } => {
                run(
                    tx,
                    "INSERT INTO boundaries (uuid, name_folded, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (uuid) DO UPDATE SET name_folded = excluded.name_folded, body = excluded.body",
                    &[uuid, name_folded, body],
                )
                .await
            }
            Op::DeleteBoundary { uuid } => run(tx, "DELETE FROM boundaries WHERE uuid = $1", &[uuid]).await,
            Op::PutBinding { key, group, policy, body } => {
                run(
                    tx,
                    "INSERT INTO bindings (binding_key, group_uuid, policy_uuid, body) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (binding_key) DO UPDATE SET body = excluded.body",
                    &[key, group, policy, body],
                )
                .await
            }
            Op::DeleteBinding { key } => run(tx, "DELETE FROM bindings WHERE binding_key = $1", &[key]).await,
            Op::PutToken { id, owner, body } => {
                run(
                    tx,
                    "INSERT INTO tokens (id, owner_uid, body) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
                    &[id, owner, body],
                )
                .await
            }
            Op::DeleteToken { id } => run(tx, "DELETE FROM tokens WHERE id = $1", &[id]).await,
            Op::PutOAuthClient { client_id, owner, body } => {
                run(
                    tx,
                    "INSERT INTO oauth_clients (client_id, owner_uid, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (client_id) DO UPDATE SET body = excluded.body",
                    &[client_id, owner, body],
                )
                .await
            }
            Op::DeleteOAuthClient { client_id } => {
                run(tx, "DELETE FROM oauth_clients WHERE client_id = $1", &[client_id]).await
            }
            Op::PutWorkflow { id, actor, body } => {
                run(
                    tx,
                    "INSERT INTO workflows (id, actor_uid, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET actor_uid = excluded.actor_uid, body = excluded.body",
                    &[id, actor, body],
                )
                .await
            }
            Op::DeleteWorkflow { id } => run(tx, "DELETE FROM workflows WHERE id = $1", &[id]).await,
            Op::PutConsent { uid, environment, body } => {
                run(
                    tx,
                    "INSERT INTO consents (uid, environment, body) VALUES ($1, $2, $3) \
                     ON CONFLICT (uid, environment) DO UPDATE SET body = excluded.body",
                    &[uid, environment, body],
                )
                .await
            }
            Op::EndSessions { uid, credential: None } => run(tx, END_SESSIONS, &[uid]).await,
            Op::EndSessions { uid, credential: Some(credential) } => {
                run(tx, END_CREDENTIAL_SESSIONS, &[uid, credential]).await
            }
            Op::PutCustomService { name, body } => {
                run(
                    tx,
                    "INSERT INTO custom_services (name, body) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET body = excluded.body",
                    &[name, body],
                )
                .await
            }
        }
    }
}
