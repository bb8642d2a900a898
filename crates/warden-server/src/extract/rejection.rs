//! What a request that could not be decoded is told: the decoders' reports (serde's, through
//! axum's extractors) rewritten for people. A message names the field (`requests[1].permission`),
//! the line and column, what was found and what is expected — never a Rust type or a serde term
//! ("untagged enum", "struct … with 7 elements", "i64").

use std::borrow::Cow;

/// The untagged enums of the wire format, and what each accepts, in words.
const UNTAGGED: &[(&str, &str)] = &[
    ("AttributeValue", "a string or a list of strings"),
    ("ParamValue", "a string or a list of strings"),
];

/// A JSON body's decoding error (`[path: ]reason[ at line L column C]`) as a message; `syntax`
/// when the text is not JSON at all (rather than JSON of the wrong shape).
pub fn json_body(report: &str, syntax: bool) -> String {
    let (path, reason) = split_path(report);
    let (reason, position) = split_position(reason);
    let place = match position {
        Some((line, column)) => format!(" (line {line}, column {column})"),
        None => String::new(),
    };
    if syntax {
        let at = path.map(|p| format!(" in `{p}`")).unwrap_or_default();
        let what = match reason {
            "recursion limit exceeded" => {
                "values are nested more than 128 levels deep; nest them less deeply"
            }
            eof if eof.starts_with("EOF while parsing") => {
                "the body ends before the JSON document does; send the whole document"
            }
            "trailing characters" => "text follows the JSON document; send one document only",
            "expected value" => "a JSON value is expected here",
            other => other,
        };
        return format!("invalid JSON body{at}{place}: {what}");
    }
    format!("invalid JSON body: {}{place}", explain(path, reason))
}

/// A query string's decoding error as a message.
pub fn query(report: &str) -> String {
    let report = report.trim_start_matches("Failed to deserialize query string: ");
    // The path serde reports is the parameter itself, which the reason names again.
    let (_, reason) = split_path(report);
    format!(
        "invalid query: {}",
        explain_named(reason, "a parameter", "parameters")
    )
}

/// A path parameter's decoding error as a message.
pub fn path(report: &str) -> String {
    let reason = report
        .trim_start_matches("Invalid URL: ")
        .trim_start_matches("Wrong number of path arguments for `Path`. ");
    let mut letters = reason.chars();
    let reason: String = letters
        .next()
        .map(|first| first.to_lowercase().chain(letters).collect())
        .unwrap_or_default();
    format!(
        "invalid path: {}; send it percent-encoded as UTF-8",
        words(&reason)
    )
}

/// `requests[0].permission: reason` → (`Some("requests[0].permission")`, `reason`); the path cut
/// to its first 60 characters, since a deeply nested body would otherwise be quoted at length.
fn split_path(report: &str) -> (Option<Cow<'_, str>>, &str) {
    match report.split_once(": ") {
        Some((path, reason)) if !path.contains(' ') && !path.is_empty() => {
            let path = if path == "." {
                None
            } else if path.chars().count() > 60 {
                Some(Cow::Owned(format!(
                    "{}…",
                    path.chars().take(60).collect::<String>()
                )))
            } else {
                Some(Cow::Borrowed(path))
            };
            (path, reason)
        }
        _ => (None, report),
    }
}

/// `reason at line 1 column 30` → (`reason`, `Some((1, 30))`).
fn split_position(reason: &str) -> (&str, Option<(&str, &str)>) {
    if let Some((head, tail)) = reason.rsplit_once(" at line ")
        && let Some((line, column)) = tail.split_once(" column ")
        && line.chars().all(|c| c.is_ascii_digit())
        && column.chars().all(|c| c.is_ascii_digit())
    {
        return (head, Some((line, column)));
    }
    (reason, None)
}

/// The value at `path` (or the body) and what was wrong with it.
fn explain(path: Option<Cow<'_, str>>, reason: &str) -> String {
    let subject = match &path {
        Some(path) => format!("`{path}`"),
        None => "the body".to_owned(),
    };
    // The object an unknown or duplicate field belongs to (the path ends with the field).
    let container = || match path.as_deref().and_then(|p| p.rsplit_once('.')) {
        Some((parent, _)) => format!("`{parent}`"),
        None => "the body".to_owned(),
    };
    if let Some(rest) = reason.strip_prefix("unknown field ") {
        let (field, fields) = rest.split_once(", ").unwrap_or((rest, ""));
        let message = unknown(field, fields);
        return match path.as_deref().and_then(|p| p.rsplit_once('.')) {
            Some((parent, _)) => message.replacen(';', &format!(" in `{parent}`;"), 1),
            None => message,
        };
    }
    if let Some(field) = reason.strip_prefix("missing field ") {
        // A missing field is reported at the object that lacks it.
        return format!("{subject} lacks the required field {field}; add it");
    }
    if let Some(field) = reason.strip_prefix("duplicate field ") {
        return format!(
            "{} gives the field {field} twice; give it once",
            container()
        );
    }
    if let Some(rest) = reason.strip_prefix("unknown variant ") {
        let (value, values) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return format!(
            "{subject} is {value}, which is not {}",
            values.trim_start_matches("one of ")
        )
        .replace("not `", "not one of `");
    }
    if let Some(name) = reason.strip_prefix("data did not match any variant of untagged enum ") {
        let accepted = UNTAGGED
            .iter()
            .find(|(enum_name, _)| *enum_name == name.trim())
            .map_or("a value of another kind", |(_, words)| words);
        return format!("{subject} must be {accepted}");
    }
    if let Some(rest) = reason
        .strip_prefix("invalid type: ")
        .or_else(|| reason.strip_prefix("invalid value: "))
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!(
            "{subject} must be {}, not {}",
            expected_words(expected),
            found_words(found)
        );
    }
    if let Some(rest) = reason.strip_prefix("invalid length ")
        && let Some((length, expected)) = rest.split_once(", expected ")
    {
        if expected.starts_with("struct ") || expected.starts_with("a map") {
            return format!("{subject} must be a JSON object, not a list");
        }
        return format!(
            "{subject} must be {}, not a list of {length}",
            expected_words(expected)
        );
    }
    format!("{subject}: {}", words(reason))
}

/// `unknown field` for a query: the same rewriting, with `noun`s instead of fields.
fn explain_named(reason: &str, one: &str, many: &str) -> String {
    if let Some(rest) = reason.strip_prefix("unknown field ") {
        let (field, fields) = rest.split_once(", ").unwrap_or((rest, ""));
        return unknown(field, fields)
            .replace(
                "unknown field",
                &format!("unknown {}", one.trim_start_matches("a ")),
            )
            .replace("the fields are", &format!("the {many} are"))
            .replace("no fields", &format!("no {many}"));
    }
    if let Some(field) = reason.strip_prefix("missing field ") {
        return format!("{one} {field} is required; add it");
    }
    words(reason).into_owned()
}

/// `` `user` `` with serde's `expected one of `a`, `b`` → a sentence that lists what is known.
fn unknown(field: &str, fields: &str) -> String {
    let known = fields
        .trim_start_matches("expected one of ")
        .trim_start_matches("expected ");
    if known.is_empty() || fields.starts_with("there are no fields") {
        return format!("unknown field {field}; it takes no fields");
    }
    format!("unknown field {field}; the fields are {known}")
}

/// serde's name of an expected value, in JSON's words.
fn expected_words(expected: &str) -> Cow<'_, str> {
    let expected = expected.trim();
    let plain = match expected {
        "a string" | "a borrowed string" | "a character" => "a string",
        "a boolean" => "`true` or `false`",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer",
        "f32" | "f64" => "a number",
        "a sequence" | "a tuple" => "a list",
        "a map" => "a JSON object",
        "unit" => "null",
        _ if expected.starts_with("struct ") || expected.starts_with("a map") => "a JSON object",
        _ if expected.starts_with("tuple struct ") || expected.starts_with("a tuple of") => {
            "a list"
        }
        _ if expected.starts_with("enum ") || expected.starts_with("variant ") => {
            "one of the values the schema lists (`/openapi.json`)"
        }
        _ => return words(expected),
    };
    Cow::Borrowed(plain)
}

/// serde's name of a value found (`integer `5``, `map`, …), in JSON's words.
fn found_words(found: &str) -> Cow<'_, str> {
    let found = found.trim();
    let plain = match found {
        "map" => "an object",
        "sequence" => "a list",
        "null" | "unit value" => "null",
        _ => {
            for (serde_name, json_name) in [
                ("integer ", "the integer "),
                ("floating point ", "the number "),
                ("string ", "the string "),
                ("boolean ", ""),
            ] {
                if let Some(value) = found.strip_prefix(serde_name) {
                    return Cow::Owned(format!("{json_name}{value}"));
                }
            }
            return words(found);
        }
    };
    Cow::Borrowed(plain)
}

/// Any other report, with the names of Rust types replaced by what they are in JSON.
fn words(text: &str) -> Cow<'_, str> {
    if ![
        "struct ",
        "enum ",
        "a sequence",
        "a map",
        "i64",
        "u64",
        "usize",
    ]
    .iter()
    .any(|term| text.contains(term))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut tokens = text.split(' ').peekable();
    while let Some(token) = tokens.next() {
        let replacement = match token {
            "struct" | "enum" => {
                // The type's name follows; neither is the caller's business.
                tokens.next();
                if token == "struct" {
                    "an object"
                } else {
                    "a listed value"
                }
            }
            "i64" | "i32" | "usize" | "u64" | "u32" => "an integer",
            "sequence" => "list",
            "map" => "object",
            other => other,
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(replacement);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_errors_name_the_field_and_the_json_kinds() {
        assert_eq!(
            json_body(
                "requests[5].permission: invalid type: integer `5`, expected a string at line 1 column 30",
                false
            ),
            "invalid JSON body: `requests[5].permission` must be a string, not the integer `5` (line 1, column 30)"
        );
        assert_eq!(
            json_body(
                "invalid length 7, expected struct DecisionRequest with 7 elements at line 1 column 2",
                false
            ),
            "invalid JSON body: the body must be a JSON object, not a list (line 1, column 2)"
        );
        assert_eq!(
            json_body(
                "attributes.a: data did not match any variant of untagged enum AttributeValue at line 1 column 9",
                false
            ),
            "invalid JSON body: `attributes.a` must be a string or a list of strings (line 1, column 9)"
        );
        assert_eq!(
            json_body("invalid type: map, expected u64 at line 1 column 1", false),
            "invalid JSON body: the body must be a non-negative integer, not an object (line 1, column 1)"
        );
    }

    #[test]
    fn unknown_and_missing_fields_say_where_and_what_is_known() {
        assert_eq!(
            json_body(
                "requests[1].user: unknown field `user`, expected one of `principal`, `token` at line 1 column 9",
                false
            ),
            "invalid JSON body: unknown field `user` in `requests[1]`; the fields are `principal`, `token` (line 1, column 9)"
        );
        assert_eq!(
            json_body("missing field `permission` at line 1 column 2", false),
            "invalid JSON body: the body lacks the required field `permission`; add it (line 1, column 2)"
        );
        assert_eq!(
            json_body(
                "kind: unknown variant `robot`, expected one of `user`, `group` at line 1 column 9",
                false
            ),
            "invalid JSON body: `kind` is `robot`, which is not one of `user`, `group` (line 1, column 9)"
        );
        assert_eq!(
            query(
                "Failed to deserialize query string: unknown field `x`, expected one of `page`, `size`"
            ),
            "invalid query: unknown parameter `x`; the parameters are `page`, `size`"
        );
    }

    #[test]
    fn text_that_is_not_json_is_located() {
        assert_eq!(
            json_body(
                "[0].name: invalid unicode code point at line 1 column 12",
                true
            ),
            "invalid JSON body in `[0].name` (line 1, column 12): invalid unicode code point"
        );
        assert_eq!(
            json_body("expected value at line 1 column 1", true),
            "invalid JSON body (line 1, column 1): a JSON value is expected here"
        );
        assert_eq!(
            json_body("EOF while parsing an object at line 1 column 9", true),
            "invalid JSON body (line 1, column 9): the body ends before the JSON document does; \
             send the whole document"
        );
        assert_eq!(
            json_body("trailing characters at line 1 column 3", true),
            "invalid JSON body (line 1, column 3): text follows the JSON document; send one \
             document only"
        );
        assert_eq!(
            path("Invalid URL: Invalid UTF-8 in `groupUuid`"),
            "invalid path: invalid UTF-8 in `groupUuid`; send it percent-encoded as UTF-8"
        );
    }

    #[test]
    fn nothing_rust_is_left_in_other_reports() {
        assert_eq!(
            words("expected struct Thing or a sequence"),
            "expected an object or a list"
        );
    }
}
