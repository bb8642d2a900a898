//! Self-authorisation and the rules every use case shares: the caller must hold the use case's
//! `iam:*` permission, with conditions taken from the request (SPEC §6), within its token's
//! scopes; acting as someone else needs everything that person holds; workflow ownership that
//! comes with a group is a grant like any other.
//!
//! The effect-based no-escalation check of every change lives in [`super::commit`]; this module
//! holds the checks that are about *who* acts rather than what a change does.

use std::collections::BTreeSet;

use serde_json::json;
use warden_engine::escalation::{Author, check_acting_as};
use warden_engine::{AttributeValue, Attributes, Level, Request, Snapshot};

use crate::model::Model;
use crate::service::actor::Authed;
use crate::service::commit::{Grant, escalation_error};
use crate::service::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Request attributes for a permission check: `(name, value)` pairs.
pub fn attributes(pairs: &[(&str, &str)]) -> Attributes {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), AttributeValue::One((*value).to_owned())))
        .collect()
}

fn environment_of(level: &Level) -> Option<&str> {
    match level {
        Level::Environment(env) => Some(env),
        _ => None,
    }
}

impl AppState {
    /// Refuses with 403, naming the permission, unless the caller's token and the caller hold it.
    pub fn require(
        &self,
        authed: &Authed,
        permission: &str,
        level: &Level,
        attributes: &Attributes,
    ) -> ApiResult<()> {
        if authed.system {
            return Ok(());
        }
        let caller = &authed.caller;
        if !caller.scopes.allow(permission) {
            return Err(ApiError::forbidden(
                permission,
                format!("the token's scopes do not include `{permission}`"),
            ));
        }
        let snapshot = self.snapshot();
        let request = Request {
            principal: &caller.uid,
            permission,
            environment: environment_of(level),
            attributes,
            time: authed.context.now_ms.div_euclid(1000),
        };
        let allowed = snapshot.decide(&request).is_allowed();
        self.usage
            .record(&caller.uid, permission, allowed, authed.context.now_ms);
        if allowed {
            // Using Warden's own API is use too: a suggested policy must keep allowing it.
            self.samples.record(
                &caller.uid,
                permission,
                request.environment,
                authed.context.now_ms,
                |visit| {
                    for (name, value) in attributes {
                        visit(
                            name,
                            warden_engine::AttributeValues::Strings(value.values()),
                        );
                    }
                },
            );
        }
        if allowed {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                permission,
                format!("permission `{permission}` is required for this request"),
            ))
        }
    }
}

/// Whether the caller may use `automation:workflows:admin` in `environment` (admin mode there).
fn workflow_admin(snapshot: &Snapshot, authed: &Authed, environment: &str) -> bool {
    const ADMIN: &str = "automation:workflows:admin";
    authed.system
        || (authed.caller.scopes.allow(ADMIN)
            && snapshot
                .decide(&Request {
                    principal: &authed.caller.uid,
                    permission: ADMIN,
                    environment: Some(environment),
                    attributes: &Attributes::new(),
                    time: authed.context.now_ms.div_euclid(1000),
                })
                .is_allowed())
}

/// Acting as `target` — setting their password, issuing or re-enabling a credential of theirs,
/// managing their credentials — needs everything the target holds (limited to `permissions`, a
/// credential's scopes, when given), and for a full takeover (no limit) also the workflow rights
/// tied to their identity: admin mode in every environment where they own a private workflow or
/// are a workflow's actor. `what` names the action in the refusal.
pub fn require_acting_as(
    snapshot: &Snapshot,
    model: &Model,
    authed: &Authed,
    target: &str,
    permissions: Option<&[String]>,
    what: &str,
) -> ApiResult<()> {
    if authed.system {
        return Ok(());
    }
    let author = Author {
        principal: &authed.caller.uid,
        scopes: authed.caller.scopes.limit(),
    };
    check_acting_as(snapshot, target, permissions, &author)
        .map_err(|e| escalation_error(&e, what, Grant::ActsWith))?;
    let Some(principal) = snapshot.directory().find_principal(target) else {
        return Ok(());
    };
    if permissions.is_some() || *principal.uid == *authed.caller.uid {
        return Ok(());
    }
    let mut environments: BTreeSet<&str> = BTreeSet::new();
    for workflow in model.workflows.values() {
        let owns_private = workflow.is_private
            && workflow.owner_type == "USER"
            && *workflow.owner == *principal.uid;
        if owns_private || *workflow.actor == *principal.uid {
            environments.insert(&workflow.environment);
        }
    }
    if let Some(environment) = environments
        .into_iter()
        .find(|env| !workflow_admin(snapshot, authed, env))
    {
        return Err(ApiError::forbidden(
            "automation:workflows:admin",
            format!(
                "{what} would let you act as `{}`, who owns or runs workflows in `{environment}`; that needs `automation:workflows:admin` there",
                principal.email
            ),
        )
        .with_details(json!({
            "permission": "automation:workflows:admin",
            "rule": "no-escalation",
            "level": format!("environment:{environment}"),
            "principal": principal.email.to_string(),
        })));
    }
    Ok(())
}

/// Joining a group that owns workflows makes its members their owners (they see the private
/// ones, change visibility, transfer them). For each principal whose groups `before` → `after`
/// gained such a group, the caller must be a member of that group already or hold admin mode in
/// the workflow's environment.
pub fn require_workflow_ownership(
    before: &Snapshot,
    after: &Snapshot,
    model: &Model,
    authed: &Authed,
) -> ApiResult<()> {
    if authed.system || model.workflows.is_empty() {
        return Ok(());
    }
    let author_groups = before
        .directory()
        .principal(&authed.caller.uid)
        .map(|p| p.groups.clone());
    for uid in after.directory().changed_principals(before.directory()) {
        let Some(now) = after.directory().principal(&uid).filter(|p| p.active) else {
            continue;
        };
        let had = before.directory().principal(&uid);
        for group in now.groups.iter() {
            if had.is_some_and(|p| p.active && p.groups.contains(group)) {
                continue;
            }
            if author_groups.as_ref().is_some_and(|g| g.contains(group)) {
                continue;
            }
            let owned = model
                .workflows
                .values()
                .filter(|w| w.owner_type == "GROUP" && *w.owner == **group);
            for workflow in owned {
                if !workflow_admin(before, authed, &workflow.environment) {
                    return Err(ApiError::forbidden(
                        "automation:workflows:admin",
                        format!(
                            "`{}` would join a group that owns workflow `{}` in `{}`, which you neither belong to nor administer; that needs membership of the group or `automation:workflows:admin` there",
                            now.email, workflow.title, workflow.environment
                        ),
                    )
                    .with_details(json!({
                        "permission": "automation:workflows:admin",
                        "rule": "no-escalation",
                        "level": format!("environment:{}", workflow.environment),
                        "principal": now.email.to_string(),
                    })));
                }
            }
        }
    }
    Ok(())
}

/// Binding a legacy default policy is refused (SPEC §6): they stay where they are bound, but
/// are not offered for new assignments.
pub fn require_not_legacy(state: &AppState, policy: &str) -> ApiResult<()> {
    match state.builtin.legacy(policy) {
        Some(legacy) => Err(ApiError::conflict(format!(
            "`{}` is a legacy default policy: existing bindings of it stay until removed, but it cannot be bound again; bind one of the current default policies instead",
            legacy.name
        ))
        .with_details(json!({ "policy": legacy.name, "rule": "legacy-policy" }))),
        None => Ok(()),
    }
}
