//! OAuth clients and platform tokens. A new secret or token is shown once, on the page that made
//! it (never stored, never put in a URL, never flashed); the page is not cached. Issuing follows
//! the API's owner and no-escalation rules.

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use warden_engine::Level;

use super::html::{
    at, badge, button_form, code, esc, form, hidden, input, s, table, textarea, url,
};
use super::session::{Flash, error_html, with_status};
use super::{Cx, Form, Post, input as api_input, redirect, strings};
use crate::api::{Body, Path, oauth_clients, platform_tokens};
use crate::error::ApiError;

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
fn shown_once(what: &str, id_label: &str, id: &str, secret: &str) -> String {
    format!(
        "<section class=\"panel\" aria-labelledby=\"shown-once\"><h2 id=\"shown-once\">{what}</h2><p class=\"flash warn\" role=\"status\">Copy it now: it is shown only once and Warden keeps only a hash.</p><p>{id_label}: {id}</p><label for=\"new-secret\">Secret</label><input id=\"new-secret\" class=\"secret\" readonly value=\"{secret}\" spellcheck=\"false\" autocomplete=\"off\"></section>",
        what = esc(what),
        id_label = esc(id_label),
        id = code(id),
        secret = esc(secret),
    )
}

fn scopes_field(id: &str, value: &str) -> String {
    textarea(
        id,
        "Scopes",
        "scopes",
        value,
        3,
        "class=\"code\" spellcheck=\"false\" required",
        "Permission names, one per line (or separated by spaces). Its rights are these scopes and its owner's permissions, both.",
    )
}

async fn clients_page(cx: &Cx, top_html: &str, failed: Option<(&ApiError, &Form)>) -> Response {
    let listed = crate::service::oauth_clients::list(&cx.app, &cx.authed(), &cx.account).await;
    let items = match listed {
        Ok(list) => super::values(&list.items),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let writer = may_write(cx);
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|c| {
            let id = s(c, "clientId");
            let base = format!("/console/oauth-clients/{}", url(id));
            let secrets: Vec<String> = at(c, "secrets")
                .as_array()
                .into_iter()
                .flatten()
                .filter(|sec| at(sec, "active").as_bool() == Some(true))
                .map(|sec| {
                    let sid = s(sec, "id");
                    let revoke = if writer {
                        button_form(
                            &format!("{base}/secrets/{}/revoke", url(sid)),
                            &cx.csrf,
                            "Revoke",
                            "secondary",
                        )
                    } else {
                        String::new()
                    };
                    format!(
                        "{} {} {revoke}",
                        code(sid),
                        esc(&format!("created {}", s(sec, "createdAt")))
                    )
                })
                .collect();
            let actions = if writer {
                format!(
                    "{}{}",
                    button_form(
                        &format!("{base}/secrets"),
                        &cx.csrf,
                        "New secret",
                        "secondary"
                    ),
                    button_form(&format!("{base}/delete"), &cx.csrf, "Delete", "danger")
                )
            } else {
                String::new()
            };
            vec![
                esc(s(c, "name")),
                code(id),
                esc(at(c, "owner")
                    .get("email")
                    .and_then(Value::as_str)
                    .unwrap_or_default()),
                strings(c, "scopes")
                    .iter()
                    .map(|p| code(p))
                    .collect::<Vec<_>>()
                    .join(" "),
                secrets.join("<br>"),
                actions,
            ]
        })
        .collect();
    let mut body = String::from(top_html);
    body.push_str("<p>OAuth clients get short-lived access tokens with the client-credentials grant at <code>/sso/oauth2/token</code>. Rotate a secret by adding a new one, deploying it, then revoking the old one.</p>");
    body.push_str(&table(
        "",
        &[
            "Name",
            "Client id",
            "Owner",
            "Scopes",
            "Active secrets",
            "Actions",
        ],
        &rows,
        "No OAuth clients.",
    ));
    if writer {
        let (values, error) = match failed {
            Some((error, form)) => (form.clone(), error_html(error)),
            None => (Form::default(), String::new()),
        };
        body.push_str(&form(
            "/console/oauth-clients",
            &cx.csrf,
            "panel",
            &format!(
                "<h2>New OAuth client</h2>{error}{}{}{}<button type=\"submit\">Create client</button>",
                input("client-name", "Name", "name", values.get("name"), "required maxlength=\"200\"", ""),
                input("client-owner", "Owner", "owner", values.get("owner"), "maxlength=\"254\"", "Yourself when empty, or a service user you may use (its handle or email)."),
                scopes_field("client-scopes", values.get("scopes")),
            ),
        ));
    }
    with_status(
        cx.page("OAuth clients", "oauth-clients", &body),
        failed.map(|(error, _)| error),
    )
}

pub async fn clients(cx: Cx) -> Response {
    clients_page(&cx, "", None).await
}

pub async fn create_client(post: Post) -> Response {
    let Post { cx, form } = post;
    let owner = form.get("owner").trim();
    let made = async {
        let input = api_input(json!({
            "name": form.get("name"),
            "owner": if owner.is_empty() { Value::Null } else { json!(owner) },
            "scopes": scopes(&form),
        }))?;
        oauth_clients::create(
            State(cx.app.clone()),
            cx.authed(),
            Path(cx.account.clone()),
            Body(input),
        )
        .await
    }
    .await;
    match made {
        Ok(written) => {
            let out = json!(written.body);
            let top = shown_once(
                &format!("OAuth client {} created", s(&out, "name")),
                "Client id",
                s(&out, "clientId"),
                s(&out, "clientSecret"),
            );
            clients_page(&cx, &top, None).await
        }
        Err(error) => clients_page(&cx, "", Some((&error, &form))).await,
    }
}

pub async fn add_secret(Path(id): Path<String>, post: Post) -> Response {
    let cx = post.cx;
    let added = oauth_clients::add_secret(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id.clone())),
    )
    .await;
    match added {
        Ok(written) => {
            let out = written.body.unwrap_or_default();
            let top = shown_once("New client secret", "Client id", &id, &out.client_secret);
            clients_page(&cx, &top, None).await
        }
        Err(error) => cx.error_page(&error, "/console/oauth-clients"),
    }
}

pub async fn revoke_secret(Path((id, secret)): Path<(String, String)>, post: Post) -> Response {
    let cx = post.cx;
    let revoked = oauth_clients::revoke_secret(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id, secret)),
    )
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
    let deleted = oauth_clients::delete(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id)),
    )
    .await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the client and its access tokens."));
            redirect("/console/oauth-clients")
        }
        Err(error) => cx.error_page(&error, "/console/oauth-clients"),
    }
}

async fn tokens_page(cx: &Cx, top_html: &str, failed: Option<(&ApiError, &Form)>) -> Response {
    let query = crate::service::platform_tokens::TokenQuery {
        size: Some(500),
        ..Default::default()
    };
    let listed =
        crate::service::platform_tokens::list(&cx.app, &cx.authed(), &cx.account, query).await;
    let items = match listed {
        Ok(page) => super::values(&page.items),
        Err(error) => return cx.error_page(&error, "/console"),
    };
    let writer = may_write(cx);
    let rows: Vec<Vec<String>> = items
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
            let actions = if writer {
                let toggle = form(
                    &format!("{base}/status"),
                    &cx.csrf,
                    "inline",
                    &format!(
                        "{}<button type=\"submit\" class=\"secondary\">{}</button>",
                        hidden("status", if active { "INACTIVE" } else { "ACTIVE" }),
                        if active { "Disable" } else { "Enable" }
                    ),
                );
                format!(
                    "{toggle}{}",
                    button_form(&format!("{base}/delete"), &cx.csrf, "Delete", "danger")
                )
            } else {
                String::new()
            };
            vec![
                esc(s(t, "name")),
                code(id),
                esc(at(t, "userEmail").as_str().unwrap_or_default()),
                strings(t, "scope")
                    .iter()
                    .map(|p| code(p))
                    .collect::<Vec<_>>()
                    .join(" "),
                esc(s(t, "expirationDate")),
                status,
                actions,
            ]
        })
        .collect();
    let mut body = String::from(top_html);
    body.push_str("<p>Platform tokens are long-lived, for tools that cannot do OAuth: named, scoped, with an expiry date; at most 10 per user.</p>");
    body.push_str(&table(
        "",
        &[
            "Name", "Token id", "Owner", "Scopes", "Expires", "Status", "Actions",
        ],
        &rows,
        "No platform tokens.",
    ));
    if writer {
        let (values, error) = match failed {
            Some((error, form)) => (form.clone(), error_html(error)),
            None => (Form::default(), String::new()),
        };
        body.push_str(&form(
            "/console/tokens",
            &cx.csrf,
            "panel",
            &format!(
                "<h2>New platform token</h2>{error}{}{}{}{}<button type=\"submit\">Create token</button>",
                input("token-name", "Name", "name", values.get("name"), "required maxlength=\"255\"", ""),
                input("token-owner", "Owner", "owner", values.get("owner"), "maxlength=\"254\"", "Yourself when empty, or a service user you may use (its handle or email)."),
                scopes_field("token-scopes", values.get("scopes")),
                input("token-expires", "Expires on", "expires", values.get("expires"), "type=\"date\" required", "At 00:00 UTC of that day."),
            ),
        ));
    }
    with_status(
        cx.page("Platform tokens", "tokens", &body),
        failed.map(|(error, _)| error),
    )
}

pub async fn tokens(cx: Cx) -> Response {
    tokens_page(&cx, "", None).await
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
    let made = async {
        let input = api_input(json!({
            "name": form.get("name"),
            "scope": scopes(&form),
            "expirationDate": expiration,
            "userUuid": if owner.is_empty() { Value::Null } else { json!(owner) },
        }))?;
        platform_tokens::create(
            State(cx.app.clone()),
            cx.authed(),
            Path(cx.account.clone()),
            Body(input),
        )
        .await
    }
    .await;
    match made {
        Ok(written) => {
            let out = written.body.unwrap_or_default();
            let top = shown_once(
                &format!("Platform token {} created", out.name),
                "Token id",
                &out.token_id,
                &out.token,
            );
            tokens_page(&cx, &top, None).await
        }
        Err(error) => tokens_page(&cx, "", Some((&error, &form))).await,
    }
}

pub async fn token_status(Path(id): Path<String>, post: Post) -> Response {
    let Post { cx, form } = post;
    let changed = async {
        let input = api_input(json!({ "status": form.get("status") }))?;
        platform_tokens::set_status(
            State(cx.app.clone()),
            cx.authed(),
            Path((cx.account.clone(), id)),
            Body(input),
        )
        .await
    }
    .await;
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
    let deleted = platform_tokens::delete(
        State(cx.app.clone()),
        cx.authed(),
        Path((cx.account.clone(), id)),
    )
    .await;
    match deleted {
        Ok(_) => {
            cx.flash(Flash::ok("Deleted the token."));
            redirect("/console/tokens")
        }
        Err(error) => cx.error_page(&error, "/console/tokens"),
    }
}
