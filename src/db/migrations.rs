use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::{ConnectionError, result::Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::url::DatabaseUrl;
use super::{ConnectionManager, DbConnection};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The error of a migration run, as diesel_migrations gives it.
pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// The advisory lock that serialises migration runs on PostgreSQL. The
/// first key is the migrations' own (the sign-in throttle's locks use 1636),
/// so no sign-in ever waits for a migration run or the other way round.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(1637, 1)";

/// Applies the embedded migrations of the connection's backend; returns the
/// versions it applied.
///
/// Several server processes may start at once on an empty database: each
/// would see every migration pending and all but one would fail on tables
/// that another just created. So the whole run holds a lock, and whoever
/// waited finds nothing left to do. Both backends run it as one transaction
/// (each migration's own transaction becomes a savepoint in it), so a run
/// is all or nothing. PostgreSQL: the lock is a transaction-scoped advisory
/// lock taken first, released at commit or rollback, and by the server if
/// the process dies; being scoped to the transaction, it holds through a
/// pooler in transaction mode too (a session-level lock there could be
/// taken on one server connection and "released" on another, and stay held).
/// SQLite: an exclusive transaction; the others wait in `busy_timeout`.
pub fn run_pending_migrations(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.exclusive_transaction(|c| {
            c.run_pending_migrations(SQLITE)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
        })?,
        DbConnection::Pg(c) => c.transaction(|c| {
            c.batch_execute(MIGRATION_LOCK)?;
            c.run_pending_migrations(POSTGRES)
                .map(|versions| versions.iter().map(ToString::to_string).collect())
        })?,
    };
    Ok(applied)
}

/// Why the database could not be made ready. `Display` is the one line an
/// operator reads (libpq's messages span lines; they are joined).
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("cannot connect to the database: {}", one_line(.0))]
    Connect(#[source] ConnectionError),
    #[error("cannot set up the SQLite database: {}", one_line(.0))]
    Sqlite(#[source] DieselError),
    #[error("cannot apply migrations: {}", one_line(.0))]
    Migrate(#[source] MigrationError),
}

/// Makes the database ready for the pool: WAL (SQLite, once) and migrations.
/// Returns the migrations it applied.
pub fn prepare_database(url: impl Into<DatabaseUrl>) -> Result<Vec<String>, PrepareError> {
    prepare_database_with(&ConnectionManager::new(url))
}

/// `prepare_database` on a connection `manager` opens (with its settings).
pub fn prepare_database_with(manager: &ConnectionManager) -> Result<Vec<String>, PrepareError> {
    let mut conn = manager.establish().map_err(PrepareError::Connect)?;
    if let DbConnection::Sqlite(c) = &mut conn {
        c.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(PrepareError::Sqlite)?;
    }
    run_pending_migrations(&mut conn).map_err(PrepareError::Migrate)
}

/// The text of `e` on one line.
fn one_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_one_line() {
        let e = PrepareError::Connect(ConnectionError::BadConnection(
            "connection to server failed:\n  Connection refused".into(),
        ));
        assert_eq!(
            e.to_string(),
            "cannot connect to the database: connection to server failed: Connection refused"
        );
    }
}
