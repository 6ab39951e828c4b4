//! Bulk data for benchmarks (`crm-gateway seed --customers N --interactions-per K`): the demo
//! company when the database is empty, then N generated outside customers with K interactions
//! each, spread over two years across the customer-facing departments, with varied channels,
//! kinds and statuses, ratings, and a public reply on a third of the resolved ones.
//!
//! Interactions stream in with COPY on PostgreSQL; elsewhere, and for customers, rows go in as
//! multi-row INSERTs (as many rows per statement as the bind limit allows) in big transactions;
//! the replies are one `INSERT … SELECT`. Never one round trip per row. Deterministic like the demo: the
//! same arguments give the same rows.

use std::{collections::HashMap, time::Instant};

use chrono::{DateTime, Duration, Utc};
use entity::{
    customer, department,
    enums::{Channel, CustomerKind, CustomerStatus, InteractionKind, InteractionStatus, Segment},
    interaction, interaction_message,
};
use sea_orm::{
    ActiveEnum,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, Query},
};

use super::{
    Rng, at,
    catalog::{CUSTOMER_NOTES, DEPARTMENTS, EXTERNAL_TOPICS, FIRST, LAST, NOTES},
};
use crate::config::SeedArgs;

/// Bind parameters one statement may carry: SQLite's limit (32 766) is the lower of the two.
const MAX_PARAMS: usize = 32_000;
/// Interactions written per transaction: big enough to amortise the commit, small enough that
/// a failure loses little and progress shows.
const ROWS_PER_TRANSACTION: usize = 100_000;
/// The last day of generated activity: the demo's "now".
fn activity_end() -> DateTime<Utc> {
    at(2026, 10, 31, 18)
}
/// Hours of history generated before [`activity_end`]: two years.
const HISTORY_HOURS: u64 = 2 * 365 * 24;
/// The e-mail domain of generated customers, so they are easy to tell apart.
const DOMAIN: &str = "bulk.example";

/// What [`run`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Generated customers.
    pub customers: usize,
    /// Their interactions.
    pub interactions: usize,
    /// Public replies on those interactions.
    pub messages: u64,
}

/// The `seed` command: connects, migrates, seeds the demo company into an empty database and
/// adds the generated customers; prints what it wrote and how long it took.
pub async fn run(database_url: &str, args: &SeedArgs) -> Result<(), DbErr> {
    let db = crate::db::connect_and_migrate(database_url, 4).await?;
    let started = Instant::now();
    super::seed_if_empty(&db).await?;
    let seeded = add(&db, args.customers, args.interactions_per).await?;
    println!(
        "seeded {} customers, {} interactions, {} messages in {:.1} s",
        seeded.customers,
        seeded.interactions,
        seeded.messages,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Adds `customers` generated outside customers with `per` interactions each to a database
/// that holds the demo company.
pub async fn add(db: &DatabaseConnection, customers: usize, per: usize) -> Result<Seeded, DbErr> {
    let desk = Desk::load(db).await?;
    let first_new_interaction = max_id::<interaction::Entity>(db, interaction::Column::Id).await?;
    let mut rng = Rng(0xb01c_5eed ^ customers as u64);
    let clock = Instant::now();
    let ids = insert_customers(db, &mut rng, customers).await?;
    tracing::info!(elapsed = ?clock.elapsed(), "generated customers written");
    let written = insert_interactions(db, &mut rng, &desk, &ids, per).await?;
    tracing::info!(elapsed = ?clock.elapsed(), "generated interactions written");
    let messages = insert_replies(db, first_new_interaction).await?;
    tracing::info!(elapsed = ?clock.elapsed(), "replies written");
    // Fresh planner statistics, so the first benchmark queries do not run on a guess; on
    // PostgreSQL also the visibility map autovacuum would soon write, without which an
    // index-only scan (a search's count) still visits every row.
    let tidy = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM (ANALYZE)",
        _ => "ANALYZE",
    };
    db.execute_unprepared(tidy).await?;
    tracing::info!(elapsed = ?clock.elapsed(), "statistics analysed");
    Ok(Seeded {
        customers: ids.len(),
        interactions: written,
        messages,
    })
}

/// Who handles generated interactions: the customer-facing departments by catalogue index and
/// their staff.
struct Desk {
    departments: HashMap<usize, i32>,
    staff: HashMap<i32, Vec<i32>>,
}

impl Desk {
    /// Reads the demo company's departments (by name) and employees.
    async fn load(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let by_name: HashMap<String, i32> = department::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|d| (d.name, d.id))
            .collect();
        let departments: HashMap<usize, i32> = DEPARTMENTS
            .iter()
            .enumerate()
            .filter_map(|(i, d)| by_name.get(d.name).map(|&id| (i, id)))
            .collect();
        if EXTERNAL_TOPICS
            .iter()
            .any(|t| !departments.contains_key(&t.0))
        {
            return Err(DbErr::Custom(
                "the demo company's departments are missing: seed an empty database".into(),
            ));
        }
        let mut staff: HashMap<i32, Vec<i32>> = HashMap::new();
        for row in customer::Entity::find()
            .filter(customer::Column::DepartmentId.is_not_null())
            .all(db)
            .await?
        {
            if let Some(dept) = row.department_id {
                staff.entry(dept).or_default().push(row.id);
            }
        }
        Ok(Self { departments, staff })
    }

    /// Someone in department `dept`, if it has anyone.
    fn handler(&self, rng: &mut Rng, dept: i32) -> Option<i32> {
        self.staff.get(&dept).map(|people| *rng.pick(people))
    }
}

/// The largest id of a table, 0 when it is empty.
async fn max_id<E: EntityTrait>(db: &impl ConnectionTrait, id: E::Column) -> Result<i32, DbErr> {
    let max: Option<Option<i32>> = E::find()
        .select_only()
        .column_as(Expr::col(id).max(), "max")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// Rows per multi-row INSERT for a table of `columns` columns.
fn rows_per_statement(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).max(1)
}

/// Inserts the generated customers; returns their ids in order.
async fn insert_customers(
    db: &DatabaseConnection,
    rng: &mut Rng,
    count: usize,
) -> Result<Vec<i32>, DbErr> {
    let before = max_id::<customer::Entity>(db, customer::Column::Id).await?;
    // Numbered after the rows already there, so a second run adds new e-mail addresses.
    let offset = before as usize;
    let chunk = rows_per_statement(19);
    let txn = db.begin().await?;
    for start in (0..count).step_by(chunk) {
        let rows = (start..count.min(start + chunk)).map(|n| generated_customer(rng, offset + n));
        customer::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .filter(customer::Column::Id.gt(before))
        .filter(customer::Column::Email.like(format!("%@{DOMAIN}")))
        .into_tuple()
        .all(db)
        .await
}

/// The `n`-th generated customer: mostly individuals and businesses, a few of the rest.
fn generated_customer(rng: &mut Rng, n: usize) -> customer::ActiveModel {
    let segment = *rng.pick(&[
        Segment::Individual,
        Segment::Individual,
        Segment::Individual,
        Segment::Business,
        Segment::Business,
        Segment::Government,
        Segment::VolunteerOrganization,
        Segment::Press,
    ]);
    let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
    let email = format!("{}.{n}@{DOMAIN}", name.to_lowercase().replace(' ', "."));
    let since = activity_end() - Duration::hours(rng.below(HISTORY_HOURS * 2) as i64);
    let status = match rng.below(10) {
        0 => CustomerStatus::Churned,
        1 => CustomerStatus::Inactive,
        _ => CustomerStatus::Active,
    };
    customer::ActiveModel {
        kind: Set(CustomerKind::External),
        segment: Set(segment),
        name: Set(name),
        organization: Set((segment != Segment::Individual).then(|| format!("Org {}", n % 997))),
        email: Set(email),
        phone: Set(Some(format!("+1 555 9{n:06}"))),
        status: Set(status),
        customer_since: Set(since),
        lifetime_value_cents: Set(rng.below(500_000) as i64),
        health_score: Set(rng.below(101) as i32),
        internal_notes: Set(rng
            .chance(20)
            .then(|| (*rng.pick(CUSTOMER_NOTES)).to_owned())),
        department_id: Set(None),
        title: Set(None),
        hire_date: Set(None),
        version: Set(1),
        public_version: Set(1),
        created_at: Set(since),
        updated_at: Set(since),
        ..Default::default()
    }
}

/// Inserts `per` interactions for each of `customers`: with COPY on PostgreSQL, in multi-row
/// INSERTs of [`ROWS_PER_TRANSACTION`] rows a transaction elsewhere; returns how many it wrote.
async fn insert_interactions(
    db: &DatabaseConnection,
    rng: &mut Rng,
    desk: &Desk,
    customers: &[i32],
    per: usize,
) -> Result<usize, DbErr> {
    let total = customers.len() * per;
    let rows = customers
        .iter()
        .flat_map(|&c| std::iter::repeat_n(c, per))
        .map(|c| NewInteraction::generate(rng, desk, c));
    if db.get_database_backend() == DbBackend::Postgres {
        copy_interactions(db, rows).await?;
        return Ok(total);
    }
    insert_interaction_rows(db, rows, total).await?;
    Ok(total)
}

/// Multi-row INSERTs, as many rows a statement as the bind limit allows.
async fn insert_interaction_rows(
    db: &DatabaseConnection,
    mut rows: impl Iterator<Item = NewInteraction>,
    total: usize,
) -> Result<(), DbErr> {
    let chunk = rows_per_statement(COPY_COLUMNS.len());
    let mut written = 0;
    while written < total {
        let txn = db.begin().await?;
        let batch_end = total.min(written + ROWS_PER_TRANSACTION);
        while written < batch_end {
            let n = chunk.min(batch_end - written);
            let batch: Vec<_> = rows.by_ref().take(n).map(|r| r.model()).collect();
            interaction::Entity::insert_many(batch)
                .exec_without_returning(&txn)
                .await?;
            written += n;
        }
        txn.commit().await?;
    }
    Ok(())
}

/// The columns a generated interaction fills, in COPY order.
const COPY_COLUMNS: [interaction::Column; 20] = {
    use interaction::Column as C;
    [
        C::CustomerId,
        C::DepartmentId,
        C::HandlerId,
        C::Channel,
        C::Kind,
        C::Subject,
        C::Summary,
        C::InternalNote,
        C::Status,
        C::OpenedAt,
        C::ResolvedAt,
        C::SlaDueAt,
        C::Satisfaction,
        C::Nps,
        C::RatedAt,
        C::RelatedToId,
        C::Version,
        C::UpdatedAt,
        C::PublicVersion,
        C::PublicUpdatedAt,
    ]
};

/// PostgreSQL's COPY: one statement streaming every row, several times faster than INSERTs
/// because nothing is parsed or bound per row.
async fn copy_interactions(
    db: &DatabaseConnection,
    rows: impl Iterator<Item = NewInteraction>,
) -> Result<(), DbErr> {
    use sea_orm::{IdenStatic, sqlx::postgres::PgPoolCopyExt};
    let columns: Vec<String> = COPY_COLUMNS.iter().map(|c| c.as_str().to_owned()).collect();
    let statement = format!("COPY interaction ({}) FROM STDIN", columns.join(", "));
    let sqlx = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("COPY interaction: {e}"));
    let mut copy = db
        .get_postgres_connection_pool()
        .copy_in_raw(&statement)
        .await
        .map_err(sqlx)?;
    let mut buffer = String::new();
    for row in rows {
        row.copy_line(&mut buffer);
        if buffer.len() > 1 << 20 {
            copy.send(std::mem::take(&mut buffer).into_bytes())
                .await
                .map_err(sqlx)?;
        }
    }
    copy.send(buffer.into_bytes()).await.map_err(sqlx)?;
    copy.finish().await.map_err(sqlx)?;
    Ok(())
}

/// One generated interaction, before it becomes an INSERT row or a COPY line.
struct NewInteraction {
    customer: i32,
    department: i32,
    handler: Option<i32>,
    channel: Channel,
    kind: InteractionKind,
    subject: &'static str,
    summary: &'static str,
    note: Option<&'static str>,
    status: InteractionStatus,
    opened: DateTime<Utc>,
    resolved: Option<DateTime<Utc>>,
    due: DateTime<Utc>,
    rating: Option<(i32, i32, DateTime<Utc>)>,
}

impl NewInteraction {
    /// One interaction of `customer`: a topic from the catalogue, often over another channel,
    /// opened somewhere in the last two years; recent ones may still be open.
    fn generate(rng: &mut Rng, desk: &Desk, customer: i32) -> Self {
        let &(dept, kind, channel, subject, summary) = rng.pick(EXTERNAL_TOPICS);
        let department = desk.departments.get(&dept).copied().unwrap_or(1);
        let channel = if rng.chance(40) {
            *rng.pick(&[
                Channel::Phone,
                Channel::Email,
                Channel::Chat,
                Channel::Portal,
                Channel::Social,
                Channel::InPerson,
            ])
        } else {
            channel
        };
        let opened = activity_end() - Duration::minutes(rng.below(HISTORY_HOURS * 60) as i64);
        let sla_hours = *rng.pick(&[4, 24, 48, 72]);
        let recent = activity_end() - opened < Duration::days(14);
        let resolved = (!recent || rng.chance(50))
            .then(|| opened + Duration::minutes(30 + rng.below(sla_hours as u64 * 90) as i64));
        let status = match (resolved, rng.chance(50)) {
            (None, true) => InteractionStatus::Open,
            (None, false) => InteractionStatus::InProgress,
            (Some(_), true) => InteractionStatus::Closed,
            (Some(_), false) => InteractionStatus::Resolved,
        };
        let rating = resolved.filter(|_| rng.chance(40)).map(|r| {
            let csat = 1 + rng.below(5) as i32;
            (csat, rng.below(11) as i32, r + Duration::hours(3))
        });
        Self {
            customer,
            department,
            handler: desk.handler(rng, department),
            channel,
            kind,
            subject,
            summary,
            note: rng.chance(30).then(|| *rng.pick(NOTES)),
            status,
            opened,
            resolved,
            due: opened + Duration::hours(sla_hours),
            rating,
        }
    }

    /// When it last changed: at resolution, or when it was opened.
    fn changed(&self) -> DateTime<Utc> {
        self.resolved.unwrap_or(self.opened)
    }

    /// The row for an INSERT.
    fn model(&self) -> interaction::ActiveModel {
        interaction::ActiveModel {
            customer_id: Set(self.customer),
            department_id: Set(self.department),
            handler_id: Set(self.handler),
            channel: Set(self.channel),
            kind: Set(self.kind),
            subject: Set(self.subject.into()),
            summary: Set(self.summary.into()),
            internal_note: Set(self.note.map(Into::into)),
            status: Set(self.status),
            opened_at: Set(self.opened),
            resolved_at: Set(self.resolved),
            sla_due_at: Set(Some(self.due)),
            satisfaction: Set(self.rating.map(|r| r.0)),
            nps: Set(self.rating.map(|r| r.1)),
            rated_at: Set(self.rating.map(|r| r.2)),
            related_to_id: Set(None),
            version: Set(1),
            updated_at: Set(self.changed()),
            public_version: Set(1),
            public_updated_at: Set(self.changed()),
            ..Default::default()
        }
    }

    /// The row as a line of COPY's text format, in [`COPY_COLUMNS`] order.
    fn copy_line(&self, out: &mut String) {
        let int = |v: Option<i32>| v.map_or(NULL.to_owned(), |v| v.to_string());
        let time = |t: Option<DateTime<Utc>>| {
            t.map_or(NULL.to_owned(), |t| {
                t.format("%Y-%m-%d %H:%M:%S+00").to_string()
            })
        };
        let fields = [
            self.customer.to_string(),
            self.department.to_string(),
            int(self.handler),
            self.channel.to_value(),
            self.kind.to_value(),
            copy_text(self.subject),
            copy_text(self.summary),
            self.note.map_or(NULL.to_owned(), copy_text),
            self.status.to_value(),
            time(Some(self.opened)),
            time(self.resolved),
            time(Some(self.due)),
            int(self.rating.map(|r| r.0)),
            int(self.rating.map(|r| r.1)),
            time(self.rating.map(|r| r.2)),
            NULL.to_owned(),
            "1".to_owned(),
            time(Some(self.changed())),
            "1".to_owned(),
            time(Some(self.changed())),
        ];
        out.push_str(&fields.join("\t"));
        out.push('\n');
    }
}

/// COPY's text-format NULL.
const NULL: &str = "\\N";

/// `text` with the characters COPY's text format treats specially escaped.
fn copy_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

/// A public reply, at resolution time, from the handler of every third resolved interaction
/// written after `after`: one set-based statement, however many rows.
async fn insert_replies(db: &DatabaseConnection, after: i32) -> Result<u64, DbErr> {
    use interaction::Column as I;
    use interaction_message::Column as M;
    let source = Query::select()
        .column(I::Id)
        .column(I::HandlerId)
        .expr(Expr::val(
            "Thanks for getting in touch: this is done. Reply here if anything is still open.",
        ))
        .column(I::ResolvedAt)
        .from(interaction::Entity)
        .and_where(I::Id.gt(after))
        .and_where(I::HandlerId.is_not_null())
        .and_where(I::ResolvedAt.is_not_null())
        .and_where(Expr::col(I::Id).modulo(3).eq(0))
        .to_owned();
    let insert = Query::insert()
        .into_table(interaction_message::Entity)
        .columns([M::InteractionId, M::AuthorId, M::Body, M::CreatedAt])
        .select_from(source)
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected())
}
