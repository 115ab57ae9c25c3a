//! `GET/POST /admin/account/`: the signed-in staff member's own account:
//! two-factor sign-in (turn on with a confirming code, recovery codes shown
//! once; turn off with a code) and their open sessions, with `Sign out
//! other sessions`. The POST's `action` says which button was pressed.

use actix_session::Session;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::form::{self, CodeForm};
use super::guard::{Staff, require_own_account};
use super::page::{Chrome, html, see_other};
use super::session::{AdminSession, Flash, Level};
use super::view::time;
use super::{ACCOUNT_PATH, AdminError, csrf, qr, user_agent};
use crate::http::client_addr;
use crate::models::admin_sessions::SessionRow;
use crate::services::{CodeError, Enrolment};
use crate::state::AppState;

pub const MSG_REFUSED: &str = "That code is not valid. Enter the current code from your \
     authenticator app.";

pub struct SessionView {
    pub started: String,
    pub last_seen: String,
    pub address: String,
    /// `Chrome 131 on Linux`; `user_agent` is the whole string.
    pub browser: String,
    pub user_agent: String,
    pub current: bool,
}

impl SessionView {
    fn of(row: SessionRow, current: i32) -> SessionView {
        SessionView {
            started: time(&row.created),
            last_seen: time(&row.last_seen),
            address: row.address,
            browser: user_agent::summary(&row.user_agent),
            user_agent: row.user_agent,
            current: row.id == current,
        }
    }
}

pub struct EnrolmentView {
    pub secret: String,
    /// Drawn by this server from the URI: markup, not user input.
    pub qr_svg: String,
}

impl EnrolmentView {
    fn of(enrolment: Enrolment) -> EnrolmentView {
        EnrolmentView {
            qr_svg: qr::svg(&enrolment.uri).unwrap_or_default(),
            secret: enrolment.secret_base32,
        }
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    username: String,
    two_factor: bool,
    required: bool,
    recovery_codes_left: i64,
    enrolment: Option<EnrolmentView>,
    /// Shown once, right after the enrolment.
    recovery_codes: Vec<String>,
    error: Option<String>,
    sessions: Vec<SessionView>,
}

/// What a POST adds to the page it answers with.
#[derive(Default)]
struct Outcome {
    enrolment: Option<Enrolment>,
    recovery_codes: Vec<String>,
    error: Option<String>,
    flash: Option<Flash>,
}

async fn render(
    session: &AdminSession,
    state: &web::Data<AppState>,
    staff: Staff,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, AdminError> {
    let account = state
        .services
        .two_factor
        .account(staff.user.clone())
        .await?;
    let mut flashes = session.take_flashes();
    flashes.extend(outcome.flash);
    let two_factor = staff.two_factor && outcome.enrolment.is_none();
    let page = AccountPage {
        chrome: Chrome {
            staff: Some(staff.user.username.clone()),
            csrf: staff.csrf,
            flashes,
        },
        username: staff.user.username,
        two_factor: two_factor || !outcome.recovery_codes.is_empty(),
        required: state.settings.admin_require_2fa,
        recovery_codes_left: account.recovery_codes_left,
        enrolment: outcome
            .enrolment
            .or(account.enrolment)
            .filter(|_| outcome.recovery_codes.is_empty() && !two_factor)
            .map(EnrolmentView::of),
        recovery_codes: outcome.recovery_codes,
        error: outcome.error,
        sessions: account
            .sessions
            .into_iter()
            .map(|row| SessionView::of(row, staff.session))
            .collect(),
    };
    html(status, &page)
}

/// `GET /admin/account/`.
pub async fn show(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let staff = require_own_account(&session, &state, Some(ACCOUNT_PATH.to_string())).await?;
    render(&session, &state, staff, StatusCode::OK, Outcome::default()).await
}

/// `POST /admin/account/`: `enable`, `confirm` (with `code`), `disable`
/// (with `code`) or `sign_out_others`.
pub async fn act(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let session = AdminSession::new(session);
    let input: CodeForm = form::parse(&body);
    csrf::verify(&session, &input.csrf_token)?;
    let staff = require_own_account(&session, &state, Some(ACCOUNT_PATH.to_string())).await?;
    let client = client_addr(&req, &state.settings.trusted_proxies);
    let two_factor = &state.services.two_factor;
    let user = staff.user.clone();
    let code = input.code.trim().to_string();
    let outcome = match input.action.as_str() {
        "enable" => match two_factor.begin(user).await? {
            Some(enrolment) => Outcome {
                enrolment: Some(enrolment),
                ..Outcome::default()
            },
            None => {
                session.flash(Level::Info, "Two-factor sign-in is already on.")?;
                return Ok(see_other(ACCOUNT_PATH));
            }
        },
        "confirm" => match two_factor.confirm(user, code, client.clone()).await {
            Ok(codes) => {
                log::info!(
                    "admin: {:?} turned on two-factor sign-in",
                    staff.user.username
                );
                let text = "Two-factor sign-in is on. Save your recovery codes now: \
                            they will not be shown again.";
                Outcome {
                    recovery_codes: codes,
                    flash: Some(Flash::new(Level::Success, text)),
                    ..Outcome::default()
                }
            }
            Err(CodeError::Refused) => Outcome {
                error: Some(MSG_REFUSED.to_string()),
                ..Outcome::default()
            },
            Err(CodeError::NotExpected | CodeError::Throttled(_)) => {
                return Ok(see_other(ACCOUNT_PATH));
            }
            Err(CodeError::Failure(f)) => return Err(f.into()),
        },
        "disable" => match two_factor.disable(user, code, client.clone()).await {
            Ok(()) => {
                log::info!(
                    "admin: {:?} turned off two-factor sign-in",
                    staff.user.username
                );
                session.flash(Level::Success, "Two-factor sign-in is off.")?;
                return Ok(see_other(ACCOUNT_PATH));
            }
            Err(CodeError::Refused | CodeError::NotExpected) => Outcome {
                error: Some(
                    "That code is not valid: two-factor sign-in stays on. Enter the current \
                     code from your authenticator app, or a recovery code."
                        .to_string(),
                ),
                ..Outcome::default()
            },
            Err(CodeError::Throttled(wait)) => {
                let unit = if wait == 1 { "second" } else { "seconds" };
                let error = format!("Too many failed attempts. Try again in {wait} {unit}.");
                let outcome = Outcome {
                    error: Some(error),
                    ..Outcome::default()
                };
                let mut response = render(
                    &session,
                    &state,
                    staff,
                    StatusCode::TOO_MANY_REQUESTS,
                    outcome,
                )
                .await?;
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(wait));
                return Ok(response);
            }
            Err(CodeError::Failure(f)) => return Err(f.into()),
        },
        "sign_out_others" => {
            let sessions = &state.services.staff_sessions;
            let ended = sessions
                .sign_out_others(staff.user.clone(), staff.session, client)
                .await?;
            log::info!(
                "admin: {:?} signed out {ended} other session(s)",
                staff.user.username
            );
            let text = match ended {
                0 => "There were no other sessions.".to_string(),
                1 => "1 other session was signed out.".to_string(),
                n => format!("{n} other sessions were signed out."),
            };
            session.flash(Level::Success, text)?;
            return Ok(see_other(ACCOUNT_PATH));
        }
        _ => return Ok(see_other(ACCOUNT_PATH)),
    };
    render(&session, &state, staff, StatusCode::OK, outcome).await
}
