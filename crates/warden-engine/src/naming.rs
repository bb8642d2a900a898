//! Names derived from other names: the handle of a service user (SPEC §7).
//!
//! This module owns the derivation rule only; keeping handles unique and immutable is the job of
//! whoever stores them (the directory, the server), which passes in what is already taken.

/// The suffix every service-user handle ends with.
pub const HANDLE_SUFFIX: &str = "@service";

/// The base used when a name keeps no letter or digit (`"!!!"`, `"Ωμέγα"`, `""`).
pub const FALLBACK_BASE: &str = "service_user";

/// The handle of a service user named `name` (SPEC §7): surrounding whitespace trimmed, ASCII
/// letters lower-cased, every whitespace character turned into `_`, every other character outside
/// `[a-z0-9_]` removed, then `@service` appended (`Pipeline Automation` →
/// `pipeline_automation@service`). While `taken` says a candidate is in use, a numeric suffix
/// `_2`, `_3`, … goes before `@service`.
///
/// Non-ASCII characters are removed, never transliterated or case-folded (`Zoë` →
/// `zo@service`): the result is the same on every platform and for every locale, and `K` (KELVIN
/// SIGN) cannot turn into an ASCII `k` through lower-casing. A name that keeps no ASCII letter or
/// digit gets the base `service_user`.
///
/// ```
/// use warden_engine::naming::service_user_handle;
///
/// assert_eq!(
///     service_user_handle("Pipeline Automation", |_| false),
///     "pipeline_automation@service"
/// );
/// let taken = |h: &str| h == "bot@service";
/// assert_eq!(service_user_handle("Bot", taken), "bot_2@service");
/// ```
pub fn service_user_handle(name: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut base: String = name
        .trim()
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some('_')
            } else if c.is_ascii_alphanumeric() || c == '_' {
                Some(c.to_ascii_lowercase())
            } else {
                None
            }
        })
        .collect();
    if !base.chars().any(|c| c.is_ascii_alphanumeric()) {
        base = FALLBACK_BASE.to_owned();
    }
    let first = format!("{base}{HANDLE_SUFFIX}");
    if !taken(&first) {
        return first;
    }
    let mut n: u64 = 2;
    loop {
        let candidate = format!("{base}_{n}{HANDLE_SUFFIX}");
        if !taken(&candidate) || n == u64::MAX {
            return candidate;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle(name: &str) -> String {
        service_user_handle(name, |_| false)
    }

    #[test]
    fn lowercases_turns_spaces_into_underscores_and_drops_the_rest() {
        assert_eq!(handle("Pipeline Automation"), "pipeline_automation@service");
        assert_eq!(handle("CI/CD bot #3"), "cicd_bot_3@service");
        assert_eq!(handle("deploy-bot.v2"), "deploybotv2@service");
        assert_eq!(handle("already_snake"), "already_snake@service");
        // Each inner whitespace character becomes one `_`; surrounding whitespace is trimmed.
        assert_eq!(
            handle("  Two  Spaces\tand tab "),
            "two__spaces_and_tab@service"
        );
    }

    #[test]
    fn non_ascii_characters_are_removed_not_transliterated() {
        assert_eq!(handle("Zoë"), "zo@service");
        assert_eq!(handle("Jürgen's Bot"), "jrgens_bot@service");
        // KELVIN SIGN lower-cases to an ASCII `k` under Unicode rules; here it is just removed.
        assert_eq!(handle("\u{212A}ube"), "ube@service");
        assert_eq!(handle("\u{130}stanbul"), "stanbul@service");
    }

    #[test]
    fn names_without_letters_or_digits_get_the_fallback_base() {
        assert_eq!(handle(""), "service_user@service");
        assert_eq!(handle("   "), "service_user@service");
        assert_eq!(handle("!!!"), "service_user@service");
        assert_eq!(handle("- -"), "service_user@service");
        assert_eq!(handle("Ωμέγα"), "service_user@service");
        let taken = |h: &str| h == "service_user@service";
        assert_eq!(service_user_handle("ëë", taken), "service_user_2@service");
    }

    #[test]
    fn collisions_get_the_next_free_numeric_suffix() {
        let used = ["bot@service", "bot_2@service", "bot_3@service"];
        let taken = |h: &str| used.contains(&h);
        assert_eq!(service_user_handle("Bot", taken), "bot_4@service");
        assert_eq!(service_user_handle("Other", taken), "other@service");
        // A gap is reused: only what `taken` reports counts.
        let gap = |h: &str| h == "bot@service" || h == "bot_3@service";
        assert_eq!(service_user_handle("BOT", gap), "bot_2@service");
    }
}
