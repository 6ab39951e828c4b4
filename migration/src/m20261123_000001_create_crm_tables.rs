//! The customer-relationship tables: departments, customers, service agreements, interactions,
//! products, purchases and knowledge articles, with the indexes their queries use.

use sea_orm_migration::{prelude::*, schema::*};

/// Creates every table of the first release.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Department {
    Table,
    Id,
    Name,
    Description,
    ParentId,
    HeadId,
    ServesExternal,
    BudgetCents,
    CreatedAt,
}

#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)] // column names, not a naming choice
enum Customer {
    Table,
    Id,
    Kind,
    Segment,
    Name,
    Organization,
    Email,
    Phone,
    Status,
    CustomerSince,
    LifetimeValueCents,
    HealthScore,
    InternalNotes,
    DepartmentId,
    Title,
    HireDate,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceAgreement {
    Table,
    Id,
    ProviderDepartmentId,
    ConsumerDepartmentId,
    Service,
    TargetTurnaroundHours,
    QualityTarget,
    Version,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Interaction {
    Table,
    Id,
    CustomerId,
    DepartmentId,
    HandlerId,
    Channel,
    Kind,
    Subject,
    Summary,
    InternalNote,
    Status,
    OpenedAt,
    ResolvedAt,
    SlaDueAt,
    Satisfaction,
    Nps,
    RatedAt,
    RelatedToId,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Product {
    Table,
    Id,
    Sku,
    Name,
    Description,
    ListPriceCents,
    UnitCostCents,
    EmployeeDiscountPct,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Purchase {
    Table,
    Id,
    CustomerId,
    ProductId,
    Quantity,
    UnitPriceCents,
    TotalCents,
    PurchasedAt,
}

#[derive(DeriveIden)]
enum KnowledgeArticle {
    Table,
    Id,
    Title,
    Body,
    Audience,
    DepartmentId,
    PublishedAt,
    UpdatedAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn index(name: &str, table: impl IntoIden, cols: &[&'static str]) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).to_owned();
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    stmt
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Department::Table)
                .col(pk_auto(Department::Id))
                .col(string_len_uniq(Department::Name, 120))
                .col(text(Department::Description))
                .col(integer_null(Department::ParentId))
                .col(integer_null(Department::HeadId))
                .col(boolean(Department::ServesExternal))
                .col(big_integer(Department::BudgetCents))
                .col(timestamp_with_time_zone(Department::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_department_parent",
                    (Department::Table, Department::ParentId),
                    (Department::Table, Department::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Customer::Table)
                .col(pk_auto(Customer::Id))
                .col(string_len(Customer::Kind, 16))
                .col(string_len(Customer::Segment, 32))
                .col(string_len(Customer::Name, 200))
                .col(string_len_null(Customer::Organization, 200))
                .col(string_len_uniq(Customer::Email, 254))
                .col(string_len_null(Customer::Phone, 40))
                .col(string_len(Customer::Status, 16))
                .col(timestamp_with_time_zone(Customer::CustomerSince))
                .col(big_integer(Customer::LifetimeValueCents))
                .col(integer(Customer::HealthScore))
                .col(text_null(Customer::InternalNotes))
                .col(integer_null(Customer::DepartmentId))
                .col(string_len_null(Customer::Title, 120))
                .col(date_null(Customer::HireDate))
                .col(integer(Customer::Version).default(1))
                .col(timestamp_with_time_zone(Customer::CreatedAt))
                .col(timestamp_with_time_zone(Customer::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_customer_department",
                    (Customer::Table, Customer::DepartmentId),
                    (Department::Table, Department::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ServiceAgreement::Table)
                .col(pk_auto(ServiceAgreement::Id))
                .col(integer(ServiceAgreement::ProviderDepartmentId))
                .col(integer(ServiceAgreement::ConsumerDepartmentId))
                .col(string_len(ServiceAgreement::Service, 200))
                .col(integer(ServiceAgreement::TargetTurnaroundHours))
                .col(double(ServiceAgreement::QualityTarget))
                .col(integer(ServiceAgreement::Version).default(1))
                .col(timestamp_with_time_zone(ServiceAgreement::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_agreement_provider",
                    (
                        ServiceAgreement::Table,
                        ServiceAgreement::ProviderDepartmentId,
                    ),
                    (Department::Table, Department::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_agreement_consumer",
                    (
                        ServiceAgreement::Table,
                        ServiceAgreement::ConsumerDepartmentId,
                    ),
                    (Department::Table, Department::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Interaction::Table)
                .col(pk_auto(Interaction::Id))
                .col(integer(Interaction::CustomerId))
                .col(integer(Interaction::DepartmentId))
                .col(integer_null(Interaction::HandlerId))
                .col(string_len(Interaction::Channel, 16))
                .col(string_len(Interaction::Kind, 16))
                .col(string_len(Interaction::Subject, 200))
                .col(text(Interaction::Summary))
                .col(text_null(Interaction::InternalNote))
                .col(string_len(Interaction::Status, 16))
                .col(timestamp_with_time_zone(Interaction::OpenedAt))
                .col(timestamp_with_time_zone_null(Interaction::ResolvedAt))
                .col(timestamp_with_time_zone_null(Interaction::SlaDueAt))
                .col(integer_null(Interaction::Satisfaction))
                .col(integer_null(Interaction::Nps))
                .col(timestamp_with_time_zone_null(Interaction::RatedAt))
                .col(integer_null(Interaction::RelatedToId))
                .col(integer(Interaction::Version).default(1))
                .col(timestamp_with_time_zone(Interaction::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_interaction_customer",
                    (Interaction::Table, Interaction::CustomerId),
                    (Customer::Table, Customer::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_interaction_department",
                    (Interaction::Table, Interaction::DepartmentId),
                    (Department::Table, Department::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_interaction_handler",
                    (Interaction::Table, Interaction::HandlerId),
                    (Customer::Table, Customer::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_interaction_related",
                    (Interaction::Table, Interaction::RelatedToId),
                    (Interaction::Table, Interaction::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Product::Table)
                .col(pk_auto(Product::Id))
                .col(string_len_uniq(Product::Sku, 40))
                .col(string_len(Product::Name, 200))
                .col(text(Product::Description))
                .col(big_integer(Product::ListPriceCents))
                .col(big_integer(Product::UnitCostCents))
                .col(integer(Product::EmployeeDiscountPct))
                .col(boolean(Product::Active))
                .col(timestamp_with_time_zone(Product::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Purchase::Table)
                .col(pk_auto(Purchase::Id))
                .col(integer(Purchase::CustomerId))
                .col(integer(Purchase::ProductId))
                .col(integer(Purchase::Quantity))
                .col(big_integer(Purchase::UnitPriceCents))
                .col(big_integer(Purchase::TotalCents))
                .col(timestamp_with_time_zone(Purchase::PurchasedAt))
                .foreign_key(&mut fk(
                    "fk_purchase_customer",
                    (Purchase::Table, Purchase::CustomerId),
                    (Customer::Table, Customer::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_purchase_product",
                    (Purchase::Table, Purchase::ProductId),
                    (Product::Table, Product::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(KnowledgeArticle::Table)
                .col(pk_auto(KnowledgeArticle::Id))
                .col(string_len(KnowledgeArticle::Title, 200))
                .col(text(KnowledgeArticle::Body))
                .col(string_len(KnowledgeArticle::Audience, 16))
                .col(integer(KnowledgeArticle::DepartmentId))
                .col(timestamp_with_time_zone(KnowledgeArticle::PublishedAt))
                .col(timestamp_with_time_zone(KnowledgeArticle::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_article_department",
                    (KnowledgeArticle::Table, KnowledgeArticle::DepartmentId),
                    (Department::Table, Department::Id),
                ))
                .to_owned(),
        )
        .await?;

        // Indexes follow the queries: every foreign key that a relation loader filters on,
        // plus the keys that list filters and orderings use.
        for stmt in [
            index("idx_department_parent", Department::Table, &["parent_id"]),
            index(
                "idx_customer_department",
                Customer::Table,
                &["department_id"],
            ),
            index(
                "idx_customer_kind_segment",
                Customer::Table,
                &["kind", "segment"],
            ),
            index("idx_customer_status", Customer::Table, &["status"]),
            index(
                "idx_agreement_provider",
                ServiceAgreement::Table,
                &["provider_department_id"],
            ),
            index(
                "idx_agreement_consumer",
                ServiceAgreement::Table,
                &["consumer_department_id"],
            ),
            index(
                "idx_interaction_customer",
                Interaction::Table,
                &["customer_id", "opened_at"],
            ),
            index(
                "idx_interaction_department",
                Interaction::Table,
                &["department_id", "status", "opened_at"],
            ),
            index(
                "idx_interaction_handler",
                Interaction::Table,
                &["handler_id"],
            ),
            index(
                "idx_interaction_related",
                Interaction::Table,
                &["related_to_id"],
            ),
            index("idx_interaction_opened", Interaction::Table, &["opened_at"]),
            index(
                "idx_purchase_customer",
                Purchase::Table,
                &["customer_id", "purchased_at"],
            ),
            index("idx_purchase_product", Purchase::Table, &["product_id"]),
            index(
                "idx_article_department",
                KnowledgeArticle::Table,
                &["department_id"],
            ),
            index(
                "idx_article_audience",
                KnowledgeArticle::Table,
                &["audience"],
            ),
        ] {
            m.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            KnowledgeArticle::Table.into_iden(),
            Purchase::Table.into_iden(),
            Product::Table.into_iden(),
            Interaction::Table.into_iden(),
            ServiceAgreement::Table.into_iden(),
            Customer::Table.into_iden(),
            Department::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
