//! What the client commands read and write besides HTTP: levels (`account`, `environment:ID`,
//! `global`), `name=value` pairs, and fields of the API's JSON read without panicking.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};
use warden_api::bindings::ParameterValue;

/// A level of the API: `account`, `environment:ID` or `global`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Global,
    Account,
    Environment(String),
}

impl std::str::FromStr for Level {
    type Err = String;

    fn from_str(text: &str) -> Result<Level, String> {
        match text {
            "account" => Ok(Level::Account),
            "global" => Ok(Level::Global),
            _ => match text.strip_prefix("environment:") {
                Some(id) if !id.is_empty() => Ok(Level::Environment(id.to_owned())),
                _ => Err(format!(
                    "`{text}` is not a level; use `account`, `environment:ID` or `global`"
                )),
            },
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::Global => f.write_str("global"),
            Level::Account => f.write_str("account"),
            Level::Environment(id) => write!(f, "environment:{id}"),
        }
    }
}

/// `name=value`, for `--param` and `--attr`.
pub fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("`{text}` is not `name=value`")),
    }
}

/// Pairs as a JSON object: a name given once is a string, a name repeated is a list.
pub fn pairs_object(pairs: &[(String, String)]) -> Value {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, value) in pairs {
        grouped.entry(key).or_default().push(value);
    }
    let map: serde_json::Map<String, Value> = grouped
        .into_iter()
        .map(|(key, values)| {
            let value = match values.as_slice() {
                [one] => json!(one),
                many => json!(many),
            };
            (key.to_owned(), value)
        })
        .collect();
    Value::Object(map)
}

/// Pairs as typed attribute or parameter values: a name given once is one value, a name
/// repeated is a list.
pub fn pairs_map(pairs: &[(String, String)]) -> BTreeMap<String, ParameterValue> {
    let mut grouped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in pairs {
        grouped.entry(key.clone()).or_default().push(value.clone());
    }
    grouped
        .into_iter()
        .map(|(key, mut values)| {
            let value = match (values.len(), values.pop()) {
                (1, Some(one)) => ParameterValue::One(one),
                (_, last) => {
                    values.extend(last);
                    ParameterValue::Many(values)
                }
            };
            (key, value)
        })
        .collect()
}

/// `team="ops"`, `teams=("a", "b")`, space-separated.
pub fn describe_pairs(object: &Value) -> String {
    let Some(map) = object.as_object() else {
        return String::new();
    };
    map.iter()
        .map(|(key, value)| match value {
            Value::Array(values) => {
                let list: Vec<String> = values.iter().map(quoted).collect();
                format!("{key}=({})", list.join(", "))
            }
            other => format!("{key}={}", quoted(other)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn quoted(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

static NULL: Value = Value::Null;

/// A field of a JSON object, or `null`.
pub fn field<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(&NULL)
}

/// A string field of a JSON object, or `""`.
pub fn text(value: &Value, key: &str) -> String {
    field(value, key).as_str().unwrap_or_default().to_owned()
}

/// The items of a JSON array field (none when it is missing).
pub fn items<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    field(value, key).as_array().map_or(&[], Vec::as_slice)
}

/// Sets a field of a JSON object (no-op on anything else).
pub fn set(value: &mut Value, key: &str, field: Value) {
    if let Some(object) = value.as_object_mut() {
        object.insert(key.to_owned(), field);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_and_print() {
        for text in ["account", "global", "environment:env-prod"] {
            assert_eq!(text.parse::<Level>().unwrap().to_string(), text);
        }
        assert!("environment:".parse::<Level>().is_err());
        assert!("env-prod".parse::<Level>().is_err());
    }

    #[test]
    fn repeated_names_build_lists() {
        let pairs = vec![
            key_value("team=ops").unwrap(),
            key_value("zone=a").unwrap(),
            key_value("zone=b=c").unwrap(),
        ];
        let object = pairs_object(&pairs);
        assert_eq!(object, json!({ "team": "ops", "zone": ["a", "b=c"] }));
        assert_eq!(
            describe_pairs(&object),
            "team=\"ops\" zone=(\"a\", \"b=c\")"
        );
        assert!(key_value("=x").is_err());
        assert!(key_value("x").is_err());
    }
}
