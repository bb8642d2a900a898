//! Policies: the list per level, and the editor — live validation with each diagnostic shown at
//! its line, the canonical formatter, the diff against the saved version, and the impact preview
//! before saving. Global policies are shown read-only.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::Level;
use warden_policy::{check_boundary, format_policy};

use super::html::{
    Attrs, at, button_form, form, hidden, input, link, not_permitted, s, select, submit, table,
    textarea, url,
};
use super::impact::{Draft, html as impact_html};
use super::session::{Flash, details, flash, with_status};
use super::{Cx, Post, redirect};
use crate::error::ApiError;
use crate::extract::Path;
use crate::service::guard::attributes;
use crate::service::policies::{self as api, PolicyInput};

/// `account`, `global` or `environment:ID` ↔ the API's `(levelType, levelId)`.
pub fn level_path(cx: &Cx, key: &str) -> (String, String) {
    match key.split_once(':') {
        Some(("environment", env)) => ("environment".to_owned(), env.to_owned()),
        _ if key == "global" => ("global".to_owned(), "global".to_owned()),
        _ => ("account".to_owned(), cx.account.clone()),
    }
}

pub fn level_key(level_type: &str, level_id: &str) -> String {
    match level_type {
        "environment" => format!("environment:{level_id}"),
        "global" => "global".to_owned(),
        _ => "account".to_owned(),
    }
}

fn level_of(level_type: &str, level_id: &str) -> Level {
    match level_type {
        "environment" => Level::Environment(level_id.into()),
        "global" => Level::Global,
        _ => Level::Account,
    }
}

fn describe_level(level_type: &str, level_id: &str) -> String {
    match level_type {
        "environment" => format!("environment {level_id}"),
        other => other.to_owned(),
    }
}

fn may_write(cx: &Cx, level_type: &str, level_id: &str, policy: Option<&str>) -> bool {
    let level = level_of(level_type, level_id);
    let mut pairs = vec![("iam:levelType", level_type)];
    pairs.extend(policy.map(|p| ("iam:policyUuid", p)));
    level != Level::Global && cx.may("iam:policies:write", &level, &pairs)
}

pub async fn list(cx: Cx) -> Response {
    let mut levels = vec![("account".to_owned(), cx.account.clone())];
    levels.extend(
        cx.environments()
            .into_iter()
            .map(|e| ("environment".to_owned(), e)),
    );
    levels.push(("global".to_owned(), "global".to_owned()));
    let mut sections = Vec::new();
    for (level_type, level_id) in levels {
        let listed = api::list(&cx.app, &cx.authed(), &level_type, &level_id, None)
            .await
            .map(|list| json!(list));
        let title = match level_type.as_str() {
            "global" => "Global policies (built in, read-only)".to_owned(),
            "environment" => format!("Environment {level_id}"),
            _ => "Account".to_owned(),
        };
        let content = match listed {
            Ok(value) => {
                let key = level_key(&level_type, &level_id);
                let rows: Vec<Vec<Markup>> = at(&value, "policies")
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        vec![
                            link(
                                &format!("/console/policies/{}/{}", url(&key), url(s(p, "uuid"))),
                                s(p, "name"),
                            ),
                            html! { (s(p, "description")) },
                        ]
                    })
                    .collect();
                table(
                    "",
                    &["Name", "Description"],
                    &rows,
                    "No policies at this level.",
                )
            }
            Err(error) if error.status() == StatusCode::FORBIDDEN => {
                not_permitted("read the policies of this level", "iam:policies:read")
            }
            Err(error) => html! { p.flash.bad { (error.message) } },
        };
        sections.push((title, content));
    }
    let body = html! {
        @if may_write(&cx, "account", &cx.account, None) {
            div.toolbar { a.button href="/console/policies/new" { "New policy" } }
        }
        @for (title, content) in sections {
            h2 { (title) }
            (content)
        }
    };
    cx.page("Policies", "policies", body)
}

/// The text with each diagnostic under its line. `diagnostics` are the API's located
/// diagnostics (`severity`, `message`, `start.line`, `start.column`, `text`, `help`);
/// `truncated` counts those the API left out.
pub fn annotated(text: &str, diagnostics: &[Value], truncated: usize) -> Markup {
    let mut lines: Vec<&str> = text.split('\n').collect();
    if lines.len() > 1 && lines.last() == Some(&"") {
        lines.pop();
    }
    let last = lines.len();
    let errors = diagnostics
        .iter()
        .filter(|d| s(d, "severity") == "error")
        .count();
    let warnings = diagnostics.len() - errors;
    let summary_class = if errors > 0 {
        "summary-bad"
    } else {
        "summary-ok"
    };
    // Each diagnostic under its line (past the end: under the last), found in one pass.
    let mut by_line: std::collections::BTreeMap<usize, Vec<&Value>> = Default::default();
    for d in diagnostics {
        let line = at(at(d, "start"), "line").as_u64().unwrap_or(1) as usize;
        by_line.entry(line.min(last)).or_default().push(d);
    }
    let lines: Vec<(usize, &str, Vec<&Value>)> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let number = i + 1;
            let here = by_line.remove(&number).unwrap_or_default();
            (number, line.trim_end_matches('\r'), here)
        })
        .collect();
    html! {
        @if diagnostics.is_empty() {
            p.summary-ok data-errors="0" { "No errors, no warnings." }
        } @else {
            p class=(summary_class) data-errors=(errors) {
                (errors) " error(s), " (warnings) " warning(s)."
                @if truncated > 0 {
                    " " (truncated) " more not shown (at most " (warden_policy::diagnostic::MAX_DIAGNOSTICS) " are shown, errors first)."
                }
            }
        }
        div.source {
            @for (number, line, here) in &lines {
                @let class = if here.iter().any(|d| s(d, "severity") == "error") {
                    "line has-error"
                } else if here.is_empty() {
                    "line"
                } else {
                    "line has-warning"
                };
                div class=(class) data-line=(number) {
                    span.no { (number) }
                    span.text { (line) }
                    @for d in here {
                        @let severity = s(d, "severity");
                        div class={ "diag " (severity) } data-line=(number) {
                            (severity) " at line " (number) ", column "
                            (at(at(d, "start"), "column").as_u64().unwrap_or(1)) ": " (s(d, "message"))
                            @if let Some(help) = d.get("help").and_then(Value::as_str) { " — " (help) }
                        }
                    }
                }
            }
        }
    }
}

/// The diagnostics of a policy text through the API's validation endpoint (which needs
/// `iam:policies:read`) and how many it left out, or the refusal.
async fn policy_diagnostics(cx: &Cx, text: &str) -> Result<(Vec<Value>, usize), ApiError> {
    let checked = api::validate(
        &cx.app,
        &cx.authed(),
        "account",
        &cx.account,
        &PolicyInput {
            name: "draft".to_owned(),
            description: String::new(),
            tags: Vec::new(),
            statement_query: text.to_owned(),
            category: None,
        },
    )
    .await
    .map(|validation| json!(validation));
    let found = |value: &Value| {
        (
            at(value, "diagnostics")
                .as_array()
                .cloned()
                .unwrap_or_default(),
            at(value, "truncated").as_u64().unwrap_or(0) as usize,
        )
    };
    match checked {
        Ok(value) => Ok(found(&value)),
        Err(error) => match error.details.as_deref() {
            Some(details) if details.get("diagnostics").is_some() => Ok(found(details)),
            _ => Err(error),
        },
    }
}

/// The diagnostics of a boundary text (needs `iam:boundaries:read`) and how many were left out.
fn boundary_diagnostics(cx: &Cx, text: &str) -> Result<(Vec<Value>, usize), ApiError> {
    cx.app.require(
        &cx.authed,
        "iam:boundaries:read",
        &Level::Account,
        &attributes(&[]),
    )?;
    let checked = check_boundary(text, cx.app.snapshot().catalogue());
    let located = warden_policy::diagnostic::locate(&checked.diagnostics, text);
    Ok((
        located.iter().map(|d| json!(d)).collect(),
        checked.omitted.total(),
    ))
}

/// The annotated text for a draft, or a note that it cannot be checked.
pub async fn check_html(cx: &Cx, kind: &str, text: &str) -> Markup {
    let diagnostics = if kind == "boundary" {
        boundary_diagnostics(cx, text)
    } else {
        policy_diagnostics(cx, text).await
    };
    match diagnostics {
        Ok((diagnostics, truncated)) => annotated(text, &diagnostics, truncated),
        Err(error) => html! { p.note { (error.message) } },
    }
}

/// `POST /console/check {kind, text}`: the annotated text, for live validation.
pub async fn check_fragment(post: Post) -> Response {
    let Post { cx, form } = post;
    let html = check_html(&cx, form.get("kind"), form.get("text")).await;
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html.into_string(),
    )
        .into_response()
}

/// A refused draft's alert; diagnostics are left out, the annotated text shows them.
pub fn draft_alert(error: &ApiError) -> Markup {
    let located = error
        .details
        .as_deref()
        .and_then(|d| d.get("diagnostics"))
        .is_some();
    html! {
        (flash("bad", &error.message))
        @if !located { (details(error)) }
    }
}

/// What the editor shows.
struct Editor<'a> {
    /// `None` for a new policy.
    uuid: Option<&'a str>,
    level_type: &'a str,
    level_id: &'a str,
    name: &'a str,
    description: &'a str,
    text: &'a str,
    /// The saved text, for the diff.
    saved: Option<&'a str>,
    error: Option<&'a ApiError>,
    /// Extra sections (diff, impact) after the form.
    extra: Option<Markup>,
}

async fn editor(cx: &Cx, editor: Editor<'_>) -> Response {
    let Editor {
        uuid,
        level_type,
        level_id,
        name,
        description,
        text,
        saved,
        error,
        extra,
    } = editor;
    let key = level_key(level_type, level_id);
    let writable = may_write(cx, level_type, level_id, uuid);
    let alert = error.map(draft_alert);
    if level_type == "global" || !writable {
        let why = if level_type == "global" {
            "Global policies are built in and read-only. Bind them to groups on the Bindings page."
        } else {
            "You may read this policy but not change it (it needs iam:policies:write)."
        };
        let body = html! {
            @if let Some(alert) = alert { (alert) }
            p.note { (why) }
            dl.facts {
                dt { "Level" } dd { (describe_level(level_type, level_id)) }
                dt { "Description" } dd { (description) }
            }
            h2 { "Statements" }
            pre { (text) }
        };
        return cx.page(&format!("Policy {name}"), "policies", body);
    }
    let action = match uuid {
        Some(uuid) => format!("/console/policies/{}/{}", url(&key), url(uuid)),
        None => "/console/policies".to_owned(),
    };
    let level_field = if uuid.is_none() {
        let mut options = vec![("account".to_owned(), "Account".to_owned())];
        options.extend(
            cx.environments()
                .into_iter()
                .map(|e| (format!("environment:{e}"), format!("Environment {e}"))),
        );
        select(
            "policy-level",
            "Level",
            "level",
            &options,
            &key,
            Attrs::new(),
        )
    } else {
        html! {
            (hidden("level", &key))
            p { "Level: " strong { (describe_level(level_type, level_id)) } }
        }
    };
    let check = check_html(cx, "policy", text).await;
    let inner = html! {
        (level_field)
        (input("policy-name", "Name", "name", name, Attrs::new().required().max_length(200), ""))
        (textarea("policy-description", "Description", "description", description, 2, Attrs::new().max_length(2000), ""))
        (textarea("policy-text", "Statements", "text", text, 12, Attrs::new().checked_as("policy"), "One statement per line: ALLOW or DENY, permissions, an optional WHERE with conditions, and a semicolon. Checked as you type; each problem is shown under its line."))
        div #diagnostics aria-live="polite" { (check) }
        div.toolbar {
            (submit(if uuid.is_some() { "Save" } else { "Create policy" }, "action", "save", ""))
            (submit("Check", "action", "check", "secondary"))
            (submit("Format", "action", "format", "secondary"))
            (submit(if uuid.is_some() { "Preview changes" } else { "Preview" }, "action", "preview", "secondary"))
        }
    };
    let changes = match (uuid, saved) {
        (Some(_), Some(saved)) if extra.is_none() && saved != text => {
            Some(super::diff::html(saved, text))
        }
        _ => None,
    };
    let body = html! {
        @if let Some(alert) = alert { (alert) }
        (form(&action, &cx.csrf, "", inner))
        @if let Some(extra) = extra { (extra) }
        @if let Some(changes) = changes {
            h2 { "Changes" }
            (changes)
        }
        @if let Some(uuid) = uuid {
            details.danger {
                summary { "Delete this policy" }
                p { "A policy that is bound cannot be deleted; remove its bindings first." }
                (button_form(&format!("/console/policies/{}/{}/delete", url(&key), url(uuid)), &cx.csrf, "Delete policy", "danger"))
            }
        }
    };
    let title = if uuid.is_some() {
        format!("Policy {name}")
    } else {
        "New policy".to_owned()
    };
    with_status(cx.page(&title, "policies", body), error)
}

#[derive(Debug, Deserialize, Default)]
pub struct NewQuery {
    #[serde(default)]
    level: Option<String>,
}

pub async fn new_page(
    cx: Cx,
    axum::extract::Query(query): axum::extract::Query<NewQuery>,
) -> Response {
    let (level_type, level_id) = level_path(&cx, query.level.as_deref().unwrap_or("account"));
    if !may_write(&cx, &level_type, &level_id, None) {
        return cx.error_page(
            &ApiError::forbidden(
                "iam:policies:write",
                "permission `iam:policies:write` is required to create policies",
            ),
            "/console/policies",
        );
    }
    editor(
        &cx,
        Editor {
            uuid: None,
            level_type: &level_type,
            level_id: &level_id,
            name: "",
            description: "",
            text: "",
            saved: None,
            error: None,
            extra: None,
        },
    )
    .await
}

/// Saves, checks, formats or previews the posted draft.
async fn act(cx: &Cx, post_form: &super::Form, uuid: Option<&str>) -> Response {
    let (level_type, level_id) = level_path(cx, post_form.get("level"));
    let name = post_form.get("name");
    let description = post_form.get("description");
    let mut text = post_form.get("text").to_owned();
    let saved: Option<Value> = match uuid {
        Some(uuid) => api::get(&cx.app, &cx.authed(), &level_type, &level_id, uuid)
            .await
            .ok()
            .map(|dto| json!(dto)),
        None => None,
    };
    let saved_text = saved.as_ref().map(|v| s(v, "statementQuery").to_owned());
    let mut error = None;
    let mut extra = None;
    match post_form.get("action") {
        "format" => match format_policy(&text) {
            Ok(formatted) => {
                text = formatted;
                extra = Some(flash("ok", "Formatted."));
            }
            Err(_) => {
                error = Some(ApiError::invalid(
                    "the text has syntax errors, so it cannot be formatted; fix them first",
                ));
            }
        },
        "preview" => {
            let changes = match &saved_text {
                Some(saved) => super::diff::html(saved, &text),
                None => html! { p { "A new policy: every line is added." } },
            };
            let impact = match uuid {
                Some(uuid) => {
                    impact_html(
                        cx,
                        Draft::Policy {
                            id: uuid.to_owned(),
                            name: name.to_owned(),
                            level: level_of(&level_type, &level_id),
                            text: text.clone(),
                        },
                    )
                    .await
                }
                None => html! {
                    p data-impact="0" { "Nobody gains or loses access until the policy is bound to a group." }
                },
            };
            extra = Some(html! {
                h2 { "Changes" }
                (changes)
                h2 { "Impact" }
                (impact)
            });
        }
        "save" => {
            let input = PolicyInput {
                name: name.to_owned(),
                description: description.to_owned(),
                tags: saved
                    .as_ref()
                    .map(|v| super::strings(v, "tags"))
                    .unwrap_or_default(),
                statement_query: text.clone(),
                category: None,
            };
            let result = crate::service::policies::save(
                &cx.app,
                &cx.authed(),
                &level_type,
                &level_id,
                uuid.map(str::to_owned),
                input,
            )
            .await;
            match result {
                Ok(saved) => {
                    let warnings = saved.policy.diagnostics.len();
                    let verb = if uuid.is_some() { "Saved" } else { "Created" };
                    let note = if warnings > 0 {
                        format!(" It has {warnings} warning(s).")
                    } else {
                        String::new()
                    };
                    cx.flash(Flash::ok(format!("{verb} policy `{}`.{note}", name.trim())));
                    return redirect(&format!(
                        "/console/policies/{}/{}",
                        url(&level_key(&level_type, &level_id)),
                        url(&saved.policy.uuid)
                    ));
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
            level_type: &level_type,
            level_id: &level_id,
            name,
            description,
            text: &text,
            saved: saved_text.as_deref(),
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

pub async fn edit(cx: Cx, Path((level, id)): Path<(String, String)>) -> Response {
    let (level_type, level_id) = level_path(&cx, &level);
    let found = api::get(&cx.app, &cx.authed(), &level_type, &level_id, &id).await;
    let policy = match found {
        Ok(dto) => json!(dto),
        Err(error) => return cx.error_page(&error, "/console/policies"),
    };
    editor(
        &cx,
        Editor {
            uuid: Some(&id),
            level_type: &level_type,
            level_id: &level_id,
            name: s(&policy, "name"),
            description: s(&policy, "description"),
            text: s(&policy, "statementQuery"),
            saved: Some(s(&policy, "statementQuery")),
            error: None,
            extra: None,
        },
    )
    .await
}

pub async fn update(Path((level, id)): Path<(String, String)>, post: Post) -> Response {
    let Post { cx, mut form } = post;
    form.0.retain(|(k, _)| k != "level");
    form.0.push(("level".to_owned(), level));
    act(&cx, &form, Some(&id)).await
}

pub async fn delete(Path((level, id)): Path<(String, String)>, post: Post) -> Response {
    let cx = post.cx;
    let (level_type, level_id) = level_path(&cx, &level);
    let deleted = api::delete(&cx.app, &cx.authed(), &level_type, &level_id, &id, false).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the policy."));
            redirect("/console/policies")
        }
        Err(error) => cx.error_page(
            &error,
            &format!("/console/policies/{}/{}", url(&level), url(&id)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_annotated_text_escapes_the_text_and_the_diagnostics() {
        let diagnostic = json!({
            "severity": "error",
            "message": "unknown permission `<b>`",
            "help": "use \"a\" & 'b'",
            "start": { "line": 1, "column": 7 },
        });
        let html = annotated("ALLOW <script>x</script>;\n", &[diagnostic], 0).into_string();
        assert_eq!(
            html,
            "<p class=\"summary-bad\" data-errors=\"1\">1 error(s), 0 warning(s).</p><div class=\"source\"><div class=\"line has-error\" data-line=\"1\"><span class=\"no\">1</span><span class=\"text\">ALLOW &lt;script&gt;x&lt;/script&gt;;</span><div class=\"diag error\" data-line=\"1\">error at line 1, column 7: unknown permission `&lt;b&gt;` — use &quot;a&quot; &amp; 'b'</div></div></div>"
        );
    }
}
