//! The world a test file describes: the built-in catalogue plus its custom services, and a
//! directory holding the built-in global policies and default groups plus its environments,
//! boundaries, policies, groups with their bindings, users and service users.
//!
//! Every name is resolved here, case-insensitively for policies, groups and boundaries (SPEC §11).
//! A name that resolves to nothing, a definition that clashes with another, a policy or boundary
//! text that does not validate: each is a located problem, and building goes on so that one run
//! reports them all. The cases themselves are resolved by [`super::cases`].
//!
//! This module owns the builder, environments, policies and boundaries; [`super::services`],
//! [`super::bindings`], [`super::principals`] and [`super::workflows`] add custom services,
//! groups with their bindings, users and service users, and workflows with consent.

use std::collections::BTreeMap;

use warden_policy::{Catalogue, Diagnostic};

use super::locate::SourceLines;
use super::model::{NamedText, TestFile};
use super::names::{NameTable, slug};
use super::report::{Pos, Problem};
use super::workflows::Workflow;
use super::yaml::{Text, suggest, text_pos};
use crate::builtin::Builtin;
use crate::directory::{BoundaryRecord, Directory, Id, Level, PolicyRecord};

/// The account every test file runs in.
pub const ACCOUNT: &str = "test-account";
/// The domain of service-user emails (SPEC §7's default).
pub const SERVICE_DOMAIN: &str = "service.warden.local";

/// The uid of the `n`th user of a file (1-based), stable across runs.
pub fn user_uid(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// The uid of the `n`th service user of a file (1-based), stable across runs.
pub fn service_user_uid(n: usize) -> String {
    format!("00000000-0000-4000-9000-{n:012}")
}

/// A principal as cases may name it.
#[derive(Debug, Clone)]
pub(super) struct Known {
    pub uid: Id,
    /// What requests name it by: the email of a user, the handle of a service user.
    pub key: String,
    /// The name as the file wrote it (for suggestions).
    pub shown: String,
}

#[derive(Debug)]
pub(super) struct World {
    pub catalogue: Catalogue,
    pub directory: Directory,
    /// Email, service-user name, handle or service-user email, trimmed and lower-cased (like
    /// emails are normalised) → the principal.
    pub principals: BTreeMap<String, Known>,
    /// A custom service had problems: unknown permissions are then not reported, they may be its.
    pub broken_services: bool,
    /// Where each group is defined, for problems found when compiling it.
    pub group_pos: BTreeMap<Id, Pos>,
    /// The workflows' names, matched without regard to case; their ids key `workflows`.
    pub workflow_names: NameTable,
    pub workflows: BTreeMap<Id, Workflow>,
    /// (user uid, environment) → the permissions the user consented to there.
    pub consents: BTreeMap<(Id, String), Vec<String>>,
}

/// Builds a [`World`], collecting problems.
pub(super) struct Builder<'a> {
    pub file: &'a TestFile,
    pub builtin: &'a Builtin,
    pub lines: SourceLines<'a>,
    pub errors: &'a mut Vec<Problem>,
    pub warnings: &'a mut Vec<Problem>,
    pub world: World,
    pub policies: NameTable,
    pub boundaries: NameTable,
    pub groups: NameTable,
}

/// Builds the world; problems go to `errors` (the file is invalid) and `warnings`.
pub(super) fn build(
    builtin: &Builtin,
    file: &TestFile,
    source: &str,
    errors: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> World {
    let mut builder = Builder {
        file,
        builtin,
        lines: SourceLines::new(source),
        errors,
        warnings,
        world: World {
            catalogue: builtin.catalogue.clone(),
            directory: Directory::new(ACCOUNT),
            principals: BTreeMap::new(),
            broken_services: !file.complete.services,
            group_pos: BTreeMap::new(),
            workflow_names: NameTable::default(),
            workflows: BTreeMap::new(),
            consents: BTreeMap::new(),
        },
        policies: NameTable::default(),
        boundaries: NameTable::default(),
        groups: NameTable::default(),
    };
    builder.services();
    builder.environments();
    if let Err(error) = builtin.install(&mut builder.world.directory, |name| slug(name).into()) {
        builder.error(Problem::new(
            Pos::START,
            format!("the built-in policies and groups cannot be installed: {error}"),
        ));
    }
    builder.boundaries();
    builder.policies();
    builder.groups();
    builder.users();
    builder.service_users();
    builder.deactivated();
    builder.workflows();
    builder.consent();
    builder.world
}

impl Builder<'_> {
    pub fn error(&mut self, problem: Problem) {
        self.errors.push(problem);
    }

    // ---- environments --------------------------------------------------------------------------

    fn environments(&mut self) {
        for environment in &self.file.environments {
            let id = environment.as_str();
            if id.is_empty() || id.chars().any(char::is_whitespace) {
                self.error(
                    Problem::new(
                        text_pos(environment),
                        format!("`{id}` is not an environment id"),
                    )
                    .with_help("use an id without spaces, such as `env-prod`"),
                );
            } else if self.world.directory.has_environment(id) {
                self.error(Problem::new(
                    text_pos(environment),
                    format!("environment `{id}` is listed twice"),
                ));
            } else {
                self.world.directory.add_environment(id);
            }
        }
    }

    // ---- boundaries and policies ----------------------------------------------------------------

    fn boundaries(&mut self) {
        for (n, definition) in self.file.boundaries.iter().enumerate() {
            let id = format!("boundary-{}", n + 1);
            if !self.define(Kind::Boundary, &definition.name) {
                continue;
            }
            let Some(text) = &definition.text else {
                continue;
            };
            let name = definition.name.as_str();
            match BoundaryRecord::parse(&id, name, text, &self.world.catalogue) {
                Ok(record) => {
                    self.boundaries.set_id(name, &id);
                    if let Err(error) = self.world.directory.upsert_boundary(record) {
                        let at = text_pos(&definition.name);
                        self.error(Problem::new(at, format!("boundary `{name}`: {error}")));
                    }
                }
                Err(diagnostics) => {
                    self.text_problems(Kind::Boundary, definition, text, &diagnostics)
                }
            }
        }
    }

    fn policies(&mut self) {
        for (n, definition) in self.file.policies.iter().enumerate() {
            let id = format!("policy-{}", n + 1);
            let name = definition.name.as_str();
            if let Some(global) = self.builtin.policy(name) {
                self.error(
                    Problem::new(
                        text_pos(&definition.name),
                        format!(
                            "policy `{name}` has the name of the built-in policy `{}`",
                            global.name
                        ),
                    )
                    .with_help(
                        "choose another name; built-in policies can be bound without being defined",
                    ),
                );
                continue;
            }
            if !self.define(Kind::Policy, &definition.name) {
                continue;
            }
            let Some(text) = &definition.text else {
                continue;
            };
            match PolicyRecord::parse(&id, name, Level::Account, text, &self.world.catalogue) {
                Ok(record) => {
                    self.policies.set_id(name, &id);
                    if let Err(error) = self.world.directory.upsert_policy(record) {
                        let at = text_pos(&definition.name);
                        self.error(Problem::new(at, format!("policy `{name}`: {error}")));
                    }
                }
                Err(diagnostics) => {
                    self.text_problems(Kind::Policy, definition, text, &diagnostics)
                }
            }
        }
    }

    /// Records a name; a second definition of it (in any case) is a problem.
    pub fn define(&mut self, kind: Kind, name: &Text) -> bool {
        let at = text_pos(name);
        if name.trim().is_empty() {
            self.error(Problem::new(at, format!("a {} needs a name", kind.noun())));
            return false;
        }
        let clash = self
            .table(kind)
            .find(name)
            .map(|first| (first.name.clone(), first.at, first.builtin));
        if let Some((first, first_at, builtin)) = clash {
            let message = if builtin {
                format!("{} `{}` is a default group", kind.noun(), name.as_str())
            } else if first == name.as_str() {
                format!(
                    "{} `{first}` is defined twice (first at line {})",
                    kind.noun(),
                    first_at.line
                )
            } else {
                format!(
                    "{} `{}` is already defined as `{first}` at line {}: names are matched \
                     without regard to case",
                    kind.noun(),
                    name.as_str(),
                    first_at.line
                )
            };
            self.error(Problem::new(at, message).with_help("rename or remove one of them"));
            return false;
        }
        self.table(kind).add(name, at);
        true
    }

    pub fn table(&mut self, kind: Kind) -> &mut NameTable {
        match kind {
            Kind::Policy => &mut self.policies,
            Kind::Boundary => &mut self.boundaries,
            Kind::Group => &mut self.groups,
            Kind::Workflow => &mut self.world.workflow_names,
        }
    }

    /// The error diagnostics of a policy or boundary text, located in the file.
    fn text_problems(
        &mut self,
        kind: Kind,
        definition: &NamedText,
        text: &Text,
        diagnostics: &[Diagnostic],
    ) {
        for diagnostic in diagnostics.iter().filter(|d| d.is_error()) {
            let inside = diagnostic.located(text).start;
            let (at, within) = match self.lines.locate(text, inside.line, inside.column) {
                Some(at) => (at, String::new()),
                None => (
                    text_pos(text),
                    format!(" (at {}:{} of the text)", inside.line, inside.column),
                ),
            };
            self.error(
                Problem::new(
                    at,
                    format!(
                        "{} `{}`: {}{within}",
                        kind.noun(),
                        definition.name.as_str(),
                        diagnostic.message
                    ),
                )
                .maybe_help(diagnostic.help.clone()),
            );
        }
    }
}

/// The kinds of names a file defines.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Policy,
    Boundary,
    Group,
    Workflow,
}

impl Kind {
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Policy => "policy",
            Kind::Boundary => "boundary",
            Kind::Group => "group",
            Kind::Workflow => "workflow",
        }
    }

    pub fn define_help(self) -> &'static str {
        match self {
            Kind::Policy => "define it under `policies:`",
            Kind::Boundary => "define it under `boundaries:`",
            Kind::Group => {
                "define it under `groups:` or use a default group such as `Environment Users`"
            }
            Kind::Workflow => "define it under `workflows:`",
        }
    }
}

pub(super) fn unknown_environment(directory: &Directory, at: Pos, environment: &str) -> Problem {
    let defined = directory.environments();
    let help = match suggest(environment, defined.iter().map(|e| &**e)) {
        Some(s) => format!("did you mean `{s}`?"),
        None if defined.is_empty() => "list it under `environments:`".to_owned(),
        None => format!(
            "the file defines {}",
            defined
                .iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Problem::new(at, format!("unknown environment `{environment}`")).with_help(help)
}
