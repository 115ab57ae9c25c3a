use std::ops::{Deref, DerefMut};
use std::os::unix::fs::MetadataExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use tokio::sync::Semaphore;

use super::{DbConnection, DbError, run_pending_migrations};
use crate::settings::{Backend, Settings};

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Per-connection SQLite settings. WAL is set once, in `prepare_database`:
/// switching every new pooled connection to WAL makes them lock each other.
/// `synchronous = FULL` makes every acknowledged commit durable on power loss
/// too, at the price of an fsync per write; writes are rare here. The page
/// cache is SQLite's default 2 MiB per connection: a token lookup touches a
/// handful of pages, and a bigger cache only kept the admin's searches of
/// the users table in memory, four times over (16 MiB a connection took the
/// server to 85 MiB with 100,000 users); the operating system caches the
/// file for all connections at once.
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = FULL; \
     PRAGMA cache_size = -2000; \
     PRAGMA temp_store = MEMORY;";

/// Opens connections for the pool, choosing the backend from the URL's scheme
/// (diesel's own `MultiConnection::establish` tries each backend in turn and
/// hides the real error).
#[derive(Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    /// Unix time (s) until which returned connections are checked before
    /// they go back into the pool: set when an outage was seen, so that a
    /// connection broken by it is dropped instead of handed out again.
    suspect_until: Arc<AtomicU64>,
}

/// The URL's password never reaches a log line.
impl std::fmt::Debug for ConnectionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionManager")
            .field("url", &crate::settings::redact_url(&self.url))
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl ConnectionManager {
    pub fn new(url: &str) -> ConnectionManager {
        ConnectionManager {
            url: sqlite_path(url).unwrap_or(url).to_string(),
            backend: Backend::of_url(url),
            suspect_until: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Opens one connection, reporting the backend's own error text. A
    /// missing SQLite file is created (start-up, migrations, commands).
    pub fn establish(&self) -> Result<DbConnection, ConnectionError> {
        match self.backend {
            Backend::Sqlite => open_sqlite(&self.url),
            Backend::Postgres => Ok(DbConnection::Pg(PgConnection::establish(&self.url)?)),
        }
    }

    /// A connection for the pool. A SQLite file that went missing after
    /// start-up is an outage, never created anew: an empty database would
    /// answer "no such table" (500s), and SQLite deletes the `-wal` file it
    /// finds beside an empty database, losing the commits in it when the
    /// real file comes back.
    fn open_pooled(&self) -> Result<PoolConnection, ManagerError> {
        match self.backend {
            Backend::Sqlite => {
                let conn = open_sqlite(&existing_file_uri(&self.url))?;
                let file = file_id(&self.url).ok_or(ManagerError::FileMoved)?;
                Ok(PoolConnection {
                    conn,
                    file: Some(file),
                })
            }
            Backend::Postgres => Ok(PoolConnection {
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
        conn.file.is_none_or(|id| file_id(&self.url) == Some(id))
    }
}

fn open_sqlite(url: &str) -> Result<DbConnection, ConnectionError> {
    let mut conn = SqliteConnection::establish(url)?;
    conn.batch_execute(SQLITE_CONNECTION_PRAGMAS)
        .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    Ok(DbConnection::Sqlite(conn))
}

/// A SQLite URI that opens `path` only if it exists (`mode=rw`).
fn existing_file_uri(path: &str) -> String {
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

/// Device and inode of the file at `path`.
type FileId = (u64, u64);

fn file_id(path: &str) -> Option<FileId> {
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

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

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
                self.url
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
        unix_now() < self.suspect_until.load(Ordering::Relaxed)
            && conn.batch_execute("SELECT 1").is_err()
    }
}

/// The file path of a SQLite URL (`sqlite://x`, `file:x`, or a plain path).
pub fn sqlite_path(url: &str) -> Option<&str> {
    if Backend::of_url(url) != Backend::Sqlite {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("file:"))
        .unwrap_or(url);
    Some(path.split('?').next().unwrap_or(path))
}

/// Makes the database ready for the pool: WAL (SQLite, once) and migrations.
/// Returns the migrations it applied.
pub fn prepare_database(url: &str) -> Result<Vec<String>, String> {
    let manager = ConnectionManager::new(url);
    let mut conn = manager.establish().map_err(|e| {
        format!(
            "cannot connect to the database: {}",
            one_line(&e.to_string())
        )
    })?;
    if let DbConnection::Sqlite(c) = &mut conn {
        c.batch_execute("PRAGMA journal_mode = WAL;")
            .map_err(|e| format!("cannot set up the SQLite database: {e}"))?;
    }
    run_pending_migrations(&mut conn)
        .map_err(|e| format!("cannot apply migrations: {}", one_line(&e.to_string())))
}

/// libpq's messages span lines; an operator's error is one.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The server's database: a lazily connecting pool (the server starts, and
/// answers 503, while the database is away) plus the outage flag its
/// connection manager reads.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    suspect_until: Arc<AtomicU64>,
    /// One permit per pooled connection. Async callers wait here, as parked
    /// futures, before they take a blocking thread: a slow or absent
    /// database never piles up threads asleep in the pool's queue, and every
    /// caller has its answer, or a 503, within `DATABASE_TIMEOUT`.
    gate: Arc<Semaphore>,
    timeout: Duration,
}

impl Database {
    pub fn new(settings: &Settings) -> Database {
        limit_malloc_arenas();
        let manager = ConnectionManager::new(&settings.database_url);
        let sqlite = manager.backend == Backend::Sqlite;
        let suspect_until = manager.suspect_until.clone();
        let pool = r2d2::Pool::builder()
            .max_size(settings.db_pool_size)
            .min_idle(Some(0))
            .connection_timeout(settings.db_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            // A ping on every checkout costs a round trip per request; broken
            // connections are caught on return instead (`has_broken`). SQLite
            // checks, with one `stat`, that the connection's file is still
            // the database (`is_valid`).
            .test_on_check_out(sqlite)
            .build_unchecked(manager);
        Database {
            pool,
            suspect_until,
            gate: Arc::new(Semaphore::new(settings.db_pool_size as usize)),
            timeout: settings.db_timeout,
        }
    }

    fn report_outage(&self) {
        self.suspect_until.store(unix_now() + 30, Ordering::Relaxed);
    }

    /// Runs a blocking closure on a pooled connection, on the calling thread.
    /// Pool failures become `DbError::Unavailable`; outages are remembered so
    /// the connections they broke are dropped rather than reused.
    pub fn run<T, E>(&self, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError> + AsOutage,
    {
        self.run_within(self.timeout, f)
    }

    /// `run`, waiting at most `timeout` for a connection.
    fn run_within<T, E>(
        &self,
        timeout: Duration,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<DbError> + AsOutage,
    {
        let mut conn = self.pool.get_timeout(timeout).map_err(|e| {
            self.report_outage();
            E::from(DbError::from(e))
        })?;
        let result = f(&mut conn);
        if let Err(e) = &result
            && e.is_outage()
        {
            self.report_outage();
        }
        result
    }

    /// `run` on actix's blocking pool, never on an async worker, once one of
    /// the pool's connections is free; within `DATABASE_TIMEOUT` in all.
    pub async fn call<T, E>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + AsOutage + Send + 'static,
    {
        let started = Instant::now();
        let permit = match self.gate.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                match tokio::time::timeout(self.timeout, self.gate.clone().acquire_owned()).await {
                    Ok(Ok(permit)) => permit,
                    _ => {
                        self.report_outage();
                        return Err(E::from(DbError::Unavailable(
                            "timed out waiting for a database connection".into(),
                        )));
                    }
                }
            }
        };
        let remaining = self.timeout.saturating_sub(started.elapsed());
        let db = self.clone();
        let work = move || {
            let result = db.run_within(remaining, f);
            drop(permit);
            result
        };
        match actix_web::web::block(work).await {
            Ok(result) => result,
            Err(_) => Err(E::from(DbError::Unavailable(
                "the blocking thread pool is shut down".into(),
            ))),
        }
    }

    pub fn state(&self) -> r2d2::State {
        self.pool.state()
    }
}

/// glibc gives each thread that allocates its own malloc arena (up to eight
/// per core), and memory freed into an arena stays with it. SQLite's page
/// caches allocate on whichever blocking thread runs the query, so every
/// thread ended up holding a few MiB: two arenas took the server's peak
/// resident memory from 60 to 35 MiB in the benchmark, at no measurable
/// cost in throughput (BENCHMARKS.md). Process-wide; `MALLOC_ARENA_MAX` in
/// the environment still decides when it is set.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::ffi::c_int;
        const M_ARENA_MAX: c_int = -8;
        unsafe extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            // SAFETY: mallopt only sets a tunable of glibc's allocator; it
            // may be called at any time, from any thread.
            unsafe {
                mallopt(M_ARENA_MAX, 2);
            }
        }
    }
}

/// Errors that can say whether they mean the database is unavailable.
pub trait AsOutage {
    fn is_outage(&self) -> bool;
}

impl AsOutage for DbError {
    fn is_outage(&self) -> bool {
        self.is_unavailable()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn relative_and_memory_paths() {
        assert_eq!(existing_file_uri("db.sqlite3"), "file:db.sqlite3?mode=rw");
        assert_eq!(existing_file_uri("/x/db"), "file:///x/db?mode=rw");
        assert_eq!(existing_file_uri("//x/db"), "file:////x/db?mode=rw");
        assert_eq!(existing_file_uri(":memory:"), ":memory:");
    }

    #[test]
    fn debug_hides_the_database_password() {
        let manager = ConnectionManager::new("postgres://app:s3cret-pw@db/x");
        assert!(!format!("{manager:?}").contains("s3cret-pw"));
    }
}
