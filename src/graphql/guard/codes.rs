//! The `extensions.code` values of request errors raised before execution, and the helper
//! that stamps a code on an error lacking one.

use async_graphql::ServerError;

/// The document does not parse.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The document does not validate against the caller's schema.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// The document exceeds a size limit (nesting, tokens, fields, depth or complexity).
pub const QUERY_TOO_COMPLEX: &str = "QUERY_TOO_COMPLEX";
/// A mutation or subscription sent over GET.
pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
/// The request names no runnable operation (unknown or missing `operationName`).
pub const BAD_REQUEST: &str = "BAD_REQUEST";
/// A variable's value does not fit its declared type.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";

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
