//! The demo company's fixed catalogue: departments, agreements, staff, customer groups,
//! products, request topics and articles. Indices into [`DEPARTMENTS`] name departments.

use entity::enums::{Audience, Channel, InteractionKind, Segment};

/// A department: parents come first, so `parent` is an index into [`DEPARTMENTS`].
pub(super) struct Dept {
    pub name: &'static str,
    pub description: &'static str,
    pub parent: Option<usize>,
    pub external: bool,
    pub budget: i64,
}

pub(super) const DEPARTMENTS: &[Dept] = &[
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
pub(super) const AGREEMENTS: &[(usize, usize, &str, i32, f64)] = &[
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
pub(super) const EMPLOYEES: &[(&str, usize, &str, bool)] = &[
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
pub(super) const OTHER_INTERNAL: &[(&str, &str, Segment)] = &[
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

pub(super) const FIRST: &[&str] = &[
    "Olivia", "Liam", "Emma", "Oscar", "Isla", "Hugo", "Freya", "Arthur", "Zoe", "Milan", "Clara",
    "Jasper", "Nora", "Elias", "Lea", "Adam", "Ida", "Victor", "Alma", "Theo",
];
pub(super) const LAST: &[&str] = &[
    "Hart", "Svensson", "Costa", "Meyer", "Novak", "Laurent", "Byrne", "Horvat", "Silva", "Larsen",
    "Keller", "Moreno", "Dahl", "Quinn", "Ferreira", "Holm", "Marsh", "Ortega", "Winter", "Bauer",
];

/// (segment, organisation, how many)
pub(super) const EXTERNAL: &[(Segment, Option<&str>, usize)] = &[
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
pub(super) const PRODUCTS: &[(&str, &str, &str, i64, i64, i32, bool)] = &[
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

/// Requests between departments: (provider, kind, subject, summary).
pub(super) const INTERNAL_TOPICS: &[(usize, InteractionKind, &str, &str)] = &[
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

/// Contacts from outside: (department, kind, channel, subject, summary).
pub(super) const EXTERNAL_TOPICS: &[(usize, InteractionKind, Channel, &str, &str)] = &[
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

/// What staff note about an outside customer.
pub(super) const CUSTOMER_NOTES: &[&str] = &[
    "Prefers e-mail; call only for emergencies.",
    "Negotiated a volume discount last year.",
    "Complained twice about wait times.",
    "Potential upsell to Wellness Plan Plus.",
    "Pays invoices late; check before approving credit.",
];

/// Internal notes staff leave on interactions.
pub(super) const NOTES: &[&str] = &[
    "Escalated once; customer was calm.",
    "Root cause documented in the IT wiki.",
    "Handled by the book.",
    "Needed a second visit; parts were late.",
    "Customer hinted at switching providers.",
];

/// Knowledge articles: (title, body, audience, department).
pub(super) const ARTICLES: &[(&str, &str, Audience, usize)] = &[
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
