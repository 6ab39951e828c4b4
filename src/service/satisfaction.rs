//! External satisfaction, measured the way markets measure it: NPS, CSAT, response and
//! resolution times, retention, revenue. Every figure is an aggregate computed by the
//! database over external customers only; no rows are loaded into memory to be counted.

use std::collections::BTreeMap;

use sea_orm::{DatabaseConnection, FromQueryResult};

use super::sql::{self, Range};
use crate::Result;

/// How external figures are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// One group, `all`.
    None,
    /// By customer segment.
    Segment,
    /// By the department that handled the interaction.
    Department,
    /// By channel.
    Channel,
    /// By calendar month (UTC) of opening or purchase.
    Month,
}

/// The external figures of one group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExternalFigures {
    /// Group key: `all`, a segment, a department name, a channel, or `YYYY-MM`.
    pub group: String,
    /// Interactions opened in the range.
    pub interactions: i64,
    /// NPS answers.
    pub nps_responses: i64,
    /// Answers of 9–10.
    pub promoters: i64,
    /// Answers of 7–8.
    pub passives: i64,
    /// Answers of 0–6.
    pub detractors: i64,
    /// CSAT answers.
    pub csat_responses: i64,
    /// Mean CSAT.
    pub csat_mean: Option<f64>,
    /// CSAT answers of 4–5.
    pub csat_satisfied: i64,
    /// Mean hours from opening to the company's first public reply.
    pub mean_first_response_hours: Option<f64>,
    /// Mean hours from opening to resolution, over resolved interactions.
    pub mean_resolution_hours: Option<f64>,
    /// Revenue in cents (groupings by segment and month; none for department and channel).
    pub revenue_cents: Option<i64>,
    /// Purchases (same groupings as revenue).
    pub purchases: Option<i64>,
    /// Customers active in the range (an interaction or a purchase), for retention.
    pub active_customers: Option<i64>,
    /// Of those, customers active again in the following period of equal length.
    pub retained_customers: Option<i64>,
}

impl ExternalFigures {
    /// % promoters − % detractors, over NPS answers.
    pub fn nps(&self) -> Option<f64> {
        (self.nps_responses > 0)
            .then(|| 100.0 * (self.promoters - self.detractors) as f64 / self.nps_responses as f64)
    }

    /// % of CSAT answers that are 4 or 5.
    pub fn csat_satisfied_percent(&self) -> Option<f64> {
        (self.csat_responses > 0)
            .then(|| 100.0 * self.csat_satisfied as f64 / self.csat_responses as f64)
    }

    /// % of active customers active again in the next period.
    pub fn retention_percent(&self) -> Option<f64> {
        match (self.active_customers, self.retained_customers) {
            (Some(active), Some(retained)) if active > 0 => {
                Some(100.0 * retained as f64 / active as f64)
            }
            _ => None,
        }
    }
}

#[derive(FromQueryResult)]
struct InteractionRow {
    grp: String,
    interactions: i64,
    nps_responses: i64,
    promoters: i64,
    passives: i64,
    detractors: i64,
    csat_responses: i64,
    csat_mean: Option<f64>,
    csat_satisfied: i64,
    first_response_hours: Option<f64>,
    resolution_hours: Option<f64>,
}

#[derive(FromQueryResult)]
struct RevenueRow {
    grp: String,
    revenue: i64,
    purchases: i64,
}

#[derive(FromQueryResult)]
struct RetentionRow {
    grp: String,
    active: i64,
    retained: i64,
}

/// External figures for `range`, grouped.
pub async fn external(
    db: &DatabaseConnection,
    range: Range,
    grouping: Grouping,
) -> Result<Vec<ExternalFigures>> {
    let backend = db.get_database_backend();
    let group = match grouping {
        Grouping::None => "'all'".to_owned(),
        Grouping::Segment => "c.segment".to_owned(),
        Grouping::Department => "d.name".to_owned(),
        Grouping::Channel => "i.channel".to_owned(),
        Grouping::Month => sql::month_text(backend, "i.opened_at"),
    };
    let first_reply = "SELECT m.interaction_id, MIN(m.created_at) AS first_reply \
         FROM interaction_message m JOIN interaction mi ON mi.id = m.interaction_id \
         WHERE m.author_id <> mi.customer_id GROUP BY m.interaction_id";
    let query = format!(
        "SELECT {group} AS grp, COUNT(*) AS interactions, \
         {nps_responses} AS nps_responses, {promoters} AS promoters, {passives} AS passives, \
         {detractors} AS detractors, {csat_responses} AS csat_responses, \
         {csat_mean} AS csat_mean, {csat_satisfied} AS csat_satisfied, \
         {first_response} AS first_response_hours, {resolution} AS resolution_hours \
         FROM interaction i \
         JOIN customer c ON c.id = i.customer_id \
         JOIN department d ON d.id = i.department_id \
         LEFT JOIN ({first_reply}) r ON r.interaction_id = i.id \
         WHERE c.kind = 'EXTERNAL' AND i.opened_at >= ? AND i.opened_at < ? \
         GROUP BY 1 ORDER BY 1",
        nps_responses = sql::count_if_text("i.nps IS NOT NULL"),
        promoters = sql::count_if_text("i.nps >= 9"),
        passives = sql::count_if_text("i.nps BETWEEN 7 AND 8"),
        detractors = sql::count_if_text("i.nps <= 6"),
        csat_responses = sql::count_if_text("i.satisfaction IS NOT NULL"),
        csat_mean = sql::avg_text("i.satisfaction"),
        csat_satisfied = sql::count_if_text("i.satisfaction >= 4"),
        first_response = sql::avg_text(&sql::hours_text(backend, "i.opened_at", "r.first_reply")),
        resolution = sql::avg_text(&sql::hours_text(backend, "i.opened_at", "i.resolved_at")),
    );
    let rows = InteractionRow::find_by_statement(sql::statement_text(
        backend,
        &query,
        vec![range.from.into(), range.to.into()],
    ))
    .all(db)
    .await?;
    let mut out: BTreeMap<String, ExternalFigures> = rows
        .into_iter()
        .map(|r| {
            (
                r.grp.clone(),
                ExternalFigures {
                    group: r.grp,
                    interactions: r.interactions,
                    nps_responses: r.nps_responses,
                    promoters: r.promoters,
                    passives: r.passives,
                    detractors: r.detractors,
                    csat_responses: r.csat_responses,
                    csat_mean: r.csat_mean,
                    csat_satisfied: r.csat_satisfied,
                    mean_first_response_hours: sql::tidy(r.first_response_hours),
                    mean_resolution_hours: sql::tidy(r.resolution_hours),
                    ..Default::default()
                },
            )
        })
        .collect();

    // Revenue belongs to customers and months, not to departments or channels.
    let revenue_group = match grouping {
        Grouping::None => Some("'all'".to_owned()),
        Grouping::Segment => Some("c.segment".to_owned()),
        Grouping::Month => Some(sql::month_text(backend, "p.purchased_at")),
        Grouping::Department | Grouping::Channel => None,
    };
    if let Some(group) = revenue_group {
        let query = format!(
            "SELECT {group} AS grp, CAST(COALESCE(SUM(p.total_cents), 0) AS BIGINT) AS revenue, COUNT(*) AS purchases \
             FROM purchase p JOIN customer c ON c.id = p.customer_id \
             WHERE c.kind = 'EXTERNAL' AND p.purchased_at >= ? AND p.purchased_at < ? \
             GROUP BY 1"
        );
        let rows = RevenueRow::find_by_statement(sql::statement_text(
            backend,
            &query,
            vec![range.from.into(), range.to.into()],
        ))
        .all(db)
        .await?;
        for figures in out.values_mut() {
            figures.revenue_cents = Some(0);
            figures.purchases = Some(0);
        }
        for r in rows {
            let figures = out.entry(r.grp.clone()).or_insert_with(|| ExternalFigures {
                group: r.grp,
                ..Default::default()
            });
            figures.revenue_cents = Some(r.revenue);
            figures.purchases = Some(r.purchases);
        }
    }

    // Retention is defined for every grouping (see [`retention`]) once the following period
    // is over; before that nobody knows yet who comes back, so it stays null.
    let rows = retention(db, range, grouping).await?;
    for figures in out.values_mut() {
        figures.active_customers = Some(0);
        figures.retained_customers = Some(0);
    }
    let now = chrono::Utc::now();
    for r in rows {
        let figures = out.entry(r.grp.clone()).or_insert_with(|| ExternalFigures {
            group: r.grp,
            ..Default::default()
        });
        figures.active_customers = Some(r.active);
        figures.retained_customers = Some(r.retained);
    }
    for figures in out.values_mut() {
        if following_period_end(range, grouping, &figures.group).is_none_or(|end| end > now) {
            figures.retained_customers = None;
        }
    }
    Ok(out.into_values().collect())
}

/// When the period that retention looks at for `group` ends: the month after a `YYYY-MM`
/// group, else the period after the range.
fn following_period_end(
    range: Range,
    grouping: Grouping,
    group: &str,
) -> Option<chrono::DateTime<chrono::Utc>> {
    match grouping {
        Grouping::Month => {
            let first =
                chrono::NaiveDate::parse_from_str(&format!("{group}-01"), "%Y-%m-%d").ok()?;
            let end = first.checked_add_months(chrono::Months::new(2))?;
            Some(end.and_time(chrono::NaiveTime::MIN).and_utc())
        }
        _ => Some(range.next().to),
    }
}

/// Customers active in a period (an interaction or a purchase): `customer_id` rows for the
/// range given by the two pairs of bound parameters.
const ACTIVITY: &str = "SELECT customer_id FROM interaction WHERE opened_at >= ? AND opened_at < ? \
     UNION SELECT customer_id FROM purchase WHERE purchased_at >= ? AND purchased_at < ?";

/// Retention per group: external customers active in the group's period, and how many of them
/// are active again in the following period of equal length.
///
/// - `NONE`, `SEGMENT`: active in the range (an interaction or a purchase), again in the
///   period of the same length right after it.
/// - `DEPARTMENT`, `CHANNEL`: an interaction with that department or through that channel in
///   the range (purchases have neither), then any activity in the period after it.
/// - `MONTH`: active in that calendar month (within the range), again in the next calendar
///   month.
async fn retention(
    db: &DatabaseConnection,
    range: Range,
    grouping: Grouping,
) -> Result<Vec<RetentionRow>> {
    let backend = db.get_database_backend();
    let next = range.next();
    let (query, values) = match grouping {
        Grouping::None | Grouping::Segment => {
            let group = if grouping == Grouping::None {
                "'all'"
            } else {
                "c.segment"
            };
            let query = format!(
                "SELECT {group} AS grp, COUNT(*) AS active, {retained} AS retained \
                 FROM ({ACTIVITY}) a JOIN customer c ON c.id = a.customer_id \
                 LEFT JOIN ({ACTIVITY}) b ON b.customer_id = a.customer_id \
                 WHERE c.kind = 'EXTERNAL' GROUP BY 1",
                retained = sql::count_if_text("b.customer_id IS NOT NULL"),
            );
            (query, [range, range, next, next].to_vec())
        }
        Grouping::Department | Grouping::Channel => {
            let key = if grouping == Grouping::Department {
                "d.name"
            } else {
                "i.channel"
            };
            let query = format!(
                "SELECT a.grp AS grp, COUNT(*) AS active, {retained} AS retained \
                 FROM (SELECT DISTINCT {key} AS grp, i.customer_id FROM interaction i \
                       JOIN department d ON d.id = i.department_id \
                       WHERE i.opened_at >= ? AND i.opened_at < ?) a \
                 JOIN customer c ON c.id = a.customer_id \
                 LEFT JOIN ({ACTIVITY}) b ON b.customer_id = a.customer_id \
                 WHERE c.kind = 'EXTERNAL' GROUP BY 1",
                retained = sql::count_if_text("b.customer_id IS NOT NULL"),
            );
            (query, [range, next, next].to_vec())
        }
        Grouping::Month => {
            // Activity one month past the range's last month answers "again next month".
            let later = Range {
                from: range.from,
                to: sql::month_start(range.to, 2),
            };
            let monthly = |range_columns: &str| {
                format!(
                    "SELECT DISTINCT {range_columns}, x.customer_id FROM (\
                     SELECT customer_id, opened_at AS at FROM interaction WHERE opened_at >= ? AND opened_at < ? \
                     UNION ALL SELECT customer_id, purchased_at AS at FROM purchase WHERE purchased_at >= ? AND purchased_at < ?) x"
                )
            };
            let index = sql::month_index_text(backend, "x.at");
            let query = format!(
                "SELECT a.grp AS grp, COUNT(*) AS active, {retained} AS retained \
                 FROM ({a}) a JOIN customer c ON c.id = a.customer_id \
                 LEFT JOIN ({b}) b ON b.customer_id = a.customer_id AND b.m = a.m + 1 \
                 WHERE c.kind = 'EXTERNAL' GROUP BY 1",
                a = monthly(&format!(
                    "{} AS grp, {index} AS m",
                    sql::month_text(backend, "x.at")
                )),
                b = monthly(&format!("{index} AS m")),
                retained = sql::count_if_text("b.customer_id IS NOT NULL"),
            );
            (query, [range, range, later, later].to_vec())
        }
    };
    let values = values
        .into_iter()
        .flat_map(|r| [r.from.into(), r.to.into()])
        .collect();
    Ok(
        RetentionRow::find_by_statement(sql::statement_text(backend, &query, values))
            .all(db)
            .await?,
    )
}
