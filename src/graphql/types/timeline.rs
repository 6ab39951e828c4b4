//! `TimelineEntry`: one moment of a customer's history.

use async_graphql::{Enum, Object};
use chrono::{DateTime, Utc};

use super::{Interaction, Purchase};
use crate::service::timeline::TimelineItem;

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
        self.0.at()
    }
    /// What kind of moment it is.
    async fn kind(&self) -> TimelineKind {
        match self.0 {
            TimelineItem::Interaction(_) => TimelineKind::Interaction,
            TimelineItem::Purchase(_) => TimelineKind::Purchase,
            TimelineItem::Rating(_) => TimelineKind::Rating,
        }
    }
    /// The interaction, for INTERACTION and RATING entries.
    async fn interaction(&self) -> Option<Interaction> {
        match &self.0 {
            TimelineItem::Interaction(i) | TimelineItem::Rating(i) => Some(Interaction(i.clone())),
            TimelineItem::Purchase(_) => None,
        }
    }
    /// The purchase, for PURCHASE entries.
    async fn purchase(&self) -> Option<Purchase> {
        match &self.0 {
            TimelineItem::Purchase(p) => Some(Purchase(p.clone())),
            _ => None,
        }
    }
}
