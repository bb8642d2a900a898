//! The groups of a test file and their bindings: policies by name (the file's or built-in ones,
//! by name or alias), the level, bind parameters and boundaries by name. Default groups named in
//! `groups:` get the file's bindings in addition to their own.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::model::BindingDef;
use super::names::slug;
use super::report::{Pos, Problem};
use super::world::{Builder, Kind, unknown_environment};
use super::yaml::{OneOrMany, Text, did_you_mean, suggest, text_pos};
use crate::compile::unrestricted_by_boundaries;
use crate::directory::{Binding, BoundaryRecord, Group, Id, Level};
use crate::params::{ParamValue, check_pattern_parameters};

impl Builder<'_> {
    pub(super) fn groups(&mut self) {
        for definition in &self.builtin.groups {
            self.groups
                .add_builtin(&definition.name, &slug(&definition.name));
        }
        let mut created = 0;
        for group in &self.file.groups {
            let name = group.name.as_str();
            let at = text_pos(&group.name);
            let builtin = self.groups.find(name).filter(|g| g.builtin);
            if let Some(id) = builtin.and_then(|g| g.id.clone()) {
                // A default group named in `groups:` gets the file's bindings besides its own.
                if let Some(first) = self.world.group_pos.insert(Arc::clone(&id), at) {
                    let message = format!(
                        "group `{name}` is listed twice (first at line {})",
                        first.line
                    );
                    let help = "names are matched without regard to case; merge the two lists";
                    self.error(Problem::new(at, message).with_help(help));
                }
                continue;
            }
            if !self.define(Kind::Group, &group.name) {
                continue;
            }
            created += 1;
            let id: Id = format!("group-{created}").into();
            self.groups.set_id(name, &id);
            self.world.group_pos.insert(Arc::clone(&id), at);
            if let Err(error) = self.world.directory.upsert_group(Group::new(&id, name)) {
                self.error(Problem::new(at, format!("group `{name}`: {error}")));
            }
        }
        for group in &self.file.groups {
            let Some(id) = self.groups.find(&group.name).and_then(|g| g.id.clone()) else {
                continue;
            };
            for binding in &group.bindings {
                self.binding(&id, &group.name, binding);
            }
        }
    }

    fn binding(&mut self, group: &Id, group_name: &str, binding: &BindingDef) {
        let policy = binding.policy.as_ref().and_then(|p| self.resolve_policy(p));
        let level = self.resolve_level(binding.level.as_ref());
        let mut boundaries = Some(Vec::new());
        for name in &binding.boundaries {
            match (self.resolve(Kind::Boundary, name), boundaries.as_mut()) {
                (Some(id), Some(list)) => list.push(id),
                _ => boundaries = None,
            }
        }
        let (Some(policy), Some(level), Some(boundaries)) = (policy, level, boundaries) else {
            return;
        };
        let parameters: BTreeMap<String, ParamValue> = binding
            .parameters
            .iter()
            .map(|(name, value)| {
                let value = match &**value {
                    OneOrMany::One(one) => ParamValue::One(one.clone()),
                    OneOrMany::Many(many) => ParamValue::Many(many.clone()),
                };
                (name.as_str().to_owned(), value)
            })
            .collect();
        let binding_value = Binding {
            level,
            policy: Arc::clone(&policy),
            group: Arc::clone(group),
            parameters,
            boundaries: boundaries.clone(),
            metadata: binding
                .justification
                .iter()
                .map(|j| ("justification".to_owned(), j.as_str().to_owned()))
                .collect(),
        };
        let policy_name = binding.policy.as_ref().map_or("", |p| p.as_str());
        // Refused as the server refuses it, so a test file never predicts a binding the server
        // would not accept (a wildcard smuggled into a MATCH pattern through a parameter).
        let pattern_check = self
            .world
            .directory
            .policy(&policy)
            .map(|record| check_pattern_parameters(&record.ast, &binding_value.parameters));
        if let Some(Err(error)) = pattern_check {
            self.error(Problem::new(
                binding.at,
                format!("binding of policy `{policy_name}` to group `{group_name}`: {error}"),
            ));
            return;
        }
        if let Err(error) = self.world.directory.add_binding(binding_value) {
            self.error(Problem::new(
                binding.at,
                format!("binding of policy `{policy_name}` to group `{group_name}`: {error}"),
            ));
            return;
        }
        let directory = &self.world.directory;
        let Some(record) = directory.policy(&policy) else {
            return;
        };
        let records: Vec<Arc<BoundaryRecord>> = boundaries
            .iter()
            .filter_map(|b| directory.boundary(b).cloned())
            .collect();
        for (boundary, permission) in
            unrestricted_by_boundaries(record, &records, &self.world.catalogue)
        {
            let message = format!(
                "boundary `{boundary}` leaves `{permission}` of policy `{policy_name}` \
                 unrestricted: none of its conditions applies to that permission"
            );
            let help = "a boundary narrows only the permissions that support one of its \
                        conditions, and several boundaries are unioned: bind that permission \
                        through another policy if it must be narrowed";
            self.warnings
                .push(Problem::new(binding.boundaries_at, message).with_help(help));
        }
    }

    fn resolve_policy(&mut self, name: &Text) -> Option<Id> {
        if self.policies.find(name).is_some() {
            return self.resolve(Kind::Policy, name);
        }
        // Legacy policies too: a test file describes existing assignments, which keep them
        // (SPEC §6); only new bindings through the API are refused.
        if let Some(global) = self.builtin.policy(name) {
            return Some(global.id().into());
        }
        if !self.file.complete.policies {
            return None;
        }
        let globals = self
            .builtin
            .policies
            .iter()
            .flat_map(|p| std::iter::once(&p.name).chain(&p.aliases))
            .map(String::as_str);
        let suggestion = suggest(name, self.policies.names().chain(globals));
        self.error(
            Problem::new(
                text_pos(name),
                format!("unknown policy `{}`", name.as_str()),
            )
            .with_help(did_you_mean(suggestion).unwrap_or_else(|| {
                "define it under `policies:` or bind a built-in policy by its name".to_owned()
            })),
        );
        None
    }

    /// A file-defined name; unknown is a problem unless its section could not be read.
    pub(super) fn resolve(&mut self, kind: Kind, name: &Text) -> Option<Id> {
        if let Some(entry) = self.table(kind).find(name) {
            return entry.id.clone();
        }
        let complete = match kind {
            Kind::Policy => self.file.complete.policies,
            Kind::Boundary => self.file.complete.boundaries,
            Kind::Group => self.file.complete.groups,
            Kind::Workflow => self.file.complete.workflows,
        };
        if !complete {
            return None;
        }
        let suggestion = suggest(name, self.table(kind).names());
        let help = did_you_mean(suggestion).unwrap_or_else(|| kind.define_help().to_owned());
        self.error(
            Problem::new(
                text_pos(name),
                format!("unknown {} `{}`", kind.noun(), name.as_str()),
            )
            .with_help(help),
        );
        None
    }

    fn resolve_level(&mut self, level: Option<&Text>) -> Option<Level> {
        let Some(level) = level else {
            return Some(Level::Account);
        };
        if level.as_str() == "account" {
            return Some(Level::Account);
        }
        let Some(environment) = level.strip_prefix("environment:") else {
            self.error(
                Problem::new(
                    text_pos(level),
                    format!("`{}` is not a binding level", level.as_str()),
                )
                .with_help("write `account` or `environment:<id>`, such as `environment:env-prod`"),
            );
            return None;
        };
        if self.world.directory.has_environment(environment) {
            return Some(Level::Environment(environment.into()));
        }
        if self.file.complete.environments {
            let problem = self.unknown_environment(text_pos(level), environment);
            self.error(problem);
        }
        None
    }

    fn unknown_environment(&self, at: Pos, environment: &str) -> Problem {
        unknown_environment(&self.world.directory, at, environment)
    }
}
