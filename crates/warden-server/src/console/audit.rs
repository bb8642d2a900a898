//! The audit log: entries filtered by actor, action prefix and target, paged by sequence number,
//! each with its before/after state; and the hash chain's verification.

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::html::{Attrs, at, code, input, link, s, table, url};
use super::session::flash;
use super::{Cx, input as api_input};
use crate::api::audit;
use crate::extract::{Path, Query};

#[derive(Debug, Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default, rename = "afterSeq")]
    after_seq: String,
    #[serde(default)]
    limit: String,
    #[serde(default)]
    verify: String,
}

pub async fn list(
    cx: Cx,
    axum::extract::Query(query): axum::extract::Query<AuditQuery>,
) -> Response {
    let limit: i64 = query.limit.trim().parse().unwrap_or(50);
    let after: Option<i64> = query.after_seq.trim().parse().ok();
    let mut filter = Map::new();
    filter.insert("limit".into(), json!(limit));
    if let Some(after) = after {
        filter.insert("afterSeq".into(), json!(after));
    }
    for (key, value) in [
        ("actor", &query.actor),
        ("action", &query.action),
        ("target", &query.target),
    ] {
        if !value.trim().is_empty() {
            filter.insert(key.into(), json!(value.trim()));
        }
    }
    let parsed = match api_input(Value::Object(filter)) {
        Ok(parsed) => parsed,
        Err(error) => return cx.error_page(&error, "/console/audit"),
    };
    let listed = audit::list(
        State(cx.app.clone()),
        cx.authed(),
        Path(cx.account.clone()),
        Query(parsed),
    )
    .await;
    let value = match listed {
        Ok(axum::Json(page)) => serde_json::to_value(page).unwrap_or_default(),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let verified = if query.verify == "1" {
        let verified =
            audit::verify(State(cx.app.clone()), cx.authed(), Path(cx.account.clone())).await;
        Some(match verified {
            Ok(axum::Json(v)) if at(&v, "valid").as_bool() == Some(true) => flash(
                "ok",
                &format!(
                    "The hash chain is intact: {} entries verified.",
                    at(&v, "entries").as_i64().unwrap_or(0)
                ),
            ),
            Ok(axum::Json(v)) => flash(
                "bad",
                &format!(
                    "The hash chain is broken at entry {}: {}",
                    at(at(&v, "problem"), "seq").as_i64().unwrap_or(0),
                    s(at(&v, "problem"), "message")
                ),
            ),
            Err(error) => flash("bad", &error.message),
        })
    } else {
        None
    };
    let snapshot = cx.app.snapshot();
    let rows: Vec<Vec<Markup>> = at(&value, "entries")
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let actor = s(e, "actor");
            let who = snapshot
                .directory()
                .principal(actor)
                .map_or_else(|| actor.to_owned(), |p| p.email.to_string());
            let change = html! {
                @for key in ["before", "after"] {
                    @if let Some(object) = e.get(key).filter(|v| !v.is_null()) {
                        details { summary { (key) } pre { (serde_json::to_string_pretty(object).unwrap_or_default()) } }
                    }
                }
            };
            vec![
                html! { (at(e, "seq").to_string()) },
                html! { (s(e, "at")) },
                html! { (who) },
                code(s(e, "action")),
                html! { (s(e, "target")) },
                change,
            ]
        })
        .collect();
    let next = at(&value, "nextAfterSeq").as_i64().map(|next| {
        format!(
            "/console/audit?actor={}&action={}&target={}&limit={limit}&afterSeq={next}",
            url(&query.actor),
            url(&query.action),
            url(&query.target)
        )
    });
    let body = html! {
        @if let Some(verified) = verified { (verified) }
        form method="get" action="/console/audit" class="panel" {
            h2 { "Filter" }
            (input("audit-actor", "Actor (uid)", "actor", &query.actor, Attrs::new(), ""))
            (input("audit-action", "Action starts with", "action", &query.action, Attrs::new(), "For example service-user. or policy.update"))
            (input("audit-target", "Target", "target", &query.target, Attrs::new(), "For example policy/<uuid>"))
            (input("audit-after", "After entry number", "afterSeq", &query.after_seq, Attrs::new().kind("number").range(0, None), ""))
            (input("audit-limit", "Entries per page", "limit", &limit.to_string(), Attrs::new().kind("number").range(1, Some(1000)), ""))
            div.toolbar {
                button type="submit" { "Filter" }
                button type="submit" name="verify" value="1" class="secondary" { "Verify the chain" }
            }
        }
        (table("", &["#", "Time (UTC)", "Actor", "Action", "Target", "Change"], &rows, "No entries match."))
        @if let Some(href) = next { p { (link(&href, "Next entries")) } }
    };
    cx.page("Audit log", "audit", body)
}
