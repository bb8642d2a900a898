//! Decoding the bodies of the decision endpoints, which is most of what a batch costs.
//!
//! [`DecisionRequest`] and [`BatchRequest`] are the bodies' shapes, and the API's extractor
//! ([`Body`](super::Body)) decodes them like every other body. The decision endpoints decode into
//! twins that borrow their text from the body ([`DecisionInput`], [`BatchInput`]), in up to three
//! steps, each of which accepts only what the extractor accepts, with the same value:
//!
//! 1. [`Scanner`]: bodies as services write them (the documented keys, strings without escape
//!    sequences, integers, `null`), read byte by byte; anything else makes it give up;
//! 2. serde into the borrowing twins: every other spelling of a valid body (escapes, an object
//!    given as an array, …);
//! 3. the extractor's own decoding: a body refused by step 2 is refused by it too, with the
//!    message every other endpoint gives (and were it accepted there, its value is used).
//!
//! The tests below hold the three together on a range of valid and invalid bodies.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use warden_api::decisions::{BatchRequest, DecisionRequest};

use super::JsonBody;
use crate::error::ApiResult;
use crate::limits::MAX_BATCH;
use crate::service::decision_input::{
    AttributesInput, BatchInput, DecisionInput, ScannedValue, Text,
};

/// The body of `POST /iam/v1/authorize`, borrowing from it.
pub(crate) fn decision(body: &JsonBody<DecisionRequest>) -> ApiResult<DecisionInput<'_>> {
    decode(
        body,
        Scanner::decision,
        DecisionInput::borrowing,
        DecisionInput::owning,
    )
}

/// The body of `POST /iam/v1/authorize/batch`, borrowing from it.
pub(crate) fn batch(body: &JsonBody<BatchRequest>) -> ApiResult<BatchInput<'_>> {
    decode(
        body,
        Scanner::batch,
        BatchInput::borrowing,
        BatchInput::owning,
    )
}

/// The three steps of the module's documentation.
fn decode<'a, T: DeserializeOwned, F: Deserialize<'a>>(
    body: &'a JsonBody<T>,
    scan: fn(&mut Scanner<'a>) -> Option<F>,
    borrowing: fn(&'a T) -> F,
    owning: fn(T) -> F,
) -> ApiResult<F> {
    let bytes = match body {
        JsonBody::Decoded(value) => return Ok(borrowing(value)),
        JsonBody::Bytes(bytes) => bytes,
    };
    // Checking the whole text once spares both decoders a check of every string.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return JsonBody::<T>::canonical(bytes).map(owning);
    };
    let mut scanner = Scanner { text, at: 0 };
    if let Some(value) = scan(&mut scanner).filter(|_| scanner.at_end()) {
        return Ok(value);
    }
    match serde_json::from_str::<F>(text) {
        Ok(value) => Ok(value),
        Err(_) => JsonBody::<T>::canonical(bytes).map(owning),
    }
}

/// Reads decision bodies as services write them, giving up (`None`) on anything else: another
/// spelling of valid JSON (escape sequences, numbers with a fraction or an exponent, an object
/// given as an array), or invalid JSON, unknown or repeated keys, a missing `permission`, a value
/// of the wrong type. Serde's general machinery costs more than the decision itself; this looks
/// at each byte once.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// JSON's whitespace.
    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.at == self.text.len()
    }

    /// Whether the next byte after whitespace is `byte`; if so, it is consumed.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// A string without escape sequences or control characters (which JSON refuses).
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let rest = self.text.as_bytes().get(start..)?;
        let length = string_length(rest)?;
        let end = start + length;
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// The key of an object among `keys` (by their bits), recognised by comparing the text with
    /// each: cheaper than reading it as a string first. Another key, or a key spelled with an
    /// escape sequence, is `None`.
    fn key(&mut self, keys: &[(&[u8], u8)]) -> Option<u8> {
        self.expect(b'"')?;
        let rest = self.text.as_bytes().get(self.at..)?;
        // The closing quote and the first byte rule out most keys without comparing them.
        let (name, bit) = keys.iter().find(|(name, _)| {
            rest.get(name.len()) == Some(&b'"')
                && rest.first() == name.first()
                && rest.starts_with(name)
        })?;
        self.at += name.len() + 1;
        Some(*bit)
    }

    fn null(&mut self) -> bool {
        self.skip_space();
        let found = self
            .text
            .as_bytes()
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(b"null"));
        if found {
            self.at += 4;
        }
        found
    }

    fn optional_string(&mut self) -> Option<Option<&'a str>> {
        if self.null() {
            Some(None)
        } else {
            self.string().map(Some)
        }
    }

    /// `null` or an integer in plain decimal that fits an `i64`.
    fn optional_integer(&mut self) -> Option<Option<i64>> {
        if self.null() {
            return Some(None);
        }
        self.skip_space();
        let negative = self.eat(b'-');
        let start = self.at;
        let mut value: i64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            value = value
                .checked_mul(10)?
                .checked_add(i64::from(digit - b'0'))?;
            self.at += 1;
        }
        let digits = self.text.as_bytes().get(start..self.at)?;
        // JSON has no leading zeros; a fraction or an exponent makes it another number type,
        // and so does `-0` for serde_json (the float -0.0).
        if digits.is_empty()
            || (digits.len() > 1 && digits.first() == Some(&b'0'))
            || (negative && digits == b"0")
            || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        Some(Some(if negative { -value } else { value }))
    }

    /// An object of strings and lists of strings.
    fn attributes(&mut self) -> Option<Vec<(&'a str, ScannedValue<'a>)>> {
        self.expect(b'{')?;
        let mut attributes = Vec::new();
        if self.eat(b'}') {
            return Some(attributes);
        }
        loop {
            let name = self.string()?;
            self.expect(b':')?;
            let value = if self.eat(b'[') {
                let mut values = Vec::new();
                if !self.eat(b']') {
                    loop {
                        values.push(self.string()?);
                        if self.eat(b']') {
                            break;
                        }
                        self.expect(b',')?;
                    }
                }
                ScannedValue::Many(values)
            } else {
                ScannedValue::One(self.string()?)
            };
            attributes.push((name, value));
            if self.eat(b'}') {
                return Some(attributes);
            }
            self.expect(b',')?;
        }
    }

    /// One decision request: an object with the keys of [`DecisionRequest`], each at most once,
    /// `permission` among them.
    fn decision(&mut self) -> Option<DecisionInput<'a>> {
        self.expect(b'{')?;
        let mut input = DecisionInput {
            principal: None,
            token: None,
            permission: Text::borrowed(""),
            environment: None,
            attributes: AttributesInput::default(),
            time: None,
            min_revision: None,
        };
        let mut seen = 0u8;
        if !self.eat(b'}') {
            loop {
                let bit = self.key(DECISION_KEYS)?;
                self.expect(b':')?;
                if seen & bit != 0 {
                    return None;
                }
                seen |= bit;
                match bit {
                    1 => input.principal = self.optional_string()?.map(Text::borrowed),
                    2 => input.token = self.optional_string()?.map(Text::borrowed),
                    4 => input.permission = Text::borrowed(self.string()?),
                    8 => input.environment = self.optional_string()?.map(Text::borrowed),
                    16 => input.attributes = AttributesInput::Scanned(self.attributes()?),
                    32 => input.time = self.optional_string()?.map(Text::borrowed),
                    _ => input.min_revision = self.optional_integer()?,
                }
                if self.eat(b'}') {
                    break;
                }
                self.expect(b',')?;
            }
        }
        (seen & 4 != 0).then_some(input)
    }

    /// A batch: an object with `requests` (a list of decision requests) and, at most once each,
    /// `minRevision`.
    fn batch(&mut self) -> Option<BatchInput<'a>> {
        self.expect(b'{')?;
        let mut requests = None;
        let mut min_revision = None;
        let mut seen_min_revision = false;
        if !self.eat(b'}') {
            loop {
                match self.string()? {
                    "requests" if requests.is_none() => {
                        self.expect(b':')?;
                        requests = Some(self.decisions()?);
                    }
                    "minRevision" if !seen_min_revision => {
                        self.expect(b':')?;
                        seen_min_revision = true;
                        min_revision = self.optional_integer()?;
                    }
                    _ => return None,
                }
                if self.eat(b'}') {
                    break;
                }
                self.expect(b',')?;
            }
        }
        Some(BatchInput {
            requests: requests?,
            min_revision,
        })
    }

    fn decisions(&mut self) -> Option<Vec<DecisionInput<'a>>> {
        self.expect(b'[')?;
        // Room for as many requests as the body could hold at about 100 bytes each (those of
        // services are longer), so that the list is not copied as it grows.
        let mut requests = Vec::with_capacity((self.text.len() / 100).min(MAX_BATCH));
        if self.eat(b']') {
            return Some(requests);
        }
        loop {
            requests.push(self.decision()?);
            if self.eat(b']') {
                return Some(requests);
            }
            self.expect(b',')?;
        }
    }
}

/// The keys of [`DecisionRequest`] and their bits in [`Scanner::decision`], the most frequent
/// first.
const DECISION_KEYS: &[(&[u8], u8)] = &[
    (b"principal", 1),
    (b"permission", 4),
    (b"environment", 8),
    (b"attributes", 16),
    (b"token", 2),
    (b"time", 32),
    (b"minRevision", 64),
];

/// The length of a string's text up to its closing quote; `None` when an escape sequence or a
/// control character comes first, or the text ends. Eight bytes at a time: the bytes of a body
/// are mostly strings.
fn string_length(text: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let stops = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
    let mut chunks = text.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
        // The high bit of each byte that is `"`, `\` or below 0x20 (exact for the first such
        // byte, which is all that is looked at).
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if found != 0 {
            let at = offset + (found.trailing_zeros() / 8) as usize;
            return (text.get(at) == Some(&b'"')).then_some(at);
        }
        offset += 8;
    }
    let at = offset + chunks.remainder().iter().position(|&b| stops(b))?;
    (text.get(at) == Some(&b'"')).then_some(at)
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::*;
    use crate::error::ApiError;
    use warden_api::decisions::AttributeValue;

    fn value_of(value: &ScannedValue<'_>) -> AttributeValue {
        match value {
            ScannedValue::One(one) => AttributeValue::One((*one).to_owned()),
            ScannedValue::Many(many) => {
                AttributeValue::Many(many.iter().map(|v| (*v).to_owned()).collect())
            }
        }
    }

    /// What the decision is made from, as the documented shape, to compare with serde's.
    fn owned(input: &DecisionInput<'_>) -> DecisionRequest {
        let text = |text: &Option<Text<'_>>| text.as_deref().map(str::to_owned);
        DecisionRequest {
            principal: text(&input.principal),
            token: text(&input.token),
            permission: input.permission.to_string(),
            environment: text(&input.environment),
            attributes: match &input.attributes {
                AttributesInput::Map(map) => (**map).clone(),
                // Collected in order, so that a name given twice keeps its last value.
                AttributesInput::Scanned(scanned) => scanned
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value_of(value)))
                    .collect(),
            },
            time: text(&input.time),
            min_revision: input.min_revision,
        }
    }

    fn owned_batch(input: &BatchInput<'_>) -> BatchRequest {
        BatchRequest {
            requests: input.requests.iter().map(owned).collect(),
            min_revision: input.min_revision,
        }
    }

    /// The ways of decoding one body, each giving the value in the documented shape (by its
    /// debug form, which shows every field).
    struct Decoders {
        canonical: fn(&str) -> Result<String, ApiError>,
        scanned: fn(&str) -> Option<String>,
        borrowed: fn(&str) -> Option<String>,
        decoded: fn(&str) -> Result<String, ApiError>,
    }

    const DECISION: Decoders = Decoders {
        canonical: |body| {
            JsonBody::<DecisionRequest>::canonical(body.as_bytes()).map(|v| format!("{v:?}"))
        },
        scanned: |body| {
            let mut scanner = Scanner { text: body, at: 0 };
            let scanned = scanner.decision();
            scanned
                .filter(|_| scanner.at_end())
                .map(|d| format!("{:?}", owned(&d)))
        },
        borrowed: |body| {
            serde_json::from_str::<DecisionInput>(body)
                .ok()
                .map(|d| format!("{:?}", owned(&d)))
        },
        decoded: |body| {
            let body = JsonBody::Bytes(Bytes::copy_from_slice(body.as_bytes()));
            decision(&body).map(|d| format!("{:?}", owned(&d)))
        },
    };

    const BATCH: Decoders = Decoders {
        canonical: |body| {
            JsonBody::<BatchRequest>::canonical(body.as_bytes()).map(|v| format!("{v:?}"))
        },
        scanned: |body| {
            let mut scanner = Scanner { text: body, at: 0 };
            let scanned = scanner.batch();
            scanned
                .filter(|_| scanner.at_end())
                .map(|b| format!("{:?}", owned_batch(&b)))
        },
        borrowed: |body| {
            serde_json::from_str::<BatchInput>(body)
                .ok()
                .map(|b| format!("{:?}", owned_batch(&b)))
        },
        decoded: |body| {
            let body = JsonBody::Bytes(Bytes::copy_from_slice(body.as_bytes()));
            batch(&body).map(|b| format!("{:?}", owned_batch(&b)))
        },
    };

    /// Holds the decoders together on one body; whether the scanner read it.
    fn agree(decoders: &Decoders, body: &str) -> bool {
        let canonical = (decoders.canonical)(body);
        let scanned = (decoders.scanned)(body);
        if let Some(scanned) = &scanned {
            assert_eq!(Ok(scanned), canonical.as_ref(), "scanned {body:?}");
        }
        assert_eq!(
            (decoders.borrowed)(body),
            canonical.as_ref().ok().cloned(),
            "borrowing serde on {body:?}"
        );
        assert_eq!((decoders.decoded)(body), canonical, "{body:?}");
        scanned.is_some()
    }

    fn agree_decision(body: &str) -> bool {
        agree(&DECISION, body)
    }

    fn agree_batch(body: &str) -> bool {
        agree(&BATCH, body)
    }

    /// The same JSON with whitespace around every structural character.
    fn spaced(body: &str) -> String {
        let mut out = String::from(" \n");
        let mut in_string = false;
        let mut escaped = false;
        for c in body.chars() {
            out.push(c);
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
            } else if c == '"' {
                in_string = true;
            } else if "{}[]:,".contains(c) {
                out.push_str(" \t\r\n ");
            }
        }
        out
    }

    /// Decision bodies: the usual ones, every field in other forms, and broken ones.
    fn decision_bodies() -> Vec<String> {
        let base = r#""principal":"alice@example.com","permission":"storage:logs:read""#;
        let mut bodies: Vec<String> = vec![
            format!("{{{base}}}"),
            r#"{"principal":"user1@example.com","permission":"storage:logs:read","environment":"env-prod","attributes":{"storage:bucket-name":"team1_app"}}"#.to_owned(),
            r#"{"attributes":{"b":["x","y"],"a":"1"},"environment":null,"permission":"settings:objects:read","principal":"u-1","time":"2026-05-04T10:00:00Z","minRevision":7}"#.to_owned(),
            r#"{"token":"wdn_pt_0a_secretsecretsecret","permission":"storage:logs:read"}"#.to_owned(),
            r#"{"principal":"a","token":"b","permission":"c"}"#.to_owned(),
            r#"{"permission":"storage:logs:read"}"#.to_owned(),
            r#"{"principal":"alice@example.com"}"#.to_owned(),
            "{}".to_owned(),
            "[]".to_owned(),
            r#"["alice@example.com",null,"storage:logs:read"]"#.to_owned(),
            String::new(),
            "null".to_owned(),
            format!("{{{base}"),
            format!("{{{base}}}x"),
            format!("{{{base},}}"),
            format!("{{{base}}} "),
            format!("{{{base},\"extra\":1}}"),
            format!("{{{base},\"permission\":\"again\"}}"),
            format!("{{{base},\"principal\":null}}"),
            r#"{"permissio\u006e":"storage:logs:read"}"#.to_owned(),
            r#"{"principal":"al\"ice","permission":"storage:logs:read"}"#.to_owned(),
            r#"{"principal":"al\u0069ce","permission":"a\/b"}"#.to_owned(),
            "{\"principal\":\"tab\there\",\"permission\":\"p\"}".to_owned(),
            r#"{"principal":"élise@exämple.com","permission":"storage:logs:read"}"#.to_owned(),
            r#"{"principal":5,"permission":"storage:logs:read"}"#.to_owned(),
            r#"{"principal":true,"permission":"storage:logs:read"}"#.to_owned(),
            r#"{"principal":"alice","permission":null}"#.to_owned(),
            r#"{"principal":"alice","permission":""}"#.to_owned(),
            r#"{"principal":"alice","permission":1}"#.to_owned(),
            r#"{"principal":"alice","permission":"p","environment":[]}"#.to_owned(),
            r#"{"principal":"alice","permission":"p","time":null,"token":null}"#.to_owned(),
            r#"{"principal":"alice","permission":"p","time":"nullx"}"#.to_owned(),
            r#"{"principal":nullx,"permission":"p"}"#.to_owned(),
            r#"{"principal":nul"#.to_owned(),
            r#"{"principal":"alice","permission":"p""#.to_owned(),
            r#"{"principal":"alice","permission":"p\"#.to_owned(),
        ];
        for attributes in [
            "{}",
            r#"{"a":"1"}"#,
            r#"{"a":["1","2"]}"#,
            r#"{"a":[]}"#,
            r#"{"a":"1","a":"2"}"#,
            r#"{"a":["1"],"b":"2","a":"3"}"#,
            r#"{"a":null}"#,
            r#"{"a":1}"#,
            r#"{"a":[1]}"#,
            r#"{"a":[null]}"#,
            r#"{"a":[["x"]]}"#,
            r#"{"a":{"b":"c"}}"#,
            r#"{"a":"x",}"#,
            r#"{"a":["x",]}"#,
            r#"{"a\u0062":"x"}"#,
            r#"{"a":"x\ny"}"#,
            r#"{"":""}"#,
            "null",
            "[]",
            r#""a""#,
        ] {
            bodies.push(format!("{{{base},\"attributes\":{attributes}}}"));
        }
        for revision in [
            "0",
            "-0",
            "-1",
            "12",
            "01",
            "1.0",
            "1e3",
            "1E3",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775807",
            "-9223372036854775808",
            "99999999999999999999",
            "null",
            "\"1\"",
            "-",
            "- 1",
            "+1",
            "1x",
        ] {
            bodies.push(format!("{{{base},\"minRevision\":{revision}}}"));
        }
        let spaced: Vec<String> = bodies.iter().map(|b| spaced(b)).collect();
        bodies.extend(spaced);
        bodies
    }

    #[test]
    fn the_decoders_of_a_decision_agree_with_the_extractor() {
        let bodies = decision_bodies();
        let scanned = bodies.iter().filter(|b| agree_decision(b)).count();
        // The scanner reads the common shapes (and their spaced forms); serde does the rest.
        assert!(scanned >= 40, "only {scanned} bodies scanned");
        for plain in &bodies[..3] {
            assert!(agree_decision(plain), "{plain}");
        }
    }

    #[test]
    fn the_decoders_of_a_batch_agree_with_the_extractor() {
        let items: Vec<String> = decision_bodies();
        let good = r#"{"principal":"alice@example.com","permission":"storage:logs:read","attributes":{"a":"b"}}"#;
        let mut bodies = vec![
            format!(r#"{{"requests":[{good},{good}]}}"#),
            format!(r#"{{"requests":[{good}],"minRevision":3}}"#),
            format!(r#"{{"minRevision":null,"requests":[{good}]}}"#),
            r#"{"requests":[]}"#.to_owned(),
            r#"{"requests":null}"#.to_owned(),
            r#"{"requests":{}}"#.to_owned(),
            r#"{}"#.to_owned(),
            r#"{"minRevision":1}"#.to_owned(),
            format!(r#"{{"requests":[{good}],"requests":[{good}]}}"#),
            format!(r#"{{"requests":[{good}],"minRevision":1,"minRevision":2}}"#),
            format!(r#"{{"requests":[{good}],"extra":true}}"#),
            format!(r#"{{"requests":[{good},]}}"#),
            format!(r#"{{"requests":[{good}]"#),
            format!(r#"[[{good}]]"#),
            format!(r#"{{"request\u0073":[{good}]}}"#),
        ];
        for item in &items {
            bodies.push(format!(r#"{{"requests":[{good},{item}]}}"#));
        }
        let spaced: Vec<String> = bodies.iter().map(|b| spaced(b)).collect();
        bodies.extend(spaced);
        let scanned = bodies.iter().filter(|b| agree_batch(b)).count();
        assert!(scanned >= 40, "only {scanned} bodies scanned");
        assert!(agree_batch(&bodies[0]));
    }

    /// Every body one character away from a valid one: deleted, replaced or inserted.
    fn mutations(body: &str) -> Vec<String> {
        let chars: Vec<char> = body.chars().collect();
        let alphabet = [
            '"', '\\', ',', ':', '{', '}', '[', ']', ' ', '0', '1', '-', '.', 'e', 'n', 'u', '\n',
            '\u{1}', 'é', 'a',
        ];
        let mut out = Vec::new();
        for at in 0..=chars.len() {
            let (before, after) = chars.split_at(at);
            if let Some((_, rest)) = after.split_first() {
                out.push(before.iter().chain(rest).collect());
                for c in alphabet {
                    out.push(before.iter().chain([&c]).chain(rest).collect());
                }
            }
            for c in alphabet {
                out.push(before.iter().chain([&c]).chain(after).collect());
            }
        }
        out
    }

    #[test]
    fn the_decoders_agree_on_bodies_one_character_away_from_valid_ones() {
        for body in [
            r#"{"principal":"u@x.io","permission":"a:b:c","environment":"env-1","attributes":{"k":"v","l":["1","2"]},"minRevision":10}"#,
            r#"{"token":"t","permission":"a:b:c","time":null,"minRevision":-2}"#,
        ] {
            for mutated in mutations(body) {
                agree_decision(&mutated);
            }
        }
        let batch = r#"{"requests":[{"principal":"u","permission":"p","attributes":{"k":[]}}],"minRevision":0}"#;
        for mutated in mutations(batch) {
            agree_batch(&mutated);
        }
    }

    #[test]
    fn a_refused_batch_names_the_request_and_field_as_every_endpoint_does() {
        let body =
            r#"{"requests":[{"principal":"a","permission":"p"},{"principal":"a","permission":5}]}"#;
        let body = JsonBody::<BatchRequest>::Bytes(Bytes::from_static(body.as_bytes()));
        let refused = batch(&body).map(|_| ()).unwrap_err();
        assert_eq!(
            refused,
            ApiError::invalid(
                "invalid JSON body: `requests[1].permission` must be a string, not the integer `5` (line 1, column 79)"
            )
        );
    }

    #[test]
    fn string_lengths_stop_at_the_quote_and_give_up_on_escapes_and_controls() {
        let reference = |text: &[u8]| {
            let at = text
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
            (text[at] == b'"').then_some(at)
        };
        for length in 0..40 {
            for (at, stop) in (0..=length).flat_map(|at| {
                [b'"', b'\\', b'\n', 0x1f, 0x00, b'a', 0x7f, 0xc3, 0xff, b' ']
                    .into_iter()
                    .map(move |stop| (at, stop))
            }) {
                let mut text = vec![b'x'; length];
                text.push(b'"');
                if let Some(byte) = text.get_mut(at) {
                    *byte = stop;
                }
                assert_eq!(
                    string_length(&text),
                    reference(&text),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        assert_eq!(string_length(b"no closing quote"), None);
    }
}
