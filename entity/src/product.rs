//! Something the company sells: a public price and an internal cost.

use sea_orm::entity::prelude::*;

/// A stored product.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Stock-keeping unit, unique.
    #[sea_orm(unique)]
    pub sku: String,
    /// Display name.
    pub name: String,
    /// What it is, in a sentence or two.
    pub description: String,
    /// Public list price, in cents.
    pub list_price_cents: i64,
    /// What one unit costs the company to make or buy.
    pub unit_cost_cents: i64,
    /// Discount employees get, in percent.
    pub employee_discount_pct: i32,
    /// Whether it is on sale.
    pub active: bool,
    /// When the row was created.
    pub created_at: DateTimeUtc,
}

/// Products have no outgoing relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
