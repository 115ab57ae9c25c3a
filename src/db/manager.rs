//! The pool's connection manager: it opens connections to the backend the
//! URL names, and for SQLite keeps them to the file that is the database.

use std::ops::{Deref, DerefMut};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::connection::{CacheSize, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::r2d2::ManageConnection;
use diesel::{Connection, ConnectionError};

use super::url::{Backend, DatabaseUrl};
use super::{DbConnection, sqlite};

/// Opens connections for the pool, choosing the backend from the URL's scheme
/// (diesel's own `MultiConnection::establish` tries each backend in turn and
/// hides the real error).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// For SQLite, the database file (the URL without scheme or query).
    sqlite_file: Option<String>,
    suspicion: Suspicion,
    /// PostgreSQL: whether diesel keeps named prepared statements per
    /// connection (`DATABASE_STATEMENT_CACHE`). Off, every statement is
    /// unnamed and parsed where it runs, as a pooler in transaction mode
    /// needs: it hands each transaction a server connection that never saw
    /// this client's named statements.
    statement_cache: bool,
}

/// Until when (Unix time, s) returned connections are checked before they
/// go back into the pool: set when an outage was seen, so that a connection
/// broken by it is dropped instead of handed out again. Shared by the
/// manager, which reads it, and the `Database`, which reports outages.
#[derive(Debug, Clone, Default)]
pub(super) struct Suspicion(Arc<AtomicU64>);

impl Suspicion {
    /// An outage was seen: check returned connections for 30 s.
    pub(super) fn report(&self) {
        self.0.store(unix_now() + 30, Ordering::Relaxed);
    }

    fn is_raised(&self) -> bool {
        unix_now() < self.0.load(Ordering::Relaxed)
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ConnectionManager {
    pub fn new(url: impl Into<DatabaseUrl>) -> ConnectionManager {
        let url = url.into();
        ConnectionManager {
            sqlite_file: url.sqlite_path().map(str::to_string),
            url,
            suspicion: Suspicion::default(),
            statement_cache: true,
        }
    }

    /// The same, with PostgreSQL's prepared statement cache on or off.
    pub fn with_statement_cache(self, statement_cache: bool) -> ConnectionManager {
        ConnectionManager {
            statement_cache,
            ..self
        }
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub(super) fn suspicion(&self) -> &Suspicion {
        &self.suspicion
    }

    /// Opens one connection outside the pool, reporting the backend's own
    /// error text. A missing SQLite file is created (start-up, migrations,
    /// commands).
    pub fn establish(&self) -> Result<DbConnection, ConnectionError> {
        match &self.sqlite_file {
            Some(path) => sqlite::open(path),
            None => {
                let mut conn = PgConnection::establish(self.url.expose())?;
                if !self.statement_cache {
                    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
                }
                Ok(DbConnection::Pg(conn))
            }
        }
    }

    /// A connection for the pool. A SQLite file that went missing after
    /// start-up is an outage, never created anew: an empty database would
    /// answer "no such table" (500s), and SQLite deletes the `-wal` file it
    /// finds beside an empty database, losing the commits in it when the
    /// real file comes back.
    pub(super) fn open_pooled(&self) -> Result<PoolConnection, ManagerError> {
        match &self.sqlite_file {
            Some(path) => {
                let conn = sqlite::open_existing(path)?;
                let file = file_id(path).ok_or(ManagerError::FileMoved)?;
                Ok(PoolConnection {
                    conn,
                    file: Some(file),
                })
            }
            None => Ok(PoolConnection {
                conn: self.establish()?,
                file: None,
            }),
        }
    }

    /// For SQLite: whether the file the connection opened is still the one
    /// at the configured path. An open connection keeps reading and writing
    /// its file after it was moved, deleted or replaced, so without this
    /// check the server would go on answering, and acknowledging writes, from
    /// a file that is no longer the database.
    fn is_current_file(&self, conn: &PoolConnection) -> bool {
        match (&self.sqlite_file, conn.file) {
            (Some(path), Some(id)) => file_id(path) == Some(id),
            _ => true,
        }
    }
}

/// Device and inode of the file at `path`.
pub(super) type FileId = (u64, u64);

pub(super) fn file_id(path: &str) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// What the pool holds: a connection and, for SQLite, the identity of the
/// file it opened. Dereferences to the connection.
pub struct PoolConnection {
    conn: DbConnection,
    file: Option<FileId>,
}

impl Deref for PoolConnection {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl DerefMut for PoolConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// Why the pool could not open or keep a connection. r2d2 keeps only the
/// text of the last one, for the `DbError` of a request that timed out.
#[derive(Debug, thiserror::Error)]
pub enum ManagerError {
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("the database file was moved, deleted or replaced")]
    FileMoved,
}

impl ManageConnection for ConnectionManager {
    type Connection = PoolConnection;
    type Error = ManagerError;

    fn connect(&self) -> Result<PoolConnection, ManagerError> {
        self.open_pooled()
    }

    /// On checkout, for SQLite only (see `Database::new`): one `stat`.
    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), ManagerError> {
        if conn.file.is_some() {
            if self.is_current_file(conn) {
                return Ok(());
            }
            log::warn!(
                "the SQLite database file {} was moved, deleted or replaced: closing a connection to it",
                self.sqlite_file.as_deref().unwrap_or_default()
            );
            return Err(ManagerError::FileMoved);
        }
        Ok(conn.batch_execute("SELECT 1")?)
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        if diesel::r2d2::R2D2Connection::is_broken(&mut conn.conn) {
            return true;
        }
        // Pinging every returned connection would cost a round trip per
        // request; do it only while an outage is suspected.
        self.suspicion.is_raised() && conn.batch_execute("SELECT 1").is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::prepare_database;

    #[test]
    fn pooled_sqlite_connections_never_create_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // Characters a SQLite URI would otherwise read as syntax (a `?`
        // starts the query of a `DATABASE_URL`, see `sqlite_path`).
        let folder = dir.path().join("a b%41c#e");
        std::fs::create_dir(&folder).unwrap();
        let path = folder.join("db.sqlite3");
        let path = path.to_str().unwrap();
        let manager = ConnectionManager::new(path);
        assert!(
            manager.open_pooled().is_err(),
            "a missing file is not created"
        );
        assert!(!std::path::Path::new(path).exists());

        prepare_database(path).unwrap();
        let mut conn = manager.open_pooled().unwrap();
        assert!(manager.is_valid(&mut conn).is_ok());
        // Moved away: the open connection is no longer the database's.
        let moved = folder.join("moved.sqlite3");
        std::fs::rename(path, &moved).unwrap();
        assert!(manager.is_valid(&mut conn).is_err());
        assert!(manager.open_pooled().is_err());
        std::fs::rename(&moved, path).unwrap();
        assert!(manager.is_valid(&mut conn).is_ok());
    }

    #[test]
    fn debug_hides_the_database_password() {
        let manager = ConnectionManager::new("postgres://app:s3cret-pw@db/x");
        let shown = format!("{manager:?}");
        assert!(!shown.contains("s3cret-pw"));
        assert!(shown.contains("app:***@db/x"));
    }
}
