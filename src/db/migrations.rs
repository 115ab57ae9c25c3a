use diesel::connection::SimpleConnection;
use diesel::{ConnectionError, result::Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::url::DatabaseUrl;
use super::{ConnectionManager, DbConnection};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The error of a migration run, as diesel_migrations gives it.
pub type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Applies the embedded migrations of the connection's backend; returns the
/// versions it applied.
pub fn run_pending_migrations(conn: &mut DbConnection) -> Result<Vec<String>, MigrationError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE)?,
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES)?,
    };
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
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
    let mut conn = ConnectionManager::new(url)
        .establish()
        .map_err(PrepareError::Connect)?;
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
