//! Objects whose selected fields resolve together in one future, answered in selection order.
//!
//! async-graphql's `resolve_container` boxes one future per selected field, drives them through a
//! `FuturesUnordered` and inserts each answer as it completes. On the customer list's nested read
//! (50 customers, 250 interactions, 250 departments) that is thousands of boxes, task
//! allocations and wake-ups per request, for fields that nearly all answer on their first poll
//! from the row already loaded. [`InOrder`] runs the very same generated field resolvers, but
//! polls them side by side in one `join_all` (one allocation per object), so a field that waits
//! on a batch still waits concurrently with its siblings and with the other list items, and
//! builds the object in the order the operation selects its fields.
//!
//! Where a request could see a difference (a schema extension or a custom directive, which hook
//! into each field), it hands over to async-graphql's own `resolve_container` instead.

use std::{borrow::Cow, pin::Pin};

use async_graphql::{
    Context, ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value,
    indexmap::{IndexMap, map::Entry},
    parser::types::{Field, Selection, SelectionSet},
    registry::Registry,
    resolver_utils::{ContainerType, resolve_container},
};
use futures_util::future::join_all;

/// The GraphQL object `T`, resolved as the module docs describe. It is the same schema type as
/// `T`: same name, same fields, same registration. `T` is an object type: the `Node` interface
/// resolves its objects with [`resolve`] through `types::NodeAnswer`, by their own types.
pub struct InOrder<T>(pub T);

impl<T: ContainerType> OutputType for InOrder<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // One box per object, erasing the future's type: an object can nest its own type
        // (`Interaction.caused`), and a future cannot contain itself. Small in turn, the futures
        // of a list's items are cheap to move.
        let erased: Pin<Box<dyn Future<Output = ServerResult<Value>> + Send + '_>> =
            Box::pin(resolve(ctx, &self.0));
        erased.await
    }
}

/// Resolves `root`'s selected fields side by side and answers them in selection order.
pub(crate) async fn resolve<T: ContainerType>(
    ctx: &ContextSelectionSet<'_>,
    root: &T,
) -> ServerResult<Value> {
    // Extensions and custom directives wrap each field's future; only async-graphql's own
    // executor knows how, so schemas with them take it. The only extension the gateway installs
    // is the `otel` feature's tracing (`graphql::build_schema`).
    if cfg!(feature = "otel") || !ctx.schema_env.custom_directives.is_empty() {
        return resolve_container(ctx, root).await;
    }
    let mut fields = Vec::with_capacity(ctx.item.node.items.len());
    collect(ctx, root, &ctx.item.node, &mut fields)?;
    let contexts: Vec<Context<'_>> = fields.iter().map(|field| ctx.with_field(field)).collect();
    let answers = join_all(contexts.iter().map(|field| answer(root, field))).await;
    let mut object = IndexMap::with_capacity(answers.len());
    for answer in answers {
        match answer {
            Ok((key, value)) => insert(&mut object, key, value),
            Err(error) => ctx.add_error(error),
        }
    }
    // The same shape as async-graphql's executor: an object that answered nothing is null.
    Ok(if object.is_empty() {
        Value::Null
    } else {
        Value::Object(object)
    })
}

/// One field's response key and value.
async fn answer<T: ContainerType>(root: &T, field: &Context<'_>) -> ServerResult<(Name, Value)> {
    let key = field.item.node.response_key().node.clone();
    if field.item.node.name.node == "__typename" {
        let name = root.introspection_type_name().into_owned();
        return Ok((key, Value::String(name)));
    }
    Ok((key, root.resolve_field(field).await?.unwrap_or_default()))
}

/// Appends the fields `set` selects on `root`, fragments expanded in place (GraphQL's
/// CollectFields). `@skip` and `@include` were applied when async-graphql prepared the document.
fn collect<'a, T: OutputType>(
    ctx: &ContextSelectionSet<'a>,
    root: &T,
    set: &'a SelectionSet,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<()> {
    for selection in &set.items {
        let (condition, inner) = match &selection.node {
            Selection::Field(field) => {
                fields.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = ctx.query_env.fragments.get(name) else {
                    let message = format!(r#"Unknown fragment "{name}"."#);
                    return Err(ServerError::new(message, Some(spread.pos)));
                };
                let fragment = &fragment.node;
                (
                    Some(&fragment.type_condition.node.on.node),
                    &fragment.selection_set,
                )
            }
            Selection::InlineFragment(inline) => {
                let inline = &inline.node;
                let condition = inline.type_condition.as_ref();
                (condition.map(|c| &c.node.on.node), &inline.selection_set)
            }
        };
        if condition.is_none_or(|condition| applies(ctx, root, condition)) {
            collect(ctx, root, &inner.node, fields)?;
        }
    }
    Ok(())
}

/// Whether a fragment on type `condition` applies to `root`: its own type or an interface of it.
fn applies<T: OutputType>(ctx: &ContextSelectionSet<'_>, root: &T, condition: &str) -> bool {
    let own = root.introspection_type_name();
    own == condition
        || T::type_name() == condition
        || (ctx.schema_env.registry.implements.get(own.as_ref()))
            .is_some_and(|interfaces| interfaces.contains(condition))
}

/// Adds a field's answer to its object; a key answered twice (the same field selected twice,
/// validation made sure of that) merges its sub-objects, as async-graphql's executor does.
fn insert(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    let previous = match object.entry(key) {
        Entry::Occupied(previous) => previous.into_mut(),
        Entry::Vacant(place) => {
            place.insert(value);
            return;
        }
    };
    match (previous, value) {
        (Value::Object(previous), Value::Object(value)) => merge(previous, value),
        (Value::List(previous), Value::List(value)) => {
            for (previous, value) in previous.iter_mut().zip(value) {
                if let (Value::Object(previous), Value::Object(value)) = (previous, value) {
                    merge(previous, value);
                }
            }
        }
        _ => {}
    }
}

/// Merges the fields of `value` into `previous`.
fn merge(previous: &mut IndexMap<Name, Value>, value: IndexMap<Name, Value>) {
    for (key, value) in value {
        insert(previous, key, value);
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};

    use super::InOrder;

    /// An object whose first field answers last, and two fields that fail.
    struct Thing(u8);

    #[Object]
    impl Thing {
        async fn slow(&self) -> u8 {
            tokio::task::yield_now().await;
            self.0
        }
        async fn a(&self) -> u8 {
            self.0 + 1
        }
        async fn b(&self) -> String {
            format!("b{}", self.0)
        }
        async fn fails(&self) -> async_graphql::Result<u8> {
            Err("boom".into())
        }
        async fn maybe(&self) -> async_graphql::Result<Option<u8>> {
            Err("no maybe".into())
        }
        async fn child(&self) -> InOrder<Thing> {
            InOrder(Thing(self.0 + 10))
        }
        async fn children(&self) -> Vec<InOrder<Thing>> {
            vec![InOrder(Thing(1)), InOrder(Thing(2))]
        }
    }

    struct Root;

    #[Object]
    impl Root {
        /// The object through async-graphql's own executor.
        async fn native(&self) -> Thing {
            Thing(0)
        }
        /// The same object through [`InOrder`] (the names are as long, so error locations match).
        async fn joined(&self) -> InOrder<Thing> {
            InOrder(Thing(0))
        }
    }

    /// The answer to `selection` on `root`, as `t`, as JSON text with its keys as answered.
    async fn run(root: &str, selection: &str) -> String {
        let schema = Schema::new(Root, EmptyMutation, EmptySubscription);
        let mut query = format!("{{ t: {root} {selection} }}");
        if selection.contains("...F") {
            query.push_str(" fragment F on Thing { b x: a }");
        }
        let response = schema.execute(query).await;
        serde_json::to_string(&response).expect("a response serialises")
    }

    const SELECTIONS: [&str; 6] = [
        "{ slow a b }",
        "{ __typename slow ...F ... on Thing { a } ... { b } }",
        "{ a fails b }",
        "{ a maybe b }",
        "{ child { slow a } a child { b } children { slow ...F } }",
        "{ slow @include(if: true) a @skip(if: true) b }",
    ];

    #[tokio::test]
    async fn answers_and_errors_match_async_graphqls_own_executor() {
        for selection in SELECTIONS {
            let native: serde_json::Value = serde_json::from_str(&run("native", selection).await)
                .expect("the native answer is JSON");
            let joined: serde_json::Value = serde_json::from_str(&run("joined", selection).await)
                .expect("the joined answer is JSON");
            // `serde_json::Value` compares objects whatever their key order.
            assert_eq!(native, joined, "{selection}");
        }
    }

    #[tokio::test]
    async fn keys_come_in_selection_order_though_the_first_field_answers_last() {
        let answer = run("joined", SELECTIONS[4]).await;
        let data = r#"{"t":{"child":{"slow":10,"a":11,"b":"b10"},"a":1,"children":[{"slow":1,"b":"b1","x":2},{"slow":2,"b":"b2","x":3}]}}"#;
        assert_eq!(answer, format!(r#"{{"data":{data}}}"#));
        let answer = run("joined", SELECTIONS[1]).await;
        let data = r#"{"t":{"__typename":"Thing","slow":0,"b":"b0","x":1,"a":1}}"#;
        assert_eq!(answer, format!(r#"{{"data":{data}}}"#));
    }
}
