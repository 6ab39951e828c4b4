//! Small helpers for the aggregate statements of the metrics services, built with sea-query:
//! the validated time range, the few expressions SQLite and PostgreSQL spell differently, and
//! the statement in the backend's own placeholders.

use chrono::{DateTime, Datelike, Utc};
use sea_orm::{
    DbBackend, Statement, Value,
    sea_query::{Alias, Expr, Func, SelectStatement},
};

use crate::{Error, Result};

/// A half-open time range `[from, to)`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl Range {
    /// Validates that the range is non-empty and at most ten years long.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self> {
        let from = super::validate::instant("range.from", from)?;
        let to = super::validate::instant("range.to", to)?;
        if to <= from {
            return Err(Error::bad_input("range.to", "must be after range.from"));
        }
        if to - from > chrono::Duration::days(3660) {
            return Err(Error::bad_input("range", "must span at most ten years"));
        }
        Ok(Self { from, to })
    }

    /// The period of the same length that follows this one (ending at chrono's last instant
    /// at the latest; [`Range::new`] keeps inputs far from it).
    pub fn next(self) -> Self {
        Self {
            from: self.to,
            to: self
                .to
                .checked_add_signed(self.to - self.from)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }
}

/// Hours from one timestamp expression to another, as a double.
pub fn hours(backend: DbBackend, from: Expr, to: Expr) -> Expr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_exprs("(EXTRACT(EPOCH FROM ($2 - $1)) / 3600.0)", [from, to])
        }
        _ => Expr::cust_with_exprs("((julianday(?) - julianday(?)) * 24.0)", [to, from]),
    }
}

/// The `YYYY-MM` month of a timestamp expression, in UTC.
pub fn month(backend: DbBackend, ts: Expr) -> Expr {
    match backend {
        DbBackend::Postgres => {
            Expr::cust_with_expr("to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM')", ts)
        }
        _ => Expr::cust_with_expr("strftime('%Y-%m', ?)", ts),
    }
}

/// A month number (`year * 12 + month`, UTC) of a timestamp expression, so that "the next
/// month" is `+ 1`.
pub fn month_index(backend: DbBackend, ts: Expr) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_expr(
            "CAST(EXTRACT(YEAR FROM $1 AT TIME ZONE 'UTC') * 12 + EXTRACT(MONTH FROM $1 AT TIME ZONE 'UTC') AS INTEGER)",
            ts,
        ),
        _ => Expr::cust_with_exprs(
            "(CAST(strftime('%Y', ?) AS INTEGER) * 12 + CAST(strftime('%m', ?) AS INTEGER))",
            [ts.clone(), ts],
        ),
    }
}

/// An average as a double on both backends (PostgreSQL's AVG is NUMERIC).
pub fn avg(expr: Expr) -> Expr {
    Func::cast_as(Func::avg(expr), Alias::new("DOUBLE PRECISION")).into()
}

/// A count of rows matching `condition`, zero when there are none.
pub fn count_if(condition: Expr) -> Expr {
    // Constants, not binds: they are part of the statement's text, like COUNT's `*`.
    let constant = |n: i32| Expr::Constant(n.into());
    let ones = Expr::case(condition, constant(1)).finally(constant(0));
    Func::coalesce([Func::sum(ones).into(), constant(0)]).into()
}

/// An entity enum's value written into the statement's text, not bound. PostgreSQL plans a
/// literal from the column's statistics; bound, the generic plan it caches after five runs of
/// a prepared statement assumes half the rows match: for `kind = INTERNAL` (32 of 2074
/// customers on the benchmark data, `crm-gateway seed --customers 2000`) it then hash-joins
/// every interaction in the range instead of walking those 32 customers' (EXPLAIN ANALYZE of
/// the seventh EXECUTE: 0.1 ms as a literal, 2.2 ms bound).
pub fn enum_value(value: impl Into<Value>) -> Expr {
    Expr::Constant(value.into())
}

/// The statement of a built query, in the backend's own placeholders.
pub fn statement(backend: DbBackend, query: &SelectStatement) -> Statement {
    backend.build(query)
}

/// The first instant of the month `months` after the month holding the instant just before
/// `end` (so `month_start(1 Oct, 1)` is 1 Oct, the start of the month after September).
pub fn month_start(end: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let last = end
        .checked_sub_signed(chrono::Duration::nanoseconds(1))
        .unwrap_or(end);
    let first = last
        .date_naive()
        .with_day(1)
        .and_then(|d| d.checked_add_months(chrono::Months::new(months)))
        .unwrap_or(last.date_naive());
    first.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Rounds an hours figure to six decimals (about 4 ms): SQLite's `julianday` arithmetic leaves
/// noise far below that, and clients should see 21.0625, not 21.0625000004.
pub fn tidy(value: Option<f64>) -> Option<f64> {
    value.map(|v| (v * 1_000_000.0).round() / 1_000_000.0)
}
