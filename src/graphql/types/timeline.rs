//! `TimelineEntry`: one moment of a customer's history.

use async_graphql::{Context, Enum, Object};
use chrono::{DateTime, Utc};

use super::{Interaction, Purchase};
use crate::{
    Result,
    graphql::context::loaders,
    service::timeline::{self, TimelineItem},
};

/// What kind of moment a timeline entry is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineKind {
    /// An interaction was opened.
    Interaction,
    /// Something was bought.
    Purchase,
    /// An interaction was rated.
    Rating,
}

/// One moment of a customer's history.
pub struct TimelineEntry(pub TimelineItem);

#[Object]
impl TimelineEntry {
    /// When it happened.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// What kind of moment it is.
    async fn kind(&self) -> TimelineKind {
        match self.0.kind {
            timeline::TimelineKind::Interaction => TimelineKind::Interaction,
            timeline::TimelineKind::Purchase => TimelineKind::Purchase,
            timeline::TimelineKind::Rating => TimelineKind::Rating,
        }
    }
    /// The interaction, for INTERACTION and RATING entries.
    async fn interaction(&self, ctx: &Context<'_>) -> Result<Option<Interaction>> {
        if self.0.kind == timeline::TimelineKind::Purchase {
            return Ok(None);
        }
        Ok(loaders(ctx)?
            .interaction
            .load_one(self.0.id)
            .await?
            .map(Interaction))
    }
    /// The purchase, for PURCHASE entries.
    async fn purchase(&self, ctx: &Context<'_>) -> Result<Option<Purchase>> {
        if self.0.kind != timeline::TimelineKind::Purchase {
            return Ok(None);
        }
        Ok(loaders(ctx)?
            .purchase
            .load_one(self.0.id)
            .await?
            .map(Purchase))
    }
}
