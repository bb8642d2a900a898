//! The service-user review report: the service users that need an administrator's attention, and
//! the workflows that run as a person or as someone deactivated.
//!
//! A service user's findings, in this order:
//! - `unused`: no use ([`crate::last_use`]: a decision about it, or one of its credentials
//!   accepted) within `unusedDays` — the `lastUsedAt` its `GET` shows;
//! - `unreviewed`: no review recorded within `unreviewedDays`;
//! - `no-owner`; `owner-deactivated`: its owner is a deactivated or deleted user, or a deleted
//!   group or one without an active member — nobody is left to answer for it;
//! - `no-purpose`: neither a purpose nor a description says what it is for;
//! - `unused-permissions`: permissions it holds and was not allowed within `unusedDays`;
//! - `unused-membership`: groups (other than its own) none of whose permissions it was allowed
//!   within `unusedDays`. A group with a DENY is never listed: leaving it could widen access;
//! - `rotation-due`: platform tokens and OAuth client secrets older than `rotationDays`.
//!
//! The windows of `unused-permissions` and `unused-membership` start with the service user: one
//! created within the window has not had the time to use what it was given. Usage counters are
//! flushed first, so that the report is current.
//!
//! A workflow is listed with `workflows-run-by-person` when its actor is a user (or is gone: a
//! service user cannot be deleted while a workflow runs as it) and with `actor-deactivated` when
//! its actor is deactivated or gone. Only the workflows the caller could see are listed — those
//! its workflow list shows, and those of environments it administers
//! (`automation:workflows:admin`): reading service users opens nobody's private workflows.

use std::collections::{BTreeMap, BTreeSet};

use warden_api::service_users::{ReviewGroup, ReviewWorkflow, RotationDue};
use warden_engine::PrincipalKind;
use warden_policy::Effect;

use crate::model::Model;
use crate::records::{OwnerRef, PrincipalBody};
use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::service_users::{ReviewEntry, ReviewQuery, ReviewReport, owner_dto};
use crate::service::{ApiError, ApiResult, Authed, workflows};
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

/// The suggestion given for a workflow run by a person.
pub const MOVE_TO_SERVICE_USER: &str = "run it as a service user, so that it keeps running when people leave: `warden workflow update ID --actor SERVICE_USER`";

/// The suggestion given for a workflow whose actor is deactivated (or gone).
pub const ACTOR_GONE: &str = "its tasks are refused while its actor is deactivated: give it a service user as its actor (`warden workflow update ID --actor SERVICE_USER`)";

/// The report for the windows of `query` (1–36500 days each, default 90).
pub async fn report(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    query: &ReviewQuery,
) -> ApiResult<ReviewReport> {
    let unused_days = query.unused_days.unwrap_or(90);
    let unreviewed_days = query.unreviewed_days.unwrap_or(90);
    let rotation_days = query.rotation_days.unwrap_or(90);
    if ![unused_days, unreviewed_days, rotation_days]
        .iter()
        .all(|days| (1..=36_500).contains(days))
    {
        return Err(ApiError::invalid(
            "`unusedDays`, `unreviewedDays` and `rotationDays` are 1–36500",
        ));
    }
    {
        let model = state.model.lock().await;
        let level = account(&model, acc)?;
        state.require(authed, "iam:service-users:read", &level, &attributes(&[]))?;
    }
    state.flush_usage().await?;
    let usage = state.store.usage(None).await?;
    let last_used = state.last_used_all().await?;
    // principal → permission → last ALLOW
    let mut allowed: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    for row in &usage {
        allowed
            .entry(row.principal.as_str())
            .or_default()
            .insert(row.permission.as_str(), row.last_allowed);
    }
    let now = authed.context.now_ms;
    let windows = Windows {
        now,
        unused_since: now - unused_days * DAY_MS,
        unreviewed_since: now - unreviewed_days * DAY_MS,
        rotate_before: now - rotation_days * DAY_MS,
    };
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
    let staffed: BTreeSet<&str> = model
        .directory
        .principals()
        .filter(|p| p.active)
        .flat_map(|p| p.groups.iter().map(AsRef::as_ref))
        .collect();
    let mut entries: Vec<ReviewEntry> = Vec::new();
    for body in model
        .principals
        .values()
        .filter(|p| p.kind == PrincipalKind::ServiceUser)
    {
        let review = Review {
            model: &model,
            snapshot: &snapshot,
            environments: &environments,
            staffed: &staffed,
            windows: &windows,
            allowed: allowed.get(body.uid.as_str()),
        };
        let last_used = last_used.get(&body.uid).copied().max(body.last_used_at);
        if let Some(entry) = review.entry(body, last_used) {
            entries.push(entry);
        }
    }
    entries.sort_by(|a, b| (a.name.to_lowercase(), &a.uid).cmp(&(b.name.to_lowercase(), &b.uid)));
    let mut flagged: Vec<ReviewWorkflow> = Vec::new();
    for workflow in model.workflows.values() {
        let admin = workflows::admin(state, authed, Some(workflow), true).is_ok();
        if workflows::visible(state, authed, &snapshot, workflow, admin).is_err() {
            continue;
        }
        let actor = model.principals.get(&workflow.actor);
        // A service user cannot be deleted while a workflow runs as it: an actor that is gone
        // was a person.
        let person = actor.is_none_or(|a| a.kind == PrincipalKind::User);
        let active = actor.is_some_and(PrincipalBody::active);
        let mut findings = Vec::new();
        if person {
            findings.push("workflows-run-by-person".to_owned());
        }
        if !active {
            findings.push("actor-deactivated".to_owned());
        }
        if findings.is_empty() {
            continue;
        }
        flagged.push(ReviewWorkflow {
            id: workflow.id.clone(),
            title: workflow.title.clone(),
            environment: workflow.environment.clone(),
            actor: workflow.actor.clone(),
            actor_email: actor.map(|a| a.email.clone()),
            actor_handle: actor.and_then(|a| a.handle.clone()),
            actor_type: actor.map(|a| workflows::kind_name(a.kind)),
            actor_active: active,
            findings,
            suggestion: if active {
                MOVE_TO_SERVICE_USER
            } else {
                ACTOR_GONE
            }
            .to_owned(),
        });
    }
    flagged.sort_by(|a, b| (&a.title, &a.id).cmp(&(&b.title, &b.id)));
    Ok(ReviewReport {
        generated_at: iso(now),
        unused_days,
        unreviewed_days,
        rotation_days,
        service_users: entries,
        workflows: flagged,
    })
}

/// The instants the windows start at, and now.
struct Windows {
    now: i64,
    unused_since: i64,
    unreviewed_since: i64,
    rotate_before: i64,
}

/// What one service user's findings are computed from.
struct Review<'a> {
    model: &'a Model,
    snapshot: &'a warden_engine::Snapshot,
    environments: &'a [Option<String>],
    /// The groups with an active member.
    staffed: &'a BTreeSet<&'a str>,
    windows: &'a Windows,
    /// Its permissions and when each was last allowed.
    allowed: Option<&'a BTreeMap<&'a str, i64>>,
}

impl Review<'_> {
    /// The service user's entry, or `None` when nothing needs attention.
    fn entry(&self, body: &PrincipalBody, last_used: Option<i64>) -> Option<ReviewEntry> {
        let windows = self.windows;
        let mut findings = Vec::new();
        if last_used.unwrap_or(body.created_at) < windows.unused_since {
            findings.push("unused");
        }
        if body.last_reviewed_at.unwrap_or(body.created_at) < windows.unreviewed_since {
            findings.push("unreviewed");
        }
        match &body.owner {
            None => findings.push("no-owner"),
            Some(owner) if !self.owner_active(owner) => findings.push("owner-deactivated"),
            Some(_) => {}
        }
        if body.purpose.trim().is_empty() && body.description.trim().is_empty() {
            findings.push("no-purpose");
        }
        // A permission or membership given within the window is not yet "unused".
        let settled = body.created_at < windows.unused_since;
        let unused_permissions = if settled {
            self.unused_permissions(body)
        } else {
            Vec::new()
        };
        if !unused_permissions.is_empty() {
            findings.push("unused-permissions");
        }
        let unused_memberships = if settled {
            self.unused_memberships(body)
        } else {
            Vec::new()
        };
        if !unused_memberships.is_empty() {
            findings.push("unused-membership");
        }
        let rotation_due = self.rotation_due(&body.uid);
        if !rotation_due.is_empty() {
            findings.push("rotation-due");
        }
        if findings.is_empty() {
            return None;
        }
        Some(ReviewEntry {
            uid: body.uid.clone(),
            name: body.name.clone(),
            handle: body.handle.clone(),
            email: body.email.clone(),
            owner: body.owner.as_ref().map(|o| owner_dto(self.model, o)),
            active: body.active(),
            created_at: iso(body.created_at),
            last_used_at: last_used.map(iso),
            last_reviewed_at: body.last_reviewed_at.map(iso),
            findings: findings.into_iter().map(str::to_owned).collect(),
            unused_permissions,
            unused_memberships,
            rotation_due,
        })
    }

    /// Whether someone is left to answer for the service user: an active user, or an existing
    /// group with an active member.
    fn owner_active(&self, owner: &OwnerRef) -> bool {
        let directory = &self.model.directory;
        if owner.kind == "USER" {
            return directory.principal(&owner.id).is_some_and(|p| p.active);
        }
        directory.group(&owner.id).is_some() && self.staffed.contains(owner.id.as_str())
    }

    fn used_within(&self, permission: &str) -> bool {
        self.allowed
            .and_then(|permissions| permissions.get(permission))
            .is_some_and(|allowed| *allowed >= self.windows.unused_since)
    }

    /// The permissions it holds (ALLOW, at any level) and was not allowed in the window.
    fn unused_permissions(&self, body: &PrincipalBody) -> Vec<String> {
        let mut held: BTreeSet<String> = BTreeSet::new();
        for environment in self.environments {
            for granted in self.snapshot.held(&body.uid, environment.as_deref()) {
                if granted.effect == Effect::Allow {
                    held.insert(granted.permission);
                }
            }
        }
        held.into_iter().filter(|p| !self.used_within(p)).collect()
    }

    /// Its groups (not its own) with no DENY and no permission allowed in the window, by name.
    fn unused_memberships(&self, body: &PrincipalBody) -> Vec<ReviewGroup> {
        let directory = &self.model.directory;
        let Some(principal) = directory.principal(&body.uid) else {
            return Vec::new();
        };
        let mut out: Vec<ReviewGroup> = principal
            .groups
            .iter()
            .filter(|group| body.group_uuid.as_deref() != Some(group.as_ref()))
            .filter(|group| {
                let granted: Vec<_> = self
                    .environments
                    .iter()
                    .flat_map(|env| self.snapshot.group_held(group, env.as_deref()))
                    .collect();
                granted.iter().all(|g| g.effect == Effect::Allow)
                    && !granted.iter().any(|g| self.used_within(&g.permission))
            })
            .map(|group| ReviewGroup {
                uuid: group.to_string(),
                name: directory
                    .group(group)
                    .map_or_else(|| group.to_string(), |g| g.name.clone()),
            })
            .collect();
        out.sort_by(|a, b| (a.name.to_lowercase(), &a.uuid).cmp(&(b.name.to_lowercase(), &b.uuid)));
        out
    }

    /// Its platform tokens and live client secrets made before the rotation window, oldest first.
    fn rotation_due(&self, uid: &str) -> Vec<RotationDue> {
        let windows = self.windows;
        let age = |created_at: i64| (windows.now - created_at).div_euclid(DAY_MS);
        let tokens = self
            .model
            .tokens
            .values()
            .filter(|t| t.kind == "platform" && t.owner_uid == uid)
            .filter(|t| t.created_at < windows.rotate_before)
            .map(|t| RotationDue {
                kind: "platform-token".to_owned(),
                id: t.id.clone(),
                name: t.name.clone(),
                client_id: None,
                created_at: iso(t.created_at),
                age_days: age(t.created_at),
            });
        let secrets = self
            .model
            .oauth_clients
            .values()
            .filter(|c| c.owner_uid == uid)
            .flat_map(|c| {
                c.secrets
                    .iter()
                    .filter(|s| s.revoked_at.is_none() && s.created_at < windows.rotate_before)
                    .map(|s| RotationDue {
                        kind: "client-secret".to_owned(),
                        id: s.id.clone(),
                        name: c.name.clone(),
                        client_id: Some(c.client_id.clone()),
                        created_at: iso(s.created_at),
                        age_days: age(s.created_at),
                    })
            });
        let mut out: Vec<RotationDue> = tokens.chain(secrets).collect();
        out.sort_by(|a, b| (b.age_days, &a.kind, &a.id).cmp(&(a.age_days, &b.kind, &b.id)));
        out
    }
}
