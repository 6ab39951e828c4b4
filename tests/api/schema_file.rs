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

/// What anonymous callers and clients can introspect speaks only of what they see: no
/// internal-only type, field, argument, input field or enum value is named, not even in a
/// description, and no description tells what employees get.
#[tokio::test]
async fn the_public_schema_names_nothing_internal_even_in_descriptions() {
    use std::collections::BTreeSet;

    use apollo_compiler::schema::ExtendedType;
    use crm_gateway::policy::Tier;
    let tiers = crm_gateway::graphql::tier_schemas()
        .await
        .expect("tier schemas");
    let names = |tier: Tier| {
        let mut out = BTreeSet::new();
        for (name, ty) in &tiers.of(tier).types {
            out.insert(name.to_string());
            let members: Vec<String> = match ty {
                ExtendedType::Object(o) => o
                    .fields
                    .values()
                    .flat_map(|f| {
                        std::iter::once(f.name.to_string())
                            .chain(f.arguments.iter().map(|a| a.name.to_string()))
                    })
                    .collect(),
                ExtendedType::InputObject(i) => i.fields.keys().map(|k| k.to_string()).collect(),
                ExtendedType::Enum(e) => e.values.keys().map(|k| k.to_string()).collect(),
                _ => Vec::new(),
            };
            out.extend(members);
        }
        out
    };
    let public = names(Tier::Public);
    let internal: Vec<String> = names(Tier::Manager).difference(&public).cloned().collect();
    assert!(
        internal.iter().any(|n| n == "internalNotes"),
        "the comparison is not vacuous"
    );
    let text = tiers.sdl(Tier::Public);
    let words: BTreeSet<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .collect();
    // Internal-only names that are also ordinary words public descriptions use in their
    // ordinary sense ("valid from … to", "an internal customer", "resolved", "service").
    let ordinary = ["from", "to", "internal", "level", "resolved", "service"];
    for name in internal.iter().filter(|n| !ordinary.contains(&n.as_str())) {
        assert!(
            !words.contains(name.as_str()),
            "the public schema names `{name}`"
        );
    }
    let lower = text.to_lowercase();
    for phrase in [
        "internal note",
        "for employees",
        "employees can",
        "handler",
        "(for outsiders)",
    ] {
        assert!(!lower.contains(phrase), "the public schema says `{phrase}`");
    }
}
