//! apollo-compiler's diagnostics in the shape async-graphql's errors have: one message per
//! problem, a position, `extensions.code`, and never a "did you mean" suggestion (which could
//! name something the caller's tier does not have).

use apollo_compiler::{Name, ast, name, parser::SourceMap, validation::DiagnosticList};
use async_graphql::{Pos, ServerError};

use super::codes::{self, coded};

/// Most validation errors returned for one document.
const MAX_ERRORS: usize = 20;

/// What `__schema` and `__type` are renamed to when the caller may not introspect: names no
/// schema has, of the same length (a name keeps its source span), so validation reports them
/// exactly like any unknown field. Errors at a renamed position get the real name back.
const HIDDEN: [(&str, Name); 2] = [("__schema", name!("__SCHEMA")), ("__type", name!("__TYPE"))];

/// Where [`hide_introspection`] renamed a field: line and column, and the real name.
pub type Renamed = Vec<(usize, usize, &'static str)>;

/// The first syntax error of a document that does not parse.
pub fn parse_error(list: &DiagnosticList) -> ServerError {
    let (message, pos) = list
        .iter()
        .next()
        .map(|d| {
            let json = d.unstable_to_json_compat();
            (d.error.to_string(), position(&json))
        })
        .unwrap_or_else(|| ("the document does not parse".to_owned(), None));
    coded(ServerError::new(message, pos), codes::PARSE_FAILED)
}

/// Diagnostics that drop what they name from the built document: a selection set left empty
/// by them would also be reported as lacking subfields, which is noise.
const DROPPING: [&str; 3] = [
    "UndefinedField",
    "UndefinedTypeInInlineFragmentTypeCondition",
    "UndefinedTypeInNamedFragmentTypeCondition",
];

/// Every validation error of a document, worded like async-graphql's.
pub fn validation_errors(list: &DiagnosticList, renamed: &Renamed) -> Vec<ServerError> {
    let dropped = list.iter().any(|d| {
        d.error
            .unstable_error_name()
            .is_some_and(|k| DROPPING.contains(&k))
    });
    list.iter()
        .filter(|d| !(dropped && d.error.unstable_error_name() == Some("MissingSubselection")))
        .take(MAX_ERRORS)
        .map(|d| {
            let json = d.unstable_to_json_compat();
            let pos = position(&json);
            let mut message = reword(d.error.unstable_error_name(), &json.message);
            let real = pos.and_then(|p| {
                renamed
                    .iter()
                    .find(|(line, column, _)| (*line, *column) == (p.line, p.column))
            });
            if let Some((_, _, real)) = real
                && let Some((_, hidden)) = HIDDEN.iter().find(|(name, _)| name == real)
            {
                message = message.replace(&format!("\"{hidden}\""), &format!("\"{real}\""));
            }
            coded(ServerError::new(message, pos), codes::VALIDATION_FAILED)
        })
        .collect()
}

fn position(error: &apollo_compiler::response::GraphQLError) -> Option<Pos> {
    error.locations.first().map(|l| Pos {
        line: l.line,
        column: l.column,
    })
}

/// graphql-js wording, as apollo-compiler gives it, adjusted where async-graphql's differs.
fn reword(kind: Option<&str>, message: &str) -> String {
    let mut message = match kind {
        Some("UndefinedField") => message.replacen("Cannot query field", "Unknown field", 1),
        _ => message.to_owned(),
    };
    if let Some(at) = message.find(" Did you mean") {
        message.truncate(at);
    }
    message
}

/// A variable whose value does not fit its type.
pub fn variable_error(message: String) -> ServerError {
    coded(ServerError::new(message, None), codes::BAD_USER_INPUT)
}

/// Renames every `__schema` and `__type` selection so that validation treats them as the
/// unknown fields they are for a caller who may not introspect (`__typename` stays).
pub fn hide_introspection(document: &mut ast::Document) -> Renamed {
    let sources = document.sources.clone();
    let mut renamed = Renamed::new();
    for definition in &mut document.definitions {
        let set = match definition {
            ast::Definition::OperationDefinition(op) => &mut op.make_mut().selection_set,
            ast::Definition::FragmentDefinition(f) => &mut f.make_mut().selection_set,
            _ => continue,
        };
        hide_in(set, &sources, &mut renamed);
    }
    renamed
}

fn hide_in(set: &mut [ast::Selection], sources: &SourceMap, renamed: &mut Renamed) {
    for selection in set {
        match selection {
            ast::Selection::Field(field) => {
                let field = field.make_mut();
                if let Some((real, hidden)) = HIDDEN.iter().find(|(real, _)| field.name == *real)
                    && let Some(at) = field.name.location()
                {
                    if let Some(start) = at.line_column(sources) {
                        renamed.push((start.line, start.column, real));
                    }
                    field.name = hidden.clone().with_location(at);
                }
                hide_in(&mut field.selection_set, sources, renamed);
            }
            ast::Selection::InlineFragment(inline) => {
                hide_in(&mut inline.make_mut().selection_set, sources, renamed)
            }
            ast::Selection::FragmentSpread(_) => {}
        }
    }
}
