//! Schema migrations, one file per step, applied in order by [`Migrator`].

#![warn(missing_docs)]

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_create_crm_tables;
mod m20261123_000002_create_access_audit;
mod m20261123_000003_add_messages_and_department_version;
mod m20261123_000004_create_pulse_and_feedback;
mod m20261124_000005_separate_public_changes;
mod m20261125_000006_separate_internal_notes;
mod m20261125_000007_add_customer_erasure;
mod m20261125_000008_cover_interaction_search;
mod m20261204_000009_create_email_change;

/// Every migration the gateway knows, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_crm_tables::Migration),
            Box::new(m20261123_000002_create_access_audit::Migration),
            Box::new(m20261123_000003_add_messages_and_department_version::Migration),
            Box::new(m20261123_000004_create_pulse_and_feedback::Migration),
            Box::new(m20261124_000005_separate_public_changes::Migration),
            Box::new(m20261125_000006_separate_internal_notes::Migration),
            Box::new(m20261125_000007_add_customer_erasure::Migration),
            Box::new(m20261125_000008_cover_interaction_search::Migration),
            Box::new(m20261204_000009_create_email_change::Migration),
        ]
    }
}
