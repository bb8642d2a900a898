//! Explanations (SPEC §3): the statements that decided, with their policy, binding, group, level
//! and boundary; for a default deny, the statements that came closest and the first condition that
//! failed on each (the value seen against the value required, or "attribute missing").
//!
//! An explanation is bounded whatever the request: at most [`NEAREST`] near misses and
//! [`DECIDING`] deciding statements; of the values seen and required, the first [`SHOWN_VALUES`]
//! (with `seenMore`/`requiredMore` and "and N more" for the rest), each cut to [`SHOWN_CHARS`]
//! characters; statements cut to [`STATEMENT_CHARS`]. A request of a thousand long values is
//! not repeated back several times over.

use serde::Serialize;

use crate::compile::Grant;
use crate::condition::{Clause, Context};
use crate::directory::Level;
use crate::snapshot::{Decision, Findings, Outcome, Reason, Request, Resolved, Snapshot};

/// How many near misses an explanation lists.
const NEAREST: usize = 3;
/// How many deciding statements an explanation lists.
const DECIDING: usize = 10;
/// Values seen or required shown per failed condition.
pub const SHOWN_VALUES: usize = 10;
/// Characters shown of one value (or of a name the request gave); longer ones end in `…`.
pub const SHOWN_CHARS: usize = 200;
/// Characters shown of a statement; longer ones end in `…`.
pub const STATEMENT_CHARS: usize = 2_000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    #[serde(flatten)]
    pub decision: Decision,
    /// One sentence for people.
    pub summary: String,
    pub deciding: Vec<StatementReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nearest: Vec<NearMiss>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementReport {
    /// The statement as it applies: parameters substituted, boundary conditions added.
    pub statement: String,
    pub policy: NamedRef,
    pub policy_level: Level,
    pub group: NamedRef,
    /// The level of the binding.
    pub level: Level,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boundary: Option<NamedRef>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NearMiss {
    #[serde(flatten)]
    pub statement: StatementReport,
    pub failed: FailedCondition,
    /// How many of the statement's conditions held.
    pub satisfied: usize,
    pub conditions: usize,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedCondition {
    pub condition: String,
    pub attribute: String,
    pub operator: String,
    /// The first [`SHOWN_VALUES`] required values.
    pub required: Vec<String>,
    /// Required values not shown.
    #[serde(skip_serializing_if = "is_zero")]
    pub required_more: usize,
    /// The first [`SHOWN_VALUES`] values the request gave; `None` when it does not carry the
    /// attribute.
    pub seen: Option<Vec<String>>,
    /// Values seen and not shown.
    #[serde(skip_serializing_if = "is_zero")]
    pub seen_more: usize,
    /// "attribute missing", or what was seen against what was required.
    pub why: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `text` cut to `max` characters, ending in `…` when cut.
pub fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((at, _)) => std::borrow::Cow::Owned(format!("{}…", text.get(..at).unwrap_or(text))),
    }
}

/// The first [`SHOWN_VALUES`] values, each shortened, and how many are left out.
fn shown<S: AsRef<str>>(values: &[S]) -> (Vec<String>, usize) {
    let kept = values
        .iter()
        .take(SHOWN_VALUES)
        .map(|v| shorten(v.as_ref(), SHOWN_CHARS).into_owned())
        .collect();
    (kept, values.len().saturating_sub(SHOWN_VALUES))
}

/// `a`, `b` and 3 more.
fn describe(values: &[String], more: usize) -> String {
    let listed = crate::condition::describe_values(values);
    if more == 0 {
        listed
    } else {
        format!("{listed} and {more} more")
    }
}

impl Snapshot {
    /// Decides a request and says why. Agrees with [`Snapshot::decide`] by construction: both run
    /// the same evaluation; this one records what it saw.
    pub fn explain(&self, request: &Request<'_>) -> Explanation {
        let mut findings = Findings::default();
        let decision = self.evaluate(request, Some(&mut findings));
        let ctx_groups;
        let ctx = match self.resolve(request) {
            Resolved::Principal { principal, .. } => {
                ctx_groups = principal.groups.clone();
                Some(Context {
                    attributes: request.attributes,
                    environment: request.environment,
                    time: request.time,
                    user_id: &principal.uid,
                    user_email: &principal.email,
                    user_groups: &ctx_groups,
                })
            }
            Resolved::Denied(_) => None,
        };
        let report = |grant: &Grant| self.report(grant);
        let deciding: Vec<StatementReport> = match decision.outcome {
            Outcome::Deny => findings
                .denies
                .iter()
                .take(DECIDING)
                .map(|g| report(g))
                .collect(),
            Outcome::Allow => findings
                .allows
                .iter()
                .take(DECIDING)
                .map(|g| report(g))
                .collect(),
        };
        let nearest = match (&ctx, decision.reason) {
            (Some(ctx), Reason::NoMatchingAllow) => self.nearest(&findings.misses, ctx),
            _ => Vec::new(),
        };
        let summary = summarise(
            request,
            &decision,
            &deciding,
            &nearest,
            findings.misses.is_empty(),
        );
        Explanation {
            decision,
            summary,
            deciding,
            nearest,
        }
    }

    fn report(&self, grant: &Grant) -> StatementReport {
        let statement = &grant.statement;
        let origin = &statement.origin;
        let permission = self.permissions().name(grant.permission);
        let mut text = format!("{} {permission}", statement.effect);
        if !statement.clauses.is_empty() {
            let clauses: Vec<String> = statement.clauses.iter().map(Clause::render).collect();
            text.push_str(" WHERE ");
            text.push_str(&clauses.join(" AND "));
        }
        text.push(';');
        let group_name = self
            .directory()
            .group(&grant.binding.group)
            .map_or_else(|| grant.binding.group.to_string(), |g| g.name.clone());
        StatementReport {
            statement: shorten(&text, STATEMENT_CHARS).into_owned(),
            policy: NamedRef {
                id: origin.policy.id.to_string(),
                name: origin.policy.name.clone(),
            },
            policy_level: origin.policy.level.clone(),
            group: NamedRef {
                id: grant.binding.group.to_string(),
                name: group_name,
            },
            level: grant.binding.level.clone(),
            boundary: origin.boundary.as_ref().map(|b| NamedRef {
                id: b.id.to_string(),
                name: b.name.clone(),
            }),
        }
    }

    fn nearest(&self, misses: &[&Grant], ctx: &Context<'_>) -> Vec<NearMiss> {
        let mut ranked: Vec<(usize, usize, NearMiss)> = misses
            .iter()
            .filter_map(|grant| {
                let clauses = &grant.statement.clauses;
                let failing: Vec<&Clause> =
                    clauses.iter().filter(|c| !c.evaluate(ctx, false)).collect();
                let first = failing.first()?;
                let failed = describe_failure(first, ctx);
                let near = NearMiss {
                    statement: self.report(grant),
                    failed,
                    satisfied: clauses.len() - failing.len(),
                    conditions: clauses.len(),
                };
                Some((failing.len(), clauses.len(), near))
            })
            .collect();
        // Closest first: fewest failing conditions, then fewest conditions overall.
        ranked.sort_by_key(|(failing, total, _)| (*failing, *total));
        ranked
            .into_iter()
            .take(NEAREST)
            .map(|(_, _, near)| near)
            .collect()
    }
}

fn describe_failure(clause: &Clause, ctx: &Context<'_>) -> FailedCondition {
    let conditions = clause.conditions();
    let first = conditions.first();
    let seen = first.and_then(|c| c.seen(ctx)).map(|values| shown(&values));
    let all_required: Vec<String> = conditions.iter().flat_map(|c| c.required()).collect();
    let (required, required_more) = shown(&all_required);
    let operator = first.map_or_else(String::new, |c| c.operator.to_string());
    let why = match &seen {
        None => "attribute missing".to_owned(),
        Some((values, more)) => format!(
            "seen {} but required {} {}",
            describe(values, *more),
            operator,
            describe(&required, required_more)
        ),
    };
    let (seen, seen_more) = match seen {
        Some((values, more)) => (Some(values), more),
        None => (None, 0),
    };
    FailedCondition {
        condition: shorten(&clause.render(), STATEMENT_CHARS).into_owned(),
        attribute: first.map_or_else(String::new, |c| shorten(&c.name, SHOWN_CHARS).into_owned()),
        operator,
        required,
        required_more,
        seen,
        seen_more,
        why,
    }
}

fn summarise(
    request: &Request<'_>,
    decision: &Decision,
    deciding: &[StatementReport],
    nearest: &[NearMiss],
    no_statements: bool,
) -> String {
    // What the request named is quoted, never repeated whole.
    let permission = shorten(request.permission, SHOWN_CHARS);
    let principal = shorten(request.principal, SHOWN_CHARS);
    let first = deciding.first();
    let cite = |s: &StatementReport| {
        format!(
            "`{}` of policy `{}`, bound to group `{}` at {} level",
            s.statement,
            s.policy.name,
            s.group.name,
            s.level.type_name()
        )
    };
    match decision.reason {
        Reason::Allowed => first.map_or_else(
            || "allowed".to_owned(),
            |s| format!("allowed by {}", cite(s)),
        ),
        Reason::DeniedByStatement => first.map_or_else(
            || "denied".to_owned(),
            |s| format!("denied by {}; a DENY wins over every ALLOW", cite(s)),
        ),
        Reason::NoMatchingAllow if no_statements => {
            let level = request.environment.map_or_else(
                || "at account level".to_owned(),
                |e| format!("in environment `{}`", shorten(e, SHOWN_CHARS)),
            );
            format!(
                "denied: no policy bound to the principal's groups grants `{permission}` {level}"
            )
        }
        Reason::NoMatchingAllow => match nearest.first() {
            Some(near) => format!(
                "denied: no statement granting `{permission}` applies; closest is `{}` of policy `{}`, where `{}` fails: {}",
                near.statement.statement,
                near.statement.policy.name,
                near.failed.condition,
                near.failed.why
            ),
            None => format!("denied: no statement granting `{permission}` applies"),
        },
        Reason::UnknownPrincipal => format!("denied: principal `{principal}` is unknown"),
        Reason::InactivePrincipal => {
            format!("denied: principal `{principal}` is deactivated")
        }
        Reason::UnknownPermission => {
            format!("denied: permission `{permission}` is not in the catalogue")
        }
        Reason::NoConsent => format!("denied: the actor did not consent to `{permission}`"),
        Reason::OutOfScope => format!("denied: `{permission}` is outside the token's scopes"),
        Reason::InvalidToken => {
            "denied: the token is unknown, revoked, inactive or expired".to_owned()
        }
        Reason::UnknownEnvironment => {
            format!(
                "denied: environment `{}` does not exist",
                shorten(request.environment.unwrap_or_default(), SHOWN_CHARS)
            )
        }
    }
}
