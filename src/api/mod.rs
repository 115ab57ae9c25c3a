//! The JSON API: DRF's token endpoints and the account endpoints, byte for
//! byte as `shared/API.md` describes them.

pub mod body;
mod docs;
mod error;
pub mod fields;
mod input;
mod me;
mod named_tokens;
mod probes;
mod register;
pub mod response;
mod schema;
mod sign_in;
mod token;
pub mod token_auth;
mod verify;
mod view;

use actix_web::web;

pub use error::ApiError;
pub use input::BODY_LIMIT;
pub use token_auth::TokenAuth;

pub fn configure(cfg: &mut web::ServiceConfig) {
    use view::{
        LOGIN, LOGOUT, ME, OBTAIN_AUTH_TOKEN, PROBE, REGENERATE, REGISTER, TOKEN, TOKENS, VERIFY,
    };
    cfg.service(
        web::resource("/api-token-auth/")
            .wrap(OBTAIN_AUTH_TOKEN.headers())
            .route(web::post().to(sign_in::obtain_auth_token))
            .default_service(web::to(OBTAIN_AUTH_TOKEN.open())),
    )
    .service(
        web::resource("/api/auth/login/")
            .wrap(LOGIN.headers())
            .route(web::post().to(sign_in::login))
            .default_service(web::to(LOGIN.open())),
    )
    .service(
        web::resource("/api/auth/register/")
            .wrap(REGISTER.headers())
            .route(web::post().to(register::register))
            .default_service(web::to(REGISTER.open())),
    )
    .service(
        web::resource("/api/auth/me/")
            .wrap(ME.headers())
            .route(web::get().to(me::me))
            .route(web::head().to(me::me))
            .default_service(web::to(ME.authenticated())),
    )
    .service(
        web::resource("/api/auth/verify/")
            .wrap(VERIFY.headers())
            .route(web::get().to(verify::verify))
            .route(web::head().to(verify::verify))
            .default_service(web::to(VERIFY.authenticated())),
    )
    .service(
        web::resource("/api/auth/logout/")
            .wrap(LOGOUT.headers())
            .route(web::post().to(token::logout))
            .default_service(web::to(LOGOUT.authenticated())),
    )
    .service(
        web::resource("/api/auth/token/regenerate/")
            .wrap(REGENERATE.headers())
            .route(web::post().to(token::regenerate))
            .default_service(web::to(REGENERATE.authenticated())),
    )
    .service(
        web::resource("/api/auth/tokens/")
            .wrap(TOKENS.headers())
            .route(web::get().to(named_tokens::list))
            .route(web::head().to(named_tokens::list))
            .route(web::post().to(named_tokens::create))
            .default_service(web::to(TOKENS.authenticated())),
    )
    .service(
        web::resource("/api/auth/tokens/{id}/")
            .wrap(TOKEN.headers())
            .route(web::delete().to(named_tokens::delete))
            .default_service(web::to(TOKEN.authenticated())),
    )
    .service(
        web::resource("/api/docs/")
            .wrap(PROBE.headers())
            .route(web::get().to(docs::docs))
            .route(web::head().to(docs::docs))
            .default_service(web::to(PROBE.open())),
    )
    .service(
        web::resource("/api/schema/")
            .wrap(PROBE.headers())
            .route(web::get().to(schema::schema))
            .route(web::head().to(schema::schema))
            .default_service(web::to(PROBE.open())),
    )
    .service(
        web::resource("/healthz")
            .wrap(PROBE.headers())
            .route(web::get().to(probes::healthz))
            .route(web::head().to(probes::healthz))
            .default_service(web::to(PROBE.open())),
    )
    .service(
        web::resource("/readyz")
            .wrap(PROBE.headers())
            .route(web::get().to(probes::readyz))
            .route(web::head().to(probes::readyz))
            .default_service(web::to(PROBE.open())),
    );
}
