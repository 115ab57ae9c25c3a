//! The database layer: one connection type over SQLite and PostgreSQL, the
//! pool, the embedded migrations, and the error every query returns.

mod connection;
mod error;
mod migrations;
mod pool;

pub use connection::DbConnection;
pub use error::DbError;
pub use migrations::run_pending_migrations;
pub use pool::{
    AsOutage, ConnectionManager, Database, Pool, PoolConnection, PooledConnection,
    prepare_database, sqlite_path,
};

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
