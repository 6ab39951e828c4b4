//! What is true: queries and rules over the stored entities, one module per aggregate.
//! Every function takes the caller's scope from [`crate::policy`] and applies it in SQL; none
//! decides who may see what by itself.

pub mod agreement;
pub mod audit;
pub mod customer;
pub mod customer_write;
pub mod department;
pub mod email_change;
pub mod events;
pub mod interaction;
pub mod interaction_write;
pub mod knowledge;
pub mod nested;
pub mod org_write;
pub mod page;
pub mod privacy;
pub mod product;
pub mod pulse;
pub mod purchase;
pub mod rules;
pub mod satisfaction;
pub mod sentiment;
pub mod service_level;
pub mod sql;
pub mod timeline;
pub mod validate;
pub mod versioned;
pub mod write;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, JoinType, LikeExpr, Order, Query},
};

use crate::Result;

/// Case-insensitive "contains" on a text column, with the caller's `%` and `_` taken literally.
pub(crate) fn contains_ci<C: ColumnTrait>(col: C, text: &str) -> sea_orm::sea_query::SimpleExpr {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    Expr::expr(Func::lower(Expr::col(col.as_column_ref())))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Loads the rows of `E` whose `id_col` is in `ids`, under an already-scoped `select`.
pub(crate) async fn by_ids<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    id_col: E::Column,
    ids: &[i32],
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(select
        .filter(id_col.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// An entity whose long text columns a read may leave out when the caller shows none of them:
/// a list of names should not carry every row's notes from the database.
///
/// An entity that also lists [`LongText::READS`] and decodes partial rows
/// ([`LongText::decode`]) lets a nested list's first pages leave out every column its
/// selection does not show, not only the long ones.
pub trait LongText: EntityTrait {
    /// Each long text column with the GraphQL field that shows it, its only reader.
    const LONG: &'static [(Self::Column, &'static str)];

    /// Each field of the entity's GraphQL type with every column it reads. Empty: only the
    /// [`LongText::LONG`] columns are ever left out, read as placeholders. Non-empty, it must
    /// name every field (an unlisted field selected makes the read keep every column), and
    /// columns no field names are left out whenever the read does not need them itself.
    const READS: &'static [(&'static str, &'static [Self::Column])] = &[];

    /// A model from a row that holds the columns `omit` does not leave out; the columns it
    /// leaves out read as placeholders no selected field shows. Only called with columns left
    /// out by entities listing [`LongText::READS`].
    fn decode(row: &sea_orm::QueryResult, omit: Omit) -> Result<Self::Model> {
        let _ = omit;
        Ok(Self::Model::from_query_result(row, "")?)
    }

    /// The place of `col` in the entity (`Column::iter()` order). Entities listing
    /// [`LongText::READS`] answer from the column's discriminant: this runs per column read.
    fn place(col: &Self::Column) -> usize {
        Self::Column::iter()
            .position(|c| c.as_str() == col.as_str())
            .unwrap_or(usize::MAX)
    }
}

/// Which of an entity's columns a read leaves out, one bit each, by the column's position in
/// the entity (`Column::iter()` order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Omit(u64);

impl Omit {
    /// Reads every column.
    pub const NONE: Omit = Omit(0);

    /// Leaves out the long columns of `E` whose field `selected` says the caller does not show.
    pub fn unselected<E: LongText>(selected: impl Fn(&str) -> bool) -> Self {
        Self::of::<E>(|col| {
            E::LONG
                .iter()
                .any(|(long, field)| long.as_str() == col.as_str() && !selected(field))
        })
    }

    /// Leaves out the columns of `E` that none of `fields` (a selection's field names) reads,
    /// per [`LongText::READS`]; only the long ones when `E` lists no readers or a field is not
    /// listed.
    pub fn unread<E: LongText>(fields: &[&str]) -> Self {
        let listed =
            |field: &&str| *field == "__typename" || E::READS.iter().any(|(f, _)| f == field);
        if E::READS.is_empty() || !fields.iter().all(listed) {
            return Self::unselected::<E>(|field| fields.contains(&field));
        }
        let mut read = 0;
        for (field, cols) in E::READS {
            if fields.contains(field) {
                read |= Self::bits::<E>(cols);
            }
        }
        // Columns no field names are not shown: left out unless the read itself needs them.
        let all = Self::of::<E>(|_| true).0;
        Omit(all & !read)
    }

    /// This projection, but reading `cols` (the keys a read itself needs: ids, parents, order).
    pub fn keeping<E: LongText>(self, cols: &[E::Column]) -> Self {
        Omit(self.0 & !Self::bits::<E>(cols))
    }

    /// The bits of `cols`.
    fn bits<E: LongText>(cols: &[E::Column]) -> u64 {
        cols.iter()
            .map(E::place)
            .filter(|place| *place < 64)
            .fold(0, |bits, place| bits | (1 << place))
    }

    /// Leaves out only what both projections leave out: a read serving both.
    pub fn and(self, other: Omit) -> Omit {
        Omit(self.0 & other.0)
    }

    /// Whether the column at `position` in its entity is left out.
    pub fn leaves_out_position(self, position: usize) -> bool {
        position < 64 && self.0 & (1 << position) != 0
    }

    /// Where the column at `position` comes in a row read with this projection: after every
    /// column before it that the read keeps ([`omitting`] selects them in entity order).
    pub fn index_in_row(self, position: usize) -> usize {
        let before = (1u64 << position.min(63)) - 1;
        (!self.0 & before).count_ones() as usize
    }

    fn of<E: EntityTrait>(leave_out: impl Fn(&E::Column) -> bool) -> Self {
        Omit(
            E::Column::iter()
                .take(64)
                .enumerate()
                .filter(|(_, col)| leave_out(col))
                .fold(0, |bits, (i, _)| bits | (1 << i)),
        )
    }

    fn leaves_out<E: LongText>(self, col: &E::Column) -> bool {
        self.leaves_out_position(E::place(col))
    }
}

/// A row read with the columns `omit` leaves out missing: each column is found by position,
/// and a left-out one reads as a placeholder no selected field shows. For entities whose
/// [`LongText::place`] is the column's discriminant ([`LongText::decode`] implementations).
pub(crate) struct Partial<'a, E: LongText> {
    row: &'a sea_orm::QueryResult,
    omit: Omit,
    entity: std::marker::PhantomData<E>,
}

impl<'a, E: LongText> Partial<'a, E> {
    /// Reads `row`, which holds the columns of `E` that `omit` keeps, in entity order (as
    /// [`decode_rows`] checks).
    pub(crate) fn new(row: &'a sea_orm::QueryResult, omit: Omit) -> Self {
        Self {
            row,
            omit,
            entity: std::marker::PhantomData,
        }
    }

    /// Column `col`, or the placeholder `left_out` when the read left it out.
    pub(crate) fn or<T: sea_orm::TryGetable>(&self, col: E::Column, left_out: T) -> Result<T> {
        let place = E::place(&col);
        if self.omit.leaves_out_position(place) {
            return Ok(left_out);
        }
        // By position: a lookup by name formats and hashes the name, for every column of
        // every row.
        Ok(self.row.try_get_by_index(self.omit.index_in_row(place))?)
    }

    /// Column `col`, or its type's default when the read left it out.
    pub(crate) fn get<T: sea_orm::TryGetable + Default>(&self, col: E::Column) -> Result<T> {
        self.or(col, T::default())
    }
}

/// Decodes `rows`, read with the projection `omit` (see [`omitting`]), into models. An entity
/// listing [`LongText::READS`] decodes by position, so the first row's column names are checked
/// against the projection, in every build: a statement that put another column first (a join,
/// an expression) would otherwise fill fields from the wrong columns. Once per statement: every
/// row of a statement has the same columns.
pub(crate) fn decode_rows<E: LongText>(
    rows: &[sea_orm::QueryResult],
    omit: Omit,
) -> Result<Vec<E::Model>> {
    if let Some(first) = rows.first().filter(|_| !E::READS.is_empty()) {
        let kept = E::Column::iter().filter(|col| !omit.leaves_out::<E>(col));
        let names = first.column_names();
        if !names
            .iter()
            .map(String::as_str)
            .eq(kept.map(|col| col.as_str()))
        {
            let table = E::default().table_name();
            return Err(crate::Error::internal(
                "decoding rows by position",
                format!("{table} rows hold the columns {names:?}, not the projection's"),
            ));
        }
    }
    rows.iter().map(|row| E::decode(row, omit)).collect()
}

/// `select` reading only the columns `omit` does not leave out. An entity listing
/// [`LongText::READS`] decodes the narrower rows itself; any other reads each left-out column
/// as a placeholder (`NULL`, or `''` when the column may not be null), so its rows still decode
/// into the entity's model.
pub(crate) fn omitting<E: LongText>(select: Select<E>, omit: Omit) -> Select<E> {
    if omit == Omit::NONE {
        return select;
    }
    let partial = !E::READS.is_empty();
    E::Column::iter().fold(select.select_only(), |select, col| {
        if !omit.leaves_out::<E>(&col) {
            select.column(col)
        } else if partial {
            select
        } else if col.def().is_null() {
            select.column_as(Expr::cust("NULL"), col.as_str())
        } else {
            select.column_as(Expr::cust("''"), col.as_str())
        }
    })
}

/// How rows are ranked within each parent for [`top_n_per_parent`].
pub(crate) struct Rank<C> {
    /// The column naming the parent.
    pub parent: C,
    /// The ordering column.
    pub order: C,
    /// The id column, as tiebreaker.
    pub id: C,
    /// Largest `order` first.
    pub newest_first: bool,
}

/// The first `limit` rows per parent (newest first, or oldest first) in one statement, so a
/// nested list costs one query for the whole page of parents, not one per parent.
///
/// The statement's text is the same whatever the number of parents (they travel as one
/// parameter), so the database plans it once per connection and reuses the prepared statement;
/// a text that grew with the parents cost more to plan than to run. Each parent's rows are one
/// index seek bounded by `limit`, so the cost follows the rows returned, not the rows the
/// parents own.
pub(crate) async fn top_n_per_parent<E>(
    db: &DatabaseConnection,
    select: Select<E>,
    rank: Rank<E::Column>,
    parents: &[i32],
    limit: u64,
    omit: Omit,
) -> Result<Vec<E::Model>>
where
    E: LongText,
    E::Model: Send + Sync,
{
    if parents.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let statement = match backend {
        DbBackend::Postgres => lateral_top_n(select, &rank, parents, limit),
        _ => correlated_top_n(select, &rank, parents, limit),
    };
    let stmt = backend.build(&statement);
    let rows = db.query_all_raw(stmt).await?;
    decode_rows::<E>(&rows, omit)
}

/// The alias of the parents' table in [`top_n_per_parent`].
const PARENTS: &str = "parents";

impl<C: ColumnTrait> Rank<C> {
    fn direction(&self) -> Order {
        if self.newest_first {
            Order::Desc
        } else {
            Order::Asc
        }
    }

    /// `select` narrowed to one parent (the expression `parent`), in rank order, `limit` rows.
    fn top<E>(&self, select: Select<E>, parent: Expr, limit: u64) -> Select<E>
    where
        E: EntityTrait<Column = C>,
    {
        select
            .filter(Expr::col(self.parent.as_column_ref()).eq(parent))
            .order_by(self.order, self.direction())
            .order_by(self.id, self.direction())
            .limit(limit)
    }
}

/// PostgreSQL: `FROM unnest($1::int4[]) CROSS JOIN LATERAL (… WHERE parent = p LIMIT $n)`.
fn lateral_top_n<E: EntityTrait>(
    select: Select<E>,
    rank: &Rank<E::Column>,
    parents: &[i32],
    limit: u64,
) -> sea_orm::sea_query::SelectStatement {
    let parents_alias = Alias::new(PARENTS);
    let rows = Alias::new("ranked");
    let array = format!(
        "{{{}}}",
        parents
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    let inner = rank
        .top(
            select,
            Expr::col((parents_alias.clone(), parents_alias.clone())),
            limit,
        )
        .into_query();
    Query::select()
        .column((rows.clone(), Asterisk))
        .from_function(
            Func::cust("unnest").arg(Expr::val(array).cast_as("int4[]")),
            parents_alias,
        )
        .join_lateral(JoinType::InnerJoin, inner, rows.clone(), Expr::val(true))
        .order_by((rows.clone(), rank.parent), Order::Asc)
        .order_by((rows.clone(), rank.order), rank.direction())
        .order_by((rows, rank.id), rank.direction())
        .to_owned()
}

/// SQLite (no LATERAL): the parents from `json_each(?)` drive the loop (`CROSS JOIN` fixes
/// the join order in SQLite), and each parent's ids come from a correlated `LIMIT` subquery.
fn correlated_top_n<E: EntityTrait>(
    select: Select<E>,
    rank: &Rank<E::Column>,
    parents: &[i32],
    limit: u64,
) -> sea_orm::sea_query::SelectStatement {
    let parents_alias = Alias::new(PARENTS);
    let list = serde_json::Value::from(parents.to_vec()).to_string();
    let ids = rank
        .top(
            select.clone().select_only().column(rank.id),
            Expr::col((parents_alias.clone(), Alias::new("value"))),
            limit,
        )
        .into_query();
    let mut outer = select.into_query();
    outer
        .from_clear()
        .from_function(Func::cust("json_each").arg(Expr::val(list)), parents_alias)
        .cross_join(E::default())
        .and_where(Expr::col(rank.id.as_column_ref()).in_subquery(ids))
        .order_by(rank.parent.as_column_ref(), Order::Asc)
        .order_by(rank.order.as_column_ref(), rank.direction())
        .order_by(rank.id.as_column_ref(), rank.direction());
    outer
}

#[cfg(test)]
pub(crate) mod tests {
    use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
    use sea_orm::{IdenStatic, Iterable};

    use super::{LongText, Omit};

    /// Checks that every field of the schema's object `type_name` is in `E::READS` and that
    /// `E::place` is each column's place in the entity.
    pub(crate) fn every_field_is_listed<E: LongText>(type_name: &str) {
        for (place, col) in E::Column::iter().enumerate() {
            assert_eq!(E::place(&col), place, "{}", col.as_str());
        }
        let sdl = crate::graphql::sdl();
        let document = async_graphql::parser::parse_schema(&sdl).expect("the schema parses");
        let fields = document
            .definitions
            .iter()
            .find_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == type_name => {
                    match &ty.node.kind {
                        TypeKind::Object(object) => Some(object.fields.clone()),
                        _ => None,
                    }
                }
                _ => None,
            })
            .expect("the type is an object of the schema");
        assert!(fields.len() > 10);
        for field in fields {
            let name = field.node.name.node.as_str();
            let listed = E::READS.iter().any(|(field, _)| *field == name);
            assert!(listed, "{type_name}.{name} is missing from LongText::READS");
        }
    }

    /// Rows decoded by position are checked against the projection: the right columns decode,
    /// the same columns in another order are refused instead of filling the wrong fields.
    #[tokio::test]
    async fn rows_whose_columns_are_not_the_projection_are_refused() {
        use entity::customer::{Column as C, Entity};
        use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
        let db = Database::connect("sqlite::memory:")
            .await
            .expect("SQLite in memory");
        let omit = Omit::unread::<Entity>(&["name", "email"]).keeping::<Entity>(&[C::Id]);
        let read = |sql: &str| db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql));
        let rows = read("SELECT 7 AS id, 'Ann' AS name, 'a@x' AS email")
            .await
            .expect("a row");
        let models = super::decode_rows::<Entity>(&rows, omit).expect("the projection's columns");
        let model = &models[0];
        assert_eq!((model.id, &*model.name, &*model.email), (7, "Ann", "a@x"));
        // Both text: decoded by position alone, the name would read the e-mail.
        let rows = read("SELECT 7 AS id, 'a@x' AS email, 'Ann' AS name")
            .await
            .expect("a row");
        assert!(super::decode_rows::<Entity>(&rows, omit).is_err());
    }
}
