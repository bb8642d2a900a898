//! The service-user review report: the service users that need an administrator's attention —
//! unused for `unusedDays`, unreviewed for `unreviewedDays`, without an owner, or holding
//! permissions they have not used within `unusedDays` (from the decision counters, flushed
//! first so that the report is current).

use std::collections::{BTreeMap, BTreeSet};

use warden_engine::PrincipalKind;
use warden_policy::Effect;

use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::service_users::{ReviewEntry, ReviewQuery, ReviewReport, owner_dto};
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

/// The report for the windows of `query` (1–36500 days each, default 90).
pub async fn report(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    query: &ReviewQuery,
) -> ApiResult<ReviewReport> {
    let unused_days = query.unused_days.unwrap_or(90);
    let unreviewed_days = query.unreviewed_days.unwrap_or(90);
    if !(1..=36_500).contains(&unused_days) || !(1..=36_500).contains(&unreviewed_days) {
        return Err(ApiError::invalid(
            "`unusedDays` and `unreviewedDays` are 1–36500",
        ));
    }
    {
        let model = state.model.lock().await;
        let level = account(&model, acc)?;
        state.require(authed, "iam:service-users:read", &level, &attributes(&[]))?;
    }
    state.flush_usage().await?;
    let usage = state.store.usage(None).await?;
    // principal → permission → (last decision, last ALLOW)
    let mut used: BTreeMap<&str, BTreeMap<&str, (i64, i64)>> = BTreeMap::new();
    for row in &usage {
        used.entry(row.principal.as_str())
            .or_default()
            .insert(row.permission.as_str(), (row.last_used, row.last_allowed));
    }
    let now = authed.context.now_ms;
    let unused_since = now - unused_days * DAY_MS;
    let unreviewed_since = now - unreviewed_days * DAY_MS;
    let snapshot = state.snapshot();
    let environments: Vec<Option<String>> = std::iter::once(None)
        .chain(
            snapshot
                .directory()
                .environments()
                .iter()
                .map(|e| Some(e.to_string())),
        )
        .collect();
    let model = state.model.lock().await;
    let mut entries: Vec<ReviewEntry> = Vec::new();
    for body in model
        .principals
        .values()
        .filter(|p| p.kind == PrincipalKind::ServiceUser)
    {
        let counters = used.get(body.uid.as_str());
        let last_used = counters.and_then(|c| c.values().map(|(used, _)| *used).max());
        let mut findings = Vec::new();
        if last_used.unwrap_or(body.created_at) < unused_since {
            findings.push("unused".to_owned());
        }
        if body.last_reviewed_at.unwrap_or(body.created_at) < unreviewed_since {
            findings.push("unreviewed".to_owned());
        }
        if body.owner.is_none() {
            findings.push("no-owner".to_owned());
        }
        let mut held: BTreeSet<String> = BTreeSet::new();
        for environment in &environments {
            for granted in snapshot.held(&body.uid, environment.as_deref()) {
                if granted.effect == Effect::Allow {
                    held.insert(granted.permission);
                }
            }
        }
        // A permission granted within the window is not yet "unused".
        let unused_permissions: Vec<String> = if body.created_at < unused_since {
            held.into_iter()
                .filter(|p| {
                    counters
                        .and_then(|c| c.get(p.as_str()))
                        .is_none_or(|(_, allowed)| *allowed < unused_since)
                })
                .collect()
        } else {
            Vec::new()
        };
        if !unused_permissions.is_empty() {
            findings.push("unused-permissions".to_owned());
        }
        if findings.is_empty() {
            continue;
        }
        entries.push(ReviewEntry {
            uid: body.uid.clone(),
            name: body.name.clone(),
            handle: body.handle.clone(),
            email: body.email.clone(),
            owner: body.owner.as_ref().map(|o| owner_dto(&model, o)),
            active: body.active(),
            created_at: iso(body.created_at),
            last_used_at: last_used.map(iso),
            last_reviewed_at: body.last_reviewed_at.map(iso),
            findings,
            unused_permissions,
        });
    }
    entries.sort_by(|a, b| (a.name.to_lowercase(), &a.uid).cmp(&(b.name.to_lowercase(), &b.uid)));
    Ok(ReviewReport {
        generated_at: iso(now),
        unused_days,
        unreviewed_days,
        service_users: entries,
    })
}
