//! A service user's history, read from the audit log: who changed what, when, and why.
//!
//! The records are the audit entries of the service user itself (creation, updates — an owner
//! transfer is one —, deactivation, reactivation, reviews), of its memberships, of the deletion
//! of a group it was in, and of the bindings added to or removed from a group it was in at the
//! time (its scope). Each shows its changes field by field (`old` → `new`) and the reason,
//! justification or note given with it. Reading needs both `iam:service-users:read` and
//! `iam:audit:read` at the account: a history is the audit log's content.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;
use warden_api::service_users::{FieldChange, HistoryPage, HistoryQuery, HistoryRecord};
use warden_store::AuditFilter;

use crate::model::Model;
use crate::service::elevation::JUSTIFICATION;
use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::service_users::service_user;
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;
/// Audit entries read from the store at a time.
const BATCH: i64 = 1000;

/// A page of the service user's history, oldest first; `nextAfterSeq` when there is more.
pub async fn history(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    query: HistoryQuery,
) -> ApiResult<HistoryPage> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "`limit` is 1–{MAX_LIMIT}, not `{limit}`; leave it out for {DEFAULT_LIMIT}"
        )));
    }
    let (uid, names) = {
        let model = state.model.lock().await;
        let level = account(&model, acc)?;
        state.require(authed, "iam:service-users:read", &level, &attributes(&[]))?;
        state.require(authed, "iam:audit:read", &level, &attributes(&[]))?;
        (service_user(&model, key)?.uid.clone(), Names::of(&model))
    };
    let after_seq = query.after_seq.unwrap_or(0);
    let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut reader = Reader {
        names: &names,
        uid: &uid,
        groups: BTreeSet::new(),
    };
    let mut records: Vec<HistoryRecord> = Vec::new();
    let mut cursor = None;
    // Every entry is read from the start: which groups the service user was in at each entry
    // decides which binding changes are its own.
    'scan: loop {
        let entries = state
            .store
            .audit(&AuditFilter {
                after_seq: cursor,
                actor: None,
                action_prefix: None,
                target: None,
                limit: BATCH,
            })
            .await?;
        let full = entries.len() as i64 == BATCH;
        for entry in entries {
            cursor = Some(entry.seq);
            if let Some(record) = reader.read(&entry)
                && entry.seq > after_seq
            {
                records.push(record);
                if records.len() > wanted {
                    break 'scan;
                }
            }
        }
        if !full {
            break;
        }
    }
    let more = records.len() > wanted;
    records.truncate(wanted);
    Ok(HistoryPage {
        uid,
        next_after_seq: more.then(|| records.last().map(|r| r.seq)).flatten(),
        records,
    })
}

/// The names records show, taken from the model at once so that the log is read unlocked.
struct Names {
    groups: HashMap<String, String>,
    policies: HashMap<String, String>,
    emails: HashMap<String, String>,
}

impl Names {
    fn of(model: &Model) -> Names {
        Names {
            groups: model
                .groups
                .values()
                .map(|g| (g.uuid.clone(), g.name.clone()))
                .collect(),
            policies: model
                .directory
                .policies()
                .map(|p| (p.id.to_string(), p.name.clone()))
                .collect(),
            emails: model
                .principals
                .values()
                .map(|p| (p.uid.clone(), p.email.clone()))
                .collect(),
        }
    }
}

/// Reads the audit log in order, keeping which groups the service user is in.
struct Reader<'a> {
    names: &'a Names,
    uid: &'a str,
    groups: BTreeSet<String>,
}

impl Reader<'_> {
    fn read(&mut self, entry: &warden_store::AuditEntry) -> Option<HistoryRecord> {
        let parse =
            |text: &Option<String>| text.as_deref().and_then(|t| serde_json::from_str(t).ok());
        let before: Value = parse(&entry.before).unwrap_or(Value::Null);
        let after: Value = parse(&entry.after).unwrap_or(Value::Null);
        let (changes, reason) = if entry.target == format!("service-user/{}", self.uid) {
            if entry.action == "service-user.create"
                && let Some(own) = after.get("groupUuid").and_then(Value::as_str)
            {
                self.groups.insert(own.to_owned());
            }
            (
                self.own_changes(&entry.action, &before, &after),
                reason_of(&after),
            )
        } else if entry.target == format!("user/{}", self.uid) && entry.action == "user.memberships"
        {
            let old = group_list(&before);
            let new = group_list(&after);
            self.groups = new.clone();
            (
                self.groups_change(&old, &new).into_iter().collect(),
                text(&after, JUSTIFICATION),
            )
        } else if entry.action == "group.delete" {
            let uuid = entry.target.strip_prefix("group/")?;
            if !self.groups.contains(uuid) {
                return None;
            }
            let old = self.groups.clone();
            self.groups.remove(uuid);
            let new = self.groups.clone();
            (self.groups_change(&old, &new).into_iter().collect(), None)
        } else if entry.action.starts_with("binding.") {
            self.binding_changes(&before, &after)
        } else {
            return None;
        };
        if changes.is_empty() && reason.is_none() && entry.action != "service-user.review" {
            return None;
        }
        Some(HistoryRecord {
            seq: entry.seq,
            at: iso(entry.at),
            actor: entry.actor.clone(),
            actor_name: self.names.emails.get(&entry.actor).cloned(),
            action: entry.action.clone(),
            changes,
            reason,
        })
    }

    /// The fields of the service user that the entry changed.
    fn own_changes(&self, action: &str, before: &Value, after: &Value) -> Vec<FieldChange> {
        let mut out = Vec::new();
        for field in ["name", "description", "purpose"] {
            let old = text(before, field);
            let new = text(after, field);
            if old != new {
                out.push(change(field, old, new));
            }
        }
        let owner = |v: &Value| v.get("owner").filter(|o| !o.is_null()).map(owner_text);
        if owner(before) != owner(after) {
            out.push(change("owner", owner(before), owner(after)));
        }
        let status = |v: &Value| {
            v.get("active")
                .and_then(Value::as_bool)
                .map(|active| if active { "active" } else { "deactivated" }.to_owned())
        };
        if status(before) != status(after) {
            out.push(change("status", status(before), status(after)));
        }
        if action == "service-user.review" {
            out.push(change(
                "reviewed",
                text(before, "lastReviewedAt"),
                text(after, "lastReviewedAt"),
            ));
        }
        out
    }

    fn group_name(&self, uuid: &str) -> String {
        self.names
            .groups
            .get(uuid)
            .cloned()
            .unwrap_or_else(|| uuid.to_owned())
    }

    fn groups_change(&self, old: &BTreeSet<String>, new: &BTreeSet<String>) -> Option<FieldChange> {
        let names = |set: &BTreeSet<String>| {
            let mut names: Vec<String> = set.iter().map(|g| self.group_name(g)).collect();
            names.sort();
            Some(names.join(", ")).filter(|n| !n.is_empty())
        };
        (old != new).then(|| change("groups", names(old), names(new)))
    }

    /// The bindings of the entry to a group the service user is in: removed (`old`) and added
    /// (`new`); the reason is the added bindings' justification.
    fn binding_changes(&self, before: &Value, after: &Value) -> (Vec<FieldChange>, Option<String>) {
        let mine = |v: &Value| -> Vec<Value> {
            v.as_array()
                .map(|list| {
                    list.iter()
                        .filter(|b| {
                            b.get("groupUuid")
                                .and_then(Value::as_str)
                                .is_some_and(|g| self.groups.contains(g))
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut changes = Vec::new();
        for body in mine(before) {
            changes.push(change("binding", Some(self.binding_text(&body)), None));
        }
        let added = mine(after);
        let mut reasons: Vec<String> = Vec::new();
        for body in &added {
            changes.push(change("binding", None, Some(self.binding_text(body))));
            if let Some(reason) = body.get("metadata").and_then(|m| text(m, JUSTIFICATION))
                && !reasons.contains(&reason)
            {
                reasons.push(reason);
            }
        }
        (changes, Some(reasons.join("; ")).filter(|r| !r.is_empty()))
    }

    /// `policy `Account Admin` to group `ops` at account `acc-1``.
    fn binding_text(&self, body: &Value) -> String {
        let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
        let policy = self
            .names
            .policies
            .get(field("policyUuid"))
            .cloned()
            .unwrap_or_else(|| field("policyUuid").to_owned());
        format!(
            "policy `{policy}` to group `{}` at {} `{}`",
            self.group_name(field("groupUuid")),
            field("levelType"),
            field("levelId")
        )
    }
}

fn change(field: &str, old: Option<String>, new: Option<String>) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        old,
        new,
    }
}

/// A text field, `None` when absent or empty.
fn text(value: &Value, field: &str) -> Option<String> {
    value
        .get(field)
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// `user ann@example.com`, `group ops` (the id when the name is gone).
fn owner_text(owner: &Value) -> String {
    let kind = text(owner, "type").unwrap_or_default().to_lowercase();
    let name = text(owner, "name")
        .or_else(|| text(owner, "id"))
        .unwrap_or_default();
    format!("{kind} {name}")
}

/// Why, as the request said: a `reason`, a review's `note`, or the deactivation's reason.
fn reason_of(after: &Value) -> Option<String> {
    text(after, "reason")
        .or_else(|| text(after, "note"))
        .or_else(|| after.get("deactivation").and_then(|d| text(d, "reason")))
}

/// The groups of a membership entry: `{"groups": […]}`, or the bare list entries written
/// before the object form.
fn group_list(value: &Value) -> BTreeSet<String> {
    value
        .get("groups")
        .unwrap_or(value)
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn memberships_read_in_both_forms_and_reasons_in_each_place() {
        let groups = |v: Value| group_list(&v).into_iter().collect::<Vec<_>>();
        assert_eq!(groups(json!({ "groups": ["a", "b"] })), ["a", "b"]);
        assert_eq!(groups(json!(["b", "a"])), ["a", "b"]);
        assert_eq!(groups(json!(null)), Vec::<String>::new());
        assert_eq!(
            reason_of(&json!({ "reason": "r", "note": "n" })).as_deref(),
            Some("r")
        );
        assert_eq!(reason_of(&json!({ "note": "n" })).as_deref(), Some("n"));
        assert_eq!(
            reason_of(&json!({ "deactivation": { "reason": "d" } })).as_deref(),
            Some("d")
        );
        assert_eq!(reason_of(&json!({ "reason": "" })), None);
        assert_eq!(
            owner_text(&json!({ "type": "GROUP", "id": "g-1", "name": "ops" })),
            "group ops"
        );
        assert_eq!(
            owner_text(&json!({ "type": "USER", "id": "u-1", "name": null })),
            "user u-1"
        );
    }
}
