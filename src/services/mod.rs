//! The use cases the HTTP layers call: each service method owns its
//! database call (on the blocking pool) and its transaction, and answers in
//! domain types. Handlers parse, call one of them, and render.
//!
//! Layers: `api/`, `admin/` (HTTP) → `services/` → `models/` (domain and
//! Diesel), `auth/` (password hashing, throttle, header parsing) → `db/`,
//! `crypto/`.

mod accounts;
mod audit;
mod failure;
mod last_used;
mod overview;
mod sign_in;
mod tokens;

use std::sync::Arc;

pub use accounts::{Accounts, RegisterError, Registration, UserDetail, UserList};
pub use audit::{AuditList, AuditTrail};
pub use failure::{Failure, cause_chain};
pub use overview::{HourCount, Overview, Overviews};
pub use sign_in::{Attempt, SignIn, SignInError};
pub use tokens::TokenService;

use crate::auth::{LoginThrottle, PasswordHasher};
use crate::crypto::{Sealer, SecretKey};
use crate::db::Database;
use crate::metrics::{Metrics, SharedMetrics};
use crate::models::{Tokens, UserHooks};
use crate::settings::Settings;
use last_used::LastUsedWriter;

/// What the services share: the database and the domain's parts.
pub struct Domain {
    pub db: Database,
    pub tokens: Tokens,
    pub hooks: UserHooks,
    pub hasher: PasswordHasher,
    pub throttle: LoginThrottle,
    /// SQLite: `last_used` of tokens checked on a worker-local read.
    pub last_used: Option<LastUsedWriter>,
    /// This process's metrics (served only when `METRICS_BIND` is set).
    pub metrics: SharedMetrics,
}

impl Domain {
    /// The domain as `settings` configure it, with the token hook registered.
    pub fn new(settings: &Settings, secret: &SecretKey) -> Domain {
        let metrics = Arc::new(Metrics::new());
        let tokens = Tokens::new(Sealer::new(secret), settings.token_ttl)
            .with_format(settings.token_format)
            .counting(metrics.token_events());
        let mut hooks = UserHooks::new();
        hooks.register("create_token", tokens.post_insert_hook());
        let db = Database::new(settings);
        Domain {
            last_used: db.local_reads().map(|_| LastUsedWriter::start(db.clone())),
            db,
            hasher: PasswordHasher::new(
                settings.bcrypt_cost,
                settings.password_hash_concurrency,
                settings.password_hash_queue,
            ),
            throttle: LoginThrottle::new(settings.login_throttle),
            tokens,
            hooks,
            metrics,
        }
    }
}

/// The services, over one shared domain.
#[derive(Clone)]
pub struct Services {
    pub sign_in: SignIn,
    pub accounts: Accounts,
    pub tokens: TokenService,
    pub audit: AuditTrail,
    pub overview: Overviews,
}

impl Services {
    pub fn new(domain: Arc<Domain>) -> Services {
        Services {
            sign_in: SignIn::new(domain.clone()),
            accounts: Accounts::new(domain.clone()),
            audit: AuditTrail::new(domain.clone()),
            overview: Overviews::new(domain.clone()),
            tokens: TokenService::new(domain),
        }
    }
}
