//! The access simulator: pick a principal, a permission, an environment and attributes; see the
//! decision with its explanation — the deciding statements, the nearest misses and the condition
//! that failed on each. It asks `POST /iam/v1/authorize?explain=true` (a caller may always ask
//! about itself; about others it needs `iam:effective-permissions:read`).

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use warden_engine::{AttributeValue, Attributes, Level};

use super::html_legacy::{at, badge, code, esc, input, s, select, table, textarea};
use super::{Cx, Form};
use crate::api::authorize::{self, DecisionRequest, ExplainQuery};
use crate::api::{Body, Query};

#[derive(Debug, Deserialize, Default)]
pub struct SimulatorQuery {
    #[serde(default)]
    principal: String,
    #[serde(default)]
    permission: String,
    #[serde(default)]
    environment: String,
    #[serde(default)]
    attributes: String,
    #[serde(default)]
    time: String,
}

fn level_text(level: &Value) -> String {
    match s(level, "levelType") {
        "environment" => format!("environment {}", s(level, "levelId")),
        other => other.to_owned(),
    }
}

fn statement_row(report: &Value) -> Vec<String> {
    let boundary = report
        .get("boundary")
        .map(|b| esc(s(b, "name")))
        .unwrap_or_default();
    vec![
        code(s(report, "statement")),
        esc(s(at(report, "policy"), "name")),
        esc(s(at(report, "group"), "name")),
        esc(&level_text(at(report, "level"))),
        boundary,
    ]
}

fn explanation_html(response: &Value) -> String {
    let outcome = s(response, "decision");
    let allowed = outcome == "ALLOW";
    let explanation = &at(response, "explanation");
    let mut out = format!(
        "<section class=\"panel\" aria-labelledby=\"result\" aria-live=\"polite\"><h2 id=\"result\">Decision</h2><p class=\"decision\" data-decision=\"{outcome}\">{}</p><p>Reason: {}</p><p>{}</p>",
        badge(outcome, if allowed { "ok" } else { "bad" }),
        code(s(response, "reason")),
        esc(s(explanation, "summary")),
        outcome = esc(outcome),
    );
    let deciding: Vec<Vec<String>> = at(explanation, "deciding")
        .as_array()
        .into_iter()
        .flatten()
        .map(statement_row)
        .collect();
    if !deciding.is_empty() {
        out.push_str("<h3>Deciding statements</h3>");
        out.push_str(&table(
            "",
            &[
                "Statement (as applied)",
                "Policy",
                "Group",
                "Bound at",
                "Boundary",
            ],
            &deciding,
            "",
        ));
    }
    let nearest: Vec<Vec<String>> = at(explanation, "nearest")
        .as_array()
        .into_iter()
        .flatten()
        .map(|near| {
            let mut row = statement_row(near);
            row.truncate(4);
            row.push(format!(
                "{}<br>{}",
                code(s(at(near, "failed"), "condition")),
                esc(s(at(near, "failed"), "why"))
            ));
            row
        })
        .collect();
    if !nearest.is_empty() {
        out.push_str("<h3>Nearest misses</h3>");
        out.push_str(&table(
            "",
            &[
                "Statement",
                "Policy",
                "Group",
                "Bound at",
                "Failing condition",
            ],
            &nearest,
            "",
        ));
    }
    out.push_str(&format!(
        "<p class=\"hint\">Answered from revision {}.</p></section>",
        at(response, "revision").as_u64().unwrap_or(0)
    ));
    out
}

fn attributes_of(text: &str) -> Result<Attributes, String> {
    let form = Form(vec![("attributes".to_owned(), text.to_owned())]);
    let mut out = Attributes::new();
    for (name, value) in form.pairs("attributes")? {
        let next = match out.remove(&name) {
            None => AttributeValue::One(value),
            Some(AttributeValue::One(first)) => AttributeValue::Many(vec![first, value]),
            Some(AttributeValue::Many(mut values)) => {
                values.push(value);
                AttributeValue::Many(values)
            }
        };
        out.insert(name, next);
    }
    Ok(out)
}

pub async fn page(
    cx: Cx,
    axum::extract::Query(query): axum::extract::Query<SimulatorQuery>,
) -> Response {
    let snapshot = cx.app.snapshot();
    let mut lists = String::new();
    if cx.may("iam:users:read", &Level::Account, &[]) {
        lists.push_str("<datalist id=\"principals\">");
        let mut keys: Vec<String> = snapshot
            .directory()
            .principals()
            .map(|p| p.handle.as_deref().unwrap_or(&p.email).to_owned())
            .collect();
        keys.sort();
        for key in keys.iter().take(2_000) {
            lists.push_str(&format!("<option value=\"{}\">", esc(key)));
        }
        lists.push_str("</datalist>");
    }
    lists.push_str("<datalist id=\"permissions\">");
    for permission in snapshot.catalogue().permissions() {
        lists.push_str(&format!("<option value=\"{}\">", esc(&permission.name)));
    }
    lists.push_str("</datalist>");
    let principal = if query.principal.is_empty() && query.permission.is_empty() {
        cx.email.clone()
    } else {
        query.principal.clone()
    };
    let mut environments = vec![(String::new(), "Account level (no environment)".to_owned())];
    environments.extend(cx.environments().into_iter().map(|e| (e.clone(), e)));
    let mut body = format!(
        "<p>Ask Warden what it would decide, and why. You can always ask about yourself; asking about others needs <code>iam:effective-permissions:read</code>.</p><form method=\"get\" action=\"/console/simulator\" class=\"panel\">{lists}{}{}{}{}{}<button type=\"submit\">Decide</button></form>",
        input(
            "sim-principal",
            "Principal",
            "principal",
            &principal,
            "required list=\"principals\" autocomplete=\"off\"",
            "An email, a service-user handle or a uid."
        ),
        input(
            "sim-permission",
            "Permission",
            "permission",
            &query.permission,
            "required list=\"permissions\" autocomplete=\"off\" spellcheck=\"false\"",
            ""
        ),
        select(
            "sim-environment",
            "Environment",
            "environment",
            &environments,
            &query.environment,
            ""
        ),
        textarea(
            "sim-attributes",
            "Attributes",
            "attributes",
            &query.attributes,
            3,
            "class=\"code\" spellcheck=\"false\"",
            "One name=value per line, for example storage:bucket-name=ops_app; the same name twice makes a list."
        ),
        input(
            "sim-time",
            "Time",
            "time",
            &query.time,
            "placeholder=\"now\" spellcheck=\"false\"",
            "Optional, RFC 3339 (2026-05-04T10:00:00Z), for date and time conditions."
        ),
    );
    if !query.principal.is_empty() && !query.permission.is_empty() {
        let attributes = match attributes_of(&query.attributes) {
            Ok(attributes) => attributes,
            Err(message) => {
                body.push_str(&format!(
                    "<p class=\"flash bad\" role=\"alert\">{}</p>",
                    esc(&message)
                ));
                return cx.page("Access simulator", "simulator", &body);
            }
        };
        let request = DecisionRequest {
            principal: Some(query.principal.trim().to_owned()),
            token: None,
            permission: query.permission.trim().to_owned(),
            environment: Some(query.environment.clone()).filter(|e| !e.is_empty()),
            attributes,
            time: Some(query.time.trim().to_owned()).filter(|t| !t.is_empty()),
            min_revision: None,
        };
        let decided = authorize::authorize(
            State(cx.app.clone()),
            cx.authed(),
            Query(ExplainQuery {
                explain: true,
                min_revision: None,
            }),
            Body(request),
        )
        .await;
        match decided {
            Ok(axum::Json(response)) => {
                let value = serde_json::to_value(&response).unwrap_or(Value::Null);
                body.push_str(&explanation_html(&value));
            }
            Err(error) => {
                body.push_str(&format!(
                    "<p class=\"flash bad\" role=\"alert\">{}</p>{}",
                    esc(&error.message),
                    super::session::details_html(&error)
                ));
            }
        }
    }
    cx.page("Access simulator", "simulator", &body)
}
