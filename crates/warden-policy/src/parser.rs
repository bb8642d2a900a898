//! The recursive-descent parser for policies (SPEC §2) and boundaries (SPEC §4).
//!
//! It recovers from errors at statement boundaries (the next `;` or the next `ALLOW`/`DENY`), so a
//! single parse reports every error it can. Statements that failed to parse are left out of the
//! returned AST; a caller must treat any error diagnostic as "the text is invalid".

use crate::ast::{Comment, Condition, Effect, Operator, Policy, Statement, StringLit, Value};
use crate::diagnostic::{self, Code, Diagnostic};
use crate::lexer::{self, Token, TokenKind};
use crate::span::{Span, Spanned};

/// SPEC §2 limits.
pub const MAX_STATEMENTS: usize = 100;
pub const MAX_STATEMENT_BYTES: usize = 64 * 1024;
pub const MAX_LIST_VALUES: usize = 1000;
/// SPEC §4: a boundary has at most 10 conditions.
pub const MAX_BOUNDARY_CONDITIONS: usize = 10;
/// Past this many errors the rest of the text is not worth reading.
pub const MAX_ERRORS: usize = 50;

/// The result of parsing: the statements that parsed, and every diagnostic found on the way.
#[derive(Debug, Clone)]
pub struct Parsed<T> {
    pub ast: T,
    /// At most [`crate::diagnostic::MAX_DIAGNOSTICS`] after validation, errors first.
    pub diagnostics: Vec<Diagnostic>,
    /// What validation found beyond those and did not keep.
    pub omitted: crate::diagnostic::Omitted,
}

impl<T> Parsed<T> {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The AST when the text had no error.
    pub fn ok(self) -> Result<T, Vec<Diagnostic>> {
        if self.has_errors() {
            Err(self.diagnostics)
        } else {
            Ok(self.ast)
        }
    }
}

/// Parses a policy text.
pub fn parse_policy(source: &str) -> Parsed<Policy> {
    let mut parser = Parser::new(source);
    let statements = parser.statements();
    let comments = std::mem::take(&mut parser.comments);
    Parsed {
        ast: Policy {
            statements,
            comments,
        },
        diagnostics: parser.finish(),
        omitted: crate::diagnostic::Omitted::default(),
    }
}

/// A boundary: conditions, one per line (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Boundary {
    pub conditions: Vec<Condition>,
    pub comments: Vec<Comment>,
}

/// Parses a boundary text.
pub fn parse_boundary(source: &str) -> Parsed<Boundary> {
    let mut parser = Parser::new(source);
    let conditions = parser.boundary_conditions();
    let comments = std::mem::take(&mut parser.comments);
    Parsed {
        ast: Boundary {
            conditions,
            comments,
        },
        diagnostics: parser.finish(),
        omitted: crate::diagnostic::Omitted::default(),
    }
}

/// Why a statement was abandoned.
struct Abandoned;

type Step<T> = Result<T, Abandoned>;

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    comments: Vec<Comment>,
    pos: usize,
    diagnostics: Vec<Diagnostic>,
    /// Set when the error budget is spent: stop reading.
    exhausted: bool,
}

fn is_keyword(word: &str, keyword: &str) -> bool {
    word.eq_ignore_ascii_case(keyword)
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Self {
        let lexed = lexer::lex(source);
        let mut parser = Parser {
            source,
            tokens: lexed.tokens,
            comments: lexed.comments,
            pos: 0,
            diagnostics: Vec::new(),
            exhausted: false,
        };
        for diagnostic in lexed.diagnostics {
            parser.report(diagnostic);
        }
        parser
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        diagnostic::sort(&mut self.diagnostics);
        self.diagnostics
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        // One error per place: a lexical error already explains the token that follows from it.
        let duplicate = self
            .diagnostics
            .iter()
            .any(|d| d.is_error() && d.span.start == diagnostic.span.start);
        if self.exhausted || duplicate {
            return;
        }
        if self.diagnostics.iter().filter(|d| d.is_error()).count() >= MAX_ERRORS {
            self.exhausted = true;
            self.diagnostics.push(
                Diagnostic::error(
                    Code::TooManyErrors,
                    diagnostic.span,
                    format!("too many errors; stopped after {MAX_ERRORS}"),
                )
                .with_help("fix the errors above and check again"),
            );
            return;
        }
        self.diagnostics.push(diagnostic);
    }

    // ---- token access -------------------------------------------------------------------------

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        if token.is_some() {
            self.pos += 1;
        }
        token
    }

    fn text(&self, token: &Token) -> &'a str {
        token.span.text(self.source)
    }

    fn peek_word(&self) -> Option<&'a str> {
        self.peek()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| self.text(t))
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.peek_word()
            .is_some_and(|word| is_keyword(word, keyword))
    }

    fn at_effect(&self) -> bool {
        self.at_keyword("ALLOW") || self.at_keyword("DENY")
    }

    fn previous_end(&self) -> usize {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(0, |t| t.span.end)
    }

    /// Where "the end of the policy" is reported: just after the last token.
    fn end_span(&self) -> Span {
        let end = self.tokens.last().map_or(self.source.len(), |t| t.span.end);
        Span::new(end, end)
    }

    /// "`text`", "a string", "the end of the policy": how a token is named in messages.
    fn describe(&self, token: Option<&Token>) -> String {
        match token {
            None => "the end of the text".to_owned(),
            Some(token) => match &token.kind {
                TokenKind::Str(_) => format!("the string {}", shorten(self.text(token))),
                _ => format!("`{}`", shorten(self.text(token))),
            },
        }
    }

    /// Skips to just after the next `;`, or to the next `ALLOW`/`DENY`, whichever comes first.
    fn recover(&mut self) {
        while let Some(token) = self.peek() {
            if token.kind == TokenKind::Semicolon {
                self.bump();
                return;
            }
            if self.at_effect() {
                return;
            }
            self.bump();
        }
    }

    fn unexpected(&mut self, code: Code, expected: &str, help: Option<String>) -> Abandoned {
        let found = self.peek().cloned();
        let span = found.as_ref().map_or_else(|| self.end_span(), |t| t.span);
        let code = if found.is_none() {
            Code::UnexpectedEnd
        } else {
            code
        };
        let mut diagnostic = Diagnostic::error(
            code,
            span,
            format!(
                "expected {expected}, found {}",
                self.describe(found.as_ref())
            ),
        )
        .with_label(format!("expected {expected}"));
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.report(diagnostic);
        Abandoned
    }

    // ---- policies -----------------------------------------------------------------------------

    fn statements(&mut self) -> Vec<Statement> {
        let mut statements = Vec::new();
        let mut count = 0usize;
        while !self.exhausted {
            let Some(token) = self.peek() else { break };
            if !self.at_effect() {
                let help = match token.kind {
                    TokenKind::Semicolon => "remove the extra `;`".to_owned(),
                    TokenKind::Word if self.text(token).contains(':') => {
                        "start the statement with `ALLOW` or `DENY`".to_owned()
                    }
                    _ => "a statement reads `ALLOW service:resource:action WHERE …;`".to_owned(),
                };
                self.unexpected(Code::UnexpectedToken, "`ALLOW` or `DENY`", Some(help));
                self.bump();
                self.recover();
                continue;
            }
            let start = self.pos;
            count += 1;
            match self.statement() {
                Ok(statement) => {
                    self.check_statement_limits(&statement, count);
                    statements.push(statement);
                }
                Err(Abandoned) => {
                    if self.pos == start {
                        self.bump(); // never loop on the same token
                    }
                    if !self.at_effect() {
                        self.recover();
                    }
                }
            }
        }
        statements
    }

    fn check_statement_limits(&mut self, statement: &Statement, count: usize) {
        if statement.span.len() > MAX_STATEMENT_BYTES {
            self.report(
                Diagnostic::error(
                    Code::StatementTooLong,
                    statement.effect.span,
                    format!(
                        "statement is {} bytes long; at most {MAX_STATEMENT_BYTES} bytes (64 KiB) are allowed",
                        statement.span.len()
                    ),
                )
                .with_label("this statement")
                .with_help("split it into several statements"),
            );
        }
        if count == MAX_STATEMENTS + 1 {
            self.report(
                Diagnostic::error(
                    Code::TooManyStatements,
                    statement.effect.span,
                    format!("too many statements; a policy has at most {MAX_STATEMENTS}"),
                )
                .with_label(format!("statement {count}"))
                .with_help("split the policy into several policies and bind each of them"),
            );
        }
    }

    fn statement(&mut self) -> Step<Statement> {
        let effect_token = self.bump().ok_or(Abandoned)?;
        let effect_word = self.text(&effect_token);
        let effect = if is_keyword(effect_word, "DENY") {
            Effect::Deny
        } else {
            Effect::Allow
        };
        let effect = Spanned::new(effect, effect_token.span);
        let mut permissions = Vec::new();
        loop {
            permissions.push(self.permission(&effect, permissions.is_empty())?);
            if self.peek().is_some_and(|t| t.kind == TokenKind::Comma) {
                self.bump();
                continue;
            }
            break;
        }
        let conditions = match self.peek() {
            Some(token)
                if token.kind == TokenKind::Word && is_keyword(self.text(token), "WHERE") =>
            {
                self.bump();
                self.where_clause()?
            }
            _ => Vec::new(),
        };
        self.statement_end("a permission list")?;
        Ok(Statement {
            effect,
            permissions,
            conditions,
            span: Span::new(effect_token.span.start, self.previous_end()),
        })
    }

    /// Expects `;`, the end of the text, or (reported as a missing `;`) the next statement.
    fn statement_end(&mut self, after: &str) -> Step<()> {
        match self.peek() {
            None => Ok(()),
            Some(token) if token.kind == TokenKind::Semicolon => {
                self.bump();
                Ok(())
            }
            Some(token) if self.at_effect() => {
                let span = Span::new(self.previous_end(), self.previous_end());
                let next = self.text(token).to_uppercase();
                self.report(
                    Diagnostic::error(
                        Code::MissingSemicolon,
                        span,
                        format!("missing `;` before `{next}`"),
                    )
                    .with_label("expected `;` here")
                    .with_help("end every statement with `;`"),
                );
                Ok(())
            }
            Some(_) => {
                let expected = if after == "a condition" {
                    "`AND`, `;` or the end of the statement"
                } else {
                    "`,`, `WHERE` or `;`"
                };
                Err(self.unexpected(Code::UnexpectedToken, expected, None))
            }
        }
    }

    fn permission(&mut self, effect: &Spanned<Effect>, first: bool) -> Step<Spanned<String>> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.unexpected(
                Code::UnexpectedEnd,
                "a permission",
                Some("finish the statement, e.g. `ALLOW settings:objects:read;`".to_owned()),
            ));
        };
        let word = self.text(&token);
        if first
            && token.kind == TokenKind::Word
            && (is_keyword(word, "ALLOW") || is_keyword(word, "DENY"))
        {
            let keyword = effect.node;
            self.report(
                Diagnostic::error(Code::UnexpectedToken, effect.span, format!("`{keyword}` is not followed by a permission"))
                    .with_label(format!("stray `{keyword}`"))
                    .with_help(format!("remove the stray `{keyword}`, or give it a permission: `{keyword} service:resource:action;`")),
            );
            return Err(Abandoned);
        }
        let effect = effect.node;
        let help = match &token.kind {
            TokenKind::Word if is_keyword(word, "WHERE") => {
                Some("name at least one permission before `WHERE`".to_owned())
            }
            TokenKind::Str(_) => Some("permission names are written without quotes".to_owned()),
            TokenKind::Semicolon if !first => Some("remove the `,` before the `;`".to_owned()),
            TokenKind::Word => None,
            _ => Some("permissions have the form `service:resource:action`".to_owned()),
        };
        if token.kind != TokenKind::Word || help.is_some() {
            let after = if first {
                format!("after `{effect}`")
            } else {
                "after `,`".to_owned()
            };
            let err = self.unexpected(
                Code::UnexpectedToken,
                &format!("a permission {after}"),
                help,
            );
            return Err(err);
        }
        self.bump();
        if let Err(diagnostic) = check_permission_name(word, token.span) {
            self.report(diagnostic);
            return Err(Abandoned);
        }
        Ok(Spanned::new(word.to_owned(), token.span))
    }

    fn where_clause(&mut self) -> Step<Vec<Condition>> {
        if self.at_keyword("null") {
            self.bump();
            return Ok(Vec::new());
        }
        let mut conditions = vec![self.condition()?];
        loop {
            if self.at_keyword("AND") {
                self.bump();
                conditions.push(self.condition()?);
            } else if self.at_keyword("OR") {
                return Err(self.unsupported_or());
            } else {
                return Ok(conditions);
            }
        }
    }

    fn unsupported_or(&mut self) -> Abandoned {
        let span = self.peek().map_or_else(|| self.end_span(), |t| t.span);
        self.report(
            Diagnostic::error(Code::UnsupportedOr, span, "`OR` is not supported")
                .with_label("conditions can only be joined with `AND`")
                .with_help(
                    "write two statements instead, one for each alternative: statements are combined with OR",
                ),
        );
        Abandoned
    }

    fn condition(&mut self) -> Step<Condition> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.unexpected(Code::UnexpectedEnd, "a condition", None));
        };
        let word = self.text(&token);
        match &token.kind {
            TokenKind::LParen => {
                self.report(
                    Diagnostic::error(
                        Code::UnsupportedParentheses,
                        token.span,
                        "parentheses cannot group conditions",
                    )
                    .with_label("conditions are not grouped")
                    .with_help(
                        "remove the parentheses: conditions are joined with `AND` only; for alternatives write two statements",
                    ),
                );
                return Err(Abandoned);
            }
            TokenKind::Word if is_keyword(word, "NOT") => {
                self.report(
                    Diagnostic::error(Code::UnsupportedNot, token.span, "`NOT` cannot negate a condition")
                        .with_label("`NOT` only appears in `NOT IN` and `NOT startsWith`")
                        .with_help(
                            "use a negated operator (`!=`, `NOT IN`, `NOT startsWith`), or write two statements instead",
                        ),
                );
                return Err(Abandoned);
            }
            TokenKind::Word if !is_reserved(word) => {}
            _ => {
                let help = Some("a condition reads `service:attribute = \"value\"`".to_owned());
                return Err(self.unexpected(Code::UnexpectedToken, "a condition name", help));
            }
        }
        self.bump();
        if let Err(diagnostic) = check_condition_name(word, token.span) {
            self.report(diagnostic);
            return Err(Abandoned);
        }
        let name = Spanned::new(word.to_owned(), token.span);
        let operator = self.operator(word)?;
        let value = self.value(operator.node)?;
        let span = token.span.to(value.span());
        Ok(Condition {
            name,
            operator,
            value,
            span,
        })
    }

    fn operator(&mut self, name: &str) -> Step<Spanned<Operator>> {
        let expected = "an operator";
        let known = "the operators are `=`, `!=`, `<`, `>`, `IN`, `NOT IN`, `startsWith`, `NOT startsWith` and `MATCH`";
        let Some(token) = self.peek().cloned() else {
            return Err(self.unexpected(Code::UnexpectedEnd, expected, None));
        };
        let text = self.text(&token);
        let operator = match token.kind {
            TokenKind::Op => match text {
                "=" => Operator::Eq,
                "!=" => Operator::NotEq,
                "<" => Operator::Less,
                ">" => Operator::Greater,
                "||" => return Err(self.unsupported_or()),
                _ => {
                    let help = match text {
                        "==" => "write `=`".to_owned(),
                        "<>" => "write `!=`".to_owned(),
                        "<=" | ">=" | "=<" | "=>" => {
                            "only `<` and `>` compare; for an inclusive bound compare with the next value".to_owned()
                        }
                        "&&" | "&" => "join conditions with `AND`".to_owned(),
                        _ => known.to_owned(),
                    };
                    self.report(
                        Diagnostic::error(
                            Code::InvalidOperator,
                            token.span,
                            format!("`{text}` is not an operator"),
                        )
                        .with_label("unknown operator")
                        .with_help(help),
                    );
                    return Err(Abandoned);
                }
            },
            TokenKind::Word if is_keyword(text, "IN") => Operator::In,
            TokenKind::Word if is_keyword(text, "MATCH") => Operator::Match,
            TokenKind::Word if is_keyword(text, "startsWith") => Operator::StartsWith,
            TokenKind::Word if is_keyword(text, "NOT") => {
                self.bump();
                return match self.peek_word() {
                    Some(next) if is_keyword(next, "IN") || is_keyword(next, "startsWith") => {
                        let next_token = self.bump().ok_or(Abandoned)?;
                        let op = if is_keyword(next, "IN") {
                            Operator::NotIn
                        } else {
                            Operator::NotStartsWith
                        };
                        Ok(Spanned::new(op, token.span.to(next_token.span)))
                    }
                    _ => Err(self.unexpected(
                        Code::InvalidOperator,
                        "`IN` or `startsWith` after `NOT`",
                        Some("the negated operators are `NOT IN` and `NOT startsWith`".to_owned()),
                    )),
                };
            }
            _ => {
                let help = if matches!(token.kind, TokenKind::Str(_)) {
                    format!("put an operator between `{name}` and the value, e.g. `=`")
                } else {
                    known.to_owned()
                };
                return Err(self.unexpected(
                    Code::InvalidOperator,
                    &format!("an operator after `{name}`"),
                    Some(help),
                ));
            }
        };
        self.bump();
        Ok(Spanned::new(operator, token.span))
    }

    fn value(&mut self, operator: Operator) -> Step<Value> {
        match self.peek().cloned() {
            Some(Token {
                kind: TokenKind::Str(literal),
                ..
            }) => {
                self.bump();
                Ok(Value::Single(literal))
            }
            Some(Token {
                kind: TokenKind::LParen,
                span,
                ..
            }) => {
                self.bump();
                self.list(span)
            }
            other => {
                let help = match other.as_ref().map(|t| (&t.kind, self.text(t))) {
                    Some((TokenKind::Word, word)) => {
                        format!("quote the value: `\"{}\"`", shorten(word))
                    }
                    _ if operator.arity() == crate::ast::Arity::List => {
                        format!("`{operator}` takes a list: `(\"a\", \"b\")`")
                    }
                    _ => "values are quoted strings, or lists of them: `(\"a\", \"b\")`".to_owned(),
                };
                Err(self.unexpected(
                    Code::UnexpectedToken,
                    "a quoted string or a list",
                    Some(help),
                ))
            }
        }
    }

    fn list(&mut self, open: Span) -> Step<Value> {
        let mut items: Vec<StringLit> = Vec::new();
        if let Some(close) = self.peek().filter(|t| t.kind == TokenKind::RParen).cloned() {
            self.bump();
            self.report(
                Diagnostic::error(Code::EmptyList, open.to(close.span), "empty list")
                    .with_label("a list needs at least one string")
                    .with_help("put at least one quoted string in the list: `(\"a\")`"),
            );
            return Err(Abandoned);
        }
        loop {
            match self.peek().cloned() {
                Some(Token {
                    kind: TokenKind::Str(literal),
                    ..
                }) => {
                    self.bump();
                    items.push(literal);
                }
                _ => {
                    let help = Some("list items are quoted strings separated by `,`".to_owned());
                    return Err(self.unexpected(Code::UnexpectedToken, "a quoted string", help));
                }
            }
            match self.peek().map(|t| t.kind.clone()) {
                Some(TokenKind::Comma) => {
                    self.bump();
                }
                Some(TokenKind::RParen) => {
                    let close = self.bump().ok_or(Abandoned)?;
                    let span = open.to(close.span);
                    if items.len() > MAX_LIST_VALUES {
                        self.report(
                            Diagnostic::error(
                                Code::ListTooLong,
                                span,
                                format!("list has {} values; at most {MAX_LIST_VALUES} are allowed", items.len()),
                            )
                            .with_label("this list")
                            .with_help("split the values over several statements, or use a shared prefix with `startsWith`"),
                        );
                        return Err(Abandoned);
                    }
                    return Ok(Value::List(Spanned::new(items, span)));
                }
                _ => {
                    let help = Some("close the list with `)`".to_owned());
                    return Err(self.unexpected(Code::UnexpectedToken, "`,` or `)`", help));
                }
            }
        }
    }

    // ---- boundaries ---------------------------------------------------------------------------

    fn boundary_conditions(&mut self) -> Vec<Condition> {
        let mut conditions: Vec<Condition> = Vec::new();
        while !self.exhausted {
            let Some(token) = self.peek().cloned() else {
                break;
            };
            if token.kind == TokenKind::Semicolon {
                self.bump();
                continue;
            }
            if !conditions.is_empty() && !token.newline_before {
                let code = if self.at_keyword("AND") {
                    Code::BoundaryAnd
                } else {
                    Code::UnexpectedToken
                };
                let message = if code == Code::BoundaryAnd {
                    "`AND` is not allowed in a boundary".to_owned()
                } else {
                    format!(
                        "expected a line break after the condition, found {}",
                        self.describe(Some(&token))
                    )
                };
                self.report(
                    Diagnostic::error(code, token.span, message)
                        .with_label("one condition per line")
                        .with_help(
                            "put each condition on its own line: conditions with different names are combined with AND, the same name with OR",
                        ),
                );
                self.skip_line();
                continue;
            }
            match self.condition() {
                Ok(condition) => {
                    if conditions.len() == MAX_BOUNDARY_CONDITIONS {
                        self.report(
                            Diagnostic::error(
                                Code::TooManyBoundaryConditions,
                                condition.span,
                                format!("too many conditions; a boundary has at most {MAX_BOUNDARY_CONDITIONS}"),
                            )
                            .with_label("condition 11")
                            .with_help("split the restrictions over several boundaries"),
                        );
                    }
                    conditions.push(condition);
                }
                Err(Abandoned) => self.skip_line(),
            }
        }
        conditions
    }

    /// Skips the rest of the current line.
    fn skip_line(&mut self) {
        if self.peek().is_some() {
            self.bump();
        }
        while self.peek().is_some_and(|t| !t.newline_before) {
            self.bump();
        }
    }
}

/// Words that cannot be condition names.
fn is_reserved(word: &str) -> bool {
    [
        "ALLOW",
        "DENY",
        "WHERE",
        "AND",
        "OR",
        "NOT",
        "IN",
        "MATCH",
        "startsWith",
        "null",
    ]
    .iter()
    .any(|keyword| is_keyword(word, keyword))
}

fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let head: String = text.chars().take(MAX).collect();
        format!("{head}…")
    }
}

/// `segment:segment:segment`, each segment `[a-z0-9][a-z0-9._-]*`.
pub fn check_permission_name(word: &str, span: Span) -> Result<(), Diagnostic> {
    let error = |message: String, help: String| {
        Err(
            Diagnostic::error(Code::InvalidPermissionName, span, message)
                .with_label("not a permission name")
                .with_help(help),
        )
    };
    if word.contains('*') {
        return error(
            format!("wildcards are not supported in permission names: `{word}`"),
            "list each permission the statement grants; `warden catalogue` lists them".to_owned(),
        );
    }
    let segments: Vec<&str> = word.split(':').collect();
    if segments.len() != 3 {
        return error(
            format!("`{word}` is not a permission name"),
            "permissions have the form `service:resource:action`, e.g. `settings:objects:read`"
                .to_owned(),
        );
    }
    if word.chars().any(|c| c.is_ascii_uppercase()) {
        return error(
            format!("permission names are lower-case: `{word}`"),
            format!("write `{}`", word.to_ascii_lowercase()),
        );
    }
    let valid_segment = |segment: &str| {
        let mut chars = segment.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && chars.all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
    };
    if !segments.iter().all(|segment| valid_segment(segment)) {
        return error(
            format!("`{word}` is not a permission name"),
            "each part of `service:resource:action` starts with a letter or digit and uses only `a-z 0-9 . _ -`"
                .to_owned(),
        );
    }
    Ok(())
}

/// `prefix:attribute`, prefix `[a-z0-9-]+`, attribute `[A-Za-z0-9._-]+`.
pub fn check_condition_name(word: &str, span: Span) -> Result<(), Diagnostic> {
    let valid = word.split_once(':').is_some_and(|(prefix, attribute)| {
        !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !attribute.is_empty()
            && attribute
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    });
    if valid {
        Ok(())
    } else {
        Err(Diagnostic::error(
            Code::InvalidConditionName,
            span,
            format!("`{word}` is not a condition name"),
        )
        .with_label("not a condition name")
        .with_help("conditions have the form `service:attribute`, e.g. `storage:bucket-name`"))
    }
}

#[cfg(test)]
mod tests;
