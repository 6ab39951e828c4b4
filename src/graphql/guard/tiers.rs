//! One schema per tier, derived at start-up from the same `policy::visible` functions that
//! shape introspection: the full SDL is parsed with apollo-compiler and every type, field,
//! argument, input field and enum value the tier's introspection does not show is removed.
//! What is left is the schema a caller of that tier is validated against — and the file a
//! reviewer reads (`schema/public.graphql`, `schema/employee.graphql`).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use apollo_compiler::{
    Schema as Sdl,
    schema::{ComponentName, ExtendedType},
    validation::Valid,
};
use async_graphql::{ObjectType, Request, Schema, SubscriptionType};
use serde::Deserialize;

use crate::policy::{Tier, TierOverride};

/// The validated schema of every tier.
#[derive(Clone)]
pub struct TierSchemas(Arc<HashMap<Tier, Valid<Sdl>>>);

impl std::fmt::Debug for TierSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TierSchemas").finish_non_exhaustive()
    }
}

impl TierSchemas {
    /// Introspects `schema` once per tier and prunes `full_sdl` to what each tier sees.
    pub async fn compute<Q, M, S>(schema: &Schema<Q, M, S>, full_sdl: &str) -> Result<Self, String>
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        let full = Sdl::parse_and_validate(full_sdl, "schema.graphql")
            .map_err(|e| format!("the full SDL does not validate: {e}"))?;
        let mut tiers = HashMap::new();
        for tier in Tier::ALL {
            let visible = introspect(schema, tier).await?;
            let pruned = prune(&full, &visible)
                .validate()
                .map_err(|e| format!("the {tier:?} schema does not validate: {e}"))?;
            tiers.insert(tier, pruned);
        }
        Ok(Self(Arc::new(tiers)))
    }

    /// The schema callers of `tier` are validated against.
    pub fn of(&self, tier: Tier) -> &Valid<Sdl> {
        // Every tier is inserted by `compute`; the only way to build this type.
        &self.0[&tier]
    }

    /// The SDL of `tier`, as checked into `schema/`.
    pub fn sdl(&self, tier: Tier) -> String {
        self.of(tier).to_string()
    }

    /// Whether `Type.field` exists for `tier` but not for the public: what the audit records.
    pub fn internal_only(&self, tier: Tier, type_name: &str, field: &str) -> bool {
        let has = |t: Tier| {
            self.of(t)
                .get_object(type_name)
                .is_some_and(|o| o.fields.contains_key(field))
        };
        has(tier) && !has(Tier::Public)
    }

    /// Whether `Type.member`, an input field or enum value, exists for `tier` but not for the
    /// public although the public has `Type`: what the audit records when a request uses it
    /// (to filter or order by an internal value). A type the public lacks entirely is reached
    /// only through a field, argument or member that is itself recorded.
    pub fn internal_input(&self, tier: Tier, type_name: &str, member: &str) -> bool {
        let has = |t: Tier| match self.of(t).types.get(type_name) {
            Some(ExtendedType::InputObject(input)) => Some(input.fields.contains_key(member)),
            Some(ExtendedType::Enum(e)) => Some(e.values.contains_key(member)),
            _ => None,
        };
        has(tier) == Some(true) && has(Tier::Public) == Some(false)
    }

    /// Whether the argument `arg` of `Type.field` exists for `tier` but not for the public
    /// although the public has `Type.field`: recorded like an internal input field.
    pub fn internal_argument(&self, tier: Tier, type_name: &str, field: &str, arg: &str) -> bool {
        let has = |t: Tier| {
            let definition = self.of(t).type_field(type_name, field).ok()?;
            Some(definition.arguments.iter().any(|a| a.name.as_str() == arg))
        };
        has(tier) == Some(true) && has(Tier::Public) == Some(false)
    }

    /// Object types of `tier` (introspection types excluded) with their field names.
    pub fn object_fields(&self, tier: Tier) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = self
            .of(tier)
            .types
            .iter()
            .filter(|(name, _)| !name.starts_with("__"))
            .filter_map(|(name, ty)| match ty {
                ExtendedType::Object(object) => Some((
                    name.to_string(),
                    object.fields.keys().map(|f| f.to_string()).collect(),
                )),
                _ => None,
            })
            .collect();
        out.sort();
        out
    }
}

/// Names one tier's introspection shows.
#[derive(Debug, Default)]
struct Visible {
    /// Type name to its member names: fields, input fields or enum values.
    members: HashMap<String, HashSet<String>>,
    /// `Type.field` to the names of its arguments.
    args: HashMap<String, HashSet<String>>,
}

const INTROSPECTION: &str = r#"
query {
  __schema {
    types {
      name
      fields(includeDeprecated: true) { name args { name } }
      inputFields { name }
      enumValues(includeDeprecated: true) { name }
    }
  }
}
"#;

#[derive(Deserialize)]
struct RawRoot {
    #[serde(rename = "__schema")]
    schema: RawSchema,
}

#[derive(Deserialize)]
struct RawSchema {
    types: Vec<RawType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawType {
    name: String,
    fields: Option<Vec<RawField>>,
    input_fields: Option<Vec<RawName>>,
    enum_values: Option<Vec<RawName>>,
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    args: Vec<RawName>,
}

#[derive(Deserialize)]
struct RawName {
    name: String,
}

async fn introspect<Q, M, S>(schema: &Schema<Q, M, S>, tier: Tier) -> Result<Visible, String>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let response = schema
        .execute(Request::new(INTROSPECTION).data(TierOverride(tier)))
        .await;
    if !response.errors.is_empty() {
        return Err(format!("introspection failed: {:?}", response.errors));
    }
    let json = response
        .data
        .into_json()
        .map_err(|e| format!("introspection result: {e}"))?;
    let raw: RawRoot =
        serde_json::from_value(json).map_err(|e| format!("introspection result: {e}"))?;
    let mut visible = Visible::default();
    for ty in raw.schema.types {
        let mut members = HashSet::new();
        for field in ty.fields.into_iter().flatten() {
            let args = field.args.into_iter().map(|a| a.name).collect();
            visible
                .args
                .insert(format!("{}.{}", ty.name, field.name), args);
            members.insert(field.name);
        }
        let others = ty.input_fields.into_iter().chain(ty.enum_values).flatten();
        members.extend(others.map(|n| n.name));
        visible.members.insert(ty.name, members);
    }
    Ok(visible)
}

/// `full` without anything `visible` does not name.
fn prune(full: &Valid<Sdl>, visible: &Visible) -> Sdl {
    let mut schema = full.as_ref().clone();
    schema
        .types
        .retain(|name, ty| ty.is_built_in() || visible.members.contains_key(name.as_str()));
    let types: HashSet<String> = schema.types.keys().map(|n| n.to_string()).collect();
    let keep_type = |n: &ComponentName| types.contains(n.name.as_str());
    for (name, ty) in schema.types.iter_mut() {
        let Some(members) = visible.members.get(name.as_str()) else {
            continue; // built-in: kept whole
        };
        let keep = |n: &str| members.contains(n);
        let args = |field: &str| visible.args.get(&format!("{name}.{field}"));
        match ty {
            ExtendedType::Object(object) => {
                let object = object.make_mut();
                object.fields.retain(|f, _| keep(f));
                for (field, def) in object.fields.iter_mut() {
                    let allowed = args(field);
                    def.make_mut()
                        .arguments
                        .retain(|a| allowed.is_some_and(|set| set.contains(a.name.as_str())));
                }
                object.implements_interfaces.retain(keep_type);
            }
            ExtendedType::Interface(interface) => {
                let interface = interface.make_mut();
                interface.fields.retain(|f, _| keep(f));
                interface.implements_interfaces.retain(keep_type);
            }
            ExtendedType::Union(union) => union.make_mut().members.retain(keep_type),
            ExtendedType::Enum(e) => e.make_mut().values.retain(|v, _| keep(v)),
            ExtendedType::InputObject(input) => input.make_mut().fields.retain(|f, _| keep(f)),
            ExtendedType::Scalar(_) => {}
        }
    }
    // A root with no field left does not exist for the tier.
    let empty = |name: &ComponentName| {
        schema
            .get_object(name.name.as_str())
            .is_none_or(|o| o.fields.is_empty())
    };
    let mutation_gone = schema
        .schema_definition
        .mutation
        .as_ref()
        .is_some_and(empty);
    let subscription_gone = schema
        .schema_definition
        .subscription
        .as_ref()
        .is_some_and(empty);
    let definition = schema.schema_definition.make_mut();
    if mutation_gone {
        definition.mutation = None;
    }
    if subscription_gone {
        definition.subscription = None;
    }
    schema
}
