//! The admin pages (HTML, server-rendered) for staff: sign-in, the
//! overview, the users list, one user's page, the token and account
//! actions, and the audit trail.
//!
//! Handlers are thin: they check the CSRF token and the session, make one
//! `state.db.call` into the domain (`crate::models`), and render a template
//! or redirect. Every response under `/admin/` carries a strict
//! `Content-Security-Policy` (no script at all) and `Cache-Control: no-store`.

mod account;
mod actions;
mod audit;
mod chart;
mod code;
mod csrf;
mod errors;
mod form;
mod guard;
mod login;
mod named_tokens;
mod next;
mod overview;
mod page;
mod qr;
mod session;
mod user_agent;
mod user_detail;
mod users;
mod view;

use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};

pub use errors::AdminError;
pub use session::{COOKIE_NAME, SECURE_COOKIE_NAME};

use crate::state::AppState;

/// No script, no frames, no plugins; styles and images from this origin;
/// forms post only back here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The largest form body the admin accepts.
const FORM_LIMIT: usize = 16 * 1024;

pub const LOGIN_PATH: &str = "/admin/login/";
pub const CODE_PATH: &str = "/admin/login/code/";
pub const ACCOUNT_PATH: &str = "/admin/account/";
pub const USERS_PATH: &str = "/admin/users/";
pub const OVERVIEW_PATH: &str = "/admin/";

pub fn configure(cfg: &mut web::ServiceConfig, state: &AppState) {
    cfg.service(
        web::scope("/admin")
            .app_data(web::PayloadConfig::new(FORM_LIMIT))
            .wrap(session::middleware(&state.settings, &state.session_key))
            .wrap(
                DefaultHeaders::new()
                    .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                    .add(("Cache-Control", "no-store"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin"))
                    .add(("Cross-Origin-Resource-Policy", "same-origin")),
            )
            .route("", web::get().to(index))
            .route("", web::head().to(index))
            .service(page("/", "GET, HEAD", overview::show))
            .service(page("/audit/", "GET, HEAD", audit::list))
            .service(
                page("/login/", "GET, HEAD, POST", login::form)
                    .route(web::post().to(login::submit)),
            )
            .service(
                page("/login/code/", "GET, HEAD, POST", code::form)
                    .route(web::post().to(code::submit)),
            )
            .service(resource("/logout/", "POST").route(web::post().to(login::logout)))
            .service(
                page("/account/", "GET, HEAD, POST", account::show)
                    .route(web::post().to(account::act)),
            )
            .service(page("/users/", "GET, HEAD", users::list))
            .service(page("/users/{id}/", "GET, HEAD", user_detail::show))
            .service(
                resource("/users/{id}/token/regenerate/", "POST")
                    .route(web::post().to(actions::regenerate)),
            )
            .service(
                resource("/users/{id}/token/revoke/", "POST")
                    .route(web::post().to(actions::revoke)),
            )
            .service(
                resource("/users/{id}/tokens/{token}/revoke/", "POST")
                    .route(web::post().to(named_tokens::revoke)),
            )
            .service(
                resource("/users/{id}/deactivate/", "POST")
                    .route(web::post().to(actions::deactivate)),
            )
            .service(
                resource("/users/{id}/activate/", "POST").route(web::post().to(actions::activate)),
            )
            .default_service(web::to(errors::not_found)),
    );
}

/// A page: `GET` and `HEAD` (the same answer without its body) by `handler`.
fn page<F, Args>(path: &str, allow: &'static str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource(path, allow)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
}

/// A resource whose other methods get an HTML 405 naming the allowed ones.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || async move {
        errors::method_not_allowed(allow)
    }))
}

/// `GET /admin` (no slash): the overview lives at `/admin/`.
async fn index() -> HttpResponse {
    page::redirect_found(OVERVIEW_PATH)
}
