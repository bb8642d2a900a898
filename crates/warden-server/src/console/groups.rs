//! Groups: the list, one group with its members and bindings, create, rename, delete, and
//! membership changes (through the users API, so the no-escalation rule for joining applies).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use warden_engine::Level;

use super::html::{
    at, button_form, code, esc, form, input, link, not_permitted, s, table, textarea, url,
};
use super::session::{Flash, error_html, with_status};
use super::{Cx, Form, Post, input as api_input, redirect};
use crate::api::{Body, Path, groups, users};
use crate::error::ApiError;
use crate::service;

async fn list_page(cx: &Cx, failed: Option<(&ApiError, &Form)>) -> Response {
    let listed = service::groups::list(&cx.app, &cx.authed(), &cx.account).await;
    let items = match listed {
        Ok(list) => super::values(&list.items),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|g| {
            vec![
                link(
                    &format!("/console/groups/{}", url(s(g, "uuid"))),
                    s(g, "name"),
                ),
                esc(s(g, "description")),
                esc(&owner_text(s(g, "owner"))),
            ]
        })
        .collect();
    let mut body = String::new();
    if cx.may("iam:groups:write", &Level::Account, &[]) {
        let (values, error_html) = match failed {
            Some((error, form)) => (form.clone(), error_html(error)),
            None => (Form::default(), String::new()),
        };
        body.push_str(&format!(
            "<section class=\"panel\" aria-labelledby=\"new-group\"><h2 id=\"new-group\">Create a group</h2>{error_html}{}</section>",
            form(
                "/console/groups",
                &cx.csrf,
                "",
                &format!(
                    "{}{}<button type=\"submit\">Create group</button>",
                    input("group-name", "Name", "name", values.get("name"), "required maxlength=\"200\"", "Unique in the account, in any case."),
                    textarea("group-description", "Description", "description", values.get("description"), 2, "maxlength=\"255\"", ""),
                )
            )
        ));
    }
    body.push_str(&format!(
        "<h2>All groups <span class=\"badge neutral\">{}</span></h2>",
        items.len()
    ));
    body.push_str(&table(
        "",
        &["Name", "Description", "Kind"],
        &rows,
        "No groups yet.",
    ));
    let status = failed.map_or(StatusCode::OK, |(e, _)| e.status());
    let mut response = cx.page("Groups", "groups", &body);
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
    let made = async {
        let inputs = api_input(json!([{
            "name": form.get("name"),
            "description": form.get("description"),
        }]))?;
        groups::create(
            State(cx.app.clone()),
            cx.authed(),
            Path(cx.account.clone()),
            Body(inputs),
        )
        .await
    }
    .await;
    match made {
        Ok(written) => {
            let uuid = written
                .body
                .as_ref()
                .and_then(|b| b.first())
                .map(|g| g.uuid.clone())
                .unwrap_or_default();
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
pub async fn binding_rows(cx: &Cx, group: &str) -> (Vec<Vec<String>>, Vec<String>) {
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
        let found = crate::api::bindings::of_group(
            State(cx.app.clone()),
            cx.authed(),
            Path((level_type.clone(), level_id.clone(), group.to_owned())),
            RawQuery(Some("details=true".to_owned())),
        )
        .await;
        let details = match found {
            Ok(axum::Json(value)) => at(&value, "bindingsDetails")
                .as_array()
                .cloned()
                .unwrap_or_default(),
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
                esc(&name),
                esc(&level),
                parameters_html(at(&binding, "parameters")),
                boundaries_html(cx, at(&binding, "boundaries")),
            ]);
        }
    }
    (rows, refused)
}

/// `name = value` lines of a binding's parameters.
pub fn parameters_html(parameters: &Value) -> String {
    let Some(map) = parameters.as_object().filter(|m| !m.is_empty()) else {
        return "<span class=\"empty\">none</span>".to_owned();
    };
    map.iter()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => format!("\"{s}\""),
                other => other.to_string(),
            };
            code(&format!("{k} = {value}"))
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Boundary names of a binding.
pub fn boundaries_html(cx: &Cx, boundaries: &Value) -> String {
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
        "<span class=\"empty\">none</span>".to_owned()
    } else {
        names.iter().map(|n| esc(n)).collect::<Vec<_>>().join(", ")
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
    let mut body = String::new();
    if let Some(error) = failed {
        body.push_str(&error_html(error));
    }
    body.push_str(&format!(
        "<dl class=\"facts\"><dt>Name</dt><dd>{}</dd><dt>Description</dt><dd>{}</dd><dt>Id</dt><dd>{}</dd><dt>Kind</dt><dd>{}</dd></dl>",
        esc(s(&group, "name")),
        esc(s(&group, "description")),
        code(id),
        esc(&owner_text(s(&group, "owner"))),
    ));

    let rows: Vec<Vec<String>> = members
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
                esc(s(m, "name")),
                esc(kind),
            ];
            if may_members {
                row.push(form(
                    &format!("{here}/members/remove"),
                    &cx.csrf,
                    "inline",
                    &format!(
                        "{}<button type=\"submit\" class=\"secondary\" aria-label=\"Remove {} from the group\">Remove</button>",
                        super::html::hidden("principal", s(m, "uid")),
                        esc(s(m, "email"))
                    ),
                ));
            }
            row
        })
        .collect();
    body.push_str(&format!(
        "<h2>Members <span class=\"badge neutral\">{}</span></h2>",
        members.len()
    ));
    let headers: &[&str] = if may_members {
        &["Email", "Name", "Kind", "Actions"]
    } else {
        &["Email", "Name", "Kind"]
    };
    body.push_str(&table("", headers, &rows, "No members."));
    if may_members {
        body.push_str(&form(
            &format!("{here}/members"),
            &cx.csrf,
            "panel",
            &format!(
                "<h3>Add a member</h3>{}<button type=\"submit\">Add to group</button>",
                input(
                    "member",
                    "User or service user",
                    "principal",
                    "",
                    "required",
                    "An email, a service-user handle or a uid. You can only add someone to a group whose permissions you hold yourself."
                )
            ),
        ));
    }

    body.push_str("<h2>Bindings</h2>");
    let (binding_rows, refused) = binding_rows(cx, id).await;
    body.push_str(&table(
        "",
        &["Policy", "Level", "Parameters", "Boundaries"],
        &binding_rows,
        "No policy is bound to this group.",
    ));
    for level in refused {
        body.push_str(&not_permitted(
            &format!("read bindings at {level}"),
            "iam:bindings:read",
        ));
    }
    if cx.may(
        "iam:bindings:read",
        &Level::Account,
        &[("iam:levelType", "account")],
    ) {
        body.push_str(&format!(
            "<p>{}</p>",
            link(
                &format!("/console/bindings?group={}", url(id)),
                "Manage this group's bindings"
            )
        ));
    }

    if may_write {
        body.push_str(&form(
            &here,
            &cx.csrf,
            "panel",
            &format!(
                "<h2>Edit</h2>{}{}<button type=\"submit\">Save</button>",
                input(
                    "edit-name",
                    "Name",
                    "name",
                    s(&group, "name"),
                    "required maxlength=\"200\"",
                    ""
                ),
                textarea(
                    "edit-description",
                    "Description",
                    "description",
                    s(&group, "description"),
                    2,
                    "maxlength=\"255\"",
                    ""
                ),
            ),
        ));
        body.push_str(&format!(
            "<details class=\"danger\"><summary>Delete this group</summary><p>Deleting a group removes its bindings; its members lose what they had through it.</p>{}</details>",
            button_form(&format!("{here}/delete"), &cx.csrf, "Delete group", "danger")
        ));
    }
    with_status(
        cx.page(&format!("Group {}", s(&group, "name")), "groups", &body),
        failed,
    )
}

pub async fn show(cx: Cx, Path(id): Path<String>) -> Response {
    show_page(&cx, &id, None).await
}

pub async fn update(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let changed = async {
        let input = api_input(json!({
            "name": form.get("name"),
            "description": form.get("description"),
        }))?;
        groups::update(
            State(cx.app.clone()),
            cx.authed(),
            Path((cx.account.clone(), id.clone())),
            Body(input),
        )
        .await
    }
    .await;
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
    let added = users::add_groups(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), principal.clone())),
        Body(vec![id.clone()]),
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
    let removed = users::remove_groups(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), principal)),
        RawQuery(Some(format!("group-uuid={}", url(&id)))),
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
    let deleted = groups::delete(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id.clone())),
    )
    .await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the group."));
            redirect("/console/groups")
        }
        Err(error) => show_page(&cx, &id, Some(&error)).await,
    }
}
