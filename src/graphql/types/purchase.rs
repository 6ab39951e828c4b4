//! `Purchase`: who bought what, when, for how much.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::purchase;

use super::{Customer, Product, money};
use crate::{Result, graphql::context::loaders};

/// One purchase.
pub struct Purchase(pub purchase::Model);

#[Object]
impl Purchase {
    /// Stable global id (Relay's `Node`): opaque, unique across types. Arguments that take
    /// this type's id accept it or the plain row number.
    pub async fn id(&self) -> ID {
        super::global_id(super::NodeKind::Purchase, self.0.id)
    }
    /// Units bought.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// Price paid per unit, in currency units.
    async fn unit_price(&self) -> f64 {
        money(self.0.unit_price_cents)
    }
    /// Total paid, in currency units.
    async fn total(&self) -> f64 {
        money(self.0.total_cents)
    }
    /// When it was bought.
    async fn purchased_at(&self) -> DateTime<Utc> {
        self.0.purchased_at
    }
    /// The buyer.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        Ok(loaders(ctx)?
            .customer
            .load_one(self.0.customer_id)
            .await?
            .map(Customer))
    }
    /// What was bought.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<Product>> {
        Ok(loaders(ctx)?
            .product
            .load_one(self.0.product_id)
            .await?
            .map(Product))
    }
}
