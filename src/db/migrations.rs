use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies the embedded migrations of the connection's backend; returns the
/// versions it applied.
pub fn run_pending_migrations(
    conn: &mut DbConnection,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE)?,
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES)?,
    };
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}
