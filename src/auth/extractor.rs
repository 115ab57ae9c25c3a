//! `TokenAuth`: a handler that takes it is protected. It authenticates the
//! way DRF's `TokenAuthentication` does, with one query.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};

use super::header::{HeaderCredentials, parse_authorization};
use crate::api::ApiError;
use crate::models::{AuthOutcome, Digest, TokenRow, User};
use crate::state::AppState;

pub const MSG_NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub const MSG_INVALID_TOKEN: &str = "Invalid token.";
pub const MSG_INACTIVE: &str = "User inactive or deleted.";
pub const MSG_EXPIRED: &str = "Token has expired.";

/// The authenticated caller: the user, their token row, and the digest of the
/// key they presented (for logout and regenerate, which act on that key).
#[derive(Debug)]
pub struct TokenAuth {
    pub user: User,
    pub token: TokenRow,
    pub digest: Digest,
}

impl FromRequest for TokenAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<TokenAuth, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("AppState is registered")
            .clone();
        let header_bytes = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        Box::pin(async move {
            let keyword = state.settings.token_keyword.clone();
            let refuse = |detail| ApiError::Unauthenticated {
                detail,
                keyword: keyword.clone(),
            };
            let digest = match parse_authorization(header_bytes.as_deref(), &keyword) {
                Ok(HeaderCredentials::NotProvided) => return Err(refuse(MSG_NOT_PROVIDED)),
                Ok(HeaderCredentials::Key(key)) => Digest::of(key),
                Err(e) => return Err(refuse(e.detail())),
            };
            let lookup = digest.clone();
            let app = state.clone();
            let outcome = state
                .db
                .call(move |conn| {
                    app.tokens
                        .authenticate(conn, &lookup)
                        .map_err(ApiError::from)
                })
                .await?;
            match outcome {
                AuthOutcome::Valid(user, token) => Ok(TokenAuth {
                    user,
                    token,
                    digest,
                }),
                AuthOutcome::Unknown => Err(refuse(MSG_INVALID_TOKEN)),
                AuthOutcome::Inactive => Err(refuse(MSG_INACTIVE)),
                AuthOutcome::Expired => Err(refuse(MSG_EXPIRED)),
            }
        })
    }
}
