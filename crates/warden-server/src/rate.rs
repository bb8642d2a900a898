//! Request rates per source on the endpoints that answer without a token — the OAuth token,
//! introspection and revocation endpoints and the console's sign-in form — where a flood costs
//! argon2id checks and a caller cannot be told apart by who they are. Each source (an IPv4
//! address, an IPv6 /64; [`Source`]) has a token bucket: `burst` requests at once, refilled at
//! `per_second`; beyond, `429` with `Retry-After`. Other sources are unaffected.
//!
//! The map of buckets is bounded: when it is full, buckets that have refilled are dropped (they
//! hold nothing a new bucket would not), and if it is still full the request is let through
//! untracked — a full map never refuses anyone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::oauth::OAuthError;
use crate::console::session::refusal;
use crate::state::AppState;
use crate::throttle::Source;

/// Buckets tracked at most.
pub const TRACKED_SOURCES: usize = 10_000;

/// The limit's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateConfig {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for RateConfig {
    /// 50 at once, 10 a second after: a client fetches a token every few minutes and a person
    /// signs in now and then, so even a few hundred of either behind one address stay under it,
    /// while a flood from one source is cut to what argon2 checks can bear without delaying
    /// anyone else.
    fn default() -> Self {
        RateConfig {
            per_second: 10,
            burst: 50,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests left, in thousandths.
    milli: u64,
    at_ms: i64,
}

#[derive(Debug)]
pub struct SourceRate {
    config: RateConfig,
    buckets: Mutex<HashMap<Source, Bucket>>,
    refused: AtomicU64,
}

impl SourceRate {
    pub fn new(config: RateConfig) -> SourceRate {
        SourceRate {
            config: RateConfig {
                per_second: config.per_second.max(1),
                burst: config.burst.max(1),
            },
            buckets: Mutex::new(HashMap::new()),
            refused: AtomicU64::new(0),
        }
    }

    fn full(&self) -> u64 {
        u64::from(self.config.burst) * 1000
    }

    fn refill(&self, bucket: Bucket, now: i64) -> u64 {
        let elapsed = u64::try_from(now.saturating_sub(bucket.at_ms)).unwrap_or(0);
        let added = elapsed.saturating_mul(u64::from(self.config.per_second));
        bucket.milli.saturating_add(added).min(self.full())
    }

    /// Takes one request from `source`'s bucket, or says in how many seconds one is available.
    pub fn take(&self, source: Source, now: i64) -> Result<(), u64> {
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !buckets.contains_key(&source) && buckets.len() >= TRACKED_SOURCES {
            let full = self.full();
            buckets.retain(|_, bucket| self.refill(*bucket, now) < full);
            if buckets.len() >= TRACKED_SOURCES {
                return Ok(());
            }
        }
        let bucket = buckets.entry(source).or_insert(Bucket {
            milli: self.full(),
            at_ms: now,
        });
        let milli = self.refill(*bucket, now);
        if milli < 1000 {
            self.refused.fetch_add(1, Ordering::Relaxed);
            let missing = 1000 - milli;
            let per_ms = u64::from(self.config.per_second);
            return Err(missing.div_ceil(per_ms).div_ceil(1000).max(1));
        }
        *bucket = Bucket {
            milli: milli - 1000,
            at_ms: now,
        };
        Ok(())
    }

    /// Requests refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// The routes that answer without a token and cost enough to be limited per source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limited {
    OAuth,
    SignIn,
}

fn limited(method: &Method, route: &str) -> Option<Limited> {
    match route {
        "/sso/oauth2/token" | "/sso/oauth2/introspect" | "/sso/oauth2/revoke" => {
            Some(Limited::OAuth)
        }
        "/console/sign-in" if method == Method::POST => Some(Limited::SignIn),
        _ => None,
    }
}

/// The layer: limits [`limited`] routes per source. The refusal speaks each endpoint's own
/// language: OAuth's `slow_down` to OAuth clients, a page to a person signing in.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let Some(kind) = route.and_then(|route| limited(request.method(), route)) else {
        return next.run(request).await;
    };
    let source = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(Source::local, |ConnectInfo(address)| {
            Source::of(address.ip())
        });
    let Err(seconds) = state.unauthenticated_rate.take(source, state.now_ms()) else {
        return next.run(request).await;
    };
    let message =
        format!("too many requests from your address to this endpoint; retry in {seconds} s");
    let mut response = match kind {
        Limited::OAuth => OAuthError::slow_down(message, seconds).into_response(),
        Limited::SignIn => refusal(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many requests from your address. Retry in {seconds} s."),
        ),
    };
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn source(last: u8) -> Source {
        Source::of(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)))
    }

    #[test]
    fn a_burst_then_the_rate_and_other_sources_untouched() {
        let rate = SourceRate::new(RateConfig {
            per_second: 2,
            burst: 3,
        });
        for _ in 0..3 {
            assert_eq!(rate.take(source(1), 0), Ok(()));
        }
        assert_eq!(rate.take(source(1), 0), Err(1));
        assert_eq!(rate.take(source(2), 0), Ok(()));
        // Half a second later one request has come back (2 a second).
        assert_eq!(rate.take(source(1), 499), Err(1));
        assert_eq!(rate.take(source(1), 500), Ok(()));
        assert_eq!(rate.take(source(1), 500), Err(1));
        assert_eq!(rate.refused(), 3);
    }

    #[test]
    fn a_full_map_forgets_refilled_buckets_and_never_refuses_for_being_full() {
        let rate = SourceRate::new(RateConfig {
            per_second: 1,
            burst: 1,
        });
        for n in 0..TRACKED_SOURCES {
            let ip = IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap() + 1));
            assert_eq!(rate.take(Source::of(ip), 0), Ok(()));
        }
        // Full, nothing refilled: a new source passes untracked.
        assert_eq!(rate.take(source(250), 0), Ok(()));
        assert_eq!(rate.take(source(250), 0), Ok(()));
        // A second later every bucket has refilled and is dropped to make room.
        assert_eq!(rate.take(source(250), 1_000), Ok(()));
        assert_eq!(rate.take(source(250), 1_000), Err(1));
    }
}
