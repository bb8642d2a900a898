//! OAuth clients: what a client sends to create one, and what it reads back (never a secret's
//! hash; a secret itself only in the answer that creates it).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An OAuth client to create.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub name: String,
    /// uid, email or handle; the caller when absent.
    #[serde(default)]
    pub owner: Option<String>,
    pub scopes: Vec<String>,
}

/// Who a credential belongs to: the uid, and who that is while the principal exists.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PrincipalRef {
    pub uid: String,
    #[serde(flatten)]
    pub known: Option<KnownPrincipal>,
}

/// An existing principal's email, handle, name and kind (`USER` or `SERVICE_USER`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KnownPrincipal {
    pub email: String,
    pub handle: Option<String>,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// One of a client's secrets, without the secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    pub id: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub active: bool,
}

/// An OAuth client as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthClient {
    pub client_id: String,
    pub name: String,
    pub owner: PrincipalRef,
    pub scopes: Vec<String>,
    pub status: String,
    pub secrets: Vec<SecretInfo>,
    pub created_at: String,
    pub created_by: String,
}

/// A client just created, with its first secret, shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedClient {
    #[serde(flatten)]
    pub client: OAuthClient,
    pub client_secret: String,
    pub secret_id: String,
}

/// A secret just added, shown this once.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSecret {
    pub client_id: String,
    pub secret_id: String,
    pub client_secret: String,
    pub created_at: String,
}
