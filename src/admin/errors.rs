//! Every way an admin request can fail, as an HTML page (or, for a visitor
//! who is not signed in, a redirect to the sign-in).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::next::login_url;
use super::page::{Chrome, html};
use super::session::Flash;
use super::{LOGIN_PATH, USERS_PATH};
use crate::auth::HashError;
use crate::db::{AsOutage, DbError};

#[derive(thiserror::Error)]
pub enum AdminError {
    /// Not signed in (or the session ended): 302 to the sign-in, with
    /// `next` when there is a page to come back to.
    #[error("sign-in required")]
    LoginRequired { next: Option<String> },
    /// Signed in, but the user is not staff (any more): 403.
    #[error("signed in as a user who is not staff")]
    NotStaff { username: String, csrf: String },
    /// A POST without the session's CSRF token: 403, nothing changed.
    #[error("CSRF verification failed")]
    Csrf,
    #[error("not found")]
    NotFound,
    /// Too many password checks are waiting: 503.
    #[error("password hashing is busy")]
    Busy,
    /// The database is unreachable: 503.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: 500 and a log line.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Debug` is the `Display` text: the CSRF token of `NotStaff` stays out of
/// any log.
impl std::fmt::Debug for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdminError({self})")
    }
}

impl From<DbError> for AdminError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(reason) => AdminError::Unavailable(reason.to_string()),
            other => AdminError::Internal(other.to_string()),
        }
    }
}

impl From<HashError> for AdminError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => AdminError::Busy,
            HashError::Failed(reason) => AdminError::Internal(reason),
        }
    }
}

impl AsOutage for AdminError {
    fn is_outage(&self) -> bool {
        matches!(self, AdminError::Unavailable(_))
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

/// Seconds a client should wait after a 503.
const RETRY_AFTER: &str = "5";

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        match self {
            AdminError::LoginRequired { .. } => StatusCode::FOUND,
            AdminError::NotStaff { .. } | AdminError::Csrf => StatusCode::FORBIDDEN,
            AdminError::NotFound => StatusCode::NOT_FOUND,
            AdminError::Busy | AdminError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AdminError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            AdminError::LoginRequired { next } => HttpResponse::Found()
                .insert_header((header::LOCATION, login_url(next.as_deref())))
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
            AdminError::Busy | AdminError::Unavailable(_) => {
                if let AdminError::Unavailable(reason) = self {
                    log::warn!("admin: database unavailable: {reason}");
                } else {
                    log::warn!("admin: password hashing queue is full");
                }
                let mut response = ErrorPage::new(
                    status,
                    "Temporarily unavailable",
                    "The service cannot answer right now. Try again in a moment.",
                )
                .response();
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from_static(RETRY_AFTER),
                );
                response
            }
            AdminError::Internal(reason) => {
                log::error!("admin: internal error: {reason}");
                ErrorPage::new(
                    status,
                    "Server error",
                    "Something went wrong on our side. It has been logged; \
                     reload the page to see the current state and try again.",
                )
                .link(LOGIN_PATH, "Back to the admin")
                .response()
            }
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
        let e = AdminError::from(DbError::from(refused));
        assert_eq!(e.status_code(), StatusCode::SERVICE_UNAVAILABLE);
        let response = e.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
        let body = body_of(response);
        assert!(body.contains("Temporarily unavailable"));
        assert!(!body.contains("connection refused"));

        let e = AdminError::from(DbError::Query(diesel::result::Error::NotFound));
        assert_eq!(e.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = body_of(e.error_response());
        assert!(body.contains("Server error"));
        assert!(!body.contains("NotFound") && !body.contains("Record not found"));

        assert_eq!(
            AdminError::from(HashError::Busy).status_code(),
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
