//! Advice on service-user names: a name that says nothing about what the service user does
//! (`test`, `service1`, a name of three characters) is answered with a warning when a service
//! user is created or renamed — never refused. The lists are data
//! (`data/service-user-names.toml`, replaceable by the operator with a file of the same form).

use serde::Deserialize;

/// The lists a name is checked against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Naming {
    /// Whole names that are generic.
    #[serde(default)]
    names: Vec<String>,
    /// Words that are generic on their own or followed only by digits.
    #[serde(default)]
    words: Vec<String>,
    /// Names shorter than this are generic.
    #[serde(default)]
    min_length: usize,
}

impl Naming {
    /// Reads a file of the form of `data/service-user-names.toml`; `origin` names it in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Naming, String> {
        let mut naming: Naming =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.message()))?;
        naming.names = naming.names.iter().map(|n| normalise(n)).collect();
        naming.words = naming.words.iter().map(|w| normalise(w)).collect();
        Ok(naming)
    }

    /// The built-in lists.
    pub fn builtin() -> Result<Naming, String> {
        Naming::from_toml(
            "data/service-user-names.toml",
            warden_data::SERVICE_USER_NAMES,
        )
    }

    /// The warning a name deserves, if any.
    pub fn advise(&self, name: &str) -> Option<String> {
        let name = name.trim();
        let folded = normalise(name);
        let stem = folded.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
        let generic = self.names.contains(&folded)
            || folded.chars().count() < self.min_length
            || self.words.iter().any(|w| w == stem);
        generic.then(|| {
            format!(
                "the name `{name}` does not say what the service user is for; name it after the system that holds its credentials and its job (such as `GitLab deploy pipeline`), so that a reviewer can tell"
            )
        })
    }
}

/// Lower case, with runs of spaces, `_` and `-` read as one `-`.
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.trim().chars() {
        if matches!(c, ' ' | '_' | '-') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out.trim_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_names_get_a_warning_and_descriptive_ones_none() {
        let naming = Naming::builtin().unwrap();
        for generic in [
            "test",
            "Test",
            " service ",
            "service1",
            "my-service",
            "My Service",
            "my_service",
            "svc",
            "ab",
            "app-2",
            "Service 03",
            "bot7",
            "automation",
        ] {
            assert!(naming.advise(generic).is_some(), "{generic}");
        }
        for descriptive in [
            "Pipeline Automation",
            "GitLab deploy pipeline",
            "backup-exporter",
            "service-now sync",
            "app store connector",
            "test results uploader",
        ] {
            assert_eq!(naming.advise(descriptive), None, "{descriptive}");
        }
        assert_eq!(
            naming.advise("service1").unwrap(),
            "the name `service1` does not say what the service user is for; name it after the system that holds its credentials and its job (such as `GitLab deploy pipeline`), so that a reviewer can tell"
        );
    }

    #[test]
    fn an_operators_file_replaces_the_lists() {
        let naming =
            Naming::from_toml("names.toml", "names = [\"x-ray\"]\nmin_length = 2").unwrap();
        assert!(naming.advise("X Ray").is_some());
        assert_eq!(naming.advise("test"), None);
        let error = Naming::from_toml("names.toml", "nmes = []").unwrap_err();
        assert!(
            error.starts_with("names.toml: unknown field `nmes`"),
            "{error}"
        );
    }
}
