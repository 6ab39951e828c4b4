//! The deterministic demo company, "Northwind Clinics": departments with service agreements,
//! employees and outside customers of every segment, six months of interactions (including
//! a broken phone system that IT fixed late and that callers complained about), products,
//! purchases and knowledge articles. The same rows every time: a fixed pseudo-random sequence
//! and fixed dates, never the clock.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use entity::{
    customer, department, department_feedback,
    enums::{Channel, CustomerKind, CustomerStatus, InteractionKind, InteractionStatus, Segment},
    interaction, interaction_message, internal_note, knowledge_article, morale_pulse, product,
    purchase, service_agreement,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};

pub mod bulk;
mod catalog;

use crate::auth::Role;

use catalog::{
    AGREEMENTS, ARTICLES, CUSTOMER_NOTES, DEPARTMENTS, EMPLOYEES, EXTERNAL, EXTERNAL_TOPICS, FIRST,
    INTERNAL_TOPICS, LAST, NOTES, OTHER_INTERNAL, PRODUCTS,
};

/// The demo company's name.
pub const COMPANY: &str = "Northwind Clinics";
/// Name of the demo external client.
pub const DEMO_CLIENT_NAME: &str = "Olivia Hart";
/// E-mail of the demo employee (IT Support).
pub const DEMO_EMPLOYEE_EMAIL: &str = "noah.berg@northwind.example";
/// E-mail of the demo manager (head of Customer Care).
pub const DEMO_MANAGER_EMAIL: &str = "maria.lopez@northwind.example";
/// E-mail of the demo external client (a business customer).
pub const DEMO_CLIENT_EMAIL: &str = "olivia.hart@brightpaws.example";

/// Customer ids of the three demo identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoIds {
    /// An employee.
    pub employee: i32,
    /// A manager.
    pub manager: i32,
    /// An external client.
    pub client: i32,
}

impl DemoIds {
    /// The three people whose tokens dev mode offers, with who they are.
    pub fn people(self) -> [DemoPerson; 3] {
        [
            DemoPerson {
                role: Role::Client,
                customer_id: self.client,
                name: DEMO_CLIENT_NAME,
                about: "owner of Bright Paws Grooming, an outside business customer",
            },
            DemoPerson {
                role: Role::Employee,
                customer_id: self.employee,
                name: "Noah Berg",
                about: "support engineer in IT Support",
            },
            DemoPerson {
                role: Role::Manager,
                customer_id: self.manager,
                name: "Maria Lopez",
                about: "head of Customer Care",
            },
        ]
    }
}

/// A demo identity: a role, the customer it is, and a line about who that is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoPerson {
    /// The role of its token.
    pub role: Role,
    /// Its customer id (the token's subject).
    pub customer_id: i32,
    /// Its name in the demo.
    pub name: &'static str,
    /// Who that is, in a few words.
    pub about: &'static str,
}

/// A tiny deterministic generator (64-bit LCG), so the demo is identical on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The ids of the demo identities, if the demo company is in the database.
pub async fn demo_ids(db: &impl ConnectionTrait) -> Result<Option<DemoIds>, DbErr> {
    let mut ids = [0; 3];
    for (slot, email) in
        ids.iter_mut()
            .zip([DEMO_EMPLOYEE_EMAIL, DEMO_MANAGER_EMAIL, DEMO_CLIENT_EMAIL])
    {
        match customer::Entity::find()
            .filter(customer::Column::Email.eq(email))
            .one(db)
            .await?
        {
            Some(c) => *slot = c.id,
            None => return Ok(None),
        }
    }
    Ok(Some(DemoIds {
        employee: ids[0],
        manager: ids[1],
        client: ids[2],
    }))
}

/// Seeds the demo company when the database holds no customers; returns the demo ids if it did.
pub async fn seed_if_empty(db: &DatabaseConnection) -> Result<Option<DemoIds>, DbErr> {
    if customer::Entity::find().count(db).await? > 0 {
        tracing::info!("database already has data: demo seed skipped");
        return Ok(None);
    }
    let txn = db.begin().await?;
    seed(&txn).await?;
    let ids = demo_ids(&txn).await?;
    txn.commit().await?;
    tracing::info!("seeded the demo company");
    Ok(ids)
}

/// The day the clinic phone system went down.
const PHONE_INCIDENT_DAY: (i32, u32, u32) = (2026, 9, 14);

/// The first day of the six months of activity.
fn activity_start() -> DateTime<Utc> {
    at(2026, 5, 1, 8)
}

/// Employees as (customer id, department index).
type Staff = Vec<(i32, usize)>;

async fn seed(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut rng = Rng(0x5eed_cafe);
    let dept_ids = seed_departments(db).await?;
    seed_agreements(db, &dept_ids).await?;
    let employees = seed_employees(db, &mut rng, &dept_ids).await?;
    seed_other_internal(db).await?;
    let externals = seed_external_customers(db, &mut rng).await?;
    let products = seed_products(db).await?;
    seed_purchases(db, &mut rng, &employees, &externals, &products).await?;
    let mut desk = Desk {
        rng,
        dept_ids: &dept_ids,
        employees: &employees,
    };
    let story_end = seed_phone_outage(db, &desk, &externals).await?;
    seed_everyday_interactions(db, &mut desk, &externals).await?;
    seed_messages(db, &mut desk.rng, story_end).await?;
    seed_articles(db, &dept_ids).await?;
    seed_voice(db, &mut desk.rng, &dept_ids, &employees, activity_start()).await
}

/// The founding day: every catalogue row dates from it.
fn founded() -> DateTime<Utc> {
    at(2019, 3, 1, 9)
}

/// Departments in catalogue order, so parents exist first; returns their ids by index.
async fn seed_departments(db: &impl ConnectionTrait) -> Result<Vec<i32>, DbErr> {
    let mut dept_ids = Vec::new();
    for d in DEPARTMENTS {
        let row = department::ActiveModel {
            name: Set(d.name.into()),
            description: Set(d.description.into()),
            parent_id: Set(d.parent.map(|p| dept_ids[p])),
            head_id: Set(None),
            serves_external: Set(d.external),
            budget_cents: Set(d.budget * 100),
            version: Set(1),
            created_at: Set(founded()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        dept_ids.push(row.id);
    }
    Ok(dept_ids)
}

async fn seed_agreements(db: &impl ConnectionTrait, dept_ids: &[i32]) -> Result<(), DbErr> {
    for &(provider, consumer, service, hours, quality) in AGREEMENTS {
        service_agreement::ActiveModel {
            provider_department_id: Set(dept_ids[provider]),
            consumer_department_id: Set(dept_ids[consumer]),
            service: Set(service.into()),
            target_turnaround_hours: Set(hours),
            quality_target: Set(quality),
            version: Set(1),
            created_at: Set(founded()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Employees: internal customers with a department, a title and a hire date; heads of
/// department are managers and become their department's head.
async fn seed_employees(
    db: &impl ConnectionTrait,
    rng: &mut Rng,
    dept_ids: &[i32],
) -> Result<Staff, DbErr> {
    let mut employees = Vec::new();
    for (i, &(name, dept, title, head)) in EMPLOYEES.iter().enumerate() {
        let hired = NaiveDate::from_ymd_opt(
            2019 + (i % 6) as i32,
            1 + (i % 12) as u32,
            1 + (i % 27) as u32,
        )
        .unwrap_or_default();
        let row = customer::ActiveModel {
            kind: Set(CustomerKind::Internal),
            segment: Set(if head {
                Segment::Manager
            } else {
                Segment::Employee
            }),
            name: Set(name.into()),
            organization: Set(Some(COMPANY.into())),
            email: Set(format!(
                "{}@northwind.example",
                name.to_lowercase().replace(' ', ".")
            )),
            phone: Set(Some(format!("+1 555 01{:02}", i))),
            status: Set(CustomerStatus::Active),
            customer_since: Set(at(hired.year(), hired.month(), hired.day(), 9)),
            lifetime_value_cents: Set(0),
            health_score: Set(55 + rng.below(45) as i32),
            internal_notes: Set(head.then(|| format!("Heads {}.", DEPARTMENTS[dept].name))),
            department_id: Set(Some(dept_ids[dept])),
            title: Set(Some(title.into())),
            hire_date: Set(Some(hired)),
            version: Set(1),
            created_at: Set(founded()),
            updated_at: Set(founded()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        if head {
            make_head(db, dept_ids[dept], row.id).await?;
        }
        employees.push((row.id, dept));
    }
    Ok(employees)
}

async fn make_head(db: &impl ConnectionTrait, dept_id: i32, head: i32) -> Result<(), DbErr> {
    let mut d: department::ActiveModel = department::Entity::find_by_id(dept_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("department".into()))?
        .into();
    d.head_id = Set(Some(head));
    d.update(db).await?;
    Ok(())
}

/// Owners, shareholders and partners: internal customers outside the org chart.
async fn seed_other_internal(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for (i, &(name, org, segment)) in OTHER_INTERNAL.iter().enumerate() {
        customer::ActiveModel {
            kind: Set(CustomerKind::Internal),
            segment: Set(segment),
            name: Set(name.into()),
            organization: Set(Some(org.into())),
            email: Set(format!(
                "{}@partners.example",
                name.to_lowercase().replace(' ', ".")
            )),
            phone: Set(Some(format!("+1 555 02{:02}", i))),
            status: Set(CustomerStatus::Active),
            customer_since: Set(founded()),
            lifetime_value_cents: Set(0),
            health_score: Set(80),
            internal_notes: Set(Some(format!("{segment:?}: quarterly report by e-mail."))),
            department_id: Set(None),
            title: Set(None),
            hire_date: Set(None),
            version: Set(1),
            created_at: Set(founded()),
            updated_at: Set(founded()),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// External customers of every segment; the first is the demo client, Olivia Hart.
async fn seed_external_customers(
    db: &impl ConnectionTrait,
    rng: &mut Rng,
) -> Result<Vec<(i32, Segment)>, DbErr> {
    let mut externals = Vec::new();
    let groups = EXTERNAL
        .iter()
        .flat_map(|&(segment, org, count)| std::iter::repeat_n((segment, org), count));
    for (n, (segment, org)) in groups.enumerate() {
        let (name, email) = external_identity(n, org);
        let since = founded() + Duration::days(rng.below(2400) as i64);
        let status = match rng.below(10) {
            0 => CustomerStatus::Churned,
            1 => CustomerStatus::Inactive,
            2 if segment == Segment::Press => CustomerStatus::Prospect,
            _ => CustomerStatus::Active,
        };
        let health = match status {
            CustomerStatus::Churned => 10 + rng.below(20) as i32,
            CustomerStatus::Inactive => 30 + rng.below(30) as i32,
            _ => 50 + rng.below(50) as i32,
        };
        let row = customer::ActiveModel {
            kind: Set(CustomerKind::External),
            segment: Set(segment),
            name: Set(name),
            organization: Set(org.map(Into::into)),
            email: Set(email),
            phone: Set(Some(format!("+1 555 1{:03}", n))),
            status: Set(status),
            customer_since: Set(since),
            lifetime_value_cents: Set(0),
            health_score: Set(health),
            internal_notes: Set(rng
                .chance(40)
                .then(|| (*rng.pick(CUSTOMER_NOTES)).to_owned())),
            department_id: Set(None),
            title: Set(None),
            hire_date: Set(None),
            version: Set(1),
            created_at: Set(since),
            updated_at: Set(since),
            ..Default::default()
        }
        .insert(db)
        .await?;
        externals.push((row.id, segment));
    }
    Ok(externals)
}

/// The name and e-mail of the `n`-th external customer.
fn external_identity(n: usize, org: Option<&str>) -> (String, String) {
    if n == 0 {
        return (DEMO_CLIENT_NAME.to_owned(), DEMO_CLIENT_EMAIL.to_owned());
    }
    let name = format!(
        "{} {}",
        FIRST[n % FIRST.len()],
        LAST[(n * 7 + 3) % LAST.len()]
    );
    let domain = org.map_or("mail.example".to_owned(), |o| {
        format!("{}.example", o.to_lowercase().replace([' ', '-'], ""))
    });
    let email = format!("{}.{n}@{domain}", name.to_lowercase().replace(' ', "."));
    (name, email)
}

async fn seed_products(db: &impl ConnectionTrait) -> Result<Vec<product::Model>, DbErr> {
    let mut rows = Vec::new();
    for &(sku, name, description, price, cost, discount, active) in PRODUCTS {
        let row = product::ActiveModel {
            sku: Set(sku.into()),
            name: Set(name.into()),
            description: Set(description.into()),
            list_price_cents: Set(price),
            unit_cost_cents: Set(cost),
            employee_discount_pct: Set(discount),
            active: Set(active),
            created_at: Set(founded()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        rows.push(row);
    }
    Ok(rows)
}

/// Six months of purchases; revenue feeds each buyer's lifetime value.
async fn seed_purchases(
    db: &impl ConnectionTrait,
    rng: &mut Rng,
    employees: &Staff,
    externals: &[(i32, Segment)],
    products: &[product::Model],
) -> Result<(), DbErr> {
    let mut purchases = Vec::new();
    let mut revenue: std::collections::BTreeMap<i32, i64> = Default::default();
    for i in 0..160 {
        // Most buyers are external; every tenth purchase is an employee using the discount.
        let (buyer, discount) = if i % 10 == 9 {
            let (id, _) = *rng.pick(employees);
            (id, true)
        } else {
            let (id, segment) = *rng.pick(externals);
            if segment == Segment::Press {
                continue; // reporters buy nothing
            }
            (id, false)
        };
        let p = rng.pick(&products[..7]);
        let quantity = 1 + rng.below(if p.sku == "FOOD-RX" { 4 } else { 2 }) as i32;
        let unit = if discount {
            p.list_price_cents * i64::from(100 - p.employee_discount_pct) / 100
        } else {
            p.list_price_cents
        };
        let total = unit * i64::from(quantity);
        *revenue.entry(buyer).or_default() += total;
        purchases.push(purchase::ActiveModel {
            customer_id: Set(buyer),
            product_id: Set(p.id),
            quantity: Set(quantity),
            unit_price_cents: Set(unit),
            total_cents: Set(total),
            purchased_at: Set(activity_start() + Duration::hours(rng.below(24 * 183) as i64)),
            ..Default::default()
        });
    }
    purchase::Entity::insert_many(purchases).exec(db).await?;
    for (id, cents) in revenue {
        let mut c: customer::ActiveModel = customer::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("customer".into()))?
            .into();
        c.lifetime_value_cents = Set(cents);
        c.update(db).await?;
    }
    Ok(())
}

/// One interaction to seed; [`Desk::file`] decides who handles it, when it was resolved and
/// how it was rated.
struct Ticket<'a> {
    customer_id: i32,
    dept: usize,
    kind: InteractionKind,
    channel: Channel,
    subject: &'a str,
    summary: &'a str,
    opened: DateTime<Utc>,
    sla_hours: i64,
    late: bool,
    related: Option<i32>,
}

/// The service desk that files seeded interactions: the random sequence plus who works where.
struct Desk<'a> {
    rng: Rng,
    dept_ids: &'a [i32],
    employees: &'a Staff,
}

impl Desk<'_> {
    /// The customer id of the catalogue's `index`-th employee.
    fn employee(&self, index: usize) -> i32 {
        self.employees[index].0
    }

    /// The row for `t`: late tickets take longer than their SLA and are rated badly; tickets
    /// opened in the last week may still be open.
    fn file(&mut self, t: Ticket<'_>) -> interaction::ActiveModel {
        let rng = &mut self.rng;
        let staff = self
            .employees
            .iter()
            .filter(|e| e.1 == t.dept)
            .map(|e| e.0)
            .collect::<Vec<_>>();
        let handler = (!staff.is_empty()).then(|| *rng.pick(&staff));
        let due = t.opened + Duration::hours(t.sla_hours);
        let open_now = t.opened > at(2026, 10, 25, 0) && rng.chance(60);
        let took = if t.late {
            t.sla_hours + 1 + rng.below(t.sla_hours as u64 * 2 + 4) as i64
        } else {
            1 + rng.below((t.sla_hours as u64).max(2) - 1) as i64
        };
        let resolved = (!open_now).then(|| t.opened + Duration::hours(took));
        let status = match (resolved, rng.chance(50)) {
            (None, true) => InteractionStatus::Open,
            (None, false) => InteractionStatus::InProgress,
            (Some(_), true) => InteractionStatus::Closed,
            (Some(_), false) => InteractionStatus::Resolved,
        };
        let rated = resolved.is_some() && rng.chance(70);
        let satisfaction = rated.then(|| {
            if t.late {
                1 + rng.below(3) as i32
            } else {
                3 + rng.below(3) as i32
            }
        });
        let nps = rated.then(|| {
            if t.late {
                rng.below(7) as i32
            } else {
                6 + rng.below(5) as i32
            }
        });
        interaction::ActiveModel {
            customer_id: Set(t.customer_id),
            department_id: Set(self.dept_ids[t.dept]),
            handler_id: Set(handler),
            channel: Set(t.channel),
            kind: Set(t.kind),
            subject: Set(t.subject.into()),
            summary: Set(t.summary.into()),
            internal_note: Set(rng.chance(50).then(|| (*rng.pick(NOTES)).to_owned())),
            status: Set(status),
            opened_at: Set(t.opened),
            resolved_at: Set(resolved),
            sla_due_at: Set(Some(due)),
            satisfaction: Set(satisfaction),
            nps: Set(nps),
            rated_at: Set(rated
                .then(|| resolved.map(|r| r + Duration::hours(2)))
                .flatten()),
            related_to_id: Set(t.related),
            version: Set(1),
            updated_at: Set(resolved.unwrap_or(t.opened)),
            public_version: Set(1),
            public_updated_at: Set(resolved.unwrap_or(t.opened)),
            ..Default::default()
        }
    }
}

/// The agreed turnaround of the first agreement `provider` has, 24 hours without one.
fn turnaround_hours(provider: usize) -> i64 {
    AGREEMENTS
        .iter()
        .find(|a| a.0 == provider)
        .map_or(24, |a| i64::from(a.3))
}

/// Six months of requests between departments and contacts from outside.
async fn seed_everyday_interactions(
    db: &impl ConnectionTrait,
    desk: &mut Desk<'_>,
    externals: &[(i32, Segment)],
) -> Result<(), DbErr> {
    let start = activity_start();
    let mut rows = Vec::new();
    for i in 0..150 {
        let (provider, kind, subject, summary) = *desk.rng.pick(INTERNAL_TOPICS);
        let (asker, _) = *desk.rng.pick(desk.employees);
        let opened = start + Duration::hours(desk.rng.below(24 * 180) as i64);
        let channel = *desk.rng.pick(&[
            Channel::Email,
            Channel::Chat,
            Channel::Portal,
            Channel::InPerson,
        ]);
        // IT is the weak link of the chain: it misses its agreed turnaround more often.
        let late = desk.rng.chance(if provider == 2 { 25 } else { 12 }) || i % 29 == 0;
        rows.push(desk.file(Ticket {
            customer_id: asker,
            dept: provider,
            kind,
            channel,
            subject,
            summary,
            opened,
            sla_hours: turnaround_hours(provider),
            late,
            related: None,
        }));
    }
    for _ in 0..170 {
        let (dept, kind, channel, subject, summary) = *desk.rng.pick(EXTERNAL_TOPICS);
        let (who, _) = *desk.rng.pick(externals);
        let opened = start + Duration::hours(desk.rng.below(24 * 180) as i64);
        let late = desk.rng.chance(10);
        rows.push(desk.file(Ticket {
            customer_id: who,
            dept,
            kind,
            channel,
            subject,
            summary,
            opened,
            sla_hours: 48,
            late,
            related: None,
        }));
    }
    interaction::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// The people of the phone-outage story, by index into the catalogue's [`EMPLOYEES`].
mod cast {
    /// Noah Berg, IT support engineer: the demo employee, who fixed the phones.
    pub const NOAH_BERG: usize = 5;
    /// Maria Lopez, head of Customer Care: the demo manager, whose team took the complaints.
    pub const CARE_TEAM: [usize; 3] = [14, 15, 16];
    /// Jonas Lind, Front Desk lead.
    pub const JONAS_LIND: usize = 17;
    /// Emily Clarke, receptionist, who reported the outage.
    pub const EMILY_CLARKE: usize = 18;
}

/// The story the demo tells, seeded first so it heads every list (lists are ordered by id):
/// on 14 September the clinic phone system went down; Emily Clarke reported it at 08:00, Noah
/// Berg of IT fixed it the next day at noon (the agreed turnaround is 4 hours); twelve callers
/// who could not get through complained to Customer Care, Olivia Hart among them, and their
/// complaints are linked to the incident. A follow-up request for a backup line is still open.
/// Returns the id of the story's last interaction.
async fn seed_phone_outage(
    db: &impl ConnectionTrait,
    desk: &Desk<'_>,
    externals: &[(i32, Segment)],
) -> Result<i32, DbErr> {
    let (y, m, d) = PHONE_INCIDENT_DAY;
    let opened = at(y, m, d, 8);
    let incident = interaction::ActiveModel {
        customer_id: Set(desk.employee(cast::EMILY_CLARKE)),
        department_id: Set(desk.dept_ids[2]),
        handler_id: Set(Some(desk.employee(cast::NOAH_BERG))),
        channel: Set(Channel::InPerson),
        kind: Set(InteractionKind::Incident),
        subject: Set("Clinic phone system down".into()),
        summary: Set("Incoming calls ring out; receptionists cannot book appointments.".into()),
        internal_note: Set(Some(
            "The carrier's SIP trunk certificate expired overnight; renewed it and re-registered \
             the trunks. Carrier escalation took most of the day."
                .into(),
        )),
        satisfaction: Set(Some(2)),
        rated_at: Set(Some(at(y, m, d + 1, 15))),
        ..story_row(opened, 4, at(y, m, d + 1, 12))
    };
    let incident = interaction::Entity::insert(incident)
        .exec(db)
        .await?
        .last_insert_id;
    let noah = desk.employee(cast::NOAH_BERG);
    let mut messages = vec![
        message(
            incident,
            noah,
            "On it: the carrier's line is down. I will update you within the hour.",
            false,
            at(y, m, d, 9),
        ),
        message(
            incident,
            noah,
            "SIP trunk certificate expired; carrier escalation opened.",
            true,
            at(y, m, d, 10),
        ),
    ];
    let mut complaints = Vec::new();
    for k in 0..12usize {
        let opened = at(y, m, d, 9 + (k as u32 % 8));
        let resolved = at(y, m, d + 2, 10 + k as u32 % 6);
        let handler = desk.employee(cast::CARE_TEAM[k % 3]);
        complaints.push(interaction::ActiveModel {
            customer_id: Set(externals[(k * 3) % externals.len()].0),
            department_id: Set(desk.dept_ids[5]),
            handler_id: Set(Some(handler)),
            channel: Set([Channel::Email, Channel::Social, Channel::Chat][k % 3]),
            kind: Set(InteractionKind::Complaint),
            subject: Set("Could not reach the clinic by phone".into()),
            summary: Set(
                "Tried to call several times to book an appointment; nobody answered.".into(),
            ),
            internal_note: Set((k == 0).then(|| APOLOGY.into())),
            satisfaction: Set(Some(1 + (k % 2) as i32)),
            nps: Set(Some((k % 4) as i32)),
            rated_at: Set(Some(resolved + Duration::hours(2))),
            related_to_id: Set(Some(incident)),
            ..story_row(opened, 24, resolved)
        });
        // Customer Care was swamped: its first answer came a day later.
        let id = incident + 1 + k as i32;
        let replied = opened + Duration::hours(26);
        messages.push(message(id, handler, OUTAGE_REPLY, false, replied));
        if k == 0 {
            messages.push(message(
                id,
                handler,
                APOLOGY,
                true,
                replied + Duration::minutes(5),
            ));
        }
    }
    interaction::Entity::insert_many(complaints)
        .exec(db)
        .await?;
    let backup_line = interaction::ActiveModel {
        customer_id: Set(desk.employee(cast::JONAS_LIND)),
        department_id: Set(desk.dept_ids[2]),
        handler_id: Set(Some(desk.employee(cast::NOAH_BERG))),
        channel: Set(Channel::Email),
        kind: Set(InteractionKind::Request),
        subject: Set("Backup phone line for the front desk".into()),
        summary: Set("So callers can still reach us if the phone system fails again.".into()),
        status: Set(InteractionStatus::InProgress),
        resolved_at: Set(None),
        updated_at: Set(at(2026, 10, 28, 10)),
        ..story_row(at(2026, 10, 28, 10), 4, at(2026, 10, 28, 10))
    };
    let backup_line = interaction::Entity::insert(backup_line)
        .exec(db)
        .await?
        .last_insert_id;
    messages.push(message(
        backup_line,
        noah,
        "Ordered a second line from another carrier; installation is booked for next week.",
        false,
        at(2026, 10, 28, 14),
    ));
    insert_messages(db, messages).await?;
    Ok(backup_line)
}

/// Customer Care's answer to the callers who could not get through.
const OUTAGE_REPLY: &str = "Our phone system was down on 14 September and we are sorry you could \
     not get through. Reply here and we will book your appointment right away.";

/// What Customer Care noted on Olivia Hart's complaint.
const APOLOGY: &str = "Offered a free check-up as an apology.";

/// A resolved story interaction opened at `opened` with `sla_hours` to answer; the caller
/// sets who, what and how it was rated.
fn story_row(
    opened: DateTime<Utc>,
    sla_hours: i64,
    resolved: DateTime<Utc>,
) -> interaction::ActiveModel {
    interaction::ActiveModel {
        status: Set(InteractionStatus::Resolved),
        opened_at: Set(opened),
        resolved_at: Set(Some(resolved)),
        sla_due_at: Set(Some(opened + Duration::hours(sla_hours))),
        satisfaction: Set(None),
        nps: Set(None),
        rated_at: Set(None),
        related_to_id: Set(None),
        internal_note: Set(None),
        version: Set(1),
        updated_at: Set(resolved),
        public_version: Set(1),
        public_updated_at: Set(resolved),
        ..Default::default()
    }
}

/// Public replies (and internal notes on incidents) on the everyday interactions, those after
/// the story's `story_end`: staff answer within hours.
async fn seed_messages(
    db: &impl ConnectionTrait,
    rng: &mut Rng,
    story_end: i32,
) -> Result<(), DbErr> {
    let rows = interaction::Entity::find()
        .filter(interaction::Column::Id.gt(story_end))
        .order_by_asc(interaction::Column::Id)
        .all(db)
        .await?;
    let mut messages = Vec::new();
    for row in &rows {
        let Some(handler) = row.handler_id else {
            continue;
        };
        if row.status == InteractionStatus::Open {
            continue; // nobody has answered yet
        }
        let delay = match row.resolved_at {
            Some(resolved) => {
                1 + rng.below((resolved - row.opened_at).num_hours().clamp(1, 8) as u64) as i64
            }
            None => 1 + rng.below(4) as i64,
        };
        let replied = row.opened_at + Duration::hours(delay);
        messages.push(message(
            row.id,
            handler,
            reply_for(row.kind),
            false,
            replied,
        ));
        if let Some(note) = &row.internal_note
            && row.kind == InteractionKind::Incident
        {
            messages.push(message(
                row.id,
                handler,
                note,
                true,
                replied + Duration::minutes(30),
            ));
        }
    }
    insert_messages(db, messages).await
}

/// A seeded message: a public reply, or an internal note (stored in its own table).
enum Draft {
    Reply(interaction_message::ActiveModel),
    Note(internal_note::ActiveModel),
}

fn message(
    interaction_id: i32,
    author_id: i32,
    body: &str,
    internal: bool,
    created_at: DateTime<Utc>,
) -> Draft {
    if internal {
        Draft::Note(internal_note::ActiveModel {
            interaction_id: Set(interaction_id),
            author_id: Set(author_id),
            body: Set(body.into()),
            created_at: Set(created_at),
            ..Default::default()
        })
    } else {
        Draft::Reply(interaction_message::ActiveModel {
            interaction_id: Set(interaction_id),
            author_id: Set(author_id),
            body: Set(body.into()),
            created_at: Set(created_at),
            ..Default::default()
        })
    }
}

/// Stores drafts, each kind in its table, keeping their order within the kind.
async fn insert_messages(db: &impl ConnectionTrait, drafts: Vec<Draft>) -> Result<(), DbErr> {
    let (mut replies, mut notes) = (Vec::new(), Vec::new());
    for draft in drafts {
        match draft {
            Draft::Reply(m) => replies.push(m),
            Draft::Note(n) => notes.push(n),
        }
    }
    if !replies.is_empty() {
        interaction_message::Entity::insert_many(replies)
            .exec(db)
            .await?;
    }
    if !notes.is_empty() {
        internal_note::Entity::insert_many(notes).exec(db).await?;
    }
    Ok(())
}

/// What staff first answer to an interaction of `kind`.
fn reply_for(kind: InteractionKind) -> &'static str {
    match kind {
        InteractionKind::Complaint => {
            "We are sorry about this. We are looking into it and will get back to you today."
        }
        InteractionKind::Incident => "On it; I will update you within the hour.",
        InteractionKind::Request => "Thanks, this is scheduled; we will confirm when it is done.",
        InteractionKind::Inquiry => {
            "Thanks for asking! The answer is in our knowledge base; happy to explain."
        }
        InteractionKind::Purchase => "Thank you for your purchase; your receipt is in the portal.",
        InteractionKind::Feedback => "Thank you for the kind words; we passed them on to the team.",
    }
}

/// Knowledge articles, public and internal, one a month.
async fn seed_articles(db: &impl ConnectionTrait, dept_ids: &[i32]) -> Result<(), DbErr> {
    let mut rows = Vec::new();
    for (i, &(title, body, audience, dept)) in ARTICLES.iter().enumerate() {
        let published = at(2025, 1 + (i % 12) as u32, 10, 9);
        rows.push(knowledge_article::ActiveModel {
            title: Set(title.into()),
            body: Set(body.into()),
            audience: Set(audience),
            department_id: Set(dept_ids[dept]),
            published_at: Set(published),
            updated_at: Set(published),
            ..Default::default()
        });
    }
    knowledge_article::Entity::insert_many(rows)
        .exec(db)
        .await?;
    Ok(())
}

/// The internal voice: twelve weeks of morale pulses (IT dips the week of the phone outage)
/// and feedback between departments. Parts Logistics has two people, so its aggregates stay
/// suppressed: nobody can be singled out.
async fn seed_voice(
    db: &impl ConnectionTrait,
    rng: &mut Rng,
    dept_ids: &[i32],
    employees: &[(i32, usize)],
    start: DateTime<Utc>,
) -> Result<(), DbErr> {
    let first_monday = NaiveDate::from_ymd_opt(2026, 8, 10).unwrap_or_default();
    let outage_week = NaiveDate::from_ymd_opt(2026, 9, 14).unwrap_or_default();
    let mut pulses = Vec::new();
    for week in 0..12 {
        let monday = first_monday + Duration::weeks(week);
        for &(employee, dept) in employees {
            if rng.chance(15) {
                continue; // not everyone answers every week
            }
            let outage = dept == 2 && monday == outage_week;
            let score = if outage {
                1 + rng.below(2) as i32
            } else {
                2 + rng.below(4) as i32
            };
            pulses.push(morale_pulse::ActiveModel {
                employee_id: Set(employee),
                department_id: Set(dept_ids[dept]),
                week: Set(monday),
                score: Set(score),
                comment: Set(
                    outage.then(|| "Phones down all week; callers were furious.".to_owned())
                ),
                created_at: Set(at(monday.year(), monday.month(), monday.day(), 16)),
                ..Default::default()
            });
        }
    }
    morale_pulse::Entity::insert_many(pulses).exec(db).await?;
    let mut feedback = Vec::new();
    for _ in 0..60 {
        let &(provider, consumer, _, _, _) = rng.pick(AGREEMENTS);
        let Some(&(author, _)) = employees.iter().find(|e| e.1 == consumer) else {
            continue;
        };
        // IT's service is the weak link of the chain; the others do fine.
        let score = if provider == 2 {
            1 + rng.below(4) as i32
        } else {
            3 + rng.below(3) as i32
        };
        feedback.push(department_feedback::ActiveModel {
            from_department_id: Set(dept_ids[consumer]),
            to_department_id: Set(dept_ids[provider]),
            author_id: Set(author),
            score: Set(score),
            comment: Set(None),
            created_at: Set(start + Duration::hours(rng.below(24 * 180) as i64)),
            ..Default::default()
        });
    }
    department_feedback::Entity::insert_many(feedback)
        .exec(db)
        .await?;
    Ok(())
}
