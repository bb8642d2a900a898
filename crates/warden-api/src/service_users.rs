//! Service users: what a client sends to create, change, deactivate and review one, what it reads
//! back (Dynatrace's `ServiceUserDto` fields and Warden's lifecycle fields), and the review report.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::nullable::or_default;

/// The person or group accountable for a service user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerInput {
    /// `USER` or `GROUP`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A user's uid or email, or a group's uuid or name.
    pub id: String,
}

/// A service user to create; `null` for a text field is empty, for `owner` none.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceUserInput {
    pub name: String,
    #[serde(default, deserialize_with = "or_default")]
    pub description: String,
    #[serde(default)]
    pub owner: Option<OwnerInput>,
    #[serde(default, deserialize_with = "or_default")]
    pub purpose: String,
    /// Why it is created (0–500 characters), kept in the audit log and shown in its history.
    #[serde(default, deserialize_with = "or_default")]
    pub reason: String,
}

/// `absent` → `None`; `null` → `Some(T::default())`; a value → `Some(value)`.
fn present_or_default<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Some(
        Option::<T>::deserialize(deserializer)?.unwrap_or_default(),
    ))
}

/// `absent` → `None`; `null` → `Some(None)`; a value → `Some(Some(value))`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::<T>::deserialize(deserializer)?))
}

/// `PUT …/service-users/{uid}`: the fields to change. Fields left out keep their value; `null`
/// empties a text field and removes the owner. The read-only fields of a service user (`uid`,
/// `email`, `handle`, `createdAt`, …) may be sent back unchanged, so that a `GET` body
/// round-trips; a changed one is a 400 saying why it cannot change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ServiceUserUpdate {
    #[serde(
        default,
        deserialize_with = "present_or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "present_or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<OwnerInput>)]
    pub owner: Option<Option<OwnerInput>>,
    #[serde(
        default,
        deserialize_with = "present_or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub purpose: Option<String>,
    /// Why it changes (0–500 characters; an owner transfer too), kept in the audit log and
    /// shown in its history. Not a field of the service user.
    #[serde(
        default,
        deserialize_with = "present_or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason: Option<String>,
    /// The other fields sent: read-only fields of the service user, accepted when unchanged.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub read_only: BTreeMap<String, serde_json::Value>,
}

/// `POST …/service-users/{uid}/deactivate`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeactivateInput {
    /// Why (1–500 characters), kept with the service user and in the audit log.
    pub reason: String,
}

/// `POST …/service-users/{uid}/reactivate`: why, for the audit log; the body itself is
/// optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReactivateInput {
    /// 0–500 characters.
    #[serde(default, deserialize_with = "or_default")]
    pub reason: String,
}

/// `GET …/service-users/{uid}/history?afterSeq=&limit=`: a page of its history, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HistoryQuery {
    /// The records after this audit sequence number (the previous page's `nextAfterSeq`).
    #[serde(default)]
    pub after_seq: Option<i64>,
    /// 1–1000; 100 when absent.
    #[serde(default)]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// One field as a change left it: `old` → `new` (`null`: not set, or not there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    /// `name`, `description`, `purpose`, `owner`, `status`, `groups`, `binding`, `reviewed`.
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// One record of a service user's history, from one audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryRecord {
    /// The audit entry's sequence number.
    pub seq: i64,
    /// When, in RFC 3339 (UTC).
    pub at: String,
    /// Who: a uid, or an OAuth client's id.
    pub actor: String,
    /// The actor's email when it is a user or service user of the account.
    pub actor_name: Option<String>,
    /// The audit action (`service-user.update`, `user.memberships`, `binding.create`, …).
    pub action: String,
    /// What changed, field by field.
    pub changes: Vec<FieldChange>,
    /// Why: the reason, justification or review note given with the change.
    pub reason: Option<String>,
}

/// `GET …/service-users/{uid}/history`: its records, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPage {
    pub uid: String,
    pub records: Vec<HistoryRecord>,
    /// `afterSeq` for the next page; `null` on the last one.
    pub next_after_seq: Option<i64>,
}

/// `POST …/service-users/{uid}/review`: an optional note for the audit log; the body itself is
/// optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default, deserialize_with = "or_default")]
    pub note: String,
}

/// An owner with its name (the user's email or the group's name) for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OwnerDto {
    /// `USER` or `GROUP`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's uid or the group's uuid.
    pub id: String,
    pub name: Option<String>,
}

/// Why, when and by whom a service user was deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeactivationDto {
    pub reason: String,
    pub at: String,
    /// The uid of who deactivated it.
    pub by: String,
}

/// A service user as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUserDto {
    pub uid: String,
    /// `<uid>@service.<domain>`, generated and immutable.
    pub email: String,
    /// Derived from the name at creation, immutable.
    pub handle: Option<String>,
    pub name: String,
    /// Always empty: service users have no surname.
    pub surname: String,
    pub description: String,
    pub owner: Option<OwnerDto>,
    pub purpose: String,
    /// The service user's own group, for permissions assigned to it directly.
    pub group_uuid: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub last_reviewed_at: Option<String>,
    pub last_used_at: Option<String>,
    pub active: bool,
    pub deactivation: Option<DeactivationDto>,
}

/// A page of service users, by handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUserPage {
    pub total_count: usize,
    pub results: Vec<ServiceUserDto>,
    /// The key of the next page; `null` on the last.
    pub next_page_key: Option<String>,
}

/// The windows of the review report, in days (1–36500, default 90 each).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReviewQuery {
    /// Unused (no use) for this many days counts as `unused`; also the window of
    /// `unused-permissions` and `unused-membership`.
    #[serde(default)]
    pub unused_days: Option<i64>,
    /// Not reviewed for this many days counts as `unreviewed`.
    #[serde(default)]
    pub unreviewed_days: Option<i64>,
    /// Platform tokens and OAuth client secrets older than this many days are `rotation-due`.
    #[serde(default)]
    pub rotation_days: Option<i64>,
}

/// A group a service user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewGroup {
    pub uuid: String,
    pub name: String,
}

/// A credential of a service user older than the rotation window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RotationDue {
    /// `platform-token` or `client-secret`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The token's id, or the secret's id.
    pub id: String,
    /// The token's name, or its OAuth client's name.
    pub name: String,
    /// The OAuth client of a client secret.
    pub client_id: Option<String>,
    pub created_at: String,
    /// Whole days since it was made.
    pub age_days: i64,
}

/// A service user that needs attention, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewEntry {
    pub uid: String,
    pub name: String,
    pub handle: Option<String>,
    pub email: String,
    pub owner: Option<OwnerDto>,
    pub active: bool,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub last_reviewed_at: Option<String>,
    /// `unused`, `unreviewed`, `no-owner`, `owner-deactivated`, `no-purpose`,
    /// `unused-permissions`, `unused-membership`, `rotation-due`, in this order.
    pub findings: Vec<String>,
    pub unused_permissions: Vec<String>,
    /// The groups (other than its own) none of whose permissions it used in the window.
    pub unused_memberships: Vec<ReviewGroup>,
    /// Its platform tokens and OAuth client secrets older than `rotationDays`, oldest first.
    pub rotation_due: Vec<RotationDue>,
}

/// A workflow that runs as a person, or whose actor is deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewWorkflow {
    pub id: String,
    pub title: String,
    pub environment: String,
    /// The actor's uid.
    pub actor: String,
    pub actor_email: Option<String>,
    /// A service user's handle.
    pub actor_handle: Option<String>,
    /// `USER` or `SERVICE_USER`; `null` when the actor no longer exists.
    pub actor_type: Option<String>,
    pub actor_active: bool,
    /// `workflows-run-by-person`, `actor-deactivated`.
    pub findings: Vec<String>,
    /// What to do about it.
    pub suggestion: String,
}

/// `GET …/service-users/review`: the service users that need an administrator's attention, and
/// the workflows that run as a person or as someone deactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReviewReport {
    pub generated_at: String,
    pub unused_days: i64,
    pub unreviewed_days: i64,
    pub rotation_days: i64,
    pub service_users: Vec<ReviewEntry>,
    /// Of the workflows the caller may see (or administer), by title.
    pub workflows: Vec<ReviewWorkflow>,
}

/// The columns of [`ReviewReport::csv`].
pub const REVIEW_CSV_HEADER: [&str; 9] = [
    "type",
    "id",
    "name",
    "handle",
    "owner",
    "finding",
    "details",
    "lastUsedAt",
    "lastReviewedAt",
];

impl ReviewReport {
    /// The report for spreadsheets (RFC 4180): a header row, then one row per service user per
    /// finding and one per workflow per finding, in the order of the report. Names and titles
    /// that would start a formula are written as text ([`crate::csv::inert`]).
    pub fn csv(&self) -> String {
        let mut out = crate::csv::record(&REVIEW_CSV_HEADER);
        for user in &self.service_users {
            let owner = user
                .owner
                .as_ref()
                .map(|o| o.name.clone().unwrap_or_else(|| o.id.clone()))
                .unwrap_or_default();
            for finding in &user.findings {
                out.push_str(&crate::csv::record(&[
                    "service-user".to_owned(),
                    user.uid.clone(),
                    crate::csv::inert(&user.name),
                    user.handle.clone().unwrap_or_default(),
                    crate::csv::inert(&owner),
                    finding.clone(),
                    crate::csv::inert(&user.details(finding)),
                    user.last_used_at.clone().unwrap_or_default(),
                    user.last_reviewed_at.clone().unwrap_or_default(),
                ]));
            }
        }
        for workflow in &self.workflows {
            let actor = workflow
                .actor_handle
                .clone()
                .or_else(|| workflow.actor_email.clone())
                .unwrap_or_else(|| workflow.actor.clone());
            for finding in &workflow.findings {
                out.push_str(&crate::csv::record(&[
                    "workflow".to_owned(),
                    workflow.id.clone(),
                    crate::csv::inert(&workflow.title),
                    String::new(),
                    String::new(),
                    finding.clone(),
                    crate::csv::inert(&format!("actor {actor}: {}", workflow.suggestion)),
                    String::new(),
                    String::new(),
                ]));
            }
        }
        out
    }
}

impl ReviewEntry {
    /// What a finding is about, in a line: the permissions, groups or credentials it names.
    pub fn details(&self, finding: &str) -> String {
        match finding {
            "unused" => self
                .last_used_at
                .as_ref()
                .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}")),
            "unreviewed" => self.last_reviewed_at.as_ref().map_or_else(
                || "never reviewed".to_owned(),
                |at| format!("last reviewed {at}"),
            ),
            "owner-deactivated" => self.owner.as_ref().map_or_else(String::new, |o| {
                format!(
                    "{} {}",
                    o.kind.to_lowercase(),
                    o.name.as_deref().unwrap_or(&o.id)
                )
            }),
            "unused-permissions" => self.unused_permissions.join(" "),
            "unused-membership" => self
                .unused_memberships
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            "rotation-due" => self
                .rotation_due
                .iter()
                .map(RotationDue::line)
                .collect::<Vec<_>>()
                .join("; "),
            _ => String::new(),
        }
    }
}

impl RotationDue {
    /// The credential and its age, in words (a platform token by name and id, a client secret by
    /// id with its client's name and id).
    pub fn line(&self) -> String {
        match &self.client_id {
            Some(client) => format!(
                "client secret {} of `{}` ({client}), {} days old",
                self.id, self.name, self.age_days
            ),
            None => format!(
                "platform token `{}` ({}), {} days old",
                self.name, self.id, self.age_days
            ),
        }
    }
}

/// The window of a least-privilege suggestion, in days (1–36500; default: the server's sample
/// retention).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SuggestQuery {
    /// Allowed requests of this many days back are considered.
    #[serde(default)]
    pub days: Option<i64>,
}

/// The smallest policy that still allows what a service user did, and what switching to it
/// changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedPolicy {
    pub uid: String,
    pub handle: Option<String>,
    /// The window considered.
    pub days: i64,
    /// Every allowed request of the window was sampled. `false` when the server held more than
    /// its bound between two writes: the policy may then not allow some requests (its first
    /// lines say so).
    pub complete: bool,
    /// The policy text: passes `warden policy check`, allows every observed request.
    pub policy: String,
    /// The permissions the policy grants (those used in the window), sorted.
    pub permissions: Vec<String>,
    pub diff: PermissionDiff,
    /// Switching: the policy bound at account level to the service user's own group, in place
    /// of that group's bindings and of its other memberships.
    pub impact: SwitchImpact,
}

/// The permissions held today against those suggested.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionDiff {
    /// Held today and used: kept, possibly narrowed by conditions.
    pub kept: Vec<String>,
    /// Held today (at account level or in some environment) and not used: dropped.
    pub removed: Vec<String>,
    /// Used but not held today (reached through a permission that implies it, or taken away
    /// since): granted by name.
    pub added: Vec<String>,
}

/// One answer that switching changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SwitchChange {
    pub uid: String,
    pub email: String,
    pub permission: String,
    /// `account`, or the environment id.
    pub level: String,
    /// `gains`, `loses` or `conditions-change`.
    pub change: String,
}

/// Who gains or loses what by the switch (requests without attributes; `conditions-change`:
/// access under some attributes changes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SwitchImpact {
    pub affected_principals: usize,
    pub total_changes: usize,
    /// The changes of the principals the caller may read the permissions of.
    pub changes: Vec<SwitchChange>,
    /// Changes left out: of principals the caller may not read, or beyond the listed ones.
    pub hidden_changes: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_report_quotes_what_it_must_and_keeps_formulas_inert() {
        let report = ReviewReport {
            generated_at: "2026-09-01T10:00:00Z".into(),
            unused_days: 90,
            unreviewed_days: 90,
            rotation_days: 90,
            service_users: vec![ReviewEntry {
                uid: "u-1".into(),
                name: "=HYPERLINK(\"http://x\")".into(),
                handle: Some("hyperlink@service".into()),
                email: "u-1@service.warden.local".into(),
                owner: Some(OwnerDto {
                    kind: "GROUP".into(),
                    id: "g-1".into(),
                    name: Some("Ops, \"night\" shift".into()),
                }),
                active: true,
                created_at: "2026-05-04T10:00:00Z".into(),
                last_used_at: None,
                last_reviewed_at: None,
                findings: vec!["no-purpose".into(), "unused-membership".into()],
                unused_permissions: Vec::new(),
                unused_memberships: vec![
                    ReviewGroup {
                        uuid: "g-2".into(),
                        name: "Legacy".into(),
                    },
                    ReviewGroup {
                        uuid: "g-3".into(),
                        name: "Two\nlines".into(),
                    },
                ],
                rotation_due: Vec::new(),
            }],
            workflows: vec![ReviewWorkflow {
                id: "w-1".into(),
                title: "-1, said the export".into(),
                environment: "env-prod".into(),
                actor: "p-1".into(),
                actor_email: Some("alice@example.com".into()),
                actor_handle: None,
                actor_type: Some("USER".into()),
                actor_active: true,
                findings: vec!["workflows-run-by-person".into()],
                suggestion: "move it".into(),
            }],
        };
        assert_eq!(
            report.csv(),
            "type,id,name,handle,owner,finding,details,lastUsedAt,lastReviewedAt\r\n\
             service-user,u-1,\"'=HYPERLINK(\"\"http://x\"\")\",hyperlink@service,\"Ops, \"\"night\"\" shift\",no-purpose,,,\r\n\
             service-user,u-1,\"'=HYPERLINK(\"\"http://x\"\")\",hyperlink@service,\"Ops, \"\"night\"\" shift\",unused-membership,\"Legacy; Two\nlines\",,\r\n\
             workflow,w-1,\"'-1, said the export\",,,workflows-run-by-person,actor alice@example.com: move it,,\r\n"
        );
    }

    #[test]
    fn an_update_tells_absent_from_null() {
        let read = |text: &str| serde_json::from_str::<ServiceUserUpdate>(text).ok();
        let absent = read("{}");
        assert_eq!(absent.as_ref().map(|u| u.owner.clone()), Some(None));
        let null = read(r#"{"owner":null,"description":null}"#);
        assert_eq!(null.as_ref().map(|u| u.owner.clone()), Some(Some(None)));
        assert_eq!(
            null.as_ref().map(|u| u.description.clone()),
            Some(Some(String::new()))
        );
        let kept = read(r#"{"uid":"u-1","name":"x"}"#);
        assert_eq!(
            kept.as_ref()
                .map(|u| u.read_only.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["uid".to_owned()])
        );
    }
}
