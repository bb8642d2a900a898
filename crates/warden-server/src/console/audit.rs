//! The audit log: entries filtered by actor, action prefix and target, paged by sequence number,
//! each with its before/after state; and the hash chain's verification. Both read through
//! the service layer ([`crate::service::audit`]).

use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use warden_api::audit::AuditQuery;

use super::Cx;
use super::html::{Attrs, at, code, input, link, s, table, url};
use super::session::flash;
use crate::service::audit;

#[derive(Debug, Deserialize, Default)]
pub struct AuditPageQuery {
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
    axum::extract::Query(query): axum::extract::Query<AuditPageQuery>,
) -> Response {
    let limit: i64 = query.limit.trim().parse().unwrap_or(50);
    let after: Option<i64> = query.after_seq.trim().parse().ok();
    let given = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    let filter = AuditQuery {
        after_seq: after,
        limit: Some(limit),
        actor: given(&query.actor),
        action: given(&query.action),
        target: given(&query.target),
    };
    let value = match audit::list(&cx.app, &cx.authed(), &cx.account, filter).await {
        Ok(page) => serde_json::to_value(page).unwrap_or_default(),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let verified = if query.verify == "1" {
        Some(
            match audit::verify(&cx.app, &cx.authed(), &cx.account).await {
                Ok(verification) if verification.valid => flash(
                    "ok",
                    &format!(
                        "The hash chain is intact: {} entries verified.",
                        verification.entries
                    ),
                ),
                Ok(verification) => flash(
                    "bad",
                    &format!(
                        "The hash chain is broken at entry {}: {}",
                        verification.problem.as_ref().map_or(0, |p| p.seq),
                        verification
                            .problem
                            .as_ref()
                            .map_or("", |p| p.message.as_str())
                    ),
                ),
                Err(error) => flash("bad", &error.message),
            },
        )
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
