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
mod named_tokens;
mod overview;
mod sign_in;
mod staff_sessions;
mod tokens;
mod two_factor;

use std::sync::Arc;

pub use accounts::{Accounts, RegisterError, Registration, UserDetail, UserList};
pub use audit::{AuditList, AuditTrail};
pub use failure::{Failure, cause_chain};
pub use named_tokens::NamedTokensError;
pub use overview::{HourCount, Overview, Overviews};
pub use sign_in::{Attempt, SignIn, SignInError, StaffSignIn};
pub use staff_sessions::{Identified, SessionLookup, StaffSessions};
pub use tokens::TokenService;
pub use two_factor::{AccountState, CodeError, Enrolment, TwoFactor};

use crate::auth::{LoginThrottle, PasswordHasher};
use crate::crypto::{Sealer, SecretKey, TOTP_SEALING_LABEL};
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
    /// `last_used` of the tokens checked, written off the requests.
    pub last_used: LastUsedWriter,
    /// This process's metrics (served only when `METRICS_BIND` is set).
    pub metrics: SharedMetrics,
    /// Seals two-factor secrets (a key of its own, not the tokens').
    pub totp_sealer: Sealer,
    /// How long an admin session lasts from its sign-in.
    pub admin_session_ttl: chrono::TimeDelta,
}

impl Domain {
    /// The domain as `settings` configure it, with the token hook registered.
    pub fn new(settings: &Settings, secret: &SecretKey) -> Domain {
        let metrics = Arc::new(Metrics::new());
        let tokens = Tokens::new(Sealer::new(secret), settings.token_ttl)
            .with_format(settings.token_format)
            .with_named_limit(settings.token_limit_per_user)
            .counting(metrics.token_events());
        let mut hooks = UserHooks::new();
        hooks.register("create_token", tokens.post_insert_hook());
        let db = Database::new(settings);
        Domain {
            last_used: LastUsedWriter::start(db.clone()),
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
            totp_sealer: Sealer::labelled(secret, TOTP_SEALING_LABEL),
            admin_session_ttl: chrono::TimeDelta::from_std(settings.admin_session_ttl)
                .unwrap_or(chrono::TimeDelta::MAX),
        }
    }
}

/// The services, over one shared domain.
#[derive(Clone)]
pub struct Services {
    pub sign_in: SignIn,
    pub accounts: Accounts,
    pub tokens: TokenService,
    pub staff_sessions: StaffSessions,
    pub two_factor: TwoFactor,
    pub audit: AuditTrail,
    pub overview: Overviews,
}

impl Services {
    pub fn new(domain: Arc<Domain>) -> Services {
        Services {
            sign_in: SignIn::new(domain.clone()),
            accounts: Accounts::new(domain.clone()),
            staff_sessions: StaffSessions::new(domain.clone()),
            two_factor: TwoFactor::new(domain.clone(), SignIn::new(domain.clone())),
            audit: AuditTrail::new(domain.clone()),
            overview: Overviews::new(domain.clone()),
            tokens: TokenService::new(domain),
        }
    }
}
