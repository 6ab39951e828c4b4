//! # crm-gateway: a guided tour
//!
//! One GraphQL schema over a company's customer-relationship data, shaped by who is asking.
//! Read the rooms in this order:
//!
//! 1. [`config`]: every knob, read once at start.
//! 2. [`auth`]: who you are — bearer tokens decoded into a [`auth::Viewer`] with a [`auth::Role`].
//! 3. [`policy`]: what you may see — field tiers and row scopes, decided in this one place.
//! 4. [`service`]: what is true — queries and rules over the SeaORM entities, under a scope.
//! 5. [`graphql`]: what you may ask — the schema, thin resolvers, loaders, the tier guard.
//! 6. [`http`]: how it is served — axum router, GraphQL over HTTP and WebSocket, GraphiQL.
//! 7. [`app`]: start-up — shared state, serving, graceful shutdown.
//! 8. [`ops`]: running it — metrics, rate limits, trusted documents, fail-fast, request ids.
//! 9. [`seed`]: the deterministic demo company.

#![warn(missing_docs)]

/// The HTTP application: state, router, serving.
pub mod app;
/// Identity: claims, keys, token decoding, roles and the viewer.
pub mod auth;
/// Command line and environment configuration.
pub mod config;
/// Database connection and migrations.
pub mod db;
/// The one error type and its GraphQL mapping.
pub mod error;
/// The GraphQL schema: types, resolvers, loaders, guard.
pub mod graphql;
/// The HTTP transport: router, GraphQL over HTTP, WebSocket, GraphiQL, health.
pub mod http;
/// Running it in production: logs, request ids, metrics, rate limits, fail-fast, shutdown.
pub mod ops;
/// Field visibility and row scopes per role: the only place role rules live.
pub mod policy;
/// The deterministic demo company.
pub mod seed;
/// Business rules and queries, one module per aggregate.
pub mod service;

pub use error::{Conflict, Error, Result};
