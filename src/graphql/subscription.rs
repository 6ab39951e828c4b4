//! The root `Subscription`: live interaction changes over graphql-ws, scoped by the same policy
//! as reads. Each event is re-read under the subscriber's scope, so a client only ever
//! receives its own interactions and never a field its tier cannot see.

use std::time::Duration;

use async_graphql::{Context, ID, Subscription};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::error::RecvError;

use super::{
    context::{caller, db, signed_in},
    types::{Interaction, NodeKind, parse_id},
};
use sea_orm::DatabaseConnection;

use crate::{
    Error, Result,
    auth::Caller,
    db::replicas::ReadPools,
    policy,
    service::{
        self,
        events::{Change, EventBus},
    },
};

/// The subscription's database and, over a WebSocket, the read pools.
type Reads = (DatabaseConnection, Option<ReadPools>);

/// Re-reads an event's interaction where its commit is already visible: a replica that has
/// replayed the primary's current position, else the primary. A replica that fails is marked
/// and the primary answers instead.
async fn reread(
    (db, reads): &Reads,
    scope: policy::OwnerScope,
    id: i32,
) -> Result<Option<entity::interaction::Model>> {
    let Some(reads) = reads else {
        return service::interaction::get(db, scope, id).await;
    };
    let reader = reads.reader_after_commits().await;
    match service::interaction::get(reader.conn(), scope, id).await {
        Err(Error::Unavailable) if reader.on_replica() => {
            reads.failed(&reader);
            service::interaction::get(reads.primary().conn(), scope, id).await
        }
        read => read,
    }
}

/// Root of every subscription.
pub struct Subscription;

/// What happened to an interaction.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum InteractionChangeKind {
    /// Opened or logged.
    Opened,
    /// Its status or other details changed.
    Updated,
    /// A public reply was added.
    Replied,
    /// An internal note was added.
    #[graphql(visible = "crate::policy::visible::internal")]
    NoteAdded,
    /// The customer rated it.
    Rated,
    /// Its customer's personal data was erased.
    #[graphql(visible = "crate::policy::visible::internal")]
    Erased,
}

impl From<Change> for InteractionChangeKind {
    fn from(change: Change) -> Self {
        match change {
            Change::Opened => Self::Opened,
            Change::Updated => Self::Updated,
            Change::Replied => Self::Replied,
            Change::NoteAdded => Self::NoteAdded,
            Change::Rated => Self::Rated,
            Change::Erased => Self::Erased,
        }
    }
}

/// One change, with the interaction as it is now.
#[derive(async_graphql::SimpleObject)]
pub struct InteractionChange {
    /// What happened.
    pub change: InteractionChangeKind,
    /// The interaction after the change.
    pub interaction: Interaction,
}

#[Subscription]
impl Subscription {
    /// Changes to interactions the caller may see, optionally of one department or customer.
    /// The stream ends when the caller's token expires.
    async fn interaction_changed(
        &self,
        ctx: &Context<'_>,
        department_id: Option<ID>,
        customer_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<InteractionChange>> + use<>> {
        let caller: Caller = caller(ctx).clone();
        let scope = signed_in(policy::owner_scope(&caller))?;
        let department_id = department_id
            .map(|id| parse_id(NodeKind::Department, "departmentId", &id))
            .transpose()?;
        let customer_id = customer_id
            .map(|id| parse_id(NodeKind::Customer, "customerId", &id))
            .transpose()?;
        let db = db(ctx)?.clone();
        // Over a WebSocket the connection data holds the read pools; without them (in-process
        // callers) every re-read is on the schema's database.
        let reads = ctx.data_opt::<ReadPools>().cloned();
        let receiver = ctx
            .data::<EventBus>()
            .map_err(|_| Error::internal("schema data", "event bus missing"))?
            .subscribe();
        let expires_at = caller.viewer().map_or(0, |v| v.expires_at);
        let state = (receiver, (db, reads), caller);
        let events = stream::unfold(state, move |(mut receiver, db, caller)| async move {
            loop {
                let now = chrono::Utc::now().timestamp();
                let left =
                    Duration::from_secs(u64::try_from(expires_at.saturating_sub(now)).unwrap_or(0));
                let event = match tokio::time::timeout(left, receiver.recv()).await {
                    Err(_) => return None, // the token expired: end the stream
                    Ok(Err(RecvError::Closed)) => return None,
                    Ok(Err(RecvError::Lagged(skipped))) => {
                        tracing::warn!(skipped, "a subscriber fell behind; events skipped");
                        continue;
                    }
                    Ok(Ok(event)) => event,
                };
                if department_id.is_some_and(|d| d != event.department_id)
                    || customer_id.is_some_and(|c| c != event.customer_id)
                    || !policy::event_visible(&caller, event.visible_to)
                {
                    continue;
                }
                let row = reread(&db, scope, event.interaction_id).await;
                let item = match row {
                    Ok(Some(row)) => Ok(InteractionChange {
                        change: event.change.into(),
                        interaction: Interaction(row),
                    }),
                    Ok(None) => continue, // outside the subscriber's scope
                    Err(err) => Err(err),
                };
                return Some((item, (receiver, db, caller)));
            }
        });
        Ok(events)
    }
}
