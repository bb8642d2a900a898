//! Service users, along the administrators' daily path (seed 000): the table of service users
//! with an Actions menu, "Add service user" with the naming rule previewed, the edit page (name,
//! description, owner, purpose, groups; the email and handle shown as immutable), deactivation
//! with a reason, reactivation, reviews, and the review report.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::Level;
use warden_engine::naming::service_user_handle;

use super::html::{
    at, badge, button_form, code, esc, form, input, link, s, select, table, textarea, url,
};
use super::session::{Flash, error_html, with_status};
use super::users::groups_form;
use super::{Cx, Form, Post, input as api_input, redirect};
use crate::api::{Body, Path, Query, review as report, service_users, users};
use crate::error::ApiError;

fn may_write(cx: &Cx) -> bool {
    cx.may("iam:service-users:write", &Level::Account, &[])
}

pub async fn list(cx: Cx) -> Response {
    let query = match api_input(json!({ "page-size": 1000 })) {
        Ok(query) => query,
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let listed = service_users::list(
        State(cx.app.clone()),
        cx.authed(),
        Path(cx.account.clone()),
        Query(query),
    )
    .await;
    let value = match listed {
        Ok(axum::Json(value)) => value,
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let writer = may_write(&cx);
    let items = at(&value, "results")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let rows: Vec<Vec<String>> = items
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
                .map_or_else(|| "<span class=\"empty\">none</span>".to_owned(), esc);
            let actions = format!(
                "<details class=\"actions\"><summary aria-label=\"Actions for {name}\">Actions</summary><ul><li>{edit_link}</li></ul></details>",
                name = esc(s(u, "name")),
                edit_link = link(&edit, if writer { "Edit" } else { "View" }),
            );
            vec![
                esc(s(u, "name")),
                code(s(u, "handle")),
                esc(s(u, "email")),
                owner,
                status,
                esc(at(u, "lastUsedAt").as_str().unwrap_or("never")),
                actions,
            ]
        })
        .collect();
    let mut body = String::from("<div class=\"toolbar\">");
    if writer {
        body.push_str(
            "<a class=\"button\" href=\"/console/service-users/new\">Add service user</a>",
        );
    }
    body.push_str("<a class=\"button secondary\" href=\"/console/service-users/review\">Review report</a></div>");
    body.push_str("<p>Service users are non-interactive: they never sign in, and act through OAuth clients and platform tokens. Their email is generated and is what <code>iam:service-user-email</code> conditions match.</p>");
    body.push_str(&table(
        "",
        &[
            "Name",
            "Handle",
            "Email",
            "Owner",
            "Status",
            "Last used",
            "Actions",
        ],
        &rows,
        "No service users yet.",
    ));
    cx.page("Service users", "service-users", &body)
}

/// `owner-type` + `owner` fields.
fn owner_fields(kind: &str, id: &str) -> String {
    let options = vec![
        (String::new(), "No owner".to_owned()),
        ("USER".to_owned(), "A user".to_owned()),
        ("GROUP".to_owned(), "A group".to_owned()),
    ];
    format!(
        "{}{}",
        select("owner-type", "Owner", "owner-type", &options, kind, ""),
        input(
            "owner",
            "Owner's email or group name",
            "owner",
            id,
            "maxlength=\"254\"",
            "The person or group accountable for this service user."
        )
    )
}

fn owner_value(form: &Form) -> Value {
    match form.get("owner-type") {
        "" => Value::Null,
        kind => json!({ "type": kind, "id": form.get("owner").trim() }),
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
    let (values, error) = match failed {
        Some((error, form)) => (form.clone(), error_html(error)),
        None => (Form::default(), String::new()),
    };
    let handle = preview(cx, values.get("name"));
    let domain = &cx.app.domain;
    let inner = format!(
        "{error}{name}<p class=\"hint\">Handle: <output id=\"handle-preview\" for=\"su-name\">{handle}</output> — lower case, spaces become <code>_</code>, other characters outside <code>a–z 0–9 _</code> are dropped; <code>_2</code>, <code>_3</code>… when taken. The email will be <code>&lt;uid&gt;@service.{domain}</code>. Neither can be changed later.</p>{description}{owner}{purpose}<h2>Assign permissions</h2><p>The service user gets its own group for direct permissions. Add it to existing groups here or later.</p>{groups}<button type=\"submit\">Create</button>",
        name = input(
            "su-name",
            "Name",
            "name",
            values.get("name"),
            "required maxlength=\"200\" data-handle-preview=\"handle-preview\" autocomplete=\"off\"",
            ""
        ),
        handle = esc(&handle),
        domain = esc(domain),
        description = textarea(
            "su-description",
            "Description",
            "description",
            values.get("description"),
            2,
            "maxlength=\"2000\"",
            "Make it meaningful for the environment's administrators."
        ),
        owner = owner_fields(values.get("owner-type"), values.get("owner")),
        purpose = textarea(
            "su-purpose",
            "Purpose",
            "purpose",
            values.get("purpose"),
            2,
            "maxlength=\"2000\"",
            "What it is for, for the next reviewer."
        ),
        groups = group_checks(cx, &values.all("group")).await,
    );
    let body = form("/console/service-users", &cx.csrf, "", &inner);
    with_status(
        cx.page("Create service user", "service-users", &body),
        failed.map(|f| f.0),
    )
}

async fn group_checks(cx: &Cx, checked: &[String]) -> String {
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
            super::html::checkboxes("su-groups", "Through existing groups", "group", &options, "No groups.")
        }
        Err(_) => "<p class=\"note\">You may not list groups (it needs <code>iam:groups:read</code>); add groups later.</p>".to_owned(),
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
    let made = async {
        let input = api_input(json!({
            "name": form.get("name"),
            "description": form.get("description"),
            "owner": owner_value(&form),
            "purpose": form.get("purpose"),
        }))?;
        service_users::create(
            State(cx.app.clone()),
            cx.authed(),
            Path(cx.account.clone()),
            Body(input),
        )
        .await
    }
    .await;
    let created = match made {
        Ok(written) => written.body.unwrap_or_default(),
        Err(error) => return new_form(&cx, Some((&error, &form))).await,
    };
    let uid = s(&created, "uid").to_owned();
    let mut message = format!(
        "Created service user `{}` with handle `{}` and email `{}`.",
        s(&created, "name"),
        s(&created, "handle"),
        s(&created, "email")
    );
    let groups = form.all("group");
    if !groups.is_empty() {
        let joined = users::add_groups(
            State(cx.app.clone()),
            cx.authed(),
            Path((cx.account.clone(), uid.clone())),
            Body(groups),
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
    cx.flash(Flash::ok(message));
    redirect(&format!("/console/service-users/{}", url(&uid)))
}

async fn edit_page(cx: &Cx, id: &str, failed: Option<&ApiError>) -> Response {
    let found = service_users::get(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id.to_owned())),
    )
    .await;
    let user = match found {
        Ok(axum::Json(value)) => value,
        Err(error) => return cx.error_page(&error, "/console/service-users"),
    };
    let uid = s(&user, "uid").to_owned();
    let here = format!("/console/service-users/{}", url(&uid));
    let writer = may_write(cx);
    let active = at(&user, "active").as_bool() == Some(true);
    let mut body = String::new();
    if let Some(error) = failed {
        body.push_str(&error_html(error));
    }
    let deactivation = if active {
        badge("active", "ok")
    } else {
        format!(
            "{} since {} by {}: {}",
            badge("deactivated", "bad"),
            esc(s(at(&user, "deactivation"), "at")),
            esc(s(at(&user, "deactivation"), "by")),
            esc(s(at(&user, "deactivation"), "reason"))
        )
    };
    body.push_str(&format!(
        "<dl class=\"facts\"><dt>Email</dt><dd>{email} <span class=\"hint\">(generated; cannot be changed: it is what <code>iam:service-user-email</code> conditions match)</span></dd><dt>Handle</dt><dd>{handle} <span class=\"hint\">(cannot be changed)</span></dd><dt>Status</dt><dd>{deactivation}</dd><dt>Own group</dt><dd>{group}</dd><dt>Created</dt><dd>{created}</dd><dt>Last used</dt><dd>{used}</dd><dt>Last reviewed</dt><dd>{reviewed}</dd></dl>",
        email = code(s(&user, "email")),
        handle = code(s(&user, "handle")),
        group = link(&format!("/console/groups/{}", url(s(&user, "groupUuid"))), "permissions assigned directly"),
        created = esc(&format!("{} by {}", s(&user, "createdAt"), s(&user, "createdBy"))),
        used = esc(at(&user, "lastUsedAt").as_str().unwrap_or("never")),
        reviewed = esc(at(&user, "lastReviewedAt").as_str().unwrap_or("never")),
    ));
    if writer {
        let owner = &at(&user, "owner");
        let owner_id = match s(owner, "type") {
            "USER" => owner
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_else(|| s(owner, "id")),
            "GROUP" => owner
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_else(|| s(owner, "id")),
            _ => "",
        };
        body.push_str(&form(
            &here,
            &cx.csrf,
            "panel",
            &format!(
                "<h2>Edit service user</h2>{}{}{}{}<button type=\"submit\">Save</button>",
                input(
                    "edit-name",
                    "Name",
                    "name",
                    s(&user, "name"),
                    "required maxlength=\"200\"",
                    "Changing the name keeps the handle."
                ),
                textarea(
                    "edit-description",
                    "Description",
                    "description",
                    s(&user, "description"),
                    2,
                    "maxlength=\"2000\"",
                    ""
                ),
                owner_fields(s(owner, "type"), owner_id),
                textarea(
                    "edit-purpose",
                    "Purpose",
                    "purpose",
                    s(&user, "purpose"),
                    2,
                    "maxlength=\"2000\"",
                    ""
                ),
            ),
        ));
    } else {
        body.push_str(&format!(
            "<dl class=\"facts\"><dt>Name</dt><dd>{}</dd><dt>Description</dt><dd>{}</dd><dt>Owner</dt><dd>{}</dd><dt>Purpose</dt><dd>{}</dd></dl>",
            esc(s(&user, "name")),
            esc(s(&user, "description")),
            esc(at(&user, "owner").get("name").and_then(Value::as_str).unwrap_or("none")),
            esc(s(&user, "purpose")),
        ));
    }

    body.push_str("<h2>Groups</h2>");
    let member = crate::service::users::get(&cx.app, &cx.authed(), &cx.account, &uid).await;
    let current: Vec<(String, String)> = match &member {
        Ok(detail) => detail
            .groups
            .iter()
            .map(|g| (g.uuid.clone(), g.group_name.clone()))
            .collect(),
        Err(_) => Vec::new(),
    };
    if member.is_err() {
        body.push_str(&super::html::not_permitted(
            "see its groups",
            "iam:users:read",
        ));
    } else {
        let rows: Vec<Vec<String>> = current
            .iter()
            .map(|(uuid, name)| vec![link(&format!("/console/groups/{}", url(uuid)), name)])
            .collect();
        body.push_str(&table("", &["Group"], &rows, "In no group."));
        if cx.may("iam:users:write", &Level::Account, &[]) {
            let own = s(&user, "groupUuid").to_owned();
            body.push_str(
                &groups_form(cx, &format!("{here}/groups"), &current, Some(own.as_str())).await,
            );
        }
    }

    if writer {
        let lifecycle = if active {
            format!(
                "<h2>Deactivate</h2><p>Every decision for it becomes DENY and its tokens stop working at once. It stays listed for the audit log and can be reactivated.</p>{}{}<button type=\"submit\" class=\"danger\">Deactivate</button>",
                super::html::hidden("action", "deactivate"),
                textarea(
                    "reason",
                    "Reason",
                    "reason",
                    "",
                    2,
                    "required maxlength=\"500\"",
                    ""
                ),
            )
        } else {
            format!(
                "<h2>Reactivate</h2><p>It regains the permissions of its groups.</p>{}<button type=\"submit\">Reactivate</button>",
                super::html::hidden("action", "reactivate")
            )
        };
        body.push_str(&form(
            &format!("{here}/lifecycle"),
            &cx.csrf,
            "panel",
            &lifecycle,
        ));
        body.push_str(&form(
            &format!("{here}/lifecycle"),
            &cx.csrf,
            "panel",
            &format!(
                "<h2>Review</h2><p>Record that you checked its owner, purpose and permissions.</p>{}{}<button type=\"submit\" class=\"secondary\">Mark reviewed</button>",
                super::html::hidden("action", "review"),
                textarea("note", "Note", "note", "", 2, "maxlength=\"2000\"", ""),
            ),
        ));
        body.push_str(&format!(
            "<details class=\"danger\"><summary>Delete this service user</summary><p>Refused while it owns OAuth clients or platform tokens or runs workflows. Its own group and that group's bindings are deleted with it.</p>{}</details>",
            button_form(&format!("{here}/delete"), &cx.csrf, "Delete service user", "danger")
        ));
    }
    let title = if writer {
        "Edit service user"
    } else {
        "Service user"
    };
    with_status(
        cx.page(
            &format!("{title} {}", s(&user, "name")),
            "service-users",
            &body,
        ),
        failed,
    )
}

pub async fn edit(cx: Cx, Path(id): Path<String>) -> Response {
    edit_page(&cx, &id, None).await
}

pub async fn update(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let changed = service_users::update(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id.clone())),
        Body(
            json!({
                "name": form.get("name"),
                "description": form.get("description"),
                "owner": owner_value(&form),
                "purpose": form.get("purpose"),
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ),
    )
    .await;
    match changed {
        Ok(_) => {
            cx.flash(Flash::ok("Saved."));
            redirect(&format!("/console/service-users/{}", url(&id)))
        }
        Err(error) => edit_page(&cx, &id, Some(&error)).await,
    }
}

pub async fn set_groups(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let replaced = users::replace_groups(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id.clone())),
        Body(form.all("group")),
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
    let state = State(cx.app.clone());
    let path = Path((cx.account.clone(), id.clone()));
    let (done, message) = match form.get("action") {
        "deactivate" => match api_input(json!({ "reason": form.get("reason") })) {
            Ok(input) => (
                service_users::deactivate(state, cx.authed(), path, Body(input))
                    .await
                    .map(|_| ()),
                "Deactivated. Its tokens no longer work.",
            ),
            Err(error) => (Err(error), ""),
        },
        "reactivate" => (
            service_users::reactivate(state, cx.authed(), path)
                .await
                .map(|_| ()),
            "Reactivated.",
        ),
        "review" => {
            let note = serde_json::to_vec(&json!({ "note": form.get("note") })).unwrap_or_default();
            (
                service_users::review(state, cx.authed(), path, Bytes::from(note))
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
    let deleted = service_users::delete(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id.clone())),
    )
    .await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the service user."));
            redirect("/console/service-users")
        }
        Err(error) => edit_page(&cx, &id, Some(&error)).await,
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct ReviewQuery {
    #[serde(default, rename = "unusedDays")]
    unused_days: Option<String>,
    #[serde(default, rename = "unreviewedDays")]
    unreviewed_days: Option<String>,
}

pub async fn review(
    cx: Cx,
    axum::extract::Query(query): axum::extract::Query<ReviewQuery>,
) -> Response {
    let days = |v: &Option<String>| {
        v.as_deref()
            .and_then(|d| d.trim().parse::<i64>().ok())
            .unwrap_or(90)
    };
    let (unused, unreviewed) = (days(&query.unused_days), days(&query.unreviewed_days));
    let query = match api_input(json!({ "unusedDays": unused, "unreviewedDays": unreviewed })) {
        Ok(query) => query,
        Err(error) => return cx.error_page(&error, "/console/service-users"),
    };
    let found = report::report(
        State(cx.app.clone()),
        cx.authed(),
        Path(cx.account.clone()),
        Query(query),
    )
    .await;
    let value = match found {
        Ok(axum::Json(value)) => value,
        Err(error) => return cx.error_page(&error, "/console/service-users"),
    };
    let rows: Vec<Vec<String>> = at(&value, "serviceUsers")
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            let findings = super::strings(u, "findings").join(", ");
            let unused_permissions = super::strings(u, "unusedPermissions");
            vec![
                link(
                    &format!("/console/service-users/{}", url(s(u, "uid"))),
                    s(u, "name"),
                ),
                code(s(u, "handle")),
                esc(&findings),
                if unused_permissions.is_empty() {
                    "<span class=\"empty\">none</span>".to_owned()
                } else {
                    unused_permissions
                        .iter()
                        .map(|p| code(p))
                        .collect::<Vec<_>>()
                        .join(" ")
                },
                esc(at(u, "lastUsedAt").as_str().unwrap_or("never")),
                esc(at(u, "lastReviewedAt").as_str().unwrap_or("never")),
            ]
        })
        .collect();
    let body = format!(
        "<form method=\"get\" action=\"/console/service-users/review\" class=\"toolbar\">{}{}<button type=\"submit\" class=\"secondary\">Update</button></form>{}",
        input(
            "unused-days",
            "Unused for (days)",
            "unusedDays",
            &unused.to_string(),
            "type=\"number\" min=\"1\" max=\"36500\"",
            ""
        ),
        input(
            "unreviewed-days",
            "Unreviewed for (days)",
            "unreviewedDays",
            &unreviewed.to_string(),
            "type=\"number\" min=\"1\" max=\"36500\"",
            ""
        ),
        table(
            "",
            &[
                "Name",
                "Handle",
                "Findings",
                "Unused permissions",
                "Last used",
                "Last reviewed"
            ],
            &rows,
            "Every service user is in use, reviewed and owned.",
        )
    );
    cx.page("Service user review", "service-users", &body)
}
