//! Acting on the presented token: logout revokes it, regenerate rotates it.
//! Both act only if the stored key is still the one presented, so of
//! concurrent calls with one key exactly one wins and the rest get 401.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::ApiError;
use super::response::json;
use super::token_auth::{MSG_INVALID_TOKEN, TokenAuth, refuse};
use crate::state::AppState;

/// `POST /api/auth/logout/`: 204, and the key is invalid from then on.
pub async fn logout(auth: TokenAuth, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let tokens = &state.services.tokens;
    if !tokens
        .revoke_presented(&auth.user, &auth.token, auth.digest)
        .await?
    {
        return Err(refuse(&state, MSG_INVALID_TOKEN));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /api/auth/token/regenerate/`: a new key; the old one stops working.
pub async fn regenerate(
    auth: TokenAuth,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let tokens = &state.services.tokens;
    match tokens
        .rotate_presented(&auth.user, auth.token, auth.digest)
        .await?
    {
        Some(key) => Ok(json(StatusCode::OK, &json!({ "token": key.as_str() }))),
        None => Err(refuse(&state, MSG_INVALID_TOKEN)),
    }
}
