//! The access simulator: pick a principal, a permission, an environment and attributes; see the
//! decision with its explanation — the deciding statements, the nearest misses and the condition
//! that failed on each. It asks the service layer's decisions with `explain` (as
//! `POST /iam/v1/authorize?explain=true` does; a caller may always ask about itself, about others
//! it needs `iam:effective-permissions:read`).

use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;
use warden_api::decisions::{AttributeValue, Attributes, DecisionRequest};
use warden_engine::Level;

use super::html::{Attrs, at, badge, code, input, s, select, table, textarea};
use super::session::{error_alert, flash};
use super::{Cx, Form};
use crate::service::decision_input::DecisionInput;
use crate::service::decisions;

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

fn statement_row(report: &Value) -> Vec<Markup> {
    vec![
        code(s(report, "statement")),
        html! { (s(at(report, "policy"), "name")) },
        html! { (s(at(report, "group"), "name")) },
        html! { (level_text(at(report, "level"))) },
        html! { @if let Some(boundary) = report.get("boundary") { (s(boundary, "name")) } },
    ]
}

fn explanation_html(response: &Value) -> Markup {
    let outcome = s(response, "decision");
    let allowed = outcome == "ALLOW";
    let explanation = &at(response, "explanation");
    let deciding: Vec<Vec<Markup>> = at(explanation, "deciding")
        .as_array()
        .into_iter()
        .flatten()
        .map(statement_row)
        .collect();
    let nearest: Vec<Vec<Markup>> = at(explanation, "nearest")
        .as_array()
        .into_iter()
        .flatten()
        .map(|near| {
            let mut row = statement_row(near);
            row.truncate(4);
            row.push(html! {
                (code(s(at(near, "failed"), "condition"))) br; (s(at(near, "failed"), "why"))
            });
            row
        })
        .collect();
    html! {
        section.panel aria-labelledby="result" aria-live="polite" {
            h2 #result { "Decision" }
            p.decision data-decision=(outcome) { (badge(outcome, if allowed { "ok" } else { "bad" })) }
            p { "Reason: " (code(s(response, "reason"))) }
            p { (s(explanation, "summary")) }
            @if !deciding.is_empty() {
                h3 { "Deciding statements" }
                (table("", &["Statement (as applied)", "Policy", "Group", "Bound at", "Boundary"], &deciding, ""))
            }
            @if !nearest.is_empty() {
                h3 { "Nearest misses" }
                (table("", &["Statement", "Policy", "Group", "Bound at", "Failing condition"], &nearest, ""))
            }
            p.hint { "Answered from revision " (at(response, "revision").as_u64().unwrap_or(0)) "." }
        }
    }
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
    let principals: Vec<String> = if cx.may("iam:users:read", &Level::Account, &[]) {
        let mut keys: Vec<String> = snapshot
            .directory()
            .principals()
            .map(|p| p.handle.as_deref().unwrap_or(&p.email).to_owned())
            .collect();
        keys.sort();
        keys.truncate(2_000);
        keys
    } else {
        Vec::new()
    };
    let principal = if query.principal.is_empty() && query.permission.is_empty() {
        cx.email.clone()
    } else {
        query.principal.clone()
    };
    let mut environments = vec![(String::new(), "Account level (no environment)".to_owned())];
    environments.extend(cx.environments().into_iter().map(|e| (e.clone(), e)));
    let lists = html! {
        @if cx.may("iam:users:read", &Level::Account, &[]) {
            datalist #principals { @for key in &principals { option value=(key) {} } }
        }
        datalist #permissions {
            @for permission in snapshot.catalogue().permissions() { option value=(permission.name) {} }
        }
    };
    let question = html! {
        p { "Ask Warden what it would decide, and why. You can always ask about yourself; asking about others needs " code { "iam:effective-permissions:read" } "." }
        form method="get" action="/console/simulator" class="panel" {
            (lists)
            (input("sim-principal", "Principal", "principal", &principal, Attrs::new().required().list("principals").autocomplete("off"), "An email, a service-user handle or a uid."))
            (input("sim-permission", "Permission", "permission", &query.permission, Attrs::new().required().list("permissions").autocomplete("off").verbatim(), ""))
            (select("sim-environment", "Environment", "environment", &environments, &query.environment, Attrs::new()))
            (textarea("sim-attributes", "Attributes", "attributes", &query.attributes, 3, Attrs::new().code(), "One name=value per line, for example storage:bucket-name=ops_app; the same name twice makes a list."))
            (input("sim-time", "Time", "time", &query.time, Attrs::new().placeholder("now").verbatim(), "Optional, RFC 3339 (2026-05-04T10:00:00Z), for date and time conditions."))
            button type="submit" { "Decide" }
        }
    };
    let answer = answer(&cx, &query).await;
    cx.page(
        "Access simulator",
        "simulator",
        html! { (question) (answer) },
    )
}

/// The decision on the question asked, nothing when none was asked yet.
async fn answer(cx: &Cx, query: &SimulatorQuery) -> Markup {
    if query.principal.is_empty() || query.permission.is_empty() {
        return html! {};
    }
    let attributes = match attributes_of(&query.attributes) {
        Ok(attributes) => attributes,
        Err(message) => return flash("bad", &message),
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
    // A what-if, not the principal's use.
    let decided = decisions::probe(
        &cx.app,
        &cx.authed(),
        true,
        &DecisionInput::borrowing(&request),
    )
    .await;
    match decided {
        Ok(response) => {
            let value = serde_json::to_value(&response).unwrap_or(Value::Null);
            explanation_html(&value)
        }
        Err(error) => error_alert(&error),
    }
}
