//! A customer's timeline: interactions, purchases and ratings merged into one story, newest
//! first — the view service teams open first.

use chrono::{DateTime, Utc};
use entity::{interaction, purchase};

/// One moment of a customer's history.
#[derive(Debug, Clone)]
pub enum TimelineItem {
    /// An interaction was opened.
    Interaction(interaction::Model),
    /// Something was bought.
    Purchase(purchase::Model),
    /// An interaction was rated.
    Rating(interaction::Model),
}

impl TimelineItem {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            TimelineItem::Interaction(i) => i.opened_at,
            TimelineItem::Purchase(p) => p.purchased_at,
            TimelineItem::Rating(i) => i.rated_at.unwrap_or(i.public_updated_at),
        }
    }
}

/// Merges the newest interactions and purchases of one customer into at most `limit` items,
/// newest first. Each input must already hold the newest `limit` rows of its kind, so the
/// merged head is exact for interactions and purchases; a rating shows only while its
/// interaction is among the newest `limit`.
pub fn merge(
    interactions: Vec<interaction::Model>,
    purchases: Vec<purchase::Model>,
    limit: usize,
) -> Vec<TimelineItem> {
    let ratings: Vec<TimelineItem> = interactions
        .iter()
        .filter(|i| i.satisfaction.is_some())
        .cloned()
        .map(TimelineItem::Rating)
        .collect();
    let mut items: Vec<TimelineItem> = interactions
        .into_iter()
        .map(TimelineItem::Interaction)
        .chain(purchases.into_iter().map(TimelineItem::Purchase))
        .chain(ratings)
        .collect();
    items.sort_by_key(|item| std::cmp::Reverse(item.at()));
    items.truncate(limit);
    items
}
