//! Satisfaction figures: external (NPS, CSAT, times, retention, revenue), internal (service
//! levels per agreement and department), the service chain, incident impact, and the internal
//! voice (morale pulses and inter-department feedback). All internal-only.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{department_feedback, morale_pulse};

use super::{Customer, Department, Interaction, ServiceAgreement, money};
use crate::{
    Result,
    graphql::context::loaders,
    service::{
        satisfaction::{ExternalFigures, Grouping},
        sentiment::{DepartmentFigure, Period, Summary},
        service_level::{ChainLink, Impact as ImpactModel, Level},
        sql::Range,
    },
};

/// A half-open time range `[from, to)`.
#[derive(InputObject, Clone, Copy)]
pub struct DateRange {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl DateRange {
    /// Validates the range.
    pub fn resolve(self) -> Result<Range> {
        Range::new(self.from, self.to)
    }
}

/// How external figures are grouped.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SatisfactionGrouping {
    /// One group, `all`.
    #[default]
    None,
    /// By customer segment.
    Segment,
    /// By handling department.
    Department,
    /// By channel.
    Channel,
    /// By calendar month (UTC), `YYYY-MM`.
    Month,
}

impl From<SatisfactionGrouping> for Grouping {
    fn from(g: SatisfactionGrouping) -> Self {
        match g {
            SatisfactionGrouping::None => Grouping::None,
            SatisfactionGrouping::Segment => Grouping::Segment,
            SatisfactionGrouping::Department => Grouping::Department,
            SatisfactionGrouping::Channel => Grouping::Channel,
            SatisfactionGrouping::Month => Grouping::Month,
        }
    }
}

/// External satisfaction of one group over a range.
pub struct ExternalSatisfaction(pub ExternalFigures);

#[Object]
impl ExternalSatisfaction {
    /// Group key: `all`, a segment, a department name, a channel, or `YYYY-MM`.
    async fn group(&self) -> &str {
        &self.0.group
    }
    /// Interactions of external customers opened in the range.
    async fn interactions(&self) -> i64 {
        self.0.interactions
    }
    /// Net promoter score: % promoters (9–10) − % detractors (0–6); null without answers.
    async fn nps(&self) -> Option<f64> {
        self.0.nps()
    }
    /// NPS answers.
    async fn nps_responses(&self) -> i64 {
        self.0.nps_responses
    }
    /// Answers of 9–10.
    async fn promoters(&self) -> i64 {
        self.0.promoters
    }
    /// Answers of 7–8.
    async fn passives(&self) -> i64 {
        self.0.passives
    }
    /// Answers of 0–6.
    async fn detractors(&self) -> i64 {
        self.0.detractors
    }
    /// Mean CSAT (1–5); null without answers.
    async fn csat_mean(&self) -> Option<f64> {
        self.0.csat_mean
    }
    /// % of CSAT answers that are 4 or 5.
    async fn csat_satisfied_percent(&self) -> Option<f64> {
        self.0.csat_satisfied_percent()
    }
    /// CSAT answers.
    async fn csat_responses(&self) -> i64 {
        self.0.csat_responses
    }
    /// Mean hours from opening to the company's first public reply, over interactions that
    /// got one; null when none in the group did.
    async fn mean_first_response_hours(&self) -> Option<f64> {
        self.0.mean_first_response_hours
    }
    /// Mean hours from opening to resolution, over resolved interactions.
    async fn mean_resolution_hours(&self) -> Option<f64> {
        self.0.mean_resolution_hours
    }
    /// Revenue from external customers in the range (segment and month groupings; null by
    /// department or channel, which purchases do not have).
    async fn revenue(&self) -> Option<f64> {
        self.0.revenue_cents.map(money)
    }
    /// Purchases by external customers in the range (same groupings as revenue).
    async fn purchases(&self) -> Option<i64> {
        self.0.purchases
    }
    /// Customers active in the group's period: an interaction or a purchase in the range (by
    /// segment, overall), in that month (by month), or an interaction with that department or
    /// through that channel in the range (by department or channel).
    async fn active_customers(&self) -> Option<i64> {
        self.0.active_customers
    }
    /// Of those, customers active again in the following period: the next month for a month,
    /// else the period of equal length after the range. Null until that period is over.
    async fn retained_customers(&self) -> Option<i64> {
        self.0.retained_customers
    }
    /// % of active customers retained; null until the following period is over.
    async fn retention_percent(&self) -> Option<f64> {
        self.0.retention_percent()
    }
}

/// Operational figures over a range.
pub struct ServiceLevel(pub Level);

#[Object]
impl ServiceLevel {
    /// Interactions opened in the range.
    async fn interactions(&self) -> i64 {
        self.0.interactions
    }
    /// Of those, resolved.
    async fn resolved(&self) -> i64 {
        self.0.resolved
    }
    /// Of those, resolved no later than due.
    async fn resolved_on_time(&self) -> i64 {
        self.0.resolved_on_time
    }
    /// % of resolved interactions resolved no later than due; null when none was resolved.
    async fn compliance_percent(&self) -> Option<f64> {
        self.0.compliance_percent()
    }
    /// Resolved late, or still open past due.
    async fn breaches(&self) -> i64 {
        self.0.breaches
    }
    /// Mean hours from opening to resolution.
    async fn mean_turnaround_hours(&self) -> Option<f64> {
        self.0.mean_turnaround_hours
    }
    /// Mean CSAT given by the internal customers.
    async fn internal_csat(&self) -> Option<f64> {
        self.0.csat_mean
    }
    /// CSAT answers from internal customers.
    async fn csat_responses(&self) -> i64 {
        self.0.csat_responses
    }
    /// Still open.
    async fn open_backlog(&self) -> i64 {
        self.0.open_backlog
    }
}

/// One service agreement with its figures.
#[derive(SimpleObject)]
pub struct AgreementServiceLevel {
    /// The agreement.
    pub agreement: ServiceAgreement,
    /// How it was honoured.
    pub level: ServiceLevel,
}

/// One providing department with its figures over all internal requests.
#[derive(SimpleObject)]
pub struct DepartmentServiceLevel {
    /// The department.
    pub department: Department,
    /// How it served its internal customers.
    pub level: ServiceLevel,
}

/// One link of a service chain.
pub struct ServiceChainLink(pub ChainLink);

#[Object]
impl ServiceChainLink {
    /// 1 for the start department's direct suppliers, 2 for theirs, …
    async fn depth(&self) -> i32 {
        self.0.depth
    }
    /// The agreement behind the link.
    async fn agreement(&self) -> ServiceAgreement {
        ServiceAgreement(self.0.agreement.clone())
    }
    /// The department depending on the service.
    async fn consumer(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        let id = self.0.agreement.consumer_department_id;
        Ok(loaders(ctx)?.department.load_one(id).await?.map(Department))
    }
    /// The department providing it.
    async fn provider(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        let id = self.0.agreement.provider_department_id;
        Ok(loaders(ctx)?.department.load_one(id).await?.map(Department))
    }
    /// How the service was honoured over the range.
    async fn level(&self) -> ServiceLevel {
        ServiceLevel(self.0.level.clone())
    }
}

/// Everything a department depends on, supplier by supplier.
#[derive(SimpleObject)]
pub struct ServiceChain {
    /// Where the walk starts.
    pub department: Department,
    /// Each dependency, breadth first.
    pub links: Vec<ServiceChainLink>,
}

/// What an internal incident did to external customers.
pub struct Impact(pub ImpactModel);

#[Object]
impl Impact {
    /// External interactions linked to it, oldest first.
    async fn interactions(&self) -> Vec<Interaction> {
        self.0
            .interactions
            .iter()
            .cloned()
            .map(Interaction)
            .collect()
    }
    /// The external customers behind them.
    async fn customers(&self) -> Vec<Customer> {
        self.0.customers.iter().cloned().map(Customer).collect()
    }
    /// How many external interactions.
    async fn external_interactions(&self) -> i64 {
        self.0.interactions.len() as i64
    }
    /// How many distinct external customers.
    async fn external_customers(&self) -> i64 {
        self.0.customers.len() as i64
    }
    /// NPS detractors (0–6) among them.
    async fn detractors(&self) -> i64 {
        self.0.detractors
    }
    /// Their mean CSAT.
    async fn csat_mean(&self) -> Option<f64> {
        self.0.csat_mean
    }
}

/// The kind of fixed calendar bucket an anonymous aggregate covers. There are no arbitrary
/// ranges: two overlapping ranges could be subtracted to isolate one answer.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryPeriod {
    /// An ISO week, Monday to Monday.
    Week,
    /// The ISO weeks that start in a calendar month (so every week lies in exactly one month).
    Month,
}

impl From<SummaryPeriod> for Period {
    fn from(period: SummaryPeriod) -> Self {
        match period {
            SummaryPeriod::Week => Period::Week,
            SummaryPeriod::Month => Period::Month,
        }
    }
}

/// One fixed calendar bucket of anonymous answers, per department.
pub struct SentimentPeriod(pub Summary);

#[Object]
impl SentimentPeriod {
    /// Week or month.
    async fn period(&self) -> SummaryPeriod {
        match self.0.bucket.period {
            Period::Week => SummaryPeriod::Week,
            Period::Month => SummaryPeriod::Month,
        }
    }
    /// The week's Monday, or the month's first day.
    async fn label(&self) -> NaiveDate {
        self.0.bucket.label
    }
    /// Monday of the first week it covers.
    async fn starts_on(&self) -> NaiveDate {
        self.0.bucket.start
    }
    /// Monday after the last week it covers (exclusive).
    async fn ends_before(&self) -> NaiveDate {
        self.0.bucket.end
    }
    /// Whether it is over; until an hour after its end every figure is withheld, since a
    /// figure that can still change could be compared before and after one more answer.
    async fn closed(&self) -> bool {
        self.0.closed
    }
    /// Every department, by name.
    async fn departments(&self) -> Vec<SentimentAggregate> {
        self.0
            .departments
            .iter()
            .cloned()
            .map(SentimentAggregate)
            .collect()
    }
}

/// Anonymous answers about one department in one bucket. Shown only for at least three people
/// who were not (nearly) unanimous at an extreme, and only when no neighbouring figure would
/// let the withheld ones be subtracted out; otherwise withheld.
pub struct SentimentAggregate(pub DepartmentFigure);

#[Object]
impl SentimentAggregate {
    /// The department.
    async fn department(&self) -> Department {
        Department::from(self.0.department.clone())
    }
    /// How many answers; null when withheld.
    async fn answers(&self) -> Option<i64> {
        self.0.figure.map(|f| f.answers)
    }
    /// Mean score (1–5); null when withheld.
    async fn mean(&self) -> Option<f64> {
        self.0.figure.map(|f| f.mean)
    }
    /// Whether the figure is withheld to keep every answer anonymous.
    async fn suppressed(&self) -> bool {
        self.0.figure.is_none()
    }
}

/// One employee's weekly morale answer (managers only).
pub struct MoralePulse(pub morale_pulse::Model);

#[Object(visible = "crate::policy::visible::manager")]
impl MoralePulse {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The employee's customer id.
    async fn employee_id(&self) -> ID {
        ID(self.0.employee_id.to_string())
    }
    /// The employee's department when answering.
    async fn department(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(loaders(ctx)?
            .department
            .load_one(self.0.department_id)
            .await?
            .map(Department))
    }
    /// Monday of the week answered for.
    async fn week(&self) -> NaiveDate {
        self.0.week
    }
    /// 1 (bad week) to 5 (great week).
    async fn score(&self) -> i32 {
        self.0.score
    }
    /// Optional comment.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
}

/// One piece of feedback from a department to another (managers only).
pub struct DepartmentFeedbackEntry(pub department_feedback::Model);

#[Object(visible = "crate::policy::visible::manager")]
impl DepartmentFeedbackEntry {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The consuming department that gave it.
    async fn from(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(loaders(ctx)?
            .department
            .load_one(self.0.from_department_id)
            .await?
            .map(Department))
    }
    /// The providing department it is about.
    async fn to(&self, ctx: &Context<'_>) -> Result<Option<Department>> {
        Ok(loaders(ctx)?
            .department
            .load_one(self.0.to_department_id)
            .await?
            .map(Department))
    }
    /// The author's customer id.
    async fn author_id(&self) -> ID {
        ID(self.0.author_id.to_string())
    }
    /// 1 (poor) to 5 (excellent).
    async fn score(&self) -> i32 {
        self.0.score
    }
    /// Optional comment.
    async fn comment(&self) -> Option<&str> {
        self.0.comment.as_deref()
    }
    /// When it was given.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
