//! Integration tests: the real router, driven over HTTP in-process with real signed tokens, on
//! a freshly migrated SQLite file and a fresh PostgreSQL database per test (see [`databases`]).

#[macro_use]
mod helpers;

mod auth;
mod databases;
mod fuzz;
mod harness;
mod hostile;
mod http;
mod identity;
mod live;
mod metrics;
mod pagination;
mod reading;
mod schema_file;
mod scoping;
mod seed;
mod visibility;
mod writing;
