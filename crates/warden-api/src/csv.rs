//! Comma-separated values as RFC 4180 writes them, for reports read by spreadsheets: fields
//! separated by commas, records ended by CRLF, and a field holding a comma, a double quote, a
//! carriage return or a line feed enclosed in double quotes, its double quotes doubled.

/// One field, quoted when it must be.
pub fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A text from users (a name, a title) that a spreadsheet shows as text: one that would start a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) gets a `'` in front.
pub fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// One record: its fields quoted as needed, separated by commas, ended by CRLF.
pub fn record<S: AsRef<str>>(fields: &[S]) -> String {
    let mut line = fields
        .iter()
        .map(|f| field(f.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_they_must_be() {
        assert_eq!(field("plain text"), "plain text");
        assert_eq!(field(""), "");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(field("\""), "\"\"\"\"");
        assert_eq!(field("naïve; ok"), "naïve; ok");
    }

    #[test]
    fn texts_that_would_start_a_formula_stay_text() {
        assert_eq!(inert("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(inert("+1"), "'+1");
        assert_eq!(inert("-1"), "'-1");
        assert_eq!(inert("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(inert("\tx"), "'\tx");
        assert_eq!(inert("pipeline-bot"), "pipeline-bot");
    }

    #[test]
    fn a_record_reads_back_field_by_field() {
        let written = record(&["id", "a,b", "x\"y", "", "l1\r\nl2"]);
        assert_eq!(written, "id,\"a,b\",\"x\"\"y\",,\"l1\r\nl2\"\r\n");
        // A reader of RFC 4180, written here: the record splits back into the same fields.
        let mut fields = vec![String::new()];
        let mut quoted = false;
        let mut chars = written
            .strip_suffix("\r\n")
            .unwrap_or(&written)
            .chars()
            .peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', false) => quoted = true,
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                    fields.last_mut().into_iter().for_each(|f| f.push('"'));
                }
                ('"', true) => quoted = false,
                (',', false) => fields.push(String::new()),
                (c, _) => fields.last_mut().into_iter().for_each(|f| f.push(c)),
            }
        }
        assert_eq!(fields, ["id", "a,b", "x\"y", "", "l1\r\nl2"]);
    }
}
