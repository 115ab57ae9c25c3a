//! What every handler shares: the database, the domain services and the
//! settings they need.

use std::sync::Arc;

use crate::auth::{LoginThrottle, PasswordHasher};
use crate::crypto::{SESSION_COOKIE_LABEL, Sealer, SecretKey};
use crate::db::Database;
use crate::models::{Tokens, UserHooks};
use crate::settings::Settings;

pub struct AppState {
    pub db: Database,
    pub tokens: Tokens,
    pub hooks: UserHooks,
    pub hasher: PasswordHasher,
    pub throttle: LoginThrottle,
    pub settings: Settings,
    /// The admin session cookie's key (HKDF of `SECRET_KEY`, its own label).
    pub session_key: [u8; 64],
}

impl AppState {
    pub fn new(settings: Settings, secret: &SecretKey) -> Arc<AppState> {
        let tokens = Tokens::new(Sealer::new(secret), settings.token_ttl);
        let mut hooks = UserHooks::new();
        hooks.register("create_token", tokens.post_insert_hook());
        let session_key = secret.derive::<64>(SESSION_COOKIE_LABEL);
        Arc::new(AppState {
            db: Database::new(&settings),
            hasher: PasswordHasher::new(
                settings.bcrypt_cost,
                settings.password_hash_concurrency,
                settings.password_hash_queue,
            ),
            throttle: LoginThrottle::new(settings.login_throttle),
            tokens,
            hooks,
            settings,
            session_key,
        })
    }
}
