//! Least-privilege suggestions for a service user: from the sample of its allowed requests
//! ([`crate::samples`]), the policy that allows every one of them and no permission it did not
//! use ([`warden_engine::suggest`]), the diff against the permissions it holds today, and the
//! impact preview of switching to it.
//!
//! Reading a suggestion needs `iam:service-users:read` (at account level) and
//! `iam:effective-permissions:read` for the service user (`iam-param:entity-type = "user"`,
//! `iam-param:entity-id` = its uid): the answer shows what it holds and the values its requests
//! carried, which is what reading its effective permissions and asking about its decisions
//! show. The impact preview lists other principals' changes only when the caller may read their
//! effective permissions too; the rest are counted, not shown. Nothing is written: switching is
//! the administrator's own policy and binding change.

use std::collections::{BTreeMap, BTreeSet};

use warden_engine::impact::{ChangeKind, impact};
use warden_engine::suggest::{AttributeUse, Observed, suggest};
use warden_engine::{Binding, Group, Id, Level, PolicyRecord};
use warden_policy::Effect;
use warden_store::{SampleKind, UsageSample};

use crate::service::groups::account;
use crate::service::guard::attributes;
use crate::service::service_users::service_user;
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

pub use warden_api::service_users::{
    PermissionDiff, SuggestQuery, SuggestedPolicy, SwitchChange, SwitchImpact,
};

const DAY_MS: i64 = 86_400_000;
/// Principals whose changes the preview lists at most.
const SHOWN: usize = 1_000;

/// What the samples say, per permission.
pub fn observations(samples: &[UsageSample]) -> BTreeMap<String, Observed> {
    let mut used: BTreeMap<String, Observed> = BTreeMap::new();
    for sample in samples {
        if sample.permission == crate::samples::LOST {
            continue;
        }
        let observed = used.entry(sample.permission.clone()).or_default();
        match sample.kind {
            SampleKind::Environment => {
                observed.environments.insert(sample.value.clone());
            }
            SampleKind::Capped if sample.name == crate::samples::ENVIRONMENT => {
                observed.environments_capped = true;
            }
            kind => {
                let attribute: &mut AttributeUse =
                    observed.attributes.entry(sample.name.clone()).or_default();
                match kind {
                    SampleKind::Value => {
                        attribute.values.insert(sample.value.clone());
                    }
                    SampleKind::Absent => attribute.absent = true,
                    _ => attribute.capped = true,
                }
            }
        }
    }
    // A permission is used when an allowed request was recorded for it in the window: every
    // such request records its environment.
    used.retain(|_, observed| !observed.environments.is_empty() || observed.environments_capped);
    used
}

/// The suggestion for the service user `key` (uid, email or handle) from the allowed requests of
/// the last `days` days (default: the sample's retention).
pub async fn suggested_policy(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    query: &SuggestQuery,
) -> ApiResult<SuggestedPolicy> {
    let days = query.days.unwrap_or(state.sample_retention_days);
    if !(1..=36_500).contains(&days) {
        return Err(ApiError::invalid(format!(
            "`days` is 1–36500, not {days}; leave it out for the {} days the sample is kept",
            state.sample_retention_days
        )));
    }
    let (uid, handle, own_group) = {
        let model = state.model.lock().await;
        let level = account(&model, acc)?;
        state.require(authed, "iam:service-users:read", &level, &attributes(&[]))?;
        let body = service_user(&model, key)?;
        state.require(
            authed,
            "iam:effective-permissions:read",
            &level,
            &attributes(&[
                ("iam-param:entity-type", "user"),
                ("iam-param:entity-id", &body.uid),
            ]),
        )?;
        (
            body.uid.clone(),
            body.handle.clone(),
            body.group_uuid.clone(),
        )
    };
    // What was recorded up to now counts.
    state.flush_usage().await?;
    let since = authed
        .context
        .now_ms
        .saturating_sub(days.saturating_mul(DAY_MS));
    let samples = state.store.samples(&uid, since).await?;
    let used = observations(&samples);
    // Requests beyond the sample's bound were not recorded: say so rather than pretend.
    let complete = !samples.iter().any(|s| s.permission == crate::samples::LOST)
        && state
            .store
            .samples(crate::samples::LOST, since)
            .await?
            .is_empty();
    let snapshot = state.snapshot();
    let catalogue = snapshot.catalogue();
    let name = handle.as_deref().unwrap_or(&uid);
    let mut header = format!(
        "Least privilege for {name}: what its allowed requests of the last {days} days used."
    );
    if !complete {
        header.push_str(
            "\nSome requests of this window were not sampled (the server held more than it may between two writes): this policy may not allow them.",
        );
    }
    let suggestion = suggest(&used, catalogue, &header)
        .map_err(|e| ApiError::conflict(format!("{e}; try fewer `days`")))?;
    let checked = warden_policy::check_policy(&suggestion.text, catalogue);
    if checked.has_errors() {
        return Err(ApiError::internal(
            "the suggested policy does not pass the policy check",
        ));
    }

    let mut held: BTreeSet<String> = BTreeSet::new();
    let levels: Vec<Option<String>> = std::iter::once(None)
        .chain(
            snapshot
                .directory()
                .environments()
                .iter()
                .map(|e| Some(e.to_string())),
        )
        .collect();
    for level in &levels {
        for granted in snapshot.held(&uid, level.as_deref()) {
            if granted.effect == Effect::Allow {
                held.insert(granted.permission);
            }
        }
    }
    let suggested: BTreeSet<String> = suggestion.permissions.iter().cloned().collect();
    let diff = PermissionDiff {
        kept: held.intersection(&suggested).cloned().collect(),
        removed: held.difference(&suggested).cloned().collect(),
        added: suggested.difference(&held).cloned().collect(),
    };

    let switched = switch_impact(state, &uid, own_group, &suggestion.text, authed).await?;
    let visible: BTreeMap<String, bool> = switched
        .changes
        .iter()
        .map(|c| c.uid.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|other| {
            let may = other == uid
                || state
                    .require(
                        authed,
                        "iam:effective-permissions:read",
                        &Level::Account,
                        &attributes(&[
                            ("iam-param:entity-type", "user"),
                            ("iam-param:entity-id", &other),
                        ]),
                    )
                    .is_ok();
            (other, may)
        })
        .collect();
    let changes: Vec<SwitchChange> = switched
        .changes
        .iter()
        .filter(|c| visible.get(&c.uid).copied().unwrap_or(false))
        .map(|c| SwitchChange {
            uid: c.uid.clone(),
            email: c.email.clone(),
            permission: c.permission.clone(),
            level: match &c.level {
                Level::Environment(env) => env.to_string(),
                _ => "account".to_owned(),
            },
            change: match c.kind {
                ChangeKind::Gains => "gains",
                ChangeKind::Loses => "loses",
                ChangeKind::ConditionsChange => "conditions-change",
            }
            .to_owned(),
        })
        .collect();
    Ok(SuggestedPolicy {
        uid,
        handle,
        days,
        complete,
        policy: suggestion.text,
        permissions: suggestion.permissions,
        diff,
        impact: SwitchImpact {
            affected_principals: switched.affected_principals,
            total_changes: switched.total_changes,
            hidden_changes: switched.total_changes.saturating_sub(changes.len()),
            changes,
        },
    })
}

/// The impact of the switch: the suggested policy bound at account level to the service user's
/// own group (made when it has none), that group's other bindings removed, and the service user
/// taken out of its other groups — on a copy of the directory, with the calls the writes use.
async fn switch_impact(
    state: &AppState,
    uid: &str,
    own_group: Option<String>,
    text: &str,
    authed: &Authed,
) -> ApiResult<warden_engine::impact::Impact> {
    let before = state.snapshot();
    let time = authed.context.now_ms.div_euclid(1000);
    let uid = uid.to_owned();
    let text = text.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut directory = before.directory().clone();
        let Some(principal) = directory.principal(&uid).cloned() else {
            return Ok(warden_engine::impact::Impact::default());
        };
        let own: Id = match own_group {
            Some(group) if directory.group(&group).is_some() => group.into(),
            _ => {
                let id = format!("suggested-group-{uid}");
                directory.upsert_group(Group::new(&id, &id))?;
                id.into()
            }
        };
        let policy_id = format!("suggested-policy-{uid}");
        let record = PolicyRecord::parse(
            &policy_id,
            &policy_id,
            Level::Account,
            &text,
            before.catalogue(),
        )
        .map_err(|_| ApiError::internal("the suggested policy does not pass the policy check"))?;
        let mut affected: Vec<Id> = principal.groups.to_vec();
        affected.extend(directory.upsert_policy(record)?);
        affected.extend(directory.remove_bindings(&own, |_| true)?);
        directory.set_memberships(&uid, vec![Id::clone(&own)])?;
        affected.extend(directory.add_binding(Binding::new(Level::Account, &policy_id, &own))?);
        affected.push(own);
        affected.sort();
        affected.dedup();
        let after = before.apply(directory, &affected, before.revision);
        Ok(impact(&before, &after, &affected, time, SHOWN))
    })
    .await
    .map_err(|e| ApiError::internal(format!("impact preview failed: {e}")))?
}
