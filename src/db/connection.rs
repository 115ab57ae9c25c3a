use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;

/// A connection to whichever backend `DATABASE_URL` names. Domain code is
/// written once against this type.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}
