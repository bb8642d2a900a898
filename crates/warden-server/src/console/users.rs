//! Users: the list, create, one user with its groups and effective permissions, group changes,
//! the console password, delete.

use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use warden_engine::Level;

use super::html::{
    Attrs, at, badge, button_form, checkboxes, code, count, form, hidden, input, joined, link,
    none, not_permitted, s, select, table, url,
};
use super::session::{Flash, error_alert, with_status};
use super::{Cx, Form, Post, redirect, strings};
use crate::error::ApiError;
use crate::extract::Path;
use crate::service;
use crate::service::passwords::{MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, PasswordInput};
use crate::service::users::Change;
use warden_api::effective::EffectiveQuery;
use warden_api::users::UserInput;

async fn list_page(cx: &Cx, failed: Option<(&ApiError, &Form)>) -> Response {
    let listed = service::users::list(&cx.app, &cx.authed(), &cx.account, Some(false)).await;
    let items = match listed {
        Ok(list) => super::values(&list.items),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|u| {
            let active = s(u, "userStatus") == "ACTIVE";
            vec![
                link(
                    &format!("/console/users/{}", url(s(u, "uid"))),
                    s(u, "email"),
                ),
                html! { (s(u, "name")) " " (s(u, "surname")) },
                if active {
                    badge("active", "ok")
                } else {
                    badge("inactive", "bad")
                },
            ]
        })
        .collect();
    let may_write = cx.may("iam:users:write", &Level::Account, &[]);
    let values = failed.map(|(_, form)| form.clone()).unwrap_or_default();
    let body = html! {
        @if may_write {
            section.panel aria-labelledby="new-user" {
                h2 #new-user { "Add a user" }
                @if let Some((error, _)) = failed { (error_alert(error)) }
                (form("/console/users", &cx.csrf, "", html! {
                    (input("user-email", "Email", "email", values.get("email"), Attrs::new().kind("email").required().max_length(254), ""))
                    (input("user-name", "First name", "name", values.get("name"), Attrs::new().max_length(200), ""))
                    (input("user-surname", "Last name", "surname", values.get("surname"), Attrs::new().max_length(200), ""))
                    button type="submit" { "Add user" }
                }))
            }
        }
        h2 { "All users " (count(items.len())) }
        (table("", &["Email", "Name", "Status"], &rows, "No users."))
    };
    with_status(cx.page("Users", "users", body), failed.map(|f| f.0))
}

pub async fn list(cx: Cx) -> Response {
    list_page(&cx, None).await
}

pub async fn create(post: Post) -> Response {
    let Post { cx, form } = post;
    let input = UserInput {
        email: form.get("email").to_owned(),
        name: form.get("name").to_owned(),
        surname: form.get("surname").to_owned(),
        uid: String::new(),
    };
    let made = service::users::create(&cx.app, &cx.authed(), &cx.account, input).await;
    match made {
        Ok((created, _)) => {
            let uid = created.uid;
            cx.flash(Flash::ok(format!(
                "Added user `{}`.",
                form.get("email").trim()
            )));
            redirect(&format!("/console/users/{}", url(&uid)))
        }
        Err(error) => list_page(&cx, Some((&error, &form))).await,
    }
}

/// The effective-permissions table of a user or group at a level.
pub async fn effective_table(cx: &Cx, entity_type: &str, entity_id: &str, level: &str) -> Markup {
    let (level_type, level_id) = if level == "account" || level.is_empty() {
        ("account".to_owned(), cx.account.clone())
    } else {
        ("environment".to_owned(), level.to_owned())
    };
    let query = EffectiveQuery {
        entity_type: entity_type.to_owned(),
        entity_id: entity_id.to_owned(),
        services: None,
        page: None,
        size: Some(1000),
    };
    let resolved = service::effective::effective_permissions(
        &cx.app,
        &cx.authed(),
        &level_type,
        &level_id,
        query,
    )
    .await;
    let value = match resolved {
        Ok(page) => serde_json::to_value(page).unwrap_or_default(),
        Err(error) if error.code == service::ErrorCode::Forbidden => {
            return not_permitted(
                "see these effective permissions",
                "iam:effective-permissions:read",
            );
        }
        Err(error) => return error_alert(&error),
    };
    let snapshot = cx.app.snapshot();
    let mut rows = Vec::new();
    for permission in at(&value, "effectivePermissions")
        .as_array()
        .into_iter()
        .flatten()
    {
        for effect in at(permission, "effects").as_array().into_iter().flatten() {
            let conditions = condition_texts(effect);
            let from: Vec<Markup> = at(effect, "effectivePolicies")
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let group = s(at(p, "binding"), "groupUuid");
                    let group_name = snapshot
                        .directory()
                        .group(group)
                        .map_or_else(|| group.to_owned(), |g| g.name.clone());
                    let level = if s(at(p, "binding"), "levelType") == "environment" {
                        format!(" in {}", s(at(p, "binding"), "levelId"))
                    } else {
                        String::new()
                    };
                    let boundary = p
                        .get("boundary")
                        .and_then(Value::as_str)
                        .map(|b| format!(", boundary {b}"))
                        .unwrap_or_default();
                    html! { (s(at(p, "policy"), "name")) " via " (group_name) (level) (boundary) }
                })
                .collect();
            let effect_name = s(effect, "effect");
            rows.push(vec![
                code(s(permission, "permission")),
                badge(
                    effect_name,
                    if effect_name == "ALLOW" { "ok" } else { "bad" },
                ),
                if conditions.is_empty() {
                    none()
                } else {
                    let codes: Vec<Markup> = conditions.iter().map(|c| code(c)).collect();
                    joined(&codes, html! { br; })
                },
                joined(&from, html! { br; }),
            ]);
        }
    }
    table(
        "",
        &["Permission", "Effect", "Conditions", "From"],
        &rows,
        "No permissions at this level.",
    )
}

/// The level choices of a page: account, then each environment.
pub fn level_options(cx: &Cx) -> Vec<(String, String)> {
    let mut options = vec![("account".to_owned(), "Account level".to_owned())];
    options.extend(
        cx.environments()
            .into_iter()
            .map(|e| (e.clone(), format!("Environment {e}"))),
    );
    options
}

async fn show_page(cx: &Cx, id: &str, level: &str, failed: Option<&ApiError>) -> Response {
    let found = service::users::get(&cx.app, &cx.authed(), &cx.account, id).await;
    let user = match found {
        Ok(detail) => json!(detail),
        Err(error) => return cx.error_page(&error, "/console/users"),
    };
    let uid = s(&user, "uid").to_owned();
    let service_user = at(&user, "serviceUser").as_bool() == Some(true);
    let here = format!("/console/users/{}", url(&uid));
    let may_write = cx.may("iam:users:write", &Level::Account, &[]);
    let current: Vec<(String, String)> = at(&user, "groups")
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| (s(g, "uuid").to_owned(), s(g, "groupName").to_owned()))
        .collect();
    let rows: Vec<Vec<Markup>> = current
        .iter()
        .map(|(uuid, name)| vec![link(&format!("/console/groups/{}", url(uuid)), name)])
        .collect();
    let groups_form = if may_write {
        Some(groups_form(cx, &format!("{here}/groups"), &current, None).await)
    } else {
        None
    };
    let effective = effective_table(cx, "user", &uid, level).await;
    let body = html! {
        @if let Some(error) = failed { (error_alert(error)) }
        @if service_user {
            p { "This is a service user: " (link(&format!("/console/service-users/{}", url(&uid)), "manage it on its own page")) "." }
        }
        dl.facts {
            dt { "Email" } dd { (s(&user, "email")) }
            dt { "Name" } dd { (s(&user, "name")) " " (s(&user, "surname")) }
            dt { "Uid" } dd { (code(&uid)) }
            dt { "Status" } dd { (s(&user, "userStatus").to_lowercase()) }
        }
        h2 { "Groups" }
        (table("", &["Group"], &rows, "In no group."))
        @if let Some(groups_form) = groups_form { (groups_form) }
        h2 { "Effective permissions" }
        form method="get" action=(here) class="toolbar" {
            (select("level", "Level", "level", &level_options(cx), level, Attrs::new()))
            button type="submit" class="secondary" { "Show" }
        }
        (effective)
        @if may_write && !service_user {
            (form(&format!("{here}/password"), &cx.csrf, "panel", html! {
                h2 { "Console password" }
                p { "Lets this user sign in to the console with their email. Setting it ends the sessions that signed in with the previous one." }
                (input("new-password", "New password", "password", "", Attrs::new().kind("password").autocomplete("new-password").required().min_length(MIN_PASSWORD_CHARS).max_length(MAX_PASSWORD_CHARS), &format!("{MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters; any characters, spaces too.")))
                (input("confirm-password", "Repeat the password", "confirm", "", Attrs::new().kind("password").autocomplete("new-password").required().max_length(MAX_PASSWORD_CHARS), ""))
                button type="submit" { "Set password" }
            }))
        }
        @if may_write && !service_user && uid != cx.authed.caller.uid {
            details.danger {
                summary { "Remove this user" }
                (button_form(&format!("{here}/delete"), &cx.csrf, "Remove user", "danger"))
            }
        }
    };
    with_status(
        cx.page(&format!("User {}", s(&user, "email")), "users", body),
        failed,
    )
}

/// A form of every group (that the caller may list) with the current ones checked.
pub async fn groups_form(
    cx: &Cx,
    action: &str,
    current: &[(String, String)],
    locked: Option<&str>,
) -> Markup {
    let all = crate::service::groups::list(&cx.app, &cx.authed(), &cx.account)
        .await
        .map(|list| super::values(&list.items));
    let Ok(all) = all else {
        return not_permitted("list the groups to choose from", "iam:groups:read");
    };
    let options: Vec<(String, String, bool)> = all
        .iter()
        .filter(|g| Some(s(g, "uuid")) != locked)
        .map(|g| {
            let uuid = s(g, "uuid").to_owned();
            let checked = current.iter().any(|(c, _)| *c == uuid);
            (uuid, s(g, "name").to_owned(), checked)
        })
        .collect();
    form(
        action,
        &cx.csrf,
        "panel",
        html! {
            @if let Some(group) = locked { (hidden("group", group)) }
            (checkboxes("groups", "Select groups", "group", &options, "No groups."))
            (input("groups-justification", "Justification", "justification", "", Attrs::new().max_length(2000), "Why: required when a service user joins a group bound to a policy granting an iam: write permission, or to a global Admin policy."))
            p.hint { "Joining a group is refused unless you hold its permissions yourself." }
            button type="submit" { "Save groups" }
        },
    )
}

#[derive(Debug, serde::Deserialize, Default)]
pub struct LevelQuery {
    #[serde(default)]
    level: Option<String>,
}

pub async fn show(
    cx: Cx,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<LevelQuery>,
) -> Response {
    let level = query.level.unwrap_or_else(|| "account".to_owned());
    show_page(&cx, &id, &level, None).await
}

pub async fn set_groups(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let replaced = service::users::change_memberships(
        &cx.app,
        &cx.authed(),
        &cx.account,
        &id,
        Change::Replace(form.all("group")),
        form.text("justification"),
    )
    .await;
    match replaced {
        Ok(_) => {
            cx.flash(Flash::ok("Saved the groups."));
            redirect(&format!("/console/users/{}", url(&id)))
        }
        Err(error) => show_page(&cx, &id, "account", Some(&error)).await,
    }
}

pub async fn set_password(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let password = form.get("password").to_owned();
    if password != form.get("confirm") {
        let error = ApiError::invalid("the two passwords differ; type the same password twice");
        return show_page(&cx, &id, "account", Some(&error)).await;
    }
    let set = service::passwords::set_password(
        &cx.app,
        &cx.authed(),
        &cx.account,
        &id,
        PasswordInput::new(password),
    )
    .await;
    match set {
        Ok(_) => {
            cx.flash(Flash::ok("The password is set."));
            redirect(&format!("/console/users/{}", url(&id)))
        }
        Err(error) => show_page(&cx, &id, "account", Some(&error)).await,
    }
}

pub async fn delete(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let deleted = service::users::delete(&cx.app, &cx.authed(), &cx.account, &id).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Removed the user."));
            redirect("/console/users")
        }
        Err(error) => show_page(&cx, &id, "account", Some(&error)).await,
    }
}

/// An effect's `{name, operator, values}` conditions as policy text (`name startsWith "x"`).
fn condition_texts(effect: &Value) -> Vec<String> {
    fn operator(name: &str) -> &str {
        match name {
            "EQ" => "=",
            "NOT_EQ" => "!=",
            "LT" => "<",
            "GT" => ">",
            "NOT_IN" => "NOT IN",
            "STARTS_WITH" => "startsWith",
            "NOT_STARTS_WITH" => "NOT startsWith",
            other => other,
        }
    }
    at(effect, "conditions")
        .as_array()
        .into_iter()
        .flatten()
        .map(|condition| {
            let values: Vec<String> = strings(condition, "values")
                .iter()
                .map(|v| format!("{v:?}"))
                .collect();
            let name = s(condition, "operator");
            let operand = if values.len() == 1 && !matches!(name, "IN" | "NOT_IN") {
                values.concat()
            } else {
                format!("({})", values.join(", "))
            };
            format!("{} {} {operand}", s(condition, "name"), operator(name))
        })
        .collect()
}
