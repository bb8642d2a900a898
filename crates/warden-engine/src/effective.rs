//! Effective permissions of a user or a group at a level: per permission, each effect and
//! condition variant with the policies and bindings it comes from (the shape of the public API's
//! `effectivepermissions` resolution).

use std::collections::BTreeMap;

use serde::Serialize;
use warden_policy::Effect;

use crate::compile::Grant;
use crate::condition::Clause;
use crate::directory::{DirectoryError, Level};
use crate::snapshot::Snapshot;

/// Whose permissions.
#[derive(Debug, Clone, Copy)]
pub enum Entity<'a> {
    /// A uid, email or service-user handle.
    User(&'a str),
    /// A group uuid.
    Group(&'a str),
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EffectivePermissions {
    pub effective_permissions: Vec<EffectivePermission>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EffectivePermission {
    pub permission: String,
    pub effects: Vec<EffectVariant>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EffectVariant {
    pub effect: Effect,
    /// ANDed; an empty list means unconditional.
    pub conditions: Vec<Condition>,
    pub effective_policies: Vec<Provenance>,
}

/// One condition as Dynatrace shows it: `{name, operator, values}` with the operator's API name
/// (`EQ`, `IN`, `STARTS_WITH`, …) and placeholders as written.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Condition {
    pub name: String,
    pub operator: &'static str,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    pub policy: PolicyRef,
    pub binding: BindingRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRef {
    pub uuid: String,
    pub name: String,
    pub statement_query: String,
    pub level_type: &'static str,
    pub level_id: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct BindingRef {
    pub group_uuid: String,
    pub level_type: &'static str,
    pub level_id: String,
}

/// (effect: 0 ALLOW / 1 DENY, conditions) → where it comes from.
type Variants = BTreeMap<(u8, Vec<Condition>), Vec<Provenance>>;

/// The condition lists a statement's clauses stand for. A clause of conditions of which any one
/// must hold (a boundary's repeated name) multiplies the statement, as Dynatrace shows it: one
/// list per choice.
fn condition_lists(clauses: &[Clause]) -> Vec<Vec<Condition>> {
    let mut lists = vec![Vec::new()];
    for clause in clauses {
        let choices: Vec<Condition> = clause
            .conditions()
            .iter()
            .map(|c| Condition {
                name: c.name.to_string(),
                operator: c.operator.api_name(),
                values: c.required(),
            })
            .collect();
        lists = lists
            .into_iter()
            .flat_map(|list| {
                choices.iter().map(move |choice| {
                    let mut longer = list.clone();
                    longer.push(choice.clone());
                    longer
                })
            })
            .collect();
    }
    lists
}

fn level_id(level: &Level, account: &str) -> String {
    match level {
        Level::Global => "global".to_owned(),
        Level::Account => account.to_owned(),
        Level::Environment(env) => env.to_string(),
    }
}

impl Snapshot {
    /// Effective permissions at account level (`environment: None`) or in one environment
    /// (account-level bindings included), optionally only for some services.
    pub fn effective_permissions(
        &self,
        entity: Entity<'_>,
        environment: Option<&str>,
        services: &[String],
    ) -> Result<EffectivePermissions, DirectoryError> {
        let directory = self.directory();
        let groups: Vec<&str> = match entity {
            Entity::User(key) => {
                let principal =
                    directory
                        .find_principal(key)
                        .ok_or_else(|| DirectoryError::NotFound {
                            kind: "user",
                            id: key.to_owned(),
                        })?;
                principal.groups.iter().map(|g| &**g).collect()
            }
            Entity::Group(id) => {
                directory
                    .group(id)
                    .ok_or_else(|| DirectoryError::NotFound {
                        kind: "group",
                        id: id.to_owned(),
                    })?;
                vec![id]
            }
        };
        if let Some(env) = environment
            && !directory.has_environment(env)
        {
            return Err(DirectoryError::NotFound {
                kind: "environment",
                id: env.to_owned(),
            });
        }
        // permission → (effect, conditions) → provenances
        let mut table: BTreeMap<String, Variants> = BTreeMap::new();
        for group in groups {
            let Some(grants) = self.group_grants(group) else {
                continue;
            };
            for level in grants.at(environment) {
                for grant in level {
                    let permission = self.permissions().name(grant.permission).to_owned();
                    let service = permission.split(':').next().unwrap_or_default();
                    if !services.is_empty() && !services.iter().any(|s| s == service) {
                        continue;
                    }
                    let effect = u8::from(grant.statement.effect == Effect::Deny);
                    let provenance = self.provenance(grant);
                    let variants = table.entry(permission).or_default();
                    for conditions in condition_lists(&grant.statement.clauses) {
                        let entry = variants.entry((effect, conditions)).or_default();
                        if !entry.contains(&provenance) {
                            entry.push(provenance.clone());
                        }
                    }
                }
            }
        }
        let effective_permissions = table
            .into_iter()
            .map(|(permission, variants)| EffectivePermission {
                permission,
                effects: variants
                    .into_iter()
                    .map(|((effect, conditions), effective_policies)| EffectVariant {
                        effect: if effect == 1 {
                            Effect::Deny
                        } else {
                            Effect::Allow
                        },
                        conditions,
                        effective_policies,
                    })
                    .collect(),
            })
            .collect();
        Ok(EffectivePermissions {
            effective_permissions,
        })
    }

    fn provenance(&self, grant: &Grant) -> Provenance {
        let account = &self.directory().account;
        let policy = &grant.statement.origin.policy;
        Provenance {
            policy: PolicyRef {
                uuid: policy.id.to_string(),
                name: policy.name.clone(),
                statement_query: policy.text.to_string(),
                level_type: policy.level.type_name(),
                level_id: level_id(&policy.level, account),
            },
            binding: BindingRef {
                group_uuid: grant.binding.group.to_string(),
                level_type: grant.binding.level.type_name(),
                level_id: level_id(&grant.binding.level, account),
            },
            boundary: grant
                .statement
                .origin
                .boundary
                .as_ref()
                .map(|b| b.name.clone()),
        }
    }
}
