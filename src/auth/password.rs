//! Password hashing (bcrypt) and checking (bcrypt, and the Django hashes of
//! imported users), off the async workers and bounded: at most `concurrency` hashes
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
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::crypto::django_hash;

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
    /// Verified against when the user is unknown, so that such a sign-in
    /// costs what a real one does. Computed, once, on a hashing thread like
    /// any hash.
    dummy: Arc<OnceLock<Dummy>>,
}

struct Dummy {
    hash: String,
    /// How long a verify of bcrypt at `BCRYPT_COST` takes now, in
    /// nanoseconds: every failed check lasts at least this long. Measured
    /// once when the dummy hash is made, then followed (a moving average)
    /// by every such verify, so that it keeps up with the machine's load:
    /// measured on 2 busy cores, a floor fixed at start-up left the unknown
    /// users' sign-ins 15 % slower than the padded ones.
    floor_nanos: AtomicU64,
}

impl Dummy {
    fn floor(&self) -> Duration {
        Duration::from_nanos(self.floor_nanos.load(Ordering::Relaxed))
    }

    /// Adds one verify of bcrypt at `BCRYPT_COST` to the moving average
    /// (weight 1/8).
    fn sample(&self, took: Duration) {
        let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .floor_nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |old| {
                Some(old - old / 8 + took / 8)
            });
    }
}

fn dummy_of(dummy: &OnceLock<Dummy>, cost: u32) -> &Dummy {
    dummy.get_or_init(|| {
        let hash =
            bcrypt::hash("authtoken: no such user", cost).expect("bcrypt accepts costs 4 to 31");
        let started = Instant::now();
        let _ = bcrypt::verify("authtoken: a wrong password", &hash);
        let took = started.elapsed();
        Dummy {
            hash,
            floor_nanos: AtomicU64::new(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX)),
        }
    })
}

/// What a password check found. No `Debug`: it may hold a hash.
pub struct Verdict {
    pub ok: bool,
    /// The stored hash is to be replaced by this server's own.
    pub upgrade: Option<Upgrade>,
}

impl Verdict {
    const NO: Verdict = Verdict {
        ok: false,
        upgrade: None,
    };
}

/// A right password's hash and its replacement (bcrypt at `BCRYPT_COST`).
/// No `Debug`: both are hashes.
pub struct Upgrade {
    /// The hash that was verified: the replacement is written only while it
    /// is still the stored one.
    pub old: String,
    pub new: String,
}

/// A stored hash against a password: Django's encoding, or bcrypt.
fn check(hash: &str, password: &str) -> bool {
    if django_hash::is_django_hash(hash) {
        django_hash::verify(hash, password)
    } else {
        bcrypt::verify(password.as_bytes(), hash).unwrap_or(false)
    }
}

/// Whether a verified hash is to be replaced: a Django hash, or bcrypt of
/// another cost than the configured one.
fn needs_upgrade(hash: &str, cost: u32) -> bool {
    django_hash::is_django_hash(hash) || bcrypt_cost(hash) != Some(cost)
}

/// The cost of a modular-crypt bcrypt hash (`$2b$12$…`).
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let mut parts = hash.split('$');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(_variant), Some(cost)) if cost.len() == 2 => cost.parse().ok(),
        _ => None,
    }
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
            dummy: Arc::new(OnceLock::new()),
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

    /// Checks `password` against `hash` (this server's bcrypt or a Django
    /// hash), or against the dummy hash when there is no user to check
    /// against (the answer is then always no). A right password whose hash
    /// is Django's, or bcrypt of another cost, comes with its replacement,
    /// hashed on the same thread. A wrong one takes at least as long as the
    /// dummy verify (measured, like Django's `harden_runtime`, see
    /// [`Dummy`]), so that a fast hash does not tell a known user from an
    /// unknown one.
    /// `may_upgrade` is false when the sign-in will be refused anyway (an
    /// inactive user): hashing the replacement then would make a right
    /// password slower than a wrong one.
    pub async fn verify(
        &self,
        password: String,
        hash: Option<String>,
        may_upgrade: bool,
    ) -> Result<Verdict, HashError> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let cost = self.cost;
        let dummy = self.dummy.clone();
        let (verdict, pad) = self
            .run(move || {
                let dummy = dummy_of(&dummy, cost);
                let started = Instant::now();
                let ok = match &hash {
                    Some(hash) => check(hash, &password),
                    None => {
                        // The answer is no whatever it says.
                        let _ = bcrypt::verify(password.as_bytes(), &dummy.hash);
                        false
                    }
                };
                let took = started.elapsed();
                if hash.as_deref().is_none_or(|h| !needs_upgrade(h, cost)) {
                    dummy.sample(took);
                }
                match hash {
                    Some(hash) if ok => {
                        let upgrade = (may_upgrade && needs_upgrade(&hash, cost))
                            .then(|| bcrypt::hash(password.as_bytes(), cost).ok())
                            .flatten()
                            .map(|new| Upgrade { old: hash, new });
                        (Verdict { ok, upgrade }, Duration::ZERO)
                    }
                    _ => (Verdict::NO, dummy.floor().saturating_sub(took)),
                }
            })
            .await?;
        // Padded off the hashing threads: a waiting sign-in holds no slot.
        if !pad.is_zero() {
            tokio::time::sleep(pad).await;
        }
        Ok(verdict)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_of_bcrypt_hashes() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        assert_eq!(bcrypt_cost(&hash), Some(4));
        assert!(!needs_upgrade(&hash, 4));
        assert!(needs_upgrade(&hash, 5));
        assert!(needs_upgrade("bcrypt$$2b$04$abc", 4));
        assert!(needs_upgrade("pbkdf2_sha256$1$salt$hash", 4));
        assert_eq!(bcrypt_cost("garbage"), None);
    }

    #[test]
    fn unusable_and_malformed_hashes_never_verify() {
        assert!(!check("!unusable", ""));
        assert!(!check("!", "!"));
        assert!(!check("", ""));
        assert!(!check("$2b$04$tooshort", "x"));
    }

    #[tokio::test]
    async fn a_right_password_is_upgraded_a_wrong_one_not() {
        let hasher = PasswordHasher::new(5, 2, 8);
        let old = bcrypt::hash("right", 4).unwrap();
        let verdict = hasher
            .verify("right".into(), Some(old.clone()), true)
            .await
            .unwrap();
        assert!(verdict.ok);
        let upgrade = verdict.upgrade.expect("an upgrade");
        assert_eq!(upgrade.old, old);
        assert_eq!(bcrypt_cost(&upgrade.new), Some(5));
        assert!(bcrypt::verify("right", &upgrade.new).unwrap());
        let wrong = hasher
            .verify("wrong".into(), Some(old.clone()), true)
            .await
            .unwrap();
        assert!(!wrong.ok && wrong.upgrade.is_none());
        let current = bcrypt::hash("right", 5).unwrap();
        let same = hasher
            .verify("right".into(), Some(current), true)
            .await
            .unwrap();
        assert!(same.ok && same.upgrade.is_none());
        let refused = hasher
            .verify("right".into(), Some(old), false)
            .await
            .unwrap();
        assert!(refused.ok && refused.upgrade.is_none());
        let unknown = hasher.verify("right".into(), None, true).await.unwrap();
        assert!(!unknown.ok);
    }
}
