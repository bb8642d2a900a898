//! HTML building blocks of the console. Every value that is not markup made here goes through
//! [`esc`]; helpers that take text escape it themselves, helpers that take markup say so by
//! naming the parameter `*_html`.

use std::fmt::Write as _;

use serde_json::Value;

/// Escapes text for HTML element content and double- or single-quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a value for a URL path segment or query value.
pub fn url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A field of a JSON value, or `null`.
pub fn at<'a>(value: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    value.get(key).unwrap_or(&NULL)
}

/// A string field of a JSON value, or "".
pub fn s<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A table with a header row; each cell carries its column's name for the narrow layout, where
/// rows become blocks. Cells are markup.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<String>], empty: &str) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", esc(empty));
    }
    let mut out = String::from("<table>");
    if !caption.is_empty() {
        let _ = write!(out, "<caption>{}</caption>", esc(caption));
    }
    out.push_str("<thead><tr>");
    for header in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(header));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for (i, cell_html) in row.iter().enumerate() {
            let label = headers.get(i).copied().unwrap_or_default();
            let _ = write!(out, "<td data-label=\"{}\">{cell_html}</td>", esc(label));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// `<input type="hidden">`.
pub fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        esc(name),
        esc(value)
    )
}

/// A labelled one-line input. `extra` is trusted attribute markup (`required maxlength="200"`).
pub fn input(id: &str, label: &str, name: &str, value: &str, extra: &str, hint: &str) -> String {
    let described = hint_attr(id, hint);
    format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label><input id=\"{id}\" name=\"{name}\" value=\"{value}\" {extra}{described}>{hint_html}</div>",
        id = esc(id),
        label = esc(label),
        name = esc(name),
        value = esc(value),
        hint_html = hint_html(id, hint),
    )
}

/// A labelled text area.
pub fn textarea(
    id: &str,
    label: &str,
    name: &str,
    value: &str,
    rows: u32,
    extra: &str,
    hint: &str,
) -> String {
    let described = hint_attr(id, hint);
    format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label><textarea id=\"{id}\" name=\"{name}\" rows=\"{rows}\" {extra}{described}>{value}</textarea>{hint_html}</div>",
        id = esc(id),
        label = esc(label),
        name = esc(name),
        value = esc(value),
        hint_html = hint_html(id, hint),
    )
}

/// A labelled select; `options` are `(value, text)`.
pub fn select(
    id: &str,
    label: &str,
    name: &str,
    options: &[(String, String)],
    selected: &str,
    extra: &str,
) -> String {
    let mut out = format!(
        "<div class=\"field\"><label for=\"{id}\">{label}</label><select id=\"{id}\" name=\"{name}\" {extra}>",
        id = esc(id),
        label = esc(label),
        name = esc(name),
    );
    for (value, text) in options {
        let chosen = if value == selected { " selected" } else { "" };
        let _ = write!(
            out,
            "<option value=\"{}\"{chosen}>{}</option>",
            esc(value),
            esc(text)
        );
    }
    out.push_str("</select></div>");
    out
}

/// A group of checkboxes in a fieldset; `options` are `(value, text, checked)`.
pub fn checkboxes(
    id: &str,
    legend: &str,
    name: &str,
    options: &[(String, String, bool)],
    empty: &str,
) -> String {
    let mut out = format!(
        "<fieldset class=\"checks\"><legend>{}</legend>",
        esc(legend)
    );
    if options.is_empty() {
        let _ = write!(out, "<p class=\"empty\">{}</p>", esc(empty));
    }
    for (i, (value, text, checked)) in options.iter().enumerate() {
        let checked = if *checked { " checked" } else { "" };
        let _ = write!(
            out,
            "<div class=\"check\"><input type=\"checkbox\" id=\"{id}-{i}\" name=\"{name}\" value=\"{value}\"{checked}><label for=\"{id}-{i}\">{text}</label></div>",
            id = esc(id),
            name = esc(name),
            value = esc(value),
            text = esc(text),
        );
    }
    out.push_str("</fieldset>");
    out
}

fn hint_attr(id: &str, hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(" aria-describedby=\"{}-hint\"", esc(id))
    }
}

fn hint_html(id: &str, hint: &str) -> String {
    if hint.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"hint\" id=\"{}-hint\">{}</p>",
            esc(id),
            esc(hint)
        )
    }
}

/// A form that posts to `action` with the session's CSRF token; `inner_html` is its content.
pub fn form(action: &str, csrf: &str, class: &str, inner_html: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\" class=\"{}\">{}{inner_html}</form>",
        esc(action),
        esc(class),
        hidden("csrf", csrf)
    )
}

/// A one-button form (delete, deactivate, …).
pub fn button_form(action: &str, csrf: &str, label: &str, class: &str) -> String {
    form(
        action,
        csrf,
        "inline",
        &format!(
            "<button type=\"submit\" class=\"{}\">{}</button>",
            esc(class),
            esc(label)
        ),
    )
}

/// A submit button with a name and value, so that one form can do several things.
pub fn submit(label: &str, name: &str, value: &str, class: &str) -> String {
    format!(
        "<button type=\"submit\" name=\"{}\" value=\"{}\" class=\"{}\">{}</button>",
        esc(name),
        esc(value),
        esc(class),
        esc(label)
    )
}

/// A link.
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// Inline code.
pub fn code(text: &str) -> String {
    format!("<code>{}</code>", esc(text))
}

/// A status badge: `ok`, `bad` or `neutral`.
pub fn badge(text: &str, tone: &str) -> String {
    format!("<span class=\"badge {}\">{}</span>", esc(tone), esc(text))
}

/// A note that the signed-in principal may not see or do something, naming the permission.
pub fn not_permitted(what: &str, permission: &str) -> String {
    format!(
        "<p class=\"note\">You may not {} (it needs <code>{}</code>).</p>",
        esc(what),
        esc(permission)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(url("a b/c@d"), "a%20b%2Fc%40d");
        let table = table("", &["Name"], &[vec![esc("<b>")]], "none");
        assert!(table.contains("<td data-label=\"Name\">&lt;b&gt;</td>"));
    }
}
