//! `GET/POST /admin/login/code/`: the second step of the sign-in when
//! two-factor sign-in is on. A TOTP code or an unused recovery code, in the
//! same field; wrong ones count toward the sign-in throttle.

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::form::{self, CodeForm};
use super::guard::{self, Visitor};
use super::page::{Chrome, html, redirect_found, see_other};
use super::session::{AdminSession, Level};
use super::{AdminError, LOGIN_PATH, USERS_PATH, csrf, next};
use crate::http::client_addr;
use crate::services::CodeError;
use crate::state::AppState;

pub const MSG_REFUSED: &str = "That code is not valid. Enter the current code from your \
     authenticator app, or one of your unused recovery codes.";
pub const MSG_MISSING: &str = "Please enter the code.";

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    chrome: Chrome,
    username: String,
    next: String,
    error: Option<String>,
}

fn render(
    session: &AdminSession,
    status: StatusCode,
    username: String,
    next: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let chrome = Chrome::signing_in(session)?;
    let page = CodePage {
        chrome,
        username,
        next: next.unwrap_or_default(),
        error,
    };
    html(status, &page)
}

/// `GET /admin/login/code/`: the form, for a session whose password was right.
pub async fn form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let next = next::from_query(req.query_string());
    match guard::identify(&session, &state).await? {
        Visitor::Pending(user) => render(&session, StatusCode::OK, user.username, next, None),
        Visitor::Staff(_) => Ok(redirect_found(next.as_deref().unwrap_or(USERS_PATH))),
        Visitor::Anonymous | Visitor::NotStaff(_) => Ok(redirect_found(LOGIN_PATH)),
    }
}

/// `POST /admin/login/code/`.
pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let input: CodeForm = form::parse(&body);
    csrf::verify(&session, &input.csrf_token)?;
    let next = next::safe(&input.next);
    let Some(id) = session.session_id() else {
        return Ok(see_other(LOGIN_PATH));
    };
    let Visitor::Pending(user) = guard::identify(&session, &state).await? else {
        return Ok(see_other(LOGIN_PATH));
    };
    let code = input.code.trim().to_string();
    if code.is_empty() {
        let error = Some(MSG_MISSING.to_string());
        return render(&session, StatusCode::OK, user.username, next, error);
    }
    let client = client_addr(&req, &state.settings.trusted_proxies);
    let two_factor = &state.services.two_factor;
    match two_factor.complete_sign_in(id, code, client.clone()).await {
        Ok((user, new_id)) => {
            session.start(&new_id)?;
            log::info!("admin: {:?} signed in from {client}", user.username);
            Ok(see_other(next.as_deref().unwrap_or(USERS_PATH)))
        }
        Err(CodeError::Refused) => {
            let error = Some(MSG_REFUSED.to_string());
            render(&session, StatusCode::OK, user.username, next, error)
        }
        Err(CodeError::Throttled(wait)) => {
            let unit = if wait == 1 { "second" } else { "seconds" };
            let error = Some(format!(
                "Too many failed sign-in attempts. Try again in {wait} {unit}."
            ));
            let mut response = render(
                &session,
                StatusCode::TOO_MANY_REQUESTS,
                user.username,
                next,
                error,
            )?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
            Ok(response)
        }
        Err(CodeError::NotExpected) => {
            session.sign_out();
            session.flash(Level::Info, "Please sign in again.")?;
            Ok(see_other(LOGIN_PATH))
        }
        Err(CodeError::Failure(failure)) => Err(failure.into()),
    }
}
