//! The AuthZEN Authorization API: evaluations, and the account's mapping of AuthZEN's words to
//! Warden's.

use warden_api::authzen::{
    EvaluationRequest, EvaluationResponse, EvaluationsAnswer, EvaluationsRequest, Mapping,
    ResourceSearchRequest, ResourceSearchResponse,
};

use crate::{Answer, Client, ClientError, Method};

impl Client {
    /// `POST /access/v1/evaluation`.
    pub async fn authzen_evaluation(
        &self,
        request: &EvaluationRequest,
    ) -> Result<Answer<EvaluationResponse>, ClientError> {
        let url = self.url(&["access", "v1", "evaluation"]);
        self.write(Method::POST, url, request).await
    }

    /// `POST /access/v1/evaluations`.
    pub async fn authzen_evaluations(
        &self,
        request: &EvaluationsRequest,
    ) -> Result<Answer<EvaluationsAnswer>, ClientError> {
        let url = self.url(&["access", "v1", "evaluations"]);
        self.write(Method::POST, url, request).await
    }

    /// `POST /access/v1/search/resource`.
    pub async fn authzen_search_resource(
        &self,
        request: &ResourceSearchRequest,
    ) -> Result<Answer<ResourceSearchResponse>, ClientError> {
        let url = self.url(&["access", "v1", "search", "resource"]);
        self.write(Method::POST, url, request).await
    }

    /// The account's AuthZEN mapping.
    pub async fn authzen_mapping(&self, account: &str) -> Result<Answer<Mapping>, ClientError> {
        self.read(Method::GET, self.account_url(account, &["authzen"], &[]))
            .await
    }

    /// Replaces the account's AuthZEN mapping.
    pub async fn put_authzen_mapping(
        &self,
        account: &str,
        mapping: &Mapping,
    ) -> Result<Answer<Mapping>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["authzen"], &[]),
            mapping,
        )
        .await
    }
}
