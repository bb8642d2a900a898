//! The OAuth2 endpoints on the wire: `POST /sso/oauth2/token` (client credentials, RFC 6749
//! §4.4), `/revoke` (RFC 7009) and `/introspect` (RFC 7662). Requests are form-encoded
//! (`application/x-www-form-urlencoded`, each parameter at most once, unknown ones ignored as
//! RFC 6749 §3.2 asks); answers are JSON, errors in the OAuth shape (RFC 6749 §5.2), never the
//! API's own.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The client's credentials as form parameters, instead of HTTP Basic (one or the other).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClientCredentials {
    /// The client's id (`dt0s02.…`).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client's secret; every Warden client is confidential.
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// `POST /sso/oauth2/token`: an access token for the client's owner, within the client's scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `client_credentials`, the only grant.
    #[schema(example = "client_credentials")]
    pub grant_type: Option<String>,
    /// Space-separated: some of the client's scopes, or Dynatrace's coarse scopes
    /// (`account-idm-read`, …) standing for those they map to; all of the client's when absent.
    #[serde(default)]
    pub scope: Option<String>,
    /// Dynatrace's `urn:dtaccount:<uuid>`: the account the token is for (this one).
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(flatten)]
    pub client: ClientCredentials,
}

/// `POST /sso/oauth2/revoke`: the token to revoke (one issued to the authenticating client).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevokeForm {
    pub token: Option<String>,
    /// Accepted and ignored (RFC 7009 §2.1): the token says what it is.
    #[serde(default)]
    pub token_type_hint: Option<String>,
    #[serde(flatten)]
    pub client: ClientCredentials,
}

/// `POST /sso/oauth2/introspect`: the token to look at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IntrospectForm {
    pub token: Option<String>,
    /// Accepted and ignored (RFC 7662 §2.1).
    #[serde(default)]
    pub token_type_hint: Option<String>,
    #[serde(flatten)]
    pub client: ClientCredentials,
}

/// An access token (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// `wdn_at_…`; a reference token, shown this once.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// The account it is for (`urn:dtaccount:<uuid>`).
    pub resource: String,
}

/// What a token is (RFC 7662 §2.2); only `{"active": false}` for anything not valid.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub struct Introspection {
    pub active: bool,
    /// The owner's uid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The owner's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Issued at, in seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Expires at, in seconds since the epoch; absent for a token that does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// `Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The token's scopes, space-separated; absent for a token without a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client it was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_target`, `invalid_token`,
    /// `insufficient_scope`, `slow_down`, `temporarily_unavailable` or `server_error`.
    #[schema(example = "invalid_client")]
    pub error: String,
    /// For people: what was wrong and what to do.
    pub error_description: String,
}
