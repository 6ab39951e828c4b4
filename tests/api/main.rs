//! Integration tests: the real router, driven over HTTP in-process with real signed tokens, on
//! a freshly migrated SQLite file and a fresh PostgreSQL database per test (see [`databases`]).

#[macro_use]
mod helpers;

mod auth;
mod bench;
mod cursors;
mod databases;
mod differencing;
mod email_change;
mod explorer;
mod fuzz;
mod harness;
mod hostile;
mod http;
mod identity;
mod input_edges;
mod internal_changes;
mod live;
mod metrics;
mod nested;
mod node;
mod ops_documents;
mod ops_limits;
mod ops_observe;
mod ops_process;
mod ops_soak;
mod ops_survive;
mod ops_ws;
mod pagination;
mod pooler;
mod privacy;
mod proxy;
mod raw_http;
mod reading;
mod readme;
mod replica;
mod rules;
mod schema_file;
mod scoping;
mod seed;
mod shared_state;
mod tokens;
mod visibility;
mod write_path;
mod writing;
