//! The differencing attack on the anonymous aggregates, run for real: an employee asks every
//! question the API allows about morale and feedback (every period, every bucket, alone and in
//! windows), and the test tries to derive any single answer from everything it was told —
//! exactly, by linear algebra over all released sums, and by the bounds of the 1–5 scale (a
//! unanimous group, or a member subtracting their own answers).
//!
//! The data is the demo company plus two small teams whose answers are laid out to break a
//! naive release: a month with one lone answer among well-answered weeks, weeks that are
//! unanimous, a week where one member would learn the others' answers. The test checks first
//! that a naive release of the same data *is* broken, so it can fail.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Duration, Months, NaiveDate, TimeZone, Utc};
use crm_gateway::service::pulse::week_of;
use entity::{department_feedback, enums::Segment, morale_pulse};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::Value;

use crate::{
    helpers::*,
    metrics::{dept, person},
};

/// One stored answer, as ground truth.
#[derive(Debug, Clone, Copy)]
struct Answer {
    respondent: i32,
    department: i32,
    week: NaiveDate,
    score: i64,
}

/// A figure the API released: the department, the weeks it covers, count and mean.
#[derive(Debug, Clone, Copy)]
struct Released {
    department: i32,
    start: NaiveDate,
    end: NaiveDate,
    answers: i64,
    mean: f64,
    month: bool,
}

/// Every bucket the API answered about, shown or withheld: (department, start, end, month).
type Shape = (i32, NaiveDate, NaiveDate, bool);

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Two extra teams and their answers, laid out to break a naive release.
async fn add_small_teams(app: &TestApp) {
    let db = &app.db;
    let night = dept(db, "Night Shift", false).await;
    let day = dept(db, "Day Shift", false).await;
    let mut crew = Vec::new();
    for name in ["Nia", "Nils", "Nora", "Ned", "Nell", "Noor"] {
        crew.push(person(db, name, Segment::Employee, Some(night)).await);
    }
    let mut day_crew = Vec::new();
    for name in ["Dana", "Dirk", "Dora", "Dean"] {
        day_crew.push(person(db, name, Segment::Employee, Some(day)).await);
    }
    let [a, b, c, dd, e, f] = crew[..] else {
        unreachable!()
    };
    // June: two well-answered weeks; then one lone answer, a unanimous week, and a week where
    // the member who answered 3 would learn that the two others answered 5.
    // July: the same well-answered weeks and one lone answer (the classic: month minus weeks).
    let pulses: Vec<(NaiveDate, i32, i32)> = [
        (d(2026, 6, 1), vec![(a, 4), (b, 3), (c, 2), (dd, 4)]),
        (d(2026, 6, 8), vec![(a, 3), (b, 4), (c, 4), (dd, 2)]),
        (d(2026, 6, 15), vec![(e, 2)]),
        (d(2026, 6, 22), vec![(a, 5), (b, 5), (c, 5)]),
        (d(2026, 6, 29), vec![(a, 3), (b, 5), (c, 5)]),
        (d(2026, 7, 6), vec![(a, 4), (b, 3), (c, 2), (dd, 4)]),
        (d(2026, 7, 13), vec![(a, 2), (b, 4), (c, 3), (dd, 3)]),
        (d(2026, 7, 20), vec![(f, 1)]),
        (d(2026, 7, 27), vec![(a, 4), (b, 2), (c, 3)]),
    ]
    .into_iter()
    .flat_map(|(week, answers)| {
        answers
            .into_iter()
            .map(move |(who, score)| (week, who, score))
    })
    .collect();
    for (week, who, score) in pulses {
        morale_pulse::ActiveModel {
            employee_id: Set(who),
            department_id: Set(night),
            week: Set(week),
            score: Set(score),
            comment: Set(None),
            created_at: Set(Utc.from_utc_datetime(&week.and_hms_opt(16, 0, 0).unwrap())),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
    // Feedback about the night shift from the day shift: August has three well-answered weeks
    // and one lone answer; one author answers three times in a week of its own.
    let [g, h, i, j] = day_crew[..] else {
        unreachable!()
    };
    let feedback: Vec<(NaiveDate, i32, i32)> = vec![
        (d(2026, 8, 4), g, 4),
        (d(2026, 8, 5), h, 2),
        (d(2026, 8, 6), i, 3),
        (d(2026, 8, 11), g, 3),
        (d(2026, 8, 12), h, 3),
        (d(2026, 8, 13), j, 4),
        (d(2026, 8, 18), i, 5),
        (d(2026, 8, 25), g, 2),
        (d(2026, 8, 26), h, 4),
        (d(2026, 8, 27), i, 4),
        (d(2026, 9, 8), j, 2),
        (d(2026, 9, 9), j, 3),
        (d(2026, 9, 10), j, 4),
    ];
    for (day_given, author, score) in feedback {
        department_feedback::ActiveModel {
            from_department_id: Set(day),
            to_department_id: Set(night),
            author_id: Set(author),
            score: Set(score),
            comment: Set(None),
            created_at: Set(Utc.from_utc_datetime(&day_given.and_hms_opt(11, 0, 0).unwrap())),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
    }
}

async fn ground_truth(app: &TestApp) -> (Vec<Answer>, Vec<Answer>) {
    let morale = morale_pulse::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|p| Answer {
            respondent: p.employee_id,
            department: p.department_id,
            week: p.week,
            score: i64::from(p.score),
        })
        .collect();
    let feedback = department_feedback::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|f| Answer {
            respondent: f.author_id,
            department: f.to_department_id,
            week: week_of(f.created_at.date_naive()),
            score: i64::from(f.score),
        })
        .collect();
    (morale, feedback)
}

/// Every question an employee can ask, as (period, from, count): each bucket on its own (named
/// by two different days), and whole windows of buckets.
fn questions(first: NaiveDate, last: NaiveDate) -> Vec<(&'static str, NaiveDate, i32)> {
    let mut all = Vec::new();
    let mut week = week_of(first);
    while week <= last {
        all.push(("WEEK", week, 1));
        // Any day of the week names the same bucket.
        all.push(("WEEK", week + Duration::days(3), 1));
        week += Duration::weeks(1);
    }
    let mut month = first.with_day(1).unwrap();
    while month <= last {
        all.push(("MONTH", month, 1));
        all.push(("MONTH", month + Duration::days(14), 1));
        month = month.checked_add_months(Months::new(1)).unwrap();
    }
    all.push(("WEEK", week_of(first), 60));
    all.push(("WEEK", week_of(first) + Duration::weeks(5), 17));
    all.push(("MONTH", first, 12));
    all.push((
        "MONTH",
        first.checked_add_months(Months::new(2)).unwrap(),
        3,
    ));
    all
}

/// Asks everything, checks every bucket is answered the same whichever question named it, and
/// returns what was released and the shape of every bucket asked about.
async fn ask_everything(
    app: &TestApp,
    token: &str,
    field: &str,
    first: NaiveDate,
    last: NaiveDate,
) -> (Vec<Released>, Vec<Shape>) {
    let mut seen: BTreeMap<(i32, NaiveDate, NaiveDate), Option<(i64, f64)>> = BTreeMap::new();
    let mut months = HashSet::new();
    for (period, from, count) in questions(first, last) {
        let query = format!(
            r#"{{ {field}(period: {period}, from: "{from}", count: {count}) {{ startsOn endsBefore departments {{ department {{ id }} answers mean suppressed }} }} }}"#
        );
        let data = app.data(&query, Some(token)).await;
        for bucket in data[field].as_array().unwrap() {
            let start: NaiveDate = bucket["startsOn"].as_str().unwrap().parse().unwrap();
            let end: NaiveDate = bucket["endsBefore"].as_str().unwrap().parse().unwrap();
            if period == "MONTH" {
                months.insert((start, end));
            }
            for figure in bucket["departments"].as_array().unwrap() {
                let id = row(&figure["department"]["id"]) as i32;
                let value = (figure["suppressed"] == Value::Bool(false)).then(|| {
                    (
                        figure["answers"].as_i64().unwrap(),
                        figure["mean"].as_f64().unwrap(),
                    )
                });
                if value.is_none() {
                    assert_eq!(
                        (&figure["answers"], &figure["mean"]),
                        (&Value::Null, &Value::Null),
                        "a withheld figure shows nothing"
                    );
                }
                let previous = seen.insert((id, start, end), value);
                assert!(
                    previous.is_none() || previous == Some(value),
                    "{field} {start}: the same bucket answered differently"
                );
            }
        }
    }
    let shapes = seen
        .keys()
        .map(|&(department, start, end)| (department, start, end, months.contains(&(start, end))))
        .collect();
    let released = seen
        .into_iter()
        .filter_map(|((department, start, end), value)| {
            value.map(|(answers, mean)| Released {
                department,
                start,
                end,
                answers,
                mean,
                month: months.contains(&(start, end)),
            })
        })
        .collect();
    (released, shapes)
}

/// A naive release of the same buckets: every closed group of three or more answers is shown.
fn naive_release(answers: &[Answer], shapes: &[Shape]) -> Vec<Released> {
    shapes
        .iter()
        .filter_map(|&(department, start, end, month)| {
            let group: Vec<&Answer> = members(answers, department, start, end);
            (group.len() >= 3).then(|| Released {
                department,
                start,
                end,
                answers: group.len() as i64,
                mean: group.iter().map(|a| a.score).sum::<i64>() as f64 / group.len() as f64,
                month,
            })
        })
        .collect()
}

fn members(answers: &[Answer], department: i32, start: NaiveDate, end: NaiveDate) -> Vec<&Answer> {
    answers
        .iter()
        .filter(|a| a.department == department && start <= a.week && a.week < end)
        .collect()
}

/// Arithmetic modulo the Mersenne prime 2^61 − 1: exact (no rounding), and every released sum
/// is a 0/1 combination, so a rank that drops modulo p would only make the check stricter.
const P: u128 = (1 << 61) - 1;

fn inverse(x: u128) -> u128 {
    let (mut base, mut exp, mut acc) = (x % P, P - 2, 1u128);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc * base % P;
        }
        base = base * base % P;
        exp >>= 1;
    }
    acc
}

/// A row-echelon basis of the released sums, one coefficient per answer.
struct Basis(Vec<(usize, Vec<u128>)>);

impl Basis {
    fn reduce(&self, mut v: Vec<u128>) -> Vec<u128> {
        for (pivot, row) in &self.0 {
            let factor = v[*pivot];
            if factor != 0 {
                for (x, r) in v.iter_mut().zip(row) {
                    *x = (*x + P - factor * r % P) % P;
                }
            }
        }
        v
    }

    fn add(&mut self, v: Vec<u128>) {
        let v = self.reduce(v);
        if let Some(pivot) = v.iter().position(|x| *x != 0) {
            let scale = inverse(v[pivot]);
            self.0
                .push((pivot, v.into_iter().map(|x| x * scale % P).collect()));
        }
    }
}

/// Every way `released` gives an individual answer away, described; empty when none does.
fn derivations(answers: &[Answer], released: &[Released]) -> Vec<String> {
    let mut found = Vec::new();
    // Exact: an answer whose indicator lies in the span of the released sums.
    let mut basis = Basis(Vec::new());
    for figure in released {
        let mut row = vec![0u128; answers.len()];
        for (i, a) in answers.iter().enumerate() {
            if a.department == figure.department && figure.start <= a.week && a.week < figure.end {
                row[i] = 1;
            }
        }
        basis.add(row);
    }
    for (i, a) in answers.iter().enumerate() {
        let mut unit = vec![0u128; answers.len()];
        unit[i] = 1;
        if basis.reduce(unit).iter().all(|x| *x == 0) {
            found.push(format!("answer {a:?} is a combination of released sums"));
        }
    }
    // Bounds: a group known by its sum whose answers are forced to the top or bottom score,
    // seen from outside or by a member who subtracts their own answers.
    let mut groups: Vec<(String, Vec<&Answer>)> = released
        .iter()
        .map(|f| {
            (
                format!("{f:?}"),
                members(answers, f.department, f.start, f.end),
            )
        })
        .collect();
    for month in released.iter().filter(|f| f.month) {
        let shown_weeks: Vec<&Released> = released
            .iter()
            .filter(|w| {
                !w.month
                    && w.department == month.department
                    && month.start <= w.start
                    && w.end <= month.end
            })
            .collect();
        let rest: Vec<&Answer> = members(answers, month.department, month.start, month.end)
            .into_iter()
            .filter(|a| {
                !shown_weeks
                    .iter()
                    .any(|w| w.start <= a.week && a.week < w.end)
            })
            .collect();
        groups.push((format!("{month:?} minus its shown weeks"), rest));
    }
    for (what, group) in groups {
        let people: HashSet<i32> = group.iter().map(|a| a.respondent).collect();
        for outsider in people.iter().map(Some).chain([None]) {
            let others: Vec<&&Answer> = group
                .iter()
                .filter(|a| Some(&a.respondent) != outsider)
                .collect();
            if others.is_empty() {
                continue;
            }
            if others.iter().all(|a| a.score == 5) || others.iter().all(|a| a.score == 1) {
                let who = outsider.map_or("anyone".to_owned(), |p| format!("member {p}"));
                found.push(format!("{what}: {who} can tell every other answer"));
            }
        }
    }
    found
}

fn check_figures_are_true(answers: &[Answer], released: &[Released]) {
    for f in released {
        let group = members(answers, f.department, f.start, f.end);
        let sum: i64 = group.iter().map(|a| a.score).sum();
        assert_eq!(f.answers, group.len() as i64, "{f:?}");
        assert!(
            (f.mean * f.answers as f64 - sum as f64).abs() < 1e-6,
            "{f:?}"
        );
    }
}

both_backends! {
    async fn no_question_an_employee_can_ask_derives_one_answer(backend) {
        let app = TestApp::seeded(backend).await;
        add_small_teams(&app).await;
        let employee = app.employee();
        let (morale, feedback) = ground_truth(&app).await;
        for (field, answers) in [("moraleSummary", morale), ("departmentFeedbackSummary", feedback)] {
            let first = answers.iter().map(|a| a.week).min().unwrap();
            let last = answers.iter().map(|a| a.week).max().unwrap();
            let (released, shapes) = ask_everything(&app, &employee, field, first, last).await;
            assert!(released.len() >= 5, "{field}: too little is shown to be useful: {released:?}");
            check_figures_are_true(&answers, &released);
            // The detector works: a naive release of the same buckets gives answers away.
            let naive = derivations(&answers, &naive_release(&answers, &shapes));
            assert!(!naive.is_empty(), "{field}: the attack should break a naive release");

            let found = derivations(&answers, &released);
            assert!(found.is_empty(), "{field}: single answers can be derived:\n{}", found.join("\n"));
        }
    }
}
