//! Read-only SQLite lookups on the calling thread — an actix worker — on a
//! connection that thread owns, so that the token check does not pay for a
//! hand-over to the blocking pool (two context switches per request: half
//! the server's CPU per `me/`, BENCHMARKS.md). Allowed because it can never
//! wait: WAL readers do not wait for writers, the connection has no busy
//! timeout, and a busy, locked or failed read is not retried here — the
//! caller falls back to the pool at once. The connection is `query_only`:
//! nothing can be written through it. Nothing is cached between requests:
//! every read sees the last commit of any process.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryResult};

use super::file_watch::FileWatch;
use super::manager::{FileId, file_id};
use super::sqlite::existing_file_uri;

/// No busy timeout (SQLite's default is none): a lock is an answer, not a
/// wait. A small page cache: one lookup touches a handful of pages.
const LOCAL_PRAGMAS: &str = "PRAGMA query_only = ON; \
     PRAGMA cache_size = -500; \
     PRAGMA temp_store = MEMORY;";

/// The thread's connection, the file it opened and the watch that tells
/// when that file may have moved.
struct Local {
    path: String,
    file: FileId,
    watch: FileWatch,
    conn: SqliteConnection,
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Worker-local reads of one SQLite database file.
#[derive(Clone, Debug)]
pub struct LocalReads {
    path: String,
    fallbacks: Arc<AtomicU64>,
    /// Reads still to be answered "database is locked" (`force_busy`).
    forced_busy: Arc<AtomicU64>,
}

impl LocalReads {
    pub fn new(path: &str) -> LocalReads {
        LocalReads {
            path: path.to_owned(),
            fallbacks: Arc::new(AtomicU64::new(0)),
            forced_busy: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Makes the next `reads` reads fail as SQLite's `SQLITE_BUSY` would.
    /// A real one cannot be provoked while the server runs (every WAL
    /// connection keeps a shared lock for its lifetime), so the reliability
    /// tests force it here to show the fallback.
    pub fn force_busy(&self, reads: u64) {
        self.forced_busy.store(reads, Ordering::Relaxed);
    }

    fn take_forced_busy(&self) -> bool {
        self.forced_busy
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Runs `read` on this thread's connection; `None` when the caller must
    /// use the pool instead: the file is not there or is not the one the
    /// connection opened (moved, deleted, replaced: a `stat`, as the pool's
    /// own check, once the folder's watch saw something happen), the
    /// database is busy or locked, or anything failed.
    pub fn read<T>(&self, read: impl FnOnce(&mut SqliteConnection) -> QueryResult<T>) -> Option<T> {
        let answer = LOCAL.with_borrow_mut(|slot| {
            let current = match slot.as_mut() {
                Some(local) if local.path == self.path => {
                    !local.watch.maybe_moved() || file_id(&self.path) == Some(local.file)
                }
                _ => false,
            };
            if !current {
                *slot = None;
                *slot = Some(self.open()?);
            }
            let local = slot.as_mut()?;
            let result = if self.take_forced_busy() {
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::Unknown,
                    Box::new("database is locked (forced)".to_string()),
                ))
            } else {
                read(&mut local.conn)
            };
            match result {
                Ok(value) => Some(value),
                Err(e) => {
                    log::debug!("local read fell back to the pool: {e}");
                    // A connection that failed other than by being busy is
                    // not trusted again.
                    if !is_busy(&e) {
                        *slot = None;
                    }
                    None
                }
            }
        });
        if answer.is_none() {
            self.fallbacks.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    fn open(&self) -> Option<Local> {
        // The watch first: a move after it is seen, whenever it happens.
        let watch = FileWatch::new(&self.path);
        let file = file_id(&self.path)?;
        let mut conn = SqliteConnection::establish(&existing_file_uri(&self.path)).ok()?;
        conn.batch_execute(LOCAL_PRAGMAS).ok()?;
        Some(Local {
            path: self.path.clone(),
            file,
            watch,
            conn,
        })
    }

    /// How many reads went to the pool instead, since start.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }
}

fn is_busy(e: &diesel::result::Error) -> bool {
    matches!(
        e,
        diesel::result::Error::DatabaseError(_, info)
            if info.message().contains("locked") || info.message().contains("busy")
    )
}
