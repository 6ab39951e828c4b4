//! GraphQL over HTTP: `POST /graphql` (JSON bodies) and `GET /graphql?query=…` (queries only).
//! Both end in [`execute`], which authenticates, runs the schema and encodes the answer.

use std::{collections::BTreeMap, time::Duration};

use apollo_compiler::ast::OperationType;
use axum::{
    body::Bytes,
    extract::{Query, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};

use super::{Format, Refusal, authenticate, gate, graphiql, request_error, subject_unavailable};
use crate::{
    app::AppState,
    auth::Caller,
    db::replicas::{Lsn, MIN_LSN_HEADER, Reader},
    graphql::{
        batching::Settle,
        guard::{Allowed, codes},
        loaders::Loaders,
    },
    ops::{
        context::RequestContext,
        documents::{Asker, DOCUMENT_ID},
        metrics::{self, Outcome},
    },
};

async fn execute(
    state: AppState,
    headers: HeaderMap,
    mut request: async_graphql::Request,
    format: Format,
    allowed: Allowed,
) -> Response {
    let caller = match authenticate(&state, &headers).await {
        Ok(caller) => caller,
        Err(Refusal::Token(err)) => return gate::unauthenticated(&state, format, err).await,
        Err(Refusal::Unavailable) => return subject_unavailable(format),
    };
    // Ops hook 1: rate limit and database circuit.
    let admitted = match gate::admit(&state, &caller, format).await {
        Ok(admitted) => admitted,
        Err(answer) => return *answer,
    };
    // Ops hook 2: a persisted document (manifest id, APQ hash) becomes its text, or is refused.
    let asker = Asker {
        caller: &caller,
        client: RequestContext::current().and_then(|c| c.client),
    };
    let runs = |tier, text: &str| state.schema.runs(tier, text);
    if let Err(refusal) =
        state
            .ops
            .documents
            .resolve(&mut request, &asker, &state.ops.metrics, &runs)
    {
        let status = match format {
            Format::GraphqlResponse => StatusCode::BAD_REQUEST,
            Format::Json => StatusCode::OK,
        };
        let answer = request_error(status, format, refusal.code(), refusal.message());
        return admitted.finish(&state, answer, metrics::NONE, Outcome::RequestError);
    }
    // Ops hook 2b: where the reads run (a read replica recent enough, or the primary).
    let min_lsn = match min_lsn(&headers) {
        Ok(min_lsn) => min_lsn,
        Err(message) => {
            let answer = request_error(StatusCode::BAD_REQUEST, format, "BAD_REQUEST", &message);
            return admitted.finish(&state, answer, metrics::NONE, Outcome::RequestError);
        }
    };
    let route = Route::choose(&state, &caller, &request, min_lsn).await;
    // Waits for a turn: the semaphore is never closed, so an error cannot happen; were it
    // closed, the request would simply run without a turn.
    let _turn = state.ops.executions.clone().acquire_owned().await.ok();
    // Batches go out when the request settles: one statement per nesting level at any load.
    let settle = Settle::new();
    let loaders = Loaders::new(
        route.reader.conn(),
        &caller,
        &settle.batching(Duration::ZERO),
    );
    // Request data wins over the schema's: resolvers read on the chosen connection.
    let request = request.data(loaders).data(route.reader.conn().clone());
    let tier = crate::policy::tier(&caller);
    let executed = settle
        .drive(state.schema.execute(caller, allowed, request))
        .await;
    let mut response = executed.response;
    if route.mutation
        && executed.operation.is_some()
        && let Some(lsn) = state.reads.commit_lsn().await
    {
        response
            .extensions
            .insert(LSN_EXTENSION.to_owned(), lsn.to_string().into());
    }
    let request_failed = code_errors(&mut response);
    let get_mutation = response.errors.iter().any(|err| {
        let code = err.extensions.as_ref().and_then(|e| e.get("code"));
        matches!(code, Some(async_graphql::Value::String(c)) if c == codes::METHOD_NOT_ALLOWED)
    });
    // Ops hook 3: the request id in every error, and how the request ended.
    gate::stamp_request_id(&mut response);
    let outcome = gate::outcome(&response, request_failed);
    let admitted = if outcome == Outcome::Unavailable && route.reader.on_replica() {
        state.reads.failed(&route.reader);
        admitted.read_on_replica()
    } else {
        admitted
    };
    let status = if get_mutation {
        StatusCode::METHOD_NOT_ALLOWED
    } else if request_failed && format == Format::GraphqlResponse {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = match serde_json::to_vec(&Answer::of(&response, request_failed)) {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(%err, "cannot serialise a GraphQL response");
            return request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format,
                "INTERNAL_SERVER_ERROR",
                "internal server error",
            );
        }
    };
    let mut http = (status, body).into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, format.content_type());
    if get_mutation {
        http.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    // Ops hook 4: metrics, access log, rate-limit headers.
    let label = match executed.operation {
        Some(name) => state.ops.metrics.names.label(tier, name.as_deref()),
        None => metrics::NONE.into(),
    };
    admitted.finish(&state, http, &label, outcome)
}

/// The response extension that carries a mutation's WAL position (send it back in
/// [`MIN_LSN_HEADER`]).
const LSN_EXTENSION: &str = "lsn";

/// Where one request's reads run, and whether it is a mutation (whose answer carries the
/// commit's position).
struct Route {
    reader: Reader,
    mutation: bool,
}

impl Route {
    /// Queries read on a replica recent enough for `min_lsn`; mutations (their answers
    /// included) and anything refused run on the primary.
    async fn choose(
        state: &AppState,
        caller: &Caller,
        request: &async_graphql::Request,
        min_lsn: Option<Lsn>,
    ) -> Self {
        let primary = |mutation| Self {
            reader: state.reads.primary(),
            mutation,
        };
        if !state.reads.has_replicas() {
            return primary(false);
        }
        match state.schema.operation(caller, request) {
            Some((OperationType::Query, _)) => Self {
                reader: state.reads.reader(min_lsn).await,
                mutation: false,
            },
            Some((OperationType::Mutation, _)) => primary(true),
            _ => primary(false),
        }
    }
}

/// The WAL position the request's reads must have seen ([`MIN_LSN_HEADER`], the latest when
/// sent more than once); a malformed one refuses the request.
fn min_lsn(headers: &HeaderMap) -> Result<Option<Lsn>, String> {
    let mut latest = None;
    for value in headers.get_all(MIN_LSN_HEADER) {
        let lsn = value
            .to_str()
            .ok()
            .and_then(|text| text.parse::<Lsn>().ok())
            .ok_or_else(|| {
                format!(
                    "the {MIN_LSN_HEADER} header must be a WAL position like 16/B374D848, as \
                     a mutation's extensions.lsn"
                )
            })?;
        latest = latest.max(Some(lsn));
    }
    Ok(latest)
}

/// A response as GraphQL over HTTP words it, serialised straight from async-graphql's values:
/// their objects keep the query's selection order (a detour through `serde_json::Value`
/// would sort the keys), and the body is written once.
#[derive(Serialize)]
struct Answer<'a> {
    /// Absent, not null, when the request never executed (GraphQL over HTTP).
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a async_graphql::Value>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [async_graphql::ServerError],
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extensions: &'a BTreeMap<String, async_graphql::Value>,
}

impl<'a> Answer<'a> {
    fn of(response: &'a async_graphql::Response, request_failed: bool) -> Self {
        Self {
            data: (!request_failed).then_some(&response.data),
            errors: &response.errors,
            extensions: &response.extensions,
        }
    }
}

/// Gives every uncoded error `BAD_USER_INPUT`; true when the request failed before execution
/// (parse or validation errors). Shared by HTTP and WebSocket operations.
pub fn code_errors(response: &mut async_graphql::Response) -> bool {
    for err in &mut response.errors {
        *err = codes::coded(err.clone(), codes::BAD_USER_INPUT);
    }
    crate::graphql::is_request_error(response)
}

/// `POST /graphql` with a JSON body.
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let format = Format::from_headers(&headers);
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            // Too large (413) or unreadable: still a GraphQL-shaped answer with a code.
            let status = rejection.status();
            let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "the request body is too large"
            } else {
                "the request body could not be read"
            };
            return request_error(status, format, "BAD_REQUEST", message);
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" && essence != "application/graphql-response+json" {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format,
            "BAD_REQUEST",
            "send the request as Content-Type: application/json",
        );
    }
    let request = match parse_body(&body) {
        Ok(request) => request,
        Err(message) => {
            return request_error(StatusCode::BAD_REQUEST, format, "BAD_REQUEST", &message);
        }
    };
    execute(state, headers, request, format, Allowed::Any).await
}

fn parse_body(body: &[u8]) -> Result<async_graphql::Request, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "the body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let Some(object) = value.as_object() else {
        return Err("the body must be a JSON object; batched requests are not supported".into());
    };
    // A persisted document comes by id (`documentId`, Relay's `id`) or APQ hash instead.
    let document_id = ["documentId", "id"]
        .iter()
        .find_map(|key| object.get(*key).and_then(|v| v.as_str()))
        .map(str::to_owned);
    let persisted = object
        .get("extensions")
        .is_some_and(|e| e.get("persistedQuery").is_some());
    match object.get("query") {
        Some(serde_json::Value::String(_)) => {}
        Some(serde_json::Value::Null) | None if document_id.is_some() || persisted => {}
        Some(_) => return Err("`query` must be a string".into()),
        None => return Err("the body has no `query`".into()),
    }
    if let Some(extensions) = object.get("extensions")
        && !(extensions.is_object() || extensions.is_null())
    {
        return Err("`extensions` must be an object".into());
    }
    if let Some(vars) = object.get("variables")
        && !(vars.is_object() || vars.is_null())
    {
        return Err("`variables` must be an object".into());
    }
    if let Some(name) = object.get("operationName")
        && !(name.is_string() || name.is_null())
    {
        return Err("`operationName` must be a string".into());
    }
    let mut value = value;
    if let Some(object) = value.as_object_mut()
        && object.get("query").is_some_and(|q| q.is_null())
    {
        object.remove("query");
    }
    let mut request: async_graphql::Request = serde_json::from_value(value)
        .map_err(|_| "the body is not a GraphQL request".to_owned())?;
    if let Some(id) = document_id {
        request
            .extensions
            .insert(DOCUMENT_ID.to_owned(), async_graphql::Value::String(id));
    }
    Ok(request)
}

/// Query-string form of a GraphQL request (`GET /graphql?query=…`).
#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    /// A JSON object, e.g. `{"persistedQuery":{"version":1,"sha256Hash":"…"}}` (APQ over GET).
    extensions: Option<String>,
    /// A trusted document's id.
    #[serde(rename = "documentId", alias = "id")]
    document_id: Option<String>,
}

/// `GET /graphql`: GraphiQL without a query, otherwise a query (never a mutation).
pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let format = Format::from_headers(&headers);
    if params.query.is_none() && params.document_id.is_none() && params.extensions.is_none() {
        return graphiql::page();
    }
    // GET must never change anything: the guard refuses any operation but a query, deciding
    // which operation runs exactly as execution does (405 with `Allow: POST`).
    let mut request = async_graphql::Request::new(params.query.unwrap_or_default());
    if let Some(extensions) = params.extensions {
        match serde_json::from_str::<async_graphql::Extensions>(&extensions) {
            Ok(extensions) => request.extensions = extensions,
            Err(_) => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    format,
                    "BAD_REQUEST",
                    "`extensions` must be a JSON object",
                );
            }
        }
    }
    if let Some(id) = params.document_id {
        request
            .extensions
            .insert(DOCUMENT_ID.to_owned(), async_graphql::Value::String(id));
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    if let Some(vars) = params.variables {
        match serde_json::from_str::<serde_json::Value>(&vars) {
            Ok(value @ serde_json::Value::Object(_)) => {
                request = request.variables(async_graphql::Variables::from_json(value));
            }
            _ => {
                return request_error(
                    StatusCode::BAD_REQUEST,
                    format,
                    "BAD_REQUEST",
                    "`variables` must be a JSON object",
                );
            }
        }
    }
    execute(state, headers, request, format, Allowed::Queries).await
}
