//! DRF's `TokenAuthentication` as an extractor: a handler that takes a
//! [`TokenAuth`] runs only for a valid key, and every other request gets
//! DRF's 401 with `WWW-Authenticate: <keyword>`.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};

use super::ApiError;
use crate::auth::header::{HeaderCredentials, parse_authorization};
use crate::models::{AuthOutcome, CallerToken, CallerUser, Digest, key_format};
use crate::state::AppState;

pub const MSG_NOT_PROVIDED: &str = "Authentication credentials were not provided.";
pub const MSG_INVALID_TOKEN: &str = "Invalid token.";
pub const MSG_INACTIVE: &str = "User inactive or deleted.";
pub const MSG_EXPIRED: &str = "Token has expired.";

/// The authenticated caller: the user, their token row, and the digest of
/// the key they presented (for compare-and-swap updates of that key).
#[derive(Debug)]
pub struct TokenAuth {
    pub user: CallerUser,
    pub token: CallerToken,
    pub digest: Digest,
}

/// DRF's 401 with the configured keyword.
pub fn refuse(state: &AppState, detail: &'static str) -> ApiError {
    ApiError::Unauthenticated {
        detail,
        keyword: state.settings.token_keyword.clone(),
    }
}

impl FromRequest for TokenAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<TokenAuth, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req
            .app_data::<web::Data<AppState>>()
            .expect("AppState is registered")
            .clone();
        let parsed = parse_authorization(
            req.headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.as_bytes()),
            &state.settings.token_keyword,
        )
        .map(|credentials| match credentials {
            HeaderCredentials::NotProvided => None,
            // A prefixed key with a wrong checksum cannot exist: no query.
            HeaderCredentials::Key(key) => {
                Some(key_format::may_exist(key).then(|| Digest::of(key)))
            }
        });
        Box::pin(async move {
            let digest = match parsed {
                Ok(Some(Some(digest))) => digest,
                Ok(Some(None)) => return Err(refuse(&state, MSG_INVALID_TOKEN)),
                Ok(None) => return Err(refuse(&state, MSG_NOT_PROVIDED)),
                Err(e) => return Err(refuse(&state, e.detail())),
            };
            let outcome = state.services.tokens.authenticate(digest.clone()).await?;
            match outcome {
                AuthOutcome::Valid(user, token) => Ok(TokenAuth {
                    user,
                    token,
                    digest,
                }),
                AuthOutcome::Unknown => Err(refuse(&state, MSG_INVALID_TOKEN)),
                AuthOutcome::Inactive => Err(refuse(&state, MSG_INACTIVE)),
                AuthOutcome::Expired => Err(refuse(&state, MSG_EXPIRED)),
            }
        })
    }
}
