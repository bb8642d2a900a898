//! Service users (SPEC §7) and their lifecycle.
//!
//! A service user is a principal that never signs in: it acts through OAuth clients and platform
//! tokens. At creation it gets a uid, the immutable email `<uid>@service.<domain>` (what
//! `iam:service-user-email` conditions match), a handle derived from its name (unique among
//! principals, `_2`, `_3`… on collision, immutable) and a group of its own for direct permission
//! assignment. Name, description, owner and purpose may change; anything else in an update is
//! refused with a 400 that says why. Deactivation (with a reason) makes every decision for it
//! DENY and stops its tokens at once; reactivation undoes it. Creation, updates (an owner
//! transfer too) and reactivation accept a `reason`; the audit entry keeps it beside the service
//! user's fields, and its history ([`crate::service::history`]) shows it. Deletion is refused while anything
//! still refers to it. A review (`POST …/review`) records that someone looked at it.
//!
//! Path keys accept the uid, the email or the handle.

use serde_json::{Value, json};
use warden_engine::naming::service_user_handle;
use warden_engine::{Id, PrincipalKind};
use warden_policy::temporal::parse_date_time;

use crate::limits::{MAX_USERS, check_text, limit_reached};
use crate::model::{Model, group_record, principal_record};
use crate::records::{Deactivation, GroupBody, OwnerRef, PrincipalBody};
use crate::service::Plan;
use crate::service::groups::{account, iso};
use crate::service::guard::attributes;
use crate::service::levels::new_uuid;
use crate::service::users::find;
use crate::service::{ApiError, ApiResult, Authed};
use crate::state::AppState;

pub use warden_api::service_users::{
    DeactivateInput, DeactivationDto, OwnerDto, OwnerInput, ReactivateInput, ReviewEntry,
    ReviewInput, ReviewQuery, ReviewReport, ServiceUserDto, ServiceUserInput, ServiceUserPage,
    ServiceUserUpdate,
};

/// A service user as the API shows it.
pub fn service_user_dto(model: &Model, body: &PrincipalBody) -> ServiceUserDto {
    ServiceUserDto {
        uid: body.uid.clone(),
        email: body.email.clone(),
        handle: body.handle.clone(),
        name: body.name.clone(),
        surname: body.surname.clone(),
        description: body.description.clone(),
        owner: body.owner.as_ref().map(|o| owner_dto(model, o)),
        purpose: body.purpose.clone(),
        group_uuid: body.group_uuid.clone(),
        created_at: iso(body.created_at),
        created_by: body.created_by.clone(),
        last_reviewed_at: body.last_reviewed_at.map(iso),
        last_used_at: body.last_used_at.map(iso),
        active: body.active(),
        deactivation: body.deactivation.as_ref().map(|d| DeactivationDto {
            reason: d.reason.clone(),
            at: iso(d.at),
            by: d.by.clone(),
        }),
    }
}

/// An owner with its name (email or group name), for people.
pub fn owner_dto(model: &Model, owner: &OwnerRef) -> OwnerDto {
    let name = match owner.kind.as_str() {
        "USER" => model.principals.get(&owner.id).map(|p| p.email.clone()),
        _ => model.groups.get(&owner.id).map(|g| g.name.clone()),
    };
    OwnerDto {
        kind: owner.kind.clone(),
        id: owner.id.clone(),
        name,
    }
}

/// The owner as stored: a person (by uid) or a group (by uuid).
fn resolve_owner(model: &Model, input: &OwnerInput) -> ApiResult<OwnerRef> {
    match input.kind.as_str() {
        "USER" => {
            let user = model
                .directory
                .find_principal(&input.id)
                .and_then(|p| model.principals.get(p.uid.as_ref()))
                .ok_or_else(|| {
                    ApiError::invalid(format!("owner: user `{}` does not exist", input.id))
                })?;
            if user.kind != PrincipalKind::User {
                return Err(ApiError::invalid(format!(
                    "owner: `{}` is a service user; the owner is a person or a group accountable for it",
                    input.id
                )));
            }
            Ok(OwnerRef {
                kind: "USER".into(),
                id: user.uid.clone(),
            })
        }
        "GROUP" => {
            let group = model
                .groups
                .get(&input.id)
                .or_else(|| model.group_by_name(&input.id))
                .ok_or_else(|| {
                    ApiError::invalid(format!("owner: group `{}` does not exist", input.id))
                })?;
            Ok(OwnerRef {
                kind: "GROUP".into(),
                id: group.uuid.clone(),
            })
        }
        other => Err(ApiError::invalid(format!(
            "owner: `type` is `{other}`; use `USER` or `GROUP`"
        ))),
    }
}

pub fn service_user<'a>(model: &'a Model, key: &str) -> ApiResult<&'a PrincipalBody> {
    find(model, key)
        .ok()
        .filter(|p| p.kind == PrincipalKind::ServiceUser)
        .ok_or_else(|| ApiError::not_found("service user", key))
}

/// Commits a changed service user (same uid, memberships unchanged) and answers with it.
async fn save(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    action: &'static str,
    notes: Vec<(&'static str, String)>,
    change: impl FnOnce(&Model, &PrincipalBody) -> ApiResult<PrincipalBody> + Send,
) -> ApiResult<(ServiceUserDto, i64)> {
    let mut saved = state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:service-users:write", &level, &attributes(&[]))?;
            let previous = service_user(model, key)?.clone();
            let body = change(model, &previous)?;
            let groups: Vec<Id> = model
                .directory
                .principal(&body.uid)
                .map(|p| p.groups.to_vec())
                .unwrap_or_default();
            let mut directory = model.directory.clone();
            directory.upsert_principal(principal_record(&body, groups))?;
            let out = service_user_dto(model, &body);
            let mut plan = Plan::new(action, format!("service-user/{}", body.uid), out.clone());
            plan.before = Some(json!(service_user_dto(model, &previous)));
            plan.after = Some(with_notes(json!(out), notes));
            plan.ops = vec![body.op()];
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                model.principals.insert(body.uid.clone(), body);
            });
            Ok(plan)
        })
        .await?;
    // The change is committed: a last use that cannot be read now leaves the answer without it
    // rather than make the write look failed.
    if let Err(error) = with_last_use(state, &mut saved.0).await {
        tracing::warn!(?error, "a service user's last use not read after a write");
    }
    Ok(saved)
}

/// The object an audit entry keeps, with what the request said about the change (`reason`,
/// `note`) beside the service user's fields; empty texts are left out.
fn with_notes(mut after: Value, notes: Vec<(&'static str, String)>) -> Value {
    if let Some(object) = after.as_object_mut() {
        for (key, text) in notes {
            if !text.trim().is_empty() {
                object.insert(key.to_owned(), json!(text.trim()));
            }
        }
    }
    after
}

/// A `reason` as the audit log keeps it: 0–500 characters.
fn reason_note(reason: &str) -> ApiResult<Vec<(&'static str, String)>> {
    check_text("reason", reason, 0, 500)?;
    Ok(vec![("reason", reason.to_owned())])
}

/// The warnings a service user's new name deserves (none without a new name): a generic name is
/// advised against, never refused ([`crate::service::naming`]).
pub fn name_warnings(state: &AppState, name: Option<&str>) -> Vec<String> {
    name.and_then(|name| state.naming.advise(name))
        .into_iter()
        .collect()
}

/// Creates a service user with its own group; the `reason` goes to the audit log.
pub async fn create(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    input: ServiceUserInput,
) -> ApiResult<(ServiceUserDto, i64)> {
    let now = authed.context.now_ms;
    state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:service-users:write", &level, &attributes(&[]))?;
            check_text("name", &input.name, 1, 200)?;
            check_text("description", &input.description, 0, 2000)?;
            check_text("purpose", &input.purpose, 0, 2000)?;
            let notes = reason_note(&input.reason)?;
            if model.principals.len() >= MAX_USERS {
                return Err(limit_reached("users per account", MAX_USERS));
            }
            let owner = input
                .owner
                .as_ref()
                .map(|o| resolve_owner(model, o))
                .transpose()?;
            let uid = new_uuid();
            let handle =
                service_user_handle(&input.name, |h| model.directory.find_principal(h).is_some());
            let mut group_name = format!("{handle} (service user)");
            let mut n = 2;
            while model.group_by_name(&group_name).is_some() {
                group_name = format!("{handle} (service user {n})");
                n += 1;
            }
            let group = GroupBody {
                uuid: new_uuid(),
                name: group_name,
                description: format!(
                    "Permissions assigned directly to the service user `{}`.",
                    input.name.trim()
                ),
                federated_attribute_values: Vec::new(),
                owner: "SERVICE_USER".into(),
                created_at: now,
                updated_at: now,
            };
            let body = PrincipalBody {
                uid: uid.clone(),
                kind: PrincipalKind::ServiceUser,
                email: format!("{uid}@service.{}", state.domain),
                handle: Some(handle),
                name: input.name.trim().to_owned(),
                surname: String::new(),
                description: input.description.clone(),
                owner,
                purpose: input.purpose.clone(),
                group_uuid: Some(group.uuid.clone()),
                deactivation: None,
                created_at: now,
                created_by: authed.caller.uid.clone(),
                last_reviewed_at: None,
                last_used_at: None,
                // Service users never sign in: they never get a password.
                password_hash: None,
            };
            let mut directory = model.directory.clone();
            directory.upsert_group(group_record(&group))?;
            directory
                .upsert_principal(principal_record(&body, vec![Id::from(group.uuid.as_str())]))?;
            let out = service_user_dto(model, &body);
            let mut plan = Plan::new(
                "service-user.create",
                format!("service-user/{uid}"),
                out.clone(),
            );
            plan.after = Some(with_notes(json!(out), notes));
            plan.ops = vec![
                group.op(),
                body.op(),
                warden_store::Op::SetMemberships {
                    uid: uid.clone(),
                    groups: vec![group.uuid.clone()],
                },
            ];
            plan.directory = Some((directory, Vec::new()));
            plan.apply = Box::new(move |model: &mut Model| {
                model.groups.insert(group.uuid.clone(), group);
                model.principals.insert(body.uid.clone(), body);
            });
            Ok(plan)
        })
        .await
}

/// Why a field of a service user cannot be changed through `PUT`.
fn immutable_reason(field: &str) -> Option<&'static str> {
    Some(match field {
        "uid" => "it identifies the service user",
        "email" => {
            "it is generated at creation and is what `iam:service-user-email` conditions match, so policies naming it stay safe"
        }
        "handle" => {
            "it is derived from the name at creation and stays the same when the name changes"
        }
        "createdAt" | "createdBy" => "it records who created the service user and when",
        "groupUuid" => {
            "it is the service user's own group, made with it; change memberships through the users API"
        }
        "surname" => "service users have no surname",
        "lastReviewedAt" => "record a review with `POST …/service-users/{uid}/review`",
        "lastUsedAt" => "Warden records it when the service user is used",
        "active" | "deactivation" => {
            "use `POST …/service-users/{uid}/deactivate` or `…/reactivate`"
        }
        _ => return None,
    })
}

/// Equal JSON, or two date-times naming the same second.
fn same_value(given: &Value, current: &Value) -> bool {
    if given == current {
        return true;
    }
    match (given.as_str(), current.as_str()) {
        (Some(a), Some(b)) => {
            matches!((parse_date_time(a), parse_date_time(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

/// `PUT …/{uid}`: name, description, owner, purpose. Fields left out keep their value; `owner:
/// null` removes the owner. Immutable fields may be sent back unchanged (a GET body round-trips).
pub async fn update(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    input: ServiceUserUpdate,
) -> ApiResult<(ServiceUserDto, i64)> {
    let notes = reason_note(input.reason.as_deref().unwrap_or_default())?;
    save(state, authed, acc, key, "service-user.update", notes, move |model, previous| {
        let current = json!(service_user_dto(model, previous));
        for (field, given) in &input.read_only {
            if matches!(field.as_str(), "password" | "passwordHash") {
                return Err(ApiError::invalid(
                    "service users cannot have a password: they never sign in; give them an OAuth client or a platform token",
                ));
            }
            let Some(reason) = immutable_reason(field) else {
                return Err(ApiError::invalid(format!(
                    "unknown field `{field}`; a service user's changeable fields are `name`, `description`, `owner` and `purpose`"
                )));
            };
            // The last use moves whenever the service user is used, also between a `GET` and
            // the `PUT` that sends its body back: any value is taken as read, and ignored.
            if field == "lastUsedAt" {
                continue;
            }
            if !same_value(given, current.get(field).unwrap_or(&Value::Null)) {
                return Err(ApiError::invalid(format!("`{field}` cannot be changed: {reason}"))
                    .with_details(json!({ "field": field, "immutable": true })));
            }
        }
        let mut body = previous.clone();
        if let Some(name) = &input.name {
            check_text("name", name, 1, 200)?;
            body.name = name.trim().to_owned();
        }
        if let Some(description) = &input.description {
            check_text("description", description, 0, 2000)?;
            body.description = description.clone();
        }
        if let Some(purpose) = &input.purpose {
            check_text("purpose", purpose, 0, 2000)?;
            body.purpose = purpose.clone();
        }
        match &input.owner {
            None => {}
            Some(None) => body.owner = None,
            Some(Some(owner)) => body.owner = Some(resolve_owner(model, owner)?),
        }
        Ok(body)
    })
    .await
}

/// `POST …/{uid}/deactivate {reason}`: every decision for it is DENY and its tokens stop at once.
pub async fn deactivate(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    input: DeactivateInput,
) -> ApiResult<(ServiceUserDto, i64)> {
    let now = authed.context.now_ms;
    let by = authed.caller.uid.clone();
    save(
        state,
        authed,
        acc,
        key,
        "service-user.deactivate",
        reason_note(&input.reason)?,
        move |_, previous| {
            check_text("reason", &input.reason, 1, 500)?;
            if let Some(d) = &previous.deactivation {
                return Err(ApiError::conflict(format!(
                    "service user `{}` is already deactivated (since {}: {})",
                    previous.handle.as_deref().unwrap_or(&previous.uid),
                    iso(d.at),
                    d.reason
                )));
            }
            let mut body = previous.clone();
            body.deactivation = Some(Deactivation {
                reason: input.reason.trim().to_owned(),
                at: now,
                by,
            });
            Ok(body)
        },
    )
    .await
}

/// `POST …/{uid}/reactivate`, optionally `{reason}`.
pub async fn reactivate(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    input: ReactivateInput,
) -> ApiResult<(ServiceUserDto, i64)> {
    save(
        state,
        authed,
        acc,
        key,
        "service-user.reactivate",
        reason_note(&input.reason)?,
        move |_, previous| {
            if previous.deactivation.is_none() {
                return Err(ApiError::conflict(format!(
                    "service user `{}` is not deactivated",
                    previous.handle.as_deref().unwrap_or(&previous.uid)
                )));
            }
            let mut body = previous.clone();
            body.deactivation = None;
            Ok(body)
        },
    )
    .await
}

/// `POST …/{uid}/review`, optionally `{note}`: records that the service user was reviewed now.
pub async fn review(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
    input: ReviewInput,
) -> ApiResult<(ServiceUserDto, i64)> {
    check_text("note", &input.note, 0, 2000)?;
    let now = authed.context.now_ms;
    save(
        state,
        authed,
        acc,
        key,
        "service-user.review",
        vec![("note", input.note)],
        move |_, previous| {
            let mut body = previous.clone();
            body.last_reviewed_at = Some(now);
            Ok(body)
        },
    )
    .await
}

/// What still refers to a service user: while anything does, it cannot be deleted.
///
/// OAuth clients and platform tokens it owns, and workflows that run as it (SPEC §7). Anything
/// else that comes to refer to service users adds its entries here.
pub fn referrers(model: &Model, uid: &str) -> Vec<Value> {
    let mut out: Vec<Value> = model
        .oauth_clients
        .values()
        .filter(|c| c.owner_uid == uid)
        .map(|c| json!({ "type": "oauth-client", "id": c.client_id, "name": c.name }))
        .collect();
    out.extend(
        model
            .tokens
            .values()
            .filter(|t| t.kind == "platform" && t.owner_uid == uid)
            .map(|t| json!({ "type": "platform-token", "id": t.id, "name": t.name })),
    );
    out.extend(
        model
            .workflows
            .values()
            .filter(|w| w.actor == uid)
            .map(|w| json!({ "type": "workflow", "id": w.id, "name": w.title })),
    );
    out.sort_by(|a, b| {
        let key = |v: &Value| {
            (
                v.get("type").and_then(Value::as_str).map(str::to_owned),
                v.get("id").and_then(Value::as_str).map(str::to_owned),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}

/// Deletes a service user with its own group, unless something still refers to it.
pub async fn delete(state: &AppState, authed: &Authed, acc: &str, key: &str) -> ApiResult<i64> {
    let ((), revision) = state
        .write(authed, |model, _| {
            let level = account(model, acc)?;
            state.require(authed, "iam:service-users:write", &level, &attributes(&[]))?;
            let body = service_user(model, key)?.clone();
            let referrers = referrers(model, &body.uid);
            if !referrers.is_empty() {
                let kinds: Vec<String> = ["oauth-client", "platform-token", "workflow"]
                    .iter()
                    .filter_map(|kind| {
                        let n = referrers
                            .iter()
                            .filter(|r| r.get("type").and_then(Value::as_str) == Some(*kind))
                            .count();
                        let noun = match *kind {
                            "oauth-client" => "OAuth client",
                            "platform-token" => "platform token",
                            _ => "workflow",
                        };
                        (n > 0).then(|| format!("{n} {noun}{}", if n == 1 { "" } else { "s" }))
                    })
                    .collect();
                return Err(ApiError::conflict(format!(
                    "service user `{}` is still used by {}; delete them or move them to another owner or actor first, or deactivate the service user instead",
                    body.handle.as_deref().unwrap_or(&body.uid),
                    kinds.join(" and ")
                ))
                .with_details(json!({ "referrers": referrers })));
            }
            let mut directory = model.directory.clone();
            directory.remove_principal(&body.uid)?;
            let mut affected = Vec::new();
            let mut ops = vec![warden_store::Op::DeletePrincipal { uid: body.uid.clone() }];
            if let Some(group) = &body.group_uuid {
                affected.extend(directory.remove_group(group).unwrap_or_default());
                ops.push(warden_store::Op::DeleteGroup { uuid: group.clone() });
            }
            let tokens: Vec<String> = model
                .tokens
                .iter()
                .filter(|(_, t)| t.owner_uid == body.uid)
                .map(|(k, _)| k.clone())
                .collect();
            let bindings: Vec<String> = model
                .bindings
                .iter()
                .filter(|(_, b)| Some(&b.group_uuid) == body.group_uuid.as_ref())
                .map(|(k, _)| k.clone())
                .collect();
            let mut plan = Plan::new("service-user.delete", format!("service-user/{}", body.uid), ());
            plan.before = Some(json!(service_user_dto(model, &body)));
            plan.ops = ops;
            plan.directory = Some((directory, affected));
            plan.apply = Box::new(move |model: &mut Model| {
                if let Some(group) = &body.group_uuid {
                    model.groups.remove(group);
                }
                model.principals.remove(&body.uid);
                model.oauth_clients.retain(|_, c| c.owner_uid != body.uid);
                for id in tokens {
                    model.tokens.remove(&id);
                }
                for key in bindings {
                    model.bindings.remove(&key);
                }
            });
            Ok(plan)
        })
        .await?;
    Ok(revision)
}

/// The service users by handle, a page of `page_size` (1–1000, default 100) from the
/// `next_page_key` of the previous page, or from the 1-based `page`.
pub async fn list(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    page_size: Option<usize>,
    next_page_key: Option<&str>,
    page: Option<usize>,
) -> ApiResult<ServiceUserPage> {
    let model = state.model.lock().await;
    let level = account(&model, acc)?;
    state.require(authed, "iam:service-users:read", &level, &attributes(&[]))?;
    let size = page_size.unwrap_or(100);
    if !(1..=1000).contains(&size) {
        return Err(ApiError::invalid(format!(
            "`pageSize` is 1–1000, not {size}"
        )));
    }
    let start: usize = match (next_page_key, page) {
        (Some(key), _) => key.parse().map_err(|_| {
            ApiError::invalid(format!(
                "`nextPageKey` `{key}` is not a key this server gave; send the one of the previous answer"
            ))
        })?,
        (None, Some(0)) => return Err(ApiError::invalid("`page` starts at 1")),
        (None, Some(page)) => (page - 1).saturating_mul(size),
        (None, None) => 0,
    };
    let mut all: Vec<&PrincipalBody> = model
        .principals
        .values()
        .filter(|p| p.kind == PrincipalKind::ServiceUser)
        .collect();
    all.sort_by(|a, b| a.handle.cmp(&b.handle));
    let mut results: Vec<ServiceUserDto> = all
        .iter()
        .skip(start)
        .take(size)
        .map(|p| service_user_dto(&model, p))
        .collect();
    let end = start.saturating_add(size);
    let total_count = all.len();
    drop(model);
    let used = state.last_used_all().await?;
    for dto in &mut results {
        dto.last_used_at = latest(dto.last_used_at.take(), used.get(&dto.uid).copied());
    }
    Ok(ServiceUserPage {
        total_count,
        results,
        next_page_key: (end < total_count).then(|| end.to_string()),
    })
}

/// One service user, by uid, email or handle.
pub async fn get(
    state: &AppState,
    authed: &Authed,
    acc: &str,
    key: &str,
) -> ApiResult<ServiceUserDto> {
    let mut found = {
        let model = state.model.lock().await;
        let level = account(&model, acc)?;
        state.require(authed, "iam:service-users:read", &level, &attributes(&[]))?;
        service_user_dto(&model, service_user(&model, key)?)
    };
    with_last_use(state, &mut found).await?;
    Ok(found)
}

/// Fills in when the service user was last used ([`crate::last_use`]): kept outside its record,
/// at a bounded write rate, so the stored body does not know it.
pub async fn with_last_use(state: &AppState, dto: &mut ServiceUserDto) -> ApiResult<()> {
    let used = state.last_used_at(&dto.uid).await?;
    dto.last_used_at = latest(dto.last_used_at.take(), used);
    Ok(())
}

/// The later of a date-time already shown and an instant in milliseconds.
fn latest(shown: Option<String>, used: Option<i64>) -> Option<String> {
    let shown_ms = shown
        .as_deref()
        .and_then(|s| parse_date_time(s).ok())
        .map(|seconds| seconds.saturating_mul(1000));
    match (shown_ms, used) {
        (Some(s), Some(u)) if u > s => Some(iso(u)),
        (None, Some(u)) => Some(iso(u)),
        _ => shown,
    }
}
