//! GraphQL output types. Each wraps a stored model and maps it field by field, so renaming a
//! column never changes `schema.graphql` by accident. Internal-only fields carry
//! `visible = "crate::policy::visible::…"`; the guard in `graphql::guard` enforces the same.

mod access;
mod agreement;
mod article;
mod audit;
mod connection;
mod customer;
mod department;
mod enums;
mod in_order;
mod inputs;
mod interaction;
mod message;
mod metrics;
mod mutation_inputs;
mod node;
mod product;
mod purchase;
mod timeline;

pub use access::{Access, RowScopeInfo, TypeAccess, ViewerInfo};
pub use agreement::ServiceAgreement;
pub use article::KnowledgeArticle;
pub use audit::AccessAuditEntry;
pub use connection::{Conn, EdgeCursor, Totals, connection, plain_connection};
pub use customer::Customer;
pub use department::Department;
pub use enums::*;
pub use in_order::InOrder;
pub use inputs::*;
pub use interaction::Interaction;
pub use message::InteractionMessage;
pub use metrics::*;
pub use mutation_inputs::*;
pub(crate) use node::parse_id;
pub use node::{
    MAX_NODES, Node, NodeAnswer, NodeKind, decode as decode_id, find as find_node,
    find_all as find_nodes, global_id, nodes_cost,
};
pub use product::Product;
pub use purchase::Purchase;
pub use timeline::{TimelineEntry, TimelineKind};

use crate::Result;

/// Turns cents into currency units for display.
pub(crate) fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// Turns a money amount from an input into cents.
pub(crate) fn money_in(field: &str, amount: f64) -> Result<i64> {
    crate::service::validate::money(field, amount)
}

/// `future` on the heap, to await. A type's field futures share one size, its largest field's,
/// and every selected field of every list item is built and moved at that size: a rarely
/// selected field that waits on a loader awaits it boxed (and answers with a type resolved in
/// its own box, such as [`InOrder`]), so it does not set the size of the hot fields. A plain
/// function: an `async fn` would hold the future inline until its first poll.
pub(crate) fn cold<F: Future + Send>(future: F) -> std::pin::Pin<Box<F>> {
    Box::pin(future)
}
