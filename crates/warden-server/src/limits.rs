//! Limits of the public API reference (§3.10) and of Warden's own inputs, with the checks that
//! turn an oversize or malformed input into a 400 naming the limit.
//!
//! Bind parameters ([`check_parameters`]) and the attributes of a decision request
//! ([`check_decision_attributes`]) are bounded so that one decision stays cheap: a `MATCH`
//! condition compares each of its patterns (at most 1,000: a policy list, or a list parameter)
//! with each value the request gives its attribute, so its cost is patterns × values × the
//! length compared (docs/security.md has the arithmetic).

use std::collections::BTreeMap;

use serde_json::json;
use warden_engine::ParamValue;

use crate::error::{ApiError, ApiResult};

pub const MAX_USERS: usize = 10_000;
pub const MAX_GROUPS: usize = 5_000;
pub const MAX_GROUPS_PER_USER: usize = 8_000;
pub const MAX_POLICIES: usize = 200;
pub const MAX_BINDINGS_PER_LEVEL: usize = 30_000;
pub const MAX_BOUNDARIES: usize = 2_000;
pub const MAX_PLATFORM_TOKENS_PER_USER: usize = 10;
pub const MAX_OAUTH_CLIENTS: usize = 200;
/// Secrets of one OAuth client that are valid at the same time (rotation needs two).
pub const MAX_ACTIVE_CLIENT_SECRETS: usize = 5;
/// Revoked secrets kept (without their hashes) for the record, per client.
pub const MAX_REVOKED_CLIENT_SECRETS: usize = 20;
/// Unexpired access tokens of one OAuth client; more must wait for some to expire.
pub const MAX_LIVE_ACCESS_TOKENS_PER_CLIENT: usize = 1_000;
/// Permissions in the scopes of one token or client.
pub const MAX_SCOPES: usize = 500;
pub const MAX_BATCH: usize = 1_000;

/// Parameters of one binding. A policy rarely references more than a handful; a hundred leaves
/// room and keeps a binding's record small.
pub const MAX_PARAMETERS: usize = 100;
/// Values of one list parameter: the same as a list written in a policy
/// ([`warden_policy::parser::MAX_LIST_VALUES`]), which such a parameter fills.
pub const MAX_PARAMETER_VALUES: usize = warden_policy::parser::MAX_LIST_VALUES;
/// Characters of one parameter value: identifiers, names and prefixes are far shorter, and a
/// value may become a `MATCH` pattern compared with every value of a request.
pub const MAX_PARAMETER_VALUE_CHARS: usize = 1_000;

/// Values a decision request may give one attribute: with at most 1,000 patterns in a `MATCH`
/// list, 20 values are 20,000 comparisons, about a millisecond.
pub const MAX_ATTRIBUTE_VALUES: usize = 20;
/// Values a decision request may give all its attributes together.
pub const MAX_DECISION_VALUES: usize = 100;
/// Attributes of one decision request (each is looked up by every condition on it).
pub const MAX_DECISION_ATTRIBUTES: usize = 50;
/// Bytes of one attribute value: each comparison with a pattern reads up to the whole value.
pub const MAX_ATTRIBUTE_VALUE_BYTES: usize = 256;

/// A binding's parameters within [`MAX_PARAMETERS`], [`MAX_PARAMETER_VALUES`] values per list and
/// [`MAX_PARAMETER_VALUE_CHARS`] characters per value: 400 naming the parameter and the limit.
pub fn check_parameters(parameters: &BTreeMap<String, ParamValue>) -> ApiResult<()> {
    if parameters.len() > MAX_PARAMETERS {
        return Err(ApiError::invalid(format!(
            "the binding has {} parameters; at most {MAX_PARAMETERS} are allowed",
            parameters.len()
        ))
        .with_details(json!({ "limit": "parameters per binding", "max": MAX_PARAMETERS })));
    }
    for (name, value) in parameters {
        let shown: String = name.chars().take(100).collect();
        let values = value.values();
        if values.len() > MAX_PARAMETER_VALUES {
            return Err(ApiError::invalid(format!(
                "parameter `{shown}` has {} values; at most {MAX_PARAMETER_VALUES} are allowed, as in a policy list",
                values.len()
            ))
            .with_details(json!({ "parameter": shown, "limit": "values per parameter", "max": MAX_PARAMETER_VALUES })));
        }
        if let Some(long) = values
            .iter()
            .map(|v| v.chars().count())
            .find(|n| *n > MAX_PARAMETER_VALUE_CHARS)
        {
            return Err(ApiError::invalid(format!(
                "a value of parameter `{shown}` is {long} characters long; at most {MAX_PARAMETER_VALUE_CHARS} are allowed"
            ))
            .with_details(json!({ "parameter": shown, "limit": "characters per parameter value", "max": MAX_PARAMETER_VALUE_CHARS })));
        }
    }
    Ok(())
}

/// A decision request's attributes, each given as `(name, values)`, within
/// [`MAX_DECISION_ATTRIBUTES`], [`MAX_ATTRIBUTE_VALUES`] per attribute, [`MAX_DECISION_VALUES`] in
/// all and [`MAX_ATTRIBUTE_VALUE_BYTES`] per value: 400 naming the attribute and the limit.
pub fn check_decision_attributes<'a, V: AsRef<str> + 'a>(
    attributes: impl ExactSizeIterator<Item = (&'a str, &'a [V])>,
) -> ApiResult<()> {
    let count = attributes.len();
    if count > MAX_DECISION_ATTRIBUTES {
        return Err(ApiError::invalid(format!(
            "the request gives {count} attributes; at most {MAX_DECISION_ATTRIBUTES} are allowed"
        ))
        .with_details(
            json!({ "limit": "attributes per decision", "max": MAX_DECISION_ATTRIBUTES }),
        ));
    }
    let mut total = 0;
    for (name, values) in attributes {
        let shown: String = name.chars().take(100).collect();
        if values.len() > MAX_ATTRIBUTE_VALUES {
            return Err(ApiError::invalid(format!(
                "attribute `{shown}` has {} values; a decision request may give an attribute at most {MAX_ATTRIBUTE_VALUES}",
                values.len()
            ))
            .with_details(json!({ "attribute": shown, "limit": "values per attribute", "max": MAX_ATTRIBUTE_VALUES })));
        }
        if let Some(long) = values
            .iter()
            .map(|v| v.as_ref().len())
            .find(|n| *n > MAX_ATTRIBUTE_VALUE_BYTES)
        {
            return Err(ApiError::invalid(format!(
                "a value of attribute `{shown}` is {long} bytes long; at most {MAX_ATTRIBUTE_VALUE_BYTES} are allowed"
            ))
            .with_details(json!({ "attribute": shown, "limit": "bytes per attribute value", "max": MAX_ATTRIBUTE_VALUE_BYTES })));
        }
        total += values.len();
        if total > MAX_DECISION_VALUES {
            return Err(ApiError::invalid(format!(
                "the request gives more than {MAX_DECISION_VALUES} attribute values in all (reached at attribute `{shown}`)"
            ))
            .with_details(json!({ "attribute": shown, "limit": "attribute values per decision", "max": MAX_DECISION_VALUES })));
        }
    }
    Ok(())
}

/// A text field's length in characters, within `min..=max`, without control characters.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> ApiResult<()> {
    let length = value.chars().count();
    if value.trim().chars().count() < min {
        return Err(ApiError::invalid(format!("`{field}` must not be empty")));
    }
    if length > max {
        return Err(ApiError::invalid(format!(
            "`{field}` is {length} characters long; at most {max} are allowed"
        ))
        .with_details(json!({ "field": field, "max": max })));
    }
    if field != "description" && value.chars().any(char::is_control) {
        return Err(ApiError::invalid(format!(
            "`{field}` must not contain control characters"
        )));
    }
    Ok(())
}

/// The name of a group, policy or boundary: [`check_text`] (1–200 characters), and no invisible
/// character ([`is_invisible`]). Such names are unique ignoring case; an invisible character
/// would make a second `Admins` that looks exactly like the first.
pub fn check_name(value: &str) -> ApiResult<()> {
    check_text("name", value, 1, 200)?;
    check_visible("name", value)
}

/// Refuses a value with an invisible character ([`is_invisible`]), naming it.
pub fn check_visible(field: &str, value: &str) -> ApiResult<()> {
    match value.chars().find(|c| is_invisible(*c)) {
        None => Ok(()),
        Some(c) => Err(ApiError::invalid(format!(
            "`{field}` must not contain invisible characters (found U+{:04X})",
            u32::from(c)
        ))
        .with_details(json!({ "field": field, "character": format!("U+{:04X}", u32::from(c)) }))),
    }
}

/// Characters that show nothing or reorder the text around them: zero-width spaces and joiners,
/// bidirectional controls, soft hyphen, word joiner and invisible operators, Hangul fillers, the
/// byte-order mark, variation selectors and tag characters. In an identifier they only ever
/// serve to make two different values look the same.
pub fn is_invisible(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F
            | 0x1160
            | 0x17B4
            | 0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFFB
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Ids in paths: 1–64 characters of `[A-Za-z0-9._@-]` (no `/`, no `..`, no spaces).
pub fn check_id(field: &str, value: &str) -> ApiResult<()> {
    let valid = !value.is_empty()
        && value.len() <= 64
        && value != "."
        && value != ".."
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "`{field}` must be 1–64 characters of letters, digits, `.`, `_`, `@` and `-`"
        )))
    }
}

/// A limit reached: 400 naming it.
pub fn limit_reached(limit: &str, max: usize) -> ApiError {
    ApiError::invalid(format!("the limit of {max} {limit} is reached"))
        .with_details(json!({ "limit": limit, "max": max }))
}
