//! The custom services of a test file (SPEC §11 `services:`), added to a copy of the catalogue
//! for that file only: `conditions: {name: [operators]}`,
//! `permissions: {permission: [conditions]}`.

use warden_policy::catalogue::{
    ConditionFile, ConditionRef, PermissionFile, ServiceFile, ServiceHeader,
};

use super::model::ServiceDef;
use super::report::Problem;
use super::world::Builder;
use super::yaml::{Text, did_you_mean, suggest, text_pos};

impl Builder<'_> {
    pub(super) fn services(&mut self) {
        for service in &self.file.services {
            let before = self.errors.len();
            self.check_service_conditions(service);
            if self.errors.len() > before {
                self.world.broken_services = true;
                continue;
            }
            let definition = service_file(service);
            if let Err(problems) = self
                .world
                .catalogue
                .add_custom_service(service.name.as_str(), definition)
            {
                self.world.broken_services = true;
                for problem in problems {
                    let at = service
                        .conditions
                        .iter()
                        .chain(&service.permissions)
                        .find(|(name, _)| name.as_str() == problem.entry)
                        .map_or_else(|| text_pos(&service.name), |(name, _)| text_pos(name));
                    self.error(Problem::new(
                        at,
                        format!("service `{}`: {}", service.name.as_str(), problem.message),
                    ));
                }
            }
        }
    }

    /// Every condition a permission lists must be defined by the service.
    fn check_service_conditions(&mut self, service: &ServiceDef) {
        for (permission, conditions) in &service.permissions {
            for condition in conditions {
                if service
                    .conditions
                    .iter()
                    .any(|(name, _)| name.as_str() == condition.as_str())
                {
                    continue;
                }
                let defined = service.conditions.iter().map(|(name, _)| name.as_str());
                let help = did_you_mean(suggest(condition, defined)).unwrap_or_else(|| {
                    format!(
                        "define it under `conditions:` of service `{}`",
                        service.name.as_str()
                    )
                });
                self.error(
                    Problem::new(
                        text_pos(condition),
                        format!(
                            "permission `{}` lists condition `{}`, which service `{}` does not \
                             define",
                            permission.as_str(),
                            condition.as_str(),
                            service.name.as_str()
                        ),
                    )
                    .with_help(help),
                );
            }
        }
    }
}

/// The custom service as a catalogue definition.
fn service_file(service: &ServiceDef) -> ServiceFile {
    let strings = |list: &[Text]| {
        list.iter()
            .map(|t| t.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    ServiceFile {
        service: ServiceHeader {
            name: service.name.as_str().to_owned(),
            title: service.name.as_str().to_owned(),
            source: "policy test file".to_owned(),
        },
        conditions: service
            .conditions
            .iter()
            .map(|(name, operators)| {
                let definition = ConditionFile {
                    description: String::new(),
                    operators: strings(operators),
                };
                (name.as_str().to_owned(), definition)
            })
            .collect(),
        permissions: service
            .permissions
            .iter()
            .map(|(name, conditions)| PermissionFile {
                name: name.as_str().to_owned(),
                description: String::new(),
                source: String::new(),
                conditions: strings(conditions)
                    .into_iter()
                    .map(ConditionRef::Name)
                    .collect(),
                implies: Vec::new(),
            })
            .collect(),
    }
}
