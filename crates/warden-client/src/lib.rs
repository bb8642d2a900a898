//! The one HTTP client of Warden's API. The `warden` command, the integration tests and the load
//! test all speak to a server through [`Client`]: one place that knows the base address, the
//! bearer token, Warden's response headers (`Warden-Revision`, `Warden-Warnings`, `Retry-After`)
//! and the error body (`warden_api::ErrorBody`).
//!
//! Two levels: [`Client::exchange`] answers whatever the server answered, any status (what tests
//! of refusals need); [`Client::send`] treats anything but 2xx as a [`ClientError`] and decodes
//! the body into the type asked for. Above them, one typed method per operation of the API
//! (`groups`, `create_policy`, `bind`, `authorize`, …), over the wire types of `warden-api`.

mod answer;
mod error;
pub mod pending;
mod typed;

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use answer::Answer;
pub use error::ClientError;
pub use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
pub use reqwest::{Method, StatusCode, Url};
pub use typed::Level;

/// What a request carries as its body.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    None,
    /// A value serialised as JSON.
    Json(&'a serde_json::Value),
    /// Bytes sent as they are, with their content type (pre-serialised bodies, forms, or bodies
    /// that are deliberately malformed).
    Raw {
        content_type: &'a str,
        bytes: &'a [u8],
    },
}

/// A connection to one Warden server, with the credential its requests carry. Cheap to clone
/// (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    credential: Credential,
}

/// What a request authenticates with.
#[derive(Clone, Default)]
enum Credential {
    #[default]
    None,
    /// An API or access token (`Authorization: Bearer`).
    Bearer(String),
    /// An OAuth client's id and secret at the token endpoint (`Authorization: Basic`).
    Basic { id: String, secret: String },
}

impl std::fmt::Debug for Credential {
    // Never print a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::None => "None",
            Credential::Bearer(_) => "Bearer(..)",
            Credential::Basic { .. } => "Basic(..)",
        })
    }
}

/// How a [`Client`] is set up.
#[derive(Debug, Clone)]
pub struct Options {
    pub connect_timeout: Duration,
    /// The whole request, answer included.
    pub timeout: Duration,
    /// Idle keep-alive connections kept per host (`None`: the HTTP stack's default).
    pub idle_connections: Option<usize>,
    /// Follow redirects (off by default: the API never redirects, the console does, and its tests
    /// look at the redirect itself).
    pub follow_redirects: bool,
    /// The local address connections come from (tests of per-source limits use several loopback
    /// addresses).
    pub local_address: Option<std::net::IpAddr>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(60),
            idle_connections: None,
            follow_redirects: false,
            local_address: None,
        }
    }
}

impl Client {
    /// A client of the server at `base` (`http://host:port`, a path prefix is kept).
    pub fn new(base: &str, options: &Options) -> Result<Client, ClientError> {
        let base = parse_base(base)?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")));
        if let Some(idle) = options.idle_connections {
            builder = builder.pool_max_idle_per_host(idle);
        }
        if let Some(address) = options.local_address {
            builder = builder.local_address(address);
        }
        if !options.follow_redirects {
            builder = builder.redirect(reqwest::redirect::Policy::none());
        }
        let http = builder.build().map_err(|e| ClientError::Setup {
            message: e.to_string(),
        })?;
        Ok(Client {
            http,
            base,
            credential: Credential::None,
        })
    }

    /// The same connection pool, with this bearer token (or none).
    pub fn with_token(&self, token: Option<&str>) -> Client {
        self.with_credential(token.map_or(Credential::None, |t| Credential::Bearer(t.to_owned())))
    }

    /// The same connection pool, authenticating as an OAuth client (for the token endpoint).
    pub fn with_client_secret(&self, id: &str, secret: &str) -> Client {
        self.with_credential(Credential::Basic {
            id: id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    fn with_credential(&self, credential: Credential) -> Client {
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            credential,
        }
    }

    /// The server's address.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The address of a path made of segments, each percent-encoded as needed
    /// (`["iam", "v1", "accounts", id]`).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The address of a path given as text (`/iam/v1/me?x=y`), relative to the base.
    pub fn url_of(&self, path: &str) -> Result<Url, ClientError> {
        let prefix = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{prefix}{path}")).map_err(|e| ClientError::Setup {
            message: format!("`{path}` is not a path of `{}`: {e}", self.base),
        })
    }

    /// One request; the answer whatever its status. Fails only when there is no answer.
    pub async fn exchange(
        &self,
        method: Method,
        url: Url,
        payload: Payload<'_>,
    ) -> Result<Answer<serde_json::Value>, ClientError> {
        let raw = self.exchange_raw(method, url, payload).await?;
        Ok(raw.decoded())
    }

    /// One request; the answer's body as text, whatever its status.
    pub async fn exchange_raw(
        &self,
        method: Method,
        url: Url,
        payload: Payload<'_>,
    ) -> Result<Answer<String>, ClientError> {
        self.exchange_with_headers(method, url, payload, &[]).await
    }

    /// One request with headers of the caller's own (an `Origin`, a cookie, another
    /// `Authorization`, …); the answer's body as text, whatever its status.
    pub async fn exchange_with_headers(
        &self,
        method: Method,
        url: Url,
        payload: Payload<'_>,
        headers: &[(&str, &str)],
    ) -> Result<Answer<String>, ClientError> {
        let mut request = self.http.request(method, url);
        request = match &self.credential {
            Credential::None => request,
            Credential::Bearer(token) => request.bearer_auth(token),
            Credential::Basic { id, secret } => request.basic_auth(id, Some(secret)),
        };
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request = match payload {
            Payload::None => request,
            Payload::Json(value) => request.json(value),
            Payload::Raw {
                content_type,
                bytes,
            } => {
                let value =
                    HeaderValue::from_str(content_type).map_err(|_| ClientError::Setup {
                        message: format!("`{content_type}` is not a content type"),
                    })?;
                request.header(CONTENT_TYPE, value).body(bytes.to_vec())
            }
        };
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|e| self.unreachable(&e))?;
        Ok(Answer::new(status, headers, text))
    }

    /// One request whose success is expected: anything but 2xx is a [`ClientError::Refused`];
    /// the body (`null` when empty) is decoded as `T`.
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        payload: Payload<'_>,
    ) -> Result<Answer<T>, ClientError> {
        let answer = self.exchange(method, url, payload).await?;
        answer.success()?.decode()
    }

    /// `send` with a typed body serialised as JSON.
    pub async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: &B,
    ) -> Result<Answer<T>, ClientError> {
        let value = serde_json::to_value(body).map_err(|e| ClientError::Setup {
            message: format!("the request body cannot be written as JSON: {e}"),
        })?;
        self.send(method, url, Payload::Json(&value)).await
    }

    fn unreachable(&self, error: &reqwest::Error) -> ClientError {
        let mut cause: &dyn std::error::Error = error;
        while let Some(source) = cause.source() {
            cause = source;
        }
        ClientError::Unreachable {
            server: self.base.as_str().trim_end_matches('/').to_owned(),
            message: if error.is_timeout() {
                "timed out".to_owned()
            } else {
                cause.to_string()
            },
        }
    }
}

fn parse_base(text: &str) -> Result<Url, ClientError> {
    let url = Url::parse(text).map_err(|e| ClientError::Address {
        given: text.to_owned(),
        message: e.to_string(),
    })?;
    match url.scheme() {
        "http" => Ok(url),
        "https" => Err(ClientError::Address {
            given: text.to_owned(),
            message: "this client speaks plain HTTP only".to_owned(),
        }),
        other => Err(ClientError::Address {
            given: text.to_owned(),
            message: format!("scheme `{other}` is not HTTP"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_built_from_segments_and_encoded() {
        let client = Client::new("http://127.0.0.1:8080/", &Options::default()).unwrap();
        let url = client.url(&["iam", "v1", "accounts", "a b/c"]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/iam/v1/accounts/a%20b%2Fc"
        );
        let prefixed = Client::new("http://host/warden", &Options::default()).unwrap();
        assert_eq!(
            prefixed.url(&["iam", "v1", "me"]).as_str(),
            "http://host/warden/iam/v1/me"
        );
        assert_eq!(
            prefixed.url_of("/iam/v1/me?x=1").unwrap().as_str(),
            "http://host/warden/iam/v1/me?x=1"
        );
    }

    #[test]
    fn only_http_addresses_are_taken() {
        let error = Client::new("https://host", &Options::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`https://host` is not a server address: this client speaks plain HTTP only"
        );
        let error = Client::new("localhost:8080", &Options::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`localhost:8080` is not a server address: scheme `localhost` is not HTTP"
        );
    }
}
