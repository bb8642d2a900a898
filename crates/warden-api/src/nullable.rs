//! `null` read as "none given": Go clients send `null` for an empty slice or map, so every
//! optional list or map of a request body takes `null` as it takes an absent field.

use serde::{Deserialize, Deserializer};

/// Deserializes `null` as `T::default()`; use with `#[serde(default, deserialize_with = …)]`.
pub fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Sample {
        #[serde(default, deserialize_with = "super::or_default")]
        items: Vec<String>,
    }

    #[test]
    fn null_absent_and_given_values_are_read() {
        let read = |text: &str| serde_json::from_str::<Sample>(text).map_err(|e| e.to_string());
        assert_eq!(read(r#"{"items":null}"#), Ok(Sample { items: vec![] }));
        assert_eq!(read("{}"), Ok(Sample { items: vec![] }));
        assert_eq!(
            read(r#"{"items":["a"]}"#),
            Ok(Sample {
                items: vec!["a".to_owned()]
            })
        );
        assert_eq!(
            read(r#"{"items":1}"#),
            Err("invalid type: integer `1`, expected a sequence at line 1 column 10".to_owned())
        );
    }
}
