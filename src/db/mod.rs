//! The database layer: one connection type over SQLite and PostgreSQL, the
//! pool, the embedded migrations, and the error every query returns.
//!
//! - `connection`: the connection enum domain code is written against;
//! - `url`: what a `DATABASE_URL` says (backend, SQLite file, redacted form);
//! - `manager`: the pool's connection manager (backend by scheme, SQLite
//!   file identity);
//! - `sqlite`: how SQLite files are opened and the PRAGMAs of every
//!   connection;
//! - `database`: the pool and the async gate in front of it;
//! - `local_reads`: SQLite reads on the calling worker, which never wait;
//! - `migrations`: the embedded migrations and `prepare_database`;
//! - `error`: `DbError` and what an outage is.

mod connection;
mod database;
mod error;
mod file_watch;
mod local_reads;
mod manager;
mod migrations;
mod sqlite;
mod url;

pub use connection::DbConnection;
pub use database::{Database, Pool, PooledConnection};
pub use error::{AsOutage, DbError, Outage};
pub use local_reads::LocalReads;
pub use manager::{ConnectionManager, ManagerError, PoolConnection};
pub use migrations::{
    MigrationError, PrepareError, prepare_database, prepare_database_with, run_pending_migrations,
};
pub use url::{Backend, DatabaseUrl, redact_url, sqlite_path};

/// Runs `$body` with `$c` bound to the backend's own connection, for the few
/// statements diesel cannot express through the `MultiConnection` (upserts).
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Sqlite($c) => $body,
            $crate::db::DbConnection::Pg($c) => $body,
        }
    };
}
