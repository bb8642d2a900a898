//! What a decision is made from: a decision request's fields with their text borrowed from the
//! body ([`DecisionInput`], [`BatchInput`]), copied only when a string holds an escape sequence.
//! The API's decoder (`crate::api::decision_body`) builds them from a body's bytes; the console
//! builds them from a typed [`DecisionRequest`]. They accept exactly what `DecisionRequest` and
//! `BatchRequest` accept, with the same value (the decoder's tests hold them together).

use std::borrow::Cow;

use serde::Deserialize;
use warden_api::decisions::{AttributeValue, Attributes, BatchRequest, DecisionRequest};
use warden_engine::{AttributeSource, AttributeValues};

use crate::service::ApiResult;

/// A text field of a decision body: borrowed from the body's text, copied only when it holds an
/// escape sequence. Accepts what a `String` accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a>(Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'a> Text<'a> {
    pub fn borrowed(text: &'a str) -> Self {
        Text(Cow::Borrowed(text))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;

        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                text: &'de str,
            ) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        // As `String` does: `deserialize_string` hands over borrowed text when there is some.
        deserializer.deserialize_string(Visitor)
    }
}

/// [`DecisionRequest`], its text borrowed: what decisions are made from. The same fields and
/// attributes, so that it accepts exactly the bodies `DecisionRequest` accepts (the tests below
/// hold the two together).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecisionInput<'a> {
    #[serde(default, borrow)]
    pub principal: Option<Text<'a>>,
    #[serde(default, borrow)]
    pub token: Option<Text<'a>>,
    #[serde(borrow)]
    pub permission: Text<'a>,
    #[serde(default, borrow)]
    pub environment: Option<Text<'a>>,
    #[serde(default)]
    pub attributes: AttributesInput<'a>,
    #[serde(default, borrow)]
    pub time: Option<Text<'a>>,
    #[serde(default)]
    pub min_revision: Option<i64>,
}

impl<'a> DecisionInput<'a> {
    pub fn borrowing(request: &'a DecisionRequest) -> Self {
        let text = |text: &'a String| Text::borrowed(text);
        DecisionInput {
            principal: request.principal.as_ref().map(text),
            token: request.token.as_ref().map(text),
            permission: text(&request.permission),
            environment: request.environment.as_ref().map(text),
            attributes: AttributesInput::Map(Cow::Borrowed(&request.attributes)),
            time: request.time.as_ref().map(text),
            min_revision: request.min_revision,
        }
    }

    pub fn owning(request: DecisionRequest) -> Self {
        let text = |text: String| Text(Cow::Owned(text));
        DecisionInput {
            principal: request.principal.map(text),
            token: request.token.map(text),
            permission: text(request.permission),
            environment: request.environment.map(text),
            attributes: AttributesInput::Map(Cow::Owned(request.attributes)),
            time: request.time.map(text),
            min_revision: request.min_revision,
        }
    }
}

/// A request's attributes: a map when serde decoded the body, the body's own text when
/// [`Scanner`] read it (no map and no copies of the strings for each decision).
#[derive(Debug)]
pub enum AttributesInput<'a> {
    Map(Cow<'a, Attributes>),
    /// In the order given. A name given twice has its last value, as in a map.
    Scanned(Vec<(&'a str, ScannedValue<'a>)>),
}

#[derive(Debug)]
pub enum ScannedValue<'a> {
    One(&'a str),
    Many(Vec<&'a str>),
}

impl Default for AttributesInput<'_> {
    fn default() -> Self {
        AttributesInput::Scanned(Vec::new())
    }
}

impl AttributesInput<'_> {
    /// The limits of [`crate::limits::check_decision_attributes`], on the attributes as given.
    pub fn check_limits(&self) -> ApiResult<()> {
        match self {
            AttributesInput::Map(map) => crate::limits::check_decision_attributes(
                map.iter()
                    .map(|(name, value)| (name.as_str(), value.values())),
            ),
            AttributesInput::Scanned(scanned) => {
                crate::limits::check_decision_attributes(scanned.iter().map(|(name, value)| {
                    let values: &[&str] = match value {
                        ScannedValue::One(one) => std::slice::from_ref(one),
                        ScannedValue::Many(many) => many,
                    };
                    (*name, values)
                }))
            }
        }
    }
}

impl AttributesInput<'_> {
    /// Visits each attribute as given, with its values (a name given twice is visited twice).
    pub fn for_each(&self, visit: &mut dyn FnMut(&str, AttributeValues<'_>)) {
        match self {
            AttributesInput::Map(map) => {
                for (name, value) in map.iter() {
                    visit(name, AttributeValues::Strings(value.values()));
                }
            }
            AttributesInput::Scanned(scanned) => {
                for (name, value) in scanned {
                    visit(
                        name,
                        AttributeValues::Borrowed(match value {
                            ScannedValue::One(one) => std::slice::from_ref(one),
                            ScannedValue::Many(many) => many,
                        }),
                    );
                }
            }
        }
    }
}

impl AttributeSource for AttributesInput<'_> {
    fn attribute(&self, name: &str) -> Option<AttributeValues<'_>> {
        match self {
            AttributesInput::Map(map) => map
                .get(name)
                .map(|value| AttributeValues::Strings(value.values())),
            AttributesInput::Scanned(scanned) => {
                let (_, value) = scanned.iter().rev().find(|(given, _)| *given == name)?;
                Some(AttributeValues::Borrowed(match value {
                    ScannedValue::One(one) => std::slice::from_ref(one),
                    ScannedValue::Many(many) => many,
                }))
            }
        }
    }
}

/// Decodes into a map. Serde decodes the untagged [`AttributeValue`] by copying each value into
/// a buffer and trying its variants in turn; this takes a string or a list of strings as they
/// come. The same values are accepted, giving the same map (a key given twice keeps its last
/// value, as in a map decoded by serde).
impl<'de> Deserialize<'de> for AttributesInput<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Map;

        impl<'de> serde::de::Visitor<'de> for Map {
            type Value = Attributes;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Attributes, A::Error> {
                let mut attributes = Attributes::new();
                while let Some(name) = map.next_key::<String>()? {
                    let value = map.next_value_seed(OneOrMany)?;
                    attributes.insert(name, value);
                }
                Ok(attributes)
            }
        }

        struct OneOrMany;

        impl<'de> serde::de::DeserializeSeed<'de> for OneOrMany {
            type Value = AttributeValue;

            fn deserialize<D: serde::Deserializer<'de>>(
                self,
                deserializer: D,
            ) -> Result<AttributeValue, D::Error> {
                deserializer.deserialize_any(self)
            }
        }

        impl<'de> serde::de::Visitor<'de> for OneOrMany {
            type Value = AttributeValue;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<AttributeValue, E> {
                Ok(AttributeValue::One(text.to_owned()))
            }

            fn visit_string<E: serde::de::Error>(self, text: String) -> Result<AttributeValue, E> {
                Ok(AttributeValue::One(text))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<AttributeValue, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<String>()? {
                    values.push(value);
                }
                Ok(AttributeValue::Many(values))
            }
        }

        deserializer
            .deserialize_map(Map)
            .map(|attributes| AttributesInput::Map(Cow::Owned(attributes)))
    }
}

/// [`BatchRequest`], its text borrowed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BatchInput<'a> {
    #[serde(borrow)]
    pub requests: Vec<DecisionInput<'a>>,
    #[serde(default)]
    pub min_revision: Option<i64>,
}

impl<'a> BatchInput<'a> {
    pub fn borrowing(batch: &'a BatchRequest) -> Self {
        BatchInput {
            requests: batch
                .requests
                .iter()
                .map(DecisionInput::borrowing)
                .collect(),
            min_revision: batch.min_revision,
        }
    }

    pub fn owning(batch: BatchRequest) -> Self {
        BatchInput {
            requests: batch
                .requests
                .into_iter()
                .map(DecisionInput::owning)
                .collect(),
            min_revision: batch.min_revision,
        }
    }
}
