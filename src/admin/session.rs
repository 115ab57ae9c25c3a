//! The admin session's cookie: signed and encrypted (actix-session's cookie
//! store, keyed from `SECRET_KEY`), it holds the id of a session kept in
//! the database (`models::admin_sessions`) and, for every visitor, the CSRF
//! token and flash messages. Who is signed in, since when and until when is
//! only in the database: signing out deletes the row, and a copy of the
//! cookie then points at nothing. Anonymous visitors (the sign-in form's
//! CSRF token) write nothing on the server.
//!
//! Why not actix-session's `SessionStore` over the database: its store sees
//! neither the request (client address, browser) nor the user, would write a
//! row for every anonymous visitor given a CSRF token, and turns a database
//! outage into its own 500 inside the middleware instead of the admin's 503
//! page. Here the cookie store does the cookie's plumbing and the guard
//! reads the row, through the services, like every other admin query.

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::{Key, SameSite, time};
use serde::{Deserialize, Serialize};

use super::AdminError;
use super::csrf;
use crate::models::admin_sessions::SessionId;
use crate::services::Failure;
use crate::settings::Settings;

/// The cookie's name over plain HTTP (development, tests).
pub const COOKIE_NAME: &str = "authtoken_admin";
/// The cookie's name when `SECURE_COOKIES` is on: the `__Host-` prefix makes
/// the browser insist on `Secure`, `Path=/` and no `Domain`.
pub const SECURE_COOKIE_NAME: &str = "__Host-authtoken_admin";

const SESSION_ID: &str = "sid";
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

    /// The id of the server-side session this cookie points at, if any.
    pub fn session_id(&self) -> Option<SessionId> {
        self.get::<String>(SESSION_ID)
            .and_then(|raw| SessionId::parse(&raw))
    }

    /// Points the cookie at a new server-side session: whatever it held
    /// before (an anonymous CSRF token included) is dropped and a new
    /// cookie issued.
    pub fn start(&self, id: &SessionId) -> Result<(), AdminError> {
        self.0.clear();
        self.insert(SESSION_ID, id.as_str())?;
        self.insert(CSRF_TOKEN, csrf::new_token())?;
        self.0.renew();
        Ok(())
    }

    /// Forgets the session (its row is the caller's to delete). The cookie
    /// stays usable for what an anonymous visitor needs (a flash message,
    /// the sign-in form's token).
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
