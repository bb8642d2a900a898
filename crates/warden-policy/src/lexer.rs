//! The lexer: turns policy or boundary text into tokens, comments and lexical errors. It never
//! fails: bad characters and broken strings become diagnostics and lexing goes on, so that one run
//! reports every problem. String literals are decoded here, placeholders included.

use crate::ast::{Comment, GlobalAttribute, Placeholder, StringLit, StringPart};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A run of `[A-Za-z0-9_.:*-]`: keywords, permission names, condition names.
    Word,
    /// A string literal, decoded.
    Str(StringLit),
    /// A run of `= ! < > & |`; the parser decides which runs are operators.
    Op,
    Comma,
    Semicolon,
    LParen,
    RParen,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
    /// Whether a line break separates this token from the previous one (boundaries need it).
    pub newline_before: bool,
}

#[derive(Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '*')
}

fn is_op_char(c: char) -> bool {
    matches!(c, '=' | '!' | '<' | '>' | '&' | '|')
}

/// Placeholder parameter names: `[A-Za-z0-9_-]+`.
pub fn is_parameter_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub fn lex(source: &str) -> Lexed {
    let mut lexer = Lexer {
        source,
        pos: 0,
        newline_before: true,
        out: Lexed::default(),
    };
    lexer.run();
    lexer.out
}

struct Lexer<'a> {
    source: &'a str,
    pos: usize,
    newline_before: bool,
    out: Lexed,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.source
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn peek_second(&self) -> Option<char> {
        self.source
            .get(self.pos..)
            .and_then(|rest| rest.chars().nth(1))
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        let token = Token {
            kind,
            span: Span::new(start, self.pos),
            newline_before: self.newline_before,
        };
        self.out.tokens.push(token);
        self.newline_before = false;
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            let start = self.pos;
            match c {
                '\n' => {
                    self.bump();
                    self.newline_before = true;
                }
                ' ' | '\t' | '\r' => {
                    self.bump();
                }
                '/' if self.peek_second() == Some('/') => self.comment(start),
                '"' | '\'' => self.string(start, c),
                ',' => self.single(TokenKind::Comma, start),
                ';' => self.single(TokenKind::Semicolon, start),
                '(' => self.single(TokenKind::LParen, start),
                ')' => self.single(TokenKind::RParen, start),
                c if is_op_char(c) => {
                    self.eat_while(is_op_char);
                    self.push(TokenKind::Op, start);
                }
                c if is_word_char(c) => {
                    self.eat_while(is_word_char);
                    self.push(TokenKind::Word, start);
                }
                _ => self.unexpected(start),
            }
        }
    }

    fn single(&mut self, kind: TokenKind, start: usize) {
        self.bump();
        self.push(kind, start);
    }

    fn comment(&mut self, start: usize) {
        self.eat_while(|c| c != '\n');
        let text = self
            .source
            .get(start + 2..self.pos)
            .unwrap_or("")
            .trim_end()
            .to_owned();
        self.out.comments.push(Comment {
            text,
            span: Span::new(start, self.pos),
        });
    }

    /// A run of characters that cannot start any token, reported once.
    fn unexpected(&mut self, start: usize) {
        let starts_token = |c: char| {
            c.is_ascii_whitespace() || is_word_char(c) || is_op_char(c) || "\"',;()/".contains(c)
        };
        self.bump();
        self.eat_while(|c| !starts_token(c));
        let span = Span::new(start, self.pos);
        let text = span.text(self.source);
        let first = text.chars().next().unwrap_or(' ');
        let shown = if first.is_control() || first.is_whitespace() {
            format!("U+{:04X}", u32::from(first))
        } else {
            format!("`{first}` (U+{:04X})", u32::from(first))
        };
        let diagnostic = if first == '/' {
            Diagnostic::error(Code::UnexpectedCharacter, span, "unexpected `/`")
                .with_label("not a comment")
                .with_help("comments start with `//` and run to the end of the line")
        } else {
            Diagnostic::error(Code::UnexpectedCharacter, span, format!("unexpected character {shown}"))
                .with_label("not part of the policy language")
                .with_help(
                    "names use ASCII letters, digits and `_ . : -`; text that is data belongs in a quoted string",
                )
        };
        self.out.diagnostics.push(diagnostic);
    }

    fn string(&mut self, start: usize, quote: char) {
        self.bump();
        let mut decoder = StringDecoder::default();
        loop {
            let at = self.pos;
            match self.bump() {
                None | Some('\n') => {
                    if self
                        .source
                        .get(at..)
                        .is_some_and(|rest| rest.starts_with('\n'))
                    {
                        self.pos = at; // leave the line break to the main loop
                    }
                    let span = Span::new(start, self.pos);
                    self.out.diagnostics.push(
                        Diagnostic::error(Code::UnterminatedString, span, "unterminated string")
                            .with_label(format!("this string has no closing `{quote}`"))
                            .with_help(format!(
                                "close the string with `{quote}` on the same line; strings cannot span lines"
                            )),
                    );
                    break;
                }
                Some(c) if c == quote => break,
                Some('\\') => self.escape(&mut decoder, at),
                Some('$') if self.peek() == Some('{') => self.placeholder(&mut decoder, at, quote),
                Some(c) => decoder.text.push(c),
            }
        }
        let literal = decoder.finish(Span::new(start, self.pos));
        self.push(TokenKind::Str(literal), start);
    }

    fn escape(&mut self, decoder: &mut StringDecoder, at: usize) {
        match self.peek() {
            Some(c @ ('"' | '\'' | '\\' | '$')) => {
                self.bump();
                decoder.text.push(c);
            }
            Some(c) if c != '\n' => {
                self.bump();
                let span = Span::new(at, self.pos);
                self.out.diagnostics.push(
                    Diagnostic::error(Code::InvalidEscape, span, format!("invalid escape `\\{c}`"))
                        .with_label("not an escape")
                        .with_help(
                            "the escapes are `\\\"`, `\\'`, `\\\\` and `\\$`; write `\\\\` for a backslash",
                        ),
                );
                decoder.text.push('\\');
                decoder.text.push(c);
            }
            _ => decoder.text.push('\\'), // the unterminated string is reported by the caller
        }
    }

    /// `${bindParam:NAME}` or `${global:NAME}`, starting at the `$` at `at` (already consumed).
    fn placeholder(&mut self, decoder: &mut StringDecoder, at: usize, quote: char) {
        let rest = self.source.get(self.pos..).unwrap_or("");
        let Some(close) = rest.find(['}', quote, '\n']) else {
            return self.malformed_placeholder(decoder, at, rest.len(), "is not closed");
        };
        if !rest.get(close..).is_some_and(|tail| tail.starts_with('}')) {
            return self.malformed_placeholder(decoder, at, close, "is not closed");
        }
        let inner = rest.get(1..close).unwrap_or("");
        let span = Span::new(at, self.pos + close + 1);
        let parsed = match inner.split_once(':') {
            Some(("bindParam", name)) if is_parameter_name(name) => {
                Ok(Placeholder::BindParam(name.to_owned()))
            }
            Some(("bindParam", _)) => Err(Diagnostic::error(
                Code::MalformedPlaceholder,
                span,
                format!("malformed placeholder `${{{inner}}}`"),
            )
            .with_label("parameter names use letters, digits, `_` and `-`")
            .with_help("write it as `${bindParam:NAME}`, for example `${bindParam:team}`")),
            Some(("global", name)) => GlobalAttribute::from_name(name)
                .map(Placeholder::Global)
                .ok_or_else(|| {
                    Diagnostic::error(
                        Code::UnknownPlaceholder,
                        span,
                        format!("unknown global placeholder `${{{inner}}}`"),
                    )
                    .with_label("not a global attribute")
                    .with_help(
                        "the global placeholders are `${global:userId}`, `${global:userEmail}`, `${global:userGroup}` and `${global:environmentId}`",
                    )
                }),
            _ => Err(Diagnostic::error(
                Code::UnknownPlaceholder,
                span,
                format!("unknown placeholder `${{{inner}}}`"),
            )
            .with_label("not a placeholder")
            .with_help(
                "placeholders are `${bindParam:NAME}` and `${global:userId|userEmail|userGroup|environmentId}`; write `\\$` for a literal `$`",
            )),
        };
        self.pos += close + 1;
        match parsed {
            Ok(placeholder) => decoder.placeholder(placeholder),
            Err(diagnostic) => {
                self.out.diagnostics.push(diagnostic);
                decoder.text.push_str(span.text(self.source));
            }
        }
    }

    fn malformed_placeholder(
        &mut self,
        decoder: &mut StringDecoder,
        at: usize,
        len: usize,
        why: &str,
    ) {
        let span = Span::new(at, self.pos + len);
        let text = span.text(self.source).to_owned();
        self.out.diagnostics.push(
            Diagnostic::error(
                Code::MalformedPlaceholder,
                span,
                format!("placeholder `{text}` {why}"),
            )
            .with_label("expected `}`")
            .with_help("close it with `}`, or write `\\$` for a literal `$`"),
        );
        decoder.text.push('$');
    }
}

#[derive(Default)]
struct StringDecoder {
    parts: Vec<StringPart>,
    text: String,
}

impl StringDecoder {
    fn placeholder(&mut self, placeholder: Placeholder) {
        if !self.text.is_empty() {
            self.parts
                .push(StringPart::Text(std::mem::take(&mut self.text)));
        }
        self.parts.push(StringPart::Placeholder(placeholder));
    }

    fn finish(mut self, span: Span) -> StringLit {
        if !self.text.is_empty() || self.parts.is_empty() {
            self.parts.push(StringPart::Text(self.text));
        }
        StringLit {
            parts: self.parts,
            span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<String> {
        lex(source)
            .tokens
            .iter()
            .map(|token| match &token.kind {
                TokenKind::Str(literal) => format!("str{:?}", literal.parts),
                other => format!("{other:?}:{}", token.span.text(source)),
            })
            .collect()
    }

    #[test]
    fn words_operators_and_punctuation() {
        assert_eq!(
            kinds("ALLOW a:b:c WHERE x:y!=\"v\";"),
            vec![
                "Word:ALLOW",
                "Word:a:b:c",
                "Word:WHERE",
                "Word:x:y",
                "Op:!=",
                "str[Text(\"v\")]",
                "Semicolon:;"
            ]
        );
    }

    #[test]
    fn escapes_and_placeholders_are_decoded() {
        let lexed = lex(r#"'it\'s ${bindParam:team}_\${x} \\ ${global:userGroup}'"#);
        assert!(lexed.diagnostics.is_empty(), "{:?}", lexed.diagnostics);
        let [
            Token {
                kind: TokenKind::Str(literal),
                ..
            },
        ] = lexed.tokens.as_slice()
        else {
            panic!("one string expected: {:?}", lexed.tokens)
        };
        assert_eq!(
            literal.parts,
            vec![
                StringPart::Text("it's ".into()),
                StringPart::Placeholder(Placeholder::BindParam("team".into())),
                StringPart::Text("_${x} \\ ".into()),
                StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserGroup)),
            ]
        );
    }

    #[test]
    fn lexical_errors_are_reported_and_lexing_goes_on() {
        let lexed = lex("ALLOW a:b:c WHERE x:y = \"open\nALLOW #$% d:e:f;");
        let codes: Vec<_> = lexed.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![Code::UnterminatedString, Code::UnexpectedCharacter]
        );
        assert!(lexed.tokens.iter().any(|t| {
            t.span
                .text("ALLOW a:b:c WHERE x:y = \"open\nALLOW #$% d:e:f;")
                == "d:e:f"
        }));
        assert!(lexed.tokens.last().is_some_and(|t| !t.newline_before));
    }

    #[test]
    fn bad_placeholders() {
        let source = r#""${bindParam:} ${global:tenant} ${x:y} ${bindParam:open"#;
        let codes: Vec<_> = lex(source).diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![
                Code::MalformedPlaceholder,
                Code::UnknownPlaceholder,
                Code::UnknownPlaceholder,
                Code::MalformedPlaceholder,
                Code::UnterminatedString
            ]
        );
    }

    #[test]
    fn comments_are_kept() {
        let lexed = lex("// one  \nALLOW a:b:c; //two");
        let texts: Vec<_> = lexed.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec![" one", "two"]);
    }
}
