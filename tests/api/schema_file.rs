//! The checked-in `schema.graphql` is exactly what the code generates.

#[test]
fn schema_graphql_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let on_disk = std::fs::read_to_string(&path).expect("schema.graphql exists");
    let generated = crm_gateway::graphql::sdl();
    assert!(
        on_disk == generated,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and commit it"
    );
}

/// `schema/public.graphql` (anonymous callers and clients) and `schema/employee.graphql` are
/// exactly what each tier is validated against.
#[tokio::test]
async fn tier_schema_files_match_the_code() {
    use crm_gateway::policy::Tier;
    let tiers = crm_gateway::graphql::tier_schemas()
        .await
        .expect("tier schemas");
    for (file, tier, flag) in [
        ("schema/public.graphql", Tier::Public, "public"),
        ("schema/employee.graphql", Tier::Internal, "employee"),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let on_disk = std::fs::read_to_string(&path).expect("tier schema file exists");
        assert!(
            on_disk == tiers.sdl(tier),
            "{file} is stale: run `./target/debug/crm-gateway schema --tier {flag} > {file}`"
        );
    }
    // Managers see the whole schema: nothing is pruned for them.
    let full =
        apollo_compiler::Schema::parse_and_validate(crm_gateway::graphql::sdl(), "s").unwrap();
    assert_eq!(tiers.sdl(Tier::Manager), full.to_string());
}
