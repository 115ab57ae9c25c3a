use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

use super::{DbConnection, DbError, run_pending_migrations};
use crate::settings::{Backend, Settings};

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Per-connection SQLite settings. WAL is set once, in `prepare_database`:
/// switching every new pooled connection to WAL makes them lock each other.
/// `synchronous = FULL` makes every acknowledged commit durable on power loss
/// too, at the price of an fsync per write; writes are rare here.
const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 5000; \
     PRAGMA synchronous = FULL; \
     PRAGMA cache_size = -16000; \
     PRAGMA temp_store = MEMORY;";

/// Opens connections for the pool, choosing the backend from the URL's scheme
/// (diesel's own `MultiConnection::establish` tries each backend in turn and
/// hides the real error).
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    /// Unix time (s) until which returned connections are checked before
    /// they go back into the pool: set when an outage was seen, so that a
    /// connection broken by it is dropped instead of handed out again.
    suspect_until: Arc<AtomicU64>,
}

impl ConnectionManager {
    pub fn new(url: &str) -> ConnectionManager {
        ConnectionManager {
            url: sqlite_path(url).unwrap_or(url).to_string(),
            backend: Backend::of_url(url),
            suspect_until: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Opens one connection, reporting the backend's own error text.
    pub fn establish(&self) -> Result<DbConnection, ConnectionError> {
        match self.backend {
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url)?;
                conn.batch_execute(SQLITE_CONNECTION_PRAGMAS)
                    .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
            Backend::Postgres => Ok(DbConnection::Pg(PgConnection::establish(&self.url)?)),
        }
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
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ManagerError;

    fn connect(&self) -> Result<DbConnection, ManagerError> {
        Ok(self.establish()?)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ManagerError> {
        Ok(conn.batch_execute("SELECT 1")?)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        if diesel::r2d2::R2D2Connection::is_broken(conn) {
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
    let mut conn = manager
        .establish()
        .map_err(|e| format!("cannot connect to the database: {}", one_line(&e.to_string())))?;
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
}

impl Database {
    pub fn new(settings: &Settings) -> Database {
        let manager = ConnectionManager::new(&settings.database_url);
        let suspect_until = manager.suspect_until.clone();
        let pool = r2d2::Pool::builder()
            .max_size(settings.db_pool_size)
            .min_idle(Some(0))
            .connection_timeout(settings.db_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            // A ping on every checkout costs a round trip per request; broken
            // connections are caught on return instead (`has_broken`).
            .test_on_check_out(false)
            .build_unchecked(manager);
        Database {
            pool,
            suspect_until,
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
        let mut conn = self.pool.get().map_err(|e| {
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

    /// `run` on actix's blocking pool, never on an async worker.
    pub async fn call<T, E>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + AsOutage + Send + 'static,
    {
        let db = self.clone();
        match actix_web::web::block(move || db.run(f)).await {
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

/// Errors that can say whether they mean the database is unavailable.
pub trait AsOutage {
    fn is_outage(&self) -> bool;
}

impl AsOutage for DbError {
    fn is_outage(&self) -> bool {
        self.is_unavailable()
    }
}
