//! The records the server persists, as JSON bodies in the store, and their key columns. A body
//! holds everything the API shows about an object; the engine's directory is derived from bodies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warden_engine::{Level, ParamValue, PrincipalKind};
use warden_store::Op;

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentBody {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

impl EnvironmentBody {
    pub fn op(&self) -> Op {
        Op::PutEnvironment {
            id: self.id.clone(),
            body: to_json(self),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyBody {
    pub uuid: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub category: Option<String>,
    pub level_type: String,
    pub level_id: String,
    pub statement_query: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl PolicyBody {
    pub fn op(&self) -> Op {
        Op::PutPolicy {
            uuid: self.uuid.clone(),
            level_type: self.level_type.clone(),
            level_id: self.level_id.clone(),
            name_folded: fold(&self.name),
            body: to_json(self),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupBody {
    pub uuid: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub federated_attribute_values: Vec<String>,
    /// `LOCAL` for groups made here; `SERVICE_USER` for a service user's own group.
    pub owner: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl GroupBody {
    pub fn op(&self) -> Op {
        Op::PutGroup {
            uuid: self.uuid.clone(),
            name_folded: fold(&self.name),
            body: to_json(self),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deactivation {
    pub reason: String,
    pub at: i64,
    pub by: String,
}

/// Who is accountable for a service user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerRef {
    /// `USER` or `GROUP`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrincipalBody {
    pub uid: String,
    pub kind: PrincipalKind,
    pub email: String,
    #[serde(default)]
    pub handle: Option<String>,
    pub name: String,
    #[serde(default)]
    pub surname: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner: Option<OwnerRef>,
    #[serde(default)]
    pub purpose: String,
    /// A service user's own group, for direct permission assignment.
    #[serde(default)]
    pub group_uuid: Option<String>,
    #[serde(default)]
    pub deactivation: Option<Deactivation>,
    pub created_at: i64,
    pub created_by: String,
    #[serde(default)]
    pub last_reviewed_at: Option<i64>,
    #[serde(default)]
    pub last_used_at: Option<i64>,
    /// argon2id PHC string; users only.
    #[serde(default)]
    pub password_hash: Option<String>,
}

impl PrincipalBody {
    pub fn op(&self) -> Op {
        // Service users never sign in: whatever a caller set, no password is stored for one.
        let body = if self.kind == PrincipalKind::ServiceUser && self.password_hash.is_some() {
            to_json(&PrincipalBody {
                password_hash: None,
                ..self.clone()
            })
        } else {
            to_json(self)
        };
        Op::PutPrincipal {
            uid: self.uid.clone(),
            email: self.email.clone(),
            handle: self.handle.clone(),
            body,
        }
    }

    pub fn active(&self) -> bool {
        self.deactivation.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoundaryBody {
    pub uuid: String,
    pub name: String,
    pub boundary_query: String,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl BoundaryBody {
    pub fn op(&self) -> Op {
        Op::PutBoundary {
            uuid: self.uuid.clone(),
            name_folded: fold(&self.name),
            body: to_json(self),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingBody {
    pub level_type: String,
    pub level_id: String,
    pub policy_uuid: String,
    pub group_uuid: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamValue>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub boundaries: Vec<String>,
    pub created_at: i64,
}

impl BindingBody {
    /// A binding's identity is (level, policy, group, parameters, metadata); its key is a digest
    /// of that, so that arbitrarily long parameter values still make a short key.
    pub fn key(&self) -> String {
        let identity = serde_json::json!([
            self.level_type,
            self.level_id,
            self.policy_uuid,
            self.group_uuid,
            self.parameters,
            self.metadata
        ]);
        Sha256::digest(identity.to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub fn op(&self) -> Op {
        Op::PutBinding {
            key: self.key(),
            group: self.group_uuid.clone(),
            policy: self.policy_uuid.clone(),
            body: to_json(self),
        }
    }

    pub fn level(&self) -> Level {
        level_of(&self.level_type, &self.level_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenBody {
    pub id: String,
    /// `platform` (long-lived, named) or `oauth` (short-lived access token).
    pub kind: String,
    pub owner_uid: String,
    pub name: String,
    /// Keyed hash of the secret part.
    pub secret_hash: String,
    /// Permissions the token may use (∩ its owner's); see [`TokenBody::scope_limit`].
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Whether the token may use everything its owner holds. Only the administrator tokens of
    /// the first start and of `warden admin recover` are; no API call makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unrestricted: Option<bool>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    #[serde(default)]
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    #[serde(default)]
    pub last_used_at: Option<i64>,
    /// The OAuth client an access token was issued to.
    #[serde(default)]
    pub client_id: Option<String>,
}

impl TokenBody {
    /// What the token may use. An empty list is no permission at all; only a token marked
    /// `unrestricted` uses everything its owner holds. A store written before that mark existed
    /// has one token with no scopes meaning "everything": the first start's administrator token
    /// (`createdBy` = `bootstrap`), which keeps that meaning.
    pub fn scope_limit(&self) -> crate::service::Scopes {
        let legacy_administrator =
            self.unrestricted.is_none() && self.scopes.is_empty() && self.created_by == "bootstrap";
        if self.unrestricted == Some(true) || legacy_administrator {
            crate::service::Scopes::All
        } else {
            crate::service::Scopes::Only(self.scopes.clone())
        }
    }

    pub fn op(&self) -> Op {
        Op::PutToken {
            id: self.id.clone(),
            owner: self.owner_uid.clone(),
            body: to_json(self),
        }
    }
}

/// One secret of an OAuth client: argon2id hash only; the secret is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientSecret {
    pub id: String,
    pub hash: String,
    pub created_at: i64,
    #[serde(default)]
    pub revoked_at: Option<i64>,
}

/// An OAuth2 client (client credentials grant), owned by a user or a service user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthClientBody {
    pub client_id: String,
    pub name: String,
    pub owner_uid: String,
    /// Permission names the client's tokens may use (∩ the owner's permissions at each use).
    pub scopes: Vec<String>,
    pub secrets: Vec<ClientSecret>,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub created_at: i64,
    pub created_by: String,
}

impl OAuthClientBody {
    pub fn op(&self) -> Op {
        Op::PutOAuthClient {
            client_id: self.client_id.clone(),
            owner: self.owner_uid.clone(),
            body: to_json(self),
        }
    }
}

/// A workflow's authorisation record (SPEC §9): owner, visibility and actor. The automation
/// engine keeps the workflow itself; Warden keeps who may see, change and run it, and as whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowBody {
    pub id: String,
    pub title: String,
    pub environment: String,
    /// `USER` or `GROUP`.
    pub owner_type: String,
    /// A user uid or a group uuid.
    pub owner: String,
    pub is_private: bool,
    /// The uid of the user or service user its tasks run as.
    pub actor: String,
    /// `SIMPLE` or `STANDARD` (the `automation:workflow-type` condition).
    pub workflow_type: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

impl WorkflowBody {
    pub fn op(&self) -> Op {
        Op::PutWorkflow {
            id: self.id.clone(),
            actor: self.actor.clone(),
            body: to_json(self),
        }
    }
}

/// What a user consented to the automation engine using as them, in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentBody {
    pub uid: String,
    pub environment: String,
    pub permissions: Vec<String>,
    pub updated_at: i64,
}

impl ConsentBody {
    pub fn op(&self) -> Op {
        Op::PutConsent {
            uid: self.uid.clone(),
            environment: self.environment.clone(),
            body: to_json(self),
        }
    }
}

/// Names are unique case-insensitively.
pub fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

pub fn level_of(level_type: &str, level_id: &str) -> Level {
    match level_type {
        "global" => Level::Global,
        "environment" => Level::Environment(level_id.into()),
        _ => Level::Account,
    }
}

pub fn json<T: Serialize>(value: &T) -> String {
    to_json(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_user_is_never_stored_with_a_password() {
        let body = PrincipalBody {
            uid: "u".into(),
            kind: PrincipalKind::ServiceUser,
            email: "u@service.warden.local".into(),
            handle: Some("bot@service".into()),
            name: "Bot".into(),
            surname: String::new(),
            description: String::new(),
            owner: None,
            purpose: String::new(),
            group_uuid: None,
            deactivation: None,
            created_at: 0,
            created_by: "test".into(),
            last_reviewed_at: None,
            last_used_at: None,
            password_hash: Some("$argon2id$…".into()),
        };
        let Op::PutPrincipal { body: stored, .. } = body.op() else {
            panic!("not a principal write");
        };
        let stored: PrincipalBody = serde_json::from_str(&stored).unwrap();
        assert_eq!(stored.password_hash, None);
    }
}
