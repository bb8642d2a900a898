//! The names a test file defines (policies, boundaries, groups), matched without regard to ASCII
//! case as the directory matches them (SPEC §11), with where each was defined and the id it got.

use super::report::Pos;
use crate::directory::Id;

#[derive(Debug, Clone)]
pub(super) struct NameEntry {
    key: String,
    /// As first written.
    pub name: String,
    pub at: Pos,
    /// `None` while the definition is not (or could not be) added to the directory.
    pub id: Option<Id>,
    /// A built-in name (a default group), not defined by the file.
    pub builtin: bool,
}

#[derive(Debug, Clone, Default)]
pub(super) struct NameTable {
    entries: Vec<NameEntry>,
}

impl NameTable {
    pub fn add(&mut self, name: &str, at: Pos) {
        self.entries.push(NameEntry {
            key: name.to_ascii_lowercase(),
            name: name.to_owned(),
            at,
            id: None,
            builtin: false,
        });
    }

    pub fn add_builtin(&mut self, name: &str, id: &str) {
        self.entries.push(NameEntry {
            key: name.to_ascii_lowercase(),
            name: name.to_owned(),
            at: Pos::START,
            id: Some(id.into()),
            builtin: true,
        });
    }

    pub fn set_id(&mut self, name: &str, id: &str) {
        let key = name.to_ascii_lowercase();
        if let Some(entry) = self.entries.iter_mut().find(|e| e.key == key) {
            entry.id = Some(id.into());
        }
    }

    pub fn find(&self, name: &str) -> Option<&NameEntry> {
        let key = name.to_ascii_lowercase();
        self.entries.iter().find(|e| e.key == key)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }
}

/// `Environment Users` → `environment-users`: the id of a default group in a test world.
pub(super) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_without_ascii_case() {
        let mut table = NameTable::default();
        table.add("Admin user", Pos::new(3, 3));
        table.set_id("ADMIN USER", "policy-1");
        let found = table.find("Admin User").unwrap();
        assert_eq!(found.name, "Admin user");
        assert_eq!(found.id.as_deref(), Some("policy-1"));
        assert!(table.find("Admin users").is_none());
        assert_eq!(slug("Environment Users"), "environment-users");
        assert_eq!(slug("  AppEngine - Admin "), "appengine-admin");
    }
}
