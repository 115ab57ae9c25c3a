//! What every handler shares: the services, the settings the HTTP layers
//! read, and the admin session cookie's key.

use std::sync::Arc;

use crate::crypto::{SESSION_COOKIE_LABEL, SecretKey};
use crate::services::{Domain, Services};
use crate::settings::Settings;

pub struct AppState {
    pub settings: Settings,
    pub services: Services,
    /// The domain the services share; tests and probes reach it directly.
    pub domain: Arc<Domain>,
    /// The admin session cookie's key (HKDF of `SECRET_KEY`, its own label).
    pub session_key: [u8; 64],
}

impl AppState {
    pub fn new(settings: Settings, secret: &SecretKey) -> Arc<AppState> {
        let domain = Arc::new(Domain::new(&settings, secret));
        Arc::new(AppState {
            services: Services::new(domain.clone()),
            domain,
            session_key: secret.derive::<64>(SESSION_COOKIE_LABEL),
            settings,
        })
    }
}
