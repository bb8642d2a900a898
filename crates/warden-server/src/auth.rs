//! Authentication: bearer tokens, and the request context every handler gets.
//!
//! Tokens look like `wdn_<kind>_<id>_<secret>`: the id finds the stored record, the secret is
//! checked against its keyed hash (HMAC-SHA256 with the store's token key) in constant time. Only
//! the hash is stored; the full token is shown once, when it is made. Every failure to
//! authenticate gives the same answer, so that nothing tells a guess apart from a revoked token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::records::TokenBody;
use crate::service::{Authed, Caller};
use crate::state::AppState;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// `n` random bytes from the operating system's generator.
pub fn random_bytes(n: usize) -> ApiResult<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::internal(format!("no randomness available: {e}")))?;
    Ok(bytes)
}

/// `n` random bytes, hex-encoded.
pub fn random_hex(n: usize) -> ApiResult<String> {
    Ok(random_bytes(n)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// `n` random bytes, base64url without padding.
pub fn random_url_safe(n: usize) -> ApiResult<String> {
    Ok(url_safe(&random_bytes(n)?))
}

fn url_safe(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The keyed hash of a token secret, hex-encoded.
pub fn secret_hash(key: &[u8], secret: &str) -> String {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return String::new();
    };
    mac.update(secret.as_bytes());
    let digest = mac.finalize().into_bytes();
    // Hex by hand: this runs on every request, and a `format!` per byte cost more than the MAC.
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest.iter() {
        hex.extend(char::from_digit(u32::from(byte >> 4), 16));
        hex.extend(char::from_digit(u32::from(byte & 0x0f), 16));
    }
    hex
}

/// A new token: `(id, the full token to show once, the hash to store)`. 256 random bits.
pub fn new_token(kind: &str, key: &[u8]) -> ApiResult<(String, String, String)> {
    let id: String = random_bytes(9)?
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let secret = url_safe(&random_bytes(32)?);
    let hash = secret_hash(key, &secret);
    Ok((id.clone(), format!("wdn_{kind}_{id}_{secret}"), hash))
}

/// Splits `wdn_<kind>_<id>_<secret>` into `(id, secret)`.
pub fn parse_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix("wdn_")?;
    let (_kind, rest) = rest.split_once('_')?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// The `<kind>` of `wdn_<kind>_…`.
fn token_kind(token: &str) -> Option<&str> {
    Some(token.strip_prefix("wdn_")?.split_once('_')?.0)
}

/// The prefix kind of the tokens of a stored kind (`platform` → `pt`, `oauth` → `at`).
fn kind_prefix(kind: &str) -> Option<&'static str> {
    match kind {
        "platform" => Some("pt"),
        "oauth" => Some("at"),
        _ => None,
    }
}

pub fn request_id(headers: &HeaderMap) -> String {
    crate::access_log::request_id(headers.get(crate::access_log::REQUEST_ID))
}

/// Why a presented token is not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Malformed, unknown, revoked, or a wrong secret: indistinguishable on purpose.
    Invalid,
    /// Disabled (`INACTIVE`).
    Inactive,
    Expired,
    /// The owner is deactivated (or gone).
    OwnerDeactivated,
}

impl TokenProblem {
    /// The API error for a request authenticated with such a token.
    pub fn error(self) -> ApiError {
        match self {
            TokenProblem::Invalid => {
                ApiError::unauthenticated("invalid token").with_details(serde_json::json!({
                    "help": "send `Authorization: Bearer wdn_…` with a token issued by Warden"
                }))
            }
            TokenProblem::Inactive => ApiError::unauthenticated("the token is inactive"),
            TokenProblem::Expired => ApiError::new(ErrorCode::Forbidden, "the token has expired")
                .with_details(serde_json::json!({ "reason": "expired" })),
            TokenProblem::OwnerDeactivated => {
                ApiError::unauthenticated("the token's owner is deactivated")
            }
        }
    }
}

impl AppState {
    /// Finds the token's record and checks its secret (keyed hash, compared in constant time),
    /// status, expiry and owner, and records the use of a service user's credential
    /// ([`crate::last_use`]). Runs on every request: no IO, and no lock but that record's shard.
    pub fn check_token(
        &self,
        token: &str,
    ) -> Result<(Caller, std::sync::Arc<TokenBody>), TokenProblem> {
        let (id, secret) = parse_token(token).ok_or(TokenProblem::Invalid)?;
        let tokens = self.tokens.load();
        let record = tokens.get(id).cloned().ok_or(TokenProblem::Invalid)?;
        let presented = secret_hash(&self.token_key, secret);
        if !bool::from(presented.as_bytes().ct_eq(record.secret_hash.as_bytes())) {
            return Err(TokenProblem::Invalid);
        }
        // The whole text is the credential: the right secret under another kind's prefix is a
        // near miss like any other.
        if token_kind(token) != kind_prefix(&record.kind) {
            return Err(TokenProblem::Invalid);
        }
        if record.status != "ACTIVE" {
            return Err(TokenProblem::Inactive);
        }
        if record.expires_at.is_some_and(|at| at <= self.now_ms()) {
            return Err(TokenProblem::Expired);
        }
        let snapshot = self.snapshot();
        match snapshot.directory().principal(&record.owner_uid) {
            Some(owner) if owner.active => {
                if owner.kind == warden_engine::PrincipalKind::ServiceUser {
                    self.last_use.record(&record.owner_uid, self.now_ms());
                }
            }
            Some(_) => return Err(TokenProblem::OwnerDeactivated),
            None => return Err(TokenProblem::Invalid),
        }
        let caller = Caller {
            uid: record.owner_uid.clone(),
            token_id: record.id.clone(),
            scopes: record.scope_limit(),
        };
        Ok((caller, record))
    }

    /// [`AppState::check_token`] with the API's errors.
    pub fn authenticate(&self, token: &str) -> ApiResult<(Caller, std::sync::Arc<TokenBody>)> {
        self.check_token(token).map_err(|problem| {
            let reason = match problem {
                TokenProblem::Invalid => 0,
                TokenProblem::Inactive => 1,
                TokenProblem::Expired => 2,
                TokenProblem::OwnerDeactivated => 3,
            };
            self.metrics.token_refused(reason);
            problem.error()
        })
    }
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::unauthenticated("missing bearer token").with_details(
                    serde_json::json!({ "help": "send `Authorization: Bearer wdn_…`" }),
                )
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| {
                ApiError::unauthenticated("the Authorization header must be `Bearer <token>`")
            })?;
        let (caller, _) = state.authenticate(token.trim())?;
        if let Some(slot) = parts.extensions.get::<crate::access_log::CallerSlot>() {
            slot.record(&caller.uid);
        }
        Ok(Authed::principal(
            caller,
            request_id(&parts.headers),
            state.now_ms(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hashes_are_the_lower_case_hex_of_the_mac() {
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"secret");
        let expected: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(secret_hash(b"key", "secret"), expected);
    }

    #[test]
    fn tokens_have_256_random_bits_and_parse_back() {
        let key = b"key";
        let (id, token, hash) = new_token("pt", key).unwrap();
        let (parsed_id, secret) = parse_token(&token).unwrap();
        assert_eq!(parsed_id, id);
        assert_eq!(secret.len(), 43, "32 bytes, base64url without padding");
        assert_eq!(secret_hash(key, secret), hash);
        assert_ne!(secret_hash(b"other key", secret), hash);
        assert_eq!(parse_token("wdn_pt_abc"), None);
        assert_eq!(parse_token("Bearer x"), None);
        let (_, other, _) = new_token("pt", key).unwrap();
        assert_ne!(token, other);
    }
}
