//! The JSON API: DRF's token endpoints and the account endpoints, byte for
//! byte as `shared/API.md` describes them.

pub mod body;
mod error;
pub mod fields;
mod input;
mod me;
mod not_allowed;
mod probes;
pub mod pyjson;
mod register;
pub mod response;
mod sign_in;
mod token;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use error::ApiError;
pub use input::BODY_LIMIT;

/// DRF sends `Allow` with every answer of a view, not only with 405s.
fn allow(methods: &'static str) -> DefaultHeaders {
    DefaultHeaders::new().add(("Allow", methods))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    const POST: &str = "POST, OPTIONS";
    const GET: &str = "GET, HEAD, OPTIONS";
    cfg.service(
        web::resource("/api-token-auth/")
            .wrap(allow(POST))
            .route(web::post().to(sign_in::obtain_auth_token))
            .default_service(web::to(not_allowed::open(POST))),
    )
    .service(
        web::resource("/api/auth/login/")
            .wrap(allow(POST))
            .route(web::post().to(sign_in::login))
            .default_service(web::to(not_allowed::open(POST))),
    )
    .service(
        web::resource("/api/auth/register/")
            .wrap(allow(POST))
            .route(web::post().to(register::register))
            .default_service(web::to(not_allowed::open(POST))),
    )
    .service(
        web::resource("/api/auth/me/")
            .wrap(allow(GET))
            .route(web::get().to(me::me))
            .route(web::head().to(me::me))
            .default_service(web::to(not_allowed::authenticated(GET))),
    )
    .service(
        web::resource("/api/auth/logout/")
            .wrap(allow(POST))
            .route(web::post().to(token::logout))
            .default_service(web::to(not_allowed::authenticated(POST))),
    )
    .service(
        web::resource("/api/auth/token/regenerate/")
            .wrap(allow(POST))
            .route(web::post().to(token::regenerate))
            .default_service(web::to(not_allowed::authenticated(POST))),
    )
    .service(
        web::resource("/healthz")
            .wrap(allow(GET))
            .route(web::get().to(probes::healthz))
            .route(web::head().to(probes::healthz))
            .default_service(web::to(not_allowed::open(GET))),
    )
    .service(
        web::resource("/readyz")
            .wrap(allow(GET))
            .route(web::get().to(probes::readyz))
            .route(web::head().to(probes::readyz))
            .default_service(web::to(not_allowed::open(GET))),
    );
}
