//! Workflow authorisation (SPEC §9): who may see, change and run a workflow, and what each task of
//! a run may do as the workflow's actor.
//!
//! A task with a human actor may do what the actor may do **and** consented to for the workflow's
//! environment; with a service-user actor, what the service user may do. A deactivated actor can do
//! nothing. Consent is a list of permissions; consenting to a permission one does not hold is
//! allowed, and never grants it (the intersection decides).

use serde::Serialize;

use crate::condition::Attributes;
use crate::directory::PrincipalKind;
use crate::explain::Explanation;
use crate::snapshot::{Decision, Outcome, Reason, Request, Snapshot};

/// Which side refused a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusedBy {
    /// The actor's own permissions (or the actor is unknown or deactivated).
    ActorPermissions,
    /// The human actor did not consent to the permission for this environment.
    Consent,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDecision {
    #[serde(flatten)]
    pub decision: Decision,
    /// The actor's uid, when the actor exists.
    pub actor: Option<String>,
    pub actor_type: Option<PrincipalKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<RefusedBy>,
    pub summary: String,
    /// The engine's explanation of the actor's own decision.
    pub explanation: Explanation,
}

/// A task of a workflow run: the permission it needs, where, on what.
#[derive(Debug, Clone, Copy)]
pub struct Task<'a> {
    pub actor: &'a str,
    pub permission: &'a str,
    pub environment: Option<&'a str>,
    pub attributes: &'a Attributes,
    pub time: i64,
}

impl Snapshot {
    /// Decides a task for the workflow's actor. `consent` is what a human actor consented to for
    /// the environment (`None`: nothing; ignored for a service user).
    pub fn authorize_task(&self, task: &Task<'_>, consent: Option<&[String]>) -> TaskDecision {
        let request = Request {
            principal: task.actor,
            permission: task.permission,
            environment: task.environment,
            attributes: task.attributes,
            time: task.time,
        };
        let explanation = self.explain(&request);
        let actor = self.directory().find_principal(task.actor);
        let actor_uid = actor.map(|p| p.uid.to_string());
        let actor_type = actor.map(|p| p.kind);
        if !explanation.decision.is_allowed() {
            let summary = format!(
                "refused by the actor's permissions: {}",
                explanation.summary
            );
            return TaskDecision {
                decision: explanation.decision,
                actor: actor_uid,
                actor_type,
                refused_by: Some(RefusedBy::ActorPermissions),
                summary,
                explanation,
            };
        }
        if actor_type == Some(PrincipalKind::User) {
            let consented = consent.unwrap_or(&[]);
            // Consent is what the automation engine may use, so it reads like an ALLOW: consent
            // to a permission covers what that permission implies (SPEC §3 step 4).
            let covered = consented.iter().any(|c| {
                c == task.permission
                    || self
                        .catalogue()
                        .implied_by(task.permission)
                        .iter()
                        .any(|implying| implying == c)
            });
            if !covered {
                let where_ = task
                    .environment
                    .map_or_else(|| "at account level".to_owned(), |e| format!("in `{e}`"));
                let summary = format!(
                    "refused by consent: the actor may `{}` but did not consent to the automation engine using it {where_}",
                    task.permission
                );
                return TaskDecision {
                    decision: Decision {
                        outcome: Outcome::Deny,
                        reason: Reason::NoConsent,
                    },
                    actor: actor_uid,
                    actor_type,
                    refused_by: Some(RefusedBy::Consent),
                    summary,
                    explanation,
                };
            }
        }
        let summary = format!("allowed: {}", explanation.summary);
        TaskDecision {
            decision: explanation.decision,
            actor: actor_uid,
            actor_type,
            refused_by: None,
            summary,
            explanation,
        }
    }
}

/// Who owns a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner<'a> {
    User(&'a str),
    Group(&'a str),
}

impl Snapshot {
    /// Whether `principal` owns the workflow: it is the owning user, or a member of the owning
    /// group.
    pub fn is_owner(&self, principal: &str, owner: &Owner<'_>) -> bool {
        let Some(found) = self.directory().find_principal(principal) else {
            return false;
        };
        match owner {
            Owner::User(uid) => *found.uid == **uid,
            Owner::Group(group) => found.groups.iter().any(|g| **g == **group),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Binding, Builtin, Directory, Group, Level, PolicyRecord, Principal};

    fn snapshot() -> Snapshot {
        let builtin = Builtin::load(&[]).unwrap();
        let mut directory = Directory::new("acc");
        directory.add_environment("env-prod");
        let policy = PolicyRecord::parse(
            "p",
            "p",
            Level::Account,
            "ALLOW settings:objects:write;\nALLOW environment:roles:manage-settings;",
            &builtin.catalogue,
        )
        .unwrap();
        directory.upsert_policy(policy).unwrap();
        directory.upsert_group(Group::new("g", "g")).unwrap();
        directory
            .add_binding(Binding::new(Level::Account, "p", "g"))
            .unwrap();
        directory
            .upsert_principal(Principal::user("bob", "bob@example.com"))
            .unwrap();
        directory.set_memberships("bob", vec!["g".into()]).unwrap();
        directory
            .upsert_principal(Principal::service_user(
                "svc",
                "svc@service.x",
                "pipeline@service",
                "Pipeline",
            ))
            .unwrap();
        directory.set_memberships("svc", vec!["g".into()]).unwrap();
        Snapshot::build(directory, Arc::new(builtin.catalogue), 1)
    }

    fn task<'a>(actor: &'a str, permission: &'a str, attributes: &'a Attributes) -> Task<'a> {
        Task {
            actor,
            permission,
            environment: Some("env-prod"),
            attributes,
            time: 0,
        }
    }

    #[test]
    fn a_human_actor_needs_permission_and_consent() {
        let snapshot = snapshot();
        let attributes = Attributes::new();
        let consented = vec!["settings:objects:write".to_owned()];
        let allowed = snapshot.authorize_task(
            &task("bob", "settings:objects:write", &attributes),
            Some(&consented),
        );
        assert!(allowed.decision.is_allowed());
        let no_consent = snapshot.authorize_task(
            &task("bob", "settings:objects:write", &attributes),
            Some(&[]),
        );
        assert_eq!(
            (no_consent.decision.reason, no_consent.refused_by),
            (Reason::NoConsent, Some(RefusedBy::Consent))
        );
        let consent_only = vec!["settings:objects:read".to_owned()];
        let not_held = snapshot.authorize_task(
            &task("bob", "settings:objects:read", &attributes),
            Some(&consent_only),
        );
        assert_eq!(
            not_held.refused_by,
            Some(RefusedBy::ActorPermissions),
            "consent never grants"
        );
        // Consent to an implying permission covers the implied one, as an ALLOW of it grants it;
        // never the other way round.
        let roles = vec!["environment:roles:manage-settings".to_owned()];
        assert!(
            snapshot
                .authorize_task(
                    &task("bob", "environment:roles:viewer", &attributes),
                    Some(&roles)
                )
                .decision
                .is_allowed()
        );
        let viewer = vec!["environment:roles:viewer".to_owned()];
        assert_eq!(
            snapshot
                .authorize_task(
                    &task("bob", "environment:roles:manage-settings", &attributes),
                    Some(&viewer)
                )
                .refused_by,
            Some(RefusedBy::Consent)
        );
    }

    #[test]
    fn a_service_user_actor_needs_no_consent() {
        let snapshot = snapshot();
        let attributes = Attributes::new();
        let decision = snapshot.authorize_task(
            &task("pipeline@service", "settings:objects:write", &attributes),
            None,
        );
        assert!(decision.decision.is_allowed());
        assert_eq!(decision.actor_type, Some(PrincipalKind::ServiceUser));
    }

    #[test]
    fn ownership_by_user_or_group_membership() {
        let snapshot = snapshot();
        assert!(snapshot.is_owner("bob@example.com", &Owner::User("bob")));
        assert!(snapshot.is_owner("bob", &Owner::Group("g")));
        assert!(!snapshot.is_owner("bob", &Owner::Group("other")));
        assert!(!snapshot.is_owner("nobody", &Owner::User("bob")));
    }
}
