//! Anonymous aggregates of the internal voice (morale pulses, feedback between departments),
//! built so that no combination of questions isolates one person's answer.
//!
//! An aggregate over an arbitrary range can be differenced: two overlapping ranges that differ
//! by one answer give that answer away. So aggregates exist only over fixed calendar buckets —
//! an ISO week (Monday to Monday), or a month made of the weeks that *start* in it, so every week
//! lies in exactly one month — and per department, never across departments. A group of answers
//! is shown only when it is [`safe`]: at least [`MIN_GROUP`] different people, and not so close to
//! unanimous that the mean gives answers away (see [`safe`]). On top of that:
//!
//! - **Neighbours.** A month is the sum of its weeks. If the weeks of a month that are withheld
//!   held, together, an unsafe group, the month minus its shown weeks would reveal it; such a
//!   month is withheld too.
//! - **Time.** A bucket is shown only once it is over (plus [`SETTLE`]): a bucket that still grows
//!   could be asked before and after one more answer arrives.
//! - **Counts.** A withheld bucket shows no count either, so a withheld bucket says nothing about
//!   how many answered.
//!
//! Each released figure is therefore the sum over a group of at least three people whose members
//! cannot subtract themselves out, and every combination of released figures is a sum over a
//! union of such groups. `tests/api/differencing.rs` runs the attack over every question an
//! employee can ask and checks that no single answer can be derived.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Utc};
use entity::{department, department_feedback, morale_pulse};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};

use super::{
    pulse::{monday_of, week_of},
    validate,
};
use crate::{Error, Result};

/// Fewest different people a shown figure may stand for.
pub const MIN_GROUP: usize = 3;
/// How long after a bucket ends its figures are held back: answers being written at the
/// boundary have committed by then.
pub const SETTLE: Duration = Duration::hours(1);
/// Most buckets one question may span.
pub const MAX_BUCKETS: u32 = 60;
/// Lowest and highest score of a pulse or a piece of feedback.
const SCORES: (i32, i32) = (1, 5);

/// The kind of fixed calendar bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    /// An ISO week, Monday to Monday.
    Week,
    /// The ISO weeks that start in a calendar month.
    Month,
}

/// One fixed bucket: the weeks whose Monday lies in `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Week or month.
    pub period: Period,
    /// For a month, its first day; for a week, its Monday.
    pub label: NaiveDate,
    /// Monday of the first week.
    pub start: NaiveDate,
    /// Monday after the last week.
    pub end: NaiveDate,
}

impl Bucket {
    /// The bucket of `period` named by `date`: the week containing it, or its calendar month;
    /// `None` past the calendar's end.
    pub fn containing(period: Period, date: NaiveDate) -> Option<Self> {
        match period {
            Period::Week => {
                let start = monday_of(date)?;
                Some(Self {
                    period,
                    label: start,
                    start,
                    end: start.checked_add_signed(Duration::weeks(1))?,
                })
            }
            Period::Month => {
                let first = date.with_day(1)?;
                let next = first.checked_add_months(Months::new(1))?;
                Some(Self {
                    period,
                    label: first,
                    start: first_monday_from(first)?,
                    end: first_monday_from(next)?,
                })
            }
        }
    }

    /// The bucket after this one.
    pub fn next(self) -> Option<Self> {
        match self.period {
            Period::Week => Self::containing(Period::Week, self.end),
            Period::Month => Self::containing(
                Period::Month,
                self.label.checked_add_months(Months::new(1))?,
            ),
        }
    }

    /// Whether no answer can join it any more (it ended at least [`SETTLE`] ago).
    pub fn closed(&self, now: DateTime<Utc>) -> bool {
        self.end
            .and_time(NaiveTime::MIN)
            .and_utc()
            .checked_add_signed(SETTLE)
            .is_some_and(|settled| settled <= now)
    }

    /// The weeks it is made of.
    fn weeks(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let (start, end) = (self.start, self.end);
        std::iter::successors(Some(start), |w| w.checked_add_signed(Duration::weeks(1)))
            .take_while(move |w| *w < end)
    }
}

fn first_monday_from(date: NaiveDate) -> Option<NaiveDate> {
    let offset = (7 - date.weekday().num_days_from_monday()) % 7;
    date.checked_add_signed(Duration::days(i64::from(offset)))
}

/// `count` consecutive buckets of `period`, the first one named by `from` (a date in
/// [`validate::YEARS`], so that every bucket's arithmetic stays in the calendar).
pub fn buckets(period: Period, from: NaiveDate, count: i32) -> Result<Vec<Bucket>> {
    let count = u32::try_from(count)
        .ok()
        .filter(|c| (1..=MAX_BUCKETS).contains(c))
        .ok_or_else(|| Error::bad_input("count", format!("must be between 1 and {MAX_BUCKETS}")))?;
    let from = validate::date("from", from)?;
    let out_of_range = || Error::bad_input("from", "the buckets would leave the calendar");
    let mut bucket = Bucket::containing(period, from).ok_or_else(out_of_range)?;
    let mut all = Vec::with_capacity(count as usize);
    for _ in 0..count {
        all.push(bucket);
        bucket = bucket.next().ok_or_else(out_of_range)?;
    }
    Ok(all)
}

/// One stored answer, as the aggregates see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// Who gave it.
    pub respondent: i32,
    /// The department it counts for.
    pub department: i32,
    /// Monday of its week.
    pub week: NaiveDate,
    /// 1–5.
    pub score: i32,
}

/// Whether a group of answers may be shown as a count and a mean. It must come from at least
/// [`MIN_GROUP`] people, and at least two of them must have given something other than the top
/// score (and two something other than the bottom one): otherwise an all-5 (or all-1) mean
/// gives every answer away, and a member who subtracts their own answers learns that everyone
/// else answered 5.
pub fn safe(group: &[&Answer]) -> bool {
    let people = |keep: fn(i32) -> bool| {
        group
            .iter()
            .filter(|a| keep(a.score))
            .map(|a| a.respondent)
            .collect::<HashSet<_>>()
            .len()
    };
    people(|_| true) >= MIN_GROUP
        && people(|s| s != SCORES.1) >= 2
        && people(|s| s != SCORES.0) >= 2
}

/// A shown figure: how many answers, and their mean.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    /// How many answers.
    pub answers: i64,
    /// Their mean.
    pub mean: f64,
}

fn figure(group: &[&Answer]) -> Figure {
    let total: i64 = group.iter().map(|a| i64::from(a.score)).sum();
    let answers = group.len() as i64;
    Figure {
        answers,
        mean: total as f64 / answers as f64,
    }
}

/// The figure of one department's answers in `bucket` (all of them in the bucket), or `None`
/// when it is withheld.
fn release(bucket: &Bucket, answers: &[&Answer]) -> Option<Figure> {
    if !safe(answers) {
        return None;
    }
    if bucket.period == Period::Month {
        // The month minus its shown weeks is the group of its withheld weeks: it must be empty
        // or safe itself.
        let withheld: Vec<&Answer> = bucket
            .weeks()
            .flat_map(|week| {
                let group: Vec<&Answer> =
                    answers.iter().copied().filter(|a| a.week == week).collect();
                if safe(&group) { Vec::new() } else { group }
            })
            .collect();
        if !withheld.is_empty() && !safe(&withheld) {
            return None;
        }
    }
    Some(figure(answers))
}

/// One department's figure in one bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartmentFigure {
    /// The department.
    pub department: department::Model,
    /// The figure, or `None` when withheld.
    pub figure: Option<Figure>,
}

/// One bucket's figures for every department.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The bucket.
    pub bucket: Bucket,
    /// Whether it is over; until then every figure is withheld.
    pub closed: bool,
    /// Every department, by name.
    pub departments: Vec<DepartmentFigure>,
}

/// Which answers to summarise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    /// Weekly morale, per the answering employee's department.
    Morale,
    /// Feedback between departments, per the department it is about.
    Feedback,
}

/// The figures of `voice` for each of `buckets`, computed from `answers` (every stored answer
/// of the weeks the buckets cover) as of `now`. Pure, so tests can run it on any data.
pub fn summarise(
    buckets: &[Bucket],
    departments: &[department::Model],
    answers: &[Answer],
    now: DateTime<Utc>,
) -> Vec<Summary> {
    buckets
        .iter()
        .map(|bucket| {
            let closed = bucket.closed(now);
            let mut by_department: BTreeMap<i32, Vec<&Answer>> = BTreeMap::new();
            for answer in answers
                .iter()
                .filter(|a| bucket.start <= a.week && a.week < bucket.end)
            {
                by_department
                    .entry(answer.department)
                    .or_default()
                    .push(answer);
            }
            let departments = departments
                .iter()
                .map(|d| DepartmentFigure {
                    department: d.clone(),
                    figure: by_department
                        .get(&d.id)
                        .filter(|_| closed)
                        .and_then(|group| release(bucket, group)),
                })
                .collect();
            Summary {
                bucket: *bucket,
                closed,
                departments,
            }
        })
        .collect()
}

/// Every answer of `voice` in the weeks from `start` to `end`.
async fn answers(
    db: &DatabaseConnection,
    voice: Voice,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<Answer>> {
    Ok(match voice {
        Voice::Morale => morale_pulse::Entity::find()
            .filter(morale_pulse::Column::Week.gte(start))
            .filter(morale_pulse::Column::Week.lt(end))
            .all(db)
            .await?
            .into_iter()
            .map(|p| Answer {
                respondent: p.employee_id,
                department: p.department_id,
                week: p.week,
                score: p.score,
            })
            .collect(),
        Voice::Feedback => department_feedback::Entity::find()
            .filter(
                department_feedback::Column::CreatedAt
                    .gte(start.and_time(NaiveTime::MIN).and_utc()),
            )
            .filter(
                department_feedback::Column::CreatedAt.lt(end.and_time(NaiveTime::MIN).and_utc()),
            )
            .all(db)
            .await?
            .into_iter()
            .map(|f| Answer {
                respondent: f.author_id,
                department: f.to_department_id,
                week: week_of(f.created_at.date_naive()),
                score: f.score,
            })
            .collect(),
    })
}

/// The figures of `voice` for `count` consecutive buckets of `period` from the one `from`
/// names.
pub async fn summary(
    db: &DatabaseConnection,
    voice: Voice,
    period: Period,
    from: NaiveDate,
    count: i32,
) -> Result<Vec<Summary>> {
    let buckets = buckets(period, from, count)?;
    let (Some(first), Some(last)) = (buckets.first(), buckets.last()) else {
        return Ok(Vec::new());
    };
    let answers = answers(db, voice, first.start, last.end).await?;
    let departments = department::Entity::find()
        .order_by_asc(department::Column::Name)
        .all(db)
        .await?;
    Ok(summarise(&buckets, &departments, &answers, Utc::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_week_lies_in_exactly_one_month() {
        let march = Bucket::containing(Period::Month, d(2026, 3, 17)).unwrap();
        assert_eq!(
            (march.label, march.start, march.end),
            (d(2026, 3, 1), d(2026, 3, 2), d(2026, 4, 6))
        );
        let april = march.next().unwrap();
        assert_eq!((april.start, april.end), (d(2026, 4, 6), d(2026, 5, 4)));
        let week = Bucket::containing(Period::Week, d(2026, 4, 1)).unwrap();
        assert_eq!((week.start, week.end), (d(2026, 3, 30), d(2026, 4, 6)));
        assert!(march.weeks().any(|w| w == week.start));
    }

    fn answer(respondent: i32, week: NaiveDate, score: i32) -> Answer {
        Answer {
            respondent,
            department: 1,
            week,
            score,
        }
    }

    #[test]
    fn small_or_nearly_unanimous_groups_are_unsafe() {
        let w = d(2026, 3, 2);
        let group = |scores: &[(i32, i32)]| -> Vec<Answer> {
            scores.iter().map(|&(r, s)| answer(r, w, s)).collect()
        };
        let check = |answers: Vec<Answer>| safe(&answers.iter().collect::<Vec<_>>());
        assert!(check(group(&[(1, 4), (2, 3), (3, 2)])));
        assert!(!check(group(&[(1, 4), (2, 3)])), "two people");
        assert!(
            !check(group(&[(1, 4), (1, 3), (1, 2), (2, 2)])),
            "four answers, two people"
        );
        assert!(!check(group(&[(1, 5), (2, 5), (3, 5)])), "unanimous");
        assert!(
            !check(group(&[(1, 3), (2, 5), (3, 5)])),
            "the 3 knows the others said 5"
        );
        assert!(check(group(&[(1, 3), (2, 4), (3, 5)])));
    }

    #[test]
    fn a_month_is_withheld_when_its_withheld_weeks_would_show_through() {
        let month = Bucket::containing(Period::Month, d(2026, 3, 1)).unwrap();
        let weeks: Vec<NaiveDate> = month.weeks().collect();
        let mut answers = Vec::new();
        for (i, score) in [4, 3, 2, 4].into_iter().enumerate() {
            answers.push(answer(i as i32, weeks[0], score));
            answers.push(answer(i as i32, weeks[1], score));
        }
        answers.push(answer(9, weeks[2], 1)); // alone in its week
        let refs: Vec<&Answer> = answers.iter().collect();
        assert_eq!(release(&month, &refs), None);
        // With two more people in that week, the week shows and so does the month.
        answers.push(answer(7, weeks[2], 3));
        answers.push(answer(8, weeks[2], 4));
        let refs: Vec<&Answer> = answers.iter().collect();
        assert!(release(&month, &refs).is_some());
    }
}
