//! Validation of parsed policies and boundaries against the catalogue (SPEC §2 "Validation").
//!
//! Errors: unknown permission; a condition that is neither global nor supported by every
//! permission of its statement; an operator the condition does not allow; a list where one string
//! is expected or the reverse; a misplaced list placeholder; a malformed time literal.
//! Warnings: an unconditional DENY; a permission repeated in one statement; a statement (or a
//! permission of it) that another statement of the same policy already covers.

use crate::ast::{
    Arity, Condition, Effect, GlobalAttribute, OperatorSet, Placeholder, Policy, Statement, Value,
};
use crate::catalogue::{Catalogue, ConditionSpec};
use crate::diagnostic::{self, Code, Diagnostic};
use crate::parser::{Boundary, Parsed, parse_boundary, parse_policy};
use crate::span::LineIndex;
use crate::temporal::{TimeKind, TimeValue};

/// Parses and validates a policy text: everything `warden policy check` reports.
pub fn check_policy(source: &str, catalogue: &Catalogue) -> Parsed<Policy> {
    let mut parsed = parse_policy(source);
    let mut found = validate_policy(&parsed.ast, catalogue);
    // Redundancy is judged on the whole policy, which a text with syntax errors is not.
    if !parsed.has_errors() {
        found.extend(redundancy_warnings(&parsed.ast, source));
    }
    parsed.diagnostics.extend(found);
    diagnostic::sort(&mut parsed.diagnostics);
    parsed
}

/// Parses and validates a boundary text.
pub fn check_boundary(source: &str, catalogue: &Catalogue) -> Parsed<Boundary> {
    let mut parsed = parse_boundary(source);
    let found = validate_boundary(&parsed.ast, catalogue);
    parsed.diagnostics.extend(found);
    diagnostic::sort(&mut parsed.diagnostics);
    parsed
}

/// The catalogue checks of every statement (without the redundancy warnings, which need the text).
pub fn validate_policy(policy: &Policy, catalogue: &Catalogue) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for statement in &policy.statements {
        validate_statement(statement, catalogue, &mut out);
    }
    out
}

fn validate_statement(statement: &Statement, catalogue: &Catalogue, out: &mut Vec<Diagnostic>) {
    let mut known = Vec::new();
    for (index, permission) in statement.permissions.iter().enumerate() {
        if statement
            .permissions
            .iter()
            .take(index)
            .any(|earlier| earlier.node == permission.node)
        {
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

    for condition in &statement.conditions {
        let allowed = if condition.name.node.starts_with("global:") {
            global_operators(condition, catalogue, out)
        } else {
            statement_operators(condition, &known, catalogue, out)
        };
        if let Some(allowed) = allowed {
            check_condition_value(condition, allowed, true, out);
        }
    }
}

fn global_operators(
    condition: &Condition,
    catalogue: &Catalogue,
    out: &mut Vec<Diagnostic>,
) -> Option<OperatorSet> {
    if let Some(spec) = catalogue.global_condition(&condition.name.node) {
        return Some(spec.operators);
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
    out: &mut Vec<Diagnostic>,
) -> Option<OperatorSet> {
    let name = &condition.name.node;
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
    out: &mut Vec<Diagnostic>,
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
    let mut out = Vec::new();
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
            check_condition_value(condition, allowed, false, &mut out);
        }
    }
    out
}

/// Warnings for permissions that an earlier statement (or one with fewer conditions) of the same
/// effect already covers: the later statement adds nothing for them.
pub fn redundancy_warnings(policy: &Policy, source: &str) -> Vec<Diagnostic> {
    let index = LineIndex::new(source);
    let mut out = Vec::new();
    for (i, statement) in policy.statements.iter().enumerate() {
        let mut covered = Vec::new();
        for permission in &statement.permissions {
            let cover = policy.statements.iter().enumerate().find(|(j, other)| {
                *j != i
                    && other.effect.node == statement.effect.node
                    && other.permissions.iter().any(|p| p.node == permission.node)
                    && covers(other, statement, *j < i)
            });
            if let Some((_, other)) = cover {
                covered.push((permission, other));
            }
        }
        if covered.is_empty() {
            continue;
        }
        let verb = if statement.effect.node == Effect::Allow {
            "granted"
        } else {
            "denied"
        };
        let line = |other: &Statement| index.position(other.span.start).line;
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
                        line(other)
                    ))
                    .with_help("remove this statement"),
                );
            }
            continue;
        }
        for (permission, other) in covered {
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
    out
}

/// Whether `broader` covers `narrower`: every condition of `broader` also appears in `narrower`.
/// With equal condition sets only the earlier statement counts as the cover.
fn covers(broader: &Statement, narrower: &Statement, broader_is_earlier: bool) -> bool {
    let subset = broader
        .conditions
        .iter()
        .all(|c| narrower.conditions.contains(c));
    let equal = subset
        && narrower
            .conditions
            .iter()
            .all(|c| broader.conditions.contains(c));
    subset && (!equal || broader_is_earlier)
}

#[cfg(test)]
mod tests;
