//! `last_used` for tokens checked on a worker-local read (which cannot
//! write): noted in memory, written by a thread of its own once a second in
//! one transaction, off every request. A crash loses at most the last
//! second's uses — never a key, never a revocation, which are written by
//! their own requests.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::Connection;

use super::cause_chain;
use crate::db::{Database, DbError};
use crate::models::tokens::touch_last_used;
use crate::models::{Digest, UserId};

const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Pending {
    uses: HashMap<(UserId, Digest), NaiveDateTime>,
    stopping: bool,
}

type Shared = Arc<(Mutex<Pending>, Condvar)>;

pub struct LastUsedWriter {
    shared: Shared,
    thread: Option<JoinHandle<()>>,
}

impl LastUsedWriter {
    pub fn start(db: Database) -> LastUsedWriter {
        let shared: Shared = Arc::default();
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("last-used".into())
            .spawn(move || write_loop(&db, &theirs))
            .map_err(|e| log::warn!("cannot start the last_used writer: {e}"))
            .ok();
        LastUsedWriter { shared, thread }
    }

    /// Notes a use; the first note of a token until the next write wins
    /// (uses are recorded at most once a minute anyway).
    pub fn note(&self, user: UserId, digest: &Digest, at: NaiveDateTime) {
        let mut pending = lock(&self.shared.0);
        pending.uses.entry((user, digest.clone())).or_insert(at);
    }
}

impl Drop for LastUsedWriter {
    /// Writes what is noted before the server goes.
    fn drop(&mut self) {
        lock(&self.shared.0).stopping = true;
        self.shared.1.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(mutex: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    // A panic while holding it leaves nothing half-done: a map of notes.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_loop(db: &Database, shared: &Shared) {
    let (mutex, wake) = &**shared;
    loop {
        let (uses, stopping) = {
            let pending = lock(mutex);
            let (mut pending, _) = wake
                .wait_timeout_while(pending, FLUSH_EVERY, |p| !p.stopping)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            (std::mem::take(&mut pending.uses), pending.stopping)
        };
        if !uses.is_empty() {
            let write = |conn: &mut crate::db::DbConnection| {
                conn.transaction(|conn| {
                    for ((user, digest), at) in &uses {
                        touch_last_used(conn, *user, digest, *at)?;
                    }
                    Ok::<_, DbError>(())
                })
            };
            // While stopping, only on a connection the pool has at hand: a
            // server going down does not wait for a database that went away.
            let written = if stopping {
                db.run_if_idle(write).unwrap_or(Ok(()))
            } else {
                db.run(write)
            };
            if let Err(e) = written {
                log::warn!(
                    "could not record when {} tokens were last used: {}",
                    uses.len(),
                    cause_chain(&e)
                );
            }
        }
        if stopping {
            return;
        }
    }
}
