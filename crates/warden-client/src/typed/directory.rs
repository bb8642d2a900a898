//! Who is who: the service endpoints (health, readiness, the caller), groups and their
//! Dynatrace permissions, users and their memberships and passwords, service users.

use warden_api::List;
use warden_api::group_permissions::{GroupPermission, GroupPermissions};
use warden_api::groups::{GroupDto, GroupInput};
use warden_api::paging::KeyPageQuery;
use warden_api::service::{Health, Me, Ready};
use warden_api::service_users::{
    HistoryPage, HistoryQuery, ReactivateInput, ReviewQuery, SuggestedPolicy,
};
use warden_api::users::{PasswordInput, UserDetail, UserInput, UserSummary};

use super::pair;
use crate::pending::{
    DeactivateInput, ReviewNote, ServiceUser, ServiceUserInput, ServiceUserPage, ServiceUserReview,
    ServiceUserUpdate,
};
use crate::{Answer, Client, ClientError, Method};

impl Client {
    /// `GET /health`.
    pub async fn health(&self) -> Result<Answer<Health>, ClientError> {
        self.read(Method::GET, self.url(&["health"])).await
    }

    /// `GET /ready`: a replica that is not ready answers 503, which is an error here.
    pub async fn ready(&self) -> Result<Answer<Ready>, ClientError> {
        self.read(Method::GET, self.url(&["ready"])).await
    }

    /// `GET /iam/v1/me`: the caller and its token.
    pub async fn me(&self) -> Result<Answer<Me>, ClientError> {
        self.read(Method::GET, self.iam(&["me"], &[])).await
    }

    // ---- groups ---------------------------------------------------------------------------------

    pub async fn groups(&self, account: &str) -> Result<Answer<List<GroupDto>>, ClientError> {
        self.read(Method::GET, self.account_url(account, &["groups"], &[]))
            .await
    }

    pub async fn group(&self, account: &str, uuid: &str) -> Result<Answer<GroupDto>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["groups", uuid], &[]),
        )
        .await
    }

    /// Creates groups, all or none.
    pub async fn create_groups(
        &self,
        account: &str,
        groups: &[GroupInput],
    ) -> Result<Answer<Vec<GroupDto>>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["groups"], &[]),
            groups,
        )
        .await
    }

    pub async fn update_group(
        &self,
        account: &str,
        uuid: &str,
        group: &GroupInput,
    ) -> Result<Answer<GroupDto>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["groups", uuid], &[]),
            group,
        )
        .await
    }

    /// Deletes a group with its bindings.
    pub async fn delete_group(&self, account: &str, uuid: &str) -> Result<Answer<()>, ClientError> {
        self.read(
            Method::DELETE,
            self.account_url(account, &["groups", uuid], &[]),
        )
        .await
    }

    pub async fn group_members(
        &self,
        account: &str,
        uuid: &str,
    ) -> Result<Answer<List<UserSummary>>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["groups", uuid, "users"], &[]),
        )
        .await
    }

    /// A group with its permissions, as Dynatrace's permission management shows them.
    pub async fn group_permissions(
        &self,
        account: &str,
        uuid: &str,
    ) -> Result<Answer<GroupPermissions>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["groups", uuid, "permissions"], &[]),
        )
        .await
    }

    /// Makes a group's Dynatrace permissions exactly these.
    pub async fn set_group_permissions(
        &self,
        account: &str,
        uuid: &str,
        permissions: &[GroupPermission],
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["groups", uuid, "permissions"], &[]),
            permissions,
        )
        .await
    }

    // ---- users ----------------------------------------------------------------------------------

    /// The account's principals: people only (`Some(false)`), service users only (`Some(true)`)
    /// or both.
    pub async fn users(
        &self,
        account: &str,
        service_users: Option<bool>,
    ) -> Result<Answer<List<UserSummary>>, ClientError> {
        let query: Vec<_> = pair("service-users", service_users).into_iter().collect();
        self.read(Method::GET, self.account_url(account, &["users"], &query))
            .await
    }

    /// A user (by email, uid or handle) with its groups.
    pub async fn user(&self, account: &str, key: &str) -> Result<Answer<UserDetail>, ClientError> {
        self.read(Method::GET, self.account_url(account, &["users", key], &[]))
            .await
    }

    pub async fn create_user(
        &self,
        account: &str,
        user: &UserInput,
    ) -> Result<Answer<UserSummary>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["users"], &[]),
            user,
        )
        .await
    }

    pub async fn delete_user(&self, account: &str, key: &str) -> Result<Answer<()>, ClientError> {
        self.read(
            Method::DELETE,
            self.account_url(account, &["users", key], &[]),
        )
        .await
    }

    /// Adds a user to groups (by uuid).
    pub async fn add_user_to_groups(
        &self,
        account: &str,
        key: &str,
        groups: &[String],
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["users", key], &[]),
            groups,
        )
        .await
    }

    /// Adds a principal to groups, saying why: a service user joining a group bound to an
    /// elevated policy needs it.
    pub async fn add_user_to_groups_justified(
        &self,
        account: &str,
        key: &str,
        groups: &[String],
        justification: &str,
    ) -> Result<Answer<()>, ClientError> {
        let query = [("justification", justification.to_owned())];
        self.write(
            Method::POST,
            self.account_url(account, &["users", key], &query),
            groups,
        )
        .await
    }

    /// Makes a user's groups exactly these.
    pub async fn set_user_groups(
        &self,
        account: &str,
        key: &str,
        groups: &[String],
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["users", key, "groups"], &[]),
            groups,
        )
        .await
    }

    /// Removes a user from groups.
    pub async fn remove_user_from_groups(
        &self,
        account: &str,
        key: &str,
        groups: &[String],
    ) -> Result<Answer<()>, ClientError> {
        let query: Vec<_> = groups.iter().map(|g| ("group-uuid", g.clone())).collect();
        self.read(
            Method::DELETE,
            self.account_url(account, &["users", key, "groups"], &query),
        )
        .await
    }

    /// Sets a user's console password.
    pub async fn set_password(
        &self,
        account: &str,
        key: &str,
        password: &PasswordInput,
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["users", key, "password"], &[]),
            password,
        )
        .await
    }

    // ---- service users --------------------------------------------------------------------------

    pub async fn service_users(
        &self,
        account: &str,
        page: &KeyPageQuery,
    ) -> Result<Answer<ServiceUserPage>, ClientError> {
        let query: Vec<_> = [
            pair("pageSize", page.page_size),
            pair("nextPageKey", page.next_page_key.as_deref()),
            pair("page", page.page),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.read(
            Method::GET,
            self.account_url(account, &["service-users"], &query),
        )
        .await
    }

    /// A service user by uid, email or handle.
    pub async fn service_user(
        &self,
        account: &str,
        key: &str,
    ) -> Result<Answer<ServiceUser>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["service-users", key], &[]),
        )
        .await
    }

    pub async fn create_service_user(
        &self,
        account: &str,
        input: &ServiceUserInput,
    ) -> Result<Answer<ServiceUser>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["service-users"], &[]),
            input,
        )
        .await
    }

    /// Changes the fields given; the others keep their value.
    pub async fn update_service_user(
        &self,
        account: &str,
        key: &str,
        update: &ServiceUserUpdate,
    ) -> Result<Answer<ServiceUser>, ClientError> {
        self.write(
            Method::PUT,
            self.account_url(account, &["service-users", key], &[]),
            update,
        )
        .await
    }

    pub async fn delete_service_user(
        &self,
        account: &str,
        key: &str,
    ) -> Result<Answer<()>, ClientError> {
        self.read(
            Method::DELETE,
            self.account_url(account, &["service-users", key], &[]),
        )
        .await
    }

    pub async fn deactivate_service_user(
        &self,
        account: &str,
        key: &str,
        reason: &str,
    ) -> Result<Answer<ServiceUser>, ClientError> {
        let input = DeactivateInput {
            reason: reason.to_owned(),
        };
        self.write(
            Method::POST,
            self.account_url(account, &["service-users", key, "deactivate"], &[]),
            &input,
        )
        .await
    }

    /// Reactivates a service user, with an optional reason for the audit log.
    pub async fn reactivate_service_user(
        &self,
        account: &str,
        key: &str,
        reason: Option<&str>,
    ) -> Result<Answer<ServiceUser>, ClientError> {
        let url = self.account_url(account, &["service-users", key, "reactivate"], &[]);
        match reason {
            Some(reason) => {
                let input = ReactivateInput {
                    reason: reason.to_owned(),
                };
                self.write(Method::POST, url, &input).await
            }
            None => self.read(Method::POST, url).await,
        }
    }

    /// A page of a service user's history (who changed what, when, why), oldest first.
    pub async fn service_user_history(
        &self,
        account: &str,
        key: &str,
        query: &HistoryQuery,
    ) -> Result<Answer<HistoryPage>, ClientError> {
        let query: Vec<_> = [
            pair("afterSeq", query.after_seq),
            pair("limit", query.limit),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.read(
            Method::GET,
            self.account_url(account, &["service-users", key, "history"], &query),
        )
        .await
    }

    /// Records that a service user was reviewed now, with an optional note.
    pub async fn mark_service_user_reviewed(
        &self,
        account: &str,
        key: &str,
        note: Option<&str>,
    ) -> Result<Answer<ServiceUser>, ClientError> {
        let url = self.account_url(account, &["service-users", key, "review"], &[]);
        match note {
            Some(note) => {
                let input = ReviewNote {
                    note: note.to_owned(),
                };
                self.write(Method::POST, url, &input).await
            }
            None => self.read(Method::POST, url).await,
        }
    }

    /// The service users that need a look (unused, unreviewed, without an owner or purpose, an
    /// owner deactivated, unused permissions or memberships, credentials due for rotation), and
    /// the workflows run by a person or by someone deactivated.
    pub async fn service_user_review(
        &self,
        account: &str,
        windows: &ReviewQuery,
    ) -> Result<Answer<ServiceUserReview>, ClientError> {
        let query: Vec<_> = [
            pair("unusedDays", windows.unused_days),
            pair("unreviewedDays", windows.unreviewed_days),
            pair("rotationDays", windows.rotation_days),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.read(
            Method::GET,
            self.account_url(account, &["service-users", "review"], &query),
        )
        .await
    }

    /// The smallest policy that allows what a service user did in the last `days` days (default:
    /// the server's sample retention), its diff against what it holds, and the switch's impact.
    pub async fn suggested_policy(
        &self,
        account: &str,
        key: &str,
        days: Option<i64>,
    ) -> Result<Answer<SuggestedPolicy>, ClientError> {
        let query: Vec<_> = [pair("days", days)].into_iter().flatten().collect();
        self.read(
            Method::GET,
            self.account_url(account, &["service-users", key, "suggested-policy"], &query),
        )
        .await
    }
}
