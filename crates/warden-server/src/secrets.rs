//! OAuth client credentials: client ids, client secrets hashed with argon2id, and the redaction
//! of anything shaped like a credential (SPEC §8, RFC 6749 §2.3.1 and §10.10).
//!
//! - A client id is `wdn_client_<32 hex>`: an identifier, not a secret.
//! - A client secret is `wdn_cs_<secret id>_<43 characters>`: 256 random bits. The secret id says
//!   which of the client's secrets is presented, so one check costs one argon2id verification.
//!   Only the argon2id PHC string (default parameters: m = 19456 KiB, t = 2, p = 1, which meet
//!   ASVS 5.0 appendix C) is stored; the secret is shown once. Hashing and checking run in the
//!   bounded pool of [`crate::hashing`].
//! - Bad secrets are limited per source, not per client id ([`client_failures`]): after
//!   [`MAX_FAILURES`] within [`FAILURE_WINDOW_MS`], every attempt from that source is refused
//!   until the window ends — the right secret too, so that guessing cannot go on.

use std::borrow::Cow;

use crate::auth::{random_hex, random_url_safe};
use crate::error::ApiResult;
use crate::hashing::Hashing;
use crate::throttle::SourceLimiter;

/// Bad client secrets tolerated per source and window. Secrets have 256 random bits, so the
/// limit is about cost (each check is an argon2id computation), not guessing; 20 a minute is the
/// reliability checklist's figure and leaves room for a few clients behind one address.
pub const MAX_FAILURES: u32 = 20;
/// The window in which bad secrets are counted, from the first one.
pub const FAILURE_WINDOW_MS: i64 = 60_000;
/// Sources tracked at most; beyond, the oldest are forgotten.
pub const TRACKED_SOURCES: usize = 10_000;

/// The limiter of bad client secrets.
pub fn client_failures() -> SourceLimiter {
    SourceLimiter::new(MAX_FAILURES, FAILURE_WINDOW_MS, TRACKED_SOURCES)
}

const CLIENT_PREFIX: &str = "wdn_client_";

/// A new client id.
pub fn new_client_id() -> ApiResult<String> {
    Ok(format!("{CLIENT_PREFIX}{}", random_hex(16)?))
}

/// Whether `id` has the shape of a client id (anything else cannot exist).
pub fn is_client_id(id: &str) -> bool {
    id.strip_prefix(CLIENT_PREFIX)
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A new client secret: `(secret id, the secret to show once, its argon2id hash)`; 503 when the
/// hashing pool is full.
pub async fn new_client_secret(hashing: &Hashing) -> ApiResult<(String, String, String)> {
    let id = random_hex(9)?;
    let secret = random_url_safe(32)?;
    let hash = hashing.hash(secret.clone()).await?;
    Ok((id.clone(), format!("wdn_cs_{id}_{secret}"), hash))
}

/// Splits `wdn_cs_<secret id>_<secret>` into `(secret id, secret)`.
pub fn parse_client_secret(presented: &str) -> Option<(&str, &str)> {
    let (id, secret) = presented.strip_prefix("wdn_cs_")?.split_once('_')?;
    (!id.is_empty() && id.len() <= 32 && !secret.is_empty() && secret.len() <= 128)
        .then_some((id, secret))
}

/// A hash with the parameters of real ones, verified against when the client, secret id or
/// email is unknown, so that an unknown id takes as long as a wrong secret (the check runs in the
/// pool like any other). Its salt and output are random bytes of no secret: nothing is known to
/// match it, and a match would be refused anyway, having no client or user.
pub fn decoy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$Ka5r7iZFOQzbWJvz1imKtw$FmXsBN/15n2gyhI17ioUTSZgdraBsx8a9mfGSy2w2cI"
}

/// Replaces the random part of anything shaped like a Warden secret or token
/// (`wdn_<kind>_<hex id>_<random>`) with `…`, keeping kind and id: an error that quotes its input
/// never repeats a credential sent in the wrong place.
pub fn redact(text: &str) -> Cow<'_, str> {
    // Not `contains`: every decision's principal comes here, and for short texts a substring
    // search costs more to set up than a plain scan.
    if !text.as_bytes().windows(4).any(|window| window == b"wdn_") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("wdn_") {
        let (before, from) = rest.split_at(at);
        out.push_str(before);
        let after = from.get(4..).unwrap_or_default();
        match secret_shape(after) {
            Some((kept, consumed)) => {
                out.push_str("wdn_");
                out.push_str(kept);
                out.push('…');
                rest = after.get(consumed..).unwrap_or_default();
            }
            None => {
                out.push_str("wdn_");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Whether `text` holds something shaped like a Warden secret or token.
pub fn holds_secret(text: &str) -> bool {
    matches!(redact(text), Cow::Owned(ref redacted) if redacted != text)
}

/// For `<kind>_<hex id>_<random of 16 or more>…`: the `<kind>_<id>_` to keep and the length of
/// the whole match.
fn secret_shape(text: &str) -> Option<(&str, usize)> {
    let kind = text.bytes().take_while(u8::is_ascii_lowercase).count();
    let rest = text.get(kind..)?.strip_prefix('_')?;
    let id = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
    let rest = rest.get(id..)?.strip_prefix('_')?;
    let random = rest
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
        .count();
    (kind > 0 && id > 0 && random >= 16).then(|| {
        (
            text.get(..kind + id + 2).unwrap_or_default(),
            kind + id + 2 + random,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn secrets_parse_back_and_verify() {
        let hashing = Hashing::start(crate::hashing::HashingConfig::default());
        let (id, secret, hash) = new_client_secret(&hashing).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let (parsed_id, raw) = parse_client_secret(&secret).unwrap();
        assert_eq!(parsed_id, id);
        assert_eq!(raw.len(), 43);
        let verify = |secret: &str, hash: &str| hashing.verify(secret.into(), hash.into());
        assert_eq!(verify(raw, &hash).await, Ok(true));
        assert_eq!(verify("wrong", &hash).await, Ok(false));
        assert_eq!(verify(raw, decoy_hash()).await, Ok(false));
        assert_eq!(verify(raw, "not a hash").await, Ok(false));
        assert!(argon2::password_hash::phc::PasswordHash::new(decoy_hash()).is_ok());
        assert_eq!(parse_client_secret("wdn_cs_"), None);
        assert!(is_client_id(&new_client_id().unwrap()));
        assert!(!is_client_id("wdn_client_xyz"));
    }

    #[test]
    fn redaction_keeps_kind_and_id_and_drops_the_random_part() {
        let id = "0123456789abcdef01";
        let secret = format!("wdn_cs_{id}_{}", random_url_safe(32).unwrap());
        let text = format!("scope `{secret}` is unknown; `wdn_client_00ff` and `wdn_` stay");
        assert_eq!(
            redact(&text),
            format!("scope `wdn_cs_{id}_…` is unknown; `wdn_client_00ff` and `wdn_` stay")
        );
        assert_eq!(redact("nothing here"), "nothing here");
        assert_eq!(redact("wdn_pt_ab_short"), "wdn_pt_ab_short");
        assert!(holds_secret(&secret));
        assert!(!holds_secret("wdn_team@example.com") && !holds_secret("wdn_client_00ff"));
    }
}
