//! OAuth clients and platform tokens. A new secret or token is shown once, on the page that made
//! it (never stored, never put in a URL, never flashed); the page is not cached. Issuing follows
//! the API's owner and no-escalation rules.

use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;
use warden_engine::Level;

use super::html::{
    Attrs, at, badge, button_form, code, form, hidden, input, joined, s, table, textarea, url,
};
use super::session::{Flash, error_alert, flash, with_status};
use super::{Cx, Form, Post, redirect, strings};
use crate::error::ApiError;
use crate::extract::Path;
use crate::service;
use warden_api::oauth_clients::ClientInput;
use warden_api::platform_tokens::{StatusInput, TokenInput};

fn may_write(cx: &Cx) -> bool {
    cx.may("iam:tokens:write", &Level::Account, &[])
}

fn scopes(form: &Form) -> Vec<String> {
    form.get("scopes")
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The panel that shows a new secret once.
fn shown_once(what: &str, id_label: &str, id: &str, secret: &str) -> Markup {
    html! {
        section.panel aria-labelledby="shown-once" {
            h2 #shown-once { (what) }
            (flash("warn", "Copy it now: it is shown only once and Warden keeps only a hash."))
            p { (id_label) ": " (code(id)) }
            label for="new-secret" { "Secret" }
            input #new-secret.secret readonly value=(secret) spellcheck="false" autocomplete="off";
        }
    }
}

fn scopes_field(id: &str, value: &str) -> Markup {
    textarea(
        id,
        "Scopes",
        "scopes",
        value,
        3,
        Attrs::new().code().required(),
        "Permission names, one per line (or separated by spaces). Its rights are these scopes and its owner's permissions, both.",
    )
}

/// Permission names as code, side by side.
fn permissions(names: &[String]) -> Markup {
    let codes: Vec<Markup> = names.iter().map(|p| code(p)).collect();
    joined(&codes, html! { " " })
}

/// The fields of a new credential's owner.
fn owner_field(id: &str, value: &str) -> Markup {
    input(
        id,
        "Owner",
        "owner",
        value,
        Attrs::new().max_length(254),
        "Yourself when empty, or a service user you may use (its handle or email).",
    )
}

async fn clients_page(
    cx: &Cx,
    top: Option<Markup>,
    failed: Option<(&ApiError, &Form)>,
) -> Response {
    let listed = service::oauth_clients::list(&cx.app, &cx.authed(), &cx.account).await;
    let items = match listed {
        Ok(list) => super::values(&list.items),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let writer = may_write(cx);
    let rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|c| {
            let id = s(c, "clientId");
            let base = format!("/console/oauth-clients/{}", url(id));
            let secrets: Vec<Markup> = at(c, "secrets")
                .as_array()
                .into_iter()
                .flatten()
                .filter(|sec| at(sec, "active").as_bool() == Some(true))
                .map(|sec| {
                    let sid = s(sec, "id");
                    html! {
                        (code(sid)) " created " (s(sec, "createdAt")) " "
                        @if writer {
                            (button_form(&format!("{base}/secrets/{}/revoke", url(sid)), &cx.csrf, "Revoke", "secondary"))
                        }
                    }
                })
                .collect();
            let actions = html! {
                @if writer {
                    (button_form(&format!("{base}/secrets"), &cx.csrf, "New secret", "secondary"))
                    (button_form(&format!("{base}/delete"), &cx.csrf, "Delete", "danger"))
                }
            };
            vec![
                html! { (s(c, "name")) },
                code(id),
                html! { (at(c, "owner").get("email").and_then(Value::as_str).unwrap_or_default()) },
                permissions(&strings(c, "scopes")),
                joined(&secrets, html! { br; }),
                actions,
            ]
        })
        .collect();
    let values = failed.map(|(_, form)| form.clone()).unwrap_or_default();
    let body = html! {
        @if let Some(top) = top { (top) }
        p { "OAuth clients get short-lived access tokens with the client-credentials grant at " code { "/sso/oauth2/token" } ". Rotate a secret by adding a new one, deploying it, then revoking the old one." }
        (table("", &["Name", "Client id", "Owner", "Scopes", "Active secrets", "Actions"], &rows, "No OAuth clients."))
        @if writer {
            (form("/console/oauth-clients", &cx.csrf, "panel", html! {
                h2 { "New OAuth client" }
                @if let Some((error, _)) = failed { (error_alert(error)) }
                (input("client-name", "Name", "name", values.get("name"), Attrs::new().required().max_length(200), ""))
                (owner_field("client-owner", values.get("owner")))
                (scopes_field("client-scopes", values.get("scopes")))
                button type="submit" { "Create client" }
            }))
        }
    };
    with_status(
        cx.page("OAuth clients", "oauth-clients", body),
        failed.map(|(error, _)| error),
    )
}

pub async fn clients(cx: Cx) -> Response {
    clients_page(&cx, None, None).await
}

pub async fn create_client(post: Post) -> Response {
    let Post { cx, form } = post;
    let owner = form.get("owner").trim();
    let input = ClientInput {
        name: form.get("name").to_owned(),
        owner: (!owner.is_empty()).then(|| owner.to_owned()),
        scopes: scopes(&form),
    };
    let made = service::oauth_clients::create(&cx.app, &cx.authed(), &cx.account, input).await;
    match made {
        Ok((created, _)) => {
            let top = shown_once(
                &format!("OAuth client {} created", created.client.name),
                "Client id",
                &created.client.client_id,
                &created.client_secret,
            );
            clients_page(&cx, Some(top), None).await
        }
        Err(error) => clients_page(&cx, None, Some((&error, &form))).await,
    }
}

pub async fn add_secret(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let added = service::oauth_clients::add_secret(&cx.app, &cx.authed(), &cx.account, &id).await;
    match added {
        Ok((out, _)) => {
            let top = shown_once("New client secret", "Client id", &id, &out.client_secret);
            clients_page(&cx, Some(top), None).await
        }
        Err(error) => cx.error_page(&error, "/console/oauth-clients"),
    }
}

pub async fn revoke_secret(Path((id, secret)): Path<(String, String)>, post: Post) -> Response {
    let cx = post.cx;
    let revoked =
        service::oauth_clients::revoke_secret(&cx.app, &cx.authed(), &cx.account, &id, &secret)
            .await;
    match revoked {
        Ok(_) => {
            cx.flash(Flash::ok("Revoked the secret."));
            redirect("/console/oauth-clients")
        }
        Err(error) => cx.error_page(&error, "/console/oauth-clients"),
    }
}

pub async fn delete_client(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let deleted = service::oauth_clients::delete(&cx.app, &cx.authed(), &cx.account, &id).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the client and its access tokens."));
            redirect("/console/oauth-clients")
        }
        Err(error) => cx.error_page(&error, "/console/oauth-clients"),
    }
}

async fn tokens_page(cx: &Cx, top: Option<Markup>, failed: Option<(&ApiError, &Form)>) -> Response {
    let query = service::platform_tokens::TokenQuery {
        size: Some(500),
        ..Default::default()
    };
    let listed = service::platform_tokens::list(&cx.app, &cx.authed(), &cx.account, query).await;
    let items = match listed {
        Ok(page) => super::values(&page.items),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let writer = may_write(cx);
    let rows: Vec<Vec<Markup>> = items
        .iter()
        .map(|t| {
            let id = s(t, "tokenId");
            let base = format!("/console/tokens/{}", url(id));
            let active = s(t, "status") == "ACTIVE";
            let status = if at(t, "expired").as_bool() == Some(true) {
                badge("expired", "bad")
            } else if active {
                badge("active", "ok")
            } else {
                badge("disabled", "bad")
            };
            let actions = html! {
                @if writer {
                    (form(&format!("{base}/status"), &cx.csrf, "inline", html! {
                        (hidden("status", if active { "INACTIVE" } else { "ACTIVE" }))
                        button type="submit" class="secondary" { (if active { "Disable" } else { "Enable" }) }
                    }))
                    (button_form(&format!("{base}/delete"), &cx.csrf, "Delete", "danger"))
                }
            };
            vec![
                html! { (s(t, "name")) },
                code(id),
                html! { (at(t, "userEmail").as_str().unwrap_or_default()) },
                permissions(&strings(t, "scope")),
                html! { (s(t, "expirationDate")) },
                status,
                actions,
            ]
        })
        .collect();
    let values = failed.map(|(_, form)| form.clone()).unwrap_or_default();
    let body = html! {
        @if let Some(top) = top { (top) }
        p { "Platform tokens are long-lived, for tools that cannot do OAuth: named, scoped, with an expiry date; at most 10 per user." }
        (table("", &["Name", "Token id", "Owner", "Scopes", "Expires", "Status", "Actions"], &rows, "No platform tokens."))
        @if writer {
            (form("/console/tokens", &cx.csrf, "panel", html! {
                h2 { "New platform token" }
                @if let Some((error, _)) = failed { (error_alert(error)) }
                (input("token-name", "Name", "name", values.get("name"), Attrs::new().required().max_length(255), ""))
                (owner_field("token-owner", values.get("owner")))
                (scopes_field("token-scopes", values.get("scopes")))
                (input("token-expires", "Expires on", "expires", values.get("expires"), Attrs::new().kind("date").required(), "At 00:00 UTC of that day."))
                button type="submit" { "Create token" }
            }))
        }
    };
    with_status(
        cx.page("Platform tokens", "tokens", body),
        failed.map(|(error, _)| error),
    )
}

pub async fn tokens(cx: Cx) -> Response {
    tokens_page(&cx, None, None).await
}

pub async fn create_token(post: Post) -> Response {
    let Post { cx, form } = post;
    let owner = form.get("owner").trim();
    let expires = form.get("expires").trim();
    let expiration = if expires.contains('T') {
        expires.to_owned()
    } else {
        format!("{expires}T00:00:00Z")
    };
    let input = TokenInput {
        name: form.get("name").to_owned(),
        scope: scopes(&form),
        expiration_date: expiration,
        user_uuid: (!owner.is_empty()).then(|| owner.to_owned()),
        resource: Vec::new(),
        tags: Vec::new(),
    };
    let made = service::platform_tokens::create(&cx.app, &cx.authed(), &cx.account, input).await;
    match made {
        Ok((out, _)) => {
            let top = shown_once(
                &format!("Platform token {} created", out.name),
                "Token id",
                &out.token_id,
                &out.token,
            );
            tokens_page(&cx, Some(top), None).await
        }
        Err(error) => tokens_page(&cx, None, Some((&error, &form))).await,
    }
}

pub async fn token_status(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let input = StatusInput {
        status: form.get("status").to_owned(),
    };
    let changed =
        service::platform_tokens::set_status(&cx.app, &cx.authed(), &cx.account, &id, input).await;
    match changed {
        Ok(_) => {
            cx.flash(Flash::ok(if form.get("status") == "ACTIVE" {
                "Enabled the token."
            } else {
                "Disabled the token: it is refused from now on."
            }));
            redirect("/console/tokens")
        }
        Err(error) => cx.error_page(&error, "/console/tokens"),
    }
}

pub async fn delete_token(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let deleted = service::platform_tokens::delete(&cx.app, &cx.authed(), &cx.account, &id).await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the token."));
            redirect("/console/tokens")
        }
        Err(error) => cx.error_page(&error, "/console/tokens"),
    }
}
