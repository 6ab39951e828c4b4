//! The demo company is large enough to explore and seeded only once.

use std::collections::HashSet;

use entity::{
    customer, department,
    enums::{CustomerKind, Segment},
    interaction, service_agreement,
};
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::helpers::*;

both_backends! {
    async fn the_demo_company_covers_every_segment_and_is_seeded_once(backend) {
        let app = TestApp::seeded(backend).await;
        let db = &app.db;
        assert!(department::Entity::find().count(db).await.unwrap() >= 7);
        assert!(service_agreement::Entity::find().count(db).await.unwrap() >= 7);
        assert!(interaction::Entity::find().count(db).await.unwrap() >= 300);
        let customers = customer::Entity::find().all(db).await.unwrap();
        let internal = customers.iter().filter(|c| c.kind == CustomerKind::Internal).count();
        let external = customers.iter().filter(|c| c.kind == CustomerKind::External).count();
        assert!(internal >= 25 && external >= 40, "{internal} internal, {external} external");
        let segments: HashSet<Segment> = customers.iter().map(|c| c.segment).collect();
        assert_eq!(segments.len(), 10, "every segment is represented");
        assert!(customers.iter().all(|c| c.segment.kind() == c.kind));

        let again = crm_gateway::seed::seed_if_empty(db).await.unwrap();
        assert!(again.is_none());
        assert_eq!(customer::Entity::find().count(db).await.unwrap() as usize, customers.len());
    }
}
