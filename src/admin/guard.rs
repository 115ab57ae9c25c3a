//! Who is asking: every admin request reads its session's row and user
//! (one query), so a session ends as soon as it is signed out anywhere, the
//! user is deactivated, deleted, has a new password, or its time is up; a
//! user who is no longer staff gets 403. A session still waiting for its
//! second factor reaches nothing but the code form and `Sign out`.

use actix_web::web;

use super::AdminError;
use super::session::{AdminSession, Level};
use crate::models::User;
use crate::services::SessionLookup;
use crate::state::AppState;

/// The visitor, as the session and the database tell it.
pub enum Visitor {
    Anonymous,
    Staff(Staff),
    /// Signed in, active, but not staff (any more).
    NotStaff(User),
    /// The password was right; the two-factor code is still due.
    Pending(User),
}

/// A signed-in staff user, their session and its CSRF token for the page's
/// forms.
pub struct Staff {
    pub user: User,
    pub csrf: String,
    /// The session's row id (to tell it from the user's other sessions).
    pub session: i32,
    /// Whether the user has two-factor sign-in on.
    pub two_factor: bool,
}

pub async fn identify(
    session: &AdminSession,
    state: &web::Data<AppState>,
) -> Result<Visitor, AdminError> {
    let Some(id) = session.session_id() else {
        return Ok(Visitor::Anonymous);
    };
    match state.services.staff_sessions.identify(id).await? {
        SessionLookup::Live(found) if found.session.pending => Ok(Visitor::Pending(found.user)),
        SessionLookup::Live(found) if found.user.is_staff => Ok(Visitor::Staff(Staff {
            user: found.user,
            csrf: session.csrf_token()?,
            session: found.session.id,
            two_factor: found.two_factor,
        })),
        SessionLookup::Live(found) => Ok(Visitor::NotStaff(found.user)),
        SessionLookup::Expired => {
            session.sign_out();
            session.flash(
                Level::Info,
                "Your session has expired. Please sign in again.",
            )?;
            Ok(Visitor::Anonymous)
        }
        // Signed out (here or elsewhere), or the user was deactivated,
        // deleted or given a new password: the session is over.
        SessionLookup::Unknown | SessionLookup::Ended => {
            session.sign_out();
            Ok(Visitor::Anonymous)
        }
    }
}

/// The signed-in staff user, or the refusal: a redirect to the sign-in
/// (coming back to `next` afterwards), to the code form, to the account
/// page when `ADMIN_REQUIRE_2FA` wants two-factor sign-in first, or 403.
pub async fn require_staff(
    session: &AdminSession,
    state: &web::Data<AppState>,
    next: Option<String>,
) -> Result<Staff, AdminError> {
    let staff = require_own_account(session, state, next).await?;
    if state.settings.admin_require_2fa && !staff.two_factor {
        return Err(AdminError::TwoFactorRequired);
    }
    Ok(staff)
}

/// `require_staff` for the account page itself, where two-factor sign-in
/// is turned on: `ADMIN_REQUIRE_2FA` does not send anyone away from it.
pub async fn require_own_account(
    session: &AdminSession,
    state: &web::Data<AppState>,
    next: Option<String>,
) -> Result<Staff, AdminError> {
    match identify(session, state).await? {
        Visitor::Staff(staff) => Ok(staff),
        Visitor::Anonymous => Err(AdminError::LoginRequired { next }),
        Visitor::Pending(_) => Err(AdminError::CodeRequired),
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
