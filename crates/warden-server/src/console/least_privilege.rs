//! A service user's least-privilege suggestion ([`crate::service::suggestions`]): the policy that
//! allows every request it made in the window, the diff against what it holds, and who loses
//! what by switching to it. Read-only: switching is done with the policy and binding pages.

use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::Cx;
use super::html::{Attrs, badge, code, input, link, not_permitted, table, url};
use crate::extract::Path;
use crate::service::suggestions::{self, SuggestQuery, SuggestedPolicy};

#[derive(Debug, Default, Deserialize)]
pub struct DaysForm {
    days: Option<String>,
}

fn codes(permissions: &[String]) -> Markup {
    html! {
        @for (i, permission) in permissions.iter().enumerate() {
            @if i > 0 { " " }
            (code(permission))
        }
    }
}

/// The suggestion, its diff and its impact.
pub fn render(suggestion: &SuggestedPolicy) -> Markup {
    let diff = &suggestion.diff;
    let mut rows: Vec<Vec<Markup>> = Vec::new();
    for (permissions, label, tone) in [
        (&diff.kept, "kept", "ok"),
        (&diff.removed, "removed (unused)", "bad"),
        (&diff.added, "added", "neutral"),
    ] {
        for permission in permissions {
            rows.push(vec![code(permission), badge(label, tone)]);
        }
    }
    let impact = &suggestion.impact;
    let changes: Vec<Vec<Markup>> = impact
        .changes
        .iter()
        .map(|c| {
            let (text, tone) = match c.change.as_str() {
                "gains" => ("gains access", "ok"),
                "loses" => ("loses access", "bad"),
                _ => ("conditions change", "neutral"),
            };
            vec![
                html! { (c.email) },
                code(&c.permission),
                html! { (c.level) },
                badge(text, tone),
            ]
        })
        .collect();
    html! {
        h2 { "Suggested policy" }
        p.hint { "Allows every request it made in the last " (suggestion.days) " days, and no permission it did not use. It passes the policy check as it is." }
        pre data-suggested-policy { (suggestion.policy) }
        h2 { "Against what it holds today" }
        (table("", &["Permission", "Change"], &rows, "It holds nothing and used nothing."))
        h2 { "Switching" }
        p.hint { "This policy bound at account level to its own group, in place of that group's bindings and of its other group memberships (requests without attributes; “conditions change”: access under some attributes changes)." }
        @if impact.total_changes == 0 {
            p data-impact="0" { "No answer changes for any principal." }
        } @else {
            p data-impact=(impact.total_changes) {
                strong { (impact.affected_principals) } " principal(s) affected, "
                strong { (impact.total_changes) } " change(s)."
            }
            (table("", &["Principal", "Permission", "Level", "Change"], &changes, ""))
            @if impact.hidden_changes > 0 {
                p.note { (impact.hidden_changes) " more change(s) of principals whose permissions you may not read." }
            }
        }
        @if !suggestion.permissions.is_empty() {
            p.hint { "Granted: " (codes(&suggestion.permissions)) }
        }
    }
}

pub async fn page(
    cx: Cx,
    Path(id): Path<String>,
    axum::extract::Query(form): axum::extract::Query<DaysForm>,
) -> Response {
    let back = format!("/console/service-users/{}", url(&id));
    let days = form
        .days
        .as_deref()
        .and_then(|d| d.trim().parse::<i64>().ok());
    let query = SuggestQuery { days };
    let found =
        suggestions::suggested_policy(&cx.app, &cx.authed(), &cx.account, &id, &query).await;
    let body = match found {
        Ok(suggestion) => html! {
            form method="get" action=(format!("{back}/least-privilege")) class="toolbar" {
                (input("days", "Used in the last (days)", "days", &suggestion.days.to_string(), Attrs::new().kind("number").range(1, Some(36500)), ""))
                button type="submit" class="secondary" { "Update" }
            }
            (render(&suggestion))
            p { (link(&back, "Back to the service user")) }
        },
        Err(error) if error.status() == axum::http::StatusCode::FORBIDDEN => html! {
            (not_permitted("see its least-privilege suggestion", "iam:effective-permissions:read"))
            p { (link(&back, "Back to the service user")) }
        },
        Err(error) => return cx.error_page(&error, &back),
    };
    cx.page("Least-privilege policy", "service-users", body)
}
