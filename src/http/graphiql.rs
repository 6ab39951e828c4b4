//! The GraphiQL explorer page served at `GET /graphql`.

use async_graphql::http::GraphiQLSource;
use axum::response::{Html, IntoResponse, Response};

/// The explorer page.
pub fn page() -> Response {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("CRM gateway")
            .finish(),
    )
    .into_response()
}
