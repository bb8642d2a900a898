//! Warden's built-in data, embedded at build time from the repository's `data/` folder so that the
//! `warden` binary runs from any directory. This crate only holds texts; parsing and checking them
//! is the job of `warden-policy` (catalogue, policies) and `warden-engine` (index, groups).

include!(concat!(env!("OUT_DIR"), "/files.rs"));

/// `data/policies/index.toml`: names, aliases, descriptions and files of the global policies.
pub static POLICY_INDEX: &str = include_str!("../../../data/policies/index.toml");

/// `data/groups.toml`: the default groups of every new account.
pub static DEFAULT_GROUPS: &str = include_str!("../../../data/groups.toml");

/// The text of one global policy file, by file name.
pub fn policy_file(name: &str) -> Option<&'static str> {
    POLICY_FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
}

/// `data/service-user-names.toml`: service-user names that deserve a warning.
pub static SERVICE_USER_NAMES: &str = include_str!("../../../data/service-user-names.toml");
