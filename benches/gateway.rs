//! Benchmarks with their baselines in the same process, printed as ratios (no assertions):
//!
//! 1. Keyset pagination against OFFSET, for a page deep in a large interaction table.
//! 2. A nested GraphQL query resolved through per-request batch loaders against the naive
//!    one-query-per-parent (N+1) baseline computing the same answer.
//!
//! Run: `cargo bench --bench gateway` (release build, SQLite in a temporary file).

use std::time::{Duration, Instant};

use chrono::{Duration as Span, TimeZone, Utc};
use crm_gateway::{
    app::AppState,
    auth::{Caller, CursorKey, Role, TokenVerifier, Viewer},
    config::Config,
    graphql::{Limits, batching::Batching, guard::Allowed, loaders::Loaders},
    policy::{Audience, DepartmentScope, OwnerScope},
    service::{self, page::PageRequest},
};
use entity::{
    enums::{Channel, InteractionKind, InteractionStatus},
    interaction,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

const EXTRA_INTERACTIONS: usize = 60_000;
const ROUNDS: u32 = 20;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn time<F, Fut, T>(rounds: u32, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut samples = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        std::hint::black_box(f().await);
        samples.push(start.elapsed());
    }
    median(samples)
}

async fn bulk_interactions(db: &DatabaseConnection) {
    let customers: Vec<i32> = entity::customer::Entity::find()
        .select_only()
        .column(entity::customer::Column::Id)
        .into_tuple()
        .all(db)
        .await
        .expect("customers");
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    for chunk in 0..EXTRA_INTERACTIONS / 1000 {
        let rows = (0..1000).map(|i| {
            let n = chunk * 1000 + i;
            let opened = start + Span::minutes(n as i64);
            interaction::ActiveModel {
                customer_id: Set(customers[n % customers.len()]),
                department_id: Set(1 + (n % 10) as i32),
                handler_id: Set(None),
                channel: Set(Channel::Email),
                kind: Set(InteractionKind::Inquiry),
                subject: Set(format!("bulk {n}")),
                summary: Set("bulk".into()),
                internal_note: Set(None),
                status: Set(InteractionStatus::Closed),
                opened_at: Set(opened),
                resolved_at: Set(Some(opened + Span::hours(2))),
                sla_due_at: Set(Some(opened + Span::hours(24))),
                satisfaction: Set(None),
                nps: Set(None),
                rated_at: Set(None),
                related_to_id: Set(None),
                version: Set(1),
                updated_at: Set(opened),
                public_version: Set(1),
                public_updated_at: Set(opened),
                ..Default::default()
            }
        });
        interaction::Entity::insert_many(rows)
            .exec(db)
            .await
            .expect("insert");
    }
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("crm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.display());
    let db = crm_gateway::db::connect_and_migrate(&url, 5)
        .await
        .expect("database");
    crm_gateway::seed::seed_if_empty(&db).await.expect("seed");
    bulk_interactions(&db).await;
    let total = interaction::Entity::find().count_rows(&db).await;
    println!("data: {total} interactions on SQLite\n");

    // 1. A page of 50 at depth 50 000: keyset (the gateway) against OFFSET (the baseline).
    let depth = 50_000u64;
    let by_id = || (service::interaction::InteractionOrder::Id, false);
    // Walk there through the API once, to hold the cursor a client would hold.
    let mut cursor: Option<String> = None;
    let mut seen = 0u64;
    let key = CursorKey::from_bytes([7; 32]);
    while seen < depth {
        let page = PageRequest::new(&key, Some(100), cursor.as_deref(), None, None).expect("page");
        let p = service::interaction::list(
            &db,
            OwnerScope::All,
            Audience::Internal,
            &Default::default(),
            by_id(),
            page,
        )
        .await
        .expect("walk");
        let take = ((depth - seen) as usize).min(p.items.len());
        cursor = Some(p.items[take - 1].0.seal(&key));
        seen += take as u64;
        if !p.has_next {
            break;
        }
    }
    let keyset = time(ROUNDS, || {
        let (db, cursor, key) = (db.clone(), cursor.clone(), key.clone());
        async move {
            let page =
                PageRequest::new(&key, Some(50), cursor.as_deref(), None, None).expect("page");
            service::interaction::list(
                &db,
                OwnerScope::All,
                Audience::Internal,
                &Default::default(),
                by_id(),
                page,
            )
            .await
            .expect("keyset")
            .items
            .len()
        }
    })
    .await;
    let offset = time(ROUNDS, || {
        let db = db.clone();
        async move {
            interaction::Entity::find()
                .order_by_asc(interaction::Column::Id)
                .offset(depth)
                .limit(51)
                .all(&db)
                .await
                .expect("offset")
                .len()
        }
    })
    .await;
    println!("page of 50 after row {depth}:");
    println!(
        "  baseline OFFSET       {:>9.3} ms",
        offset.as_secs_f64() * 1e3
    );
    println!(
        "  keyset (gateway)      {:>9.3} ms",
        keyset.as_secs_f64() * 1e3
    );
    println!(
        "  ratio baseline/keyset {:>9.1}x\n",
        offset.as_secs_f64() / keyset.as_secs_f64()
    );

    // 2. 50 customers → their 5 latest interactions → each one's department and handler.
    let mut config = Config::with_database(url.clone());
    config.jwt_secret = Some("bench-secret-bench-secret-bench-secret".into());
    let verifier = TokenVerifier::from_config(&config, None).expect("verifier");
    let cursors = CursorKey::from_config(&config, None).expect("cursor key");
    let (state, _writer) =
        AppState::new(db.clone(), verifier, cursors, Limits::from_config(&config))
            .await
            .expect("state");
    let caller = Caller(Some(Viewer {
        role: Role::Manager,
        customer_id: 1,
        expires_at: i64::MAX,
    }));
    let query = "{ customers(first: 50) { edges { node { id interactions(first: 5) { edges { node { id department { name } handler { name } } } } } } } }";
    let loaders_run = time(ROUNDS, || {
        let schema = state.schema.clone();
        let caller = caller.clone();
        let loaders = Loaders::new(&db, &caller, &Batching::Window(Duration::from_millis(2)));
        async move {
            let response = schema
                .execute(
                    caller,
                    Allowed::Any,
                    async_graphql::Request::new(query).data(loaders),
                )
                .await
                .response;
            assert!(response.errors.is_empty(), "{:?}", response.errors);
            response.data.to_string().len()
        }
    })
    .await;
    let naive = time(ROUNDS, || {
        let (db, key) = (db.clone(), key.clone());
        async move {
            let page = PageRequest::new(&key, Some(50), None, None, None).expect("page");
            let customers = service::customer::list(
                &db,
                OwnerScope::All,
                &Default::default(),
                (service::customer::CustomerOrder::Id, false),
                page,
            )
            .await
            .expect("customers");
            let mut names = 0usize;
            for (_, customer) in customers.items {
                let rows = interaction::Entity::find()
                    .filter(interaction::Column::CustomerId.eq(customer.id))
                    .order_by_desc(interaction::Column::OpenedAt)
                    .limit(5)
                    .all(&db)
                    .await
                    .expect("interactions");
                for row in rows {
                    let dept =
                        service::department::get(&db, DepartmentScope::All, row.department_id)
                            .await
                            .expect("dept");
                    names += dept.map_or(0, |d| d.name.len());
                    if let Some(h) = row.handler_id {
                        let handler = service::customer::get(&db, OwnerScope::All, h)
                            .await
                            .expect("handler");
                        names += handler.map_or(0, |c| c.name.len());
                    }
                }
            }
            names
        }
    })
    .await;
    println!("50 customers -> 5 interactions -> department + handler:");
    println!(
        "  baseline N+1 queries       {:>9.3} ms",
        naive.as_secs_f64() * 1e3
    );
    println!(
        "  GraphQL, batch loaders    {:>9.3} ms (whole request: parse, guard, execute, serialise)",
        loaders_run.as_secs_f64() * 1e3
    );
    println!(
        "  ratio baseline/gateway     {:>9.1}x",
        naive.as_secs_f64() / loaders_run.as_secs_f64()
    );
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}

trait CountRows {
    async fn count_rows(self, db: &DatabaseConnection) -> u64;
}

impl CountRows for sea_orm::Select<interaction::Entity> {
    async fn count_rows(self, db: &DatabaseConnection) -> u64 {
        use sea_orm::PaginatorTrait;
        self.count(db).await.expect("count")
    }
}
