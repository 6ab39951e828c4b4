//! The guard that makes hidden fields truly absent.
//!
//! async-graphql's `visible` attribute only filters introspection; a hidden field can still be
//! selected. So at start-up we ask the schema itself, through introspection, what each
//! [`Tier`] sees (the same `policy::visible` functions decide), and on every request this
//! extension walks the parsed document against the caller's view *before* async-graphql's own
//! validation. Anything outside the view fails exactly like a name that does not exist — same
//! message, same code, no "did you mean" suggestions (which could name hidden fields).
//!
//! The extension also stamps `extensions.code` on parse and validation errors.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use async_graphql::{
    Name, ObjectType, Pos, Request, Schema, ServerError, ServerResult, SubscriptionType,
    ValidationResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation},
    parser::types::{BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, Type},
};
use async_graphql_value::{ConstValue, Value};
use serde::Deserialize;

use crate::{
    auth::Caller,
    policy::{self, Tier, TierOverride},
};

/// `extensions.code` of a document that does not parse.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// `extensions.code` of a document that does not validate against the caller's schema.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// A field as one tier sees it: its named result type and its arguments' named types.
#[derive(Debug, Clone, Default)]
pub struct FieldShape {
    /// Named (unwrapped) result type.
    pub ty: String,
    /// Argument name to named type.
    pub args: BTreeMap<String, String>,
}

/// A type as one tier sees it.
#[derive(Debug, Clone, Default)]
pub struct TypeShape {
    /// `OBJECT`, `SCALAR`, `INPUT_OBJECT`, …
    pub kind: String,
    /// Output fields, for objects and interfaces.
    pub fields: BTreeMap<String, FieldShape>,
    /// Input fields to named types, for input objects.
    pub input_fields: BTreeMap<String, String>,
    /// Values, for enums.
    pub enum_values: BTreeSet<String>,
}

/// Everything one tier may name in a document.
#[derive(Debug, Clone, Default)]
pub struct VisibleSchema {
    /// Visible types by name.
    pub types: BTreeMap<String, TypeShape>,
    /// Root operation type names.
    pub query: String,
    /// Mutation root, if any is visible.
    pub mutation: Option<String>,
    /// Subscription root, if any is visible.
    pub subscription: Option<String>,
}

impl VisibleSchema {
    fn field(&self, parent: &str, name: &str) -> Option<&FieldShape> {
        self.types.get(parent)?.fields.get(name)
    }
}

/// The visible schema of every tier, computed once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Views(Arc<HashMap<Tier, VisibleSchema>>);

impl Views {
    /// The view of `tier`.
    pub fn of(&self, tier: Tier) -> Option<&VisibleSchema> {
        self.0.get(&tier)
    }

    /// Fields visible at `tier` but not to the public: what an audit records.
    pub fn internal_only(&self, tier: Tier, type_name: &str, field: &str) -> bool {
        let public = self
            .of(Tier::Public)
            .and_then(|v| v.field(type_name, field))
            .is_some();
        !public
            && self
                .of(tier)
                .and_then(|v| v.field(type_name, field))
                .is_some()
    }

    /// Introspects `schema` once per tier.
    pub async fn compute<Q, M, S>(schema: &Schema<Q, M, S>) -> Result<Self, String>
    where
        Q: ObjectType + 'static,
        M: ObjectType + 'static,
        S: SubscriptionType + 'static,
    {
        let mut views = HashMap::new();
        for tier in Tier::ALL {
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
            views.insert(tier, raw.into_view());
        }
        Ok(Views(Arc::new(views)))
    }
}

const INTROSPECTION: &str = r#"
query {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      name kind
      fields(includeDeprecated: true) { name type { ...T } args { name type { ...T } } }
      inputFields { name type { ...T } }
      enumValues(includeDeprecated: true) { name }
    }
  }
}
fragment T on __Type { name ofType { name ofType { name ofType { name ofType { name } } } } }
"#;

#[derive(Deserialize)]
struct RawRoot {
    #[serde(rename = "__schema")]
    schema: RawSchema,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSchema {
    query_type: RawName,
    mutation_type: Option<RawName>,
    subscription_type: Option<RawName>,
    types: Vec<RawType>,
}

#[derive(Deserialize)]
struct RawName {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawType {
    name: String,
    kind: String,
    fields: Option<Vec<RawField>>,
    input_fields: Option<Vec<RawInput>>,
    enum_values: Option<Vec<RawName>>,
}

#[derive(Deserialize)]
struct RawField {
    name: String,
    #[serde(rename = "type")]
    ty: RawTypeRef,
    args: Vec<RawInput>,
}

#[derive(Deserialize)]
struct RawInput {
    name: String,
    #[serde(rename = "type")]
    ty: RawTypeRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTypeRef {
    name: Option<String>,
    of_type: Option<Box<RawTypeRef>>,
}

impl RawTypeRef {
    fn named(&self) -> String {
        match (&self.name, &self.of_type) {
            (Some(name), _) => name.clone(),
            (None, Some(inner)) => inner.named(),
            (None, None) => String::new(),
        }
    }
}

impl RawRoot {
    fn into_view(self) -> VisibleSchema {
        let s = self.schema;
        let types = s
            .types
            .into_iter()
            .map(|t| {
                let fields = t
                    .fields
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| {
                        let args = f.args.into_iter().map(|a| (a.name, a.ty.named())).collect();
                        (
                            f.name,
                            FieldShape {
                                ty: f.ty.named(),
                                args,
                            },
                        )
                    })
                    .collect();
                let input_fields = t
                    .input_fields
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| (f.name, f.ty.named()))
                    .collect();
                let enum_values = t
                    .enum_values
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| v.name)
                    .collect();
                (
                    t.name,
                    TypeShape {
                        kind: t.kind,
                        fields,
                        input_fields,
                        enum_values,
                    },
                )
            })
            .collect();
        VisibleSchema {
            types,
            query: s.query_type.name,
            mutation: s.mutation_type.map(|n| n.name),
            subscription: s.subscription_type.map(|n| n.name),
        }
    }
}

/// Walks `doc` against `view`; returns the first violation as a validation error.
pub fn check_document(
    doc: &ExecutableDocument,
    variables: &Variables,
    view: &VisibleSchema,
) -> Result<Vec<(String, String)>, ServerError> {
    let mut walker = Walker {
        view,
        selected: Vec::new(),
    };
    for (_, fragment) in doc.fragments.iter() {
        let on = &fragment.node.type_condition.node.on;
        walker.require_type(&on.node, on.pos)?;
        walker.selection_set(&on.node, &fragment.node.selection_set.node)?;
    }
    for (_, operation) in doc.operations.iter() {
        let op = &operation.node;
        for var in &op.variable_definitions {
            let ty = named(&var.node.var_type.node);
            walker.require_type(ty, var.node.var_type.pos)?;
            if let Some(value) = variables.get(&var.node.name.node) {
                walker.const_value(&var.node.name.node, ty, value, var.pos)?;
            }
        }
        let root = match op.ty {
            OperationType::Query => Some(view.query.as_str()),
            OperationType::Mutation => view.mutation.as_deref(),
            OperationType::Subscription => view.subscription.as_deref(),
        };
        // A root the caller cannot see is left to async-graphql's own "not configured" error
        // when it truly does not exist; otherwise every field under it is unknown.
        let root = root.unwrap_or(match op.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        });
        walker.selection_set(root, &op.selection_set.node)?;
    }
    Ok(walker.selected)
}

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

fn unknown(message: String, pos: Pos) -> ServerError {
    coded(ServerError::new(message, Some(pos)), VALIDATION_FAILED)
}

struct Walker<'a> {
    view: &'a VisibleSchema,
    selected: Vec<(String, String)>,
}

impl Walker<'_> {
    fn require_type(&self, name: &str, pos: Pos) -> ServerResult<()> {
        if self.view.types.contains_key(name) {
            Ok(())
        } else {
            Err(unknown(format!("Unknown type \"{name}\""), pos))
        }
    }

    fn selection_set(&mut self, parent: &str, set: &SelectionSet) -> ServerResult<()> {
        let Some(parent_shape) = self.view.types.get(parent) else {
            return Ok(()); // already reported, or a root left to async-graphql
        };
        if !matches!(parent_shape.kind.as_str(), "OBJECT" | "INTERFACE" | "UNION") {
            return Ok(()); // a selection on a leaf: async-graphql reports it
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    if name.starts_with("__") {
                        continue; // meta fields; introspection is filtered by visibility itself
                    }
                    let Some(shape) = self.view.field(parent, name) else {
                        return Err(unknown(
                            format!("Unknown field \"{name}\" on type \"{parent}\"."),
                            field.pos,
                        ));
                    };
                    for (arg, value) in &field.node.arguments {
                        let Some(arg_ty) = shape.args.get(arg.node.as_str()) else {
                            return Err(unknown(
                                format!(
                                    "Unknown argument \"{}\" on field \"{name}\" of type \"{parent}\".",
                                    arg.node
                                ),
                                arg.pos,
                            ));
                        };
                        self.value(arg.node.as_str(), arg_ty, &value.node, value.pos)?;
                    }
                    self.selected.push((parent.to_owned(), name.to_owned()));
                    self.selection_set(&shape.ty, &field.node.selection_set.node)?;
                }
                Selection::InlineFragment(fragment) => {
                    let ty = match &fragment.node.type_condition {
                        Some(cond) => {
                            self.require_type(&cond.node.on.node, cond.pos)?;
                            cond.node.on.node.as_str()
                        }
                        None => parent,
                    };
                    self.selection_set(ty, &fragment.node.selection_set.node)?;
                }
                // Fragment definitions are walked once, from the document's fragment list.
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    fn input_field<'s>(
        &'s self,
        arg: &str,
        ty: &str,
        key: &Name,
        pos: Pos,
    ) -> ServerResult<Option<&'s str>> {
        let Some(shape) = self.view.types.get(ty) else {
            return Ok(None);
        };
        if shape.kind != "INPUT_OBJECT" {
            return Ok(None);
        }
        match shape.input_fields.get(key.as_str()) {
            Some(field_ty) => Ok(Some(field_ty.as_str())),
            None => Err(unknown(
                format!(
                    "Invalid value for argument \"{arg}\", unknown field \"{key}\" of type \"{ty}\""
                ),
                pos,
            )),
        }
    }

    fn enum_value(&self, arg: &str, ty: &str, value: &str, pos: Pos) -> ServerResult<()> {
        match self.view.types.get(ty) {
            Some(shape) if shape.kind == "ENUM" && !shape.enum_values.contains(value) => {
                Err(unknown(
                    format!(
                        "Invalid value for argument \"{arg}\", enumeration type \"{ty}\" does not contain the value \"{value}\""
                    ),
                    pos,
                ))
            }
            _ => Ok(()),
        }
    }

    fn value(&self, arg: &str, ty: &str, value: &Value, pos: Pos) -> ServerResult<()> {
        match value {
            Value::Object(map) => {
                for (key, inner) in map {
                    if let Some(field_ty) = self.input_field(arg, ty, key, pos)? {
                        self.value(arg, field_ty, inner, pos)?;
                    }
                }
                Ok(())
            }
            Value::List(items) => items.iter().try_for_each(|v| self.value(arg, ty, v, pos)),
            Value::Enum(name) => self.enum_value(arg, ty, name, pos),
            _ => Ok(()),
        }
    }

    fn const_value(&self, arg: &str, ty: &str, value: &ConstValue, pos: Pos) -> ServerResult<()> {
        match value {
            ConstValue::Object(map) => {
                for (key, inner) in map {
                    if let Some(field_ty) = self.input_field(arg, ty, key, pos)? {
                        self.const_value(arg, field_ty, inner, pos)?;
                    }
                }
                Ok(())
            }
            ConstValue::List(items) => items
                .iter()
                .try_for_each(|v| self.const_value(arg, ty, v, pos)),
            // Variables arrive as JSON, where enum values are strings.
            ConstValue::Enum(name) => self.enum_value(arg, ty, name, pos),
            ConstValue::String(text) => self.enum_value(arg, ty, text, pos),
            _ => Ok(()),
        }
    }
}

/// Adds `extensions.code` to an error that has none.
pub fn coded(mut err: ServerError, code: &str) -> ServerError {
    let has_code = err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", code);
    }
    err
}

/// Callback told which internal-only fields a request selected (the access audit).
pub type ReadObserver = Arc<dyn Fn(&Caller, Option<&str>, Vec<String>) + Send + Sync>;

/// The extension factory: the guard with the views of every tier.
#[derive(Clone)]
pub struct VisibilityGuard {
    views: Views,
    observer: Option<ReadObserver>,
}

impl VisibilityGuard {
    /// A guard enforcing `views`, telling `observer` about internal reads.
    pub fn new(views: Views, observer: Option<ReadObserver>) -> Self {
        Self { views, observer }
    }
}

impl ExtensionFactory for VisibilityGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for VisibilityGuard {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next
            .run(ctx, query, variables)
            .await
            .map_err(|e| coded(e, PARSE_FAILED))?;
        let anonymous = Caller::default();
        let caller = ctx.data_opt::<Caller>().unwrap_or(&anonymous);
        let tier = match ctx.data_opt::<TierOverride>() {
            Some(TierOverride(tier)) => *tier,
            None => policy::tier(caller),
        };
        // Fail closed: without a view for the tier nothing is allowed.
        let view = self.views.of(tier).ok_or_else(|| {
            coded(
                ServerError::new("schema views are not ready", None),
                "INTERNAL_SERVER_ERROR",
            )
        })?;
        let selected = check_document(&doc, variables, view)?;
        if let Some(observer) = &self.observer {
            let internal: BTreeSet<String> = selected
                .into_iter()
                .filter(|(ty, field)| self.views.internal_only(tier, ty, field))
                .map(|(ty, field)| format!("{ty}.{field}"))
                .collect();
            if !internal.is_empty() {
                let operation = doc
                    .operations
                    .iter()
                    .next()
                    .and_then(|(name, _)| name.map(|n| n.to_string()));
                observer(caller, operation.as_deref(), internal.into_iter().collect());
            }
        }
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| coded(e, VALIDATION_FAILED))
                .collect()
        })
    }
}

/// Names a position-less type set, for tests: every visible `Type.field` of a tier.
pub fn field_names(view: &VisibleSchema) -> HashSet<String> {
    view.types
        .iter()
        .flat_map(|(ty, shape)| {
            shape
                .fields
                .keys()
                .chain(shape.input_fields.keys())
                .map(move |f| format!("{ty}.{f}"))
        })
        .collect()
}
