//! Boundaries: the list, and an editor with live validation and, for a boundary in use, the
//! impact preview before saving; delete (refused while bindings use it).

use std::collections::BTreeMap;

use axum::response::Response;
use maud::{Markup, html};
use serde_json::json;
use warden_engine::Level;

use super::html::{Attrs, at, button_form, form, input, link, s, submit, table, textarea, url};
use super::impact::{Draft, html as impact_html};
use super::policies::{check_html, draft_alert};
use super::session::{Flash, with_status};
use super::{Cx, Post, redirect};
use crate::error::ApiError;
use crate::extract::Path;
use crate::service;
use service::boundaries::BoundaryInput;

fn may_write(cx: &Cx) -> bool {
    cx.may("iam:boundaries:write", &Level::Account, &[])
}

pub async fn list(cx: Cx) -> Response {
    let listed =
        service::boundaries::list(&cx.app, &cx.authed(), &cx.account, None, Some(1000)).await;
    let value = match listed {
        Ok(page) => json!(page),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let snapshot = cx.app.snapshot();
    let rows: Vec<Vec<Markup>> = at(&value, "content")
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let id = s(b, "uuid");
            let used = snapshot.directory().groups_using_boundary(id).count();
            vec![
                link(&format!("/console/boundaries/{}", url(id)), s(b, "name")),
                html! { pre { (s(b, "boundaryQuery")) } },
                html! { (used) " group(s)" },
            ]
        })
        .collect();
    let body = html! {
        p { "A boundary is one condition per line. On a binding, it narrows the policy's ALLOW statements to what the boundary allows; DENY statements are never changed." }
        @if may_write(&cx) {
            div.toolbar { a.button href="/console/boundaries/new" { "New boundary" } }
        }
        (table("", &["Name", "Conditions", "Used by"], &rows, "No boundaries yet."))
    };
    cx.page("Boundaries", "boundaries", body)
}

struct Editor<'a> {
    uuid: Option<&'a str>,
    name: &'a str,
    text: &'a str,
    error: Option<&'a ApiError>,
    /// The impact preview after the form.
    extra: Option<Markup>,
}

async fn editor(cx: &Cx, editor: Editor<'_>) -> Response {
    let alert = editor.error.map(draft_alert);
    if !may_write(cx) {
        let body = html! {
            @if let Some(alert) = alert { (alert) }
            p.note { "You may read this boundary but not change it (it needs " code { "iam:boundaries:write" } ")." }
            pre { (editor.text) }
        };
        return cx.page(&format!("Boundary {}", editor.name), "boundaries", body);
    }
    let action = editor.uuid.map_or_else(
        || "/console/boundaries".to_owned(),
        |id| format!("/console/boundaries/{}", url(id)),
    );
    let check = check_html(cx, "boundary", editor.text).await;
    let inner = html! {
        (input("boundary-name", "Name", "name", editor.name, Attrs::new().required().max_length(200), ""))
        (textarea("boundary-text", "Conditions", "text", editor.text, 6, Attrs::new().checked_as("boundary"), "One condition per line, at most 10, no AND: for example environment:management-zone IN (\"zone-a\")."))
        div #diagnostics aria-live="polite" { (check) }
        div.toolbar {
            (submit(if editor.uuid.is_some() { "Save" } else { "Create boundary" }, "action", "save", ""))
            (submit("Check", "action", "check", "secondary"))
            @if editor.uuid.is_some() { (submit("Preview changes", "action", "preview", "secondary")) }
        }
    };
    let body = html! {
        @if let Some(alert) = alert { (alert) }
        (form(&action, &cx.csrf, "", inner))
        @if let Some(extra) = editor.extra { (extra) }
        @if let Some(id) = editor.uuid {
            details.danger {
                summary { "Delete this boundary" }
                p { "Refused while bindings use it." }
                (button_form(&format!("/console/boundaries/{}/delete", url(id)), &cx.csrf, "Delete boundary", "danger"))
            }
        }
    };
    let title = match editor.uuid {
        Some(_) => format!("Boundary {}", editor.name),
        None => "New boundary".to_owned(),
    };
    with_status(cx.page(&title, "boundaries", body), editor.error)
}

pub async fn new_page(cx: Cx) -> Response {
    editor(
        &cx,
        Editor {
            uuid: None,
            name: "",
            text: "",
            error: None,
            extra: None,
        },
    )
    .await
}

pub async fn edit(cx: Cx, Path(id): Path<String>) -> Response {
    let found = service::boundaries::get(&cx.app, &cx.authed(), &cx.account, &id).await;
    let boundary = match found {
        Ok(dto) => json!(dto),
        Err(error) => return cx.error_page(&error, "/console/boundaries"),
    };
    editor(
        &cx,
        Editor {
            uuid: Some(&id),
            name: s(&boundary, "name"),
            text: s(&boundary, "boundaryQuery"),
            error: None,
            extra: None,
        },
    )
    .await
}

async fn act(cx: &Cx, form: &super::Form, uuid: Option<&str>) -> Response {
    let name = form.get("name");
    let text = form.get("text");
    let mut error = None;
    let mut extra = None;
    match (form.get("action"), uuid) {
        ("preview", Some(id)) => {
            let impact = impact_html(
                cx,
                Draft::Boundary {
                    id: id.to_owned(),
                    name: name.to_owned(),
                    text: text.to_owned(),
                },
            )
            .await;
            extra = Some(html! { h2 { "Impact" } (impact) });
        }
        ("save", _) => {
            let input = BoundaryInput {
                name: name.to_owned(),
                boundary_query: text.to_owned(),
                metadata: BTreeMap::new(),
            };
            let saved = service::boundaries::save(
                &cx.app,
                &cx.authed(),
                &cx.account,
                uuid.map(str::to_owned),
                input,
            )
            .await;
            match saved {
                Ok(saved) => {
                    let id = saved.boundary.uuid;
                    cx.flash(Flash::ok(format!("Saved boundary `{}`.", name.trim())));
                    return redirect(&format!("/console/boundaries/{}", url(&id)));
                }
                Err(e) => error = Some(e),
            }
        }
        _ => {}
    }
    editor(
        cx,
        Editor {
            uuid,
            name,
            text,
            error: error.as_ref(),
            extra,
        },
    )
    .await
}

pub async fn create(post: Post) -> Response {
    let Post { cx, form } = post;
    act(&cx, &form, None).await
}

pub async fn update(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    act(&cx, &form, Some(&id)).await
}

pub async fn delete(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let deleted = service::boundaries::delete(&cx.app, &cx.authed(), &cx.account, &id).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the boundary."));
            redirect("/console/boundaries")
        }
        Err(error) => cx.error_page(&error, &format!("/console/boundaries/{}", url(&id))),
    }
}
