//! Policies: the list per level, and the editor — live validation with each diagnostic shown at
//! its line, the canonical formatter, the diff against the saved version, and the impact preview
//! before saving. Global policies are shown read-only.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use warden_engine::Level;
use warden_policy::{check_boundary, format_policy};

use super::html_legacy::{
    at, button_form, esc, form, hidden, input, link, s, select, table, textarea, url,
};
use super::impact::{Draft, html as impact_html};
use super::session::{Flash, details_html, with_status};
use super::{Cx, Post, redirect};
use crate::api::policies::{self as api, PolicyInput};
use crate::api::{Body, Path};
use crate::error::ApiError;
use crate::service::guard::attributes;

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
    let mut body = String::new();
    if may_write(&cx, "account", &cx.account, None) {
        body.push_str("<div class=\"toolbar\"><a class=\"button\" href=\"/console/policies/new\">New policy</a></div>");
    }
    for (level_type, level_id) in levels {
        let listed = api::list(
            State(cx.app.clone()),
            cx.authed(),
            Path((level_type.clone(), level_id.clone())),
            crate::api::Query(match super::input(json!({})) {
                Ok(q) => q,
                Err(error) => return cx.error_page(&error, "/console"),
            }),
        )
        .await;
        let title = match level_type.as_str() {
            "global" => "Global policies (built in, read-only)".to_owned(),
            "environment" => format!("Environment {level_id}"),
            _ => "Account".to_owned(),
        };
        body.push_str(&format!("<h2>{}</h2>", esc(&title)));
        match listed {
            Ok(axum::Json(value)) => {
                let key = level_key(&level_type, &level_id);
                let rows: Vec<Vec<String>> = at(&value, "policies")
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| {
                        vec![
                            link(
                                &format!("/console/policies/{}/{}", url(&key), url(s(p, "uuid"))),
                                s(p, "name"),
                            ),
                            esc(s(p, "description")),
                        ]
                    })
                    .collect();
                body.push_str(&table(
                    "",
                    &["Name", "Description"],
                    &rows,
                    "No policies at this level.",
                ));
            }
            Err(error) if error.status() == StatusCode::FORBIDDEN => {
                body.push_str(&super::html_legacy::not_permitted(
                    "read the policies of this level",
                    "iam:policies:read",
                ));
            }
            Err(error) => body.push_str(&format!(
                "<p class=\"flash bad\">{}</p>",
                esc(&error.message)
            )),
        }
    }
    cx.page("Policies", "policies", &body)
}

/// The text with each diagnostic under its line. `diagnostics` are the API's located
/// diagnostics (`severity`, `message`, `start.line`, `start.column`, `text`, `help`);
/// `truncated` counts those the API left out.
pub fn annotated(text: &str, diagnostics: &[Value], truncated: usize) -> String {
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
    let more = if truncated > 0 {
        format!(
            " {truncated} more not shown (at most {} are shown, errors first).",
            warden_policy::diagnostic::MAX_DIAGNOSTICS
        )
    } else {
        String::new()
    };
    let summary = if diagnostics.is_empty() {
        "<p class=\"summary-ok\" data-errors=\"0\">No errors, no warnings.</p>".to_owned()
    } else {
        format!(
            "<p class=\"{}\" data-errors=\"{errors}\">{errors} error(s), {warnings} warning(s).{more}</p>",
            if errors > 0 {
                "summary-bad"
            } else {
                "summary-ok"
            }
        )
    };
    // Each diagnostic under its line (past the end: under the last), found in one pass.
    let mut by_line: std::collections::BTreeMap<usize, Vec<&Value>> = Default::default();
    for d in diagnostics {
        let line = at(at(d, "start"), "line").as_u64().unwrap_or(1) as usize;
        by_line.entry(line.min(last)).or_default().push(d);
    }
    let mut out = format!("{summary}<div class=\"source\">");
    for (i, line) in lines.iter().enumerate() {
        let number = i + 1;
        let here: Vec<&Value> = by_line.remove(&number).unwrap_or_default();
        let class = if here.iter().any(|d| s(d, "severity") == "error") {
            " has-error"
        } else if here.is_empty() {
            ""
        } else {
            " has-warning"
        };
        out.push_str(&format!(
            "<div class=\"line{class}\" data-line=\"{number}\"><span class=\"no\">{number}</span><span class=\"text\">{}</span>",
            esc(line.trim_end_matches('\r'))
        ));
        for d in here {
            let severity = s(d, "severity");
            let help = d
                .get("help")
                .and_then(Value::as_str)
                .map(|h| format!(" — {}", esc(h)))
                .unwrap_or_default();
            out.push_str(&format!(
                "<div class=\"diag {severity}\" data-line=\"{number}\">{severity} at line {number}, column {column}: {message}{help}</div>",
                severity = esc(severity),
                column = at(at(d, "start"), "column").as_u64().unwrap_or(1),
                message = esc(s(d, "message")),
            ));
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
    out
}

/// The diagnostics of a policy text through the API's validation endpoint (which needs
/// `iam:policies:read`) and how many it left out, or the refusal.
async fn policy_diagnostics(cx: &Cx, text: &str) -> Result<(Vec<Value>, usize), ApiError> {
    let checked = api::validate(
        State(cx.app.clone()),
        cx.authed(),
        Path(vec!["account".to_owned(), cx.account.clone()]),
        Body(PolicyInput {
            name: "draft".to_owned(),
            description: String::new(),
            tags: Vec::new(),
            statement_query: text.to_owned(),
            category: None,
        }),
    )
    .await;
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
        Ok(axum::Json(value)) => Ok(found(&value)),
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
pub async fn check_html(cx: &Cx, kind: &str, text: &str) -> String {
    let diagnostics = if kind == "boundary" {
        boundary_diagnostics(cx, text)
    } else {
        policy_diagnostics(cx, text).await
    };
    match diagnostics {
        Ok((diagnostics, truncated)) => annotated(text, &diagnostics, truncated),
        Err(error) => format!("<p class=\"note\">{}</p>", esc(&error.message)),
    }
}

/// `POST /console/check {kind, text}`: the annotated text, for live validation.
pub async fn check_fragment(post: Post) -> Response {
    let Post { cx, form } = post;
    let html = check_html(&cx, form.get("kind"), form.get("text")).await;
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
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
    extra_html: String,
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
        extra_html,
    } = editor;
    let key = level_key(level_type, level_id);
    let writable = may_write(cx, level_type, level_id, uuid);
    let mut body = String::new();
    if let Some(error) = error {
        body.push_str(&format!(
            "<p class=\"flash bad\" role=\"alert\">{}</p>{}",
            esc(&error.message),
            if error
                .details
                .as_deref()
                .and_then(|d| d.get("diagnostics"))
                .is_some()
            {
                String::new()
            } else {
                details_html(error)
            }
        ));
    }
    if level_type == "global" || !writable {
        let why = if level_type == "global" {
            "Global policies are built in and read-only. Bind them to groups on the Bindings page."
        } else {
            "You may read this policy but not change it (it needs iam:policies:write)."
        };
        body.push_str(&format!(
            "<p class=\"note\">{}</p><dl class=\"facts\"><dt>Level</dt><dd>{}</dd><dt>Description</dt><dd>{}</dd></dl><h2>Statements</h2><pre>{}</pre>",
            esc(why),
            esc(&describe_level(level_type, level_id)),
            esc(description),
            esc(text)
        ));
        return cx.page(&format!("Policy {name}"), "policies", &body);
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
        select("policy-level", "Level", "level", &options, &key, "")
    } else {
        format!(
            "{}<p>Level: <strong>{}</strong></p>",
            hidden("level", &key),
            esc(&describe_level(level_type, level_id))
        )
    };
    let check = check_html(cx, "policy", text).await;
    let inner = format!(
        "{level_field}{name_field}{description_field}{text_field}<div id=\"diagnostics\" aria-live=\"polite\">{check}</div><div class=\"toolbar\">{save}{check_button}{format}{preview}</div>",
        name_field = input(
            "policy-name",
            "Name",
            "name",
            name,
            "required maxlength=\"200\"",
            ""
        ),
        description_field = textarea(
            "policy-description",
            "Description",
            "description",
            description,
            2,
            "maxlength=\"2000\"",
            ""
        ),
        text_field = textarea(
            "policy-text",
            "Statements",
            "text",
            text,
            12,
            "class=\"code\" spellcheck=\"false\" autocapitalize=\"off\" data-check=\"policy\" data-target=\"diagnostics\" aria-describedby=\"diagnostics\"",
            "One statement per line: ALLOW or DENY, permissions, an optional WHERE with conditions, and a semicolon. Checked as you type; each problem is shown under its line."
        ),
        save = super::html_legacy::submit(
            if uuid.is_some() {
                "Save"
            } else {
                "Create policy"
            },
            "action",
            "save",
            ""
        ),
        check_button = super::html_legacy::submit("Check", "action", "check", "secondary"),
        format = super::html_legacy::submit("Format", "action", "format", "secondary"),
        preview = super::html_legacy::submit(
            if uuid.is_some() {
                "Preview changes"
            } else {
                "Preview"
            },
            "action",
            "preview",
            "secondary"
        ),
    );
    body.push_str(&form(&action, &cx.csrf, "", &inner));
    body.push_str(&extra_html);
    if let (Some(_), Some(saved)) = (uuid, saved)
        && extra_html.is_empty()
        && saved != text
    {
        body.push_str("<h2>Changes</h2>");
        body.push_str(&super::diff::html(saved, text));
    }
    if let Some(uuid) = uuid {
        body.push_str(&format!(
            "<details class=\"danger\"><summary>Delete this policy</summary><p>A policy that is bound cannot be deleted; remove its bindings first.</p>{}</details>",
            button_form(
                &format!("/console/policies/{}/{}/delete", url(&key), url(uuid)),
                &cx.csrf,
                "Delete policy",
                "danger"
            )
        ));
    }
    let title = if uuid.is_some() {
        format!("Policy {name}")
    } else {
        "New policy".to_owned()
    };
    with_status(cx.page(&title, "policies", &body), error)
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
            extra_html: String::new(),
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
        Some(uuid) => api::get(
            State(cx.app.clone()),
            cx.authed(),
            Path((level_type.clone(), level_id.clone(), uuid.to_owned())),
        )
        .await
        .ok()
        .map(|axum::Json(dto)| json!(dto)),
        None => None,
    };
    let saved_text = saved.as_ref().map(|v| s(v, "statementQuery").to_owned());
    let mut error = None;
    let mut extra_html = String::new();
    match post_form.get("action") {
        "format" => match format_policy(&text) {
            Ok(formatted) => {
                text = formatted;
                extra_html.push_str("<p class=\"flash ok\" role=\"status\">Formatted.</p>");
            }
            Err(_) => {
                error = Some(ApiError::invalid(
                    "the text has syntax errors, so it cannot be formatted; fix them first",
                ));
            }
        },
        "preview" => {
            extra_html.push_str("<h2>Changes</h2>");
            extra_html.push_str(&match &saved_text {
                Some(saved) => super::diff::html(saved, &text),
                None => "<p>A new policy: every line is added.</p>".to_owned(),
            });
            extra_html.push_str("<h2>Impact</h2>");
            extra_html.push_str(&match uuid {
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
                None => "<p data-impact=\"0\">Nobody gains or loses access until the policy is bound to a group.</p>".to_owned(),
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
            let result = match uuid {
                Some(uuid) => {
                    api::upsert(
                        State(cx.app.clone()),
                        cx.authed(),
                        Path((level_type.clone(), level_id.clone(), uuid.to_owned())),
                        Body(input),
                    )
                    .await
                }
                None => {
                    api::create(
                        State(cx.app.clone()),
                        cx.authed(),
                        Path((level_type.clone(), level_id.clone())),
                        Body(input),
                    )
                    .await
                }
            };
            match result {
                Ok(written) => {
                    let id = written
                        .body
                        .as_ref()
                        .map(|d| d.uuid.clone())
                        .or_else(|| uuid.map(str::to_owned))
                        .unwrap_or_default();
                    let warnings = written.body.as_ref().map_or(0, |d| d.diagnostics.len());
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
                        url(&id)
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
            extra_html,
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
    let found = api::get(
        State(cx.app.clone()),
        cx.authed(),
        Path((level_type.clone(), level_id.clone(), id.clone())),
    )
    .await;
    let policy = match found {
        Ok(axum::Json(dto)) => json!(dto),
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
            extra_html: String::new(),
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
    let deleted = api::delete(
        State(cx.app.clone()),
        cx.authed(),
        Path((level_type, level_id, id.clone())),
        crate::api::Query(match super::input(json!({})) {
            Ok(q) => q,
            Err(error) => return cx.error_page(&error, "/console/policies"),
        }),
    )
    .await;
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
