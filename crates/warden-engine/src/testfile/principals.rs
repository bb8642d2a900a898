//! The users and service users of a test file, their groups, and which are deactivated. Cases
//! name users by email and service users by name, handle (SPEC §7) or email.

use std::sync::Arc;

use super::model::MemberDef;
use super::report::{Pos, Problem};
use super::world::{Builder, Kind, Known, SERVICE_DOMAIN, World, service_user_uid, user_uid};
use super::yaml::{Text, did_you_mean, suggest, text_pos};
use crate::directory::{Principal, normalise_email};
use crate::naming::service_user_handle;

impl Builder<'_> {
    pub(super) fn users(&mut self) {
        for (n, user) in self.file.users.iter().enumerate() {
            let email = normalise_email(&user.name);
            let at = text_pos(&user.name);
            if !is_email(&email) {
                let message = format!("`{}` is not an email address", user.name.as_str());
                let help = "name users by email, such as `alice@example.com`; service users go \
                            under `service_users:`";
                self.error(Problem::new(at, message).with_help(help));
                continue;
            }
            let uid = user_uid(n + 1);
            if !self.know(&email, at, &uid, &email) {
                continue;
            }
            self.member(Principal::user(&uid, &email), user);
        }
    }

    pub(super) fn service_users(&mut self) {
        for (n, service_user) in self.file.service_users.iter().enumerate() {
            let name = service_user.name.as_str();
            let at = text_pos(&service_user.name);
            if name.trim().is_empty() {
                self.error(Problem::new(at, "a service user needs a name"));
                continue;
            }
            let uid = service_user_uid(n + 1);
            let principals = &self.world.principals;
            let handle = service_user_handle(name, |h| principals.contains_key(h));
            let email = format!("{uid}@{SERVICE_DOMAIN}");
            if !self.know(name, at, &uid, &handle) {
                continue;
            }
            self.know(&handle, at, &uid, &handle);
            self.know(&email, at, &uid, &handle);
            let principal = Principal::service_user(&uid, &email, &handle, name);
            self.member(principal, service_user);
        }
    }

    /// Makes a principal known to cases by `name`; a name already taken is a problem.
    fn know(&mut self, name: &str, at: Pos, uid: &str, key: &str) -> bool {
        let lower = normalise_email(name);
        if self.world.principals.contains_key(&lower) {
            self.error(
                Problem::new(at, format!("principal `{name}` is defined twice")).with_help(
                    "emails, service-user names and handles are matched without regard to case",
                ),
            );
            return false;
        }
        let known = Known {
            uid: uid.into(),
            key: key.to_owned(),
            shown: name.to_owned(),
        };
        self.world.principals.insert(lower, known);
        true
    }

    /// Adds the principal with the groups its definition names.
    fn member(&mut self, principal: Principal, definition: &MemberDef) {
        let uid = Arc::clone(&principal.uid);
        let at = text_pos(&definition.name);
        if let Err(error) = self.world.directory.upsert_principal(principal) {
            self.error(Problem::new(
                at,
                format!("`{}`: {error}", definition.name.as_str()),
            ));
            return;
        }
        let mut groups = Vec::new();
        for name in &definition.groups {
            if let Some(id) = self.resolve(Kind::Group, name) {
                groups.push(id);
            }
        }
        if let Err(error) = self.world.directory.set_memberships(&uid, groups) {
            self.error(Problem::new(
                at,
                format!("`{}`: {error}", definition.name.as_str()),
            ));
        }
    }

    pub(super) fn deactivated(&mut self) {
        for name in &self.file.deactivated {
            match self.world.principals.get(&normalise_email(name)).cloned() {
                Some(known) => {
                    if let Err(error) = self.world.directory.set_active(&known.uid, false) {
                        self.error(Problem::new(
                            text_pos(name),
                            format!("`{}`: {error}", name.as_str()),
                        ));
                    }
                }
                None if self.file.complete.principals => {
                    let problem = unknown_principal(&self.world, name);
                    self.error(problem);
                }
                None => {}
            }
        }
    }
}

fn is_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

pub(super) fn unknown_principal(world: &World, name: &Text) -> Problem {
    let known = world.principals.values().map(|k| k.shown.as_str());
    let help = did_you_mean(suggest(name, known)).unwrap_or_else(|| {
        "define it under `users:` (by email) or `service_users:` (by name)".to_owned()
    });
    Problem::new(
        text_pos(name),
        format!("unknown principal `{}`", name.as_str()),
    )
    .with_help(help)
}
