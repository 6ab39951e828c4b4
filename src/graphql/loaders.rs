//! Per-request batch loaders. They are built in the HTTP handler next to the caller's identity
//! and capture that caller's scopes, so a loader can never serve one caller's rows to another,
//! and every relation costs one query per nesting level instead of one per parent.

use std::{collections::HashMap, future::Future, hash::Hash, pin::Pin, sync::Arc};

use entity::{
    customer, department, interaction, interaction_thread, product, purchase, service_agreement,
};
use sea_orm::{DatabaseConnection, FromQueryResult};

use super::{batch::BatchLoader, batching::Batching};
use crate::{
    Result,
    auth::{Caller, CursorKey},
    policy::{self, OwnerScope},
    service::{
        self, LongText, Omit,
        interaction::Parent,
        nested::Children,
        page::{Page, PageRequest, TotalCount},
        timeline::{self, TimelineItem},
    },
};

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

/// Key of a nested list's first page: the parent id, how many rows it wants, and which long
/// columns its selection leaves unread.
pub type ListKey = (i32, u64, Omit);

type PageFuture<M> = Pin<Box<dyn Future<Output = Result<Page<M>>> + Send>>;

/// The loaders of one nested list: first pages batched per nesting level, counts batched per
/// nesting level, and a page after a cursor read on its own (a cursor fits one parent only).
pub struct NestedLoader<M> {
    first: BatchLoader<ListKey, Page<M>>,
    counts: Option<Arc<BatchLoader<i32, u64>>>,
    after: Arc<dyn Fn(i32, PageRequest) -> PageFuture<M> + Send + Sync>,
}

impl<M: Clone + Send + Sync + 'static> NestedLoader<M> {
    /// The page of `parent`'s rows that `first` and `after` ask for (`after` opened with `key`).
    pub async fn page(
        &self,
        key: &CursorKey,
        parent: i32,
        first: i32,
        after: Option<&str>,
    ) -> Result<Page<M>> {
        self.page_omitting(key, parent, first, after, Omit::NONE)
            .await
    }

    /// [`Self::page`], a first page reading the long columns `omit` names as placeholders
    /// (the caller's selection shows none of them).
    pub async fn page_omitting(
        &self,
        key: &CursorKey,
        parent: i32,
        first: i32,
        after: Option<&str>,
        omit: Omit,
    ) -> Result<Page<M>> {
        let request = PageRequest::forward(key, Some(first), after)?;
        let mut page = if request.has_cursor() {
            (self.after)(parent, request).await?
        } else {
            self.first
                .load_one((parent, request.limit, omit))
                .await?
                .unwrap_or_else(Page::empty)
        };
        if let Some(counts) = &self.counts {
            let counts = counts.clone();
            page.total = TotalCount::new(move || {
                let counts = counts.clone();
                async move { Ok(counts.load_one(parent).await?.unwrap_or(0)) }
            });
        }
        Ok(page)
    }
}

/// Runs `fetch` once per distinct page size among `keys`, reading every column any of that
/// size's keys needs. Selections of the same list that differ in their fields (say two fragments
/// each selecting it) then answer from the same rows: the executor merges them item by item, and
/// two statements could have a write between them.
async fn per_size<V, F, Fut>(keys: Vec<ListKey>, fetch: F) -> Result<HashMap<ListKey, V>>
where
    V: Clone,
    F: Fn(Vec<i32>, u64, Omit) -> Fut,
    Fut: Future<Output = Result<HashMap<i32, V>>>,
{
    let mut by_size: HashMap<u64, (Omit, Vec<ListKey>)> = HashMap::new();
    for key in keys {
        let (omit, keys) = by_size.entry(key.1).or_insert((key.2, Vec::new()));
        *omit = omit.and(key.2);
        keys.push(key);
    }
    let mut out = HashMap::new();
    for (size, (omit, keys)) in by_size {
        let mut parents: Vec<i32> = keys.iter().map(|key| key.0).collect();
        parents.sort_unstable();
        parents.dedup();
        let mut values = fetch(parents, size, omit).await?;
        for (i, key) in keys.iter().enumerate() {
            // The last key of a parent takes its value; an earlier one (rare) gets a copy.
            let again = keys[i + 1..].iter().any(|later| later.0 == key.0);
            let value = if again {
                values.get(&key.0).cloned()
            } else {
                values.remove(&key.0)
            };
            if let Some(value) = value {
                out.insert(*key, value);
            }
        }
    }
    Ok(out)
}

/// The loaders of a nested list of stored rows; `None` when the caller may see none.
fn nested<E>(
    db: &DatabaseConnection,
    batching: &Batching,
    children: Option<Children<E>>,
) -> NestedLoader<E::Model>
where
    E: LongText,
    E::Model: FromQueryResult + Clone + Send + Sync + 'static,
{
    let children = children.map(Arc::new);
    let first = {
        let (db, children) = (db.clone(), children.clone());
        BatchLoader::new(batching, move |keys: Vec<ListKey>| {
            let (db, children) = (db.clone(), children.clone());
            async move {
                let Some(children) = children else {
                    return Ok(HashMap::new());
                };
                per_size(keys, |parents, size, omit| {
                    let (db, children) = (db.clone(), children.clone());
                    async move { children.first_pages(&db, &parents, size, omit).await }
                })
                .await
            }
        })
    };
    let counts = {
        let (db, children) = (db.clone(), children.clone());
        BatchLoader::new(batching, move |keys: Vec<i32>| {
            let (db, children) = (db.clone(), children.clone());
            async move {
                match children {
                    Some(children) => children.counts(&db, &keys).await,
                    None => Ok(HashMap::new()),
                }
            }
        })
    };
    let db = db.clone();
    NestedLoader {
        first,
        counts: Some(Arc::new(counts)),
        after: Arc::new(move |parent, request| {
            let (db, children) = (db.clone(), children.clone());
            Box::pin(async move {
                match children {
                    Some(children) => children.page(&db, parent, request).await,
                    None => Ok(Page::empty()),
                }
            })
        }),
    }
}

/// The loaders of customers' timelines.
fn timelines(
    db: &DatabaseConnection,
    batching: &Batching,
    scope: Option<OwnerScope>,
) -> NestedLoader<TimelineItem> {
    let first = {
        let db = db.clone();
        BatchLoader::new(batching, move |keys: Vec<ListKey>| {
            let db = db.clone();
            async move {
                let Some(scope) = scope else {
                    return Ok(HashMap::new());
                };
                // A timeline reads no long text: nothing to leave out.
                per_size(keys, |parents, size, _omit| {
                    let db = db.clone();
                    async move { timeline::first_pages(&db, scope, &parents, size).await }
                })
                .await
            }
        })
    };
    let db = db.clone();
    NestedLoader {
        first,
        counts: None,
        after: Arc::new(move |parent, request| {
            let db = db.clone();
            Box::pin(async move {
                match scope {
                    Some(scope) => timeline::page(&db, scope, parent, request).await,
                    None => Ok(Page::empty()),
                }
            })
        }),
    }
}

fn by_id<V>(rows: Vec<V>, id: fn(&V) -> i32) -> HashMap<i32, V> {
    rows.into_iter().map(|row| (id(&row), row)).collect()
}

/// Every loader of one request.
pub struct Loaders {
    /// Customers by id.
    pub customer: BatchLoader<i32, customer::Model>,
    /// Departments by id.
    pub department: BatchLoader<i32, Arc<department::Model>>,
    /// Interactions by id.
    pub interaction: BatchLoader<i32, interaction::Model>,
    /// Products by id.
    pub product: BatchLoader<i32, product::Model>,
    /// Purchases by id.
    pub purchase: BatchLoader<i32, purchase::Model>,
    /// Interactions per customer, newest first.
    pub interactions_of_customer: NestedLoader<interaction::Model>,
    /// Interactions per department, newest first.
    pub interactions_of_department: NestedLoader<interaction::Model>,
    /// Interactions per handling employee, newest first.
    pub interactions_of_handler: NestedLoader<interaction::Model>,
    /// Interactions caused by an interaction, newest first.
    pub interactions_caused_by: NestedLoader<interaction::Model>,
    /// Open interactions per department, oldest first.
    pub queue: NestedLoader<interaction::Model>,
    /// Messages per interaction, oldest first (internal notes only for employees).
    pub messages: NestedLoader<interaction_thread::Model>,
    /// Purchases per customer, newest first.
    pub purchases_of_customer: NestedLoader<purchase::Model>,
    /// Timelines per customer, newest first.
    pub timeline: NestedLoader<TimelineItem>,
    /// Members per department, by name.
    pub members: NestedLoader<customer::Model>,
    /// Sub-departments per department.
    pub children: BatchLoader<i32, Vec<department::Model>>,
    /// Service agreements involving a department.
    pub agreements: BatchLoader<i32, Vec<service_agreement::Model>>,
}

impl Loaders {
    /// Loaders for one request by `caller`; `batching` says when a batch of keys is complete
    /// (see [`Batching`]).
    pub fn new(db: &DatabaseConnection, caller: &Caller, batching: &Batching) -> Self {
        let owner = policy::owner_scope(caller);
        let departments = policy::department_scope(caller);
        let products = policy::product_scope(caller);
        let agreements = policy::agreement_scope(caller);
        let notes = policy::notes(caller);

        macro_rules! scoped {
            ($scope:expr, |$db:ident, $s:ident, $keys:ident| $body:expr) => {{
                let db = db.clone();
                let scope = $scope;
                BatchLoader::new(batching, move |$keys| {
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
            nested(
                db,
                batching,
                owner.map(|s| service::interaction::children(s, parent)),
            )
        };

        Self {
            customer: scoped!(owner, |db, s, keys| {
                Ok(by_id(
                    service::customer::by_ids(&db, s, &keys).await?,
                    |m| m.id,
                ))
            }),
            department: scoped!(departments, |db, s, keys| {
                let rows = service::department::by_ids(&db, s, &keys).await?;
                Ok(by_id(rows.into_iter().map(Arc::new).collect(), |m| m.id))
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
            purchase: scoped!(owner, |db, s, keys| {
                Ok(by_id(
                    service::purchase::by_ids(&db, s, &keys).await?,
                    |m| m.id,
                ))
            }),
            interactions_of_customer: interactions_of(Parent::Customer),
            interactions_of_department: interactions_of(Parent::Department),
            interactions_of_handler: interactions_of(Parent::Handler),
            interactions_caused_by: interactions_of(Parent::RelatedTo),
            queue: nested(db, batching, owner.map(service::interaction::queue)),
            messages: nested(db, batching, Some(service::interaction::messages(notes))),
            purchases_of_customer: nested(db, batching, owner.map(service::purchase::of_customers)),
            timeline: timelines(db, batching, owner),
            members: nested(db, batching, owner.map(service::customer::members)),
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
