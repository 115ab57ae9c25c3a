//! The server's database: the pool, and the gate async callers pass before
//! they take a blocking thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::r2d2;
use tokio::sync::Semaphore;

use super::manager::{ConnectionManager, Suspicion};
use super::sqlite::SqlitePragmas;
use super::url::Backend;
use super::{AsOutage, DbConnection, DbError, LocalReads, Outage};
use crate::settings::Settings;

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// A lazily connecting pool (the server starts, and answers 503, while the
/// database is away) plus the outage flag its connection manager reads.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    suspicion: Suspicion,
    /// One permit per pooled connection. Async callers wait here, as parked
    /// futures, before they take a blocking thread: a slow or absent
    /// database never piles up threads asleep in the pool's queue, and every
    /// caller has its answer, or a 503, within `DATABASE_TIMEOUT`.
    gate: Arc<Semaphore>,
    timeout: Duration,
    /// SQLite only: reads that may run on the calling worker.
    local: Option<LocalReads>,
}

impl Database {
    pub fn new(settings: &Settings) -> Database {
        let manager = ConnectionManager::new(&settings.database_url)
            .with_statement_cache(settings.db_statement_cache);
        let sqlite = manager.backend() == Backend::Sqlite;
        let suspicion = manager.suspicion().clone();
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
            .connection_customizer(Box::new(SqlitePragmas))
            .build_unchecked(manager);
        Database {
            pool,
            suspicion,
            gate: Arc::new(Semaphore::new(settings.db_pool_size as usize)),
            timeout: settings.db_timeout,
            local: settings.database_url.sqlite_path().map(LocalReads::new),
        }
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

    /// `run` if the pool has an idle connection right now; `None` if not.
    pub fn run_if_idle<T, E>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
    ) -> Option<Result<T, E>> {
        let mut conn = self.pool.try_get()?;
        Some(f(&mut conn))
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
            self.suspicion.report();
            E::from(DbError::from(e))
        })?;
        let result = f(&mut conn);
        if let Err(e) = &result
            && e.is_outage()
        {
            self.suspicion.report();
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
                        self.suspicion.report();
                        return Err(E::from(DbError::from(Outage::TimedOut)));
                    }
                }
            }
        };
        let remaining = self.timeout.saturating_sub(started.elapsed());
        let db = self.clone();
        // The blocking thread logs as part of the caller's request.
        let request_id = crate::logging::current_request_id();
        let work = move || {
            let result =
                crate::logging::in_request_blocking(request_id, || db.run_within(remaining, f));
            drop(permit);
            result
        };
        match actix_web::web::block(work).await {
            Ok(result) => result,
            Err(_) => Err(E::from(DbError::from(Outage::BlockingPoolShutDown))),
        }
    }

    /// Worker-local reads, for the token check (SQLite only; see
    /// `LocalReads` for why they never wait).
    pub fn local_reads(&self) -> Option<&LocalReads> {
        self.local.as_ref()
    }

    pub fn state(&self) -> r2d2::State {
        self.pool.state()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::Integer;
    use diesel::{QueryableByName, RunQueryDsl};

    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Integer)]
        value: i32,
    }

    fn pragma(conn: &mut DbConnection, name: &str) -> i32 {
        let DbConnection::Sqlite(conn) = conn else {
            panic!("a SQLite connection");
        };
        diesel::sql_query(format!("SELECT (SELECT * FROM pragma_{name}) AS value"))
            .get_result::<Value>(conn)
            .unwrap()
            .value
    }

    #[test]
    fn pooled_sqlite_connections_get_the_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let path = path.to_str().unwrap().to_string();
        crate::db::prepare_database(path.as_str()).unwrap();
        let settings = Settings::from_lookup(|name| match name {
            "DATABASE_URL" => Some(path.clone()),
            "DATABASE_POOL_SIZE" => Some("2".into()),
            _ => None,
        })
        .unwrap();
        let db = Database::new(&settings);
        let seen = db
            .run(|conn| {
                Ok::<_, DbError>([
                    pragma(conn, "foreign_keys"),
                    pragma(conn, "busy_timeout"),
                    pragma(conn, "synchronous"),
                    pragma(conn, "cache_size"),
                    pragma(conn, "temp_store"),
                ])
            })
            .unwrap();
        // FULL is 2, MEMORY is 2.
        assert_eq!(seen, [1, 5000, 2, -2000, 2]);
    }
}
