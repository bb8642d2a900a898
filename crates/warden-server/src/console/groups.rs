//! Groups: the list, one group with its members and bindings, create, rename, delete, and
//! membership changes (through the users use case, so the no-escalation rule for joining
//! applies). Reads and writes go through the service layer.

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use warden_engine::Level;

use super::html::{
    Attrs, at, button_form, code, count, form, hidden, input, joined, link, none, not_permitted, s,
    table, textarea, url,
};
use super::session::{Flash, error_alert, with_status};
use super::{Cx, Form, Post, redirect};
use crate::error::ApiError;
use crate::extract::Path;
use crate::service;
use crate::service::users::Change;
use warden_api::groups::GroupInput;

async fn list_page(cx: &Cx, failed: Option<(&ApiError, &Form)>) -> Response {
    let listed = service::groups::list(&cx.app, &cx.authed(), &cx.account).await;
    let items = match listed {
        Ok(list) => super::values(&list.items),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|g| {
            vec![
                link(
                    &format!("/console/groups/{}", url(s(g, "uuid"))),
                    s(g, "name"),
                ),
                html! { (s(g, "description")) },
                html! { (owner_text(s(g, "owner"))) },
            ]
        })
        .collect();
    let may_write = cx.may("iam:groups:write", &Level::Account, &[]);
    let values = failed.map(|(_, form)| form.clone()).unwrap_or_default();
    let body = html! {
        @if may_write {
            section.panel aria-labelledby="new-group" {
                h2 #new-group { "Create a group" }
                @if let Some((error, _)) = failed { (error_alert(error)) }
                (form("/console/groups", &cx.csrf, "", html! {
                    (input("group-name", "Name", "name", values.get("name"), Attrs::new().required().max_length(200), "Unique in the account, in any case."))
                    (textarea("group-description", "Description", "description", values.get("description"), 2, Attrs::new().max_length(255), ""))
                    button type="submit" { "Create group" }
                }))
            }
        }
        h2 { "All groups " (count(items.len())) }
        (table("", &["Name", "Description", "Kind"], &rows, "No groups yet."))
    };
    let status = failed.map_or(StatusCode::OK, |(e, _)| e.status());
    let mut response = cx.page("Groups", "groups", body);
    *response.status_mut() = status;
    response
}

fn owner_text(owner: &str) -> String {
    match owner {
        "LOCAL" => "local".to_owned(),
        "SAML" => "federated".to_owned(),
        "SERVICE_USER" => "a service user's own group".to_owned(),
        other => other.to_lowercase(),
    }
}

pub async fn list(cx: Cx) -> Response {
    list_page(&cx, None).await
}

pub async fn create(post: Post) -> Response {
    let Post { cx, form } = post;
    let made =
        service::groups::create(&cx.app, &cx.authed(), &cx.account, vec![group_input(&form)]).await;
    match made {
        Ok((created, _)) => {
            let uuid = created.first().map(|g| g.uuid.clone()).unwrap_or_default();
            cx.flash(Flash::ok(format!(
                "Created group `{}`.",
                form.get("name").trim()
            )));
            redirect(&format!("/console/groups/{}", url(&uuid)))
        }
        Err(error) => list_page(&cx, Some((&error, &form))).await,
    }
}

/// A group's bindings at every level the caller may read, as table rows.
pub async fn binding_rows(cx: &Cx, group: &str) -> (Vec<Vec<Markup>>, Vec<String>) {
    let mut levels = vec![("account".to_owned(), cx.account.clone())];
    levels.extend(
        cx.environments()
            .into_iter()
            .map(|e| ("environment".to_owned(), e)),
    );
    let snapshot = cx.app.snapshot();
    let mut rows = Vec::new();
    let mut refused = Vec::new();
    for (level_type, level_id) in levels {
        let found = crate::service::bindings::of_group(
            &cx.app,
            &cx.authed(),
            &level_type,
            &level_id,
            group,
            true,
        )
        .await;
        let details = match found {
            Ok(found) => super::values(&found.bindings_details.unwrap_or_default()),
            Err(error) if error.status() == StatusCode::FORBIDDEN => {
                refused.push(if level_type == "account" {
                    "account".to_owned()
                } else {
                    format!("environment {level_id}")
                });
                continue;
            }
            Err(_) => continue,
        };
        for binding in details {
            let policy = s(&binding, "policyUuid");
            let name = snapshot
                .directory()
                .policy(policy)
                .map_or_else(|| policy.to_owned(), |p| p.name.clone());
            let level = if level_type == "account" {
                "account".to_owned()
            } else {
                format!("environment {level_id}")
            };
            rows.push(vec![
                html! { (name) },
                html! { (level) },
                parameters_html(at(&binding, "parameters")),
                boundaries_html(cx, at(&binding, "boundaries")),
            ]);
        }
    }
    (rows, refused)
}

/// `name = value` lines of a binding's parameters.
pub fn parameters_html(parameters: &Value) -> Markup {
    let Some(map) = parameters.as_object().filter(|m| !m.is_empty()) else {
        return none();
    };
    let lines: Vec<Markup> = map
        .iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => format!("\"{s}\""),
                other => other.to_string(),
            };
            code(&format!("{k} = {value}"))
        })
        .collect();
    joined(&lines, html! { br; })
}

/// Boundary names of a binding.
pub fn boundaries_html(cx: &Cx, boundaries: &Value) -> Markup {
    let snapshot = cx.app.snapshot();
    let names: Vec<String> = boundaries
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(|id| {
                    snapshot
                        .directory()
                        .boundary(id)
                        .map_or_else(|| id.to_owned(), |b| b.name.clone())
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        none()
    } else {
        html! { (names.join(", ")) }
    }
}

async fn show_page(cx: &Cx, id: &str, failed: Option<&ApiError>) -> Response {
    let found = service::groups::get(&cx.app, &cx.authed(), &cx.account, id).await;
    let group = match found {
        Ok(dto) => json!(dto),
        Err(error) => return cx.error_page(&error, "/console/groups"),
    };
    let members = service::groups::members(&cx.app, &cx.authed(), &cx.account, id)
        .await
        .map(|list| super::values(&list.items))
        .unwrap_or_default();
    let may_write = cx.may("iam:groups:write", &Level::Account, &[]);
    let may_members = cx.may("iam:users:write", &Level::Account, &[]);
    let here = format!("/console/groups/{}", url(id));
    let rows: Vec<Vec<Markup>> = members
        .iter()
        .map(|m| {
            let kind = if at(m, "serviceUser").as_bool() == Some(true) {
                "service user"
            } else {
                "user"
            };
            let profile = if kind == "user" {
                format!("/console/users/{}", url(s(m, "uid")))
            } else {
                format!("/console/service-users/{}", url(s(m, "uid")))
            };
            let mut row = vec![
                link(&profile, s(m, "email")),
                html! { (s(m, "name")) },
                html! { (kind) },
            ];
            if may_members {
                row.push(form(
                    &format!("{here}/members/remove"),
                    &cx.csrf,
                    "inline",
                    html! {
                        (hidden("principal", s(m, "uid")))
                        button type="submit" class="secondary" aria-label={ "Remove " (s(m, "email")) " from the group" } { "Remove" }
                    },
                ));
            }
            row
        })
        .collect();
    let headers: &[&str] = if may_members {
        &["Email", "Name", "Kind", "Actions"]
    } else {
        &["Email", "Name", "Kind"]
    };
    let (binding_rows, refused) = binding_rows(cx, id).await;
    let may_read_bindings = cx.may(
        "iam:bindings:read",
        &Level::Account,
        &[("iam:levelType", "account")],
    );
    let body = html! {
        @if let Some(error) = failed { (error_alert(error)) }
        dl.facts {
            dt { "Name" } dd { (s(&group, "name")) }
            dt { "Description" } dd { (s(&group, "description")) }
            dt { "Id" } dd { (code(id)) }
            dt { "Kind" } dd { (owner_text(s(&group, "owner"))) }
        }
        h2 { "Members " (count(members.len())) }
        (table("", headers, &rows, "No members."))
        @if may_members {
            (form(&format!("{here}/members"), &cx.csrf, "panel", html! {
                h3 { "Add a member" }
                (input("member", "User or service user", "principal", "", Attrs::new().required(), "An email, a service-user handle or a uid. You can only add someone to a group whose permissions you hold yourself."))
                (input("member-justification", "Justification", "justification", "", Attrs::new(), "Why the member needs this group. Required when a service user joins a group bound to a policy granting an iam: write permission, or to a global Admin policy."))
                button type="submit" { "Add to group" }
            }))
        }
        h2 { "Bindings" }
        (table("", &["Policy", "Level", "Parameters", "Boundaries"], &binding_rows, "No policy is bound to this group."))
        @for level in refused {
            (not_permitted(&format!("read bindings at {level}"), "iam:bindings:read"))
        }
        @if may_read_bindings {
            p { (link(&format!("/console/bindings?group={}", url(id)), "Manage this group's bindings")) }
        }
        @if may_write {
            (form(&here, &cx.csrf, "panel", html! {
                h2 { "Edit" }
                (input("edit-name", "Name", "name", s(&group, "name"), Attrs::new().required().max_length(200), ""))
                (textarea("edit-description", "Description", "description", s(&group, "description"), 2, Attrs::new().max_length(255), ""))
                button type="submit" { "Save" }
            }))
            details.danger {
                summary { "Delete this group" }
                p { "Deleting a group removes its bindings; its members lose what they had through it." }
                (button_form(&format!("{here}/delete"), &cx.csrf, "Delete group", "danger"))
            }
        }
    };
    with_status(
        cx.page(&format!("Group {}", s(&group, "name")), "groups", body),
        failed,
    )
}

/// A group's name and description as the form gives them.
fn group_input(form: &Form) -> GroupInput {
    GroupInput {
        name: form.get("name").to_owned(),
        description: form.get("description").to_owned(),
        federated_attribute_values: Vec::new(),
    }
}

pub async fn show(cx: Cx, Path(id): Path<String>) -> Response {
    show_page(&cx, &id, None).await
}

pub async fn update(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let changed =
        service::groups::update(&cx.app, &cx.authed(), &cx.account, &id, group_input(&form)).await;
    match changed {
        Ok(_) => {
            cx.flash(Flash::ok("Saved."));
            redirect(&format!("/console/groups/{}", url(&id)))
        }
        Err(error) => show_page(&cx, &id, Some(&error)).await,
    }
}

pub async fn add_member(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let principal = form.get("principal").trim().to_owned();
    let added = service::users::change_memberships(
        &cx.app,
        &cx.authed(),
        &cx.account,
        &principal,
        Change::Add(vec![id.clone()]),
        form.text("justification"),
    )
    .await;
    match added {
        Ok(_) => {
            cx.flash(Flash::ok(format!("Added `{principal}` to the group.")));
            redirect(&format!("/console/groups/{}", url(&id)))
        }
        Err(error) => show_page(&cx, &id, Some(&error)).await,
    }
}

pub async fn remove_member(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let principal = form.get("principal").to_owned();
    let removed = service::users::change_memberships(
        &cx.app,
        &cx.authed(),
        &cx.account,
        &principal,
        Change::Remove(vec![id.clone()]),
        None,
    )
    .await;
    match removed {
        Ok(_) => {
            cx.flash(Flash::ok("Removed from the group."));
            redirect(&format!("/console/groups/{}", url(&id)))
        }
        Err(error) => show_page(&cx, &id, Some(&error)).await,
    }
}

pub async fn delete(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let deleted = service::groups::delete(&cx.app, &cx.authed(), &cx.account, &id).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the group."));
            redirect("/console/groups")
        }
        Err(error) => show_page(&cx, &id, Some(&error)).await,
    }
}
