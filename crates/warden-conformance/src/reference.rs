//! The reference evaluator: SPEC §3–§5 read literally, for tests only.
//!
//! It shares nothing with the engine but the parser (warden-policy's `parse_policy` and
//! `parse_boundary`, tested on their own) and the catalogue's data. No index, no compilation, no
//! cache: every request walks every binding of every group of the principal, parses the bound
//! policy and its boundaries again, and evaluates the AST with the placeholders substituted on the
//! way. Slow and short on purpose, so that it can be read against the SPEC line by line.
//!
//! Input that the SPEC calls invalid (a text that does not parse, a missing parameter, a list
//! parameter where one string is expected, a malformed time literal, …) is an `Err`: the
//! generator must never produce it, so a differential test fails on it instead of guessing.

use std::cmp::Ordering;

use warden_policy::ast::{Condition, GlobalAttribute, Placeholder, StringLit, StringPart};
use warden_policy::{Catalogue, Effect, Operator, Value, parse_boundary, parse_policy};

use crate::model::{Level, Outcome, Param, PrincipalDef, Request, World};

/// A condition's value in three-valued logic: `Unknown` when the attribute is missing, or when the
/// answer depends on a placeholder the request cannot fill (`${global:environmentId}` at account
/// level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }

    /// SPEC §3 "Missing attributes never widen access": unknown makes an ALLOW condition false
    /// and a DENY condition true.
    fn holds(self, effect: Effect) -> bool {
        match self {
            Truth::True => true,
            Truth::False => false,
            Truth::Unknown => effect == Effect::Deny,
        }
    }
}

/// What a condition may read while one binding of one request is evaluated.
struct Scope<'a> {
    request: &'a Request,
    principal: &'a PrincipalDef,
    binding_parameters: &'a std::collections::BTreeMap<String, Param>,
}

/// Decides a request in a world.
pub fn decide(world: &World, catalogue: &Catalogue, request: &Request) -> Result<Outcome, String> {
    // §3.1: deny if the principal is unknown or not active.
    let Some(principal) = find_principal(world, &request.principal) else {
        return Ok(Outcome::Deny);
    };
    if !principal.active {
        return Ok(Outcome::Deny);
    }
    // §3.2: an account-level binding applies to every environment *of the account*; a request in
    // an environment the account does not have is matched by no binding.
    if let Some(environment) = &request.environment
        && !world.environments.contains(environment)
    {
        return Ok(Outcome::Deny);
    }

    let mut allowed = false;
    let mut denied = false;
    // §3.2: the principal's groups, then the bindings of those groups at the account level and,
    // when the request names an environment, at that environment.
    for group in &principal.groups {
        for binding in world.bindings.iter().filter(|b| &b.group == group) {
            let applies = match &binding.level {
                Level::Account => true,
                Level::Environment(env) => request.environment.as_ref() == Some(env),
                Level::Global => return Err("a binding at global level".to_owned()),
            };
            if !applies {
                continue;
            }
            let policy = world
                .policies
                .iter()
                .find(|p| p.id == binding.policy)
                .ok_or_else(|| format!("binding of unknown policy `{}`", binding.policy))?;
            let ast = parse_policy(&policy.text)
                .ok()
                .map_err(|d| format!("policy `{}` does not parse: {d:?}", policy.id))?;
            let mut boundaries: Vec<Vec<Condition>> = Vec::new();
            for id in &binding.boundaries {
                let boundary = world
                    .boundaries
                    .iter()
                    .find(|b| &b.id == id)
                    .ok_or_else(|| format!("binding uses unknown boundary `{id}`"))?;
                let parsed = parse_boundary(&boundary.text)
                    .ok()
                    .map_err(|d| format!("boundary `{id}` does not parse: {d:?}"))?;
                boundaries.push(parsed.conditions);
            }
            let scope = Scope {
                request,
                principal,
                binding_parameters: &binding.parameters,
            };

            for statement in &ast.statements {
                let effect = statement.effect.node;
                // §4.1: a statement is split into one statement per permission (for a DENY, or an
                // ALLOW without boundaries, splitting changes nothing).
                for permission in &statement.permissions {
                    let permission = permission.node.as_str();
                    // §3.4: keep the ALLOW statements that name the requested permission or a
                    // permission that implies it, and the DENY statements that name the
                    // requested permission or a permission that it implies.
                    let kept = permission == request.permission
                        || match effect {
                            Effect::Allow => implies(catalogue, permission, &request.permission),
                            Effect::Deny => implies(catalogue, &request.permission, permission),
                        };
                    if !kept {
                        continue;
                    }
                    // Conditions of one statement are ANDed (§3).
                    let mut own = true;
                    for condition in &statement.conditions {
                        own &= evaluate(condition, &scope)?.holds(effect);
                    }
                    match effect {
                        // §4.5: DENY statements are never changed by boundaries.
                        // §3.5: DENY wins.
                        Effect::Deny => denied |= own,
                        Effect::Allow => {
                            // §4.2: each boundary separately, the results unioned. Without
                            // boundaries the statement stands as written.
                            let mut bounded = boundaries.is_empty();
                            for conditions in &boundaries {
                                bounded |=
                                    boundary_holds(conditions, permission, catalogue, &scope)?;
                            }
                            // §4.3: the boundary's result is ANDed onto the statement's own
                            // conditions.
                            allowed |= own && bounded;
                        }
                    }
                }
            }
        }
    }
    // §3.5: DENY wins; otherwise ALLOW if an ALLOW applies; otherwise DENY (default deny).
    Ok(if denied {
        Outcome::Deny
    } else if allowed {
        Outcome::Allow
    } else {
        Outcome::Deny
    })
}

/// A principal by uid, or by email or service-user handle in any ASCII case. Only ASCII letters
/// fold: Unicode case mapping would merge look-alikes (the Kelvin sign `K` becomes `k`) into
/// someone else's identity.
fn find_principal<'w>(world: &'w World, key: &str) -> Option<&'w PrincipalDef> {
    let folded = key.trim().to_ascii_lowercase();
    world.principals.iter().find(|p| p.uid == key).or_else(|| {
        world
            .principals
            .iter()
            .find(|p| p.email == folded || p.handle.as_deref() == Some(folded.as_str()))
    })
}

/// §3.4: whether `implying` implies `implied`, read from the implying permission's own
/// `implies` entry in the catalogue.
fn implies(catalogue: &Catalogue, implying: &str, implied: &str) -> bool {
    catalogue
        .permission(implying)
        .is_some_and(|p| p.implies.iter().any(|i| i == implied))
}

/// §4.3–4.4: whether one boundary lets `permission` through.
fn boundary_holds(
    conditions: &[Condition],
    permission: &str,
    catalogue: &Catalogue,
    scope: &Scope<'_>,
) -> Result<bool, String> {
    // §4.3: only the conditions that the permission supports (per the catalogue), plus global
    // conditions, apply.
    let applicable: Vec<&Condition> = conditions
        .iter()
        .filter(|c| {
            let name = c.name.node.as_str();
            catalogue.global_condition(name).is_some()
                || catalogue
                    .permission(permission)
                    .is_some_and(|p| p.condition(name).is_some())
        })
        .collect();
    // §4.3: conditions with the same name are ORed, conditions with different names ANDed.
    // §4.4: when none applies, the loop does not run: unrestricted under this boundary.
    for condition in &applicable {
        let name = &condition.name.node;
        let mut any = false;
        for same in applicable.iter().filter(|c| &c.name.node == name) {
            // Boundaries narrow ALLOW statements: the ALLOW rule for missing attributes.
            any |= evaluate(same, scope)?.holds(Effect::Allow);
        }
        if !any {
            return Ok(false);
        }
    }
    Ok(true)
}

/// One condition against the request (SPEC §3 operator table, §5 placeholders and time).
fn evaluate(condition: &Condition, scope: &Scope<'_>) -> Result<Truth, String> {
    let name = condition.name.node.as_str();
    let operator = condition.operator.node;
    let operands = operands(&condition.value, scope)?;
    if let Some(kind) = time_kind(name) {
        return time::evaluate(kind, operator, &operands, scope.request.time);
    }
    // The attribute's values: `global:environmentId` is the request's environment (none at
    // account level); every other attribute comes from the request.
    let values: Vec<&str> = if name == "global:environmentId" {
        scope
            .request
            .environment
            .iter()
            .map(String::as_str)
            .collect()
    } else {
        scope
            .request
            .attributes
            .get(name)
            .map(|v| v.values().iter().map(String::as_str).collect())
            .unwrap_or_default()
    };
    // §3: an attribute the request does not carry, or carries as an empty list, is missing.
    if values.is_empty() {
        return Ok(Truth::Unknown);
    }
    // "some value of the attribute …": true as soon as one known operand matches one value;
    // otherwise unknown if an operand could not be filled (it might have matched), else false.
    let some = |test: &dyn Fn(&str, &str) -> bool| -> Truth {
        let matched = values
            .iter()
            .any(|v| operands.iter().flatten().any(|o| test(v, o)));
        if matched {
            Truth::True
        } else if operands.iter().any(Option::is_none) {
            Truth::Unknown
        } else {
            Truth::False
        }
    };
    let equals = |v: &str, o: &str| v == o;
    let starts = |v: &str, o: &str| v.starts_with(o);
    let glob = |v: &str, o: &str| glob_matches(o, v);
    Ok(match operator {
        // `=` / `IN` / `startsWith` / `MATCH`: some value equals / is in the list / starts with
        // the prefix / matches a pattern.
        Operator::Eq | Operator::In => some(&equals),
        Operator::StartsWith => some(&starts),
        Operator::Match => some(&glob),
        // `!=` / `NOT IN` / `NOT startsWith`: no value equals / is in / starts with.
        Operator::NotEq | Operator::NotIn => some(&equals).not(),
        Operator::NotStartsWith => some(&starts).not(),
        Operator::Less | Operator::Greater => {
            return Err(format!(
                "`{operator}` on `{name}`, which is not a time condition"
            ));
        }
    })
}

/// The strings a condition compares with, placeholders substituted (§5). `None`: a string whose
/// placeholder the request cannot fill.
fn operands(value: &Value, scope: &Scope<'_>) -> Result<Vec<Option<String>>, String> {
    let in_list = matches!(value, Value::List(_));
    let mut out = Vec::new();
    for string in value.strings() {
        match string.sole_placeholder() {
            // §5: a string that is exactly one placeholder, inside a list, expands to several
            // list items when the parameter value is a list.
            Some(Placeholder::BindParam(name)) if in_list => match parameter(name, scope)? {
                Param::One(value) => out.push(Some(value.clone())),
                Param::Many(values) => out.extend(values.iter().cloned().map(Some)),
            },
            // §5: `${global:userGroup}` is the list of the principal's group uuids.
            Some(Placeholder::Global(GlobalAttribute::UserGroup)) if in_list => {
                out.extend(scope.principal.groups.iter().cloned().map(Some));
            }
            _ => out.push(substitute(string, scope)?),
        }
    }
    Ok(out)
}

/// One string with its placeholders replaced as literal text (§5: never re-parsed).
fn substitute(string: &StringLit, scope: &Scope<'_>) -> Result<Option<String>, String> {
    let mut text = String::new();
    for part in &string.parts {
        match part {
            StringPart::Text(literal) => text.push_str(literal),
            StringPart::Placeholder(Placeholder::BindParam(name)) => {
                match parameter(name, scope)? {
                    Param::One(value) => text.push_str(value),
                    // §5: a list value in a one-string position is a binding error.
                    Param::Many(_) => {
                        return Err(format!(
                            "list parameter `{name}` where one string is expected"
                        ));
                    }
                }
            }
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserId)) => {
                text.push_str(&scope.principal.uid);
            }
            // §5: the principal's email, as Warden keeps it (emails are case-insensitive and
            // stored in lower case).
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserEmail)) => {
                text.push_str(&scope.principal.email.to_ascii_lowercase());
            }
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::EnvironmentId)) => {
                match &scope.request.environment {
                    Some(environment) => text.push_str(environment),
                    None => return Ok(None),
                }
            }
            StringPart::Placeholder(Placeholder::Global(GlobalAttribute::UserGroup)) => {
                return Err("`${global:userGroup}` where one string is expected".to_owned());
            }
        }
    }
    Ok(Some(text))
}

fn parameter<'s>(name: &str, scope: &Scope<'s>) -> Result<&'s Param, String> {
    scope
        .binding_parameters
        .get(name)
        .ok_or_else(|| format!("the binding gives no parameter `{name}`"))
}

/// SPEC §3: anchored globs, `*` any run of characters (also none), `?` one character, `\*` and
/// `\?` a literal `*` and `?`. A `\` before anything else is itself. Characters, not bytes.
pub fn glob_matches(pattern: &str, value: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Literal(char),
        AnyRun,
        AnyOne,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '\\' => match chars.next_if(|next| *next == '*' || *next == '?') {
                Some(escaped) => Token::Literal(escaped),
                None => Token::Literal('\\'),
            },
            '*' => Token::AnyRun,
            '?' => Token::AnyOne,
            c => Token::Literal(c),
        });
    }
    fn matches(tokens: &[Token], value: &[char]) -> bool {
        match tokens.split_first() {
            None => value.is_empty(),
            Some((Token::AnyRun, rest)) => {
                (0..=value.len()).any(|skip| value.get(skip..).is_some_and(|v| matches(rest, v)))
            }
            Some((Token::AnyOne, rest)) => value
                .split_first()
                .is_some_and(|(_, tail)| matches(rest, tail)),
            Some((Token::Literal(c), rest)) => value
                .split_first()
                .is_some_and(|(head, tail)| head == c && matches(rest, tail)),
        }
    }
    let value: Vec<char> = value.chars().collect();
    matches(&tokens, &value)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeKind {
    Date,
    DateTime,
    TimeOfDay,
    WeekDay,
}

fn time_kind(name: &str) -> Option<TimeKind> {
    match name {
        "global:date" => Some(TimeKind::Date),
        "global:date-time" => Some(TimeKind::DateTime),
        "global:time-of-day" => Some(TimeKind::TimeOfDay),
        "global:week-day" => Some(TimeKind::WeekDay),
        _ => None,
    }
}

/// §5 time conditions, from the request's time. Written apart from warden-policy's `temporal`
/// module: dates by counting days, not by the closed formula.
mod time {
    use super::*;

    const DAY: i64 = 86_400;
    pub const WEEK_DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];

    pub fn evaluate(
        kind: TimeKind,
        operator: Operator,
        operands: &[Option<String>],
        now: i64,
    ) -> Result<Truth, String> {
        let mut orders = Vec::new();
        for operand in operands {
            let literal = operand
                .as_deref()
                .ok_or("a time literal with a placeholder the request cannot fill")?;
            orders.push(compare(kind, literal, now)?);
        }
        let equal = orders.contains(&Ordering::Equal);
        let only = || match orders.as_slice() {
            [one] => Ok(*one),
            _ => Err(format!("`{operator}` compares with one time")),
        };
        let truth = match operator {
            // `<` / `>`: the request's time is before / after the literal.
            Operator::Less => only()? == Ordering::Less,
            Operator::Greater => only()? == Ordering::Greater,
            Operator::Eq | Operator::In => equal,
            Operator::NotEq | Operator::NotIn => !equal,
            _ => return Err(format!("`{operator}` on a time condition")),
        };
        Ok(if truth { Truth::True } else { Truth::False })
    }

    /// The request's time against a literal, in the literal's zone: `Less` when the request is
    /// before it.
    fn compare(kind: TimeKind, literal: &str, now: i64) -> Result<Ordering, String> {
        let bad = || format!("`{literal}` is not a valid {kind:?} literal");
        match kind {
            TimeKind::Date => {
                // `YYYY-MM-DD`, then an optional zone.
                let (date, zone) = split_at_char(literal, 10).ok_or_else(bad)?;
                let date = parse_date(date).ok_or_else(bad)?;
                let offset = parse_zone(zone, true).ok_or_else(bad)?;
                let (request_date, _) = local(now, offset);
                Ok(request_date.cmp(&date))
            }
            TimeKind::DateTime => {
                // `YYYY-MM-DDTHH:MM[:SS]` and a required zone.
                let (date, rest) = literal.split_once(['T', 't']).ok_or_else(bad)?;
                let date = parse_date(date).ok_or_else(bad)?;
                let zone_at = rest.find(['Z', 'z', '+', '-']).ok_or_else(bad)?;
                let (clock, zone) = rest.split_at(zone_at);
                let clock = parse_clock(clock).ok_or_else(bad)?;
                let offset = parse_zone(zone, false).ok_or_else(bad)?;
                // The same instant order as wall-clock order at one fixed offset.
                Ok(local(now, offset).cmp(&(date, clock)))
            }
            TimeKind::TimeOfDay => {
                // `HH:MM[:SS]`, then an optional zone: the request's time of day in that zone.
                let zone_at = literal.find(['Z', 'z', '+', '-']).unwrap_or(literal.len());
                let (clock, zone) = literal.split_at(zone_at);
                let clock = parse_clock(clock).ok_or_else(bad)?;
                let offset = parse_zone(zone, true).ok_or_else(bad)?;
                let (_, request_clock) = local(now, offset);
                Ok(request_clock.cmp(&clock))
            }
            TimeKind::WeekDay => {
                // In UTC (GMT), like the catalogue says. 1970-01-01 was a Thursday.
                let day = WEEK_DAYS
                    .iter()
                    .position(|d| *d == literal)
                    .ok_or_else(bad)?;
                let today = (now.div_euclid(DAY) + 3).rem_euclid(7);
                Ok(today.cmp(&i64::try_from(day).map_err(|_| bad())?))
            }
        }
    }

    fn split_at_char(text: &str, at: usize) -> Option<(&str, &str)> {
        text.is_char_boundary(at.min(text.len()))
            .then(|| text.split_at(at.min(text.len())))
    }

    /// (year, month, day) and seconds since midnight of `now` at `offset` seconds east of UTC.
    fn local(now: i64, offset: i64) -> ((i64, i64, i64), i64) {
        let shifted = now + offset;
        (civil(shifted.div_euclid(DAY)), shifted.rem_euclid(DAY))
    }

    fn leap(year: i64) -> bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    fn month_lengths(year: i64) -> [i64; 12] {
        let february = if leap(year) { 29 } else { 28 };
        [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    }

    /// The date `days` days after 1970-01-01, by counting whole years and then whole months.
    fn civil(mut days: i64) -> (i64, i64, i64) {
        let mut year = 1970;
        loop {
            let length = if leap(year) { 366 } else { 365 };
            if days < 0 {
                year -= 1;
                days += if leap(year) { 366 } else { 365 };
            } else if days >= length {
                days -= length;
                year += 1;
            } else {
                break;
            }
        }
        let mut month = 1;
        for length in month_lengths(year) {
            if days < length {
                break;
            }
            days -= length;
            month += 1;
        }
        (year, month, days + 1)
    }

    fn number(text: &str, len: usize) -> Option<i64> {
        (text.len() == len && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse().ok())
            .flatten()
    }

    fn parse_date(text: &str) -> Option<(i64, i64, i64)> {
        let mut parts = text.split('-');
        let year = number(parts.next()?, 4)?;
        let month = number(parts.next()?, 2)?;
        let day = number(parts.next()?, 2)?;
        let length = *month_lengths(year).get(usize::try_from(month).ok()?.checked_sub(1)?)?;
        (parts.next().is_none() && (1..=length).contains(&day)).then_some((year, month, day))
    }

    fn parse_clock(text: &str) -> Option<i64> {
        let mut parts = text.split(':');
        let hours = number(parts.next()?, 2)?;
        let minutes = number(parts.next()?, 2)?;
        let seconds = match parts.next() {
            Some(seconds) => number(seconds, 2)?,
            None => 0,
        };
        (parts.next().is_none() && hours < 24 && minutes < 60 && seconds < 60)
            .then_some(hours * 3600 + minutes * 60 + seconds)
    }

    /// Seconds east of UTC: `Z`, `+HH:MM`, `-HH:MM`, or nothing when the zone is optional.
    fn parse_zone(text: &str, optional: bool) -> Option<i64> {
        if (text.is_empty() && optional) || text == "Z" || text == "z" {
            return Some(0);
        }
        let sign = match text.get(..1)? {
            "+" => 1,
            "-" => -1,
            _ => return None,
        };
        let (hours, minutes) = text.get(1..)?.split_once(':')?;
        let (hours, minutes) = (number(hours, 2)?, number(minutes, 2)?);
        (hours < 24 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn civil_dates_by_counting() {
            assert_eq!(civil(0), (1970, 1, 1));
            assert_eq!(civil(-1), (1969, 12, 31));
            assert_eq!(civil(11_017), (2000, 3, 1));
            // 2026-05-04 is day 20577.
            assert_eq!(civil(20_577), (2026, 5, 4));
            assert_eq!(civil(365 + 365 + 366 - 1), (1972, 12, 31));
        }

        #[test]
        fn literals_in_their_zone() {
            let monday_10h = 1_777_888_800; // 2026-05-04T10:00:00Z
            let cmp = |kind, text| compare(kind, text, monday_10h).unwrap();
            assert_eq!(cmp(TimeKind::Date, "2026-05-04"), Ordering::Equal);
            assert_eq!(cmp(TimeKind::Date, "2026-05-04+14:00"), Ordering::Greater);
            assert_eq!(cmp(TimeKind::Date, "2026-05-04-11:00"), Ordering::Less);
            assert_eq!(
                cmp(TimeKind::DateTime, "2026-05-04T11:00+01:00"),
                Ordering::Equal
            );
            assert_eq!(
                cmp(TimeKind::DateTime, "2026-05-04T10:00:01Z"),
                Ordering::Less
            );
            assert_eq!(cmp(TimeKind::TimeOfDay, "09:00+01:00"), Ordering::Greater);
            assert_eq!(cmp(TimeKind::TimeOfDay, "01:00-10:00"), Ordering::Less);
            assert_eq!(cmp(TimeKind::WeekDay, "Monday"), Ordering::Equal);
            assert!(compare(TimeKind::Date, "2026-02-29", 0).is_err());
            assert!(compare(TimeKind::DateTime, "2026-05-04T10:00", 0).is_err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (pattern, value, expected) in [
            ("", "", true),
            ("", "a", false),
            ("*", "", true),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("?", "é", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("a\\?", "a?", true),
            ("a\\?", "ab", false),
            ("a\\b", "a\\b", true),
            ("\\", "\\", true),
            ("\\\\*", "\\*", true),
            ("\\\\*", "\\x", false),
            ("*a*b", "xaxxb", true),
            ("*a*b", "xaxxbc", false),
        ] {
            assert_eq!(
                glob_matches(pattern, value),
                expected,
                "{pattern:?} {value:?}"
            );
        }
    }
}
