//! Answering decisions (SPEC §10): one, or a batch of up to [`MAX_BATCH`] from one snapshot,
//! with `explain` for the reasons and `minRevision` for read-your-writes. The API's decision
//! endpoints and the console's access simulator both ask here.
//!
//! A caller may always ask about itself; asking about another principal needs
//! `iam:effective-permissions:read` for that user (`iam-param:entity-type = "user"`,
//! `iam-param:entity-id` = the principal as given). Instead of a principal, a request may give a
//! `token`: the decision is then for its owner within its scopes — how a platform service asks
//! "may the holder of this token do X". A permission the catalogue does not know is the caller's
//! mistake, not a DENY to act on: a 400 naming the closest one (in a batch, that request's slot).
//!
//! Decisions are the hot path: requests arrive with their text borrowed from the body
//! ([`DecisionInput`]); a batch looks each distinct principal up once, checks once whether its
//! caller may ask about anyone, and counts usage and metrics once. Each answer runs in a
//! `decision` span, whose fields are borrowed or numbers (nothing is allocated for it).

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use serde_json::Value;
use tracing::Instrument;
use warden_api::decisions::{BatchResponse, BatchResult, DecisionResponse};
use warden_engine::{Level, Outcome, Principal, Reason, Request, Snapshot};
use warden_policy::temporal::parse_date_time;

use crate::auth::TokenProblem;
use crate::limits::MAX_BATCH;
use crate::service::decision_input::{BatchInput, DecisionInput};
use crate::service::guard::attributes;
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

/// How long a decision waits for the snapshot to reach `minRevision`.
const REVISION_WAIT: Duration = Duration::from_secs(1);

impl AppState {
    /// The current snapshot once it is at least `min_revision`, or 503 after a bounded wait;
    /// also 503 when the store has been unreachable for longer than the staleness bound. The flag
    /// says whether the answer comes from a snapshot that may be stale.
    pub async fn snapshot_at_least(
        &self,
        min_revision: Option<i64>,
    ) -> ApiResult<(std::sync::Arc<Snapshot>, bool)> {
        let stale = self.freshness()? == crate::replication::Freshness::Stale;
        let Some(min) = min_revision else {
            return Ok((self.snapshot(), stale));
        };
        let min = revision(min)?;
        let deadline = tokio::time::Instant::now() + REVISION_WAIT;
        let mut asked = false;
        loop {
            let snapshot = self.snapshot();
            if snapshot.revision >= min {
                return Ok((snapshot, stale));
            }
            if !asked {
                // Do not wait for the next notification or poll: look now. Having caught up,
                // this replica is at the store's revision: one the store has not reached was
                // never answered by a write, and waiting would not bring it.
                asked = true;
                if let Ok(store) = self.catch_up().await
                    && store < min
                {
                    return Err(ApiError::invalid(format!(
                        "`minRevision` {min} is ahead of the store (at revision {store}); use the `revision` a write answered with, or leave it out"
                    )));
                }
                continue;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::unavailable(
                    format!(
                        "this server has not yet reached revision {min} (it is at {}); retry shortly",
                        snapshot.revision
                    ),
                    1,
                ));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// A `minRevision` as a revision: 0 or more.
pub fn revision(min_revision: i64) -> ApiResult<u64> {
    u64::try_from(min_revision).map_err(|_| {
        ApiError::invalid(format!(
            "`minRevision` is a store revision (0 or more), not `{min_revision}`; leave it out to decide on the current snapshot"
        ))
    })
}

/// The refusal of a permission the catalogue does not know, naming the closest one it knows:
/// a misspelt permission is the caller's mistake, not a DENY to act on.
pub(crate) fn unknown_permission(snapshot: &Snapshot, permission: &str) -> Option<ApiError> {
    let catalogue = snapshot.catalogue();
    if catalogue.permission(permission).is_some() {
        return None;
    }
    let suggestion = catalogue.suggest_permission(permission);
    let hint = match suggestion {
        Some(near) => format!("did you mean `{near}`?"),
        None => "`GET /iam/v1/catalogue` lists the permissions".to_owned(),
    };
    Some(
        ApiError::invalid(format!("unknown permission `{permission}`; {hint}")).with_details(
            serde_json::json!({ "permission": permission, "suggestion": suggestion }),
        ),
    )
}

/// The decisions of one HTTP request, and what they share: the caller, the snapshot, the
/// principals already looked up, and the usage and metrics, counted once at the end.
struct Decider<'a> {
    state: &'a AppState,
    authed: &'a Authed,
    snapshot: &'a Snapshot,
    explain: bool,
    /// The caller may ask about anyone ([`may_ask_about_anyone`]), checked once for a batch.
    trusted: bool,
    /// For a batch: each distinct principal as given, and what it resolved to.
    found: Option<FxHashMap<&'a str, Option<&'a Arc<Principal>>>>,
    /// `(principal uid, permission, allowed)` of each decision, for [`crate::usage::Usage`].
    used: Vec<(&'a str, &'a str, bool)>,
    /// A question about the principal, not its use (a search, the simulator): neither counted
    /// as use nor sampled, so that exploring never widens a least-privilege suggestion.
    probe: bool,
    allowed: u64,
    denied: u64,
}

impl<'a> Decider<'a> {
    fn new(
        state: &'a AppState,
        authed: &'a Authed,
        snapshot: &'a Snapshot,
        explain: bool,
        trusted: bool,
        decisions: usize,
    ) -> Self {
        Decider {
            state,
            authed,
            snapshot,
            explain,
            trusted,
            // Sized once: a batch often names as many principals as it has requests.
            found: (decisions > 1)
                .then(|| FxHashMap::with_capacity_and_hasher(decisions, Default::default())),
            used: Vec::with_capacity(decisions),
            probe: false,
            allowed: 0,
            denied: 0,
        }
    }

    /// The principal named `key` in the snapshot, looked up once per batch.
    fn find(&mut self, key: &'a str) -> Option<&'a Arc<Principal>> {
        let directory = self.snapshot.directory();
        match &mut self.found {
            Some(found) => *found
                .entry(key)
                .or_insert_with(|| directory.find_principal(key)),
            None => directory.find_principal(key),
        }
    }

    fn count(&mut self, allowed: bool) {
        if allowed {
            self.allowed += 1;
        } else {
            self.denied += 1;
        }
    }

    /// Counts the decisions made: in metrics, and in usage, one update per run of decisions for
    /// the same principal. Called also when a later request of the batch was refused, so that the
    /// decisions made before it count, as they did when each was counted as it was made.
    fn finish(self) {
        self.state.metrics.decisions(self.allowed, self.denied);
        self.state
            .usage
            .record_all(self.used, self.authed.context.now_ms);
    }

    fn decide(&mut self, request: &'a DecisionInput<'_>) -> ApiResult<DecisionResponse> {
        request.attributes.check_limits()?;
        if let Some(unknown) = unknown_permission(self.snapshot, &request.permission) {
            return Err(unknown);
        }
        let owner: String;
        let (principal, found) = match (&request.principal, &request.token) {
            (Some(principal), None) if crate::secrets::holds_secret(principal) => {
                return Err(ApiError::invalid(
                    "`principal` holds a token; send it as `token` to decide for its owner",
                ));
            }
            (Some(principal), None) => {
                let found = self.find(principal);
                require_may_ask(self.state, self.authed, principal, found, self.trusted)?;
                (&**principal, found)
            }
            (None, Some(token)) => match self.token_subject(token, request)? {
                Ok(uid) => {
                    owner = uid;
                    (
                        owner.as_str(),
                        self.snapshot.directory().find_principal(&owner),
                    )
                }
                Err(denied) => return Ok(denied),
            },
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid("give `principal` or `token`, not both"));
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    "give `principal` (a uid, email or handle) or `token` (an access or platform token)",
                ));
            }
        };
        let time = match &request.time {
            Some(text) => {
                parse_date_time(text).map_err(|e| ApiError::invalid(format!("`time`: {e}")))?
            }
            None => self.authed.context.now_ms.div_euclid(1000),
        };
        let engine_request = Request {
            principal,
            permission: &request.permission,
            environment: request.environment.as_deref(),
            attributes: &request.attributes,
            time,
        };
        let (decision, explanation) = if self.explain {
            let explanation = self.snapshot.explain(&engine_request);
            (
                explanation.decision,
                Some(serde_json::to_value(&explanation).unwrap_or(Value::Null)),
            )
        } else {
            (self.snapshot.decide_found(found, &engine_request), None)
        };
        self.count(decision.is_allowed());
        if let Some(principal) = found.filter(|_| !self.probe) {
            self.used
                .push((&*principal.uid, &*request.permission, decision.is_allowed()));
            if decision.is_allowed() {
                self.state.samples.record(
                    &principal.uid,
                    &request.permission,
                    request.environment.as_deref(),
                    self.authed.context.now_ms,
                    |visit| request.attributes.for_each(visit),
                );
            }
        }
        Ok(DecisionResponse {
            decision: outcome(decision.outcome),
            reason: reason(decision.reason),
            revision: self.snapshot.revision,
            stale: false,
            explanation,
        })
    }

    /// The owner of a request's token, or the DENY that the token itself decides. Holding a
    /// token is enough to ask what it may do; the explanation (which shows the owner's policies)
    /// needs what asking about the owner needs.
    fn token_subject(
        &mut self,
        token: &str,
        request: &DecisionInput<'_>,
    ) -> ApiResult<Result<String, DecisionResponse>> {
        let (owner, _) = match self.state.check_token(token.trim()) {
            Ok(found) => found,
            Err(TokenProblem::OwnerDeactivated) => {
                return Ok(Err(self.token_denial(
                    Reason::InactivePrincipal,
                    "denied: the token's owner is deactivated".to_owned(),
                )));
            }
            Err(_) => {
                return Ok(Err(self.token_denial(
                    Reason::InvalidToken,
                    "denied: the token is unknown, revoked, inactive or expired".to_owned(),
                )));
            }
        };
        if self.explain {
            let found = self.snapshot.directory().find_principal(&owner.uid);
            require_may_ask(self.state, self.authed, &owner.uid, found, false)?;
        }
        let permission: &str = &request.permission;
        if !owner.scopes.allow(permission) {
            self.state
                .usage
                .record(&owner.uid, permission, false, self.authed.context.now_ms);
            return Ok(Err(self.token_denial(
                Reason::OutOfScope,
                format!("denied: `{permission}` is outside the token's scopes"),
            )));
        }
        Ok(Ok(owner.uid))
    }

    fn token_denial(&mut self, reason: Reason, summary: String) -> DecisionResponse {
        self.count(false);
        DecisionResponse {
            decision: warden_api::decisions::Outcome::Deny,
            reason: self::reason(reason),
            revision: self.snapshot.revision,
            stale: false,
            explanation: self.explain.then(|| {
                serde_json::json!({ "decision": Outcome::Deny, "reason": reason, "summary": summary, "deciding": [] })
            }),
        }
    }
}

/// Whether the caller may ask about every principal: it holds `iam:effective-permissions:read`
/// at account level without conditions and is denied it nowhere (so every per-principal check
/// would pass). Computed once per batch instead of once per request.
pub(crate) fn may_ask_about_anyone(authed: &Authed, snapshot: &Snapshot) -> bool {
    let author = warden_engine::escalation::Author {
        principal: &authed.caller.uid,
        scopes: authed.caller.scopes.limit(),
    };
    warden_engine::escalation::holds_unconditionally(
        snapshot,
        &author,
        "iam:effective-permissions:read",
        None,
    )
}

/// A caller may always ask about itself; about another principal with
/// `iam:effective-permissions:read` for it. `found` is the principal as the snapshot resolves it.
pub(crate) fn require_may_ask(
    state: &AppState,
    authed: &Authed,
    principal: &str,
    found: Option<&Arc<Principal>>,
    trusted: bool,
) -> ApiResult<()> {
    if trusted || principal == authed.caller.uid {
        return Ok(());
    }
    if found.is_some_and(|p| *p.uid == *authed.caller.uid) {
        return Ok(());
    }
    state.require(
        authed,
        "iam:effective-permissions:read",
        &Level::Account,
        &attributes(&[
            ("iam-param:entity-type", "user"),
            ("iam-param:entity-id", principal),
        ]),
    )
}

/// The engine's outcome on the wire.
fn outcome(outcome: Outcome) -> warden_api::decisions::Outcome {
    match outcome {
        Outcome::Allow => warden_api::decisions::Outcome::Allow,
        Outcome::Deny => warden_api::decisions::Outcome::Deny,
    }
}

/// The engine's reason on the wire.
fn reason(reason: Reason) -> warden_api::decisions::Reason {
    use warden_api::decisions::Reason as Wire;
    match reason {
        Reason::Allowed => Wire::Allowed,
        Reason::DeniedByStatement => Wire::DeniedByStatement,
        Reason::NoMatchingAllow => Wire::NoMatchingAllow,
        Reason::UnknownPrincipal => Wire::UnknownPrincipal,
        Reason::InactivePrincipal => Wire::InactivePrincipal,
        Reason::UnknownPermission => Wire::UnknownPermission,
        Reason::UnknownEnvironment => Wire::UnknownEnvironment,
        Reason::NoConsent => Wire::NoConsent,
        Reason::OutOfScope => Wire::OutOfScope,
        Reason::InvalidToken => Wire::InvalidToken,
    }
}

/// One decision. `min_revision` is the query's (the body's wins when both are given).
pub async fn decide(
    state: &AppState,
    authed: &Authed,
    explain: bool,
    min_revision: Option<i64>,
    request: &DecisionInput<'_>,
) -> ApiResult<DecisionResponse> {
    decide_as(state, authed, explain, min_revision, request, false).await
}

/// [`decide`] for a question about the principal rather than its use (a search, the console's
/// simulator): authorised and answered the same, but not recorded as the principal's use.
pub async fn probe(
    state: &AppState,
    authed: &Authed,
    explain: bool,
    request: &DecisionInput<'_>,
) -> ApiResult<DecisionResponse> {
    decide_as(state, authed, explain, None, request, true).await
}

async fn decide_as(
    state: &AppState,
    authed: &Authed,
    explain: bool,
    min_revision: Option<i64>,
    request: &DecisionInput<'_>,
    probe: bool,
) -> ApiResult<DecisionResponse> {
    let span = tracing::info_span!(
        "decision",
        permission = &*request.permission,
        explain,
        requests = 1u64,
        decision = tracing::field::Empty,
    );
    async {
        let (snapshot, stale) = state
            .snapshot_at_least(request.min_revision.or(min_revision))
            .await?;
        let mut decider = Decider::new(state, authed, &snapshot, explain, false, 1);
        decider.probe = probe;
        let decided = decider.decide(request);
        decider.finish();
        let mut response = decided?;
        response.stale = stale;
        tracing::Span::current().record("decision", response.decision.as_str());
        Ok::<_, ApiError>(response)
    }
    .instrument(span)
    .await
}

/// Up to [`MAX_BATCH`] decisions from one snapshot, at the highest `minRevision` asked (each
/// checked). An unknown permission is its request's mistake: its slot carries the error and the
/// others are answered; any other refusal refuses the batch.
pub async fn decide_batch(
    state: &AppState,
    authed: &Authed,
    explain: bool,
    min_revision: Option<i64>,
    batch: &BatchInput<'_>,
) -> ApiResult<BatchResponse> {
    let span = tracing::info_span!("decision", explain, requests = batch.requests.len() as u64,);
    async {
        if batch.requests.len() > MAX_BATCH {
            return Err(crate::limits::limit_reached(
                "requests per batch",
                MAX_BATCH,
            ));
        }
        let mut min = None;
        for asked in batch
            .requests
            .iter()
            .filter_map(|r| r.min_revision)
            .chain(batch.min_revision)
            .chain(min_revision)
        {
            revision(asked)?;
            min = min.max(Some(asked));
        }
        let (snapshot, stale) = state.snapshot_at_least(min).await?;
        let trusted = batch.requests.len() > 1 && may_ask_about_anyone(authed, &snapshot);
        if trusted && !authed.system {
            // The batch's one check of the caller is use of the permission like any other
            // check: counted, and sampled without attributes (a suggestion leaves it open).
            let (uid, now) = (&authed.caller.uid, authed.context.now_ms);
            state
                .usage
                .record(uid, "iam:effective-permissions:read", true, now);
            state
                .samples
                .record(uid, "iam:effective-permissions:read", None, now, |_| {});
        }
        let mut decider = Decider::new(
            state,
            authed,
            &snapshot,
            explain,
            trusted,
            batch.requests.len(),
        );
        let mut results = Vec::with_capacity(batch.requests.len());
        let mut answered = Ok(());
        for request in &batch.requests {
            if let Some(unknown) = unknown_permission(&snapshot, &request.permission) {
                results.push(BatchResult::Error(unknown.body()));
                continue;
            }
            match decider.decide(request) {
                Ok(mut response) => {
                    response.stale = stale;
                    results.push(BatchResult::Decision(response));
                }
                Err(error) => {
                    answered = Err(error);
                    break;
                }
            }
        }
        decider.finish();
        answered?;
        Ok(BatchResponse {
            revision: snapshot.revision,
            stale,
            results,
        })
    }
    .instrument(span)
    .await
}
