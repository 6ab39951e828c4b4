//! Per-request DataLoaders. They are built in the HTTP handler next to the caller's identity
//! and capture that caller's scopes, so a loader can never serve one caller's rows to another,
//! and every relation costs one query per nesting level instead of one per parent.

use std::{collections::HashMap, future::Future, hash::Hash, pin::Pin, sync::Arc, time::Duration};

use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    customer, department, interaction, interaction_message, product, purchase, service_agreement,
};
use sea_orm::DatabaseConnection;

use crate::{
    Error, Result,
    auth::Caller,
    policy,
    service::{self, interaction::Parent},
};

type LoadFuture<K, V> = Pin<Box<dyn Future<Output = Result<HashMap<K, V>>> + Send>>;

/// A loader made of a batch function.
pub struct BatchFn<K, V>(Arc<dyn Fn(Vec<K>) -> LoadFuture<K, V> + Send + Sync>);

impl<K, V> Loader<K> for BatchFn<K, V>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    type Value = V;
    type Error = Error;

    async fn load(&self, keys: &[K]) -> Result<HashMap<K, V>> {
        (self.0)(keys.to_vec()).await
    }
}

fn loader<K, V, F, Fut>(delay: Duration, f: F) -> DataLoader<BatchFn<K, V>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    V: Send + Sync + Clone + 'static,
    F: Fn(Vec<K>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HashMap<K, V>>> + Send + 'static,
{
    DataLoader::new(
        BatchFn(Arc::new(move |keys| Box::pin(f(keys)))),
        tokio::spawn,
    )
    .delay(delay)
    .max_batch_size(1000)
}

/// Groups rows by a key, keeping their order.
fn group<K: Hash + Eq, V>(rows: Vec<V>, key: impl Fn(&V) -> Option<K>) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(&row) {
            map.entry(k).or_default().push(row);
        }
    }
    map
}

/// Key of a nested list: the parent id and how many rows it wants.
pub type ListKey = (i32, u64);

/// Loads the newest rows per parent for every requested (parent, limit) key.
async fn per_parent<V, F, Fut>(
    keys: Vec<ListKey>,
    fetch: F,
    parent_of: fn(&V) -> Option<i32>,
) -> Result<HashMap<ListKey, Vec<V>>>
where
    V: Clone,
    F: Fn(Vec<i32>, u64) -> Fut,
    Fut: Future<Output = Result<Vec<V>>>,
{
    let mut by_limit: HashMap<u64, Vec<i32>> = HashMap::new();
    for (parent, limit) in &keys {
        by_limit.entry(*limit).or_default().push(*parent);
    }
    let mut out = HashMap::new();
    for (limit, parents) in by_limit {
        let mut grouped = group(fetch(parents.clone(), limit).await?, parent_of);
        for parent in parents {
            out.insert((parent, limit), grouped.remove(&parent).unwrap_or_default());
        }
    }
    Ok(out)
}

fn by_id<V>(rows: Vec<V>, id: fn(&V) -> i32) -> HashMap<i32, V> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}

/// Every loader of one request.
pub struct Loaders {
    /// Customers by id.
    pub customer: DataLoader<BatchFn<i32, customer::Model>>,
    /// Departments by id.
    pub department: DataLoader<BatchFn<i32, department::Model>>,
    /// Interactions by id.
    pub interaction: DataLoader<BatchFn<i32, interaction::Model>>,
    /// Products by id.
    pub product: DataLoader<BatchFn<i32, product::Model>>,
    /// Newest interactions per customer.
    pub interactions_of_customer: DataLoader<BatchFn<ListKey, Vec<interaction::Model>>>,
    /// Newest interactions per department.
    pub interactions_of_department: DataLoader<BatchFn<ListKey, Vec<interaction::Model>>>,
    /// Newest interactions per handling employee.
    pub interactions_of_handler: DataLoader<BatchFn<ListKey, Vec<interaction::Model>>>,
    /// Interactions caused by an interaction.
    pub interactions_caused_by: DataLoader<BatchFn<ListKey, Vec<interaction::Model>>>,
    /// Open interactions per department, oldest first.
    pub queue: DataLoader<BatchFn<ListKey, Vec<interaction::Model>>>,
    /// Messages per interaction (internal notes only for employees).
    pub messages: DataLoader<BatchFn<i32, Vec<interaction_message::Model>>>,
    /// Newest purchases per customer.
    pub purchases_of_customer: DataLoader<BatchFn<ListKey, Vec<purchase::Model>>>,
    /// Members per department.
    pub members: DataLoader<BatchFn<i32, Vec<customer::Model>>>,
    /// Sub-departments per department.
    pub children: DataLoader<BatchFn<i32, Vec<department::Model>>>,
    /// Service agreements involving a department.
    pub agreements: DataLoader<BatchFn<i32, Vec<service_agreement::Model>>>,
}

impl Loaders {
    /// Loaders for one request by `caller`. `delay` is the batching window: keys requested
    /// within it share one query, so it should cover the time one nesting level of a large
    /// page takes to resolve.
    pub fn new(db: &DatabaseConnection, caller: &Caller, delay: Duration) -> Self {
        let owner = policy::owner_scope(caller);
        let departments = policy::department_scope(caller);
        let products = policy::product_scope(caller);
        let agreements = policy::agreement_scope(caller);
        let internal_notes = policy::sees_internal_messages(caller);

        macro_rules! scoped {
            ($scope:expr, |$db:ident, $s:ident, $keys:ident| $body:expr) => {{
                let db = db.clone();
                let scope = $scope;
                loader(delay, move |$keys| {
                    let $db = db.clone();
                    let scope = scope;
                    async move {
                        match scope {
                            Some($s) => $body,
                            None => Ok(HashMap::new()),
                        }
                    }
                })
            }};
        }

        let interactions_of = |parent: Parent| {
            let parent_of: fn(&interaction::Model) -> Option<i32> = match parent {
                Parent::Customer => |m| Some(m.customer_id),
                Parent::Department => |m| Some(m.department_id),
                Parent::Handler => |m| m.handler_id,
                Parent::RelatedTo => |m| m.related_to_id,
            };
            scoped!(owner, |db, s, keys| {
                per_parent(
                    keys,
                    |ids, limit| {
                        let db = db.clone();
                        async move {
                            service::interaction::latest_per_parent(&db, s, parent, &ids, limit)
                                .await
                        }
                    },
                    parent_of,
                )
                .await
            })
        };

        Self {
            customer: scoped!(owner, |db, s, keys| {
                Ok(by_id(
                    service::customer::by_ids(&db, s, &keys).await?,
                    |m| m.id,
                ))
            }),
            department: scoped!(departments, |db, s, keys| {
                Ok(by_id(
                    service::department::by_ids(&db, s, &keys).await?,
                    |m| m.id,
                ))
            }),
            interaction: scoped!(owner, |db, s, keys| {
                Ok(by_id(
                    service::interaction::by_ids(&db, s, &keys).await?,
                    |m| m.id,
                ))
            }),
            product: scoped!(Some(products), |db, s, keys| {
                Ok(by_id(service::product::by_ids(&db, s, &keys).await?, |m| {
                    m.id
                }))
            }),
            interactions_of_customer: interactions_of(Parent::Customer),
            interactions_of_department: interactions_of(Parent::Department),
            interactions_of_handler: interactions_of(Parent::Handler),
            interactions_caused_by: interactions_of(Parent::RelatedTo),
            queue: scoped!(owner, |db, s, keys| {
                per_parent(
                    keys,
                    |ids, limit| {
                        let db = db.clone();
                        async move { service::interaction::queues(&db, s, &ids, limit).await }
                    },
                    |m: &interaction::Model| Some(m.department_id),
                )
                .await
            }),
            messages: scoped!(Some(internal_notes), |db, internal, keys| {
                let rows = service::interaction_write::messages_of(&db, &keys, internal).await?;
                Ok(group(rows, |m| Some(m.interaction_id)))
            }),
            purchases_of_customer: scoped!(owner, |db, s, keys| {
                per_parent(
                    keys,
                    |ids, limit| {
                        let db = db.clone();
                        async move { service::purchase::latest_per_customer(&db, s, &ids, limit).await }
                    },
                    |m: &purchase::Model| Some(m.customer_id),
                )
                .await
            }),
            members: scoped!(owner, |db, s, keys| {
                let rows = service::customer::members_of(&db, s, &keys).await?;
                Ok(group(rows, |m| m.department_id))
            }),
            children: scoped!(departments, |db, s, keys| {
                let rows = service::department::children_of(&db, s, &keys).await?;
                Ok(group(rows, |m| m.parent_id))
            }),
            agreements: scoped!(agreements, |db, _s, keys| {
                let rows = service::agreement::involving(&db, &keys).await?;
                let mut out: HashMap<i32, Vec<service_agreement::Model>> = HashMap::new();
                for row in rows {
                    for dept in [row.provider_department_id, row.consumer_department_id] {
                        if keys.contains(&dept) {
                            out.entry(dept).or_default().push(row.clone());
                        }
                    }
                }
                Ok(out)
            }),
        }
    }
}
