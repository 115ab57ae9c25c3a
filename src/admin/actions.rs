//! The POST actions on a user: regenerate or revoke the token, deactivate
//! or activate the account. Each checks the CSRF token first (403, nothing
//! changed), then the session, then makes one domain call naming the staff
//! user as the actor.

use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::form::{self, CsrfForm};
use super::guard::{Staff, require_staff};
use super::page::see_other;
use super::session::{AdminSession, Flash, Level};
use super::user_detail::{self, Detail, EVENTS_SHOWN, parse_id};
use super::view::user_url;
use super::{AdminError, csrf};
use crate::http::client_addr::client_addr;
use crate::models::UserId;
use crate::models::audit::Origin;
use crate::state::AppState;

/// Who acts, for the audit trail: the staff member and their client's address.
pub(super) fn origin(req: &HttpRequest, state: &AppState, staff: &Staff) -> Origin {
    let address = client_addr(req, &state.settings.trusted_proxies);
    Origin::staff(&staff.user.username, &address)
}

/// CSRF, then the signed-in staff user, then the target's id.
pub(super) async fn authorize(
    session: &AdminSession,
    state: &web::Data<AppState>,
    raw_id: &str,
    body: &[u8],
) -> Result<(Staff, UserId), AdminError> {
    let input: CsrfForm = form::parse(body);
    csrf::verify(session, &input.csrf_token)?;
    // Signed out meanwhile: back to this user's page after signing in.
    let back = parse_id(raw_id).ok().map(user_url);
    let staff = require_staff(session, state, back).await?;
    let id = parse_id(raw_id)?;
    Ok((staff, id))
}

/// `POST /admin/users/<id>/token/regenerate/`: a new key, shown once in the
/// page this response is (`id="new-token"`, `Cache-Control: no-store`). It
/// is not redirected, so the key never goes into the session or a URL.
pub async fn regenerate(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let (staff, id) = authorize(&session, &state, &path, &body).await?;
    let tokens = &state.services.tokens;
    let (key, detail) = tokens
        .regenerate(origin(&req, &state, &staff), id, EVENTS_SHOWN)
        .await?
        .ok_or(AdminError::NotFound)?;
    let detail = Detail::of(&state, detail);
    log::info!(
        "admin: {:?} regenerated the token of user {id}",
        staff.user.username
    );
    let mut flashes = session.take_flashes();
    flashes.push(Flash::new(
        Level::Success,
        format!(
            "A new token was generated for {}. The old key no longer works. \
             Copy the new key now: it will not be shown again.",
            detail.user.username
        ),
    ));
    let mut response = user_detail::render(staff, flashes, detail, Some(key))?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `POST /admin/users/<id>/token/revoke/`: deletes the token.
pub async fn revoke(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let (staff, id) = authorize(&session, &state, &path, &body).await?;
    let tokens = &state.services.tokens;
    let (user, revoked) = tokens
        .revoke(origin(&req, &state, &staff), id)
        .await?
        .ok_or(AdminError::NotFound)?;
    let username = user.username;
    if revoked {
        log::info!(
            "admin: {:?} revoked the token of user {id}",
            staff.user.username
        );
        session.flash(
            Level::Success,
            format!("The token of {username} was revoked. Clients using it are now refused."),
        )?;
    } else {
        session.flash(Level::Info, format!("{username} had no token to revoke."))?;
    }
    Ok(see_other(&user_url(id)))
}

/// `POST /admin/users/<id>/deactivate/`.
pub async fn deactivate(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    set_active(req, session, state, path, body, false).await
}

/// `POST /admin/users/<id>/activate/`.
pub async fn activate(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    set_active(req, session, state, path, body, true).await
}

async fn set_active(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
    active: bool,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let (staff, id) = authorize(&session, &state, &path, &body).await?;
    if !active && id == staff.user.id {
        session.flash(
            Level::Error,
            "You cannot deactivate your own account while signed in with it.",
        )?;
        return Ok(see_other(&user_url(id)));
    }
    let accounts = &state.services.accounts;
    let user = accounts
        .set_active(origin(&req, &state, &staff), id, active)
        .await?
        .ok_or(AdminError::NotFound)?;
    let username = user.username;
    let (verb, text) = if active {
        ("activated", format!("{username} was activated."))
    } else {
        (
            "deactivated",
            format!(
                "{username} was deactivated: their token is refused until the user is \
                 activated again."
            ),
        )
    };
    log::info!("admin: {:?} {verb} user {id}", staff.user.username);
    session.flash(Level::Success, text)?;
    Ok(see_other(&user_url(id)))
}
