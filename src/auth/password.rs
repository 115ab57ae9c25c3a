//! bcrypt, off the async workers and bounded: at most `concurrency` hashes
//! run at once, at most `queue` wait; beyond that callers are told to come
//! back later, so sign-ins never take every core from the rest of the API.
//!
//! Each hash runs on a thread of its own at a lower scheduling priority
//! (nice 10): when the machine has idle time a hash runs at full speed, and
//! when the token-authenticated requests want the cores they get them first.
//! Measured on 2 cores with 16 clients signing in without pause, `me/` kept
//! 0.84 of its throughput this way, against 0.62 with the hashes on actix's
//! blocking pool at normal priority (BENCHMARKS.md).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks are waiting")]
    Busy,
    #[error("bcrypt failed")]
    Bcrypt(#[from] bcrypt::BcryptError),
    #[error("cannot start a hashing thread")]
    Spawn(#[source] std::io::Error),
    #[error("the hashing thread stopped without an answer")]
    Lost,
}

pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue_limit: usize,
    verifications: AtomicU64,
    /// Verified against when the user is unknown or inactive, so that such a
    /// sign-in costs what a real one does. Computed, once, on a hashing
    /// thread like any hash.
    dummy_hash: Arc<OnceLock<String>>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("cost", &self.cost)
            .field("available", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    pub fn new(cost: u32, concurrency: usize, queue_limit: usize) -> PasswordHasher {
        PasswordHasher {
            cost,
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: AtomicUsize::new(0),
            queue_limit,
            verifications: AtomicU64::new(0),
            dummy_hash: Arc::new(OnceLock::new()),
        }
    }

    pub fn cost(&self) -> u32 {
        self.cost
    }

    /// How many password checks wait for a hashing thread now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }

    /// How many verifications have run (tests count them).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue_limit {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(HashError::Busy);
                }
                let permit = self.permits.clone().acquire_owned().await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                // The semaphore is never closed.
                permit.map_err(|_| HashError::Lost)?
            }
        };
        let (done, result) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("bcrypt".into())
            .spawn(move || {
                lower_priority();
                let out = work();
                drop(permit);
                let _ = done.send(out);
            })
            .map_err(HashError::Spawn)?;
        result.await.map_err(|_| HashError::Lost)
    }

    /// Checks `password` against `hash`, or against the dummy hash when
    /// there is no user to check against (the answer is then always false).
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let cost = self.cost;
        let dummy = self.dummy_hash.clone();
        self.run(move || match hash {
            Some(hash) => bcrypt::verify(password.as_bytes(), &hash).unwrap_or(false),
            None => {
                let hash = dummy.get_or_init(|| {
                    bcrypt::hash("authtoken: no such user", cost)
                        .expect("bcrypt accepts costs 4 to 31")
                });
                // The answer is false whatever it says.
                let _ = bcrypt::verify(password.as_bytes(), hash);
                false
            }
        })
        .await
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let cost = self.cost;
        Ok(self
            .run(move || bcrypt::hash(password.as_bytes(), cost))
            .await??)
    }

    /// For the command line, where there is no async runtime and one caller.
    pub fn hash_blocking(&self, password: &str) -> Result<String, HashError> {
        Ok(bcrypt::hash(password.as_bytes(), self.cost)?)
    }
}

/// Makes the calling thread yield the CPU to the server's other threads:
/// nice 10, which weighs about a tenth of a normal thread when both want a
/// core. On Linux `setpriority(PRIO_PROCESS, 0, …)` applies to the calling
/// thread only. Raising one's own nice value needs no privilege; if it fails
/// the hash simply runs at normal priority.
#[cfg(target_os = "linux")]
fn lower_priority() {
    use std::ffi::c_int;
    const PRIO_PROCESS: c_int = 0;
    const HASH_NICE: c_int = 10;
    unsafe extern "C" {
        fn setpriority(which: c_int, who: u32, prio: c_int) -> c_int;
    }
    // SAFETY: a plain system call on the calling thread, no memory involved.
    unsafe {
        setpriority(PRIO_PROCESS, 0, HASH_NICE);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}
