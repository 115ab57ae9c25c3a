//! The JSON API over real HTTP, on SQLite or (with TEST_DATABASE_URL) PostgreSQL.

#[path = "../common/mod.rs"]
mod common;

mod authentication;
mod encodings;
mod forward_auth;
mod key_format;
mod methods;
mod metrics;
mod named_tokens;
mod probes;
mod register;
mod schema;
mod sign_in;
mod throttle;
mod tokens;
