//! Credentials: platform tokens, OAuth clients and their secrets, and the token endpoint.

use warden_api::List;
use warden_api::oauth_clients::{ClientInput, CreatedClient, CreatedSecret, OAuthClient};
use warden_api::platform_tokens::{
    CreatedToken, ExpirationInput, StatusInput, TokenInput, TokenPage, TokenQuery,
};

use super::pair;
use crate::pending::{AccessToken, TokenRequest};
use crate::{Answer, Client, ClientError, Method, Payload};

impl Client {
    // ---- platform tokens ------------------------------------------------------------------------

    pub async fn platform_tokens(
        &self,
        account: &str,
        query: &TokenQuery,
    ) -> Result<Answer<TokenPage>, ClientError> {
        let query: Vec<_> = [
            pair("searchTerm", query.search_term.as_deref()),
            pair("status", query.status.as_deref()),
            pair("page", query.page),
            pair("size", query.size),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.read(
            Method::GET,
            self.account_url(account, &["platform-tokens"], &query),
        )
        .await
    }

    /// Creates a platform token; the answer is the only one that shows it.
    pub async fn create_platform_token(
        &self,
        account: &str,
        token: &TokenInput,
    ) -> Result<Answer<CreatedToken>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["platform-tokens"], &[]),
            token,
        )
        .await
    }

    pub async fn delete_platform_token(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Answer<()>, ClientError> {
        self.read(
            Method::DELETE,
            self.account_url(account, &["platform-tokens", id], &[]),
        )
        .await
    }

    pub async fn set_platform_token_expiration(
        &self,
        account: &str,
        id: &str,
        expiration: &ExpirationInput,
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["platform-tokens", id, "expiration-date"], &[]),
            expiration,
        )
        .await
    }

    pub async fn set_platform_token_status(
        &self,
        account: &str,
        id: &str,
        status: &StatusInput,
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["platform-tokens", id, "status"], &[]),
            status,
        )
        .await
    }

    // ---- OAuth clients --------------------------------------------------------------------------

    pub async fn oauth_clients(
        &self,
        account: &str,
    ) -> Result<Answer<List<OAuthClient>>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["oauth-clients"], &[]),
        )
        .await
    }

    pub async fn oauth_client(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Answer<OAuthClient>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["oauth-clients", id], &[]),
        )
        .await
    }

    /// Creates a client with its first secret, shown this once.
    pub async fn create_oauth_client(
        &self,
        account: &str,
        client: &ClientInput,
    ) -> Result<Answer<CreatedClient>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["oauth-clients"], &[]),
            client,
        )
        .await
    }

    pub async fn delete_oauth_client(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Answer<()>, ClientError> {
        self.read(
            Method::DELETE,
            self.account_url(account, &["oauth-clients", id], &[]),
        )
        .await
    }

    /// Adds a secret to a client, shown this once.
    pub async fn add_oauth_secret(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Answer<CreatedSecret>, ClientError> {
        self.read(
            Method::POST,
            self.account_url(account, &["oauth-clients", id, "secrets"], &[]),
        )
        .await
    }

    pub async fn revoke_oauth_secret(
        &self,
        account: &str,
        id: &str,
        secret: &str,
    ) -> Result<Answer<()>, ClientError> {
        self.read(
            Method::DELETE,
            self.account_url(account, &["oauth-clients", id, "secrets", secret], &[]),
        )
        .await
    }

    /// `POST /sso/oauth2/token` with the client credentials grant; the client must have been made
    /// with [`Client::with_client_secret`]. A refusal carries OAuth's own error body
    /// (`{error, error_description}`) in [`ClientError::Refused`]'s `body`.
    pub async fn access_token(
        &self,
        request: &TokenRequest,
    ) -> Result<Answer<AccessToken>, ClientError> {
        let mut form = vec![("grant_type", "client_credentials")];
        form.extend(request.scope.as_deref().map(|s| ("scope", s)));
        form.extend(request.resource.as_deref().map(|r| ("resource", r)));
        let body = serde_urlencoded::to_string(&form).map_err(|e| ClientError::Setup {
            message: format!("the token request cannot be written as a form: {e}"),
        })?;
        let payload = Payload::Raw {
            content_type: "application/x-www-form-urlencoded",
            bytes: body.as_bytes(),
        };
        self.send(Method::POST, self.url(&["sso", "oauth2", "token"]), payload)
            .await
    }
}
