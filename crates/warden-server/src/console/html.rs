//! The console's markup components, written with maud: every interpolated value is escaped by
//! the template engine, so no page builds HTML from strings. Components return [`Markup`];
//! parameters typed `Markup` take markup made by other components, every `&str` is text.
//!
//! What this module does not own: the page layout and flash messages ([`super::session`]).

use std::fmt::Write as _;

use maud::{Markup, html};
use serde_json::Value;

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
/// rows become blocks.
pub fn table(caption: &str, headers: &[&str], rows: &[Vec<Markup>], empty: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p.empty { (empty) }
        } @else {
            table {
                @if !caption.is_empty() { caption { (caption) } }
                thead { tr { @for header in headers { th scope="col" { (header) } } } }
                tbody {
                    @for row in rows {
                        tr {
                            @for (i, cell) in row.iter().enumerate() {
                                td data-label=(headers.get(i).copied().unwrap_or_default()) { (cell) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Markup items one after the other, with `separator` between them.
pub fn joined(items: &[Markup], separator: Markup) -> Markup {
    html! {
        @for (i, item) in items.iter().enumerate() {
            @if i > 0 { (separator) }
            (item)
        }
    }
}

/// `<input type="hidden">`.
pub fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

/// The optional attributes of a form control, built by chaining: `Attrs::new().required()`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Attrs {
    kind: Option<&'static str>,
    required: bool,
    min_length: Option<usize>,
    max_length: Option<usize>,
    min: Option<i64>,
    max: Option<i64>,
    autocomplete: Option<&'static str>,
    list: Option<&'static str>,
    placeholder: Option<&'static str>,
    code: bool,
    verbatim: bool,
    check: Option<&'static str>,
    handle_preview: Option<&'static str>,
}

impl Attrs {
    pub fn new() -> Self {
        Self::default()
    }

    /// The input's `type` (text when not set).
    pub fn kind(self, kind: &'static str) -> Self {
        Self {
            kind: Some(kind),
            ..self
        }
    }

    pub fn required(self) -> Self {
        Self {
            required: true,
            ..self
        }
    }

    pub fn min_length(self, chars: usize) -> Self {
        Self {
            min_length: Some(chars),
            ..self
        }
    }

    pub fn max_length(self, chars: usize) -> Self {
        Self {
            max_length: Some(chars),
            ..self
        }
    }

    /// The bounds of a number input.
    pub fn range(self, min: i64, max: Option<i64>) -> Self {
        Self {
            min: Some(min),
            max,
            ..self
        }
    }

    pub fn autocomplete(self, value: &'static str) -> Self {
        Self {
            autocomplete: Some(value),
            ..self
        }
    }

    /// Suggestions from the `<datalist>` of this id.
    pub fn list(self, id: &'static str) -> Self {
        Self {
            list: Some(id),
            ..self
        }
    }

    pub fn placeholder(self, text: &'static str) -> Self {
        Self {
            placeholder: Some(text),
            ..self
        }
    }

    /// A field holding code: monospace, no spell checking, no capitalisation.
    pub fn code(self) -> Self {
        Self { code: true, ..self }
    }

    /// A field typed exactly (a name, a time): no spell checking.
    pub fn verbatim(self) -> Self {
        Self {
            verbatim: true,
            ..self
        }
    }

    /// A policy-language field checked as one types (`policy` or `boundary`), its diagnostics
    /// shown in the element `#diagnostics` (console.js).
    pub fn checked_as(self, language: &'static str) -> Self {
        Self {
            check: Some(language),
            ..self.code()
        }
    }

    /// A field whose handle preview console.js shows in the element of this id.
    pub fn handle_preview(self, target: &'static str) -> Self {
        Self {
            handle_preview: Some(target),
            ..self
        }
    }

    fn spellcheck(&self) -> Option<&'static str> {
        (self.code || self.verbatim || self.kind == Some("password")).then_some("false")
    }

    fn autocapitalize(&self) -> Option<&'static str> {
        self.code.then_some("off")
    }

    fn class(&self) -> Option<&'static str> {
        self.code.then_some("code")
    }
}

/// The `aria-describedby` of a control: its hint, or the diagnostics it is checked into.
fn described_by(id: &str, hint: &str, attrs: &Attrs) -> Option<String> {
    if attrs.check.is_some() {
        Some("diagnostics".to_owned())
    } else if hint.is_empty() {
        None
    } else {
        Some(format!("{id}-hint"))
    }
}

fn hint(id: &str, hint: &str) -> Markup {
    html! {
        @if !hint.is_empty() { p.hint id={ (id) "-hint" } { (hint) } }
    }
}

/// A labelled one-line input.
pub fn input(
    id: &str,
    label: &str,
    name: &str,
    value: &str,
    attrs: Attrs,
    hint_text: &str,
) -> Markup {
    let a = attrs;
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) value=(value) type=[a.kind] required[a.required]
                minlength=[a.min_length] maxlength=[a.max_length]
                min=[a.min] max=[a.max] autocomplete=[a.autocomplete] list=[a.list]
                placeholder=[a.placeholder] class=[a.class()] spellcheck=[a.spellcheck()]
                autocapitalize=[a.autocapitalize()] data-handle-preview=[a.handle_preview]
                aria-describedby=[described_by(id, hint_text, &a)];
            (hint(id, hint_text))
        }
    }
}

/// A labelled text area.
pub fn textarea(
    id: &str,
    label: &str,
    name: &str,
    value: &str,
    rows: u32,
    attrs: Attrs,
    hint_text: &str,
) -> Markup {
    let a = attrs;
    html! {
        div.field {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows=(rows) required[a.required]
                maxlength=[a.max_length] placeholder=[a.placeholder] class=[a.class()]
                spellcheck=[a.spellcheck()] autocapitalize=[a.autocapitalize()]
                data-check=[a.check] data-target=[a.check.map(|_| "diagnostics")]
                aria-describedby=[described_by(id, hint_text, &a)] { (value) }
            (hint(id, hint_text))
        }
    }
}

/// A labelled select; `options` are `(value, text)`.
pub fn select(
    id: &str,
    label: &str,
    name: &str,
    options: &[(String, String)],
    selected: &str,
    attrs: Attrs,
) -> Markup {
    html! {
        div.field {
            label for=(id) { (label) }
            select id=(id) name=(name) required[attrs.required] {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        }
    }
}

/// A group of checkboxes in a fieldset; `options` are `(value, text, checked)`.
pub fn checkboxes(
    id: &str,
    legend: &str,
    name: &str,
    options: &[(String, String, bool)],
    empty: &str,
) -> Markup {
    html! {
        fieldset.checks {
            legend { (legend) }
            @if options.is_empty() { p.empty { (empty) } }
            @for (i, (value, text, checked)) in options.iter().enumerate() {
                div.check {
                    input type="checkbox" id={ (id) "-" (i) } name=(name) value=(value) checked[*checked];
                    label for={ (id) "-" (i) } { (text) }
                }
            }
        }
    }
}

/// A form that posts to `action` with the session's CSRF token.
pub fn form(action: &str, csrf: &str, class: &str, inner: Markup) -> Markup {
    html! {
        form method="post" action=(action) class=(class) {
            (hidden("csrf", csrf))
            (inner)
        }
    }
}

/// A one-button form (delete, deactivate, …).
pub fn button_form(action: &str, csrf: &str, label: &str, class: &str) -> Markup {
    form(
        action,
        csrf,
        "inline",
        html! { button type="submit" class=(class) { (label) } },
    )
}

/// A submit button with a name and value, so that one form can do several things.
pub fn submit(label: &str, name: &str, value: &str, class: &str) -> Markup {
    html! { button type="submit" name=(name) value=(value) class=(class) { (label) } }
}

/// A link.
pub fn link(href: &str, text: &str) -> Markup {
    html! { a href=(href) { (text) } }
}

/// Inline code.
pub fn code(text: &str) -> Markup {
    html! { code { (text) } }
}

/// A status badge: `ok`, `bad`, `warn` or `neutral`.
pub fn badge(text: &str, tone: &str) -> Markup {
    html! { span class={ "badge " (tone) } { (text) } }
}

/// A count in a heading's badge.
pub fn count(n: usize) -> Markup {
    badge(&n.to_string(), "neutral")
}

/// Text that stands for nothing in a table cell ("none").
pub fn none() -> Markup {
    html! { span.empty { "none" } }
}

/// A note that the signed-in principal may not see or do something, naming the permission.
pub fn not_permitted(what: &str, permission: &str) -> Markup {
    html! {
        p.note { "You may not " (what) " (it needs " code { (permission) } ")." }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert('x')</script> & \"y\"";
    const ESCAPED: &str = "&lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;y&quot;";

    #[test]
    fn components_escape_text_and_attribute_values() {
        assert_eq!(url("a b/c@d"), "a%20b%2Fc%40d");
        let table = table(
            HOSTILE,
            &[HOSTILE],
            &[vec![code(HOSTILE), link(HOSTILE, HOSTILE)]],
            "none",
        )
        .into_string();
        assert_eq!(
            table,
            format!(
                "<table><caption>{ESCAPED}</caption><thead><tr><th scope=\"col\">{ESCAPED}</th></tr></thead><tbody><tr><td data-label=\"{ESCAPED}\"><code>{ESCAPED}</code></td><td data-label=\"\"><a href=\"{ESCAPED}\">{ESCAPED}</a></td></tr></tbody></table>"
            )
        );
        let field = input(
            "n",
            HOSTILE,
            "name",
            HOSTILE,
            Attrs::new().required(),
            HOSTILE,
        )
        .into_string();
        assert_eq!(
            field,
            format!(
                "<div class=\"field\"><label for=\"n\">{ESCAPED}</label><input id=\"n\" name=\"name\" value=\"{ESCAPED}\" required aria-describedby=\"n-hint\"><p class=\"hint\" id=\"n-hint\">{ESCAPED}</p></div>"
            )
        );
        let area = textarea("t", "T", "text", "</textarea><b>", 2, Attrs::new(), "").into_string();
        assert!(
            area.contains(">&lt;/textarea&gt;&lt;b&gt;</textarea>"),
            "{area}"
        );
        let chosen = select(
            "c",
            "C",
            "c",
            &[(HOSTILE.into(), HOSTILE.into())],
            HOSTILE,
            Attrs::new(),
        )
        .into_string();
        assert!(
            chosen.contains(&format!(
                "<option value=\"{ESCAPED}\" selected>{ESCAPED}</option>"
            )),
            "{chosen}"
        );
        let posted = button_form("/x?a=1&b=2", "\"csrf", HOSTILE, "danger").into_string();
        assert_eq!(
            posted,
            format!(
                "<form method=\"post\" action=\"/x?a=1&amp;b=2\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"&quot;csrf\"><button type=\"submit\" class=\"danger\">{ESCAPED}</button></form>"
            )
        );
    }
}
