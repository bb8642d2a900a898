//! Validation of parsed policies and boundaries against the catalogue (SPEC §2 "Validation").
//!
//! Errors: unknown permission; a condition that is neither global nor supported by every
//! permission of its statement; an operator the condition does not allow; a list where one string
//! is expected or the reverse; a misplaced list placeholder; a malformed time literal.
//! Warnings: an unconditional DENY; a permission repeated in one statement; a statement (or a
//! permission of it) that another statement of the same policy already covers.
//!
//! Everything here is linear in the text, or nearly (repetitions are found with hash sets, and
//! coverage between statements with bit sets of at most 100 statements), and what is found goes
//! to a [`Collector`], which stops building diagnostics past its limit and only counts them.

use crate::ast::{
    Arity, Condition, Effect, GlobalAttribute, OperatorSet, Placeholder, Policy, Statement, Value,
};
use crate::catalogue::{Catalogue, ConditionSpec};
use std::collections::{HashMap, HashSet};

use crate::diagnostic::{self, Code, Collector, Diagnostic, Severity};
use crate::parser::{Boundary, Parsed, parse_boundary, parse_policy};
use crate::span::LineIndex;
use crate::temporal::{TimeKind, TimeValue};

/// Parses and validates a policy text: everything `warden policy check` reports.
/// At most [`diagnostic::MAX_DIAGNOSTICS`] diagnostics are kept, errors first; the others are
/// counted in [`Parsed::omitted`].
pub fn check_policy(source: &str, catalogue: &Catalogue) -> Parsed<Policy> {
    let parsed = parse_policy(source);
    let mut found = Collector::new();
    validate_policy_into(&parsed.ast, catalogue, &mut found);
    // Redundancy is judged on the whole policy, which a text with syntax errors is not.
    if !parsed.has_errors() {
        redundancy_into(&parsed.ast, source, &mut found);
    }
    finish(parsed, found)
}

/// Parses and validates a boundary text (diagnostics bounded as for [`check_policy`]).
pub fn check_boundary(source: &str, catalogue: &Catalogue) -> Parsed<Boundary> {
    let parsed = parse_boundary(source);
    let mut found = Collector::new();
    validate_boundary_into(&parsed.ast, catalogue, &mut found);
    finish(parsed, found)
}

fn finish<T>(mut parsed: Parsed<T>, found: Collector) -> Parsed<T> {
    let (kept, omitted) = found.finish();
    parsed.diagnostics.extend(kept);
    parsed.omitted += omitted;
    diagnostic::limit(&mut parsed.diagnostics, &mut parsed.omitted);
    parsed
}

/// The catalogue checks of every statement (without the redundancy warnings, which need the
/// text); at most [`diagnostic::MAX_DIAGNOSTICS`] errors and as many warnings.
pub fn validate_policy(policy: &Policy, catalogue: &Catalogue) -> Vec<Diagnostic> {
    let mut out = Collector::new();
    validate_policy_into(policy, catalogue, &mut out);
    out.finish().0
}

fn validate_policy_into(policy: &Policy, catalogue: &Catalogue, out: &mut Collector) {
    for statement in &policy.statements {
        validate_statement(statement, catalogue, out);
    }
}

fn validate_statement(statement: &Statement, catalogue: &Catalogue, out: &mut Collector) {
    let mut known = Vec::new();
    let mut seen: HashSet<&str> = HashSet::with_capacity(statement.permissions.len());
    for permission in &statement.permissions {
        if !seen.insert(permission.node.as_str()) {
            if !out.wants(Severity::Warning) {
                out.omit(Severity::Warning, 1);
                continue;
            }
            out.push(
                Diagnostic::warning(
                    Code::RepeatedPermission,
                    permission.span,
                    format!(
                        "permission `{}` is repeated in this statement",
                        permission.node
                    ),
                )
                .with_label("already listed")
                .with_help("remove the repetition"),
            );
            continue;
        }
        match catalogue.permission(&permission.node) {
            Some(found) => known.push(found),
            // The suggestion is the costly part: not computed for a diagnostic not kept.
            None if !out.wants(Severity::Error) => out.omit(Severity::Error, 1),
            None => {
                let help = match catalogue.suggest_permission(&permission.node) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => "`warden catalogue` lists the known permissions; a platform can register its own service".to_owned(),
                };
                out.push(
                    Diagnostic::error(
                        Code::UnknownPermission,
                        permission.span,
                        format!("unknown permission `{}`", permission.node),
                    )
                    .with_label("not in the catalogue")
                    .with_help(help),
                );
            }
        }
    }

    if statement.effect.node == Effect::Deny && statement.is_unconditional() {
        out.push(
            Diagnostic::warning(Code::UnconditionalDeny, statement.effect.span, "unconditional DENY")
                .with_label("denies these permissions to everyone the policy is bound to")
                .with_help(
                    "a DENY wins over every ALLOW; add a WHERE condition to narrow it, or remove the permissions from the ALLOW statements instead",
                ),
        );
    }

    // What each condition name needs of the statement's permissions, worked out once per name:
    // a statement may repeat one condition thousands of times.
    let mut operators: HashMap<&str, (Option<OperatorSet>, usize)> = HashMap::new();
    for condition in &statement.conditions {
        let allowed = if condition.name.node.starts_with("global:") {
            global_operators(condition, catalogue, out)
        } else if let Some(&(allowed, unsupported)) = operators.get(condition.name.node.as_str())
            && !out.wants(Severity::Error)
        {
            out.omit(Severity::Error, unsupported);
            allowed
        } else {
            let before = out.found(Severity::Error);
            let allowed = statement_operators(condition, &known, catalogue, out);
            let reported = out.found(Severity::Error) - before;
            operators.insert(condition.name.node.as_str(), (allowed, reported));
            allowed
        };
        if let Some(allowed) = allowed {
            check_condition_value(condition, allowed, true, out);
        }
    }
}

fn global_operators(
    condition: &Condition,
    catalogue: &Catalogue,
    out: &mut Collector,
) -> Option<OperatorSet> {
    if let Some(spec) = catalogue.global_condition(&condition.name.node) {
        return Some(spec.operators);
    }
    if !out.wants(Severity::Error) {
        out.omit(Severity::Error, 1);
        return None;
    }
    let names = catalogue.global_conditions().map(|spec| spec.name.as_str());
    let help = match Catalogue::suggest_among(&condition.name.node, names) {
        Some(suggestion) => format!("did you mean `{suggestion}`?"),
        None => format!(
            "the global conditions are {}",
            catalogue
                .global_conditions()
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    out.push(
        Diagnostic::error(
            Code::UnknownCondition,
            condition.name.span,
            format!("unknown global condition `{}`", condition.name.node),
        )
        .with_label("not a global condition")
        .with_help(help),
    );
    None
}

/// The operators every permission of the statement allows for this condition, after reporting
/// each permission that does not support it.
fn statement_operators(
    condition: &Condition,
    permissions: &[&crate::catalogue::Permission],
    catalogue: &Catalogue,
    out: &mut Collector,
) -> Option<OperatorSet> {
    let name = &condition.name.node;
    if !catalogue.condition_exists(name) && !out.wants(Severity::Error) {
        out.omit(Severity::Error, 1);
        return None;
    }
    if !catalogue.condition_exists(name) {
        let candidates = permissions
            .iter()
            .flat_map(|p| p.conditions.iter().map(|c| c.name.as_str()));
        let help = match Catalogue::suggest_among(name, candidates) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None => supported_list(permissions),
        };
        out.push(
            Diagnostic::error(
                Code::UnknownCondition,
                condition.name.span,
                format!("unknown condition `{name}`"),
            )
            .with_label("not in the catalogue")
            .with_help(help),
        );
        return None;
    }
    let mut allowed = OperatorSet::all();
    let mut supported = true;
    for permission in permissions {
        match permission.condition(name) {
            Some(spec) => allowed = allowed.intersection(spec.operators),
            None if !out.wants(Severity::Error) => {
                supported = false;
                out.omit(Severity::Error, 1);
            }
            None => {
                supported = false;
                let supports: Vec<String> = permission
                    .conditions
                    .iter()
                    .map(|c| format!("`{}`", c.name))
                    .collect();
                let help = if supports.is_empty() {
                    format!(
                        "`{}` supports no conditions; grant it in a statement of its own, without WHERE",
                        permission.name
                    )
                } else {
                    format!(
                        "`{}` supports {}; move it to a statement of its own if it needs other conditions",
                        permission.name,
                        supports.join(", ")
                    )
                };
                out.push(
                    Diagnostic::error(
                        Code::UnsupportedCondition,
                        condition.name.span,
                        format!(
                            "condition `{name}` is not supported by permission `{}`",
                            permission.name
                        ),
                    )
                    .with_label("not supported by every permission of the statement")
                    .with_help(help),
                );
            }
        }
    }
    supported.then_some(allowed)
}

fn supported_list(permissions: &[&crate::catalogue::Permission]) -> String {
    let mut names: Vec<String> = permissions
        .iter()
        .flat_map(|p| p.conditions.iter().map(|c| format!("`{}`", c.name)))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        "the permissions of this statement support no conditions besides the global ones".to_owned()
    } else {
        format!(
            "the permissions of this statement support {}",
            names.join(", ")
        )
    }
}

/// Operator, arity, placeholders and time literals of one condition, given the operators allowed.
fn check_condition_value(
    condition: &Condition,
    allowed: OperatorSet,
    allow_parameters: bool,
    out: &mut Collector,
) {
    let name = &condition.name.node;
    let operator = condition.operator.node;
    if !allowed.contains(operator) {
        out.push(
            Diagnostic::error(
                Code::OperatorNotAllowed,
                condition.operator.span,
                format!("operator `{operator}` is not allowed for condition `{name}`"),
            )
            .with_label("not allowed here")
            .with_help(format!("`{name}` allows {}", allowed.describe())),
        );
        return;
    }
    match (&condition.value, operator.arity()) {
        (Value::Single(_), Arity::List) => out.push(
            Diagnostic::error(
                Code::ListExpected,
                condition.value.span(),
                format!("`{operator}` takes a parenthesised list"),
            )
            .with_label("one string")
            .with_help(format!("write `{name} {operator} (\"value\")`")),
        ),
        (Value::List(list), Arity::Single) => {
            let help = match operator {
                crate::ast::Operator::Eq if allowed.contains(crate::ast::Operator::In) => {
                    "to match any of several values use `IN (…)`".to_owned()
                }
                crate::ast::Operator::NotEq if allowed.contains(crate::ast::Operator::NotIn) => {
                    "to exclude several values use `NOT IN (…)`".to_owned()
                }
                _ => "give one string, or write one statement per value".to_owned(),
            };
            out.push(
                Diagnostic::error(
                    Code::SingleValueExpected,
                    list.span,
                    format!("`{operator}` takes one string, not a list"),
                )
                .with_label("a list")
                .with_help(help),
            );
        }
        _ => {}
    }
    for string in condition.value.strings() {
        for placeholder in string.placeholders() {
            match placeholder {
                Placeholder::Global(GlobalAttribute::UserGroup) => {
                    let whole_list_item = matches!(condition.value, Value::List(_)) && string.sole_placeholder().is_some();
                    if !whole_list_item {
                        out.push(
                            Diagnostic::error(
                                Code::ListPlaceholderMisplaced,
                                string.span,
                                "`${global:userGroup}` is a list of group uuids",
                            )
                            .with_label("used where one string is expected")
                            .with_help(format!(
                                "use it as a whole item of a list: `{name} IN (\"${{global:userGroup}}\")`"
                            )),
                        );
                    }
                }
                Placeholder::BindParam(parameter) if !allow_parameters => out.push(
                    Diagnostic::error(
                        Code::MalformedPlaceholder,
                        string.span,
                        format!("boundaries take no parameters: `${{bindParam:{parameter}}}`"),
                    )
                    .with_label("not allowed in a boundary")
                    .with_help("write the value itself; parameters belong to policies and are set on bindings"),
                ),
                _ => {}
            }
        }
        if let (Some(kind), Some(text)) = (TimeKind::of_condition(name), string.as_plain())
            && let Err(error) = TimeValue::parse(kind, &text)
        {
            out.push(
                Diagnostic::error(Code::InvalidTimeValue, string.span, error.short())
                    .with_label("not a valid time value")
                    .with_help(format!("write {}", kind.example())),
            );
        }
    }
}

/// Validates a boundary: each condition must exist somewhere in the catalogue, with an operator
/// that at least one permission supporting it allows.
pub fn validate_boundary(boundary: &Boundary, catalogue: &Catalogue) -> Vec<Diagnostic> {
    let mut out = Collector::new();
    validate_boundary_into(boundary, catalogue, &mut out);
    out.finish().0
}

fn validate_boundary_into(boundary: &Boundary, catalogue: &Catalogue, out: &mut Collector) {
    for condition in &boundary.conditions {
        let name = &condition.name.node;
        let allowed = if let Some(spec) = catalogue.global_condition(name) {
            Some(spec.operators)
        } else {
            let specs: Vec<&ConditionSpec> = catalogue
                .permissions()
                .filter_map(|p| p.condition(name))
                .collect();
            if specs.is_empty() {
                let candidates = catalogue
                    .permissions()
                    .flat_map(|p| p.conditions.iter().map(|c| c.name.as_str()));
                let help = match Catalogue::suggest_among(name, candidates) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => {
                        "a boundary condition must be one that some permission supports".to_owned()
                    }
                };
                out.push(
                    Diagnostic::error(
                        Code::UnknownCondition,
                        condition.name.span,
                        format!("unknown condition `{name}`"),
                    )
                    .with_label("no permission supports it")
                    .with_help(help),
                );
                None
            } else {
                // A boundary applies the condition wherever it is supported: any operator that some
                // supporting permission allows is meaningful.
                Some(specs.iter().fold(OperatorSet::EMPTY, |set, spec| {
                    spec.operators.iter().fold(set, |mut set, op| {
                        set.insert(op);
                        set
                    })
                }))
            }
        };
        if let Some(allowed) = allowed {
            check_condition_value(condition, allowed, false, out);
        }
    }
}

/// Warnings for permissions that an earlier statement (or one with fewer conditions) of the same
/// effect already covers: the later statement adds nothing for them (at most
/// [`diagnostic::MAX_DIAGNOSTICS`]).
pub fn redundancy_warnings(policy: &Policy, source: &str) -> Vec<Diagnostic> {
    let mut out = Collector::new();
    redundancy_into(policy, source, &mut out);
    out.finish().0
}

/// Statements of a policy as bits of a `u128`: a valid policy has at most 100.
type Statements = u128;

/// A condition as a hashable key that ignores spans, like the AST's equality.
type ConditionKey<'a> = (
    &'a str,
    crate::ast::Operator,
    Vec<&'a [crate::ast::StringPart]>,
);

fn condition_key(condition: &Condition) -> ConditionKey<'_> {
    (
        condition.name.node.as_str(),
        condition.operator.node,
        condition
            .value
            .strings()
            .iter()
            .map(|s| s.parts.as_slice())
            .collect(),
    )
}

fn redundancy_into(policy: &Policy, source: &str, out: &mut Collector) {
    let statements = &policy.statements;
    if statements.is_empty() || statements.len() > Statements::BITS as usize {
        return;
    }
    let bit = |i: usize| -> Statements { 1 << i };
    // Which statements name each permission, and each statement's conditions as a set.
    let mut naming: HashMap<&str, Statements> = HashMap::new();
    for (i, statement) in statements.iter().enumerate() {
        for permission in &statement.permissions {
            *naming.entry(permission.node.as_str()).or_default() |= bit(i);
        }
    }
    // Each distinct condition gets a number; a statement's conditions are a sorted set of them.
    let mut numbers: HashMap<ConditionKey<'_>, u32> = HashMap::new();
    let conditions: Vec<Vec<u32>> = statements
        .iter()
        .map(|s| {
            let mut set: Vec<u32> = s
                .conditions
                .iter()
                .map(|c| {
                    let next = u32::try_from(numbers.len()).unwrap_or(u32::MAX);
                    *numbers.entry(condition_key(c)).or_insert(next)
                })
                .collect();
            set.sort_unstable();
            set.dedup();
            set
        })
        .collect();
    // `covering[i]`: the statements that cover statement `i` (see [`covers`]).
    let covering: Vec<Statements> = statements
        .iter()
        .enumerate()
        .map(|(i, statement)| {
            statements
                .iter()
                .enumerate()
                .filter(|(j, other)| {
                    *j != i
                        && other.effect.node == statement.effect.node
                        && conditions
                            .get(*j)
                            .zip(conditions.get(i))
                            .is_some_and(|(broader, narrower)| covers(broader, narrower, *j < i))
                })
                .fold(0, |set, (j, _)| set | bit(j))
        })
        .collect();
    let index = LineIndex::new(source);
    let lines: Vec<usize> = statements
        .iter()
        .map(|s| index.line(s.span.start))
        .collect();
    for (i, statement) in statements.iter().enumerate() {
        let covered_by = covering.get(i).copied().unwrap_or(0);
        if covered_by == 0 {
            continue;
        }
        // The first statement that covers this one and names the permission.
        let cover = |permission: &str| {
            let candidates = naming.get(permission).copied().unwrap_or(0) & covered_by;
            (candidates != 0).then(|| candidates.trailing_zeros() as usize)
        };
        let covered: Vec<(&crate::span::Spanned<String>, usize)> = statement
            .permissions
            .iter()
            .filter_map(|p| cover(&p.node).map(|j| (p, j)))
            .collect();
        if covered.is_empty() {
            continue;
        }
        let verb = if statement.effect.node == Effect::Allow {
            "granted"
        } else {
            "denied"
        };
        let line = |j: usize| lines.get(j).copied().unwrap_or(1);
        if covered.len() == statement.permissions.len() {
            if let Some((_, other)) = covered.first() {
                out.push(
                    Diagnostic::warning(
                        Code::RedundantStatement,
                        statement.effect.span,
                        "redundant statement",
                    )
                    .with_label(format!(
                        "everything here is already {verb} by the statement on line {}",
                        line(*other)
                    ))
                    .with_help("remove this statement"),
                );
            }
            continue;
        }
        for (permission, other) in covered {
            if !out.wants(Severity::Warning) {
                out.omit(Severity::Warning, 1);
                continue;
            }
            out.push(
                Diagnostic::warning(
                    Code::RedundantStatement,
                    permission.span,
                    format!(
                        "`{}` is already {verb} by the statement on line {}",
                        permission.node,
                        line(other)
                    ),
                )
                .with_label("redundant")
                .with_help("remove it from this statement"),
            );
        }
    }
}

/// Whether `broader` covers `narrower` (sorted sets of condition numbers): every condition of
/// `broader` also appears in `narrower`. With equal condition sets only the earlier statement
/// counts as the cover.
fn covers(broader: &[u32], narrower: &[u32], broader_is_earlier: bool) -> bool {
    let equal = broader == narrower;
    let mut rest = narrower.iter();
    let subset = broader.iter().all(|c| rest.any(|n| n == c));
    subset && (!equal || broader_is_earlier)
}

#[cfg(test)]
mod tests;
