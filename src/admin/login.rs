//! `GET/POST /admin/login/` and `POST /admin/logout/`.
//!
//! The sign-in shares `check_credentials` with the API: the same throttle,
//! exactly one bcrypt verification (off the async workers), and the same
//! answer for a wrong password, an unknown, inactive or non-staff user. A
//! right password starts a session in the database; with two-factor
//! sign-in on, it waits for the code (`code.rs`).

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::form::{self, CsrfForm, LoginForm};
use super::guard::{self, Visitor};
use super::page::{Chrome, html, redirect_found, see_other};
use super::session::{AdminSession, Level};
use super::{AdminError, LOGIN_PATH, USERS_PATH, csrf, next};
use crate::http::client_addr;
use crate::services::StaffSignIn;
use crate::services::{Attempt, SignInError};
use crate::state::AppState;

pub const MSG_BAD_CREDENTIALS: &str = "Please enter the correct username and password for a \
     staff account. Note that both fields may be case-sensitive.";
pub const MSG_MISSING: &str = "Please enter both your username and your password.";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
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
    let page = LoginPage {
        chrome,
        username,
        next: next.unwrap_or_default(),
        error,
    };
    html(status, &page)
}

/// `GET /admin/login/`: the form; a signed-in staff user goes straight on.
pub async fn form(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let next = next::from_query(req.query_string());
    match guard::identify(&session, &state).await? {
        Visitor::Staff(_) => return Ok(redirect_found(next.as_deref().unwrap_or(USERS_PATH))),
        Visitor::Pending(_) => return Ok(redirect_found(&next::code_url(next.as_deref()))),
        Visitor::Anonymous | Visitor::NotStaff(_) => {}
    }
    render(&session, StatusCode::OK, String::new(), next, None)
}

/// `POST /admin/login/`.
pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let input: LoginForm = form::parse(&body);
    csrf::verify(&session, &input.csrf_token)?;
    let next = next::safe(&input.next);
    let username = input.username.trim().to_string();
    if username.is_empty() || input.password.is_empty() {
        let error = Some(MSG_MISSING.to_string());
        return render(&session, StatusCode::OK, username, next, error);
    }
    let client = client_addr(&req, &state.settings.trusted_proxies);
    let attempt = Attempt {
        client: client.clone(),
        username: username.clone(),
        password: input.password,
    };
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let StaffSignIn {
        user,
        session: id,
        needs_code,
    } = match state
        .services
        .sign_in
        .staff(attempt, user_agent, session.session_id())
        .await
    {
        Ok(signed) => signed,
        Err(SignInError::Invalid) => {
            let error = Some(MSG_BAD_CREDENTIALS.to_string());
            return render(&session, StatusCode::OK, username, next, error);
        }
        Err(SignInError::Throttled(wait)) => {
            let unit = if wait == 1 { "second" } else { "seconds" };
            let error = Some(format!(
                "Too many failed sign-in attempts. Try again in {wait} {unit}."
            ));
            let mut response = render(
                &session,
                StatusCode::TOO_MANY_REQUESTS,
                username,
                next,
                error,
            )?;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
            return Ok(response);
        }
        Err(SignInError::Failure(failure)) => return Err(failure.into()),
    };
    session.start(&id)?;
    if needs_code {
        log::info!(
            "admin: {:?} gave the right password from {client}; a code is due",
            user.username
        );
        return Ok(see_other(&next::code_url(next.as_deref())));
    }
    log::info!("admin: {:?} signed in from {client}", user.username);
    Ok(see_other(next.as_deref().unwrap_or(USERS_PATH)))
}

/// `POST /admin/logout/`: ends the session on the server (its row is
/// deleted, so a copy of the cookie no longer signs anyone in), pending or
/// complete.
pub async fn logout(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let input: CsrfForm = form::parse(&body);
    csrf::verify(&session, &input.csrf_token)?;
    if let Some(id) = session.session_id() {
        let client = client_addr(&req, &state.settings.trusted_proxies);
        state.services.staff_sessions.sign_out(id, client).await?;
        log::info!("admin: a session was signed out");
    }
    session.sign_out();
    session.flash(Level::Info, "You have been signed out.")?;
    Ok(see_other(LOGIN_PATH))
}
