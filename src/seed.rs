//! The deterministic demo company, "Northwind Clinics": departments with service agreements,
//! employees and outside customers of every segment, six months of interactions (including
//! a broken phone system that IT fixed late and that callers complained about), products,
//! purchases and knowledge articles. The same rows every time: a fixed pseudo-random sequence
//! and fixed dates, never the clock.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use entity::{
    customer, department, department_feedback,
    enums::{
        Audience, Channel, CustomerKind, CustomerStatus, InteractionKind, InteractionStatus,
        Segment,
    },
    interaction, knowledge_article, morale_pulse, product, purchase, service_agreement,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait,
};

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

struct Dept {
    name: &'static str,
    description: &'static str,
    parent: Option<usize>,
    external: bool,
    budget: i64,
}

const DEPARTMENTS: &[Dept] = &[
    Dept {
        name: "Executive Office",
        description: "Runs the company and owns its strategy.",
        parent: None,
        external: false,
        budget: 900_000,
    },
    Dept {
        name: "Human Resources",
        description: "Hiring, training, benefits and conflict mediation for every employee.",
        parent: Some(0),
        external: false,
        budget: 650_000,
    },
    Dept {
        name: "IT Support",
        description: "Computers, accounts, networks and the clinics' phone system.",
        parent: Some(0),
        external: false,
        budget: 1_200_000,
    },
    Dept {
        name: "Sales",
        description: "Wellness plans and supplies for pet owners and businesses.",
        parent: Some(0),
        external: true,
        budget: 800_000,
    },
    Dept {
        name: "Marketing",
        description: "Campaigns, qualified leads and promotional material.",
        parent: Some(0),
        external: false,
        budget: 700_000,
    },
    Dept {
        name: "Customer Care",
        description: "Answers every client question, complaint and booking.",
        parent: Some(0),
        external: true,
        budget: 750_000,
    },
    Dept {
        name: "Front Desk",
        description: "Receptionists who book appointments by phone and in person.",
        parent: Some(5),
        external: true,
        budget: 400_000,
    },
    Dept {
        name: "Finance",
        description: "Budgets, invoicing and quote approvals.",
        parent: Some(0),
        external: false,
        budget: 500_000,
    },
    Dept {
        name: "Operations",
        description: "Assembles clinic kits and runs the clinics day to day.",
        parent: Some(0),
        external: false,
        budget: 1_500_000,
    },
    Dept {
        name: "Parts Logistics",
        description: "Delivers components to assembly on schedule.",
        parent: Some(8),
        external: false,
        budget: 450_000,
    },
];

/// (provider, consumer, service, hours, quality target)
const AGREEMENTS: &[(usize, usize, &str, i32, f64)] = &[
    (2, 6, "Phone system repair", 4, 4.5),
    (2, 5, "Laptop and account support", 8, 4.2),
    (2, 3, "CRM access and hardware", 8, 4.2),
    (2, 8, "Workshop terminal support", 12, 4.0),
    (1, 3, "Hiring for open sales roles", 240, 4.0),
    (1, 5, "Training and onboarding", 120, 4.3),
    (1, 8, "Benefits and mediation", 72, 4.0),
    (4, 3, "Qualified leads", 48, 4.0),
    (4, 5, "Promotional material", 72, 3.8),
    (9, 8, "Components on schedule", 24, 4.5),
    (7, 3, "Quote approval", 24, 4.0),
    (5, 3, "Escalated client complaints", 24, 4.2),
    (1, 2, "Hiring for IT roles", 240, 4.0),
    (7, 2, "Hardware purchase approval", 48, 4.0),
];

/// (name, department index, title, is head)
const EMPLOYEES: &[(&str, usize, &str, bool)] = &[
    ("Helena Vogt", 0, "Chief Executive Officer", true),
    ("Samuel Okafor", 1, "HR Director", true),
    ("Priya Raman", 1, "Training Coordinator", false),
    ("Tom Becker", 1, "Recruiter", false),
    ("Ines Duarte", 2, "Head of IT", true),
    ("Noah Berg", 2, "Support Engineer", false),
    ("Lena Fischer", 2, "Network Administrator", false),
    ("Omar Haddad", 2, "Support Engineer", false),
    ("Grace Kim", 3, "Sales Director", true),
    ("Lucas Moreau", 3, "Account Executive", false),
    ("Ava Nowak", 3, "Sales Representative", false),
    ("Chloe Martin", 4, "Marketing Lead", true),
    ("Ethan Brooks", 4, "Graphic Designer", false),
    ("Mia Jensen", 4, "Social Media Manager", false),
    ("Maria Lopez", 5, "Head of Customer Care", true),
    ("Daniel Weiss", 5, "Care Agent", false),
    ("Sofia Rossi", 5, "Care Agent", false),
    ("Jonas Lind", 6, "Front Desk Lead", true),
    ("Emily Clarke", 6, "Receptionist", false),
    ("Ravi Patel", 6, "Receptionist", false),
    ("Hannah Schulz", 7, "Finance Manager", true),
    ("Leo Dubois", 7, "Accountant", false),
    ("Carlos Mendes", 8, "Operations Manager", true),
    ("Anna Kowalski", 8, "Assembly Technician", false),
    ("Felix Wagner", 8, "Assembly Technician", false),
    ("Yuki Tanaka", 9, "Logistics Lead", true),
    ("Ben Hughes", 9, "Parts Runner", false),
];

/// (name, organisation, segment)
const OTHER_INTERNAL: &[(&str, &str, Segment)] = &[
    ("Margaret Vogt", "Northwind Clinics", Segment::Owner),
    ("Albert Chen", "Chen Family Office", Segment::Shareholder),
    (
        "Rosa Lindqvist",
        "Nordic Pension Fund",
        Segment::Shareholder,
    ),
    ("Kai Andersen", "PetPartners Distribution", Segment::Partner),
    ("Nadia Farouk", "VetSupply Logistics", Segment::Partner),
];

const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Oscar", "Isla", "Hugo", "Freya", "Arthur", "Zoe", "Milan", "Clara",
    "Jasper", "Nora", "Elias", "Lea", "Adam", "Ida", "Victor", "Alma", "Theo",
];
const LAST: &[&str] = &[
    "Hart", "Svensson", "Costa", "Meyer", "Novak", "Laurent", "Byrne", "Horvat", "Silva", "Larsen",
    "Keller", "Moreno", "Dahl", "Quinn", "Ferreira", "Holm", "Marsh", "Ortega", "Winter", "Bauer",
];

/// (segment, organisation, how many)
const EXTERNAL: &[(Segment, Option<&str>, usize)] = &[
    (Segment::Business, Some("Bright Paws Grooming"), 1),
    (Segment::Individual, None, 18),
    (Segment::Business, Some("Happy Tails Kennels"), 3),
    (Segment::Business, Some("Urban Farm Co-op"), 3),
    (Segment::Business, Some("PetCo Retail Group"), 3),
    (Segment::Government, Some("City Animal Control"), 3),
    (Segment::Government, Some("State Veterinary Board"), 2),
    (
        Segment::VolunteerOrganization,
        Some("Second Chance Animal Rescue"),
        3,
    ),
    (Segment::VolunteerOrganization, Some("Wildlife Helpers"), 2),
    (Segment::Press, Some("The Daily Courier"), 2),
    (Segment::Press, Some("Pet Life Magazine"), 2),
];

/// (sku, name, description, list price cents, unit cost cents, employee discount %, active)
const PRODUCTS: &[(&str, &str, &str, i64, i64, i32, bool)] = &[
    (
        "WP-BASIC",
        "Wellness Plan Basic",
        "Two check-ups a year and core vaccinations.",
        24_900,
        11_200,
        20,
        true,
    ),
    (
        "WP-PLUS",
        "Wellness Plan Plus",
        "Basic plus dental cleaning and lab work.",
        44_900,
        19_800,
        20,
        true,
    ),
    (
        "DENTAL",
        "Dental Cleaning",
        "Professional cleaning under light sedation.",
        18_000,
        7_400,
        15,
        true,
    ),
    (
        "VACC-KIT",
        "Vaccination Bundle",
        "All core vaccines for puppies or kittens.",
        12_500,
        4_100,
        15,
        true,
    ),
    (
        "FOOD-RX",
        "Prescription Diet (12 kg)",
        "Vet-prescribed diet food.",
        8_900,
        5_300,
        10,
        true,
    ),
    (
        "CLINIC-KIT",
        "Clinic Starter Kit",
        "Assembled examination kit for partner clinics.",
        149_000,
        97_000,
        5,
        true,
    ),
    (
        "GROOM",
        "Grooming Session",
        "Bath, trim and nail care.",
        6_500,
        2_400,
        30,
        true,
    ),
    (
        "BOARD-OLD",
        "Boarding Night (retired)",
        "Overnight boarding, no longer offered.",
        5_500,
        3_900,
        0,
        false,
    ),
];

/// The phone-system incident and the complaints it caused.
const PHONE_INCIDENT_DAY: (i32, u32, u32) = (2026, 9, 14);

async fn seed(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let mut rng = Rng(0x5eed_cafe);
    let founded = at(2019, 3, 1, 9);

    // Departments, in order so that parents exist first.
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
            created_at: Set(founded),
            ..Default::default()
        }
        .insert(db)
        .await?;
        dept_ids.push(row.id);
    }

    for &(provider, consumer, service, hours, quality) in AGREEMENTS {
        service_agreement::ActiveModel {
            provider_department_id: Set(dept_ids[provider]),
            consumer_department_id: Set(dept_ids[consumer]),
            service: Set(service.into()),
            target_turnaround_hours: Set(hours),
            quality_target: Set(quality),
            version: Set(1),
            created_at: Set(founded),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }

    // Employees: internal customers with a department, a title and a hire date.
    let mut employees: Vec<(i32, usize)> = Vec::new();
    for (i, &(name, dept, title, head)) in EMPLOYEES.iter().enumerate() {
        let hired = NaiveDate::from_ymd_opt(
            2019 + (i % 6) as i32,
            1 + (i % 12) as u32,
            1 + (i % 27) as u32,
        )
        .unwrap_or_default();
        let email = format!(
            "{}@northwind.example",
            name.to_lowercase().replace(' ', ".")
        );
        let row = customer::ActiveModel {
            kind: Set(CustomerKind::Internal),
            segment: Set(if head {
                Segment::Manager
            } else {
                Segment::Employee
            }),
            name: Set(name.into()),
            organization: Set(Some("Northwind Clinics".into())),
            email: Set(email),
            phone: Set(Some(format!("+1 555 01{:02}", i))),
            status: Set(CustomerStatus::Active),
            customer_since: Set(at(
                hired.year_ce().1 as i32,
                hired.month0() + 1,
                hired.day0() + 1,
                9,
            )),
            lifetime_value_cents: Set(0),
            health_score: Set(55 + rng.below(45) as i32),
            internal_notes: Set(head.then(|| format!("Heads {}.", DEPARTMENTS[dept].name))),
            department_id: Set(Some(dept_ids[dept])),
            title: Set(Some(title.into())),
            hire_date: Set(Some(hired)),
            version: Set(1),
            created_at: Set(founded),
            updated_at: Set(founded),
            ..Default::default()
        }
        .insert(db)
        .await?;
        if head {
            let mut d: department::ActiveModel = department::Entity::find_by_id(dept_ids[dept])
                .one(db)
                .await?
                .ok_or_else(|| DbErr::RecordNotFound("department".into()))?
                .into();
            d.head_id = Set(Some(row.id));
            d.update(db).await?;
        }
        employees.push((row.id, dept));
    }
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
            customer_since: Set(founded),
            lifetime_value_cents: Set(0),
            health_score: Set(80),
            internal_notes: Set(Some(format!("{segment:?}: quarterly report by e-mail."))),
            department_id: Set(None),
            title: Set(None),
            hire_date: Set(None),
            version: Set(1),
            created_at: Set(founded),
            updated_at: Set(founded),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }

    // External customers.
    let mut externals: Vec<(i32, Segment)> = Vec::new();
    let mut n = 0usize;
    for &(segment, org, count) in EXTERNAL {
        for _ in 0..count {
            let (name, email) = if n == 0 {
                ("Olivia Hart".to_owned(), DEMO_CLIENT_EMAIL.to_owned())
            } else {
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
            };
            let since = founded + Duration::days(rng.below(2400) as i64);
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
                internal_notes: Set(rng.chance(40).then(|| {
                    (*rng.pick(&[
                        "Prefers e-mail; call only for emergencies.",
                        "Negotiated a volume discount last year.",
                        "Complained twice about wait times.",
                        "Potential upsell to Wellness Plan Plus.",
                        "Pays invoices late; check before approving credit.",
                    ]))
                    .to_owned()
                })),
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
            n += 1;
        }
    }

    // Products and purchases (revenue feeds each buyer's lifetime value).
    let mut product_rows = Vec::new();
    for &(sku, name, description, price, cost, discount, active) in PRODUCTS {
        let row = product::ActiveModel {
            sku: Set(sku.into()),
            name: Set(name.into()),
            description: Set(description.into()),
            list_price_cents: Set(price),
            unit_cost_cents: Set(cost),
            employee_discount_pct: Set(discount),
            active: Set(active),
            created_at: Set(founded),
            ..Default::default()
        }
        .insert(db)
        .await?;
        product_rows.push(row);
    }
    let start = at(2026, 5, 1, 8);
    let mut purchases = Vec::new();
    let mut revenue: std::collections::HashMap<i32, i64> = Default::default();
    for i in 0..160 {
        // Most buyers are external; every tenth purchase is an employee using the discount.
        let (buyer, discount) = if i % 10 == 9 {
            let (id, _) = *rng.pick(&employees);
            (id, true)
        } else {
            let (id, segment) = *rng.pick(&externals);
            if segment == Segment::Press {
                continue; // reporters buy nothing
            }
            (id, false)
        };
        let p = rng.pick(&product_rows[..7]);
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
            purchased_at: Set(start + Duration::hours(rng.below(24 * 183) as i64)),
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

    // Interactions: six months of internal requests and external contacts.
    let hours_for = |provider: usize| -> i64 {
        AGREEMENTS
            .iter()
            .find(|a| a.0 == provider)
            .map_or(24, |a| i64::from(a.3))
    };
    let staff_of = |dept: usize| -> Vec<i32> {
        employees
            .iter()
            .filter(|e| e.1 == dept)
            .map(|e| e.0)
            .collect()
    };
    let internal_topics: &[(usize, InteractionKind, &str, &str)] = &[
        (
            2,
            InteractionKind::Incident,
            "Laptop will not boot",
            "Cannot work until the laptop is fixed.",
        ),
        (
            2,
            InteractionKind::Request,
            "New account for a starter",
            "Please create accounts before Monday.",
        ),
        (
            2,
            InteractionKind::Incident,
            "VPN drops every hour",
            "Remote work keeps disconnecting.",
        ),
        (
            1,
            InteractionKind::Request,
            "Training budget question",
            "Which courses does the training budget cover?",
        ),
        (
            1,
            InteractionKind::Inquiry,
            "Benefits enrolment",
            "How do I add my partner to the health plan?",
        ),
        (
            1,
            InteractionKind::Request,
            "Mediation request",
            "Requesting a mediated conversation with a colleague.",
        ),
        (
            4,
            InteractionKind::Request,
            "Qualified leads for Q4",
            "Sales needs a fresh list of qualified leads.",
        ),
        (
            4,
            InteractionKind::Request,
            "Flyer for the autumn campaign",
            "Please design the autumn flyer.",
        ),
        (
            9,
            InteractionKind::Request,
            "Components for clinic kits",
            "Assembly needs gloves and scopes by Thursday.",
        ),
        (
            7,
            InteractionKind::Request,
            "Quote approval for a kennel",
            "Please approve a 12 % discount quote.",
        ),
    ];
    let external_topics: &[(usize, InteractionKind, Channel, &str, &str)] = &[
        (
            5,
            InteractionKind::Inquiry,
            Channel::Email,
            "Question about the wellness plan",
            "Asked what the Plus plan covers.",
        ),
        (
            6,
            InteractionKind::Request,
            Channel::Phone,
            "Book a check-up",
            "Booked a check-up for next week.",
        ),
        (
            5,
            InteractionKind::Complaint,
            Channel::Chat,
            "Invoice charged twice",
            "Reported a duplicate charge on the invoice.",
        ),
        (
            3,
            InteractionKind::Purchase,
            Channel::InPerson,
            "Bought a wellness plan",
            "Signed up for a wellness plan.",
        ),
        (
            5,
            InteractionKind::Feedback,
            Channel::Portal,
            "Lovely staff",
            "Praised the staff at the clinic.",
        ),
        (
            3,
            InteractionKind::Inquiry,
            Channel::Email,
            "Volume pricing",
            "Asked for volume pricing for a kennel.",
        ),
        (
            6,
            InteractionKind::Request,
            Channel::Phone,
            "Reschedule appointment",
            "Moved an appointment to Friday.",
        ),
        (
            5,
            InteractionKind::Inquiry,
            Channel::Social,
            "Opening hours on holidays",
            "Asked about holiday opening hours.",
        ),
    ];
    let notes = [
        "Escalated once; customer was calm.",
        "Root cause documented in the IT wiki.",
        "Handled by the book.",
        "Needed a second visit; parts were late.",
        "Customer hinted at switching providers.",
    ];

    let mut rows: Vec<interaction::ActiveModel> = Vec::new();
    let push = |rows: &mut Vec<interaction::ActiveModel>,
                rng: &mut Rng,
                customer_id: i32,
                dept: usize,
                kind: InteractionKind,
                channel: Channel,
                subject: &str,
                summary: &str,
                opened: DateTime<Utc>,
                sla_hours: i64,
                late: bool,
                related: Option<i32>| {
        let staff = staff_of(dept);
        let handler = (!staff.is_empty()).then(|| *rng.pick(&staff));
        let due = opened + Duration::hours(sla_hours);
        let open_now = opened > at(2026, 10, 25, 0) && rng.chance(60);
        let took = if late {
            sla_hours + 1 + rng.below(sla_hours as u64 * 2 + 4) as i64
        } else {
            1 + rng.below((sla_hours as u64).max(2) - 1) as i64
        };
        let resolved = (!open_now).then(|| opened + Duration::hours(took));
        let status = match (resolved, rng.chance(50)) {
            (None, true) => InteractionStatus::Open,
            (None, false) => InteractionStatus::InProgress,
            (Some(_), true) => InteractionStatus::Closed,
            (Some(_), false) => InteractionStatus::Resolved,
        };
        let rated = resolved.is_some() && rng.chance(70);
        let satisfaction = rated.then(|| {
            if late {
                1 + rng.below(3) as i32
            } else {
                3 + rng.below(3) as i32
            }
        });
        let nps = rated.then(|| {
            if late {
                rng.below(7) as i32
            } else {
                6 + rng.below(5) as i32
            }
        });
        rows.push(interaction::ActiveModel {
            customer_id: Set(customer_id),
            department_id: Set(dept_ids[dept]),
            handler_id: Set(handler),
            channel: Set(channel),
            kind: Set(kind),
            subject: Set(subject.into()),
            summary: Set(summary.into()),
            internal_note: Set(rng.chance(50).then(|| (*rng.pick(&notes)).to_owned())),
            status: Set(status),
            opened_at: Set(opened),
            resolved_at: Set(resolved),
            sla_due_at: Set(Some(due)),
            satisfaction: Set(satisfaction),
            nps: Set(nps),
            rated_at: Set(rated
                .then(|| resolved.map(|r| r + Duration::hours(2)))
                .flatten()),
            related_to_id: Set(related),
            version: Set(1),
            updated_at: Set(resolved.unwrap_or(opened)),
            public_version: Set(1),
            public_updated_at: Set(resolved.unwrap_or(opened)),
            ..Default::default()
        });
    };

    for i in 0..150 {
        let (provider, kind, subject, summary) = *rng.pick(internal_topics);
        let (asker, _) = *rng.pick(&employees);
        let opened = start + Duration::hours(rng.below(24 * 180) as i64);
        let channel = *rng.pick(&[
            Channel::Email,
            Channel::Chat,
            Channel::Portal,
            Channel::InPerson,
        ]);
        let late = rng.chance(if provider == 2 { 25 } else { 12 }) || i % 29 == 0;
        push(
            &mut rows,
            &mut rng,
            asker,
            provider,
            kind,
            channel,
            subject,
            summary,
            opened,
            hours_for(provider),
            late,
            None,
        );
    }
    for _ in 0..170 {
        let (dept, kind, channel, subject, summary) = *rng.pick(external_topics);
        let (who, _) = *rng.pick(&externals);
        let opened = start + Duration::hours(rng.below(24 * 180) as i64);
        let late = rng.chance(10);
        push(
            &mut rows, &mut rng, who, dept, kind, channel, subject, summary, opened, 48, late, None,
        );
    }
    interaction::Entity::insert_many(rows).exec(db).await?;

    // The broken phone system: a receptionist's incident that IT resolved a day late …
    let (y, m, d) = PHONE_INCIDENT_DAY;
    let receptionist = employees
        .iter()
        .find(|e| e.1 == 6 && e.0 != employees[17].0)
        .map_or(employees[0].0, |e| e.0);
    let mut rows = Vec::new();
    push(
        &mut rows,
        &mut rng,
        receptionist,
        2,
        InteractionKind::Incident,
        Channel::InPerson,
        "Clinic phone system down",
        "Incoming calls ring out; receptionists cannot book appointments.",
        at(y, m, d, 8),
        4,
        true,
        None,
    );
    let incident = interaction::Entity::insert_many(rows)
        .exec(db)
        .await?
        .last_insert_id;
    // … and the callers who could not get through: a detractor cluster traced to it.
    let mut rows = Vec::new();
    for k in 0..12 {
        let (who, _) = externals[(k * 3 + 1) % externals.len()];
        let channel = *rng.pick(&[Channel::Email, Channel::Social, Channel::Chat]);
        push(
            &mut rows,
            &mut rng,
            who,
            5,
            InteractionKind::Complaint,
            channel,
            "Could not reach the clinic by phone",
            "Tried to call several times to book an appointment; nobody answered.",
            at(y, m, d, 9 + (k as u32 % 8)),
            24,
            true,
            incident,
        );
    }
    interaction::Entity::insert_many(rows).exec(db).await?;

    // Knowledge articles, public and internal.
    let articles: &[(&str, &str, Audience, usize)] = &[
        (
            "What the wellness plans cover",
            "Basic: two check-ups and core vaccines. Plus: adds dental cleaning and lab work.",
            Audience::Public,
            3,
        ),
        (
            "How to book or move an appointment",
            "Call the front desk, use the portal, or chat with us.",
            Audience::Public,
            6,
        ),
        (
            "Our opening hours",
            "Monday to Saturday, 8:00–19:00. Emergency line 24/7.",
            Audience::Public,
            5,
        ),
        (
            "Preparing your pet for dental cleaning",
            "No food after 22:00 the night before.",
            Audience::Public,
            5,
        ),
        (
            "Paying an invoice",
            "Pay by card in the portal or by bank transfer.",
            Audience::Public,
            7,
        ),
        (
            "Resetting the clinic phone system",
            "Power-cycle the PBX, then re-register the SIP trunks. Escalate to the carrier after 30 minutes.",
            Audience::Internal,
            2,
        ),
        (
            "Discount authority matrix",
            "Agents: up to 5 %. Sales: up to 12 %. Above that, Finance approves.",
            Audience::Internal,
            7,
        ),
        (
            "Handling a complaint about wait times",
            "Apologise, offer the next free slot, log the complaint with the root cause.",
            Audience::Internal,
            5,
        ),
        (
            "Onboarding checklist",
            "Accounts (IT), badge (Facilities), training plan (HR) before day one.",
            Audience::Internal,
            1,
        ),
        (
            "Lead qualification criteria",
            "A qualified lead has a named contact, a budget and a need within 90 days.",
            Audience::Internal,
            4,
        ),
        (
            "Clinic kit bill of materials",
            "Component list and supplier lead times for the Clinic Starter Kit.",
            Audience::Internal,
            8,
        ),
        (
            "Employee discount policy",
            "Employees get the listed discount on every active product, for their own pets.",
            Audience::Internal,
            1,
        ),
    ];
    let mut rows = Vec::new();
    for (i, &(title, body, audience, dept)) in articles.iter().enumerate() {
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
    seed_voice(db, &mut rng, &dept_ids, &employees, start).await
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
