//! Questions: decisions, residuals, effective permissions and the catalogue of permissions.

use serde::Serialize;
use warden_api::effective::EffectivePermissionsPage;
use warden_api::residuals::{ResidualRequest, ResidualResponse};

use super::{Level, pair};
use crate::pending::{
    BatchDecisions, BatchRequest, Catalogue, Decision, DecisionRequest, EffectiveQuery,
    PermissionEntry, RegisteredService,
};
use crate::{Answer, Client, ClientError, Method};

impl Client {
    /// `POST /iam/v1/authorize`; `explain` for the reasons.
    pub async fn authorize(
        &self,
        request: &DecisionRequest,
        explain: bool,
    ) -> Result<Answer<Decision>, ClientError> {
        let query: Vec<_> = pair("explain", explain.then_some(true))
            .into_iter()
            .collect();
        self.write(Method::POST, self.iam(&["authorize"], &query), request)
            .await
    }

    /// `POST /iam/v1/authorize/batch`: decisions from one snapshot.
    pub async fn authorize_batch(
        &self,
        batch: &BatchRequest,
    ) -> Result<Answer<BatchDecisions>, ClientError> {
        self.write(Method::POST, self.iam(&["authorize", "batch"], &[]), batch)
            .await
    }

    /// `POST /iam/v1/authorize/residual`: the condition the attributes the request leaves free
    /// must meet for it to be allowed.
    pub async fn authorize_residual(
        &self,
        request: &ResidualRequest,
    ) -> Result<Answer<ResidualResponse>, ClientError> {
        self.write(
            Method::POST,
            self.iam(&["authorize", "residual"], &[]),
            request,
        )
        .await
    }

    /// A user's or group's effective permissions at an account or environment.
    pub async fn effective_permissions(
        &self,
        level: &Level,
        query: &EffectiveQuery,
    ) -> Result<Answer<EffectivePermissionsPage>, ClientError> {
        let services = (!query.services.is_empty()).then(|| query.services.join(","));
        let pairs: Vec<_> = [
            Some(("entityType", query.entity_type.clone())),
            Some(("entityId", query.entity_id.clone())),
            pair("services", services),
            pair("page", query.page),
            pair("size", query.size),
        ]
        .into_iter()
        .flatten()
        .collect();
        let (level_type, level_id) = level.parts();
        self.read(
            Method::GET,
            self.iam(
                &["resolution", level_type, level_id, "effectivepermissions"],
                &pairs,
            ),
        )
        .await
    }

    /// Every service with its permissions, and the conditions of every permission.
    pub async fn catalogue(&self) -> Result<Answer<Catalogue>, ClientError> {
        self.read(Method::GET, self.iam(&["catalogue"], &[])).await
    }

    /// One permission and those that imply it.
    pub async fn catalogue_permission(
        &self,
        name: &str,
    ) -> Result<Answer<PermissionEntry>, ClientError> {
        self.read(
            Method::GET,
            self.iam(&["catalogue", "permissions", name], &[]),
        )
        .await
    }

    /// Registers a custom service from its service file (as the catalogue's files are written).
    pub async fn register_service<F: Serialize + ?Sized>(
        &self,
        file: &F,
    ) -> Result<Answer<RegisteredService>, ClientError> {
        self.write(
            Method::POST,
            self.iam(&["catalogue", "services"], &[]),
            file,
        )
        .await
    }
}
