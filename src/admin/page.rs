//! What every admin page shares: the layout's data (who is signed in, the
//! CSRF token for the header's `Sign out` form, the flash messages) and the
//! way a template becomes a response.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;

use super::AdminError;
use super::session::{AdminSession, Flash};
use crate::services::Failure;

/// The data `base.html` needs on every page.
pub struct Chrome {
    /// The signed-in user's username; `None` on the sign-in and error pages.
    pub staff: Option<String>,
    pub csrf: String,
    pub flashes: Vec<Flash>,
}

impl Chrome {
    pub fn anonymous() -> Chrome {
        Chrome {
            staff: None,
            csrf: String::new(),
            flashes: Vec::new(),
        }
    }

    /// The sign-in pages' chrome: nobody signed in yet, the session's CSRF
    /// token and its pending messages.
    pub fn signing_in(session: &AdminSession) -> Result<Chrome, AdminError> {
        Ok(Chrome {
            staff: None,
            csrf: session.csrf_token()?,
            flashes: session.take_flashes(),
        })
    }
}

/// Renders `template` as an HTML response.
pub fn html(status: StatusCode, template: &impl Template) -> Result<HttpResponse, AdminError> {
    let body = template.render().map_err(|e| {
        Failure::internal(anyhow::Error::new(e).context("cannot render a template"))
    })?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// 302: for a page that lives elsewhere (`/admin/` → the users list, an
/// anonymous visitor → the sign-in).
pub fn redirect_found(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// 303: after a POST, the page to look at next.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
