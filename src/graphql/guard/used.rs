//! What an operation *uses* beside what it selects: internal-only input fields and enum values
//! in its arguments. Ordering or filtering by an internal value reads it as surely as selecting
//! it (sort by `LIFETIME_VALUE`, bisect with a filter), so the audit records both. Literals are
//! read once with the document's verdict; variables that can hold such a member are read per
//! request, from the values the request sends (or the default it leaves in place).

use std::collections::{BTreeSet, HashSet};

use apollo_compiler::{Name, Schema as Sdl, ast, executable::Operation, validation::Valid};
use async_graphql::{Value as Sent, Variables};

/// Whether `Type.member` (an input field or enum value) is internal-only for the tier.
pub type InternalInput<'a> = &'a dyn Fn(&str, &str) -> bool;

/// A variable whose type can hold an internal-only input field or enum value.
#[derive(Debug)]
pub struct AuditedVariable {
    name: Name,
    ty: Name,
    /// What its default value uses, recorded when the request leaves the variable out.
    default: Vec<String>,
}

/// Collects the internal-only members `value`, a literal of input type `ty`, uses; variables
/// inside it are read per request through their declared type.
pub fn literal(
    schema: &Valid<Sdl>,
    internal: InternalInput<'_>,
    ty: &str,
    value: &ast::Value,
    out: &mut BTreeSet<String>,
) {
    match value {
        ast::Value::Enum(v) => enum_value(schema, internal, ty, v.as_str(), out),
        ast::Value::List(items) => {
            for item in items {
                literal(schema, internal, ty, item, out);
            }
        }
        ast::Value::Object(fields) => {
            let Some(input) = schema.get_input_object(ty) else {
                return;
            };
            for (name, value) in fields {
                if internal(ty, name.as_str()) {
                    out.insert(format!("{ty}.{name}"));
                }
                if let Some(field) = input.fields.get(name) {
                    literal(schema, internal, field.ty.inner_named_type(), value, out);
                }
            }
        }
        _ => {}
    }
}

/// The variables of `operation` worth reading per request: those whose type can hold an
/// internal-only member. Usually none, and then a request costs nothing more.
pub fn audited_variables(
    schema: &Valid<Sdl>,
    internal: InternalInput<'_>,
    operation: &Operation,
) -> Vec<AuditedVariable> {
    operation
        .variables
        .iter()
        .filter(|v| {
            may_hold(
                schema,
                internal,
                v.ty.inner_named_type(),
                &mut HashSet::new(),
            )
        })
        .map(|v| {
            let ty = v.ty.inner_named_type().clone();
            let mut default = BTreeSet::new();
            if let Some(value) = &v.default_value {
                literal(schema, internal, &ty, value, &mut default);
            }
            AuditedVariable {
                name: v.name.clone(),
                ty,
                default: default.into_iter().collect(),
            }
        })
        .collect()
}

/// Collects what the request's `variables` (already coerced, so well typed) use into `out`.
pub fn sent(
    schema: &Valid<Sdl>,
    internal: InternalInput<'_>,
    audited: &[AuditedVariable],
    variables: &Variables,
    out: &mut BTreeSet<String>,
) {
    for variable in audited {
        match variables.get(variable.name.as_str()) {
            Some(value) => sent_value(schema, internal, &variable.ty, value, out),
            None => out.extend(variable.default.iter().cloned()),
        }
    }
}

fn sent_value(
    schema: &Valid<Sdl>,
    internal: InternalInput<'_>,
    ty: &str,
    value: &Sent,
    out: &mut BTreeSet<String>,
) {
    match value {
        // JSON carries an enum value as a string.
        Sent::Enum(v) => enum_value(schema, internal, ty, v.as_str(), out),
        Sent::String(v) => enum_value(schema, internal, ty, v, out),
        Sent::List(items) => {
            for item in items {
                sent_value(schema, internal, ty, item, out);
            }
        }
        Sent::Object(fields) => {
            let Some(input) = schema.get_input_object(ty) else {
                return;
            };
            for (name, value) in fields {
                if internal(ty, name.as_str()) {
                    out.insert(format!("{ty}.{name}"));
                }
                if let Some(field) = input.fields.get(name.as_str()) {
                    sent_value(schema, internal, field.ty.inner_named_type(), value, out);
                }
            }
        }
        _ => {}
    }
}

/// Records `Enum.VALUE` when `ty` is an enum and the value is internal-only (a string sent
/// for a `String` argument is never mistaken for one).
fn enum_value(
    schema: &Valid<Sdl>,
    internal: InternalInput<'_>,
    ty: &str,
    value: &str,
    out: &mut BTreeSet<String>,
) {
    if schema.get_enum(ty).is_some() && internal(ty, value) {
        out.insert(format!("{ty}.{value}"));
    }
}

/// Whether a value of input type `ty` can hold an internal-only member, at any depth.
fn may_hold<'s>(
    schema: &'s Valid<Sdl>,
    internal: InternalInput<'_>,
    ty: &'s str,
    seen: &mut HashSet<&'s str>,
) -> bool {
    if !seen.insert(ty) {
        return false;
    }
    if let Some(e) = schema.get_enum(ty) {
        return e.values.keys().any(|v| internal(ty, v.as_str()));
    }
    let Some(input) = schema.get_input_object(ty) else {
        return false;
    };
    input.fields.iter().any(|(name, field)| {
        internal(ty, name.as_str())
            || may_hold(schema, internal, field.ty.inner_named_type().as_str(), seen)
    })
}
