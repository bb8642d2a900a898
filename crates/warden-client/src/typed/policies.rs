//! What grants: policies, boundaries, bindings and the limits of a level.

use warden_api::bindings::BindingInput;
use warden_api::boundaries::{BoundaryDto, BoundaryInput, BoundaryPage};
use warden_api::paging::NumberPageQuery;
use warden_api::policies::{
    PolicyDto, PolicyInput, PolicyList, PolicyOverviewList, PolicyValidation,
};

use super::{Level, pair};
use crate::pending::{
    BindingFilter, BindingsPage, GroupBindings, GroupsInput, LevelBindings, Limits,
    PolicyUuidsInput,
};
use crate::{Answer, Client, ClientError, Method};

impl Client {
    // ---- policies -------------------------------------------------------------------------------

    /// The policies of a level, optionally those whose name contains `name`.
    pub async fn policies(
        &self,
        level: &Level,
        name: Option<&str>,
    ) -> Result<Answer<PolicyList>, ClientError> {
        let query: Vec<_> = pair("name", name).into_iter().collect();
        self.read(Method::GET, self.repo_url(level, &["policies"], &query))
            .await
    }

    /// The policies that apply at a level.
    pub async fn policy_aggregate(
        &self,
        level: &Level,
    ) -> Result<Answer<PolicyOverviewList>, ClientError> {
        self.read(
            Method::GET,
            self.repo_url(level, &["policies", "aggregate"], &[]),
        )
        .await
    }

    pub async fn policy(
        &self,
        level: &Level,
        uuid: &str,
    ) -> Result<Answer<PolicyDto>, ClientError> {
        self.read(Method::GET, self.repo_url(level, &["policies", uuid], &[]))
            .await
    }

    pub async fn create_policy(
        &self,
        level: &Level,
        policy: &PolicyInput,
    ) -> Result<Answer<PolicyDto>, ClientError> {
        self.write(
            Method::POST,
            self.repo_url(level, &["policies"], &[]),
            policy,
        )
        .await
    }

    /// Creates the policy with this uuid (the answer has it) or changes it (no body).
    pub async fn put_policy(
        &self,
        level: &Level,
        uuid: &str,
        policy: &PolicyInput,
    ) -> Result<Answer<Option<PolicyDto>>, ClientError> {
        self.write(
            Method::PUT,
            self.repo_url(level, &["policies", uuid], &[]),
            policy,
        )
        .await
    }

    /// Deletes a policy; `force` deletes its bindings too instead of refusing.
    pub async fn delete_policy(
        &self,
        level: &Level,
        uuid: &str,
        force: bool,
    ) -> Result<Answer<()>, ClientError> {
        let query: Vec<_> = pair("force", force.then_some(true)).into_iter().collect();
        self.read(
            Method::DELETE,
            self.repo_url(level, &["policies", uuid], &query),
        )
        .await
    }

    /// Validates a policy text without saving it.
    pub async fn validate_policy(
        &self,
        level: &Level,
        policy: &PolicyInput,
    ) -> Result<Answer<PolicyValidation>, ClientError> {
        self.write(
            Method::POST,
            self.repo_url(level, &["policies", "validation"], &[]),
            policy,
        )
        .await
    }

    /// Validates a new text for an existing policy (checked against its bindings).
    pub async fn validate_policy_change(
        &self,
        level: &Level,
        uuid: &str,
        policy: &PolicyInput,
    ) -> Result<Answer<PolicyValidation>, ClientError> {
        self.write(
            Method::POST,
            self.repo_url(level, &["policies", "validation", uuid], &[]),
            policy,
        )
        .await
    }

    // ---- boundaries -----------------------------------------------------------------------------

    pub async fn boundaries(
        &self,
        account: &str,
        page: &NumberPageQuery,
    ) -> Result<Answer<BoundaryPage>, ClientError> {
        let query: Vec<_> = [pair("page", page.page), pair("size", page.size)]
            .into_iter()
            .flatten()
            .collect();
        let level = Level::Account(account.to_owned());
        self.read(Method::GET, self.repo_url(&level, &["boundaries"], &query))
            .await
    }

    pub async fn boundary(
        &self,
        account: &str,
        uuid: &str,
    ) -> Result<Answer<BoundaryDto>, ClientError> {
        let level = Level::Account(account.to_owned());
        self.read(
            Method::GET,
            self.repo_url(&level, &["boundaries", uuid], &[]),
        )
        .await
    }

    pub async fn create_boundary(
        &self,
        account: &str,
        boundary: &BoundaryInput,
    ) -> Result<Answer<BoundaryDto>, ClientError> {
        let level = Level::Account(account.to_owned());
        self.write(
            Method::POST,
            self.repo_url(&level, &["boundaries"], &[]),
            boundary,
        )
        .await
    }

    /// Creates the boundary with this uuid (the answer has it) or changes it (no body).
    pub async fn put_boundary(
        &self,
        account: &str,
        uuid: &str,
        boundary: &BoundaryInput,
    ) -> Result<Answer<Option<BoundaryDto>>, ClientError> {
        let level = Level::Account(account.to_owned());
        self.write(
            Method::PUT,
            self.repo_url(&level, &["boundaries", uuid], &[]),
            boundary,
        )
        .await
    }

    pub async fn delete_boundary(
        &self,
        account: &str,
        uuid: &str,
    ) -> Result<Answer<()>, ClientError> {
        let level = Level::Account(account.to_owned());
        self.read(
            Method::DELETE,
            self.repo_url(&level, &["boundaries", uuid], &[]),
        )
        .await
    }

    // ---- bindings -------------------------------------------------------------------------------

    /// Every binding at a level.
    pub async fn bindings(&self, level: &Level) -> Result<Answer<LevelBindings>, ClientError> {
        self.read(Method::GET, self.repo_url(level, &["bindings"], &[]))
            .await
    }

    /// A policy's bindings at a level (to one group, when given).
    pub async fn policy_bindings(
        &self,
        level: &Level,
        policy: &str,
        group: Option<&str>,
    ) -> Result<Answer<LevelBindings>, ClientError> {
        let mut segments = vec!["bindings", policy];
        segments.extend(group);
        self.read(Method::GET, self.repo_url(level, &segments, &[]))
            .await
    }

    /// A group's bindings at a level; `details` for their parameters and boundaries.
    pub async fn group_bindings(
        &self,
        level: &Level,
        group: &str,
        details: bool,
    ) -> Result<Answer<GroupBindings>, ClientError> {
        let query: Vec<_> = pair("details", details.then_some(true))
            .into_iter()
            .collect();
        self.read(
            Method::GET,
            self.repo_url(level, &["bindings", "groups", group], &query),
        )
        .await
    }

    /// A policy's bindings in every environment of an account.
    pub async fn binding_descendants(
        &self,
        account: &str,
        policy: &str,
        page: &NumberPageQuery,
    ) -> Result<Answer<BindingsPage>, ClientError> {
        let query: Vec<_> = [pair("page", page.page), pair("size", page.size)]
            .into_iter()
            .flatten()
            .collect();
        let level = Level::Account(account.to_owned());
        self.read(
            Method::GET,
            self.repo_url(&level, &["bindings", "descendants", policy], &query),
        )
        .await
    }

    /// Binds a policy to one group, with parameters, metadata and boundaries.
    pub async fn bind(
        &self,
        level: &Level,
        policy: &str,
        group: &str,
        binding: &BindingInput,
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::POST,
            self.repo_url(level, &["bindings", policy, group], &[]),
            binding,
        )
        .await
    }

    /// Binds a policy to several groups, without parameters.
    pub async fn bind_groups(
        &self,
        level: &Level,
        policy: &str,
        groups: &GroupsInput,
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::POST,
            self.repo_url(level, &["bindings", policy], &[]),
            groups,
        )
        .await
    }

    /// Replaces the bindings of a policy to a group that `filter` matches with this one.
    pub async fn rebind(
        &self,
        level: &Level,
        policy: &str,
        group: &str,
        filter: &BindingFilter,
        binding: &BindingInput,
    ) -> Result<Answer<()>, ClientError> {
        let pairs = filter.pairs();
        let query: Vec<_> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        self.write(
            Method::PUT,
            self.repo_url(level, &["bindings", policy, group], &query),
            binding,
        )
        .await
    }

    /// Makes a group's bindings at a level exactly these policies.
    pub async fn set_group_bindings(
        &self,
        level: &Level,
        group: &str,
        policies: &PolicyUuidsInput,
    ) -> Result<Answer<()>, ClientError> {
        self.write(
            Method::PUT,
            self.repo_url(level, &["bindings", "groups", group], &[]),
            policies,
        )
        .await
    }

    /// Deletes the bindings of a policy (to a group, when given) that `filter` matches.
    pub async fn unbind(
        &self,
        level: &Level,
        policy: &str,
        group: Option<&str>,
        filter: &BindingFilter,
    ) -> Result<Answer<()>, ClientError> {
        let pairs = filter.pairs();
        let query: Vec<_> = pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let mut segments = vec!["bindings", policy];
        segments.extend(group);
        self.read(Method::DELETE, self.repo_url(level, &segments, &query))
            .await
    }

    /// Deletes every binding at a level.
    pub async fn unbind_all(&self, level: &Level) -> Result<Answer<()>, ClientError> {
        self.read(Method::DELETE, self.repo_url(level, &["bindings"], &[]))
            .await
    }

    /// How much of each limit a level uses.
    pub async fn limits(&self, level: &Level) -> Result<Answer<Limits>, ClientError> {
        self.read(Method::GET, self.repo_url(level, &["limits"], &[]))
            .await
    }
}
