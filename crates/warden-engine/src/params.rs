//! Bind parameters (SPEC §5): which parameters a policy references, and whether a binding's values
//! fit it. Values are data: they are substituted as text into the compiled statement and never
//! parsed again, so quotes, `;` or `WHERE` in a value cannot change a policy.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use warden_policy::{Operator, Placeholder, Policy, Value};

/// A parameter value: one string, or a list that expands into list items.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    One(String),
    Many(Vec<String>),
}

impl ParamValue {
    pub fn values(&self) -> &[String] {
        match self {
            ParamValue::One(value) => std::slice::from_ref(value),
            ParamValue::Many(values) => values,
        }
    }
}

/// The names of every `${bindParam:…}` the policy references.
pub fn policy_parameters(policy: &Policy) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for statement in &policy.statements {
        for condition in &statement.conditions {
            for string in condition.value.strings() {
                for placeholder in string.placeholders() {
                    if let Placeholder::BindParam(name) = placeholder {
                        names.insert(name.clone());
                    }
                }
            }
        }
    }
    names
}

/// Parameter values are data (SPEC §5), but in a `MATCH` pattern `*` and `?` are wildcards and
/// `\` escapes them: a value with one of them would turn into pattern syntax there, so that
/// `team = "*"` in `MATCH "${bindParam:team}_*"` would grant every team's buckets. Such a
/// binding is refused; wildcards belong in the policy's text.
pub fn check_pattern_parameters(
    policy: &Policy,
    parameters: &BTreeMap<String, ParamValue>,
) -> Result<(), String> {
    for statement in &policy.statements {
        for condition in &statement.conditions {
            if condition.operator.node != Operator::Match {
                continue;
            }
            for placeholder in condition
                .value
                .strings()
                .iter()
                .flat_map(|s| s.placeholders())
            {
                let Placeholder::BindParam(name) = placeholder else {
                    continue;
                };
                let values = parameters
                    .get(name)
                    .map(ParamValue::values)
                    .unwrap_or_default();
                if let Some(value) = values.iter().find(|v| v.contains(['*', '?', '\\'])) {
                    return Err(format!(
                        "parameter `{name}` fills a MATCH pattern of `{}`, where `*` and `?` are wildcards: its value `{value}` must not contain `*`, `?` or `\\`; write wildcards into the policy",
                        condition.name.node
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A binding must supply every parameter the policy references and no other; a list value may
/// only fill a string that is exactly the placeholder, inside a list.
pub fn check_parameters(
    policy: &Policy,
    values: &BTreeMap<String, ParamValue>,
) -> Result<(), String> {
    let referenced = policy_parameters(policy);
    let missing: Vec<&String> = referenced
        .iter()
        .filter(|name| !values.contains_key(*name))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing parameter {}: the policy references it",
            names(&missing)
        ));
    }
    let extra: Vec<&String> = values
        .keys()
        .filter(|name| !referenced.contains(*name))
        .collect();
    if !extra.is_empty() {
        let expected: Vec<&String> = referenced.iter().collect();
        let expected = if expected.is_empty() {
            "none".to_owned()
        } else {
            names(&expected)
        };
        return Err(format!(
            "unknown parameter {}: the policy references {expected}",
            names(&extra)
        ));
    }
    for (name, value) in values {
        if let ParamValue::Many(items) = value
            && items.is_empty()
        {
            return Err(format!(
                "parameter `{name}` is an empty list; give at least one value"
            ));
        }
    }
    for statement in &policy.statements {
        for condition in &statement.conditions {
            let in_list = matches!(condition.value, Value::List(_));
            for string in condition.value.strings() {
                let whole = string.sole_placeholder().is_some();
                for placeholder in string.placeholders() {
                    let Placeholder::BindParam(name) = placeholder else {
                        continue;
                    };
                    if matches!(values.get(name), Some(ParamValue::Many(_))) && !(in_list && whole)
                    {
                        return Err(format!(
                            "parameter `{name}` is a list, but condition `{}` uses it where one string is expected; give one string",
                            condition.name.node
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

fn names(list: &[&String]) -> String {
    list.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use warden_policy::parse_policy;

    fn params(pairs: &[(&str, ParamValue)]) -> BTreeMap<String, ParamValue> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn every_referenced_parameter_and_no_other() {
        let policy = parse_policy(
            r#"ALLOW a:b:c WHERE x:y startsWith "${bindParam:team}_" AND x:z IN ("${bindParam:zones}", "fixed");"#,
        )
        .ast;
        let one = |v: &str| ParamValue::One(v.to_owned());
        let many = |v: &[&str]| ParamValue::Many(v.iter().map(|s| (*s).to_owned()).collect());
        assert_eq!(
            policy_parameters(&policy).into_iter().collect::<Vec<_>>(),
            ["team", "zones"]
        );
        assert_eq!(
            check_parameters(
                &policy,
                &params(&[("team", one("ops")), ("zones", many(&["a", "b"]))])
            ),
            Ok(())
        );
        assert_eq!(
            check_parameters(&policy, &params(&[("team", one("ops"))])),
            Err("missing parameter `zones`: the policy references it".to_owned())
        );
        assert_eq!(
            check_parameters(
                &policy,
                &params(&[("team", one("ops")), ("zones", one("a")), ("x", one("1"))])
            ),
            Err("unknown parameter `x`: the policy references `team`, `zones`".to_owned())
        );
        assert_eq!(
            check_parameters(&policy, &params(&[("team", many(&["a"])), ("zones", one("a"))])),
            Err("parameter `team` is a list, but condition `x:y` uses it where one string is expected; give one string".to_owned())
        );
        assert_eq!(
            check_parameters(
                &policy,
                &params(&[("team", one("a")), ("zones", many(&[]))])
            ),
            Err("parameter `zones` is an empty list; give at least one value".to_owned())
        );
    }
}
