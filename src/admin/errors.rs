//! Every way an admin request can fail, as an HTML page (or, for a visitor
//! who is not signed in, a redirect to the sign-in).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::next::login_url;
use super::page::{Chrome, html};
use super::session::Flash;
use super::{ACCOUNT_PATH, CODE_PATH, LOGIN_PATH, USERS_PATH};
use crate::http::failure_log::Logged;
use crate::services::Failure;

#[derive(thiserror::Error)]
pub enum AdminError {
    /// Not signed in (or the session ended): 302 to the sign-in, with
    /// `next` when there is a page to come back to.
    #[error("sign-in required")]
    LoginRequired { next: Option<String> },
    /// The password was right but the two-factor code is still due: 302 to
    /// the code form.
    #[error("two-factor code required")]
    CodeRequired,
    /// `ADMIN_REQUIRE_2FA` and the staff member has not turned two-factor
    /// sign-in on yet: 302 to their account page.
    #[error("two-factor sign-in must be turned on first")]
    TwoFactorRequired,
    /// Signed in, but the user is not staff (any more): 403.
    #[error("signed in as a user who is not staff")]
    NotStaff { username: String, csrf: String },
    /// A POST without the session's CSRF token: 403, nothing changed.
    #[error("CSRF verification failed")]
    Csrf,
    #[error("not found")]
    NotFound,
    /// 503 with `Retry-After` (the database, the hashing queue) or 500;
    /// logged once by `http::failure_log`.
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// `Debug` is the `Display` text: the CSRF token of `NotStaff` stays out of
/// any log.
impl std::fmt::Debug for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminError({self})")
    }
}

impl Logged for AdminError {
    fn failure(&self) -> Option<&Failure> {
        match self {
            AdminError::Failure(failure) => Some(failure),
            _ => None,
        }
    }
}

pub struct Link {
    pub href: String,
    pub text: &'static str,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: &'static str,
    message: &'static str,
    link: Option<Link>,
}

impl ErrorPage {
    fn new(status: StatusCode, title: &'static str, message: &'static str) -> ErrorPage {
        ErrorPage {
            chrome: Chrome::anonymous(),
            status: status.as_u16(),
            title,
            message,
            link: None,
        }
    }

    fn link(mut self, href: &str, text: &'static str) -> ErrorPage {
        self.link = Some(Link {
            href: href.to_string(),
            text,
        });
        self
    }

    fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        html(status, self).unwrap_or_else(|e| {
            log::error!("cannot render the error page: {e}");
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(self.title)
        })
    }
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::LoginRequired { .. }
            | AdminError::CodeRequired
            | AdminError::TwoFactorRequired => StatusCode::FOUND,
            AdminError::NotStaff { .. } | AdminError::Csrf => StatusCode::FORBIDDEN,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Failure(f) if f.is_temporary() => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Failure(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            AdminError::LoginRequired { next } => HttpResponse::Found()
                .insert_header((header::LOCATION, login_url(next.as_deref())))
                .finish(),
            AdminError::CodeRequired => HttpResponse::Found()
                .insert_header((header::LOCATION, CODE_PATH))
                .finish(),
            AdminError::TwoFactorRequired => HttpResponse::Found()
                .insert_header((header::LOCATION, ACCOUNT_PATH))
                .finish(),
            AdminError::NotStaff { username, csrf } => {
                let mut page = ErrorPage::new(
                    status,
                    "Staff only",
                    "Your account does not have access to the admin pages. \
                     Sign out and sign in with a staff account.",
                );
                page.chrome = Chrome {
                    staff: Some(username.clone()),
                    csrf: csrf.clone(),
                    flashes: Vec::<Flash>::new(),
                };
                page.response()
            }
            AdminError::Csrf => {
                log::warn!("admin: a POST without a valid CSRF token was refused");
                ErrorPage::new(
                    status,
                    "Form expired",
                    "This form was out of date or did not come from this site, so nothing \
                     was changed. Go back, reload the page and try again.",
                )
                .link(USERS_PATH, "Back to the users")
                .response()
            }
            AdminError::NotFound => {
                ErrorPage::new(status, "Not found", "There is no such page or user.")
                    .link(USERS_PATH, "Back to the users")
                    .response()
            }
            AdminError::Failure(f) if f.is_temporary() => {
                let mut response = ErrorPage::new(
                    status,
                    "Temporarily unavailable",
                    "The service cannot answer right now. Try again in a moment.",
                )
                .response();
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(Failure::RETRY_AFTER_SECS),
                );
                response
            }
            AdminError::Failure(_) => ErrorPage::new(
                status,
                "Server error",
                "Something went wrong on our side. It has been logged; \
                     reload the page to see the current state and try again.",
            )
            .link(LOGIN_PATH, "Back to the admin")
            .response(),
        }
    }
}

/// The admin's answer for an unknown path under `/admin/`.
pub async fn not_found() -> Result<HttpResponse, AdminError> {
    Err(AdminError::NotFound)
}

/// 405 for a method a page does not serve, with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> HttpResponse {
    let mut response = ErrorPage::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This page cannot be used that way.",
    )
    .link(USERS_PATH, "Back to the users")
    .response();
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::HashError;
    use crate::db::DbError;
    use actix_web::body::MessageBody;

    fn body_of(response: HttpResponse) -> String {
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn outages_are_503_and_failures_500_without_details() {
        let refused = diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ClosedConnection,
            Box::new("connection refused".to_string()),
        );
        let e = AdminError::from(Failure::from(DbError::from(refused)));
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let response = e.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        let body = body_of(response);
        assert!(body.contains("Temporarily unavailable"));
        assert!(!body.contains("connection refused"));

        let e = AdminError::from(Failure::from(DbError::from(
            diesel::result::Error::NotFound,
        )));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(e.error_response());
        assert!(body.contains("Server error"));
        assert!(!body.contains("NotFound") && !body.contains("Record not found"));

        assert_eq!(
            AdminError::from(Failure::from(HashError::Busy)).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn login_required_redirects_with_next() {
        let response = AdminError::LoginRequired {
            next: Some("/admin/users/3/".into()),
        }
        .error_response();
        assert_eq!(response.status(), StatusCode::FOUND);
        assert_eq!(
            response.headers().get(header::LOCATION).unwrap(),
            "/admin/login/?next=/admin/users/3/"
        );
    }

    #[test]
    fn debug_leaves_the_csrf_token_out() {
        let e = AdminError::NotStaff {
            username: "bob".into(),
            csrf: "secret-csrf-token".into(),
        };
        assert!(!format!("{e:?}").contains("secret-csrf-token"));
        let body = body_of(e.error_response());
        assert!(body.contains("Signed in as <strong>bob</strong>"));
        assert!(body.contains(">Sign out</button>"));
    }
}
