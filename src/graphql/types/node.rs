//! Relay's Global Object Identification: the `Node` interface, the global ids of the types a
//! client may refetch, and the one lookup behind `Query.node`, `Query.nodes` and each type's own
//! root field, so a refetch is scoped exactly like the lookup it stands for.
//!
//! A global id is base64 of `Type:number`: opaque to clients (Relay never parses it), unique
//! across types (Relay's store keys records by it), and it names nothing a client could not
//! already see, since the number is each type's public row id. Inputs that take an id accept a
//! type's global id or, as before, its plain number.

use std::{borrow::Cow, pin::Pin};

use async_graphql::{
    Context, ContextSelectionSet, ID, Interface, OutputType, Positioned, ServerResult, Value,
    parser::types::Field, registry::Registry,
};
use base64::{Engine, engine::general_purpose::STANDARD};

use super::{
    Customer, Department, Interaction, KnowledgeArticle, Product, Purchase, ServiceAgreement,
};
use crate::{
    Error, Result,
    graphql::context::{caller, db},
    policy, service,
};

/// The most ids one `nodes` call takes: each is a lookup.
pub const MAX_NODES: usize = 100;

/// A type a client may refetch by its global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// `Customer`.
    Customer,
    /// `Interaction`.
    Interaction,
    /// `Department`.
    Department,
    /// `Product`.
    Product,
    /// `Purchase`.
    Purchase,
    /// `KnowledgeArticle`.
    KnowledgeArticle,
    /// `ServiceAgreement` (internal callers only).
    ServiceAgreement,
}

impl NodeKind {
    const ALL: [NodeKind; 7] = [
        NodeKind::Customer,
        NodeKind::Interaction,
        NodeKind::Department,
        NodeKind::Product,
        NodeKind::Purchase,
        NodeKind::KnowledgeArticle,
        NodeKind::ServiceAgreement,
    ];

    /// The GraphQL type name, as written into global ids.
    pub fn name(self) -> &'static str {
        match self {
            NodeKind::Customer => "Customer",
            NodeKind::Interaction => "Interaction",
            NodeKind::Department => "Department",
            NodeKind::Product => "Product",
            NodeKind::Purchase => "Purchase",
            NodeKind::KnowledgeArticle => "KnowledgeArticle",
            NodeKind::ServiceAgreement => "ServiceAgreement",
        }
    }
}

/// The global id of row `id` of `kind`.
pub fn global_id(kind: NodeKind, id: i32) -> ID {
    ID(STANDARD.encode(format!("{}:{id}", kind.name())))
}

/// The type and row a global id names; `None` for anything else (plain numbers included).
pub fn decode(id: &str) -> Option<(NodeKind, i32)> {
    let bytes = STANDARD.decode(id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, number) = text.split_once(':')?;
    let kind = NodeKind::ALL.into_iter().find(|k| k.name() == name)?;
    // Only the canonical spelling (no sign, no leading zero): one id per record.
    let canonical = |n: &i32| *n > 0 && n.to_string() == number;
    let number = number.parse::<i32>().ok().filter(canonical)?;
    Some((kind, number))
}

/// Parses an id argument that names a `kind` row: its global id or its plain number. A global
/// id of another type is refused like any other invalid id.
pub(crate) fn parse_id(kind: NodeKind, field: &str, id: &ID) -> Result<i32> {
    let plain = || id.parse::<i32>().ok().filter(|n| *n > 0);
    let global = || decode(id).filter(|(k, _)| *k == kind).map(|(_, n)| n);
    plain()
        .or_else(global)
        .ok_or_else(|| Error::bad_input(field, "is not a valid id"))
}

/// Cost of `nodes`: one lookup and its selection per id (past [`MAX_NODES`] ids the resolver
/// refuses the call, so the count is bounded by that before the limit is).
pub fn nodes_cost(ids: usize, child_complexity: usize) -> usize {
    let ids = ids.min(MAX_NODES);
    5usize.saturating_add(ids.saturating_mul(child_complexity.max(1)))
}

/// An object with a global id, which `Query.node` refetches.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global id."))]
pub enum Node {
    /// A customer.
    Customer(Customer),
    /// An interaction.
    Interaction(Interaction),
    /// A department.
    Department(Department),
    /// A product.
    Product(Product),
    /// A purchase.
    Purchase(Purchase),
    /// A knowledge article.
    KnowledgeArticle(KnowledgeArticle),
    /// A service agreement; internal, so no `Node` for other tiers.
    ServiceAgreement(ServiceAgreement),
}

/// A `Node` as `node` and `nodes` answer it: the object's own fields resolved by
/// [`InOrder`](super::InOrder)'s executor, in selection order, with the fragments on the
/// object's own type (or on `Node`) applied. The interface itself resolves only `id`.
pub struct NodeAnswer(pub Node);

impl OutputType for NodeAnswer {
    fn type_name() -> Cow<'static, str> {
        Node::type_name()
    }

    fn qualified_type_name() -> String {
        Node::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Node::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        use super::in_order::resolve;
        type Answer<'a> = Pin<Box<dyn Future<Output = ServerResult<Value>> + Send + 'a>>;
        // One box whatever the type: the futures of the seven types differ in size.
        let answer: Answer<'_> = match &self.0 {
            Node::Customer(o) => Box::pin(resolve(ctx, o)),
            Node::Interaction(o) => Box::pin(resolve(ctx, o)),
            Node::Department(o) => Box::pin(resolve(ctx, o)),
            Node::Product(o) => Box::pin(resolve(ctx, o)),
            Node::Purchase(o) => Box::pin(resolve(ctx, o)),
            Node::KnowledgeArticle(o) => Box::pin(resolve(ctx, o)),
            Node::ServiceAgreement(o) => Box::pin(resolve(ctx, o)),
        };
        answer.await
    }
}

/// The object a global id names, if the caller may see it; `None` alike for an undecodable
/// id, a type hidden from the caller, someone else's record and a missing one. Each kind is
/// read by the service function and under the policy scope of its own root lookup.
pub async fn find(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    let Some((kind, id)) = decode(id) else {
        return Ok(None);
    };
    let caller = caller(ctx);
    let db = db(ctx)?;
    let owner = policy::owner_scope(caller);
    Ok(match kind {
        NodeKind::Customer => match owner {
            Some(scope) => service::customer::get(db, scope, id)
                .await?
                .map(|m| Node::Customer(Customer(m))),
            None => None,
        },
        NodeKind::Interaction => match owner {
            Some(scope) => service::interaction::get(db, scope, id)
                .await?
                .map(|m| Node::Interaction(Interaction(m))),
            None => None,
        },
        NodeKind::Purchase => match owner {
            Some(scope) => service::purchase::by_ids(db, scope, &[id])
                .await?
                .into_iter()
                .next()
                .map(|m| Node::Purchase(Purchase(m))),
            None => None,
        },
        NodeKind::Department => match policy::department_scope(caller) {
            Some(scope) => service::department::get(db, scope, id)
                .await?
                .map(|m| Node::Department(Department::from(m))),
            None => None,
        },
        NodeKind::Product => service::product::get(db, policy::product_scope(caller), id)
            .await?
            .map(|m| Node::Product(Product(m))),
        NodeKind::KnowledgeArticle => {
            service::knowledge::get(db, policy::article_scope(caller), id)
                .await?
                .map(|m| Node::KnowledgeArticle(KnowledgeArticle(m)))
        }
        NodeKind::ServiceAgreement => match policy::agreement_scope(caller) {
            Some(permit) => service::agreement::get(db, permit, id)
                .await?
                .map(|m| Node::ServiceAgreement(ServiceAgreement(m))),
            None => None,
        },
    })
}

/// The objects `ids` name, in order, each as [`find`] answers it; more than [`MAX_NODES`] ids
/// are refused whole.
pub async fn find_all(ctx: &Context<'_>, ids: &[ID]) -> Result<Vec<Option<Node>>> {
    if ids.len() > MAX_NODES {
        return Err(Error::bad_input(
            "ids",
            format!("takes at most {MAX_NODES} ids"),
        ));
    }
    futures_util::future::try_join_all(ids.iter().map(|id| find(ctx, id))).await
}
