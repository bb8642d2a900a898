//! The one way a change is made: plan, check the effect, commit, publish.
//!
//! A use case plans its change against the current model (its own authorisation and validation,
//! the operations to store, the draft directory). Then, for every plan, whatever its kind:
//!
//! 1. the snapshot the change would produce is built;
//! 2. **no escalation** (SPEC §6): nobody may gain access — a new ALLOW, a DENY or a restriction
//!    taken away, a membership, a reactivation — that the author does not hold where it is
//!    gained ([`warden_engine::escalation`]); a refusal is 403 naming the permission, the level
//!    and who would have gained it;
//! 3. **elevation is justified**: a change that gives a service user an elevated binding says
//!    why ([`crate::service::elevation`]; 400 otherwise);
//! 4. **an administrator is always kept**: a change that leaves the account without an active
//!    principal holding every `iam:*` permission is refused (409);
//! 5. the operations and the audit entry are stored in one transaction, with the ending of the
//!    console sessions whose credential the write takes away (`sessions::ended_by`);
//! 6. the model and the snapshot are published.
//!
//! A change refused anywhere before step 5 changes nothing. Start-up and the operator's
//! commands act as the system ([`Authed::system`]) and skip steps 2 and 3, not step 4.

use std::sync::Arc;

use tracing::Instrument;

use serde_json::{Value, json};
use warden_engine::directory::Affected;
use warden_engine::escalation::{Author, Escalation, Refusal, WriteCheck};
use warden_engine::{Directory, Snapshot};
use warden_policy::Catalogue;
use warden_store::{Op, Write};

use crate::model::Model;
use crate::service::actor::Authed;
use crate::service::batch::{self, Working};
use crate::service::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What a use case plans to change; committed by [`AppState::write`].
pub struct Plan<T> {
    pub action: String,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub ops: Vec<Op>,
    /// The changed directory and the groups to recompile.
    pub directory: Option<(Directory, Affected)>,
    /// A changed catalogue (custom services): the snapshot is rebuilt in full.
    pub catalogue: Option<Arc<Catalogue>>,
    /// Why the change elevates a service user, when the request said so
    /// ([`crate::service::elevation`]; new bindings carry theirs in their metadata).
    pub justification: Option<String>,
    /// Applies the change to the model's bodies after the commit; must not fail.
    pub apply: Box<dyn FnOnce(&mut Model) + Send>,
    pub output: T,
}

impl<T> std::fmt::Debug for Plan<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("action", &self.action)
            .field("target", &self.target)
            .field("ops", &self.ops.len())
            .finish()
    }
}

impl<T> Plan<T> {
    pub fn new(action: impl Into<String>, target: impl Into<String>, output: T) -> Self {
        Plan {
            action: action.into(),
            target: target.into(),
            before: None,
            after: None,
            ops: Vec::new(),
            directory: None,
            catalogue: None,
            justification: None,
            apply: Box::new(|_| {}),
            output,
        }
    }
}

impl AppState {
    /// Plans, checks, commits and publishes one write; returns the plan's output and the new
    /// revision. Inside a batch ([`crate::service::batch`]) the write is staged on the batch's
    /// working copy instead, after the same checks, and committed with the batch.
    pub async fn write<T>(
        &self,
        actor: &Authed,
        plan: impl FnOnce(&Model, &Snapshot) -> ApiResult<Plan<T>>,
    ) -> ApiResult<(T, i64)> {
        let mut plan = Some(plan);
        if let Some(staged) =
            batch::staging(|working| plan.take().map(|plan| self.stage(working, actor, plan)))
                .flatten()
        {
            return staged;
        }
        let Some(plan) = plan else {
            return Err(ApiError::internal("a write was planned twice"));
        };
        // Another replica may have written since: plan against the store's latest state.
        self.catch_up().await.map_err(|error| {
            tracing::warn!(%error, "cannot catch up before a write");
            ApiError::unavailable(
                "the store is unavailable; nothing was changed, retry later",
                5,
            )
        })?;
        let mut model = self.model.lock().await;
        let snapshot = self.snapshot();
        let plan = plan(&model, &snapshot)?;
        // The revision is provisional until the store has given it.
        let next = self.checked(actor, &model, &snapshot, &plan, snapshot.revision + 1)?;
        let mut plan = plan;
        let write = entry(actor, &model, &mut plan, snapshot.revision);
        let Plan { apply, output, .. } = plan;
        let writing = std::time::Instant::now();
        let span =
            tracing::info_span!(target: "warden::store", "store.write", action = %write.action);
        let written = self.store.write(write).instrument(span).await;
        self.metrics.store_writes.observe(writing.elapsed());
        let committed = match written {
            Ok(committed) => committed,
            Err(warden_store::StoreError::Stale { current }) => {
                drop(model);
                let _ = self.catch_up().await;
                return Err(stale(current));
            }
            Err(error) => return Err(error.into()),
        };
        let revision = u64::try_from(committed.revision)
            .map_err(|_| ApiError::internal("negative revision"))?;
        apply(&mut model);
        let mut next = match next {
            Some(next) => next,
            None => snapshot.apply(model.directory.clone(), &[], revision),
        };
        next.revision = revision;
        model.directory = next.directory().clone();
        self.cell.store(next);
        self.tokens.store(Arc::new(model.tokens.clone()));
        Ok((output, committed.revision))
    }

    /// A write inside a batch: planned against the working copy, checked like any write,
    /// then applied to the working copy; its store entry waits for the batch's commit.
    fn stage<T>(
        &self,
        working: &Working,
        actor: &Authed,
        plan: impl FnOnce(&Model, &Snapshot) -> ApiResult<Plan<T>>,
    ) -> ApiResult<(T, i64)> {
        let snapshot = working.snapshot();
        let revision = working.base + 1;
        let mut model = working.model.borrow_mut();
        let mut plan = plan(&model, &snapshot)?;
        let next = self.checked(actor, &model, &snapshot, &plan, revision)?;
        working
            .writes
            .borrow_mut()
            .push(entry(actor, &model, &mut plan, working.base));
        let Plan { apply, output, .. } = plan;
        apply(&mut model);
        let next = match next {
            Some(next) => next,
            None => snapshot.apply(model.directory.clone(), &[], revision),
        };
        model.directory = next.directory().clone();
        working.publish(next);
        Ok((output, i64::try_from(revision).unwrap_or(i64::MAX)))
    }

    /// Steps 1–3 of the module header: the snapshot the plan would produce (`None` when it
    /// changes no access), checked.
    fn checked<T>(
        &self,
        actor: &Authed,
        model: &Model,
        snapshot: &Snapshot,
        plan: &Plan<T>,
        provisional: u64,
    ) -> ApiResult<Option<Snapshot>> {
        let building = std::time::Instant::now();
        let next = match (&plan.directory, &plan.catalogue) {
            (Some((directory, _)), Some(catalogue)) => Some(Snapshot::build(
                directory.clone(),
                Arc::clone(catalogue),
                provisional,
            )),
            (Some((directory, affected)), None) => {
                Some(snapshot.apply(directory.clone(), affected, provisional))
            }
            (None, Some(catalogue)) => Some(Snapshot::build(
                model.directory.clone(),
                Arc::clone(catalogue),
                provisional,
            )),
            (None, None) => None,
        };
        if let Some(next) = &next {
            self.metrics.snapshot_builds.observe(building.elapsed());
            // A catalogue change only adds services, whose permissions no statement names yet
            // (the administrator policy names every permission by definition): the groups its
            // directory change recompiles are all it can affect.
            let recompiled: Affected = match &plan.directory {
                Some((_, affected)) => affected.clone(),
                None => Vec::new(),
            };
            guard(actor, snapshot, next, &recompiled, model, &plan.action)?;
            if !actor.system {
                crate::service::elevation::check(
                    snapshot.directory(),
                    next.directory(),
                    plan.justification.as_deref(),
                    &plan.action,
                )?;
            }
        }
        Ok(next)
    }

    /// Appends an audit entry that changes nothing (a recorded check).
    pub async fn record(
        &self,
        actor: &Authed,
        action: &str,
        target: &str,
        after: Value,
    ) -> ApiResult<i64> {
        let write = Write {
            actor: actor.context.actor.clone(),
            action: action.to_owned(),
            target: target.to_owned(),
            before: None,
            after: Some(after.to_string()),
            request_id: actor.context.request_id.clone(),
            at: actor.context.now_ms,
            ops: Vec::new(),
            expected_revision: None,
        };
        Ok(self.store.record(write).await?.seq)
    }
}

/// The store entry of a checked plan: its operations with the ending of the console sessions
/// whose credential the write takes away (in the same transaction, on every replica at once),
/// and its audit entry. Takes them out of the plan, which keeps only what publishing needs.
fn entry<T>(actor: &Authed, model: &Model, plan: &mut Plan<T>, base: u64) -> Write {
    let mut ops = std::mem::take(&mut plan.ops);
    ops.extend(crate::service::sessions::ended_by(model, &ops));
    Write {
        actor: actor.context.actor.clone(),
        action: std::mem::take(&mut plan.action),
        target: std::mem::take(&mut plan.target),
        before: plan.before.take().map(|v| v.to_string()),
        after: plan.after.take().map(|v| v.to_string()),
        request_id: actor.context.request_id.clone(),
        at: actor.context.now_ms,
        ops,
        expected_revision: Some(i64::try_from(base).unwrap_or(i64::MAX)),
    }
}

/// The conflict of a write planned on a state another replica has moved on from.
pub fn stale(current: i64) -> ApiError {
    ApiError::conflict(format!(
        "another replica wrote revision {current} while this request was planned; nothing was changed, retry it"
    ))
}

/// Steps 2 and 3 of the module header, for the change from `before` to `after`.
fn guard(
    actor: &Authed,
    before: &Snapshot,
    after: &Snapshot,
    recompiled: &[warden_engine::Id],
    model: &Model,
    action: &str,
) -> ApiResult<()> {
    let check = WriteCheck::new(before, after, recompiled);
    if !actor.system {
        crate::service::guard::require_workflow_ownership(before, after, model, actor)?;
        let author = Author {
            principal: &actor.caller.uid,
            scopes: actor.caller.scopes.limit(),
        };
        check
            .escalation(&author)
            .map_err(|e| escalation_error(&e, describe(action), Grant::Gives))?;
    }
    if check.removes_last_administrator() {
        return Err(ApiError::conflict(
            "this change would leave the account without an administrator (an active user or service user holding every `iam:*` permission); make someone else an administrator first",
        )
        .with_details(json!({ "rule": "last-administrator" })));
    }
    Ok(())
}

/// How a refusal names the change, from its audit action.
fn describe(action: &str) -> &'static str {
    match action.split('.').next().unwrap_or_default() {
        "binding" => "this binding",
        "policy" => "this policy change",
        "boundary" => "this boundary change",
        "group" => "this group change",
        "user" if action.ends_with("memberships") => "this membership change",
        "service-user" => "this service-user change",
        _ => "this change",
    }
}

/// How a refused action reaches someone's access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// The action gives them access (a write's effect).
    Gives,
    /// The action lets the caller act with their access (a password, a credential).
    ActsWith,
}

/// The 403 for a refused grant: which permission, where, to whom.
pub fn escalation_error(escalation: &Escalation, what: &str, grant: Grant) -> ApiError {
    let Escalation {
        permission,
        level,
        email,
        member_of,
        refusal,
        ..
    } = escalation;
    let whom = match member_of {
        Some(_) => format!("members of group `{email}`"),
        None => format!("`{email}`"),
    };
    let message = match (refusal, grant) {
        (Refusal::NotHeld, Grant::Gives) => format!(
            "{what} would give {whom} `{permission}` at {level} level, which you do not hold there yourself; only someone who holds it there may grant it (or take away a DENY of it)"
        ),
        (Refusal::NotHeld, Grant::ActsWith) => format!(
            "{what} would let you act as {whom}, who holds `{permission}` at {level} level where you do not; acting as someone needs everything they hold"
        ),
        (Refusal::TooComplex, _) => format!(
            "{what} changes `{permission}` for {whom} at {level} level in a way too complex to check against what you hold; ask someone who holds `{permission}` there without conditions"
        ),
    };
    let mut details = json!({
        "permission": permission,
        "rule": "no-escalation",
        "level": level.to_string(),
    });
    if let Some(object) = details.as_object_mut() {
        match member_of {
            Some(group) => object.insert("group".to_owned(), json!(group.to_string())),
            None => object.insert("principal".to_owned(), json!(email.to_string())),
        };
    }
    ApiError::forbidden(permission, message).with_details(details)
}
