//! The permission catalogue: services, their permissions, the conditions each permission supports
//! with the operators each allows, the global conditions, and the `implies` relation.
//!
//! The catalogue is built from service definitions (the TOML data files of `data/catalogue/`, or
//! custom services registered at run time) and checked as a whole: a bad definition is an error
//! naming the file and the entry, never a panic. This module does no IO; callers pass the texts.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ast::{Operator, OperatorSet};
use crate::parser::{check_condition_name, check_permission_name};
use crate::span::Span;

/// The name of the pseudo-service whose conditions apply to every permission.
pub const GLOBAL_SERVICE: &str = "global";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionSpec {
    pub name: String,
    pub description: String,
    #[serde(serialize_with = "serialize_operators")]
    pub operators: OperatorSet,
}

fn serialize_operators<S: serde::Serializer>(set: &OperatorSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(set.iter().map(Operator::as_str))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    pub name: String,
    pub service: String,
    pub description: String,
    /// Where the name and description come from (a seed, the SPEC, or how it was inferred).
    pub source: String,
    /// In the order the definition lists them.
    pub conditions: Vec<ConditionSpec>,
    pub implies: Vec<String>,
}

impl Permission {
    pub fn condition(&self, name: &str) -> Option<&ConditionSpec> {
        self.conditions
            .iter()
            .find(|condition| condition.name == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub name: String,
    pub title: String,
    pub source: String,
    /// Registered by the platform (not part of the built-in data).
    pub custom: bool,
    pub permissions: Vec<String>,
}

/// An error in a catalogue definition: which file, which entry, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("{origin}: {entry}: {message}")]
pub struct CatalogueError {
    pub origin: String,
    pub entry: String,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    services: BTreeMap<String, Service>,
    permissions: BTreeMap<String, Permission>,
    global_conditions: BTreeMap<String, ConditionSpec>,
    /// For each permission, the permissions that imply it (not including itself).
    implied_by: BTreeMap<String, Vec<String>>,
    /// Every condition name some permission supports (one look-up per condition validated).
    permission_conditions: BTreeSet<String>,
}

// ---- the definition format (TOML files, JSON from the API) --------------------------------------

/// One service file, as written in `data/catalogue/*.toml` (see docs/catalogue-format.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub service: ServiceHeader,
    #[serde(default)]
    pub conditions: BTreeMap<String, ConditionFile>,
    #[serde(default)]
    pub permissions: Vec<PermissionFile>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHeader {
    pub name: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub source: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionFile {
    #[serde(default)]
    pub description: String,
    pub operators: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionFile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub conditions: Vec<ConditionRef>,
    #[serde(default)]
    pub implies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ConditionRef {
    Name(String),
    Override(ConditionOverride),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConditionOverride {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub operators: Option<Vec<String>>,
}

impl ServiceFile {
    /// Reads a TOML service file; `origin` names it in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<ServiceFile, CatalogueError> {
        toml::from_str(text).map_err(|error| CatalogueError {
            origin: origin.to_owned(),
            entry: "file".to_owned(),
            message: error.to_string().trim().replace('\n', " "),
        })
    }
}

// ---- building -----------------------------------------------------------------------------------

impl Catalogue {
    /// Builds a catalogue from service files; every problem found is reported, not only the first.
    pub fn build<'a>(
        files: impl IntoIterator<Item = (&'a str, ServiceFile)>,
    ) -> Result<Catalogue, Vec<CatalogueError>> {
        let mut catalogue = Catalogue::default();
        let mut errors = Vec::new();
        for (origin, file) in files {
            catalogue.insert_service(origin, file, false, &mut errors);
        }
        catalogue.link(&mut errors);
        if errors.is_empty() {
            Ok(catalogue)
        } else {
            Err(errors)
        }
    }

    /// Builds from TOML texts `(origin, text)`.
    pub fn from_toml_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalogue, Vec<CatalogueError>> {
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for (origin, text) in files {
            match ServiceFile::from_toml(origin, text) {
                Ok(file) => parsed.push((origin, file)),
                Err(error) => errors.push(error),
            }
        }
        let built = Catalogue::build(parsed);
        match built {
            Ok(catalogue) if errors.is_empty() => Ok(catalogue),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                Err(errors)
            }
        }
    }

    /// Adds a platform's own service. The catalogue is unchanged when the definition has errors.
    pub fn add_custom_service(
        &mut self,
        origin: &str,
        file: ServiceFile,
    ) -> Result<(), Vec<CatalogueError>> {
        let mut candidate = self.clone();
        let mut errors = Vec::new();
        candidate.insert_service(origin, file, true, &mut errors);
        candidate.link(&mut errors);
        if errors.is_empty() {
            *self = candidate;
            Ok(())
        } else {
            Err(errors)
        }
    }

    fn insert_service(
        &mut self,
        origin: &str,
        file: ServiceFile,
        custom: bool,
        errors: &mut Vec<CatalogueError>,
    ) {
        let service_name = file.service.name.clone();
        let error = |entry: &str, message: String| CatalogueError {
            origin: origin.to_owned(),
            entry: entry.to_owned(),
            message,
        };
        let start = errors.len();
        let valid_service_name = !service_name.is_empty()
            && service_name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_service_name {
            errors.push(error(
                "service",
                format!("`{service_name}` is not a service name; use `a-z`, `0-9` and `-`"),
            ));
            return;
        }
        if self.services.contains_key(&service_name)
            || (service_name == GLOBAL_SERVICE && !self.global_conditions.is_empty())
        {
            errors.push(error(
                "service",
                format!("service `{service_name}` is defined twice"),
            ));
            return;
        }

        let mut conditions = BTreeMap::new();
        for (name, definition) in &file.conditions {
            if check_condition_name(name, Span::default()).is_err() {
                errors.push(error(
                    name,
                    format!("`{name}` is not a condition name (`prefix:attribute`)"),
                ));
                continue;
            }
            if service_name == GLOBAL_SERVICE && !name.starts_with("global:") {
                errors.push(error(
                    name,
                    "global conditions are named `global:…`".to_owned(),
                ));
                continue;
            }
            let operators = parse_operators(&definition.operators)
                .map_err(|message| errors.push(error(name, message)))
                .unwrap_or_default();
            let spec = ConditionSpec {
                name: name.clone(),
                description: definition.description.clone(),
                operators,
            };
            conditions.insert(name.clone(), spec);
        }

        if service_name == GLOBAL_SERVICE {
            if !file.permissions.is_empty() {
                errors.push(error(
                    "permissions",
                    "the global service has conditions only".to_owned(),
                ));
            }
            if errors.len() == start {
                self.global_conditions = conditions;
            }
            return;
        }

        let mut permission_names = Vec::new();
        let mut permissions = Vec::new();
        for definition in file.permissions {
            let name = definition.name.clone();
            if let Err(diagnostic) = check_permission_name(&name, Span::default()) {
                errors.push(error(&name, diagnostic.message));
                continue;
            }
            if name.split(':').next() != Some(service_name.as_str()) {
                errors.push(error(
                    &name,
                    format!("permission does not belong to service `{service_name}`"),
                ));
                continue;
            }
            if self.permissions.contains_key(&name) || permission_names.contains(&name) {
                errors.push(error(&name, "permission is defined twice".to_owned()));
                continue;
            }
            let mut specs: Vec<ConditionSpec> = Vec::new();
            for reference in definition.conditions {
                let (condition, description, operators) = match reference {
                    ConditionRef::Name(name) => (name, None, None),
                    ConditionRef::Override(o) => (o.name, o.description, o.operators),
                };
                let Some(base) = conditions.get(&condition) else {
                    errors.push(error(
                        &name,
                        format!("condition `{condition}` is not defined in this file"),
                    ));
                    continue;
                };
                if specs.iter().any(|spec| spec.name == condition) {
                    errors.push(error(
                        &name,
                        format!("condition `{condition}` is listed twice"),
                    ));
                    continue;
                }
                let mut spec = base.clone();
                if let Some(description) = description {
                    spec.description = description;
                }
                if let Some(operators) = operators {
                    match parse_operators(&operators) {
                        Ok(set) => spec.operators = set,
                        Err(message) => errors.push(error(&name, message)),
                    }
                }
                specs.push(spec);
            }
            permission_names.push(name.clone());
            permissions.push(Permission {
                name,
                service: service_name.clone(),
                description: definition.description,
                source: definition.source,
                conditions: specs,
                implies: definition.implies,
            });
        }
        if errors.len() > start {
            return;
        }
        for permission in permissions {
            self.permissions.insert(permission.name.clone(), permission);
        }
        let service = Service {
            name: service_name.clone(),
            title: file.service.title,
            source: file.service.source,
            custom,
            permissions: permission_names,
        };
        self.services.insert(service_name, service);
    }

    /// Checks `implies` targets and computes the reverse relation.
    fn link(&mut self, errors: &mut Vec<CatalogueError>) {
        let mut implied_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for permission in self.permissions.values() {
            for target in &permission.implies {
                if !self.permissions.contains_key(target) {
                    errors.push(CatalogueError {
                        origin: permission.service.clone(),
                        entry: permission.name.clone(),
                        message: format!("implies unknown permission `{target}`"),
                    });
                } else if target != &permission.name {
                    implied_by
                        .entry(target.clone())
                        .or_default()
                        .insert(permission.name.clone());
                }
            }
        }
        self.implied_by = implied_by
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect();
        self.permission_conditions = self
            .permissions
            .values()
            .flat_map(|p| p.conditions.iter().map(|c| c.name.clone()))
            .collect();
    }

    // ---- queries ----------------------------------------------------------------------------------

    pub fn permission(&self, name: &str) -> Option<&Permission> {
        self.permissions.get(name)
    }

    pub fn permissions(&self) -> impl Iterator<Item = &Permission> {
        self.permissions.values()
    }

    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }

    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }

    pub fn global_condition(&self, name: &str) -> Option<&ConditionSpec> {
        self.global_conditions.get(name)
    }

    pub fn global_conditions(&self) -> impl Iterator<Item = &ConditionSpec> {
        self.global_conditions.values()
    }

    /// The permissions that imply `permission` (`environment:roles:*` → `environment:roles:viewer`).
    pub fn implied_by(&self, permission: &str) -> &[String] {
        self.implied_by.get(permission).map_or(&[], Vec::as_slice)
    }

    /// Whether any permission of the catalogue supports a condition of this name.
    pub fn condition_exists(&self, name: &str) -> bool {
        self.global_conditions.contains_key(name) || self.permission_conditions.contains(name)
    }

    /// The closest known permission name, for "did you mean" help.
    pub fn suggest_permission(&self, name: &str) -> Option<&str> {
        closest(name, self.permissions.keys().map(String::as_str))
    }

    /// The closest condition name among `candidates`.
    pub fn suggest_among<'a>(
        name: &str,
        candidates: impl Iterator<Item = &'a str>,
    ) -> Option<&'a str> {
        closest(name, candidates)
    }
}

fn parse_operators(names: &[String]) -> Result<OperatorSet, String> {
    let mut set = OperatorSet::EMPTY;
    for name in names {
        match Operator::ALL.into_iter().find(|op| op.as_str() == name) {
            Some(op) => set.insert(op),
            None => {
                let known: Vec<&str> = Operator::ALL.iter().map(|op| op.as_str()).collect();
                return Err(format!(
                    "unknown operator `{name}`; the operators are {}",
                    known.join(", ")
                ));
            }
        }
    }
    if set.is_empty() {
        return Err("a condition needs at least one operator".to_owned());
    }
    Ok(set)
}

/// The candidate with the smallest edit distance, if it is close enough to be a likely typo.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 4).clamp(2, 6);
    candidates
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, candidate)| (*distance, *candidate))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r#"
[service]
name = "shop"
title = "Shop"
source = "test"

[conditions."shop:region"]
description = "region"
operators = ["=", "IN"]

[[permissions]]
name = "shop:orders:read"
description = "read orders"
source = "test"
conditions = ["shop:region", { name = "shop:region2", operators = ["="] }]
"#;

    #[test]
    fn errors_name_the_file_and_the_entry() {
        let errors = Catalogue::from_toml_files([("shop.toml", SHOP)]).unwrap_err();
        assert_eq!(
            errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec![
                "shop.toml: shop:orders:read: condition `shop:region2` is not defined in this file"
            ]
        );
    }

    #[test]
    fn custom_services_are_added_atomically() {
        let fixed = SHOP.replace(", { name = \"shop:region2\", operators = [\"=\"] }", "");
        let mut catalogue = Catalogue::from_toml_files([("shop.toml", fixed.as_str())]).unwrap();
        let permission = catalogue.permission("shop:orders:read").unwrap();
        assert_eq!(
            permission
                .condition("shop:region")
                .unwrap()
                .operators
                .describe(),
            "`=`, `IN`"
        );
        let twice = ServiceFile::from_toml("again.toml", &fixed).unwrap();
        let errors = catalogue
            .add_custom_service("again.toml", twice)
            .unwrap_err();
        assert_eq!(errors[0].message, "service `shop` is defined twice");
        assert_eq!(catalogue.services().count(), 1);
    }

    #[test]
    fn suggestions_find_typos_only() {
        let fixed = SHOP.replace(", { name = \"shop:region2\", operators = [\"=\"] }", "");
        let catalogue = Catalogue::from_toml_files([("shop.toml", fixed.as_str())]).unwrap();
        assert_eq!(
            catalogue.suggest_permission("shop:order:read"),
            Some("shop:orders:read")
        );
        assert_eq!(catalogue.suggest_permission("storage:logs:read"), None);
    }
}
