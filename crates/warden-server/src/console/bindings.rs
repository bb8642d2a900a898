//! Bindings: a level's bindings (policy, group, parameters, boundaries), binding a policy to a
//! group with the impact preview and the boundary warnings of SPEC §4 (rule 4), and removing a
//! binding (with its own preview).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use warden_engine::compile::unrestricted_by_boundaries;
use warden_engine::{Binding, Level, ParamValue};

use super::groups::{boundaries_html, parameters_html};
use super::html::{
    Attrs, at, checkboxes, form, hidden, input, link, not_permitted, s, select, submit, table,
    textarea, url,
};
use super::impact::{Draft, html as impact_html};
use super::session::{Flash, error_alert, flash, with_status};
use super::users::level_options;
use super::{Cx, Form, Post, redirect, strings};
use crate::error::{ApiError, ApiResult};
use crate::service::bindings::{self, BindingFilter, BindingInput};
use crate::service::policies;

fn level_parts(cx: &Cx, level: &str) -> (String, String, Level) {
    if level.is_empty() || level == "account" {
        ("account".to_owned(), cx.account.clone(), Level::Account)
    } else {
        (
            "environment".to_owned(),
            level.to_owned(),
            Level::Environment(level.into()),
        )
    }
}

/// Parameters from `name=value` lines; a name given twice makes a list.
fn parameters(form: &Form) -> ApiResult<BTreeMap<String, ParamValue>> {
    let mut out: BTreeMap<String, ParamValue> = BTreeMap::new();
    for (name, value) in form.pairs("parameters").map_err(ApiError::invalid)? {
        let next = match out.remove(&name) {
            None => ParamValue::One(value),
            Some(ParamValue::One(first)) => ParamValue::Many(vec![first, value]),
            Some(ParamValue::Many(mut values)) => {
                values.push(value);
                ParamValue::Many(values)
            }
        };
        out.insert(name, next);
    }
    Ok(out)
}

/// The binding a form describes.
fn binding_of(form: &Form, level: Level) -> ApiResult<Binding> {
    Ok(Binding {
        level,
        policy: form.get("policy").into(),
        group: form.get("group").into(),
        parameters: parameters(form)?,
        boundaries: form
            .all("boundary")
            .iter()
            .map(|b| b.as_str().into())
            .collect(),
        metadata: BTreeMap::new(),
    })
}

/// The SPEC §4 rule 4 warnings for a draft binding.
fn boundary_warnings(cx: &Cx, binding: &Binding) -> Vec<String> {
    let snapshot = cx.app.snapshot();
    let directory = snapshot.directory();
    let Some(policy) = directory.policy(&binding.policy) else {
        return Vec::new();
    };
    let boundaries: Vec<_> = binding
        .boundaries
        .iter()
        .filter_map(|b| directory.boundary(b).map(Arc::clone))
        .collect();
    unrestricted_by_boundaries(policy, &boundaries, snapshot.catalogue())
        .into_iter()
        .map(|(boundary, permission)| {
            format!("boundary `{boundary}` does not restrict `{permission}`: under it the permission is granted without its conditions")
        })
        .collect()
}

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    level: Option<String>,
    #[serde(default)]
    group: Option<String>,
}

struct View<'a> {
    level: &'a str,
    group: Option<&'a str>,
    form: Option<&'a Form>,
    error: Option<&'a ApiError>,
    /// The preview of a binding to add or remove, shown above the table.
    preview: Option<Markup>,
}

async fn page(cx: &Cx, view: View<'_>) -> Response {
    let (level_type, level_id, level) = level_parts(cx, view.level);
    let listed = bindings::at(&cx.app, &cx.authed(), &level_type, &level_id, None, None).await;
    // The template reads the wire shape, as the API answers it.
    let value = match listed {
        Ok(listed) => serde_json::json!(listed),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let snapshot = cx.app.snapshot();
    let directory = snapshot.directory();
    let policy_name = |id: &str| {
        directory
            .policy(id)
            .map_or_else(|| id.to_owned(), |p| p.name.clone())
    };
    let group_name = |id: &str| {
        directory
            .group(id)
            .map_or_else(|| id.to_owned(), |g| g.name.clone())
    };
    let level_key = if level_type == "account" {
        "account".to_owned()
    } else {
        level_id.clone()
    };
    let mut rows = Vec::new();
    for binding in at(&value, "policyBindings")
        .as_array()
        .into_iter()
        .flatten()
    {
        let policy = s(binding, "policyUuid");
        for group in strings(binding, "groups") {
            if view.group.is_some_and(|g| g != group) {
                continue;
            }
            let may_remove = cx.may(
                "iam:bindings:write",
                &level,
                &[
                    ("iam:levelType", &level_type),
                    ("iam:policyUuid", policy),
                    ("iam:boundGroup", &group),
                ],
            );
            let mut row = vec![
                html! { (policy_name(policy)) },
                link(
                    &format!("/console/groups/{}", url(&group)),
                    &group_name(&group),
                ),
                parameters_html(at(binding, "parameters")),
                boundaries_html(cx, at(binding, "boundaries")),
                html! { (s(at(binding, "metadata"), crate::service::elevation::JUSTIFICATION)) },
            ];
            if may_remove {
                row.push(form(
                    "/console/bindings/remove",
                    &cx.csrf,
                    "inline",
                    html! {
                        (hidden("level", &level_key))
                        (hidden("policy", policy))
                        (hidden("group", &group))
                        (hidden("binding", &binding.to_string()))
                        (hidden("return", view.group.unwrap_or_default()))
                        (submit("Preview removal", "action", "preview", "secondary"))
                        (submit("Remove", "action", "remove", "danger"))
                    },
                ));
            } else {
                row.push(html! {});
            }
            rows.push(row);
        }
    }
    let add_form = add_form(
        cx,
        &level_type,
        &level_id,
        &level,
        &level_key,
        view.group,
        view.form,
    )
    .await;
    let body = html! {
        @if let Some(error) = view.error { (error_alert(error)) }
        form method="get" action="/console/bindings" class="toolbar" {
            (select("binding-level", "Level", "level", &level_options(cx), &level_key, Attrs::new()))
            @if let Some(group) = view.group { (hidden("group", group)) }
            button type="submit" class="secondary" { "Show" }
        }
        @if let Some(group) = view.group {
            p {
                "Only the bindings of group " strong { (group_name(group)) } ". "
                (link(&format!("/console/bindings?level={}", url(&level_key)), "Show all"))
            }
        }
        @if let Some(add_form) = add_form { (add_form) }
        @if let Some(preview) = view.preview { (preview) }
        h2 { "Bindings at this level" }
        (table("", &["Policy", "Group", "Parameters", "Boundaries", "Justification", "Actions"], &rows, "No bindings at this level."))
    };
    with_status(cx.page("Bindings", "bindings", body), view.error)
}

/// The form to bind a policy, or nothing when the caller may bind to no group.
async fn add_form(
    cx: &Cx,
    level_type: &str,
    level_id: &str,
    level: &Level,
    level_key: &str,
    group: Option<&str>,
    values: Option<&Form>,
) -> Option<Markup> {
    let all_groups = crate::service::groups::list(&cx.app, &cx.authed(), &cx.account)
        .await
        .map(|list| super::values(&list.items))
        .unwrap_or_default();
    let group_options: Vec<(String, String)> = all_groups
        .iter()
        .filter(|g| {
            cx.may(
                "iam:bindings:write",
                level,
                &[
                    ("iam:levelType", level_type),
                    ("iam:boundGroup", s(g, "uuid")),
                ],
            )
        })
        .map(|g| (s(g, "uuid").to_owned(), s(g, "name").to_owned()))
        .collect();
    if group_options.is_empty() {
        return None;
    }
    let policies = policies::aggregate(&cx.app, &cx.authed(), level_type, level_id)
        .await
        .map(|list| {
            list.policy_overview_list
                .iter()
                .map(|p| serde_json::json!(p))
                .collect::<Vec<Value>>()
        });
    let Ok(policies) = policies else {
        return Some(not_permitted(
            "list the policies to bind",
            "iam:policies:read",
        ));
    };
    let policy_options: Vec<(String, String)> = policies
        .iter()
        .map(|p| {
            let level = match s(p, "levelType") {
                "global" => " (global)".to_owned(),
                "environment" => format!(" (environment {})", s(p, "levelId")),
                _ => String::new(),
            };
            (s(p, "uuid").to_owned(), format!("{}{level}", s(p, "name")))
        })
        .collect();
    let boundary_options: Vec<(String, String, bool)> =
        crate::service::boundaries::list(&cx.app, &cx.authed(), &cx.account, None, Some(1000))
            .await
            .map(|page| {
                page.content
                    .into_iter()
                    .map(|b| {
                        let on = values.is_some_and(|f| f.all("boundary").contains(&b.uuid));
                        (b.uuid, b.name, on)
                    })
                    .collect()
            })
            .unwrap_or_default();
    let get = |name: &str| values.map(|f| f.get(name).to_owned()).unwrap_or_default();
    let chosen_group = values.map_or_else(
        || group.unwrap_or_default().to_owned(),
        |f| f.get("group").to_owned(),
    );
    Some(form(
        "/console/bindings",
        &cx.csrf,
        "panel",
        html! {
            h2 { "Bind a policy" }
            (hidden("level", level_key))
            (hidden("return", group.unwrap_or_default()))
            (select("bind-policy", "Policy", "policy", &policy_options, &get("policy"), Attrs::new().required()))
            (select("bind-group", "Group", "group", &group_options, &chosen_group, Attrs::new().required()))
            (textarea("bind-parameters", "Parameters", "parameters", &get("parameters"), 3, Attrs::new().code(), "One name=value per line, for each ${bindParam:NAME} of the policy; the same name twice makes a list."))
            (checkboxes("bind-boundaries", "Boundaries", "boundary", &boundary_options, "No boundaries defined."))
            (input("bind-justification", "Justification", "justification", &get("justification"), Attrs::new(), "Why this binding is needed. Required when the policy grants an iam: write permission, or is a global Admin policy, and the group has a service user in it."))
            p.hint { "You can only bind what you hold yourself at this level. Preview first to see who gains or loses access." }
            div.toolbar {
                (submit("Preview impact", "action", "preview", "secondary"))
                (submit("Bind", "action", "save", ""))
            }
        },
    ))
}

pub async fn list(
    cx: Cx,
    axum::extract::Query(query): axum::extract::Query<ListQuery>,
) -> Response {
    let level = query.level.unwrap_or_else(|| "account".to_owned());
    page(
        &cx,
        View {
            level: &level,
            group: query.group.as_deref().filter(|g| !g.is_empty()),
            form: None,
            error: None,
            preview: None,
        },
    )
    .await
}

fn back(level: &str, group: &str) -> String {
    let mut location = format!("/console/bindings?level={}", url(level));
    if !group.is_empty() {
        location.push_str(&format!("&group={}", url(group)));
    }
    location
}

pub async fn add(post: Post) -> Response {
    let Post { cx, form } = post;
    let level_key = form.get("level").to_owned();
    let (level_type, level_id, level) = level_parts(&cx, &level_key);
    let group_filter = form.get("return").to_owned();
    let binding = match binding_of(&form, level) {
        Ok(binding) => binding,
        Err(error) => {
            return page(
                &cx,
                View {
                    level: &level_key,
                    group: Some(group_filter.as_str()).filter(|g| !g.is_empty()),
                    form: Some(&form),
                    error: Some(&error),
                    preview: None,
                },
            )
            .await;
        }
    };
    if form.get("action") == "preview" {
        let warnings = boundary_warnings(&cx, &binding);
        let impact = impact_html(&cx, Draft::AddBinding(binding)).await;
        let preview = html! {
            section.panel aria-labelledby="preview" {
                h2 #preview { "Preview of this binding" }
                @for warning in &warnings { (flash("warn", &format!("Warning: {warning}"))) }
                (impact)
            }
        };
        return page(
            &cx,
            View {
                level: &level_key,
                group: Some(group_filter.as_str()).filter(|g| !g.is_empty()),
                form: Some(&form),
                error: None,
                preview: Some(preview),
            },
        )
        .await;
    }
    let input = BindingInput {
        parameters: crate::service::bindings::wire_parameters(&binding.parameters),
        metadata: form
            .text("justification")
            .map(|text| (crate::service::elevation::JUSTIFICATION.to_owned(), text))
            .into_iter()
            .collect(),
        boundaries: form.all("boundary"),
    };
    let added = bindings::add(
        &cx.app,
        &cx.authed(),
        &level_type,
        &level_id,
        form.get("policy"),
        vec![(form.get("group").to_owned(), input)],
        None,
    )
    .await;
    match added {
        Ok(bound) => {
            let warnings = bound.warnings;
            let snapshot = cx.app.snapshot();
            let name = |id: &str, policy: bool| {
                let d = snapshot.directory();
                if policy {
                    d.policy(id).map(|p| p.name.clone())
                } else {
                    d.group(id).map(|g| g.name.clone())
                }
                .unwrap_or_else(|| id.to_owned())
            };
            let mut message = format!(
                "Bound policy `{}` to group `{}`.",
                name(form.get("policy"), true),
                name(form.get("group"), false)
            );
            if warnings.is_empty() {
                cx.flash(Flash::ok(message));
            } else {
                for warning in &warnings {
                    message.push_str(&format!(" Warning: {warning}."));
                }
                cx.flash(Flash::warn(message));
            }
            redirect(&back(&level_key, &group_filter))
        }
        Err(error) => {
            page(
                &cx,
                View {
                    level: &level_key,
                    group: Some(group_filter.as_str()).filter(|g| !g.is_empty()),
                    form: Some(&form),
                    error: Some(&error),
                    preview: None,
                },
            )
            .await
        }
    }
}

pub async fn remove(post: Post) -> Response {
    let Post { cx, form } = post;
    let level_key = form.get("level").to_owned();
    let (level_type, level_id, level) = level_parts(&cx, &level_key);
    let group_filter = form.get("return").to_owned();
    let stored: Value = serde_json::from_str(form.get("binding")).unwrap_or(Value::Null);
    let parameters: BTreeMap<String, ParamValue> =
        serde_json::from_value(at(&stored, "parameters").clone()).unwrap_or_default();
    let metadata: BTreeMap<String, String> =
        serde_json::from_value(at(&stored, "metadata").clone()).unwrap_or_default();
    if form.get("action") == "preview" {
        let binding = Binding {
            level,
            policy: form.get("policy").into(),
            group: form.get("group").into(),
            parameters,
            boundaries: strings(&stored, "boundaries")
                .iter()
                .map(|b| b.as_str().into())
                .collect(),
            metadata,
        };
        let impact = impact_html(&cx, Draft::RemoveBinding(binding)).await;
        let preview = html! {
            section.panel aria-labelledby="preview" {
                h2 #preview { "Preview of removing this binding" }
                (impact)
            }
        };
        return page(
            &cx,
            View {
                level: &level_key,
                group: Some(group_filter.as_str()).filter(|g| !g.is_empty()),
                form: None,
                error: None,
                preview: Some(preview),
            },
        )
        .await;
    }
    // The binding shown: its single-valued parameters and its metadata pick it.
    let filter = BindingFilter {
        parameters: parameters
            .iter()
            .filter_map(|(k, v)| match v {
                ParamValue::One(one) => Some((k.clone(), one.clone())),
                ParamValue::Many(_) => None,
            })
            .collect(),
        metadata,
        force_multiple: false,
    };
    let removed = bindings::delete_where(
        &cx.app,
        &cx.authed(),
        &level_type,
        &level_id,
        Some(form.get("policy")),
        Some(form.get("group")),
        &filter,
    )
    .await;
    match removed {
        Ok(_) => {
            cx.flash(Flash::ok("Removed the binding."));
            redirect(&back(&level_key, &group_filter))
        }
        Err(error) => {
            let status = error.status();
            let mut response = page(
                &cx,
                View {
                    level: &level_key,
                    group: Some(group_filter.as_str()).filter(|g| !g.is_empty()),
                    form: None,
                    error: Some(&error),
                    preview: None,
                },
            )
            .await;
            if response.status() == StatusCode::OK {
                *response.status_mut() = status;
            }
            response
        }
    }
}
