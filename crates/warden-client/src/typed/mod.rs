//! The typed methods of [`Client`]: one per operation of the API, grouped by resource, taking and
//! answering the wire types of `warden-api` (or, for bodies `warden-api` does not describe yet,
//! those of [`crate::pending`]). Each answers an [`Answer`] so that callers see the revision a
//! write produced and its warnings; anything but 2xx is a [`ClientError::Refused`].

mod authzen;
mod batch;
mod credentials;
mod decisions;
mod directory;
mod policies;
mod records;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Answer, Client, ClientError, Method, Payload, Url};

/// A level of the API that policies and bindings live at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Global,
    /// An account, by id.
    Account(String),
    /// An environment, by id.
    Environment(String),
}

impl Level {
    /// `(levelType, levelId)` as paths name them.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Level::Global => ("global", "global"),
            Level::Account(id) => ("account", id),
            Level::Environment(id) => ("environment", id),
        }
    }
}

/// The query pairs of a request (names as the API spells them).
pub(crate) type Query<'a> = &'a [(&'a str, String)];

impl Client {
    /// `/iam/v1/<segments>` with a query.
    pub(crate) fn iam(&self, segments: &[&str], query: Query<'_>) -> Url {
        let mut all = vec!["iam", "v1"];
        all.extend_from_slice(segments);
        self.with_query(self.url(&all), query)
    }

    /// `/iam/v1/accounts/<account>/<segments>` with a query.
    pub(crate) fn account_url(&self, account: &str, segments: &[&str], query: Query<'_>) -> Url {
        let mut all = vec!["accounts", account];
        all.extend_from_slice(segments);
        self.iam(&all, query)
    }

    /// `/iam/v1/repo/<levelType>/<levelId>/<segments>` with a query.
    pub(crate) fn repo_url(&self, level: &Level, segments: &[&str], query: Query<'_>) -> Url {
        let (level_type, level_id) = level.parts();
        let mut all = vec!["repo", level_type, level_id];
        all.extend_from_slice(segments);
        self.iam(&all, query)
    }

    pub(crate) fn with_query(&self, mut url: Url, query: Query<'_>) -> Url {
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// A request without a body whose answer is decoded as `T` (`()` for none).
    pub(crate) async fn read<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
    ) -> Result<Answer<T>, ClientError> {
        self.send(method, url, Payload::None).await
    }

    /// A request with a typed JSON body whose answer is decoded as `T` (`()` for none).
    pub(crate) async fn write<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: &B,
    ) -> Result<Answer<T>, ClientError> {
        self.send_json(method, url, body).await
    }
}

/// `Some(value)` as a query pair, nothing for `None`.
pub(crate) fn pair<T: ToString>(
    name: &'static str,
    value: Option<T>,
) -> Option<(&'static str, String)> {
    value.map(|v| (name, v.to_string()))
}
