//! Who is asking: every admin request re-reads its user (one query), so a
//! session ends as soon as the user is deactivated, deleted, has a new
//! password, or its time is up; a user who is no longer staff gets 403.

use actix_web::web;

use super::AdminError;
use super::session::{AdminSession, Level};
use crate::models::{User, clock};
use crate::state::AppState;

/// The visitor, as the session and the database tell it.
pub enum Visitor {
    Anonymous,
    Staff(User),
    /// Signed in, active, but not staff (any more).
    NotStaff(User),
}

/// A signed-in staff user and the session's CSRF token for the page's forms.
pub struct Staff {
    pub user: User,
    pub csrf: String,
}

pub fn unix_now() -> i64 {
    clock::now().and_utc().timestamp()
}

pub async fn identify(
    session: &AdminSession,
    state: &web::Data<AppState>,
) -> Result<Visitor, AdminError> {
    let Some(user_id) = session.user_id() else {
        return Ok(Visitor::Anonymous);
    };
    if session.is_expired(state.settings.admin_session_ttl, unix_now()) {
        session.sign_out();
        session.flash(
            Level::Info,
            "Your session has expired. Please sign in again.",
        )?;
        return Ok(Visitor::Anonymous);
    }
    let user = state.services.accounts.find(user_id).await?;
    match user {
        Some(user) if user.is_active && session.matches_password(&user, &state.session_key) => {
            if user.is_staff {
                Ok(Visitor::Staff(user))
            } else {
                Ok(Visitor::NotStaff(user))
            }
        }
        _ => {
            // Deleted, deactivated, or the password changed: the session is over.
            session.sign_out();
            Ok(Visitor::Anonymous)
        }
    }
}

/// The signed-in staff user, or the refusal: a redirect to the sign-in
/// (coming back to `next` afterwards) or 403.
pub async fn require_staff(
    session: &AdminSession,
    state: &web::Data<AppState>,
    next: Option<String>,
) -> Result<Staff, AdminError> {
    match identify(session, state).await? {
        Visitor::Staff(user) => Ok(Staff {
            user,
            csrf: session.csrf_token()?,
        }),
        Visitor::Anonymous => Err(AdminError::LoginRequired { next }),
        Visitor::NotStaff(user) => Err(AdminError::NotStaff {
            username: user.username,
            csrf: session.csrf_token()?,
        }),
    }
}

/// The request's own path and query, for `next`.
pub fn here(req: &actix_web::HttpRequest) -> Option<String> {
    req.uri().path_and_query().map(|p| p.as_str().to_string())
}
