//! Names to ids: commands take a group, policy or boundary by its id or by its name (any case, as
//! the server matches names), resolved through the server's lists.

use serde_json::Value;

use crate::command::client::{Client, with_query};
use crate::command::values::{Level, field, items, text};
use crate::output::CliError;

/// Something with an id and a name, and the server's JSON of it.
#[derive(Debug, Clone)]
pub struct Named {
    pub id: String,
    pub name: String,
    pub value: Value,
}

impl Named {
    fn from(value: &Value, id_key: &str) -> Named {
        Named {
            id: text(value, id_key),
            name: text(value, "name"),
            value: value.clone(),
        }
    }
}

fn fold(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The item whose id is `wanted`, else the one whose name is `wanted` ignoring case. `kind` is
/// "group", "policy", …; `list` is the command that lists them, for the help.
pub fn pick(kind: &str, wanted: &str, all: &[Named], list: &str) -> Result<Named, CliError> {
    if let Some(found) = all.iter().find(|n| n.id == wanted) {
        return Ok(found.clone());
    }
    let matching: Vec<&Named> = all
        .iter()
        .filter(|n| fold(&n.name) == fold(wanted))
        .collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let error =
                CliError::new("not_found", format!("there is no {kind} `{wanted}`")).with_exit(1);
            Err(match suggestion(wanted, all) {
                Some(name) => error.with_help(format!("did you mean `{name}`?")),
                None => error.with_help(format!("list them with `{list}`")),
            })
        }
        many => {
            let ids: Vec<String> = many.iter().map(|n| format!("`{}`", n.id)).collect();
            Err(CliError::new(
                "ambiguous",
                format!(
                    "`{wanted}` names {} {kind} items: {}",
                    many.len(),
                    ids.join(", ")
                ),
            )
            .with_exit(1)
            .with_help(format!("give the {kind}'s id instead of its name")))
        }
    }
}

/// The closest name, when it is close enough to be a typo.
fn suggestion<'a>(wanted: &str, all: &'a [Named]) -> Option<&'a str> {
    let wanted = fold(wanted);
    all.iter()
        .map(|n| {
            (
                strsim::levenshtein(&wanted, &fold(&n.name)),
                n.name.as_str(),
            )
        })
        .filter(|(distance, _)| *distance <= (wanted.chars().count() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Every group of the account.
pub fn groups(client: &Client) -> Result<Vec<Named>, CliError> {
    let reply = client.get(client.accounts(&["groups"])?)?;
    Ok(items(&reply.body, "items")
        .iter()
        .map(|g| Named::from(g, "uuid"))
        .collect())
}

pub fn group(client: &Client, wanted: &str) -> Result<Named, CliError> {
    pick("group", wanted, &groups(client)?, "warden group list")
}

/// The policies defined at a level; with `inherited`, also those visible there (global, account).
pub fn policies(client: &Client, level: &Level, inherited: bool) -> Result<Vec<Named>, CliError> {
    if inherited && *level != Level::Global {
        let reply = client.get(client.repo(level, &["policies", "aggregate"])?)?;
        return Ok(items(&reply.body, "policyOverviewList")
            .iter()
            .map(|p| Named::from(p, "uuid"))
            .collect());
    }
    let reply = client.get(client.repo(level, &["policies"])?)?;
    Ok(items(&reply.body, "policies")
        .iter()
        .map(|p| Named::from(p, "uuid"))
        .collect())
}

/// A policy defined at the level (for get, update, delete).
pub fn policy_at(client: &Client, level: &Level, wanted: &str) -> Result<Named, CliError> {
    let list = format!("warden policy list --level {level}");
    pick("policy", wanted, &policies(client, level, false)?, &list)
}

/// A policy visible at the level (for bindings: global, account and the level's own).
pub fn policy_visible(client: &Client, level: &Level, wanted: &str) -> Result<Named, CliError> {
    let list = format!("warden policy list --inherited --level {level}");
    pick("policy", wanted, &policies(client, level, true)?, &list)
}

/// Every boundary of the account (all pages).
pub fn boundaries(client: &Client) -> Result<Vec<Named>, CliError> {
    let mut all = Vec::new();
    let mut page = 1usize;
    loop {
        let url = with_query(
            client.repo(&Level::Account, &["boundaries"])?,
            &[("page", &page.to_string()), ("size", "1000")],
        );
        let reply = client.get(url)?;
        let content = items(&reply.body, "content");
        all.extend(content.iter().map(|b| Named::from(b, "uuid")));
        let total = field(&reply.body, "totalCount")
            .as_u64()
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or(0);
        if content.is_empty() || all.len() >= total {
            return Ok(all);
        }
        page += 1;
    }
}

pub fn boundary(client: &Client, wanted: &str) -> Result<Named, CliError> {
    pick(
        "boundary",
        wanted,
        &boundaries(client)?,
        "warden boundary list",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: &str, name: &str) -> Named {
        Named {
            id: id.into(),
            name: name.into(),
            value: Value::Null,
        }
    }

    #[test]
    fn ids_then_names_in_any_case() {
        let all = vec![named("1", "ops"), named("2", "Platform Team")];
        assert_eq!(pick("group", "2", &all, "l").unwrap().name, "Platform Team");
        assert_eq!(pick("group", "platform team", &all, "l").unwrap().id, "2");
        let missing = pick("group", "opz", &all, "warden group list").unwrap_err();
        assert_eq!(missing.message, "there is no group `opz`");
        assert_eq!(missing.help.as_deref(), Some("did you mean `ops`?"));
        assert_eq!(missing.exit, 1);
        let far = pick("group", "something else", &all, "warden group list").unwrap_err();
        assert_eq!(
            far.help.as_deref(),
            Some("list them with `warden group list`")
        );
    }

    #[test]
    fn a_name_of_two_items_is_ambiguous() {
        let all = vec![named("a", "Viewer"), named("b", "viewer")];
        let error = pick("policy", "VIEWER", &all, "l").unwrap_err();
        assert_eq!(error.code, "ambiguous");
    }
}
