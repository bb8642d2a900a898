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
    pub conditions: Vec<String>,
    pub effective_policies: Vec<Provenance>,
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

/// (effect: 0 ALLOW / 1 DENY, rendered conditions) → where it comes from.
type Variants = BTreeMap<(u8, Vec<String>), Vec<Provenance>>;

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
                    let conditions: Vec<String> =
                        grant.statement.clauses.iter().map(Clause::render).collect();
                    let provenance = self.provenance(grant);
                    let entry = table
                        .entry(permission)
                        .or_default()
                        .entry((effect, conditions))
                        .or_default();
                    if !entry.contains(&provenance) {
                        entry.push(provenance);
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
