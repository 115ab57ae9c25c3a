//! bcrypt, off the async workers and bounded: at most `concurrency` hashes
//! run at once, at most `queue` wait; beyond that callers are told to come
//! back later, so sign-ins never take every core from the rest of the API.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password checks are waiting")]
    Busy,
    #[error("password hashing failed: {0}")]
    Failed(String),
}

pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue_limit: usize,
    verifications: AtomicU64,
    /// Verified against when the user is unknown or inactive, so that such a
    /// sign-in costs what a real one does.
    dummy_hash: OnceLock<String>,
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
            dummy_hash: OnceLock::new(),
        }
    }

    pub fn cost(&self) -> u32 {
        self.cost
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
                permit.map_err(|e| HashError::Failed(e.to_string()))?
            }
        };
        let result = actix_web::web::block(move || {
            let out = work();
            drop(permit);
            out
        })
        .await;
        result.map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Checks `password` against `hash`, or against the dummy hash when
    /// there is no user to check against (the answer is then always false).
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, HashError> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let real = hash.is_some();
        let cost = self.cost;
        let hash = hash.unwrap_or_else(|| {
            self.dummy_hash
                .get_or_init(|| {
                    bcrypt::hash("authtoken: no such user", cost)
                        .expect("bcrypt accepts costs 4 to 31")
                })
                .clone()
        });
        let ok = self
            .run(move || bcrypt::verify(password.as_bytes(), &hash).unwrap_or(false))
            .await?;
        Ok(ok && real)
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let cost = self.cost;
        self.run(move || bcrypt::hash(password.as_bytes(), cost))
            .await?
            .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// For the command line, where there is no async runtime and one caller.
    pub fn hash_blocking(&self, password: &str) -> Result<String, HashError> {
        bcrypt::hash(password.as_bytes(), self.cost).map_err(|e| HashError::Failed(e.to_string()))
    }
}
