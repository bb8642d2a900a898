//! Several writes applied as one (`POST …/batch`).

use warden_api::batch::{WriteBatch, WriteBatchResult};

use crate::{Answer, Client, ClientError, Method};

impl Client {
    /// Applies the writes of `input` in one transaction, or none of them.
    pub async fn batch(
        &self,
        account: &str,
        input: &WriteBatch,
    ) -> Result<Answer<WriteBatchResult>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["batch"], &[]),
            input,
        )
        .await
    }
}
