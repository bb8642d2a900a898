//! Impact preview for the console: a draft change (policy text, binding added or removed,
//! boundary text) applied to a copy of the current directory with the same `Directory` calls the
//! writes use, compiled, and compared with the current snapshot by
//! [`warden_engine::impact::impact`].
//!
//! The preview lists principals and what they may do, so it needs what reading anyone's
//! effective permissions needs: `iam:effective-permissions:read` for users, without a condition
//! on which user (the entity is left out of the check, so only an unconditional grant passes).

use std::collections::BTreeMap;

use maud::{Markup, html};
use warden_engine::impact::{ChangeKind, Impact, impact};
use warden_engine::{Binding, BoundaryRecord, Id, Level, PolicyRecord};

use super::Cx;
use super::html::{badge, code, not_permitted, table};
use crate::error::{ApiError, ApiResult};
use crate::service::guard::attributes;

/// Principals listed at most; the rest are counted.
pub const SHOWN: usize = 1_000;

/// A change that has not been saved.
#[derive(Debug, Clone)]
pub enum Draft {
    /// A policy's new text (the policy exists; a new policy has no bindings yet).
    Policy {
        id: String,
        name: String,
        level: Level,
        text: String,
    },
    AddBinding(Binding),
    RemoveBinding(Binding),
    Boundary {
        id: String,
        name: String,
        text: String,
    },
}

/// Computes the impact of a draft, after checking that the caller may see it.
pub async fn compute(cx: &Cx, draft: Draft) -> ApiResult<Impact> {
    cx.app.require(
        &cx.authed,
        "iam:effective-permissions:read",
        &Level::Account,
        &attributes(&[("iam-param:entity-type", "user")]),
    )?;
    let before = cx.app.snapshot();
    let time = cx.authed.context.now_ms.div_euclid(1000);
    tokio::task::spawn_blocking(move || {
        let mut directory = before.directory().clone();
        let catalogue = before.catalogue();
        let affected: Vec<Id> = match draft {
            Draft::Policy {
                id,
                name,
                level,
                text,
            } => {
                if directory.policy(&id).is_none() {
                    return Ok(Impact::default());
                }
                let record = PolicyRecord::parse(&id, &name, level, &text, catalogue)
                    .map_err(|_| ApiError::invalid("fix the policy's errors first"))?;
                directory.upsert_policy(record)?
            }
            Draft::AddBinding(binding) => directory.add_binding(binding)?,
            Draft::RemoveBinding(binding) => {
                let group = binding.group.clone();
                directory.remove_bindings(&group, |b| *b == binding)?
            }
            Draft::Boundary { id, name, text } => {
                if directory.boundary(&id).is_none() {
                    return Ok(Impact::default());
                }
                let record = BoundaryRecord::parse(&id, &name, &text, catalogue)
                    .map_err(|_| ApiError::invalid("fix the boundary's errors first"))?;
                directory.upsert_boundary(record)?
            }
        };
        let after = before.apply(directory, &affected, before.revision);
        Ok(impact(&before, &after, &affected, time, SHOWN))
    })
    .await
    .map_err(|e| ApiError::internal(format!("impact preview failed: {e}")))?
}

/// The preview, or why there is none.
pub async fn html(cx: &Cx, draft: Draft) -> Markup {
    let impact = match compute(cx, draft).await {
        Ok(impact) => impact,
        Err(error) if error.status() == axum::http::StatusCode::FORBIDDEN => {
            return not_permitted(
                "preview who gains or loses access",
                "iam:effective-permissions:read",
            );
        }
        Err(error) => {
            return html! { p.flash.bad { (error.message) } };
        }
    };
    let snapshot = cx.app.snapshot();
    render(&impact, |uid| {
        snapshot
            .directory()
            .principal(uid)
            .and_then(|p| p.handle.as_deref().map(str::to_owned))
    })
}

/// The preview; `handle` gives a service user's handle to show beside its email.
pub fn render(impact: &Impact, handle: impl Fn(&str) -> Option<String>) -> Markup {
    if impact.total_changes == 0 {
        return html! {
            p data-impact="0" { "Nobody gains or loses access: no answer changes for any principal, at any level." }
        };
    }
    let mut counts: BTreeMap<ChangeKind, usize> = BTreeMap::new();
    for change in &impact.changes {
        *counts.entry(change.kind).or_default() += 1;
    }
    let parts = counts
        .iter()
        .map(|(kind, n)| format!("{n} {}", kind.describe()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<Vec<Markup>> = impact
        .changes
        .iter()
        .map(|c| {
            let level = match &c.level {
                Level::Environment(env) => format!("environment {env}"),
                _ => "account".to_owned(),
            };
            let tone = match c.kind {
                ChangeKind::Gains => "ok",
                ChangeKind::Loses => "bad",
                ChangeKind::ConditionsChange => "neutral",
            };
            let who = match handle(&c.uid) {
                Some(handle) => format!("{handle} ({})", c.email),
                None => c.email.clone(),
            };
            vec![
                html! { (who) },
                code(&c.permission),
                html! { (level) },
                badge(c.kind.describe(), tone),
            ]
        })
        .collect();
    html! {
        p data-impact=(impact.total_changes) {
            strong { (impact.affected_principals) } " principal(s) affected, "
            strong { (impact.total_changes) } " change(s): " (parts) "."
        }
        @if impact.truncated {
            p.note { "Showing the changes of the first " (SHOWN) " principals (by email) of " (impact.affected_principals) "." }
        }
        (table(
            "Who gains or loses access (a request without attributes; \u{201c}conditions change\u{201d}: access under some attributes changes)",
            &["Principal", "Permission", "Level", "Change"],
            &rows,
            "",
        ))
    }
}
