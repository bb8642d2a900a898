//! OAuth client credentials: client ids, client secrets hashed with argon2id, and the limiter
//! that slows down guessing (SPEC §8, RFC 6749 §2.3.1 and §10.10).
//!
//! - A client id is `wdn_client_<32 hex>`: an identifier, not a secret.
//! - A client secret is `wdn_cs_<secret id>_<43 characters>`: 256 random bits. The secret id says
//!   which of the client's secrets is presented, so one check costs one argon2id verification.
//!   Only the argon2id PHC string (default parameters: m = 19456 KiB, t = 2, p = 1, which meet
//!   ASVS 5.0 appendix C) is stored; the secret is shown once.
//! - [`FailureLimiter`]: after [`MAX_FAILURES`] bad secrets for one client id within
//!   [`FAILURE_WINDOW_MS`], every attempt for that id is refused until the window ends — the
//!   right secret too, so that guessing cannot go on. Attempts in flight count against the
//!   budget, so concurrent guesses cannot overrun it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::auth::{random_hex, random_url_safe};
use crate::error::{ApiError, ApiResult};

/// Bad secrets tolerated per client id and window.
pub const MAX_FAILURES: u32 = 5;
/// The window in which bad secrets are counted, from the first one.
pub const FAILURE_WINDOW_MS: i64 = 60_000;
/// Client ids tracked before expired entries are dropped.
const TRACKED: usize = 10_000;

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

/// A new client secret: `(secret id, the secret to show once, its argon2id hash)`.
pub fn new_client_secret() -> ApiResult<(String, String, String)> {
    let id = random_hex(9)?;
    let secret = random_url_safe(32)?;
    let hash = hash_secret(&secret)?;
    Ok((id.clone(), format!("wdn_cs_{id}_{secret}"), hash))
}

fn hash_secret(secret: &str) -> ApiResult<String> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::internal(format!("cannot hash a secret: {e}")))
}

/// Splits `wdn_cs_<secret id>_<secret>` into `(secret id, secret)`.
pub fn parse_client_secret(presented: &str) -> Option<(&str, &str)> {
    let (id, secret) = presented.strip_prefix("wdn_cs_")?.split_once('_')?;
    (!id.is_empty() && id.len() <= 32 && !secret.is_empty() && secret.len() <= 128)
        .then_some((id, secret))
}

/// Checks a secret against a stored argon2id hash (constant time inside argon2). CPU-bound:
/// call it from a blocking task.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash that no secret matches, verified against when the client or secret id is unknown, so
/// that an unknown id takes as long as a wrong secret.
pub fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        random_url_safe(32)
            .and_then(|s| hash_secret(&s))
            .unwrap_or_default()
    })
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

#[derive(Debug, Default, Clone, Copy)]
struct Attempts {
    window_start: i64,
    failures: u32,
    in_flight: u32,
}

/// Counts bad client secrets per client id (in memory, per server).
#[derive(Debug, Default)]
pub struct FailureLimiter {
    entries: Mutex<HashMap<String, Attempts>>,
}

/// A refused attempt: retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: u64,
}

impl FailureLimiter {
    /// Starts an attempt for `client_id`, or refuses it while the client's budget is spent.
    pub fn begin(&self, client_id: &str, now: i64) -> Result<(), Throttled> {
        let Ok(mut entries) = self.entries.lock() else {
            return Err(Throttled { retry_after: 1 });
        };
        let entry = entries.entry(client_id.to_owned()).or_default();
        if entry.failures > 0 && now >= entry.window_start + FAILURE_WINDOW_MS {
            entry.failures = 0;
        }
        if entry.failures >= MAX_FAILURES {
            let left = entry.window_start + FAILURE_WINDOW_MS - now;
            let retry_after = u64::try_from(left.max(1)).unwrap_or(1).div_ceil(1000);
            return Err(Throttled { retry_after });
        }
        if entry.failures + entry.in_flight >= MAX_FAILURES {
            return Err(Throttled { retry_after: 1 });
        }
        entry.in_flight += 1;
        Ok(())
    }

    /// Ends an attempt begun with [`FailureLimiter::begin`]; a failure counts in the window.
    pub fn finish(&self, client_id: &str, succeeded: bool, now: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if let Some(entry) = entries.get_mut(client_id) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
            if !succeeded {
                if entry.failures == 0 {
                    entry.window_start = now;
                }
                entry.failures += 1;
            }
            if entry.failures == 0 && entry.in_flight == 0 {
                entries.remove(client_id);
            }
        }
        if entries.len() > TRACKED {
            entries.retain(|_, e| e.in_flight > 0 || now < e.window_start + FAILURE_WINDOW_MS);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_parse_back_and_verify() {
        let (id, secret, hash) = new_client_secret().unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        let (parsed_id, raw) = parse_client_secret(&secret).unwrap();
        assert_eq!(parsed_id, id);
        assert_eq!(raw.len(), 43);
        assert!(verify_secret(raw, &hash));
        assert!(!verify_secret("wrong", &hash));
        assert!(!verify_secret(raw, decoy_hash()));
        assert!(!verify_secret(raw, "not a hash"));
        assert_eq!(parse_client_secret("wdn_cs_"), None);
        assert!(is_client_id(&new_client_id().unwrap()));
        assert!(!is_client_id("wdn_client_xyz"));
    }

    #[test]
    fn redaction_keeps_kind_and_id_and_drops_the_random_part() {
        let (_, secret, _) = new_client_secret().unwrap();
        let (id, _) = parse_client_secret(&secret).unwrap();
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

    #[test]
    fn five_failures_close_the_window_until_it_ends() {
        let limiter = FailureLimiter::default();
        for i in 0..5 {
            limiter.begin("c", 1_000 + i).unwrap();
            limiter.finish("c", false, 1_000 + i);
        }
        assert_eq!(
            limiter.begin("c", 2_000),
            Err(Throttled { retry_after: 59 })
        );
        assert_eq!(limiter.begin("other", 2_000), Ok(()));
        assert!(limiter.begin("c", 61_000).is_ok(), "the window ended");
    }

    #[test]
    fn attempts_in_flight_count_against_the_budget() {
        let limiter = FailureLimiter::default();
        for _ in 0..5 {
            limiter.begin("c", 0).unwrap();
        }
        assert_eq!(limiter.begin("c", 0), Err(Throttled { retry_after: 1 }));
        limiter.finish("c", true, 0);
        assert!(limiter.begin("c", 0).is_ok());
    }
}
