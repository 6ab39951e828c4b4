//! The verdict on one document for one tier: parsed under limits, its size counted, then
//! validated by apollo-compiler against the tier's schema. Pure and synchronous; the caller
//! caches the result per (tier, document).

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    sync::Arc,
};

use apollo_compiler::{
    Name, Node, Schema as Sdl,
    ast::{self, Definition, OperationType},
    executable::{self, ExecutableDocument, Operation},
    parser::Parser,
    validation::Valid,
};
use async_graphql::ServerError;

use super::{
    Limits, codes, diagnostics,
    used::{self, AuditedVariable},
};

/// One operation of a valid document.
#[derive(Debug)]
pub struct CheckedOperation {
    /// The operation, resolved against the tier's schema (for coercing variables).
    pub operation: Node<Operation>,
    /// `Type.field` of every internal-only field it selects, and `Type.member` of every
    /// internal-only input field, enum value or argument (`Type.field(arg)`) its literal
    /// arguments use, sorted.
    pub internal_fields: Vec<String>,
    /// Variables that can hold internal-only input, read per request for the audit.
    pub audited_variables: Vec<AuditedVariable>,
}

/// The operations of a valid document, by name.
#[derive(Debug)]
pub struct Checked {
    /// The document's operations.
    pub operations: HashMap<Option<Name>, CheckedOperation>,
    /// The document as async-graphql parses it, kept with the verdict: a request for a cached
    /// document is never parsed again (its parser was a tenth of a nested read's CPU).
    pub executable: Result<async_graphql::parser::types::ExecutableDocument, ServerError>,
}

/// What the guard decided about a document.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Refused before validation: it does not parse, or it exceeds a limit.
    Refused(ServerError),
    /// Parsed within the limits.
    Parsed(Arc<Parsed>),
}

/// A document that parsed within the limits.
#[derive(Debug)]
pub struct Parsed {
    /// Each operation's name and type, known from syntax alone.
    pub kinds: Vec<(Option<Name>, OperationType)>,
    /// The validation outcome for the tier.
    pub outcome: Result<Checked, Vec<ServerError>>,
}

impl Parsed {
    /// The type of the operation execution would choose, if the request names one that exists.
    pub fn kind_of(&self, requested: Option<&str>) -> Option<OperationType> {
        self.chosen(requested).map(|(_, kind)| kind)
    }

    /// The name and type of the operation execution would choose: the named one, or the only
    /// one.
    pub fn chosen(&self, requested: Option<&str>) -> Option<(Option<&str>, OperationType)> {
        let found = match requested {
            Some(name) => self
                .kinds
                .iter()
                .find(|(n, _)| n.as_ref().is_some_and(|n| n.as_str() == name)),
            None if self.kinds.len() == 1 => self.kinds.first(),
            None => None,
        };
        found.map(|(name, kind)| (name.as_ref().map(|n| n.as_str()), *kind))
    }
}

/// The tier-specific inputs of a check.
pub struct TierView<'a> {
    /// The schema the tier is validated against.
    pub schema: &'a Valid<Sdl>,
    /// Whether the tier may introspect.
    pub introspection: bool,
    /// Which fields are internal-only for this tier.
    pub internal_only: &'a dyn Fn(&str, &str) -> bool,
    /// Which input fields and enum values (`Type`, member) are internal-only for this tier.
    pub internal_input: &'a dyn Fn(&str, &str) -> bool,
    /// Which arguments (`Type`, field, argument) are internal-only for this tier.
    pub internal_argument: &'a dyn Fn(&str, &str, &str) -> bool,
}

/// Parses, measures and validates `text` for one tier.
pub fn check(text: &str, tier: &TierView<'_>, limits: &Limits) -> Verdict {
    let mut parser = Parser::new()
        .recursion_limit(limits.nesting)
        .token_limit(limits.tokens);
    let parsed = parser.parse_ast(text, "request.graphql");
    // Limits first: a document cut short by a limit also has syntax errors.
    if parser.recursion_reached() >= limits.nesting {
        return too_complex(format!(
            "the document nests deeper than {} levels",
            limits.nesting
        ));
    }
    if parser.tokens_reached() >= limits.tokens {
        return too_complex(format!(
            "the document has more than {} tokens",
            limits.tokens
        ));
    }
    let mut document = match parsed {
        Ok(document) => document,
        Err(with_errors) => return Verdict::Refused(diagnostics::parse_error(&with_errors.errors)),
    };
    let fields = count_fields(&document);
    if fields > limits.fields {
        return too_complex(format!(
            "the document selects more than {} fields once its fragments are expanded",
            limits.fields
        ));
    }
    let kinds = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::OperationDefinition(op) => Some((op.name.clone(), op.operation_type)),
            _ => None,
        })
        .collect();
    let renamed = if tier.introspection {
        Vec::new()
    } else {
        diagnostics::hide_introspection(&mut document)
    };
    let outcome = match document.to_executable_validate(tier.schema) {
        Ok(valid) => Ok(operations(&valid, tier, text)),
        Err(with_errors) => Err(diagnostics::validation_errors(
            &with_errors.errors,
            &renamed,
        )),
    };
    Verdict::Parsed(Arc::new(Parsed { kinds, outcome }))
}

fn too_complex(message: String) -> Verdict {
    Verdict::Refused(codes::coded(
        ServerError::new(message, None),
        codes::QUERY_TOO_COMPLEX,
    ))
}

/// Fields selected once every fragment spread is replaced by its fragment, computed without
/// expanding anything: each fragment is counted once and reused. A spread of an unknown
/// fragment or inside a cycle counts nothing (validation refuses both).
pub fn count_fields(document: &ast::Document) -> usize {
    let fragments: HashMap<&str, &[ast::Selection]> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::FragmentDefinition(f) => Some((f.name.as_str(), &f.selection_set[..])),
            _ => None,
        })
        .collect();
    let mut counter = Counter {
        fragments: &fragments,
        memo: HashMap::new(),
        visiting: HashSet::new(),
    };
    let mut total = 0usize;
    for definition in &document.definitions {
        let set = match definition {
            Definition::OperationDefinition(op) => &op.selection_set[..],
            Definition::FragmentDefinition(f) => &f.selection_set[..],
            _ => continue,
        };
        total = total.saturating_add(counter.selections(set));
    }
    total
}

struct Counter<'a> {
    fragments: &'a HashMap<&'a str, &'a [ast::Selection]>,
    memo: HashMap<&'a str, usize>,
    visiting: HashSet<&'a str>,
}

impl<'a> Counter<'a> {
    fn selections(&mut self, set: &'a [ast::Selection]) -> usize {
        set.iter().fold(0usize, |sum, selection| {
            let n = match selection {
                ast::Selection::Field(field) => {
                    1usize.saturating_add(self.selections(&field.selection_set))
                }
                ast::Selection::InlineFragment(inline) => self.selections(&inline.selection_set),
                ast::Selection::FragmentSpread(spread) => self.fragment(&spread.fragment_name),
            };
            sum.saturating_add(n)
        })
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        if let Some(n) = self.memo.get(name) {
            return *n;
        }
        let Some(set) = self.fragments.get(name).copied() else {
            return 0;
        };
        if !self.visiting.insert(name) {
            return 0;
        }
        let n = self.selections(set);
        self.visiting.remove(name);
        self.memo.insert(name, n);
        n
    }
}

fn operations(document: &Valid<ExecutableDocument>, tier: &TierView<'_>, text: &str) -> Checked {
    let mut fragments: HashMap<Name, BTreeSet<String>> = HashMap::new();
    let operations = document
        .operations
        .iter()
        .map(|operation| {
            let mut seen = BTreeSet::new();
            internal_fields(
                document,
                &operation.selection_set,
                tier,
                &mut fragments,
                &mut seen,
            );
            let checked = CheckedOperation {
                operation: operation.clone(),
                internal_fields: seen.into_iter().collect(),
                audited_variables: used::audited_variables(
                    tier.schema,
                    tier.internal_input,
                    operation,
                ),
            };
            (operation.name.clone(), checked)
        })
        .collect();
    // Both parsers accept the same language; should async-graphql's ever refuse what
    // apollo-parser took, the request fails as a parse error, as it did when it parsed itself.
    let executable = async_graphql::parser::parse_query(text)
        .map_err(|e| codes::coded(e.into(), codes::PARSE_FAILED));
    Checked {
        operations,
        executable,
    }
}

/// Collects the internal-only fields of `set`, and the internal-only input its arguments use,
/// into `out`, each fragment walked once. Directive arguments are not read: the schema's only
/// directives take a Boolean.
fn internal_fields(
    document: &ExecutableDocument,
    set: &executable::SelectionSet,
    tier: &TierView<'_>,
    fragments: &mut HashMap<Name, BTreeSet<String>>,
    out: &mut BTreeSet<String>,
) {
    for selection in &set.selections {
        match selection {
            executable::Selection::Field(field) => {
                if (tier.internal_only)(set.ty.as_str(), field.name.as_str()) {
                    out.insert(format!("{}.{}", set.ty, field.name));
                }
                arguments_used(set.ty.as_str(), field, tier, out);
                internal_fields(document, &field.selection_set, tier, fragments, out);
            }
            executable::Selection::InlineFragment(inline) => {
                internal_fields(document, &inline.selection_set, tier, fragments, out);
            }
            executable::Selection::FragmentSpread(spread) => {
                let name = &spread.fragment_name;
                if !fragments.contains_key(name) {
                    // Valid documents have no cycles; the empty entry also stops one.
                    fragments.insert(name.clone(), BTreeSet::new());
                    let mut inner = BTreeSet::new();
                    if let Some(fragment) = document.fragments.get(name) {
                        internal_fields(
                            document,
                            &fragment.selection_set,
                            tier,
                            fragments,
                            &mut inner,
                        );
                    }
                    fragments.insert(name.clone(), inner);
                }
                if let Some(found) = fragments.get(name) {
                    out.extend(found.iter().cloned());
                }
            }
        }
    }
}

/// Collects the internal-only arguments of `field` and the internal-only input their literal
/// values use.
fn arguments_used(
    ty: &str,
    field: &executable::Field,
    tier: &TierView<'_>,
    out: &mut BTreeSet<String>,
) {
    for argument in &field.arguments {
        let name = argument.name.as_str();
        if (tier.internal_argument)(ty, field.name.as_str(), name) {
            out.insert(format!("{ty}.{}({name})", field.name));
        }
        if let Some(definition) = field.definition.argument_by_name(name) {
            used::literal(
                tier.schema,
                tier.internal_input,
                definition.ty.inner_named_type(),
                &argument.value,
                out,
            );
        }
    }
}
