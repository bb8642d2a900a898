//! The built-in content of every Warden: the permission catalogue, the global policies and the
//! default groups (SPEC §6), read from the data embedded by `warden-data` and checked as a whole.
//! A problem in the data is an error naming the file and the entry, never a panic.

use std::sync::Arc;

use serde::Deserialize;
use warden_policy::{Catalogue, Policy, ServiceFile, check_policy};

use crate::directory::{Binding, Directory, DirectoryError, Group, Id, Level, PolicyRecord};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct BuiltinError {
    pub origin: String,
    pub message: String,
}

impl BuiltinError {
    fn new(origin: impl Into<String>, message: impl Into<String>) -> Self {
        BuiltinError {
            origin: origin.into(),
            message: message.into(),
        }
    }
}

/// The category of the legacy default policies of seed 002 (`data/policies/index.toml`).
pub const LEGACY_CATEGORY: &str = "legacy";

/// A global policy: read-only, usable at every level.
#[derive(Debug, Clone)]
pub struct GlobalPolicy {
    pub name: String,
    /// Other names it answers to (the short names of the default-group lists).
    pub aliases: Vec<String>,
    pub description: String,
    pub category: String,
    pub file: String,
    pub text: &'static str,
    pub policy: Policy,
}

impl GlobalPolicy {
    /// The policy's id: its file name without the extension (stable across installations).
    pub fn id(&self) -> String {
        self.id_str().to_owned()
    }

    fn id_str(&self) -> &str {
        self.file.strip_suffix(".policy").unwrap_or(&self.file)
    }

    /// Whether it is a legacy default policy (SPEC §6): not accessible for new bindings, while
    /// existing bindings of it stay in place until removed.
    pub fn is_legacy(&self) -> bool {
        self.category == LEGACY_CATEGORY
    }

    /// Names are matched case-insensitively (SPEC §11).
    pub fn answers_to(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self
                .aliases
                .iter()
                .any(|alias| alias.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultGroup {
    pub name: String,
    pub description: String,
    /// Names of global policies, bound at account level.
    pub policies: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Builtin {
    pub catalogue: Catalogue,
    pub policies: Vec<GlobalPolicy>,
    pub groups: Vec<DefaultGroup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyIndex {
    policy: Vec<PolicyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyEntry {
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    description: String,
    category: String,
    file: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupIndex {
    group: Vec<GroupEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    name: String,
    description: String,
    policies: Vec<String>,
}

impl Builtin {
    /// Loads the embedded data plus extra catalogue files `(origin, TOML text)` of custom services.
    pub fn load(extra_services: &[(String, String)]) -> Result<Builtin, Vec<BuiltinError>> {
        let catalogue = load_catalogue(extra_services)?;
        let mut errors = Vec::new();
        let policies = load_policies(&catalogue, &mut errors);
        let groups = load_groups(&policies, &mut errors);
        if errors.is_empty() {
            Ok(Builtin {
                catalogue,
                policies,
                groups,
            })
        } else {
            Err(errors)
        }
    }

    /// The global policy answering to `name` (by name or alias, case-insensitively).
    pub fn policy(&self, name: &str) -> Option<&GlobalPolicy> {
        self.policies.iter().find(|policy| policy.answers_to(name))
    }

    /// The legacy global policy whose id (as [`GlobalPolicy::id`] and [`Builtin::install`] give
    /// it) is `policy_id`; `None` for every other policy, global or not. A new binding of a
    /// legacy policy is refused (SPEC §6); existing bindings, and policy test files, which
    /// describe existing assignments, keep them.
    pub fn legacy(&self, policy_id: &str) -> Option<&GlobalPolicy> {
        self.policies
            .iter()
            .find(|policy| policy.is_legacy() && policy.id_str() == policy_id)
    }
}

impl Builtin {
    /// Adds the global policies (id: the policy's file name without `.policy`) and the default
    /// groups, each bound at account level to its policies. `group_id` gives each default group
    /// its uuid.
    pub fn install(
        &self,
        directory: &mut Directory,
        mut group_id: impl FnMut(&str) -> Id,
    ) -> Result<(), DirectoryError> {
        for policy in &self.policies {
            directory.upsert_policy(PolicyRecord {
                id: policy.id().into(),
                name: policy.name.clone(),
                description: policy.description.clone(),
                level: Level::Global,
                text: policy.text.into(),
                ast: Arc::new(policy.policy.clone()),
            })?;
        }
        for group in &self.groups {
            let id = group_id(&group.name);
            directory.upsert_group(Group {
                id: Arc::clone(&id),
                name: group.name.clone(),
                description: group.description.clone(),
            })?;
            for name in &group.policies {
                let policy = self.policy(name).ok_or_else(|| DirectoryError::NotFound {
                    kind: "policy",
                    id: name.clone(),
                })?;
                directory.add_binding(Binding::new(Level::Account, &policy.id(), &id))?;
            }
        }
        Ok(())
    }
}

/// The id and name of the administrator policy: every permission of the catalogue.
pub const ADMINISTRATOR_POLICY_ID: &str = "warden-administrator";
pub const ADMINISTRATOR_POLICY_NAME: &str = "Warden Administrator";

/// The text of the administrator policy: one ALLOW of every permission in the catalogue, custom
/// services included. It is derived from the catalogue (never stored), so it grows with it: the
/// bootstrap administrator holds every permission and can therefore delegate any of them under
/// the no-escalation rule.
pub fn administrator_policy_text(catalogue: &Catalogue) -> String {
    let names: Vec<&str> = catalogue.permissions().map(|p| p.name.as_str()).collect();
    format!(
        "// Every permission of the catalogue; derived, not stored.\nALLOW {};\n",
        names.join(",\n  ")
    )
}

/// The built-in catalogue plus custom services.
pub fn load_catalogue(extra_services: &[(String, String)]) -> Result<Catalogue, Vec<BuiltinError>> {
    let files = warden_data::CATALOGUE_FILES
        .iter()
        .map(|(name, text)| (format!("data/catalogue/{name}"), *text))
        .chain(
            extra_services
                .iter()
                .map(|(origin, text)| (origin.clone(), text.as_str())),
        );
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (origin, text) in files {
        match ServiceFile::from_toml(&origin, text) {
            Ok(file) => parsed.push((origin, file)),
            Err(error) => errors.push(BuiltinError::new(origin, error.to_string())),
        }
    }
    let built = Catalogue::build(
        parsed
            .iter()
            .map(|(origin, file)| (origin.as_str(), file.clone())),
    );
    match built {
        Ok(catalogue) if errors.is_empty() => Ok(catalogue),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more.into_iter().map(|e| {
                BuiltinError::new(e.origin.clone(), format!("{}: {}", e.entry, e.message))
            }));
            Err(errors)
        }
    }
}

fn load_policies(catalogue: &Catalogue, errors: &mut Vec<BuiltinError>) -> Vec<GlobalPolicy> {
    const ORIGIN: &str = "data/policies/index.toml";
    let index: PolicyIndex = match toml::from_str(warden_data::POLICY_INDEX) {
        Ok(index) => index,
        Err(error) => {
            errors.push(BuiltinError::new(
                ORIGIN,
                error.to_string().trim().replace('\n', " "),
            ));
            return Vec::new();
        }
    };
    let mut policies: Vec<GlobalPolicy> = Vec::new();
    for entry in index.policy {
        let names = std::iter::once(&entry.name).chain(&entry.aliases);
        for name in names {
            if policies.iter().any(|p| p.answers_to(name)) {
                errors.push(BuiltinError::new(
                    ORIGIN,
                    format!("policy name `{name}` is used twice"),
                ));
            }
        }
        let origin = format!("data/policies/{}", entry.file);
        let Some(text) = warden_data::policy_file(&entry.file) else {
            errors.push(BuiltinError::new(
                ORIGIN,
                format!(
                    "policy `{}`: file `{}` does not exist",
                    entry.name, entry.file
                ),
            ));
            continue;
        };
        let checked = check_policy(text, catalogue);
        let found: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let at = d.located(text);
                format!("{}:{}: {}", at.start.line, at.start.column, d.message)
            })
            .collect();
        if !found.is_empty() {
            errors.push(BuiltinError::new(origin, found.join("; ")));
            continue;
        }
        policies.push(GlobalPolicy {
            name: entry.name,
            aliases: entry.aliases,
            description: entry.description,
            category: entry.category,
            file: entry.file,
            text,
            policy: checked.ast,
        });
    }
    policies
}

fn load_groups(policies: &[GlobalPolicy], errors: &mut Vec<BuiltinError>) -> Vec<DefaultGroup> {
    const ORIGIN: &str = "data/groups.toml";
    let index: GroupIndex = match toml::from_str(warden_data::DEFAULT_GROUPS) {
        Ok(index) => index,
        Err(error) => {
            errors.push(BuiltinError::new(
                ORIGIN,
                error.to_string().trim().replace('\n', " "),
            ));
            return Vec::new();
        }
    };
    let mut groups = Vec::new();
    for entry in index.group {
        let mut resolved = Vec::new();
        for name in &entry.policies {
            match policies.iter().find(|policy| policy.answers_to(name)) {
                // Default groups are bound in every new account: new assignments, which a legacy
                // policy may not have.
                Some(policy) if policy.is_legacy() => errors.push(BuiltinError::new(
                    ORIGIN,
                    format!(
                        "group `{}`: policy `{}` is legacy and cannot be bound",
                        entry.name, policy.name
                    ),
                )),
                Some(policy) => resolved.push(policy.name.clone()),
                None => errors.push(BuiltinError::new(
                    ORIGIN,
                    format!("group `{}`: no global policy is named `{name}`", entry.name),
                )),
            }
        }
        groups.push(DefaultGroup {
            name: entry.name,
            description: entry.description,
            policies: resolved,
        });
    }
    groups
}
