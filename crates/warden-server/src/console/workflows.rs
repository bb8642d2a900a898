//! Workflows: the authorisation records visible to the signed-in principal (owner, visibility,
//! actor, environment), create and delete. The rules of SPEC §9 are the API's.

use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;
use warden_engine::Level;

use super::html::{Attrs, at, badge, button_form, form, input, s, select, table, url};
use super::session::{Flash, error_alert};
use super::{Cx, Form, Post, redirect};
use crate::error::ApiError;
use crate::extract::Path;
use crate::service::workflows::{self, WorkflowInput};

async fn page(cx: &Cx, failed: Option<(&ApiError, &Form)>) -> Response {
    let listed = workflows::list(&cx.app, &cx.authed(), false).await;
    // The template reads the wire shape, as the API answers it.
    let items = match listed {
        Ok(list) => super::values(&list.results),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let snapshot = cx.app.snapshot();
    let directory = snapshot.directory();
    // As the review report reads it: an actor that is gone was a person (a service user cannot
    // be deleted while a workflow runs as it).
    let person =
        |w: &Value| s(w, "actorType") == "USER" || directory.principal(s(w, "actor")).is_none();
    let rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|w| {
            let owner = s(w, "owner");
            let owner_name = if s(w, "ownerType") == "GROUP" {
                directory.group(owner).map(|g| format!("group {}", g.name))
            } else {
                directory.principal(owner).map(|p| p.email.to_string())
            }
            .unwrap_or_else(|| owner.to_owned());
            let environment = s(w, "environment");
            let may_delete = cx.may(
                "automation:workflows:write",
                &Level::Environment(environment.into()),
                &[("automation:workflow-type", s(w, "workflowType"))],
            );
            vec![
                html! { (s(w, "title")) },
                html! { (environment) },
                html! { (owner_name) },
                html! {
                    (at(w, "actorEmail").as_str().unwrap_or_else(|| s(w, "actor")))
                    @if person(w) { " " (badge("person", "neutral")) }
                    @if !directory.principal(s(w, "actor")).is_some_and(|p| p.active) {
                        " " (badge("actor deactivated", "bad"))
                    }
                },
                if at(w, "isPrivate").as_bool() == Some(true) {
                    badge("private", "neutral")
                } else {
                    badge("public", "neutral")
                },
                html! { (s(w, "workflowType")) },
                if may_delete {
                    button_form(
                        &format!("/console/workflows/{}/delete", url(s(w, "id"))),
                        &cx.csrf,
                        "Delete",
                        "danger",
                    )
                } else {
                    html! {}
                },
            ]
        })
        .collect();
    let run_by_person = items.iter().filter(|w| person(w)).count();
    let environments = cx.environments();
    let writable: Vec<(String, String)> = environments
        .iter()
        .filter(|e| {
            let level = Level::Environment(e.as_str().into());
            ["STANDARD", "SIMPLE"].iter().any(|t| {
                cx.may(
                    "automation:workflows:write",
                    &level,
                    &[("automation:workflow-type", t)],
                )
            })
        })
        .map(|e| (e.clone(), e.clone()))
        .collect();
    let values = failed.map(|(_, form)| form.clone()).unwrap_or_default();
    let types = vec![
        ("STANDARD".to_owned(), "Standard".to_owned()),
        ("SIMPLE".to_owned(), "Simple".to_owned()),
    ];
    let visibility = vec![
        ("private".to_owned(), "Private (owner only)".to_owned()),
        ("public".to_owned(), "Public".to_owned()),
    ];
    let body = html! {
        p { "Warden keeps who may see, change and run each workflow, and as whom its tasks run. Private workflows are visible to their owner only." }
        @if run_by_person > 0 {
            p.hint {
                (run_by_person) " of these run as a person and stop when that person is deactivated: run them as a service user ("
                code { "warden workflow update ID --actor SERVICE_USER" } "). The service-user review lists them too."
            }
        }
        (table("", &["Title", "Environment", "Owner", "Actor", "Visibility", "Type", "Actions"], &rows, "No workflows visible to you."))
        @if !writable.is_empty() {
            (form("/console/workflows", &cx.csrf, "panel", html! {
                h2 { "New workflow" }
                @if let Some((error, _)) = failed { (error_alert(error)) }
                (input("wf-title", "Title", "title", values.get("title"), Attrs::new().required().max_length(200), ""))
                (select("wf-environment", "Environment", "environment", &writable, values.get("environment"), Attrs::new()))
                (select("wf-type", "Type", "type", &types, values.get("type"), Attrs::new()))
                (select("wf-visibility", "Visibility", "visibility", &visibility, values.get("visibility"), Attrs::new()))
                (input("wf-actor", "Actor", "actor", values.get("actor"), Attrs::new().max_length(254), "Yourself when empty, or a service user you may use (iam:service-users:use)."))
                button type="submit" { "Create workflow" }
            }))
        }
    };
    let mut response = cx.page("Workflows", "workflows", body);
    if let Some((error, _)) = failed {
        *response.status_mut() = error.status();
    }
    response
}

pub async fn list(cx: Cx) -> Response {
    page(&cx, None).await
}

pub async fn create(post: Post) -> Response {
    let Post { cx, form } = post;
    let actor = form.get("actor").trim();
    let input = WorkflowInput {
        title: form.get("title").to_owned(),
        environment: form.get("environment").to_owned(),
        workflow_type: Some(form.get("type").to_owned()),
        is_private: Some(form.get("visibility") != "public"),
        actor: (!actor.is_empty()).then(|| actor.to_owned()),
        ..WorkflowInput::default()
    };
    let made = workflows::create(&cx.app, &cx.authed(), input).await;
    match made {
        Ok(_) => {
            cx.flash(Flash::ok(format!(
                "Created workflow `{}`.",
                form.get("title").trim()
            )));
            redirect("/console/workflows")
        }
        Err(error) => page(&cx, Some((&error, &form))).await,
    }
}

pub async fn delete(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let deleted = workflows::delete(&cx.app, &cx.authed(), &id, false).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the workflow."));
            redirect("/console/workflows")
        }
        Err(error) => cx.error_page(&error, "/console/workflows"),
    }
}
