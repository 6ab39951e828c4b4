//! `ServiceAgreement`: an internal service level between two departments. The whole type is
//! internal: it does not exist for clients or anonymous callers.

use async_graphql::{Context, ID, Object};
use entity::service_agreement as agreement;

use super::Department;
use crate::{Result, graphql::context::loaders};

/// One department's promise of a service to another.
pub struct ServiceAgreement(pub agreement::Model);

#[Object(visible = "crate::policy::visible::internal")]
impl ServiceAgreement {
    /// Stable global id (Relay's `Node`): opaque, unique across types. Arguments that take
    /// this type's id accept it or the plain row number.
    pub async fn id(&self) -> ID {
        super::global_id(super::NodeKind::ServiceAgreement, self.0.id)
    }
    /// The service promised, e.g. "Laptop repair".
    async fn service(&self) -> &str {
        &self.0.service
    }
    /// Promised turnaround, in hours.
    async fn target_turnaround_hours(&self) -> i32 {
        self.0.target_turnaround_hours
    }
    /// Promised quality, as a target mean CSAT (1–5).
    async fn quality_target(&self) -> f64 {
        self.0.quality_target
    }
    /// Optimistic-locking version.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// The department that provides the service.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(loaders(ctx)?
            .department
            .load_one(self.0.provider_department_id)
            .await?
            .map(Department))
    }
    /// The department that consumes it (the internal customer).
    async fn consumer(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(loaders(ctx)?
            .department
            .load_one(self.0.consumer_department_id)
            .await?
            .map(Department))
    }
}
