//! The admin session: a signed and encrypted cookie (actix-session's cookie
//! store, keyed from `SECRET_KEY`) holding who signed in and when, a
//! fingerprint of their password hash, the CSRF token and flash messages.
//! Nothing is stored on the server, so every check (expiry, the user still
//! being active staff, the password unchanged) is made on each request.

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::{Key, SameSite, time};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::AdminError;
use super::csrf;
use crate::models::{User, UserId};
use crate::services::Failure;
use crate::settings::Settings;

/// The cookie's name over plain HTTP (development, tests).
pub const COOKIE_NAME: &str = "authtoken_admin";
/// The cookie's name when `SECURE_COOKIES` is on: the `__Host-` prefix makes
/// the browser insist on `Secure`, `Path=/` and no `Domain`.
pub const SECURE_COOKIE_NAME: &str = "__Host-authtoken_admin";

const USER_ID: &str = "uid";
const SIGNED_IN_AT: &str = "at";
const AUTH_HASH: &str = "auth";
const CSRF_TOKEN: &str = "csrf";
const FLASHES: &str = "flash";
const MAX_FLASHES: usize = 5;

pub fn middleware(settings: &Settings, key: &[u8; 64]) -> SessionMiddleware<CookieSessionStore> {
    let ttl = i64::try_from(settings.admin_session_ttl.as_secs()).unwrap_or(i64::MAX / 1000);
    let name = if settings.secure_cookies {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    };
    SessionMiddleware::builder(CookieSessionStore::default(), Key::from(key))
        .cookie_name(name.to_string())
        .cookie_secure(settings.secure_cookies)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        .cookie_path("/".to_string())
        .cookie_domain(None)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(PersistentSession::default().session_ttl(time::Duration::seconds(ttl)))
        .build()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Success,
    Info,
    Error,
}

/// A message shown once, on the next page the staff user sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub level: Level,
    pub text: String,
}

impl Flash {
    pub fn new(level: Level, text: impl Into<String>) -> Flash {
        Flash {
            level,
            text: text.into(),
        }
    }

    /// The CSS class modifier.
    pub fn class(&self) -> &'static str {
        match self.level {
            Level::Success => "success",
            Level::Info => "info",
            Level::Error => "error",
        }
    }

    /// Errors interrupt a screen reader; the rest wait their turn.
    pub fn role(&self) -> &'static str {
        match self.level {
            Level::Error => "alert",
            Level::Success | Level::Info => "status",
        }
    }
}

/// The typed view of the session the admin handlers use.
pub struct AdminSession(Session);

impl AdminSession {
    pub fn new(session: Session) -> AdminSession {
        AdminSession(session)
    }

    /// A value that cannot be read (an older format) counts as absent.
    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0.get(key).ok().flatten()
    }

    fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<(), AdminError> {
        self.0.insert(key, value).map_err(|e| {
            Failure::internal(anyhow::Error::new(e).context("cannot write the session")).into()
        })
    }

    pub fn user_id(&self) -> Option<UserId> {
        self.get::<i32>(USER_ID).map(UserId::new)
    }

    /// True once `ttl` has passed since the sign-in. The cookie's own
    /// `Max-Age` is only advice to the browser; this is the rule.
    pub fn is_expired(&self, ttl: std::time::Duration, now: i64) -> bool {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        match self.get::<i64>(SIGNED_IN_AT) {
            Some(at) => now.saturating_sub(at) >= ttl || at > now.saturating_add(300),
            None => true,
        }
    }

    /// Whether the session was made for the user's current password: a
    /// password change ends every session signed in with the old one.
    pub fn matches_password(&self, user: &User, key: &[u8; 64]) -> bool {
        let stored: Option<String> = self.get(AUTH_HASH);
        stored.is_some_and(|s| {
            let expected = auth_hash(user, key);
            subtle::ConstantTimeEq::ct_eq(s.as_bytes(), expected.as_bytes()).into()
        })
    }

    /// Starts a signed-in session: whatever the session held before (an
    /// anonymous CSRF token included) is dropped and a new cookie issued.
    pub fn sign_in(&self, user: &User, key: &[u8; 64], now: i64) -> Result<(), AdminError> {
        self.0.clear();
        self.insert(USER_ID, user.id.get())?;
        self.insert(SIGNED_IN_AT, now)?;
        self.insert(AUTH_HASH, auth_hash(user, key))?;
        self.insert(CSRF_TOKEN, csrf::new_token())?;
        self.0.renew();
        Ok(())
    }

    /// Ends the signed-in session. The cookie stays usable for what an
    /// anonymous visitor needs (a flash message, the sign-in form's token).
    pub fn sign_out(&self) {
        self.0.clear();
        self.0.renew();
    }

    /// The session's CSRF token, created when there is none yet.
    pub fn csrf_token(&self) -> Result<String, AdminError> {
        if let Some(token) = self.existing_csrf_token() {
            return Ok(token);
        }
        let token = csrf::new_token();
        self.insert(CSRF_TOKEN, &token)?;
        Ok(token)
    }

    pub fn existing_csrf_token(&self) -> Option<String> {
        self.get::<String>(CSRF_TOKEN).filter(|t| !t.is_empty())
    }

    /// Queues a message for the next page; only the latest few are kept, so
    /// the cookie stays small whatever a client does.
    pub fn flash(&self, level: Level, text: impl Into<String>) -> Result<(), AdminError> {
        let mut flashes = self.get::<Vec<Flash>>(FLASHES).unwrap_or_default();
        flashes.push(Flash::new(level, text));
        let excess = flashes.len().saturating_sub(MAX_FLASHES);
        flashes.drain(..excess);
        self.insert(FLASHES, flashes)
    }

    /// The pending flash messages, removed from the session.
    pub fn take_flashes(&self) -> Vec<Flash> {
        if !self.0.contains_key(FLASHES) {
            return Vec::new();
        }
        match self.0.remove_as::<Vec<Flash>>(FLASHES) {
            Some(Ok(flashes)) => flashes,
            _ => Vec::new(),
        }
    }
}

/// A keyed fingerprint of the user's id and password hash, kept in the
/// encrypted session (Django's session auth hash).
fn auth_hash(user: &User, key: &[u8; 64]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"authtoken/admin-session-auth/v1\0");
    hasher.update(key);
    hasher.update(user.id.get().to_be_bytes());
    hasher.update(user.password_hash.as_bytes());
    hex::encode(hasher.finalize())
}
