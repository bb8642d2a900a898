//! Records and places: the audit log, environments, workflows and the consent of their actors.

use warden_api::audit::AuditPage;
use warden_api::environments::{DynatraceEnvironmentList, Environment, EnvironmentList};

use super::pair;
use crate::pending::{
    AuditQuery, AuditVerification, Consent, EnvironmentInput, TaskDecision, TaskInput, Workflow,
    WorkflowInput, WorkflowList, WorkflowUpdate,
};
use crate::{Answer, Client, ClientError, Method, Url};

impl Client {
    // ---- audit ----------------------------------------------------------------------------------

    pub async fn audit_log(
        &self,
        account: &str,
        query: &AuditQuery,
    ) -> Result<Answer<AuditPage>, ClientError> {
        let pairs: Vec<_> = [
            pair("afterSeq", query.after_seq),
            pair("limit", query.limit),
            pair("actor", query.actor.as_deref()),
            pair("action", query.action.as_deref()),
            pair("target", query.target.as_deref()),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.read(
            Method::GET,
            self.account_url(account, &["audit-log"], &pairs),
        )
        .await
    }

    /// Checks the audit log's hash chain.
    pub async fn verify_audit_log(
        &self,
        account: &str,
    ) -> Result<Answer<AuditVerification>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["audit-log", "verify"], &[]),
        )
        .await
    }

    // ---- environments ---------------------------------------------------------------------------

    pub async fn environments(
        &self,
        account: &str,
    ) -> Result<Answer<EnvironmentList>, ClientError> {
        self.read(
            Method::GET,
            self.account_url(account, &["environments"], &[]),
        )
        .await
    }

    /// The environments in the shape of Dynatrace's environment API.
    pub async fn dynatrace_environments(
        &self,
        account: &str,
    ) -> Result<Answer<DynatraceEnvironmentList>, ClientError> {
        self.read(
            Method::GET,
            self.url(&["env", "v2", "accounts", account, "environments"]),
        )
        .await
    }

    pub async fn create_environment(
        &self,
        account: &str,
        environment: &EnvironmentInput,
    ) -> Result<Answer<Environment>, ClientError> {
        self.write(
            Method::POST,
            self.account_url(account, &["environments"], &[]),
            environment,
        )
        .await
    }

    // ---- workflows ------------------------------------------------------------------------------

    /// `/automation/v1/<segments>`, with `adminAccess=true` when asked.
    fn automation(&self, segments: &[&str], admin_access: bool) -> Url {
        let mut all = vec!["automation", "v1"];
        all.extend_from_slice(segments);
        let query: Vec<_> = pair("adminAccess", admin_access.then_some(true))
            .into_iter()
            .collect();
        self.with_query(self.url(&all), &query)
    }

    /// The workflows the caller may see; `admin_access` for all of them.
    pub async fn workflows(&self, admin_access: bool) -> Result<Answer<WorkflowList>, ClientError> {
        self.read(Method::GET, self.automation(&["workflows"], admin_access))
            .await
    }

    pub async fn workflow(
        &self,
        id: &str,
        admin_access: bool,
    ) -> Result<Answer<Workflow>, ClientError> {
        self.read(
            Method::GET,
            self.automation(&["workflows", id], admin_access),
        )
        .await
    }

    pub async fn create_workflow(
        &self,
        workflow: &WorkflowInput,
    ) -> Result<Answer<Workflow>, ClientError> {
        self.write(
            Method::POST,
            self.automation(&["workflows"], false),
            workflow,
        )
        .await
    }

    pub async fn update_workflow(
        &self,
        id: &str,
        update: &WorkflowUpdate,
        admin_access: bool,
    ) -> Result<Answer<Workflow>, ClientError> {
        self.write(
            Method::PUT,
            self.automation(&["workflows", id], admin_access),
            update,
        )
        .await
    }

    pub async fn delete_workflow(
        &self,
        id: &str,
        admin_access: bool,
    ) -> Result<Answer<()>, ClientError> {
        self.read(
            Method::DELETE,
            self.automation(&["workflows", id], admin_access),
        )
        .await
    }

    /// Decides whether a task of a run of the workflow may go ahead (recorded in the audit log).
    pub async fn authorize_task(
        &self,
        id: &str,
        task: &TaskInput,
        admin_access: bool,
    ) -> Result<Answer<TaskDecision>, ClientError> {
        self.write(
            Method::POST,
            self.automation(&["workflows", id, "authorize-task"], admin_access),
            task,
        )
        .await
    }

    /// The caller's consent for workflows that run as it in an environment.
    pub async fn consent(&self, environment: &str) -> Result<Answer<Consent>, ClientError> {
        let url = self.url(&["automation", "v1", "authorization-settings"]);
        let url = self.with_query(url, &[("environment", environment.to_owned())]);
        self.read(Method::GET, url).await
    }

    pub async fn set_consent(&self, consent: &Consent) -> Result<Answer<Consent>, ClientError> {
        self.write(
            Method::PUT,
            self.url(&["automation", "v1", "authorization-settings"]),
            consent,
        )
        .await
    }
}
