//! The workflows of a test file (SPEC §9) and the consent of its users.
//!
//! A workflow names its owner (a user or service user as cases name them, or a group), its actor
//! (a user or service user; the owner when not given, as the creator is by default) and its
//! environment. `consent:` holds, per user and environment, the permissions the automation engine
//! may use as that user. Everything is resolved here, with every problem located; deciding a task
//! is the engine's workflow authorisation ([`crate::snapshot::Snapshot::authorize_task`]), called
//! by [`super::cases`].
//!
//! Nothing here guesses: a name that is both a principal and a group, a group or nobody as the
//! actor, consent given to a service user (which needs none) or given twice are errors of the file.

use std::collections::BTreeMap;

use super::cases::check_permission;
use super::model::WorkflowDef;
use super::principals::unknown_principal;
use super::report::{Pos, Problem};
use super::world::{Builder, Kind, Known, unknown_environment};
use super::yaml::{Text, did_you_mean, suggest, text_pos};
use crate::directory::{Id, PrincipalKind, normalise_email};

/// A workflow ready for its cases.
#[derive(Debug, Clone)]
pub(super) struct Workflow {
    /// As first written.
    pub name: String,
    /// The actor as the file wrote it (in the workflow's `actor`, or its `owner`).
    pub actor_shown: String,
    /// What decisions name the actor by: the email of a user, the handle of a service user.
    pub actor_key: String,
    pub actor_uid: Id,
    pub environment: String,
}

/// Who owns a workflow.
#[derive(Debug, Clone)]
enum Owner {
    Principal(Known),
    Group,
}

impl Builder<'_> {
    pub(super) fn workflows(&mut self) {
        for (n, definition) in self.file.workflows.iter().enumerate() {
            if !self.define(Kind::Workflow, &definition.name) {
                continue;
            }
            let owner = match &definition.owner {
                None => Some(None),
                Some(owner) => self.owner(owner).map(Some),
            };
            let actor = match (&definition.actor, &owner) {
                (Some(actor), _) => self.principal(actor).map(|known| (known, actor.as_str())),
                (None, Some(Some(Owner::Principal(known)))) => definition
                    .owner
                    .as_ref()
                    .map(|owner| (known.clone(), owner.as_str())),
                (None, Some(owner)) => {
                    self.error(no_actor(definition, owner.is_some()));
                    None
                }
                (None, None) => None,
            };
            let environment = definition
                .environment
                .as_ref()
                .filter(|e| self.environment(e));
            let (Some(_), Some((known, shown)), Some(environment)) = (owner, actor, environment)
            else {
                continue;
            };
            let id: Id = format!("workflow-{}", n + 1).into();
            let name = definition.name.as_str();
            self.table(Kind::Workflow).set_id(name, &id);
            self.world.workflows.insert(
                id,
                Workflow {
                    name: name.to_owned(),
                    actor_shown: shown.to_owned(),
                    actor_key: known.key.clone(),
                    actor_uid: known.uid.clone(),
                    environment: environment.as_str().to_owned(),
                },
            );
        }
    }

    /// A principal as cases name it; unknown is a problem unless `users:` or `service_users:`
    /// could not be read.
    fn principal(&mut self, name: &Text) -> Option<Known> {
        let found = self.world.principals.get(&normalise_email(name)).cloned();
        if found.is_none() && self.file.complete.principals {
            let problem = unknown_principal(&self.world, name);
            self.error(problem);
        }
        found
    }

    /// A user or service user, or a group; a name that is both is ambiguous.
    fn owner(&mut self, name: &Text) -> Option<Owner> {
        let principal = self.world.principals.get(&normalise_email(name)).cloned();
        let group = self.groups.find(name).map(|g| g.name.clone());
        let at = text_pos(name);
        match (principal, group) {
            (Some(known), None) => Some(Owner::Principal(known)),
            (None, Some(_)) => Some(Owner::Group),
            (Some(known), Some(group)) => {
                let message = format!(
                    "owner `{}` names both the principal `{}` and the group `{group}`",
                    name.as_str(),
                    known.shown
                );
                let help = "rename the group or the service user: an owner must name one of them";
                self.error(Problem::new(at, message).with_help(help));
                None
            }
            (None, None) => {
                if self.file.complete.principals && self.file.complete.groups {
                    let principals = self.world.principals.values().map(|k| k.shown.as_str());
                    let candidates: Vec<&str> = principals.chain(self.groups.names()).collect();
                    let help =
                        did_you_mean(suggest(name, candidates.into_iter())).unwrap_or_else(|| {
                            "name a user by email, a service user by name or handle, or a group \
                             by name"
                                .to_owned()
                        });
                    let message = format!("unknown owner `{}`", name.as_str());
                    self.error(Problem::new(at, message).with_help(help));
                }
                None
            }
        }
    }

    /// A listed environment; unknown is a problem unless `environments:` could not be read.
    fn environment(&mut self, environment: &Text) -> bool {
        if self.world.directory.has_environment(environment) {
            return true;
        }
        if self.file.complete.environments {
            let at = text_pos(environment);
            let problem = unknown_environment(&self.world.directory, at, environment);
            self.error(problem);
        }
        false
    }

    pub(super) fn consent(&mut self) {
        let mut given: BTreeMap<Id, Pos> = BTreeMap::new();
        for definition in &self.file.consent {
            let user = &definition.user;
            let at = text_pos(user);
            let Some(known) = self.principal(user) else {
                continue;
            };
            let kind = self.world.directory.principal(&known.uid).map(|p| p.kind);
            if kind == Some(PrincipalKind::ServiceUser) {
                let message = format!(
                    "`{}` is a service user, and service users need no consent",
                    user.as_str()
                );
                let help = "remove it: a task that runs as a service user may do what the \
                            service user may do";
                self.error(Problem::new(at, message).with_help(help));
                continue;
            }
            if let Some(first) = given.insert(known.uid.clone(), at) {
                let message = format!(
                    "the consent of `{}` is given twice (first at line {})",
                    user.as_str(),
                    first.line
                );
                let help = "emails are matched without regard to case; merge the two";
                self.error(Problem::new(at, message).with_help(help));
                continue;
            }
            for (environment, permissions) in &definition.environments {
                if !self.environment(environment) {
                    continue;
                }
                let mut consented: Vec<String> = Vec::new();
                for permission in permissions {
                    if check_permission(permission, &self.world, self.errors)
                        && !consented.iter().any(|c| c == permission.as_str())
                    {
                        consented.push(permission.as_str().to_owned());
                    }
                }
                let key = (known.uid.clone(), environment.as_str().to_owned());
                self.world.consents.insert(key, consented);
            }
        }
    }
}

fn no_actor(definition: &WorkflowDef, group_owner: bool) -> Problem {
    let help = if group_owner {
        "add `actor:` with the user or service user its tasks run as: a group cannot be an actor"
    } else {
        "add `actor:` (a user's email, or a service user's name or handle), or an `owner:` who is \
         its actor"
    };
    Problem::new(
        text_pos(&definition.name),
        format!("workflow `{}` has no `actor`", definition.name.as_str()),
    )
    .with_help(help)
}
