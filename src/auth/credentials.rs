//! Checking a username and password: the one path every sign-in takes (the
//! API's and the admin's), so both share the throttle and the timing rules.

use actix_web::web;

use super::{HashError, LoginThrottle};
use crate::db::{AsOutage, DbError};
use crate::models::{User, users};
use crate::state::AppState;

/// Why a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Wrong password, unknown user, inactive user, or (for the admin) a
    /// user who is not staff: one answer for all of them.
    #[error("invalid credentials")]
    Invalid,
    /// Too many recent failures for this client and username; wait this
    /// many seconds.
    #[error("throttled for {0}s")]
    Throttled(u64),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

impl AsOutage for CredentialsError {
    fn is_outage(&self) -> bool {
        matches!(self, CredentialsError::Db(e) if e.is_unavailable())
    }
}

/// Who may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Any active user (the API).
    AnyUser,
    /// Active staff only (the admin pages).
    Staff,
}

/// The user whose password this is, or `Invalid` for every kind of failure.
/// Exactly one bcrypt verification runs whether or not the user exists, is
/// active or is staff, so neither the answer nor its timing tells them apart.
/// Failures count against the `(client, username)` throttle scope.
pub async fn check_credentials(
    state: &web::Data<AppState>,
    client: &str,
    username: String,
    password: String,
    audience: Audience,
) -> Result<User, CredentialsError> {
    let scope = LoginThrottle::scope(client, &username);
    let app = state.clone();
    let lookup_scope = scope.clone();
    let user = state
        .db
        .call(move |conn| {
            if let Some(wait) = app.throttle.check(conn, &lookup_scope)? {
                return Err(CredentialsError::Throttled(wait));
            }
            Ok(users::find_by_username(conn, &username)?)
        })
        .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = state.hasher.verify(password, hash).await?;
    match user {
        Some(user)
            if password_ok
                && user.is_active
                && (audience == Audience::AnyUser || user.is_staff) =>
        {
            Ok(user)
        }
        _ => {
            let app = state.clone();
            state
                .db
                .call(move |conn| {
                    app.throttle
                        .record_failure(conn, &scope)
                        .map_err(CredentialsError::from)
                })
                .await?;
            Err(CredentialsError::Invalid)
        }
    }
}
