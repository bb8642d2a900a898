//! Names to ids: commands take a group, policy or boundary by its id or by its name (any case, as
//! the server matches names), resolved through the server's lists.

use serde_json::Value;

use warden_api::paging::NumberPageQuery;

use crate::command::client::Client;
use crate::command::values::Level;
use crate::output::CliError;

/// Something with an id and a name, and the server's JSON of it.
#[derive(Debug, Clone)]
pub struct Named {
    pub id: String,
    pub name: String,
    pub value: Value,
}

impl Named {
    /// A typed item, kept as the JSON the commands print.
    fn of<T: serde::Serialize>(item: &T, id: &str, name: &str) -> Named {
        Named {
            id: id.to_owned(),
            name: name.to_owned(),
            value: serde_json::to_value(item).unwrap_or(Value::Null),
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
    let groups = client.call(client.typed().groups(client.account()?))?.body;
    Ok(groups
        .items
        .iter()
        .map(|g| Named::of(g, &g.uuid, &g.name))
        .collect())
}

pub fn group(client: &Client, wanted: &str) -> Result<Named, CliError> {
    pick("group", wanted, &groups(client)?, "warden group list")
}

/// The policies defined at a level; with `inherited`, also those visible there (global, account).
pub fn policies(client: &Client, level: &Level, inherited: bool) -> Result<Vec<Named>, CliError> {
    let at = client.level(level)?;
    if inherited && *level != Level::Global {
        let list = client.call(client.typed().policy_aggregate(&at))?.body;
        return Ok(list
            .policy_overview_list
            .iter()
            .map(|p| Named::of(p, &p.uuid, &p.name))
            .collect());
    }
    let list = client.call(client.typed().policies(&at, None))?.body;
    Ok(list
        .policies
        .iter()
        .map(|p| Named::of(p, &p.uuid, &p.name))
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
        let query = NumberPageQuery {
            page: Some(page),
            size: Some(1000),
        };
        let found = client
            .call(client.typed().boundaries(client.account()?, &query))?
            .body;
        all.extend(found.content.iter().map(|b| Named::of(b, &b.uuid, &b.name)));
        if found.content.is_empty() || all.len() >= found.total_count {
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
