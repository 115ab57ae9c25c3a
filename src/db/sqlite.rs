//! SQLite's side of a connection: how a file is opened, and the settings
//! every connection to it needs.

use diesel::connection::SimpleConnection;
use diesel::r2d2::CustomizeConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError, QueryResult};

use super::DbConnection;
use super::manager::{ManagerError, PoolConnection};

/// Per-connection SQLite settings. WAL is set once, in `prepare_database`:
/// switching every new pooled connection to WAL makes them lock each other.
/// `synchronous = FULL` makes every acknowledged commit durable on power loss
/// too, at the price of an fsync per write; writes are rare here. The page
/// cache is SQLite's default 2 MiB per connection: a token lookup touches a
/// handful of pages, and a bigger cache only kept the admin's searches of
/// the users table in memory, four times over (16 MiB a connection took the
/// server to 85 MiB with 100,000 users); the operating system caches the
/// file for all connections at once.
const CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = FULL; \
     PRAGMA cache_size = -2000; \
     PRAGMA temp_store = MEMORY;";

/// Sets `CONNECTION_PRAGMAS` on a connection. They last as long as the
/// connection, and each new one starts without them.
pub fn apply_pragmas(conn: &mut SqliteConnection) -> QueryResult<()> {
    conn.batch_execute(CONNECTION_PRAGMAS)
}

/// The pool's hook: every connection it opens gets `CONNECTION_PRAGMAS`
/// before its first use (foreign keys and the busy timeout are off
/// otherwise). PostgreSQL connections are left as they are.
#[derive(Debug, Clone, Copy)]
pub struct SqlitePragmas;

impl CustomizeConnection<PoolConnection, ManagerError> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut PoolConnection) -> Result<(), ManagerError> {
        if let DbConnection::Sqlite(c) = &mut **conn {
            apply_pragmas(c)?;
        }
        Ok(())
    }
}

/// A connection outside the pool (start-up, migrations, commands), with
/// `CONNECTION_PRAGMAS` set. A missing file is created.
pub fn open(path: &str) -> Result<DbConnection, ConnectionError> {
    let mut conn = SqliteConnection::establish(path)?;
    apply_pragmas(&mut conn).map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    Ok(DbConnection::Sqlite(conn))
}

/// A connection for the pool: the file must exist, it is never created
/// (`mode=rw`). The pool sets the PRAGMAs (`SqlitePragmas`).
pub fn open_existing(path: &str) -> Result<DbConnection, ConnectionError> {
    Ok(DbConnection::Sqlite(SqliteConnection::establish(
        &existing_file_uri(path),
    )?))
}

/// A SQLite URI that opens `path` only if it exists (`mode=rw`).
pub(super) fn existing_file_uri(path: &str) -> String {
    if path.is_empty() || path.starts_with(":memory:") {
        return path.to_string();
    }
    let mut uri = String::from(if path.starts_with('/') {
        "file://"
    } else {
        "file:"
    });
    for c in path.chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3F"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?mode=rw");
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_and_memory_paths() {
        assert_eq!(existing_file_uri("db.sqlite3"), "file:db.sqlite3?mode=rw");
        assert_eq!(existing_file_uri("/x/db"), "file:///x/db?mode=rw");
        assert_eq!(existing_file_uri("//x/db"), "file:////x/db?mode=rw");
        assert_eq!(existing_file_uri(":memory:"), ":memory:");
    }
}
