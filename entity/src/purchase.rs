//! A purchase: which customer bought what, when, for how much.

use sea_orm::entity::prelude::*;

/// A stored purchase.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purchase")]
pub struct Model {
    /// Primary key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The customer it belongs to.
    pub customer_id: i32,
    /// The product bought.
    pub product_id: i32,
    /// Units bought.
    pub quantity: i32,
    /// Price actually paid per unit, in cents, after any discount.
    pub unit_price_cents: i64,
    /// Total paid, in cents.
    pub total_cents: i64,
    /// When it was bought.
    pub purchased_at: DateTimeUtc,
}

/// Relations of a purchase.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The customer it belongs to.
    #[sea_orm(
        belongs_to = "super::customer::Entity",
        from = "Column::CustomerId",
        to = "super::customer::Column::Id"
    )]
    Customer,
    /// The product it belongs to.
    #[sea_orm(
        belongs_to = "super::product::Entity",
        from = "Column::ProductId",
        to = "super::product::Column::Id"
    )]
    Product,
}

impl ActiveModelBehavior for ActiveModel {}
