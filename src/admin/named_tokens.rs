//! `POST /admin/users/<id>/tokens/<token>/revoke/`: staff revoking one of a
//! user's named tokens from the user's page.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};

use super::AdminError;
use super::actions::{authorize, origin};
use super::page::see_other;
use super::session::{AdminSession, Level};
use super::view::user_url;
use crate::models::TokenId;
use crate::state::AppState;

pub async fn revoke(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let (raw_user, raw_token) = path.into_inner();
    let (staff, id) = authorize(&session, &state, &raw_user, &body).await?;
    let token = TokenId::parse(&raw_token).ok_or(AdminError::NotFound)?;
    let (user, revoked) = state
        .services
        .tokens
        .revoke_named_by_staff(origin(&req, &state, &staff), id, token)
        .await?
        .ok_or(AdminError::NotFound)?;
    let username = user.username;
    if revoked {
        log::info!(
            "admin: {:?} revoked named token {token} of user {id}",
            staff.user.username
        );
        session.flash(
            Level::Success,
            format!("A named token of {username} was revoked. Clients using it are now refused."),
        )?;
    } else {
        session.flash(
            Level::Info,
            format!("That token of {username} was already gone."),
        )?;
    }
    Ok(see_other(&user_url(id)))
}
