//! Service users, along the administrators' daily path (seed 000): the table of service users
//! with an Actions menu, "Add service user" with the naming rule previewed, the edit page (name,
//! description, owner, purpose, groups; the email and handle shown as immutable), deactivation
//! with a reason, reactivation, reviews, the History tab (its records from the audit log), and
//! the review report. Creation, edits and reactivation take an optional reason.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::Level;
use warden_engine::naming::service_user_handle;

use super::html::{
    Attrs, at, badge, button_form, checkboxes, code, form, hidden, input, joined, link, none,
    not_permitted, s, select, table, textarea, url,
};
use super::session::{Flash, error_alert, with_status};
use super::users::groups_form;
use super::{Cx, Form, Post, redirect};
use crate::error::ApiError;
use crate::extract::Path;
use crate::service::service_users::{
    self, DeactivateInput, OwnerInput, ReactivateInput, ReviewInput, ReviewQuery, ServiceUserInput,
    ServiceUserUpdate,
};
use crate::service::users::{self, Change};
use warden_api::service_users::HistoryQuery;

fn may_write(cx: &Cx) -> bool {
    cx.may("iam:service-users:write", &Level::Account, &[])
}

pub async fn list(cx: Cx) -> Response {
    let listed =
        service_users::list(&cx.app, &cx.authed(), &cx.account, Some(1000), None, None).await;
    // The template reads the wire shape, as the API answers it.
    let value = match listed {
        Ok(page) => json!(page),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let writer = may_write(&cx);
    let items = at(&value, "results")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|u| {
            let uid = s(u, "uid");
            let edit = format!("/console/service-users/{}", url(uid));
            let status = if at(u, "active").as_bool() == Some(true) {
                badge("active", "ok")
            } else {
                badge("deactivated", "bad")
            };
            let owner = at(u, "owner")
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(none, |name| html! { (name) });
            let actions = html! {
                details.actions {
                    summary aria-label={ "Actions for " (s(u, "name")) } { "Actions" }
                    ul { li { (link(&edit, if writer { "Edit" } else { "View" })) } }
                }
            };
            vec![
                html! { (s(u, "name")) },
                code(s(u, "handle")),
                html! { (s(u, "email")) },
                owner,
                status,
                html! { (at(u, "lastUsedAt").as_str().unwrap_or("never")) },
                actions,
            ]
        })
        .collect();
    let body = html! {
        div.toolbar {
            @if writer { a.button href="/console/service-users/new" { "Add service user" } }
            a.button.secondary href="/console/service-users/review" { "Review report" }
        }
        p { "Service users are non-interactive: they never sign in, and act through OAuth clients and platform tokens. Their email is generated and is what " code { "iam:service-user-email" } " conditions match." }
        (table("", &["Name", "Handle", "Email", "Owner", "Status", "Last used", "Actions"], &rows, "No service users yet."))
    };
    cx.page("Service users", "service-users", body)
}

/// `owner-type` + `owner` fields.
fn owner_fields(kind: &str, id: &str) -> Markup {
    let options = vec![
        (String::new(), "No owner".to_owned()),
        ("USER".to_owned(), "A user".to_owned()),
        ("GROUP".to_owned(), "A group".to_owned()),
    ];
    html! {
        (select("owner-type", "Owner", "owner-type", &options, kind, Attrs::new()))
        (input("owner", "Owner's email or group name", "owner", id, Attrs::new().max_length(254), "The person or group accountable for this service user."))
    }
}

fn owner_value(form: &Form) -> Option<OwnerInput> {
    match form.get("owner-type") {
        "" => None,
        kind => Some(OwnerInput {
            kind: kind.to_owned(),
            id: form.get("owner").trim().to_owned(),
        }),
    }
}

/// The handle a name would get now.
fn preview(cx: &Cx, name: &str) -> String {
    let snapshot = cx.app.snapshot();
    service_user_handle(name, |h| snapshot.directory().find_principal(h).is_some())
}

async fn new_form(cx: &Cx, failed: Option<(&ApiError, &Form)>) -> Response {
    if !may_write(cx) {
        return cx.error_page(
            &ApiError::forbidden(
                "iam:service-users:write",
                "permission `iam:service-users:write` is required to create service users",
            ),
            "/console/service-users",
        );
    }
    let values = failed.map(|(_, form)| form.clone()).unwrap_or_default();
    let handle = preview(cx, values.get("name"));
    let domain = &cx.app.domain;
    let groups = group_checks(cx, &values.all("group")).await;
    let inner = html! {
        @if let Some((error, _)) = failed { (error_alert(error)) }
        (input("su-name", "Name", "name", values.get("name"), Attrs::new().required().max_length(200).handle_preview("handle-preview").autocomplete("off"), ""))
        p.hint {
            "Handle: " output #handle-preview for="su-name" { (handle) }
            " — lower case, spaces become " code { "_" } ", other characters outside " code { "a–z 0–9 _" }
            " are dropped; " code { "_2" } ", " code { "_3" } "… when taken. The email will be "
            code { "<uid>@service." (domain) } ". Neither can be changed later."
        }
        (textarea("su-description", "Description", "description", values.get("description"), 2, Attrs::new().max_length(2000), "Make it meaningful for the environment's administrators."))
        (owner_fields(values.get("owner-type"), values.get("owner")))
        (textarea("su-purpose", "Purpose", "purpose", values.get("purpose"), 2, Attrs::new().max_length(2000), "What it is for, for the next reviewer."))
        (input("su-reason", "Reason", "reason", values.get("reason"), Attrs::new().max_length(500), "Why it is created, for its history."))
        h2 { "Assign permissions" }
        p { "The service user gets its own group for direct permissions. Add it to existing groups here or later." }
        (groups)
        button type="submit" { "Create" }
    };
    let body = form("/console/service-users", &cx.csrf, "", inner);
    with_status(
        cx.page("Create service user", "service-users", body),
        failed.map(|f| f.0),
    )
}

async fn group_checks(cx: &Cx, checked: &[String]) -> Markup {
    let all = crate::service::groups::list(&cx.app, &cx.authed(), &cx.account)
        .await
        .map(|list| super::values(&list.items));
    match all {
        Ok(all) => {
            let options: Vec<(String, String, bool)> = all
                .iter()
                .filter(|g| s(g, "owner") != "SERVICE_USER")
                .map(|g| {
                    let uuid = s(g, "uuid").to_owned();
                    let on = checked.contains(&uuid);
                    (uuid, s(g, "name").to_owned(), on)
                })
                .collect();
            checkboxes(
                "su-groups",
                "Through existing groups",
                "group",
                &options,
                "No groups.",
            )
        }
        Err(_) => html! {
            p.note { "You may not list groups (it needs " code { "iam:groups:read" } "); add groups later." }
        },
    }
}

pub async fn new_page(cx: Cx) -> Response {
    new_form(&cx, None).await
}

#[derive(Debug, Deserialize)]
pub struct HandleQuery {
    #[serde(default)]
    name: String,
}

/// The naming-rule preview for the create form's script: the handle, as text.
pub async fn handle_preview(
    cx: Cx,
    axum::extract::Query(query): axum::extract::Query<HandleQuery>,
) -> Response {
    if !may_write(&cx) {
        return (StatusCode::FORBIDDEN, "").into_response();
    }
    let name: String = query.name.chars().take(200).collect();
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        preview(&cx, &name),
    )
        .into_response()
}

pub async fn create(post: Post) -> Response {
    let Post { cx, form } = post;
    let input = ServiceUserInput {
        name: form.get("name").to_owned(),
        description: form.get("description").to_owned(),
        owner: owner_value(&form),
        purpose: form.get("purpose").to_owned(),
        reason: form.get("reason").to_owned(),
    };
    let warnings = service_users::name_warnings(&cx.app, Some(&input.name));
    let made = service_users::create(&cx.app, &cx.authed(), &cx.account, input).await;
    let created = match made {
        Ok((created, _)) => created,
        Err(error) => return new_form(&cx, Some((&error, &form))).await,
    };
    let uid = created.uid.clone();
    let mut message = format!(
        "Created service user `{}` with handle `{}` and email `{}`.",
        created.name,
        created.handle.as_deref().unwrap_or(""),
        created.email
    );
    let groups = form.all("group");
    if !groups.is_empty() {
        let joined = users::change_memberships(
            &cx.app,
            &cx.authed(),
            &cx.account,
            &uid,
            Change::Add(groups),
            form.text("justification"),
        )
        .await;
        if let Err(error) = joined {
            message.push_str(&format!(
                " It was not added to the groups: {}",
                error.message
            ));
            cx.flash(Flash::bad(message));
            return redirect(&format!("/console/service-users/{}", url(&uid)));
        }
    }
    if warnings.is_empty() {
        cx.flash(Flash::ok(message));
    } else {
        cx.flash(Flash::warn(format!(
            "{message} Note: {}.",
            warnings.join("; ")
        )));
    }
    redirect(&format!("/console/service-users/{}", url(&uid)))
}

async fn edit_page(cx: &Cx, id: &str, failed: Option<&ApiError>) -> Response {
    let found = service_users::get(&cx.app, &cx.authed(), &cx.account, id).await;
    let user = match found {
        Ok(user) => json!(user),
        Err(error) => return cx.error_page(&error, "/console/service-users"),
    };
    let uid = s(&user, "uid").to_owned();
    let here = format!("/console/service-users/{}", url(&uid));
    let writer = may_write(cx);
    let active = at(&user, "active").as_bool() == Some(true);
    let deactivation = html! {
        @if active {
            (badge("active", "ok"))
        } @else {
            (badge("deactivated", "bad")) " since " (s(at(&user, "deactivation"), "at"))
            " by " (s(at(&user, "deactivation"), "by")) ": " (s(at(&user, "deactivation"), "reason"))
        }
    };
    let owner = &at(&user, "owner");
    let owner_id = match s(owner, "type") {
        "USER" | "GROUP" => owner
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_else(|| s(owner, "id")),
        _ => "",
    };
    let member = crate::service::users::get(&cx.app, &cx.authed(), &cx.account, &uid).await;
    let current: Vec<(String, String)> = match &member {
        Ok(detail) => detail
            .groups
            .iter()
            .map(|g| (g.uuid.clone(), g.group_name.clone()))
            .collect(),
        Err(_) => Vec::new(),
    };
    let group_rows: Vec<Vec<Markup>> = current
        .iter()
        .map(|(uuid, name)| vec![link(&format!("/console/groups/{}", url(uuid)), name)])
        .collect();
    let groups_form = if member.is_ok() && cx.may("iam:users:write", &Level::Account, &[]) {
        let own = s(&user, "groupUuid");
        Some(groups_form(cx, &format!("{here}/groups"), &current, Some(own)).await)
    } else {
        None
    };
    let body = html! {
        @if let Some(error) = failed { (error_alert(error)) }
        dl.facts {
            dt { "Email" }
            dd { (code(s(&user, "email"))) " " span.hint { "(generated; cannot be changed: it is what " code { "iam:service-user-email" } " conditions match)" } }
            dt { "Handle" }
            dd { (code(s(&user, "handle"))) " " span.hint { "(cannot be changed)" } }
            dt { "Status" } dd { (deactivation) }
            dt { "Own group" } dd { (link(&format!("/console/groups/{}", url(s(&user, "groupUuid"))), "permissions assigned directly")) }
            dt { "Created" } dd { (s(&user, "createdAt")) " by " (s(&user, "createdBy")) }
            dt { "Last used" } dd { (at(&user, "lastUsedAt").as_str().unwrap_or("never")) }
            dt { "Last reviewed" } dd { (at(&user, "lastReviewedAt").as_str().unwrap_or("never")) }
        }
        @if writer {
            (form(&here, &cx.csrf, "panel", html! {
                h2 { "Edit service user" }
                (input("edit-name", "Name", "name", s(&user, "name"), Attrs::new().required().max_length(200), "Changing the name keeps the handle."))
                (textarea("edit-description", "Description", "description", s(&user, "description"), 2, Attrs::new().max_length(2000), ""))
                (owner_fields(s(owner, "type"), owner_id))
                (textarea("edit-purpose", "Purpose", "purpose", s(&user, "purpose"), 2, Attrs::new().max_length(2000), ""))
                (input("edit-reason", "Reason", "reason", "", Attrs::new().max_length(500), "Why it changes (an owner transfer too), for its history."))
                button type="submit" { "Save" }
            }))
        } @else {
            dl.facts {
                dt { "Name" } dd { (s(&user, "name")) }
                dt { "Description" } dd { (s(&user, "description")) }
                dt { "Owner" } dd { (owner.get("name").and_then(Value::as_str).unwrap_or("none")) }
                dt { "Purpose" } dd { (s(&user, "purpose")) }
            }
        }
        p.tabs { strong { "Details" } " · " (link(&format!("{here}/history"), "History")) }
        h2 { "Least privilege" }
        p {
            (link(&format!("{here}/least-privilege"), "Suggest a policy from what it used"))
            " " span.hint { "(allows every request it made, drops the permissions it did not use; with the impact of switching)" }
        }
        h2 { "Groups" }
        @if member.is_err() {
            (not_permitted("see its groups", "iam:users:read"))
        } @else {
            (table("", &["Group"], &group_rows, "In no group."))
            @if let Some(groups_form) = groups_form { (groups_form) }
        }
        @if writer {
            (form(&format!("{here}/lifecycle"), &cx.csrf, "panel", html! {
                @if active {
                    h2 { "Deactivate" }
                    p { "Every decision for it becomes DENY and its tokens stop working at once. It stays listed for the audit log and can be reactivated." }
                    (hidden("action", "deactivate"))
                    (textarea("reason", "Reason", "reason", "", 2, Attrs::new().required().max_length(500), ""))
                    button type="submit" class="danger" { "Deactivate" }
                } @else {
                    h2 { "Reactivate" }
                    p { "It regains the permissions of its groups." }
                    (hidden("action", "reactivate"))
                    (textarea("reactivate-reason", "Reason", "reason", "", 2, Attrs::new().max_length(500), ""))
                    button type="submit" { "Reactivate" }
                }
            }))
            (form(&format!("{here}/lifecycle"), &cx.csrf, "panel", html! {
                h2 { "Review" }
                p { "Record that you checked its owner, purpose and permissions." }
                (hidden("action", "review"))
                (textarea("note", "Note", "note", "", 2, Attrs::new().max_length(2000), ""))
                button type="submit" class="secondary" { "Mark reviewed" }
            }))
            details.danger {
                summary { "Delete this service user" }
                p { "Refused while it owns OAuth clients or platform tokens or runs workflows. Its own group and that group's bindings are deleted with it." }
                (button_form(&format!("{here}/delete"), &cx.csrf, "Delete service user", "danger"))
            }
        }
    };
    let title = if writer {
        "Edit service user"
    } else {
        "Service user"
    };
    with_status(
        cx.page(
            &format!("{title} {}", s(&user, "name")),
            "service-users",
            body,
        ),
        failed,
    )
}

pub async fn edit(cx: Cx, Path(id): Path<String>) -> Response {
    edit_page(&cx, &id, None).await
}

pub async fn update(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let input = ServiceUserUpdate {
        name: Some(form.get("name").to_owned()),
        description: Some(form.get("description").to_owned()),
        owner: Some(owner_value(&form)),
        purpose: Some(form.get("purpose").to_owned()),
        reason: Some(form.get("reason").to_owned()),
        ..ServiceUserUpdate::default()
    };
    let warnings = service_users::name_warnings(&cx.app, input.name.as_deref());
    let changed = service_users::update(&cx.app, &cx.authed(), &cx.account, &id, input).await;
    match changed {
        Ok(_) => {
            if warnings.is_empty() {
                cx.flash(Flash::ok("Saved."));
            } else {
                cx.flash(Flash::warn(format!(
                    "Saved. Note: {}.",
                    warnings.join("; ")
                )));
            }
            redirect(&format!("/console/service-users/{}", url(&id)))
        }
        Err(error) => edit_page(&cx, &id, Some(&error)).await,
    }
}

pub async fn set_groups(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let replaced = users::change_memberships(
        &cx.app,
        &cx.authed(),
        &cx.account,
        &id,
        Change::Replace(form.all("group")),
        form.text("justification"),
    )
    .await;
    match replaced {
        Ok(_) => {
            cx.flash(Flash::ok("Saved the groups."));
            redirect(&format!("/console/service-users/{}", url(&id)))
        }
        Err(error) => edit_page(&cx, &id, Some(&error)).await,
    }
}

pub async fn lifecycle(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let (app, authed, account) = (&cx.app, &cx.authed(), &cx.account);
    let (done, message) = match form.get("action") {
        "deactivate" => {
            let input = DeactivateInput {
                reason: form.get("reason").to_owned(),
            };
            (
                service_users::deactivate(app, authed, account, &id, input)
                    .await
                    .map(|_| ()),
                "Deactivated. Its tokens no longer work.",
            )
        }
        "reactivate" => {
            let input = ReactivateInput {
                reason: form.get("reason").to_owned(),
            };
            (
                service_users::reactivate(app, authed, account, &id, input)
                    .await
                    .map(|_| ()),
                "Reactivated.",
            )
        }
        "review" => {
            let input = ReviewInput {
                note: form.get("note").to_owned(),
            };
            (
                service_users::review(app, authed, account, &id, input)
                    .await
                    .map(|_| ()),
                "Recorded the review.",
            )
        }
        _ => (Err(ApiError::invalid("unknown action")), ""),
    };
    match done {
        Ok(()) => {
            cx.flash(Flash::ok(message));
            redirect(&format!("/console/service-users/{}", url(&id)))
        }
        Err(error) => edit_page(&cx, &id, Some(&error)).await,
    }
}

pub async fn delete(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let deleted = service_users::delete(&cx.app, &cx.authed(), &cx.account, &id).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the service user."));
            redirect("/console/service-users")
        }
        Err(error) => edit_page(&cx, &id, Some(&error)).await,
    }
}

/// The review page's windows as typed in its form (text; anything unreadable means 90 days).
#[derive(Debug, Deserialize, Default)]
pub struct ReviewForm {
    #[serde(default, rename = "unusedDays")]
    unused_days: Option<String>,
    #[serde(default, rename = "unreviewedDays")]
    unreviewed_days: Option<String>,
    #[serde(default, rename = "rotationDays")]
    rotation_days: Option<String>,
}

/// The windows of the form; a field left empty or not a number is the default, 90 days.
fn windows(form: &ReviewForm) -> ReviewQuery {
    let days = |v: &Option<String>| {
        v.as_deref()
            .and_then(|d| d.trim().parse::<i64>().ok())
            .unwrap_or(90)
    };
    ReviewQuery {
        unused_days: Some(days(&form.unused_days)),
        unreviewed_days: Some(days(&form.unreviewed_days)),
        rotation_days: Some(days(&form.rotation_days)),
    }
}

/// The review report as a spreadsheet reads it (the CSV of `warden service-user review
/// --format csv`), for the windows of the page.
pub async fn review_csv(
    cx: Cx,
    axum::extract::Query(form): axum::extract::Query<ReviewForm>,
) -> Response {
    let query = windows(&form);
    match crate::service::review::report(&cx.app, &cx.authed(), &cx.account, &query).await {
        Ok(report) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"service-user-review.csv\"",
                ),
            ],
            report.csv(),
        )
            .into_response(),
        Err(error) => cx.error_page(&error, "/console/service-users/review"),
    }
}

pub async fn review(
    cx: Cx,
    axum::extract::Query(form): axum::extract::Query<ReviewForm>,
) -> Response {
    let query = windows(&form);
    let (unused, unreviewed, rotation) = (
        query.unused_days.unwrap_or(90),
        query.unreviewed_days.unwrap_or(90),
        query.rotation_days.unwrap_or(90),
    );
    let found = crate::service::review::report(&cx.app, &cx.authed(), &cx.account, &query).await;
    let report = match found {
        Ok(report) => report,
        Err(error) => return cx.error_page(&error, "/console/service-users"),
    };
    let rows: Vec<Vec<Markup>> = report
        .service_users
        .iter()
        .map(|u| {
            let unused_permissions: Vec<Markup> =
                u.unused_permissions.iter().map(|p| code(p)).collect();
            let details: Vec<Markup> = u
                .findings
                .iter()
                .filter(|f| {
                    matches!(
                        f.as_str(),
                        "unused-membership" | "rotation-due" | "owner-deactivated"
                    )
                })
                .map(|f| html! { (f) ": " (u.details(f)) })
                .collect();
            vec![
                link(&format!("/console/service-users/{}", url(&u.uid)), &u.name),
                code(u.handle.as_deref().unwrap_or_default()),
                html! { (u.findings.join(", ")) },
                if unused_permissions.is_empty() {
                    none()
                } else {
                    joined(&unused_permissions, html! { " " })
                },
                if details.is_empty() {
                    none()
                } else {
                    joined(&details, html! { br; })
                },
                html! { (u.last_used_at.as_deref().unwrap_or("never")) },
                html! { (u.last_reviewed_at.as_deref().unwrap_or("never")) },
            ]
        })
        .collect();
    let workflow_rows: Vec<Vec<Markup>> = report
        .workflows
        .iter()
        .map(|w| {
            vec![
                html! { (w.title) },
                html! { (w.environment) },
                html! {
                    (w.actor_email.as_deref().unwrap_or(&w.actor))
                    @if !w.actor_active { " " (badge("deactivated", "bad")) }
                },
                html! { (w.findings.join(", ")) },
                html! { (w.suggestion) },
            ]
        })
        .collect();
    let days_field = |id: &str, label: &str, name: &str, value: i64| {
        input(
            id,
            label,
            name,
            &value.to_string(),
            Attrs::new().kind("number").range(1, Some(36500)),
            "",
        )
    };
    let body = html! {
        form method="get" action="/console/service-users/review" class="toolbar" {
            (days_field("unused-days", "Unused for (days)", "unusedDays", unused))
            (days_field("unreviewed-days", "Unreviewed for (days)", "unreviewedDays", unreviewed))
            (days_field("rotation-days", "Credentials older than (days)", "rotationDays", rotation))
            button type="submit" class="secondary" { "Update" }
        }
        p {
            a href=(format!("/console/service-users/review.csv?unusedDays={unused}&unreviewedDays={unreviewed}&rotationDays={rotation}")) download {
                "Download as CSV"
            }
            " (one row per service user or workflow per finding, for a spreadsheet)"
        }
        (table("", &["Name", "Handle", "Findings", "Unused permissions", "Details", "Last used", "Last reviewed"], &rows, "Every service user is in use, reviewed, owned and described, with fresh credentials."))
        h2 { "Workflows run by a person" }
        (table("", &["Workflow", "Environment", "Actor", "Findings", "Suggestion"], &workflow_rows, "Every workflow you can see runs as an active service user."))
    };
    cx.page("Service user review", "service-users", body)
}

/// The History tab: the service user's records from the audit log, newest last, paged by
/// `afterSeq` like the audit log.
pub async fn history(
    cx: Cx,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HistoryQuery>,
) -> Response {
    let found = service_users::get(&cx.app, &cx.authed(), &cx.account, &id).await;
    let user = match found {
        Ok(user) => user,
        Err(error) => return cx.error_page(&error, "/console/service-users"),
    };
    let here = format!("/console/service-users/{}", url(&user.uid));
    let page =
        crate::service::history::history(&cx.app, &cx.authed(), &cx.account, &id, query).await;
    let records = match page {
        Ok(page) => page,
        Err(error) => return cx.error_page(&error, &here),
    };
    let rows: Vec<Vec<Markup>> = records
        .records
        .iter()
        .map(|r| {
            let changes = html! {
                @for c in &r.changes {
                    div { code { (c.field) } ": " (c.old.as_deref().unwrap_or("—")) " → " (c.new.as_deref().unwrap_or("—")) }
                }
            };
            vec![
                html! { (r.at) },
                html! { (r.actor_name.as_deref().unwrap_or(&r.actor)) },
                html! { code { (r.action) } },
                changes,
                html! { (r.reason.as_deref().unwrap_or("")) },
            ]
        })
        .collect();
    let body = html! {
        p.tabs { (link(&here, "Details")) " · " strong { "History" } }
        (table("", &["When", "Who", "What", "Changes", "Why"], &rows, "No records."))
        @if let Some(next) = records.next_after_seq {
            p { (link(&format!("{here}/history?afterSeq={next}"), "Later records")) }
        }
    };
    cx.page(
        &format!("History of service user {}", user.name),
        "service-users",
        body,
    )
}
