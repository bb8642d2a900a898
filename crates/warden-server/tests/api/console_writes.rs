//! The console's forms write through the service layer: each form below is posted as a browser
//! would (session cookie, CSRF field, same-origin `Origin`), and the stored state is read back
//! through the API.

use serde_json::Value;
use warden_client::StatusCode;
use warden_client::{Answer, Method, Payload};

use crate::common::TestServer;

const CSRF: &str = "0123456789012345678901234567890123456789abc";

pub struct Browser<'a> {
    server: &'a TestServer,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    /// Signs in with the administrator's token and reads the session's CSRF token off a page.
    pub async fn sign_in(server: &'a TestServer) -> Browser<'a> {
        Self::sign_in_with(server, &server.token).await
    }

    /// Signs in with `token` and reads the session's CSRF token off a page.
    pub async fn sign_in_with(server: &'a TestServer, token: &str) -> Browser<'a> {
        let form =
            serde_urlencoded::to_string([("csrf", CSRF), ("next", "/console"), ("token", token)])
                .unwrap();
        let signed_in = Self::send(
            server,
            "/console/sign-in",
            &form,
            &format!("warden_sign_in={CSRF}"),
        )
        .await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_in.body
        );
        let cookie = signed_in
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("warden_session="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let home = server
            .api
            .exchange_with_headers(
                Method::GET,
                server.api.url(&["console"]),
                Payload::None,
                &[("cookie", &format!("warden_session={cookie}"))],
            )
            .await
            .unwrap();
        let csrf = home
            .body
            .split("name=\"csrf-token\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        Browser {
            server,
            cookie,
            csrf,
        }
    }

    async fn send(server: &TestServer, path: &str, form: &str, cookie: &str) -> Answer<String> {
        server
            .api
            .exchange_with_headers(
                Method::POST,
                server.api.url_of(path).unwrap(),
                Payload::Raw {
                    content_type: "application/x-www-form-urlencoded",
                    bytes: form.as_bytes(),
                },
                &[("cookie", cookie), ("origin", &server.base)],
            )
            .await
            .unwrap()
    }

    /// Reads a page with the session.
    pub async fn get(&self, path: &str) -> Answer<String> {
        self.server
            .api
            .exchange_with_headers(
                Method::GET,
                self.server.api.url_of(path).unwrap(),
                Payload::None,
                &[("cookie", &format!("warden_session={}", self.cookie))],
            )
            .await
            .unwrap()
    }

    /// Posts a form with the session and its CSRF token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer<String> {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        let form = serde_urlencoded::to_string(&all).unwrap();
        Self::send(
            self.server,
            path,
            &form,
            &format!("warden_session={}", self.cookie),
        )
        .await
    }
}

fn items(body: &Value, key: &str) -> Vec<Value> {
    body[key].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn credentials_and_boundaries_are_written_through_the_console() {
    let server = TestServer::start().await;
    let acc = server.account();
    let browser = Browser::sign_in(&server).await;

    // An OAuth client: the page shows its secret once; the API lists it with its scopes.
    let made = browser
        .post(
            "/console/oauth-clients",
            &[
                ("name", "ci pipeline"),
                ("owner", ""),
                ("scopes", "storage:logs:read"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(
        made.body.contains("OAuth client ci pipeline created"),
        "{}",
        made.body
    );
    assert!(made.body.contains("wdn_cs_"), "the secret is shown once");
    let clients = server
        .get(&format!("/iam/v1/accounts/{acc}/oauth-clients"))
        .await;
    let client = items(&clients.body, "items")
        .into_iter()
        .find(|c| c["name"] == "ci pipeline")
        .unwrap();
    assert_eq!(client["scopes"], serde_json::json!(["storage:logs:read"]));
    let id = client["clientId"].as_str().unwrap().to_owned();

    // Deleting it through the console removes it.
    let deleted = browser
        .post(&format!("/console/oauth-clients/{id}/delete"), &[])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.body);
    let clients = server
        .get(&format!("/iam/v1/accounts/{acc}/oauth-clients"))
        .await;
    assert!(
        items(&clients.body, "items")
            .iter()
            .all(|c| c["clientId"] != id.as_str())
    );

    // A platform token, then disabled.
    let made = browser
        .post(
            "/console/tokens",
            &[
                ("name", "nightly"),
                ("owner", ""),
                ("scopes", "storage:logs:read"),
                ("expires", "2027-01-01"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    assert!(
        made.body.contains("Platform token nightly created"),
        "{}",
        made.body
    );
    let tokens = server
        .get(&format!("/iam/v1/accounts/{acc}/platform-tokens"))
        .await;
    let token = items(&tokens.body, "items")
        .into_iter()
        .find(|t| t["name"] == "nightly")
        .unwrap();
    assert_eq!(token["expirationDate"], "2027-01-01T00:00:00Z");
    let id = token["tokenId"].as_str().unwrap().to_owned();
    let disabled = browser
        .post(
            &format!("/console/tokens/{id}/status"),
            &[("status", "INACTIVE")],
        )
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER, "{}", disabled.body);
    let tokens = server
        .get(&format!("/iam/v1/accounts/{acc}/platform-tokens"))
        .await;
    let token = items(&tokens.body, "items")
        .into_iter()
        .find(|t| t["tokenId"] == id.as_str())
        .unwrap();
    assert_eq!(token["status"], "INACTIVE");

    // A boundary, saved from the editor; an invalid one is refused with the page, nothing stored.
    let refused = browser
        .post(
            "/console/boundaries",
            &[
                ("name", "broken"),
                ("text", "storage:bucket-name = ;"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let saved = browser
        .post(
            "/console/boundaries",
            &[
                ("name", "logs only"),
                ("text", "storage:bucket-name = \"logs\";"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let boundaries = server
        .get(&format!("/iam/v1/repo/account/{acc}/boundaries"))
        .await;
    let names: Vec<&str> = boundaries.body["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert_eq!(names, vec!["logs only"]);
}
