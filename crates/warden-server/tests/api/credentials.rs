//! Helpers for the credential tests: service users with policies, OAuth clients, form-encoded
//! OAuth requests, token minting.

use serde_json::{Value, json};
use warden_client::HeaderMap;
use warden_client::{Method, StatusCode};

use crate::common::{Reply, TestServer};

/// How an OAuth request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Basic(&'a str, &'a str),
    /// `client_id` and `client_secret` form parameters.
    Form(&'a str, &'a str),
    Bearer(&'a str),
}

pub struct FormReply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// A form-encoded POST to an OAuth endpoint.
pub async fn oauth(
    server: &TestServer,
    path: &str,
    auth: Auth<'_>,
    params: &[(&str, &str)],
) -> FormReply {
    let mut params: Vec<(&str, &str)> = params.to_vec();
    let client = match auth {
        Auth::None => server.api.with_token(None),
        Auth::Basic(id, secret) => server.api.with_client_secret(id, secret),
        Auth::Form(id, secret) => {
            params.push(("client_id", id));
            params.push(("client_secret", secret));
            server.api.with_token(None)
        }
        Auth::Bearer(token) => server.api.with_token(Some(token)),
    };
    let body = serde_urlencoded::to_string(&params).unwrap();
    let answer = client
        .exchange_raw(
            Method::POST,
            client.url_of(path).unwrap(),
            warden_client::Payload::Raw {
                content_type: "application/x-www-form-urlencoded",
                bytes: body.as_bytes(),
            },
        )
        .await
        .unwrap();
    let (status, headers, text) = (answer.status, answer.headers, answer.body);
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    FormReply {
        status,
        headers,
        body,
        text,
    }
}

pub fn acc(server: &TestServer) -> String {
    format!("/iam/v1/accounts/{}", server.account())
}

/// A service user; returns its DTO.
pub async fn service_user(server: &TestServer, name: &str) -> Value {
    let reply = server
        .post(
            &format!("{}/service-users", acc(server)),
            json!({ "name": name }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// A policy bound at account level to a group; returns the policy uuid.
pub async fn grant(server: &TestServer, group: &str, name: &str, text: &str) -> String {
    let repo = format!("/iam/v1/repo/account/{}", server.account());
    let policy = server
        .post(
            &format!("{repo}/policies"),
            json!({ "name": name, "statementQuery": text }),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    let uuid = policy.body["uuid"].as_str().unwrap().to_owned();
    let bound = server
        .post(&format!("{repo}/bindings/{uuid}/{group}"), json!({}))
        .await;
    assert_eq!(bound.status, StatusCode::NO_CONTENT, "{}", bound.body);
    uuid
}

/// A user in a group of its own bound to `text`; returns `(uid, platform token)`.
pub async fn user_with(server: &TestServer, email: &str, text: &str) -> (String, String) {
    let acc = acc(server);
    let user = server
        .post(&format!("{acc}/users"), json!({ "email": email }))
        .await;
    assert_eq!(user.status, StatusCode::CREATED, "{}", user.body);
    let uid = user.body["uid"].as_str().unwrap().to_owned();
    let group = server
        .post(
            &format!("{acc}/groups"),
            json!([{ "name": format!("{email} group") }]),
        )
        .await;
    let group = group.body[0]["uuid"].as_str().unwrap().to_owned();
    grant(server, &group, &format!("{email} policy"), text).await;
    let joined = server
        .post(&format!("{acc}/users/{email}"), json!([group]))
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let token = crate::journey::token_for(server, &uid).await;
    (uid, token)
}

/// An OAuth client made by the administrator; returns `(client id, secret)`.
pub async fn client(server: &TestServer, owner: &str, scopes: &[&str]) -> (String, String) {
    let reply = client_as(server, None, Some(owner), scopes).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    (
        reply.body["clientId"].as_str().unwrap().to_owned(),
        reply.body["clientSecret"].as_str().unwrap().to_owned(),
    )
}

pub async fn client_as(
    server: &TestServer,
    token: Option<&str>,
    owner: Option<&str>,
    scopes: &[&str],
) -> Reply {
    let mut body = json!({ "name": "pipeline", "scopes": scopes });
    if let Some(owner) = owner {
        body["owner"] = json!(owner);
    }
    let token = token.map_or_else(|| server.token.clone(), str::to_owned);
    server
        .call_as(
            Some(&token),
            Method::POST,
            &format!("{}/oauth-clients", acc(server)),
            Some(body),
        )
        .await
}

/// An access token for a client (every scope of the client).
pub async fn mint(server: &TestServer, id: &str, secret: &str) -> String {
    let reply = oauth(
        server,
        "/sso/oauth2/token",
        Auth::Basic(id, secret),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.body["access_token"].as_str().unwrap().to_owned()
}

/// `GET` with a token.
pub async fn get_as(server: &TestServer, token: &str, path: &str) -> Reply {
    server.call_as(Some(token), Method::GET, path, None).await
}
