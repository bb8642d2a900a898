//! Users (people) and the memberships of every principal (service users too, by their email).
//! Emails are normalised (trimmed, ASCII lower-cased) and unique. Service users themselves are
//! in [`super::service_users`].

use std::collections::BTreeSet;

use serde_json::{Value, json};
use warden_engine::directory::normalise_email;
use warden_engine::{Id, PrincipalKind};

use crate::limits::{MAX_GROUPS_PER_USER, MAX_USERS, check_text, limit_reached};
use crate::model::{Model, principal_record};
use crate::records::{GroupBody, PrincipalBody};
use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::levels::new_uuid;
use crate::service::{ApiError, ApiResult, Authed, Plan};
use crate::state::AppState;

pub fn user_summary(body: &PrincipalBody) -> Value {
    json!(summary(body))
}

/// A user or service user as lists show them.
pub fn summary(body: &PrincipalBody) -> UserSummary {
    UserSummary {
        uid: body.uid.clone(),
        email: body.email.clone(),
        name: body.name.clone(),
        surname: body.surname.clone(),
        user_status: if body.active() { "ACTIVE" } else { "INACTIVE" }.to_owned(),
        emergency_contact: false,
        service_user: body.kind == PrincipalKind::ServiceUser,
    }
}

/// Users and service users (only one kind when `service_users` says which), by email.
pub async fn list(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    service_users: Option<bool>,
) -> ApiResult<List<UserSummary>> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:users:read", &level, &attributes(&[]))?;
    let wanted = |p: &&PrincipalBody| match service_users {
        Some(true) => p.kind == PrincipalKind::ServiceUser,
        Some(false) => p.kind == PrincipalKind::User,
        None => true,
    };
    let mut items: Vec<UserSummary> = model
        .principals
        .values()
        .filter(wanted)
        .map(summary)
        .collect();
    items.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(List::from(items))
}

/// One user (by uid, email or handle) with its groups.
pub async fn get(state: &AppState, authed: &Authed, acc: &str, key: &str) -> ApiResult<UserDetail> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:users:read", &level, &attributes(&[]))?;
    let body = find(&model, key)?;
    let groups = model
        .directory
        .principal(&body.uid)
        .map(|p| {
            p.groups
                .iter()
                .filter_map(|g| model.groups.get(g.as_ref()))
                .map(|g| membership(&model, g))
                .collect()
        })
        .unwrap_or_default();
    Ok(UserDetail {
        user: summary(body),
        groups,
    })
}

fn membership(model: &Model, group: &GroupBody) -> Membership {
    Membership {
        group_name: group.name.clone(),
        uuid: group.uuid.clone(),
        owner: group.owner.clone(),
        account_uuid: model.account.clone(),
        account_name: model.account.clone(),
        description: group.description.clone(),
        created_at: iso(group.created_at),
        updated_at: iso(group.updated_at),
    }
}

/// An email a person can have: one `@`, both sides non-empty, no spaces, control or invisible
/// characters, at most 254 characters, and not in the service-user domain. Returned normalised
/// ([`normalise_email`]: only ASCII letters fold, so no look-alike character can name someone
/// else's address).
pub fn check_email(email: &str, service_domain: &str) -> ApiResult<String> {
    let normalised = normalise_email(email);
    crate::limits::check_visible("email", &normalised)?;
    let valid = normalised.len() <= 254
        && normalised.split('@').count() == 2
        && normalised.split('@').all(|part| !part.is_empty())
        && !normalised
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(ApiError::invalid(format!(
            "`{email}` is not an email address"
        )));
    }
    if normalised.ends_with(&format!("@service.{service_domain}")) {
        return Err(ApiError::invalid(format!(
            "emails in `service.{service_domain}` belong to service users"
        )));
    }
    Ok(normalised)
}

/// A principal by uid, email or handle.
pub fn find<'a>(model: &'a Model, key: &str) -> ApiResult<&'a PrincipalBody> {
    let principal = model
        .directory
        .find_principal(key)
        .ok_or_else(|| ApiError::not_found("user", key))?;
    model
        .principals
        .get(principal.uid.as_ref())
        .ok_or_else(|| ApiError::not_found("user", key))
}

use warden_api::List;
pub use warden_api::users::{Membership, UserDetail, UserInput, UserSummary};

/// How memberships change.
#[derive(Debug, Clone)]
pub enum Change {
    Add(Vec<String>),
    Replace(Vec<String>),
    Remove(Vec<String>),
}

/// Creates a user (a person), with no group.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    input: UserInput,
) -> ApiResult<(UserSummary, i64)> {
    let now = authed.context.now_ms;
    state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:users:write", &level, &attributes(&[]))?;
            if !input.uid.is_empty() {
                return Err(ApiError::invalid(format!(
                    "`uid` `{}` cannot be chosen: Warden assigns it; send it empty or leave it out",
                    input.uid
                )));
            }
            let email = check_email(&input.email, &state.domain)?;
            check_text("name", &input.name, 0, 200)?;
            check_text("surname", &input.surname, 0, 200)?;
            if model.directory.find_principal(&email).is_some() {
                return Err(ApiError::conflict(format!(
                    "a user with email `{email}` already exists"
                )));
            }
            if model.principals.len() >= MAX_USERS {
                return Err(limit_reached("users per account", MAX_USERS));
            }
            let body = PrincipalBody {
                uid: new_uuid(),
                kind: PrincipalKind::User,
                email: email.clone(),
                handle: None,
                name: if input.name.is_empty() {
                    email.clone()
                } else {
                    input.name.clone()
                },
                surname: input.surname.clone(),
                description: String::new(),
                owner: None,
                purpose: String::new(),
                group_uuid: None,
                deactivation: None,
                created_at: now,
                created_by: authed.caller.uid.clone(),
                last_reviewed_at: None,
                last_used_at: None,
                password_hash: None,
            };
            let mut directory = model.directory.clone();
            directory.upsert_principal(principal_record(&body, Vec::new()))?;
            let out = summary(&body);
            let mut plan = Plan::new("user.create", format!("user/{}", body.uid), out);
            plan.after = Some(json!(user_summary(&body)));
            plan.ops = vec![body.op()];
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                model.principals.insert(body.uid.clone(), body);
            });
            Ok(plan)
        })
        .await
}

/// Deletes a user with its credentials. Nobody deletes themselves; deleting the last
/// administrator is refused by the commit pipeline.
pub async fn delete(state: &AppState, authed: &Authed, acc: &str, key: &str) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:users:write", &level, &attributes(&[]))?;
            let body = find(model, key)?.clone();
            if body.kind == PrincipalKind::ServiceUser {
                return Err(ApiError::invalid(
                    "this is a service user; delete it through `…/service-users/{uid}`",
                ));
            }
            if body.uid == authed.caller.uid {
                return Err(ApiError::conflict("you cannot delete yourself"));
            }
            let mut directory = model.directory.clone();
            directory.remove_principal(&body.uid)?;
            let tokens: Vec<String> = model
                .tokens
                .iter()
                .filter(|(_, t)| t.owner_uid == body.uid)
                .map(|(k, _)| k.clone())
                .collect();
            let mut plan = Plan::new("user.delete", format!("user/{}", body.uid), ());
            plan.before = Some(user_summary(&body));
            plan.ops = vec![warden_store::Op::DeletePrincipal {
                uid: body.uid.clone(),
            }];
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                model.principals.remove(&body.uid);
                model.oauth_clients.retain(|_, c| c.owner_uid != body.uid);
                for id in tokens {
                    model.tokens.remove(&id);
                }
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}

/// Changes the groups of a principal (a user or a service user, by uid, email or handle).
/// What joining a group gives — or leaving one stops denying — is checked against the author
/// by the commit pipeline, and a service user joining a group with an elevated binding needs
/// `justification` ([`crate::service::elevation`]); the audit entry keeps it.
pub async fn change_memberships(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    change: Change,
    justification: Option<String>,
) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, _snapshot| {
            let level = account(model, acc)?;
            state.require(authed, "iam:users:write", &level, &attributes(&[]))?;
            let body = find(model, key)?.clone();
            let current: Vec<Id> = model
                .directory
                .principal(&body.uid)
                .map(|p| p.groups.to_vec())
                .unwrap_or_default();
            let listed = match &change {
                Change::Add(g) | Change::Replace(g) | Change::Remove(g) => g,
            };
            if listed.len() > 200 {
                return Err(limit_reached("groups per request", 200));
            }
            for group in listed {
                if !model.groups.contains_key(group) {
                    return Err(ApiError::not_found("group", group));
                }
            }
            let next: Vec<Id> = match &change {
                Change::Add(groups) => {
                    let mut next = current.clone();
                    next.extend(
                        groups
                            .iter()
                            .map(|g| Id::from(g.as_str()))
                            .filter(|g| !current.contains(g)),
                    );
                    next
                }
                Change::Replace(groups) => groups.iter().map(|g| Id::from(g.as_str())).collect(),
                Change::Remove(groups) => current
                    .iter()
                    .filter(|g| !groups.iter().any(|x| x == g.as_ref()))
                    .cloned()
                    .collect(),
            };
            let mut unique = BTreeSet::new();
            let next: Vec<Id> = next
                .into_iter()
                .filter(|g| unique.insert(g.clone()))
                .collect();
            if next.len() > MAX_GROUPS_PER_USER {
                return Err(limit_reached("groups per user", MAX_GROUPS_PER_USER));
            }
            let mut directory = model.directory.clone();
            directory.set_memberships(&body.uid, next.clone())?;
            let justification = justification
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty());
            if let Some(text) = &justification {
                check_text("justification", text, 1, 2000)?;
            }
            let mut plan = Plan::new("user.memberships", format!("user/{}", body.uid), ());
            plan.before = Some(json!({
                "groups": current.iter().map(|g| g.to_string()).collect::<Vec<_>>()
            }));
            let mut after = json!({
                "groups": next.iter().map(|g| g.to_string()).collect::<Vec<_>>()
            });
            if let (Some(text), Some(object)) = (&justification, after.as_object_mut()) {
                object.insert("justification".to_owned(), json!(text));
            }
            plan.after = Some(after);
            plan.justification = justification;
            plan.ops = vec![warden_store::Op::SetMemberships {
                uid: body.uid.clone(),
                groups: next.iter().map(|g| g.to_string()).collect(),
            }];
            plan.directory = Some((directory, Vec::new()));
            Ok(plan)
        })
        .await?;
    Ok(revision)
}
