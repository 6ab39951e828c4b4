//! Nested lists — a customer's interactions, a department's queue, an interaction's messages —
//! as keyset pages per parent. The first page of every parent of a nesting level comes from one
//! statement, whatever the number of parents; a later page (after a cursor) reads one parent.
//! A nested cursor carries the list's name and its parent, so it only fits where it came from.

use std::{collections::HashMap, sync::Arc};

use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QuerySelect, Select,
    sea_query::{Asterisk, Expr, ExprTrait},
};

use super::page::{self, Page, PageRequest, Sort, TotalCount};
use crate::Result;

/// A nested list: the rows of `E` hanging from a parent, in a fixed order.
pub struct Children<E: EntityTrait> {
    /// The list's name as the schema shows it (`Customer.interactions`); cursors carry it.
    pub list: &'static str,
    /// The rows the caller may see, already scoped and filtered.
    pub select: Select<E>,
    /// The column naming the parent.
    pub parent: E::Column,
    /// Reads a row's parent.
    pub parent_of: fn(&E::Model) -> Option<i32>,
    /// The order within one parent (a sort column plus the id).
    pub sort: Sort<E>,
}

impl<E> Children<E>
where
    E: super::LongText,
    E::Model: FromQueryResult + Send + Sync,
{
    /// What a cursor of this list under `parent` must carry.
    fn label(&self, parent: i32) -> String {
        format!("{}:{}:{}", self.list, parent, self.sort.name)
    }

    fn of(&self, parent: i32) -> Select<E> {
        self.select.clone().filter(self.parent.eq(parent))
    }

    /// The first `limit` rows of each of `parents`, in one statement, without the columns
    /// `omit` leaves out (see [`super::omitting`]).
    pub async fn first_pages(
        &self,
        db: &DatabaseConnection,
        parents: &[i32],
        limit: u64,
        omit: super::Omit,
    ) -> Result<HashMap<i32, Page<E::Model>>> {
        let rank = super::Rank {
            parent: self.parent,
            order: self.sort.column.map_or(self.sort.id, |(col, _)| col),
            id: self.sort.id,
            newest_first: self.sort.descending,
        };
        // The read itself needs the parent, the order and the id, whatever the selection shows.
        let omit = omit.keeping::<E>(&[rank.parent, rank.order, rank.id]);
        let select = super::omitting(self.select.clone(), omit);
        // One row more than asked tells whether another page follows.
        let rows = super::top_n_per_parent(db, select, rank, parents, limit + 1, omit).await?;
        let mut grouped: HashMap<i32, Vec<E::Model>> = HashMap::new();
        for row in rows {
            if let Some(parent) = (self.parent_of)(&row) {
                grouped.entry(parent).or_default().push(row);
            }
        }
        let request = PageRequest::first(limit);
        // Every parent's count shares one copy of the select; it is narrowed only if read.
        let base = Arc::new(self.select.clone());
        Ok(parents
            .iter()
            .map(|&parent| {
                let rows = grouped.remove(&parent).unwrap_or_default();
                let (db, base, column) = (db.clone(), base.clone(), self.parent);
                let total = TotalCount::new(move || {
                    let select = base.as_ref().clone().filter(column.eq(parent));
                    let db = db.clone();
                    async move { Ok(select.count(&db).await?) }
                });
                let page = Page::from_rows(
                    rows,
                    &request,
                    &self.label(parent),
                    |row| self.sort.cursor_key(row),
                    total,
                );
                (parent, page)
            })
            .collect())
    }

    /// One page of one parent's rows, from the start or after a cursor of this list and parent.
    pub async fn page(
        &self,
        db: &DatabaseConnection,
        parent: i32,
        request: PageRequest,
    ) -> Result<Page<E::Model>> {
        page::fetch_labelled(
            db,
            self.of(parent),
            &self.sort,
            request,
            &self.label(parent),
        )
        .await
    }

    /// How many rows each of `parents` has, in one statement.
    pub async fn counts(
        &self,
        db: &DatabaseConnection,
        parents: &[i32],
    ) -> Result<HashMap<i32, u64>> {
        if parents.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i32, i64)> = self
            .select
            .clone()
            .select_only()
            .column(self.parent)
            .column_as(Expr::col(Asterisk).count(), "n")
            .filter(self.parent.is_in(parents.iter().copied()))
            .group_by(self.parent)
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(parent, n)| (parent, u64::try_from(n).unwrap_or(0)))
            .collect())
    }
}
