//! `Product`: the public catalogue entry, with its cost behind the manager tier.

use async_graphql::{ID, Object};
use entity::product;

use super::money;

/// Something the company sells.
pub struct Product(pub product::Model);

impl Product {
    fn employee_price_cents(&self) -> i64 {
        self.0.list_price_cents * i64::from(100 - self.0.employee_discount_pct) / 100
    }
}

#[Object]
impl Product {
    /// Stable global id (Relay's `Node`): opaque, unique across types. Arguments that take
    /// this type's id accept it or the plain row number.
    pub async fn id(&self) -> ID {
        super::global_id(super::NodeKind::Product, self.0.id)
    }
    /// Stock-keeping unit.
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Public description.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Public list price, in currency units.
    async fn list_price(&self) -> f64 {
        money(self.0.list_price_cents)
    }
    /// Whether it is on sale.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Discount employees get, in percent.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn employee_discount(&self) -> i32 {
        self.0.employee_discount_pct
    }
    /// What an employee pays, in currency units.
    #[graphql(visible = "crate::policy::visible::internal")]
    async fn employee_price(&self) -> f64 {
        money(self.employee_price_cents())
    }
    /// What one unit costs the company. Sensitive even inside: an insider could bargain with it.
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn unit_cost(&self) -> f64 {
        money(self.0.unit_cost_cents)
    }
    /// Gross margin at list price, as a fraction of the price (0.4 = 40 %).
    #[graphql(visible = "crate::policy::visible::manager")]
    async fn margin(&self) -> f64 {
        if self.0.list_price_cents == 0 {
            return 0.0;
        }
        (self.0.list_price_cents - self.0.unit_cost_cents) as f64 / self.0.list_price_cents as f64
    }
}
